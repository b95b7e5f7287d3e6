/*
 * `tern sendmail`, also run as `sendmail` (a symlink in sbindir): the
 * sendmail(8) interface that cron, mail(1) and scripts expect. It reads a
 * message on standard input and hands it to the running ternd over the
 * local submission socket ([server] sendmail_socket), speaking SMTP. The
 * daemon learns the caller's uid from the socket itself (SO_PEERCRED) and
 * records it in the Received field; mail from here may go anywhere, like
 * an authenticated submission. Nothing is queued when the daemon is down:
 * the exit code is then EX_TEMPFAIL (75) so callers retry, as with
 * sendmail when its queue is unavailable.
 *
 * Options: -t (recipients from To/Cc/Bcc; Bcc removed), -i / -oi (a lone
 * "." does not end the input), -f / -r SENDER, -F FULLNAME, -C CONFIG,
 * -bm (the default), -bs (SMTP on stdin/stdout), -- ; other -o options,
 * -v, and the value-taking -B -N -R -V -X -L -h are accepted and ignored.
 */
#include "cli/cli.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/util.h"
#include "mail/address.h"
#include "mail/header.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

struct sendmail {
	const char *config_path;	/* borrowed: -C or tern -c, or NULL */
	const char *sender;		/* borrowed: -f, or NULL */
	const char *fullname;		/* borrowed: -F, or NULL */
	bool extract;			/* -t */
	bool ignore_dots;		/* -i */
	bool smtp_mode;			/* -bs */
	char **rcpts;			/* owned array of owned strings */
	size_t n_rcpts;
	char *socket_path;		/* owned */
	char *hostname;			/* owned */
	char *default_sender;		/* owned: user@hostname */
	struct buf msg;			/* the message, CRLF lines */
	int fd;				/* the socket */
	char in[4096];			/* reply bytes read, not yet used */
	size_t in_len;
	char reply[512];		/* the last reply's last line */
};

static int sendmail_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int sendmail_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("tern sendmail: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void add_rcpt(struct sendmail *sm, const char *addr, size_t len)
{
	sm->rcpts = xrealloc(sm->rcpts, (sm->n_rcpts + 1) * sizeof(*sm->rcpts));
	sm->rcpts[sm->n_rcpts++] = xstrndup(addr, len);
}

/* The value of an option given as "-fVALUE" or "-f VALUE". */
static const char *option_value(int argc, char **argv, int *i)
{
	if (argv[*i][2] != '\0')
		return argv[*i] + 2;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int parse_option(struct sendmail *sm, int argc, char **argv, int *i)
{
	const char *arg = argv[*i], *v;

	switch (arg[1]) {
	case 't': sm->extract = true; return 0;
	case 'i': sm->ignore_dots = true; return 0;
	case 'v': return 0;
	case 'o':
		if (!strcmp(arg, "-oi"))
			sm->ignore_dots = true;
		return 0;	/* other -o options: nothing to do */
	case 'b':
		if (!strcmp(arg, "-bs"))
			sm->smtp_mode = true;
		else if (strcmp(arg, "-bm") != 0)
			return sendmail_fail(EX_USAGE, "%s is not supported", arg);
		return 0;
	case 'f': case 'r': case 'F': case 'C':
	case 'B': case 'N': case 'R': case 'V': case 'X': case 'L': case 'h':
		if ((v = option_value(argc, argv, i)) == NULL)
			return sendmail_fail(EX_USAGE, "option %.2s needs a value", arg);
		if (arg[1] == 'f' || arg[1] == 'r')
			sm->sender = v;
		else if (arg[1] == 'F')
			sm->fullname = v;
		else if (arg[1] == 'C')
			sm->config_path = v;
		return 0;
	}
	return sendmail_fail(EX_USAGE, "unknown option %s", arg);
}

static int parse_args(struct sendmail *sm, int argc, char **argv)
{
	bool options = true;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (options && !strcmp(argv[i], "--")) {
			options = false;
		} else if (options && argv[i][0] == '-' && argv[i][1] != '\0') {
			if ((ret = parse_option(sm, argc, argv, &i)) != 0)
				return ret;
		} else {
			add_rcpt(sm, argv[i], strlen(argv[i]));
		}
	}
	return 0;
}

/* Finds the socket and the hostname. /etc/tern may be unreadable for the
 * user: then the defaults hold, unless a config was named explicitly. */
static int load_config(struct sendmail *sm)
{
	char host[256] = "localhost";
	struct config *cfg;
	char *error = NULL;

	cfg = config_load(sm->config_path ? sm->config_path : CONFIG_DEFAULT_PATH, &error);
	if (cfg == NULL && sm->config_path != NULL) {
		sendmail_fail(EX_CONFIG, "%s", error);
		free(error);
		return EX_CONFIG;
	}
	free(error);
	if (cfg != NULL) {
		sm->socket_path = xstrdup(cfg->sendmail_socket);
		sm->hostname = xstrdup(cfg->hostname);
		config_free(&cfg);
	} else {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		sm->socket_path = xstrdup(CONFIG_SENDMAIL_SOCKET_DEFAULT);
		sm->hostname = xstrdup(host);
	}
	if (sm->socket_path[0] == '\0')
		return sendmail_fail(EX_CONFIG, "sendmail_socket is disabled in the config");
	return 0;
}

static char *caller_address(const struct sendmail *sm)
{
	const struct passwd *pw = getpwuid(getuid());

	if (pw != NULL)
		return xasprintf("%s@%s", pw->pw_name, sm->hostname);
	return xasprintf("uid%u@%s", (unsigned)getuid(), sm->hostname);
}

/* ---- the message ------------------------------------------------------------ */

/* Reads stdin into sm->msg with CRLF line ends. Without -i a line holding
 * only "." ends the message, as in sendmail. */
static int read_message(struct sendmail *sm)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		size_t len = (size_t)n;

		if (line[len - 1] == '\n')
			len--;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (!sm->ignore_dots && len == 1 && line[0] == '.')
			break;
		if (buf_append(&sm->msg, line, len) < 0 || buf_append(&sm->msg, "\r\n", 2) < 0) {
			free(line);
			return sendmail_fail(EX_DATAERR, "message too large");
		}
	}
	free(line);
	if (ferror(stdin))
		return sendmail_fail(EX_IOERR, "cannot read the message: %s", strerror(errno));
	return 0;
}

static int collect_rcpt(void *ctx, const char *addr, size_t len)
{
	add_rcpt(ctx, addr, len);
	return 0;
}

/* Appends "From: Full Name <sender>" with the name as a quoted-string. */
static void add_from(struct sendmail *sm, const char *sender, struct buf *out)
{
	const char *p;

	if (sm->fullname == NULL || sm->fullname[0] == '\0') {
		buf_printf(out, "From: %s\r\n", sender);
		return;
	}
	buf_append_str(out, "From: \"");
	for (p = sm->fullname; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_append_char(out, '\\');
		if (*p != '\r' && *p != '\n')
			buf_append_char(out, *p);
	}
	buf_printf(out, "\" <%s>\r\n", sender);
}

/* With -t collects To/Cc/Bcc recipients and drops Bcc; adds From: if the
 * message has none. Rewrites sm->msg. */
static int prepare_header(struct sendmail *sm, const char *sender)
{
	struct header_field f;
	struct buf out;
	size_t scan = 0, body, pos = 0, copied = 0;
	const char *error;
	bool has_from = false;

	if (header_block_end(sm->msg.data, sm->msg.len, &scan, &body) == 0)
		body = sm->msg.len;
	buf_init(&out, 0);
	while (header_next(sm->msg.data, body, &pos, &f) == 1) {
		has_from |= header_is(&f, "From");
		if (!sm->extract || !(header_is(&f, "To") || header_is(&f, "Cc") || header_is(&f, "Bcc")))
			continue;
		if (header_addresses(f.value, f.value_len, collect_rcpt, sm, &error) < 0)
			fprintf(stderr, "tern sendmail: warning: %.*s: %s\n", (int)f.name_len, f.name, error);
		if (header_is(&f, "Bcc")) {
			buf_append(&out, sm->msg.data + copied, f.start - copied);
			copied = f.end;
		}
	}
	buf_append(&out, sm->msg.data + copied, sm->msg.len - copied);
	if (!has_from && sender[0] != '\0') {
		struct buf with_from;

		buf_init(&with_from, 0);
		add_from(sm, sender, &with_from);
		/* a message of body lines only gets the empty line it lacked */
		if (body == 0 && out.len > 0 && out.data[0] != '\r')
			buf_append(&with_from, "\r\n", 2);
		buf_append(&with_from, out.data ? out.data : "", out.len);
		buf_deinit(&out);
		out = with_from;
	}
	buf_deinit(&sm->msg);
	sm->msg = out;
	return 0;
}

/* ---- talking to ternd ------------------------------------------------------- */

static int connect_daemon(struct sendmail *sm)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(sm->socket_path) >= sizeof(sun.sun_path))
		return sendmail_fail(EX_CONFIG, "sendmail_socket path too long: %s", sm->socket_path);
	memcpy(sun.sun_path, sm->socket_path, strlen(sm->socket_path) + 1);
	sm->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sm->fd < 0 || connect(sm->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		return sendmail_fail(EX_TEMPFAIL, "cannot reach ternd at %s: %s", sm->socket_path,
				     strerror(errno));
	return 0;
}

/* Reads one line of a reply into sm->reply. Returns 0 or -1 (EOF). */
static int read_reply_line(struct sendmail *sm)
{
	char *nl;
	size_t len;
	ssize_t n;

	while ((nl = memchr(sm->in, '\n', sm->in_len)) == NULL) {
		if (sm->in_len == sizeof(sm->in))
			sm->in_len = 0;	/* an overlong line: keep its end */
		n = read(sm->fd, sm->in + sm->in_len, sizeof(sm->in) - sm->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		sm->in_len += (size_t)n;
	}
	len = (size_t)(nl - sm->in);
	snprintf(sm->reply, sizeof(sm->reply), "%.*s", (int)(len > 0 && sm->in[len - 1] == '\r' ?
		 len - 1 : len), sm->in);
	memmove(sm->in, nl + 1, sm->in_len - len - 1);
	sm->in_len -= len + 1;
	return 0;
}

/* Reads a whole (multi-line) reply; returns its code, or 421 when the
 * daemon hung up (a temporary failure for the caller). */
static int read_reply(struct sendmail *sm)
{
	do {
		if (read_reply_line(sm) < 0) {
			snprintf(sm->reply, sizeof(sm->reply), "421 connection to ternd lost");
			return 421;
		}
	} while (strlen(sm->reply) > 3 && sm->reply[3] == '-');
	return atoi(sm->reply);
}

static int command(struct sendmail *sm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int command(struct sendmail *sm, const char *fmt, ...)
{
	struct buf line;
	va_list ap;
	int ret;

	buf_init(&line, 0);
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	buf_append(&line, "\r\n", 2);
	ret = write_full(sm->fd, line.data, line.len);
	buf_deinit(&line);
	return ret < 0 ? 421 : read_reply(sm);
}

/* Sends the message after DATA's 354, dot-stuffed, then the end marker. */
static int send_content(struct sendmail *sm)
{
	struct buf out;
	size_t pos = 0, len;
	const char *nl;
	int ret;

	buf_init(&out, 0);
	while (pos < sm->msg.len) {
		nl = memchr(sm->msg.data + pos, '\n', sm->msg.len - pos);
		len = (size_t)(nl - (sm->msg.data + pos)) + 1;	/* msg always ends in CRLF */
		if (sm->msg.data[pos] == '.')
			buf_append_char(&out, '.');
		buf_append(&out, sm->msg.data + pos, len);
		pos += len;
	}
	buf_append(&out, ".\r\n", 3);
	ret = write_full(sm->fd, out.data, out.len);
	buf_deinit(&out);
	return ret < 0 ? 421 : read_reply(sm);
}

/* Exit status for a failed step: 4xx is temporary, 5xx is not. */
static int step_failed(struct sendmail *sm, const char *what, int code)
{
	return sendmail_fail(code >= 500 ? (code == 552 ? EX_DATAERR : EX_UNAVAILABLE) : EX_TEMPFAIL,
			     "%s: %s", what, sm->reply);
}

static int send_recipients(struct sendmail *sm)
{
	size_t i, accepted = 0;
	int code;

	for (i = 0; i < sm->n_rcpts; i++) {
		code = command(sm, "RCPT TO:<%s>", sm->rcpts[i]);
		if (code >= 400 && code < 500)
			return step_failed(sm, sm->rcpts[i], code);
		if (code >= 500)
			fprintf(stderr, "tern sendmail: %s: %s\n", sm->rcpts[i], sm->reply);
		else
			accepted++;
	}
	/* rejected recipients were reported; the others still get the
	 * message (a failure exit would make the caller send it again) */
	if (accepted == 0)
		return sendmail_fail(EX_NOUSER, "no valid recipients");
	return 0;
}

static int transaction(struct sendmail *sm, const char *sender)
{
	bool utf8 = has_8bit(sender, strlen(sender));
	size_t i;
	int code, ret;

	for (i = 0; i < sm->n_rcpts; i++)
		utf8 |= has_8bit(sm->rcpts[i], strlen(sm->rcpts[i]));
	if ((code = read_reply(sm)) != 220)
		return step_failed(sm, "greeting", code);
	if ((code = command(sm, "EHLO localhost")) != 250)
		return step_failed(sm, "EHLO", code);
	code = command(sm, "MAIL FROM:<%s>%s", sender, utf8 ? " SMTPUTF8" : "");
	if (code != 250)
		return step_failed(sm, "MAIL FROM", code);
	if ((ret = send_recipients(sm)) != 0)
		return ret;
	if ((code = command(sm, "DATA")) != 354)
		return step_failed(sm, "DATA", code);
	if ((code = send_content(sm)) != 250)
		return step_failed(sm, "message", code);
	command(sm, "QUIT");
	return 0;
}

/* -bs: the caller speaks SMTP itself; relay bytes both ways. */
static int relay_smtp(struct sendmail *sm)
{
	struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
			       { .fd = sm->fd, .events = POLLIN } };
	char buf[8192];
	ssize_t n;

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return EX_IOERR;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(sm->fd, buf, sizeof(buf));
			if (n <= 0)
				return 0;	/* the daemon closed: after QUIT */
			if (write_full(STDOUT_FILENO, buf, (size_t)n) < 0)
				return EX_IOERR;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(sm->fd, SHUT_WR);
				p[0].fd = -1;
			} else if (write_full(sm->fd, buf, (size_t)n) < 0) {
				return EX_IOERR;
			}
		}
	}
}

static int sendmail_run(struct sendmail *sm)
{
	const char *sender;
	int ret;

	if ((ret = load_config(sm)) != 0)
		return ret;
	sm->default_sender = caller_address(sm);
	sender = sm->sender ? sm->sender : sm->default_sender;
	if (!sm->smtp_mode) {
		if ((ret = read_message(sm)) != 0 || (ret = prepare_header(sm, sender)) != 0)
			return ret;
		if (sm->n_rcpts == 0)
			return sendmail_fail(EX_USAGE, "no recipients (give them as arguments, or use -t)");
	}
	if ((ret = connect_daemon(sm)) != 0)
		return ret;
	return sm->smtp_mode ? relay_smtp(sm) : transaction(sm, sender);
}

int cli_sendmail(const char *config_path, int argc, char **argv)
{
	struct sendmail sm = { .config_path = config_path, .fd = -1 };
	size_t i;
	int ret;

	buf_init(&sm.msg, 0);
	ret = parse_args(&sm, argc, argv);
	if (ret == 0)
		ret = sendmail_run(&sm);
	if (sm.fd >= 0)
		close(sm.fd);
	for (i = 0; i < sm.n_rcpts; i++)
		free(sm.rcpts[i]);
	free(sm.rcpts);
	free(sm.socket_path);
	free(sm.hostname);
	free(sm.default_sender);
	buf_deinit(&sm.msg);
	return ret;
}
