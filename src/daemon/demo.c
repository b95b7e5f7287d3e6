/*
 * Demo mode: `ternd --demo DIR` is a complete server on 127.0.0.1 with
 * every service on its standard port plus 2000, a self-signed certificate,
 * the domain example.test and the user demo@example.test. DIR is created
 * on the first start and reused afterwards.
 */
#include "daemon/daemon.h"
#include "daemon/server.h"
#include "auth/auth.h"
#include "core/log.h"
#include "core/util.h"
#include "net/selfsigned.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEMO_DOMAIN "example.test"
#define DEMO_USER "demo@" DEMO_DOMAIN

static int write_file(const char *path, int mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int ret;

	if (fd < 0)
		return -1;
	ret = write_full(fd, text, strlen(text));
	if (fsync(fd) < 0)
		ret = -1;
	close(fd);
	return ret;
}

static char *read_password(const char *path)
{
	char line[128];
	FILE *f = fopen(path, "re");
	char *nl;

	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	nl = strchr(line, '\n');
	if (nl != NULL)
		*nl = '\0';
	return xstrdup(line);
}

/* The unprivileged user the demo runs as when started by root. */
static const char *demo_user(void)
{
	struct passwd *pw;

	if (geteuid() != 0) {
		pw = getpwuid(geteuid());
		return pw ? pw->pw_name : "";
	}
	return "nobody";
}

static int write_config(const char *dir, const char *conf)
{
	char *text = xasprintf(
		"# Tern demo configuration, written by `ternd --demo`.\n"
		"# Everything listens on 127.0.0.1 only, each service on its\n"
		"# standard port plus 2000. See docs/configuration.md.\n"
		"[server]\n"
		"hostname = localhost\n"
		"data_dir = %s/data\n"
		"user = %s\n"
		"# demo only: allow passwords without TLS from 127.0.0.1\n"
		"plaintext_auth_loopback = yes\n"
		"# `tern -c %s/tern.conf sendmail` queues mail through this socket\n"
		"sendmail_socket = %s/sendmail.sock\n"
		"\n[listen]\n"
		"smtp = 127.0.0.1:2025\n"
		"pop3 = 127.0.0.1:2110\n"
		"pop3s = 127.0.0.1:2995\n"
		"imap = 127.0.0.1:2143\n"
		"imaps = 127.0.0.1:2993\n"
		"submission = 127.0.0.1:2587\n"
		"submissions = 127.0.0.1:2465\n"
		"https = 127.0.0.1:2443\n"
		"\n[tls]\n"
		"certificate = %s/cert.pem\n"
		"key = %s/key.pem\n", dir, demo_user(), dir, dir, dir, dir);
	int ret = write_file(conf, 0644, text);

	free(text);
	return ret;
}

static int demo_permissions(const char *dir, const char *conf, const char *cert, const char *key)
{
	struct passwd *pw = geteuid() == 0 ? getpwnam(demo_user()) : NULL;

	if (chmod(dir, 0755) < 0 || chmod(conf, 0644) < 0 || chmod(cert, 0644) < 0 ||
	    (pw != NULL && chown(key, pw->pw_uid, pw->pw_gid) < 0)) {
		log_error("demo: cannot set permissions in %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int create_demo_dir(const char *dir, const char *conf)
{
	char *cert = xasprintf("%s/cert.pem", dir), *key = xasprintf("%s/key.pem", dir), *error;
	int ret = -1;

	if (tls_make_selfsigned(cert, key, "localhost",
				"DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1", &error) < 0) {
		log_error("demo: %s", error);
		free(error);
	} else if (write_config(dir, conf) < 0) {
		log_error("demo: cannot write %s: %s", conf, strerror(errno));
	} else {
		ret = 0;
	}
	/* ternd runs with umask 077, but after dropping root it must still
	 * reach data/ and re-read the config and key on SIGHUP. */
	if (ret == 0)
		ret = demo_permissions(dir, conf, cert, key);
	free(cert);
	free(key);
	return ret;
}

char *demo_prepare(const char *dir_arg, char **password_r)
{
	char *dir, *conf, *pwfile;
	char password[25];

	if (mkdir(dir_arg, 0755) < 0 && errno != EEXIST) {
		log_error("demo: cannot create %s: %s", dir_arg, strerror(errno));
		return NULL;
	}
	dir = realpath(dir_arg, NULL);
	if (dir == NULL)
		fatal("demo: %s: %s", dir_arg, strerror(errno));
	conf = xasprintf("%s/tern.conf", dir);
	pwfile = xasprintf("%s/demo-password", dir);
	if (access(conf, F_OK) != 0 && create_demo_dir(dir, conf) < 0) {
		free(conf);
		conf = NULL;
	}
	if (conf != NULL && (*password_r = read_password(pwfile)) == NULL) {
		random_id(password, 24);
		if (write_file(pwfile, 0600, password) < 0)
			fatal("demo: cannot write %s: %s", pwfile, strerror(errno));
		*password_r = xstrdup(password);
	}
	free(pwfile);
	free(dir);
	return conf;
}

static void demo_print(const char *dir, const char *password)
{
	printf("\n"
	       "Tern demo server is running (Ctrl-C stops it).\n"
	       "  domain   %s\n"
	       "  user     %s\n"
	       "  password %s   (also in %s/demo-password)\n"
	       "  smtp 127.0.0.1:2025   pop3 127.0.0.1:2110   pop3s 127.0.0.1:2995\n"
	       "  imap 127.0.0.1:2143   imaps 127.0.0.1:2993\n"
	       "  submission 127.0.0.1:2587 (STARTTLS)   submissions 127.0.0.1:2465 (TLS)\n"
	       "Manage the account (password, two-factor, app passwords) in a browser:\n"
	       "  https://127.0.0.1:2443/   (self-signed certificate)\n"
	       "\n"
	       "Send a message:\n"
	       "  swaks --server 127.0.0.1:2025 --from you@example.org --to %s\n"
	       "Read it with POP3 over TLS:\n"
	       "  curl -k --user '%s:%s' pop3s://127.0.0.1:2995/1\n"
	       "Or with IMAP over TLS:\n"
	       "  curl -k --user '%s:%s' 'imaps://127.0.0.1:2993/INBOX;UID=1'\n"
	       "Administer the demo:\n"
	       "  ./build/tern -c %s/tern.conf status\n"
	       "  ./build/tern -c %s/tern.conf user list\n\n",
	       DEMO_DOMAIN, DEMO_USER, password, dir, DEMO_USER, DEMO_USER, password, DEMO_USER,
	       password, dir, dir);
	fflush(stdout);
}

void demo_populate(struct server *srv, const char *dir_arg, const char *password)
{
	char hash[PASSWORD_HASH_MAX], *dir = realpath(dir_arg, NULL);
	int64_t id;

	if (!store_domain_exists(srv->store, DEMO_DOMAIN) &&
	    store_domain_add(srv->store, DEMO_DOMAIN) < 0)
		fatal("demo: %s", store_error(srv->store));
	if (store_account_lookup(srv->store, DEMO_USER, &id, NULL) == 0) {
		if (password_hash(password, strlen(password), hash) < 0 ||
		    store_account_add(srv->store, DEMO_USER, hash) < 0)
			fatal("demo: cannot add %s: %s", DEMO_USER, store_error(srv->store));
		log_info("demo: created %s", DEMO_USER);
	}
	demo_print(dir ? dir : dir_arg, password);
	free(dir);
}
