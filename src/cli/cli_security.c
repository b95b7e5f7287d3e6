/*
 * `tern user import-hash|2fa|app-password|history` and `tern security`:
 * account security from the admin's shell. Secrets made here (TOTP
 * secrets, recovery codes, app passwords, generated passwords) are printed
 * once and stored only hashed (the TOTP secret excepted: the server needs
 * it to compute codes). Brute-force blocks live in the daemon, so
 * `tern security` goes through the control socket.
 */
#include "cli/cli.h"
#include "auth/auth.h"
#include "core/config.h"
#include "core/util.h"
#include "store/store.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(const char *text)
{
	cli_fail("usage: tern %s", text);
	return 2;
}

/* Looks the user up; prints why not and returns -1. */
static int account_of(struct cli *cli, const char *arg, struct store_auth_info *info)
{
	char *addr = cli_checked_address(arg);
	int found;

	if (addr == NULL)
		return -1;
	found = store_auth_lookup(cli_store(cli), addr, info);
	if (found != 1)
		cli_fail("%s", found < 0 ? store_error(cli->store) : "no such user");
	free(addr);
	return found == 1 ? 0 : -1;
}

/* ---- import-hash ---------------------------------------------------------------- */

/* Creates the account with the hash, or replaces the existing one's. */
static int import_one(struct cli *cli, const char *address, const char *hash, size_t hash_len)
{
	struct password_params params;
	struct store *s = cli_store(cli);
	const char *error;
	char *addr, *stored;
	int64_t id;
	int ret, exists;

	if ((addr = cli_checked_address(address)) == NULL)
		return 1;
	password_params_from_config(&params, cli_config(cli));
	if (password_import_parse(hash, hash_len, &params, &stored, &error) < 0) {
		cli_fail("%s: %s", addr, error);
		free(addr);
		return 1;
	}
	exists = store_account_lookup(s, addr, &id, NULL);
	ret = exists == 1 ? store_account_set_password(s, addr, stored) :
	      store_account_add(s, addr, stored);
	if (ret < 0)
		ret = cli_fail("%s: %s", addr, store_error(s));
	else
		printf("%s %s\n", exists == 1 ? "imported hash for" : "added user", addr);
	free(stored);
	free(addr);
	return ret;
}

/* "address:hash[:more fields]" lines, as in a Dovecot passwd-file. */
static int import_stdin(struct cli *cli)
{
	char *line = NULL, *colon, *end;
	size_t cap = 0;
	ssize_t n;
	unsigned ok = 0, failed = 0, lineno = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL) {
			cli_fail("line %u: expected address:hash", lineno);
			failed++;
			continue;
		}
		*colon = '\0';
		end = strchr(colon + 1, ':');
		if (import_one(cli, line, colon + 1,
			       end ? (size_t)(end - colon - 1) : strlen(colon + 1)) == 0)
			ok++;
		else
			failed++;
	}
	if (line != NULL)
		OPENSSL_cleanse(line, cap);
	free(line);
	printf("imported %u, failed %u\n", ok, failed);
	return failed > 0 ? 1 : 0;
}

static int user_import_hash(struct cli *cli, int argc, char **argv)
{
	const char *text = "user import-hash ADDRESS '{SCHEME}HASH' | user import-hash --stdin";

	if (argc == 2 && !strcmp(argv[1], "--stdin"))
		return import_stdin(cli);
	if (argc != 3)
		return usage(text);
	return import_one(cli, argv[1], argv[2], strlen(argv[2]));
}

/* ---- 2fa --------------------------------------------------------------------------- */

static int read_code(char *code, size_t size)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	fputs("Enter the 6-digit code your app shows now to confirm: ", stderr);
	fflush(stderr);
	n = getline(&line, &cap, stdin);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (n <= 0 || (size_t)n >= size) {
		free(line);
		return -1;
	}
	memcpy(code, line, (size_t)n + 1);
	free(line);
	return 0;
}

static int totp_store(struct store *s, int64_t id, const char *secret, int64_t step,
		      char (*codes)[SECRET_CODE_LEN + 1])
{
	uint8_t digests[RECOVERY_CODES][SECRET_DIGEST_LEN];
	size_t i;

	for (i = 0; i < RECOVERY_CODES; i++) {
		secret_code_new(codes[i]);
		secret_code_digest(codes[i], strlen(codes[i]), digests[i]);
	}
	if (store_begin(s) < 0)
		return -1;
	if (store_totp_set(s, id, secret, step) < 0 ||
	    store_recovery_codes_set(s, id, (const uint8_t (*)[STORE_HASH_LEN])digests,
				     RECOVERY_CODES) < 0) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s);
}

static int totp_enable(struct cli *cli, struct store_auth_info *info)
{
	char secret[TOTP_SECRET_B32_MAX], code[16], codes[RECOVERY_CODES][SECRET_CODE_LEN + 1];
	char *uri, *qr;
	int64_t step;
	size_t i;
	int ret = 1;

	if (info->totp_secret != NULL)
		return cli_fail("two-factor is already on for %s; 'tern user 2fa disable' first",
				info->address);
	totp_secret_new(secret);
	uri = totp_uri(cli_config(cli)->hostname, info->address, secret);
	qr = totp_qr_terminal(uri);
	printf("Scan this QR code with an authenticator app, or enter the secret by hand.\n\n%s\n"
	       "%s\nsecret: %s\n\n", qr ? qr : "", uri, secret);
	fflush(stdout);
	if (read_code(code, sizeof(code)) < 0) {
		cli_fail("no code given; two-factor stays off");
	} else if ((step = totp_check(secret, code, time(NULL), 0)) <= 0) {
		cli_fail("that code is not right (check the device's clock); two-factor stays off");
	} else if (totp_store(cli_store(cli), info->id, secret, step, codes) < 0) {
		cli_fail("%s", store_error(cli->store));
	} else {
		printf("two-factor is on for %s\n\nRecovery codes (each works once instead of a "
		       "code; keep them somewhere safe, they are not shown again):\n",
		       info->address);
		for (i = 0; i < RECOVERY_CODES; i++)
			printf("  %s\n", codes[i]);
		printf("\nMail clients now need app passwords: tern user app-password add %s NAME\n",
		       info->address);
		ret = 0;
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(codes, sizeof(codes));
	OPENSSL_cleanse(uri, strlen(uri));
	free(uri);
	free(qr);
	return ret;
}

/* Checks a code from stdin and uses it up, as a portal login would: for
 * an admin helping a user set up a device (and for the tests). */
static int totp_check_cmd(struct cli *cli, struct store_auth_info *info)
{
	char code[16];
	int64_t step;
	int n;

	if (info->totp_secret == NULL)
		return cli_fail("two-factor is off for %s", info->address);
	if (read_code(code, sizeof(code)) < 0)
		return cli_fail("no code given");
	step = totp_check(info->totp_secret, code, time(NULL), info->totp_last_step);
	n = step > 0 ? store_totp_use_step(cli->store, info->id, step) : 0;
	if (n < 0)
		return cli_fail("%s", store_error(cli->store));
	if (n == 0)
		return cli_fail("code refused: wrong, expired or already used");
	printf("code accepted for %s\n", info->address);
	return 0;
}

static int user_2fa(struct cli *cli, int argc, char **argv)
{
	const char *text = "user 2fa enable|disable|status|check ADDRESS";
	struct store_auth_info info;
	int ret = 0, left;

	if (argc != 3)
		return usage(text);
	if (strcmp(argv[1], "enable") && strcmp(argv[1], "disable") && strcmp(argv[1], "status") &&
	    strcmp(argv[1], "check"))
		return usage(text);
	if (account_of(cli, argv[2], &info) < 0)
		return 1;
	if (!strcmp(argv[1], "enable")) {
		ret = totp_enable(cli, &info);
	} else if (!strcmp(argv[1], "check")) {
		ret = totp_check_cmd(cli, &info);
	} else if (!strcmp(argv[1], "disable")) {
		if (store_totp_set(cli->store, info.id, NULL, 0) < 0)
			ret = cli_fail("%s", store_error(cli->store));
		else
			printf("two-factor is off for %s; recovery codes removed\n", info.address);
	} else if (info.totp_secret == NULL) {
		printf("%s: two-factor off\n", info.address);
	} else {
		left = store_recovery_codes_left(cli->store, info.id);
		printf("%s: two-factor on, %d recovery codes left\n", info.address, left);
	}
	store_auth_info_deinit(&info);
	return ret;
}

/* ---- app passwords ------------------------------------------------------------------ */

static void format_time(char *out, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, size, "never");
	else
		strftime(out, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void print_app_password(void *ctx, const char *name, int64_t created, int64_t last_used)
{
	char c[32], u[32];

	format_time(c, sizeof(c), created);
	format_time(u, sizeof(u), last_used);
	printf("%-30s created=%s last_used=%s\n", name, c, u);
}

static int app_password_add(struct store *s, struct store_auth_info *info, const char *name)
{
	char password[SECRET_CODE_LEN + 1];
	uint8_t digest[SECRET_DIGEST_LEN];

	if (!app_password_name_valid(name))
		return cli_fail("an app password name has 1 to 64 printable characters");
	secret_code_new(password);
	secret_code_digest(password, strlen(password), digest);
	if (store_app_password_add(s, info->id, name, digest) < 0)
		return cli_fail("%s", store_error(s));
	printf("app password '%s' for %s (shown once; use it instead of the account password "
	       "in the mail client):\n%s\n", name, info->address, password);
	OPENSSL_cleanse(password, sizeof(password));
	return 0;
}

static int user_app_password(struct cli *cli, int argc, char **argv)
{
	const char *text = "user app-password add|revoke ADDRESS NAME | "
			   "user app-password list ADDRESS";
	struct store_auth_info info;
	int ret = 0, n;

	if (argc < 3 || (!strcmp(argv[1], "list") ? argc != 3 : argc != 4) ||
	    (strcmp(argv[1], "add") && strcmp(argv[1], "revoke") && strcmp(argv[1], "list")))
		return usage(text);
	if (account_of(cli, argv[2], &info) < 0)
		return 1;
	if (!strcmp(argv[1], "add")) {
		ret = app_password_add(cli->store, &info, argv[3]);
	} else if (!strcmp(argv[1], "list")) {
		if (store_app_password_list(cli->store, info.id, print_app_password, NULL) < 0)
			ret = cli_fail("%s", store_error(cli->store));
	} else if ((n = store_app_password_revoke(cli->store, info.id, argv[3])) != 1) {
		ret = cli_fail("%s", n < 0 ? store_error(cli->store) :
			       "there is no app password of that name");
	} else {
		printf("revoked app password '%s' of %s\n", argv[3], info.address);
	}
	store_auth_info_deinit(&info);
	return ret;
}

/* ---- history ------------------------------------------------------------------------ */

static void print_login(void *ctx, int64_t when, const char *protocol, const char *ip,
			bool success)
{
	char t[32];

	format_time(t, sizeof(t), when);
	printf("%s protocol=%s ip=%s result=%s\n", t, protocol, ip, success ? "ok" : "failed");
}

static int user_history(struct cli *cli, int argc, char **argv)
{
	struct store_auth_info info;
	int ret = 0;

	if (argc != 2)
		return usage("user history ADDRESS");
	if (account_of(cli, argv[1], &info) < 0)
		return 1;
	if (store_login_history(cli->store, info.id, AUTH_HISTORY_SHOWN, print_login, NULL) < 0)
		ret = cli_fail("%s", store_error(cli->store));
	store_auth_info_deinit(&info);
	return ret;
}

int cli_user_security(struct cli *cli, int argc, char **argv)
{
	if (!strcmp(argv[0], "import-hash"))
		return user_import_hash(cli, argc, argv);
	if (!strcmp(argv[0], "2fa"))
		return user_2fa(cli, argc, argv);
	if (!strcmp(argv[0], "app-password"))
		return user_app_password(cli, argc, argv);
	return user_history(cli, argc, argv);
}

int cli_security(struct cli *cli, int argc, char **argv)
{
	char line[400];

	if (argc == 1 && !strcmp(argv[0], "blocked"))
		return cli_control(cli, "security blocked");
	if (argc == 2 && !strcmp(argv[0], "unblock") && strlen(argv[1]) < 330 &&
	    strpbrk(argv[1], "\r\n") == NULL) {
		snprintf(line, sizeof(line), "security unblock %s", argv[1]);
		return cli_control(cli, line);
	}
	return usage("security blocked | security unblock IP|ADDRESS");
}
