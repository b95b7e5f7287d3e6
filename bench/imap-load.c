/*
 * imap-load: a mixed IMAP load generator for bench/imap.
 *
 *   imap-load HOST PORT USERFMT PASSWORD [-c CLIENTS] [-t SECONDS]
 *             [-w WARMUP] [-p PRELOAD] [-b MAILBOX] [-s SEED] [-n LABEL] [-v]
 *
 * CLIENTS (20) persistent sessions, client i logged in as USERFMT with %d
 * replaced by i+1 (so each client owns one account and its mailbox MAILBOX,
 * default "loadbox"; no two clients expunge in the same mailbox). Setup,
 * untimed: connect, LOGIN, CREATE the mailbox if missing, SELECT it and
 * top it up to PRELOAD (300) messages with pipelined LITERAL+ APPENDs.
 * Logins are never timed (the servers hash passwords differently).
 *
 * Then every client runs one command (or one pipelined pair) at a time,
 * back to back, for WARMUP (3) seconds uncounted and SECONDS (30) counted,
 * picking each operation at random with these weights:
 *   select    10  SELECT the mailbox again
 *   fetch     30  FETCH a:a+19 (UID FLAGS RFC822.SIZE ENVELOPE)
 *   body      10  FETCH n (BODY.PEEK[])
 *   store     25  STORE n +FLAGS (\Seen) or -FLAGS (\Seen), alternating
 *   append  12.5  APPEND of a 4 KiB message (LITERAL+ if offered); its
 *                 body repeats "abcdefghij klmnop", or with -v is text of
 *                 common English words, different in every message (a
 *                 server that indexes text pays for distinct trigrams)
 *   expunge 12.5  STORE n +FLAGS.SILENT (\Deleted) and EXPUNGE, pipelined
 * (APPEND and EXPUNGE balance, so the mailbox size stays near PRELOAD).
 * An operation counts when its (last) tagged OK arrives inside the counted
 * window. Plain sockets and epoll, no TLS.
 *
 * Last line:
 *   imap-load: label=L clients=C seconds=T ops=N ops_per_s=X errors=E
 *              p50_ms=.. p99_ms=.. select=.. fetch=.. body=.. store=..
 *              append=.. expunge=.. select_avg_ms=.. (mean latency per op)
 * Exit status 0 if no command failed, 1 otherwise, 2 if setup failed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum op { OP_SELECT, OP_FETCH, OP_BODY, OP_STORE, OP_APPEND, OP_EXPUNGE, OP_N };
static const char *op_names[OP_N] = { "select", "fetch", "body", "store", "append", "expunge" };
static const int op_weights[OP_N] = { 80, 240, 80, 200, 100, 100 };	/* of 800 */

#define IN_MAX (8 << 20)
#define LAT_MAX (4 << 20)

struct client {
	int fd;
	int id;
	char *in;		/* owned, IN_MAX */
	size_t in_len, in_pos;
	size_t skip;		/* literal bytes still to skip */
	bool in_cont;		/* next line continues a response after a literal */
	char *out;		/* owned: pending output */
	size_t out_len, out_off, out_cap;
	unsigned tagn;
	char final_tag[16];	/* the tag that completes the current op */
	bool busy, failed;
	enum op op;
	double t_start;
	long exists;
	unsigned store_toggle;
	unsigned rng;
	char last_error[200];
};

static const char *g_mailbox = "loadbox";
static bool g_varied;		/* -v: different words in every message */
static bool g_literal_plus;
static long g_errors;
static char g_msg_body[4096];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("imap-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static unsigned rnd(struct client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 17;
	c->rng ^= c->rng << 5;
	return c->rng;
}

static void out_add(struct client *c, const char *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		c->out_cap = (c->out_len + len) * 2;
		c->out = realloc(c->out, c->out_cap);
		if (c->out == NULL)
			die("out of memory");
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static void out_printf(struct client *c, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("command too long");
	out_add(c, tmp, n);
}

/* Starts a tagged command; returns its tag (valid until the next call). */
static const char *next_tag(struct client *c)
{
	snprintf(c->final_tag, sizeof(c->final_tag), "a%u", ++c->tagn);
	return c->final_tag;
}

static int flush_out(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->out_off += n;
	}
	c->out_len = c->out_off = 0;
	return 0;
}

/* One complete line [p, p+len) (no CRLF). Returns true when it is the
 * tagged completion of the current operation. */
static bool handle_line(struct client *c, const char *p, size_t len)
{
	bool cont = c->in_cont;
	bool done = false;
	size_t tl = strlen(c->final_tag);

	c->in_cont = false;
	/* a literal at the end of the line: skip its bytes, then the response
	 * goes on in the next line */
	if (len > 2 && p[len - 1] == '}') {
		const char *o = memrchr(p, '{', len);

		if (o != NULL) {
			c->skip = strtoul(o + 1, NULL, 10);
			c->in_cont = true;
		}
	}
	if (cont)
		return false;
	if (len > 2 && p[0] == '*' && p[1] == ' ') {
		char *end;
		long n = strtol(p + 2, &end, 10);

		if (end != p + 2) {
			if (strncmp(end, " EXISTS", 7) == 0)
				c->exists = n;
			else if (strncmp(end, " EXPUNGE", 8) == 0 && c->exists > 0)
				c->exists--;
		} else if (len >= 5 && strncmp(p + 2, "BYE", 3) == 0) {
			snprintf(c->last_error, sizeof(c->last_error), "%.*s", (int)len, p);
		}
		return false;
	}
	if (p[0] == '+')
		return false;
	/* tagged: "aN OK ..." */
	{
		const char *sp = memchr(p, ' ', len);

		if (sp == NULL)
			return false;
		if (!(sp + 3 <= p + len && strncmp(sp + 1, "OK", 2) == 0)) {
			g_errors++;
			c->failed = true;
			snprintf(c->last_error, sizeof(c->last_error), "%.*s", (int)len, p);
		}
		if ((size_t)(sp - p) == tl && memcmp(p, c->final_tag, tl) == 0)
			done = true;
	}
	return done;
}

/* Consumes what is buffered; returns the number of ops completed (0/1). */
static int parse_input(struct client *c)
{
	int done = 0;

	for (;;) {
		size_t avail = c->in_len - c->in_pos;
		char *p = c->in + c->in_pos;
		char *eol;

		if (c->skip > 0) {
			size_t k = avail < c->skip ? avail : c->skip;

			c->skip -= k;
			c->in_pos += k;
			if (c->skip > 0)
				break;
			continue;
		}
		eol = memmem(p, avail, "\r\n", 2);
		if (eol == NULL)
			break;
		c->in_pos += (eol - p) + 2;
		if (handle_line(c, p, eol - p))
			done++;
	}
	if (c->in_pos == c->in_len) {
		c->in_pos = c->in_len = 0;
	} else if (c->in_pos > IN_MAX / 2) {
		memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
		c->in_len -= c->in_pos;
		c->in_pos = 0;
	}
	return done;
}

/* Reads what the socket has; -1 on EOF/error. */
static int read_some(struct client *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_len == IN_MAX)
			die("client %d: response buffer full", c->id);
		n = recv(c->fd, c->in + c->in_len, IN_MAX - c->in_len, 0);
		if (n > 0) {
			c->in_len += n;
			return 0;
		}
		if (n == 0)
			return -1;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

/* Blocking: sends the pending output, waits for the current op's tag. */
static void wait_done_opt(struct client *c, const char *what, bool may_fail)
{
	struct pollfd pfd = { .fd = c->fd };

	for (;;) {
		if (flush_out(c) < 0)
			die("client %d: %s: send failed", c->id, what);
		if (parse_input(c) > 0)
			break;
		pfd.events = POLLIN | (c->out_len ? POLLOUT : 0);
		if (poll(&pfd, 1, 600000) <= 0)
			die("client %d: %s: timeout", c->id, what);
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && read_some(c) < 0)
			die("client %d: %s: connection closed (%s)", c->id, what, c->last_error);
	}
	if (c->failed && !may_fail)
		die("client %d: %s failed: %s", c->id, what, c->last_error);
	c->failed = false;
}

static void wait_done(struct client *c, const char *what)
{
	wait_done_opt(c, what, false);
}

static const char *const g_words[] = {
	"the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are",
	"as", "with", "his", "they", "at", "be", "this", "have", "from", "or", "one", "had", "by",
	"word", "but", "not", "what", "all", "were", "we", "when", "your", "can", "said", "there",
	"use", "an", "each", "which", "she", "do", "how", "their", "if", "will", "up", "other",
	"about", "out", "many", "then", "them", "these", "so", "some", "her", "would", "make",
	"like", "him", "into", "time", "has", "look", "two", "more", "write", "go", "see", "number",
	"no", "way", "could", "people", "my", "than", "first", "water", "been", "call", "who",
	"oil", "its", "now", "find", "long", "down", "day", "did", "get", "come", "made", "may",
	"part", "meeting", "report", "budget", "schedule", "invoice", "attached", "please",
	"review", "project", "deadline", "thanks", "regards", "tomorrow", "quarter", "server",
};

/* Text of real-looking words, different in every message: lines of at
 * most 76 characters, CRLF, exactly n bytes (padded with spaces). */
static void fill_text(struct client *c, char *p, size_t n)
{
	size_t nwords = sizeof(g_words) / sizeof(g_words[0]), i = 0, col = 0, wl;
	const char *w;

	while (i + 3 < n) {
		w = g_words[rnd(c) % nwords];
		wl = strlen(w);
		if (i + wl + 3 > n)
			break;
		if (col + wl + 1 > 76) {
			p[i++] = '\r';
			p[i++] = '\n';
			col = 0;
			continue;
		}
		memcpy(p + i, w, wl);
		p[i + wl] = ' ';
		i += wl + 1;
		col += wl + 1;
	}
	memset(p + i, ' ', n - i);
}

static void add_append(struct client *c, unsigned serial)
{
	char hdr[512];
	int hl = snprintf(hdr, sizeof(hdr),
			  "From: Load Generator <load@example.com>\r\n"
			  "To: user%d@bench.test\r\n"
			  "Subject: load message %d.%u\r\n"
			  "Date: Mon, 2 Jan 2023 10:00:00 +0000\r\n"
			  "Message-ID: <%d.%u.%u@load.example.com>\r\n"
			  "Content-Type: text/plain; charset=us-ascii\r\n\r\n",
			  c->id + 1, c->id, serial, c->id, serial, rnd(c));
	size_t total = sizeof(g_msg_body) - hl;
	const char *tag = next_tag(c);

	out_printf(c, "%s APPEND %s {%zu%s}\r\n", tag, g_mailbox, total + hl,
		   g_literal_plus ? "+" : "");
	if (!g_literal_plus) {
		/* synchronising literal: wait for the continuation */
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

		flush_out(c);
		while (c->in_len == c->in_pos || c->in[c->in_pos] != '+') {
			if (poll(&pfd, 1, 60000) <= 0 || read_some(c) < 0)
				die("client %d: no continuation for APPEND", c->id);
		}
		c->in_pos = c->in_len = 0;
	}
	out_add(c, hdr, hl);
	if (g_varied)
		fill_text(c, g_msg_body, total);
	out_add(c, g_msg_body, total);
	out_add(c, "\r\n", 2);
}

static int connect_to(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("bad host %s", host);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect %s:%d: %s", host, port, strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void setup_client(struct client *c, const char *host, int port, const char *user,
			 const char *pass, long preload)
{
	struct pollfd pfd;
	char *eol;
	long i, need;

	c->fd = connect_to(host, port);
	c->in = malloc(IN_MAX);
	if (c->in == NULL)
		die("out of memory");
	/* greeting */
	pfd = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	while ((eol = memmem(c->in, c->in_len, "\r\n", 2)) == NULL) {
		if (poll(&pfd, 1, 30000) <= 0 || read_some(c) < 0)
			die("client %d: no greeting", c->id);
	}
	if (c->id == 0 && memmem(c->in, eol - c->in, "LITERAL+", 8) != NULL)
		g_literal_plus = true;
	c->in_pos = c->in_len = 0;
	out_printf(c, "%s LOGIN \"%s\" \"%s\"\r\n", next_tag(c), user, pass);
	wait_done(c, "LOGIN");
	if (c->id == 0 && !g_literal_plus) {
		out_printf(c, "%s CAPABILITY\r\n", next_tag(c));
		/* peek: the untagged CAPABILITY line is parsed by handle_line
		 * only for EXISTS; look at the raw bytes instead */
		flush_out(c);
		usleep(100000);
		read_some(c);
		if (memmem(c->in, c->in_len, "LITERAL+", 8) != NULL)
			g_literal_plus = true;
		wait_done(c, "CAPABILITY");
	}
	out_printf(c, "%s CREATE %s\r\n", next_tag(c), g_mailbox);
	wait_done_opt(c, "CREATE", true);	/* fails when the mailbox exists */
	out_printf(c, "%s SELECT %s\r\n", next_tag(c), g_mailbox);
	wait_done(c, "SELECT");
	need = preload - c->exists;
	for (i = 0; i < need; i++) {
		add_append(c, (unsigned)i);
		if (!g_literal_plus || i % 32 == 31 || i == need - 1)
			wait_done(c, "APPEND (preload)");
	}
	if (need > 0) {
		out_printf(c, "%s NOOP\r\n", next_tag(c));
		wait_done(c, "NOOP");
	}
}

static enum op pick_op(struct client *c)
{
	int r = rnd(c) % 800, i;

	for (i = 0; i < OP_N; i++) {
		if (r < op_weights[i])
			break;
		r -= op_weights[i];
	}
	if (c->exists < 2 && (i == OP_EXPUNGE || i == OP_STORE || i == OP_BODY))
		return OP_APPEND;
	return (enum op)i;
}

static void start_op(struct client *c)
{
	long n = c->exists > 0 ? 1 + rnd(c) % c->exists : 1;

	c->op = pick_op(c);
	switch (c->op) {
	case OP_SELECT:
		out_printf(c, "%s SELECT %s\r\n", next_tag(c), g_mailbox);
		break;
	case OP_FETCH: {
		long a = c->exists > 20 ? 1 + rnd(c) % (c->exists - 19) : 1;
		long b = c->exists > 20 ? a + 19 : (c->exists > 0 ? c->exists : 1);

		out_printf(c, "%s FETCH %ld:%ld (UID FLAGS RFC822.SIZE ENVELOPE)\r\n", next_tag(c), a, b);
		break;
	}
	case OP_BODY:
		out_printf(c, "%s FETCH %ld (BODY.PEEK[])\r\n", next_tag(c), n);
		break;
	case OP_STORE:
		out_printf(c, "%s STORE %ld %cFLAGS (\\Seen)\r\n", next_tag(c), n,
			   (c->store_toggle++ & 1) ? '-' : '+');
		break;
	case OP_APPEND:
		add_append(c, c->tagn);
		break;
	case OP_EXPUNGE:
		out_printf(c, "%s STORE %ld +FLAGS.SILENT (\\Deleted)\r\n", next_tag(c), n);
		out_printf(c, "%s EXPUNGE\r\n", next_tag(c));
		break;
	default:
		break;
	}
	c->busy = true;
	c->t_start = now();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *host, *userfmt, *pass, *label = "server";
	int port, nclients = 20, opt, ep, i;
	double seconds = 30, warmup = 3, t0, t_count, t_end, *lat, lat_sum[OP_N] = { 0 };
	long preload = 300, counts[OP_N] = { 0 }, total = 0, nlat = 0;
	unsigned seed = 1;
	struct client *cl;
	struct epoll_event ev, evs[256];

	while ((opt = getopt(argc, argv, "c:t:w:p:b:s:n:v")) != -1) {
		switch (opt) {
		case 'c': nclients = atoi(optarg); break;
		case 't': seconds = atof(optarg); break;
		case 'w': warmup = atof(optarg); break;
		case 'p': preload = atol(optarg); break;
		case 'b': g_mailbox = optarg; break;
		case 's': seed = (unsigned)atol(optarg); break;
		case 'n': label = optarg; break;
		case 'v': g_varied = true; break;
		default:
			fprintf(stderr, "usage: imap-load HOST PORT USERFMT PASSWORD [-c clients] "
				"[-t seconds] [-w warmup] [-p preload] [-b mailbox] [-s seed] [-n label]\n");
			return 2;
		}
	}
	if (argc - optind != 4 || nclients < 1 || seconds <= 0)
		die("usage: imap-load HOST PORT USERFMT PASSWORD [options]");
	host = argv[optind];
	port = atoi(argv[optind + 1]);
	userfmt = argv[optind + 2];
	pass = argv[optind + 3];
	for (i = 0; i < (int)sizeof(g_msg_body); i++)
		g_msg_body[i] = (i % 78 == 76) ? '\r' : (i % 78 == 77) ? '\n' : "abcdefghij klmnop"[i % 17];

	cl = calloc(nclients, sizeof(*cl));
	lat = malloc(LAT_MAX * sizeof(*lat));
	if (cl == NULL || lat == NULL)
		die("out of memory");
	t0 = now();
	for (i = 0; i < nclients; i++) {
		char user[256];

		cl[i].id = i;
		cl[i].rng = seed * 2654435761u + i * 40503u + 1;
		snprintf(user, sizeof(user), userfmt, i + 1);
		setup_client(&cl[i], host, port, user, pass, preload);
	}
	fprintf(stderr, "imap-load: %s: %d clients logged in and set up in %.1f s (untimed)\n",
		label, nclients, now() - t0);

	ep = epoll_create1(EPOLL_CLOEXEC);
	for (i = 0; i < nclients; i++) {
		if (fcntl(cl[i].fd, F_SETFL, fcntl(cl[i].fd, F_GETFL) | O_NONBLOCK) < 0)
			die("fcntl: %s", strerror(errno));
		ev.events = EPOLLIN;
		ev.data.ptr = &cl[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev) < 0)
			die("epoll_ctl: %s", strerror(errno));
	}

	t_count = now() + warmup;
	t_end = t_count + seconds;
	g_errors = 0;
	for (i = 0; i < nclients; i++) {
		start_op(&cl[i]);
		if (flush_out(&cl[i]) < 0)
			die("client %d: send failed", i);
	}
	for (;;) {
		int n, k, active = 0;
		double t = now();

		for (i = 0; i < nclients; i++)
			active += cl[i].busy;
		if (active == 0)
			break;
		n = epoll_wait(ep, evs, 256, 1000);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (k = 0; k < n; k++) {
			struct client *c = evs[k].data.ptr;

			if ((evs[k].events & EPOLLOUT) && flush_out(c) < 0)
				die("client %d: send failed", c->id);
			if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				goto rearm;
			if (read_some(c) < 0)
				die("client %d: connection closed (%s)", c->id, c->last_error);
			if (parse_input(c) == 0)
				goto rearm;
			t = now();
			if (t >= t_count && t < t_end) {
				counts[c->op]++;
				lat_sum[c->op] += t - c->t_start;
				total++;
				if (nlat < LAT_MAX)
					lat[nlat++] = t - c->t_start;
			}
			c->busy = false;
			if (t < t_end) {
				start_op(c);
				if (flush_out(c) < 0)
					die("client %d: send failed", c->id);
			}
		rearm:
			ev.events = EPOLLIN | (c->out_len ? EPOLLOUT : 0);
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
	for (i = 0; i < nclients; i++) {
		if (cl[i].failed)
			fprintf(stderr, "imap-load: client %d: last error: %s\n", i, cl[i].last_error);
		close(cl[i].fd);
	}
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	printf("imap-load: label=%s clients=%d seconds=%.0f ops=%ld ops_per_s=%.0f errors=%ld "
	       "p50_ms=%.2f p99_ms=%.2f", label, nclients, seconds, total, total / seconds,
	       g_errors, nlat ? 1000 * lat[nlat / 2] : 0.0,
	       nlat ? 1000 * lat[(long)(nlat * 0.99)] : 0.0);
	for (i = 0; i < OP_N; i++)
		printf(" %s=%ld", op_names[i], counts[i]);
	for (i = 0; i < OP_N; i++)
		printf(" %s_avg_ms=%.2f", op_names[i], counts[i] ? 1000 * lat_sum[i] / counts[i] : 0.0);
	printf("\n");
	return g_errors ? 1 : 0;
}
