/*
 * `tern domain`, `tern user` and `tern alias`: the store's admin calls
 * with argument checking and plain output.
 */
#include "cli/cli.h"
#include "auth/auth.h"
#include "core/buf.h"
#include "core/limits.h"
#include "core/util.h"
#include "mail/address.h"
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage_error(const char *usage)
{
	cli_fail("usage: tern %s", usage);
	return 2;
}

/* Lowercased copy of a valid domain, or NULL after an error message. */
static char *checked_domain(const char *s)
{
	char *d;
	size_t i;

	if (!address_domain_valid(s, strlen(s), true)) {
		cli_fail("'%s' is not a valid domain name", s);
		return NULL;
	}
	d = xstrdup(s);
	for (i = 0; d[i] != '\0'; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

/* Normalized copy of a valid address (or "@domain" when catchall_ok). */
static char *checked_address(const char *s, bool catchall_ok)
{
	struct buf b;
	const char *error;
	char *d;

	if (catchall_ok && s[0] == '@') {
		d = checked_domain(s + 1);
		if (d == NULL)
			return NULL;
		char *r = xasprintf("@%s", d);
		free(d);
		return r;
	}
	buf_init(&b, ADDRESS_MAX);
	if (address_parse(s, strlen(s), true, &b, &error) < 0) {
		buf_deinit(&b);
		cli_fail("'%s' is not a valid address: %s", s, error);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static void print_domain(void *ctx, const char *domain, int64_t accounts, int64_t aliases)
{
	printf("%-40s users=%lld aliases=%lld\n", domain, (long long)accounts, (long long)aliases);
}

int cli_domain(struct cli *cli, int argc, char **argv)
{
	const char *usage = "domain add|list|remove [DOMAIN]";
	struct store *s;
	char *d;
	int ret;

	if (argc == 1 && !strcmp(argv[0], "list"))
		return store_domain_list(cli_store(cli), print_domain, NULL) < 0 ?
			cli_fail("%s", store_error(cli->store)) : 0;
	if (argc != 2 || (strcmp(argv[0], "add") && strcmp(argv[0], "remove")))
		return usage_error(usage);
	if ((d = checked_domain(argv[1])) == NULL)
		return 1;
	s = cli_store(cli);
	ret = !strcmp(argv[0], "add") ? store_domain_add(s, d) : store_domain_remove(s, d);
	if (ret < 0)
		ret = cli_fail("%s", store_error(s));
	else
		printf("%s %s\n", !strcmp(argv[0], "add") ? "added domain" : "removed domain", d);
	free(d);
	return ret;
}

static void print_user(void *ctx, const char *address, int64_t messages, int64_t bytes)
{
	printf("%-40s messages=%lld bytes=%lld\n", address, (long long)messages, (long long)bytes);
}

/* user add|passwd ADDRESS [--password-stdin] */
static int user_set_password(struct cli *cli, bool add, int argc, char **argv)
{
	char hash[PASSWORD_HASH_MAX], *addr = NULL, *password;
	bool from_stdin = false;
	struct store *s;
	int i, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--password-stdin")) {
			from_stdin = true;
		} else if (addr != NULL) {
			/* one address only: a password on argv would leak to ps */
			free(addr);
			return usage_error("user add|passwd ADDRESS [--password-stdin]");
		} else if ((addr = checked_address(argv[i], false)) == NULL) {
			return 1;
		}
	}
	if (addr == NULL)
		return usage_error("user add|passwd ADDRESS [--password-stdin]");
	s = cli_store(cli);
	/* Fail before asking for a password that would be thrown away. */
	if (add && !store_domain_exists(s, strrchr(addr, '@') + 1)) {
		cli_fail("domain %s does not exist; add it with 'tern domain add %s'",
			 strrchr(addr, '@') + 1, strrchr(addr, '@') + 1);
		free(addr);
		return 1;
	}
	password = cli_read_password(from_stdin);
	ret = password_hash(password, strlen(password), hash);
	cli_free_password(password);
	if (ret < 0) {
		free(addr);
		return cli_fail("cannot hash the password (out of memory)");
	}
	ret = add ? store_account_add(s, addr, hash) : store_account_set_password(s, addr, hash);
	if (ret < 0)
		ret = cli_fail("%s", store_error(s));
	else
		printf("%s %s\n", add ? "added user" : "changed password of", addr);
	free(addr);
	return ret;
}

/* "500M", "2G", "1048576", "none" (no limit). */
static int parse_quota(const char *v, uint64_t *bytes_r)
{
	static const char units[] = "KMG";
	size_t len = strlen(v);
	const char *u;
	uint64_t n, mult = 1;

	if (!strcmp(v, "none") || !strcmp(v, "0")) {
		*bytes_r = 0;
		return 0;
	}
	if (len > 0 && (u = strchr(units, v[len - 1] & ~0x20)) != NULL && *u != '\0') {
		mult = 1ULL << (10 * (u - units + 1));
		len--;
	}
	if (parse_uint(v, len, UINT64_MAX / mult, &n) < 0 || n == 0)
		return -1;
	*bytes_r = n * mult;
	return 0;
}

/* user quota ADDRESS [SIZE|none]: shows or sets the storage limit. */
static int user_quota(struct cli *cli, int argc, char **argv)
{
	uint64_t limit = 0, used = 0, count = 0;
	char *addr, *hash = NULL;
	int64_t id;
	int ret = 0;

	if (argc < 2 || argc > 3)
		return usage_error("user quota ADDRESS [SIZE|none]");
	if ((addr = checked_address(argv[1], false)) == NULL)
		return 1;
	if (argc == 3) {
		if (parse_quota(argv[2], &limit) < 0)
			ret = cli_fail("quota '%s' is not a size like 500M or 2G, or none", argv[2]);
		else if (store_quota_set(cli_store(cli), addr, limit) < 0)
			ret = cli_fail("%s", store_error(cli->store));
	}
	if (ret == 0 && store_account_lookup(cli_store(cli), addr, &id, &hash) != 1)
		ret = cli_fail("user %s does not exist", addr);
	if (ret == 0 && store_quota_get(cli->store, id, &limit, &used, &count) < 0)
		ret = cli_fail("%s", store_error(cli->store));
	if (ret == 0) {
		if (limit == 0)
			printf("%s: %llu bytes in %llu messages, no quota\n", addr,
			       (unsigned long long)used, (unsigned long long)count);
		else
			printf("%s: %llu of %llu bytes (%llu%%) in %llu messages\n", addr,
			       (unsigned long long)used, (unsigned long long)limit,
			       (unsigned long long)(used * 100 / limit), (unsigned long long)count);
	}
	free(hash);
	free(addr);
	return ret;
}

int cli_user(struct cli *cli, int argc, char **argv)
{
	const char *usage = "user add|passwd|list|remove|quota [ADDRESS|DOMAIN] [--password-stdin]";
	char *addr;
	int ret;

	if (argc < 1)
		return usage_error(usage);
	if (!strcmp(argv[0], "add") || !strcmp(argv[0], "passwd"))
		return user_set_password(cli, !strcmp(argv[0], "add"), argc, argv);
	if (!strcmp(argv[0], "quota"))
		return user_quota(cli, argc, argv);
	if (!strcmp(argv[0], "list") && argc <= 2) {
		char *d = argc == 2 ? checked_domain(argv[1]) : NULL;

		if (argc == 2 && d == NULL)
			return 1;
		ret = store_account_list(cli_store(cli), d, print_user, NULL);
		free(d);
		return ret < 0 ? cli_fail("%s", store_error(cli->store)) : 0;
	}
	if (!strcmp(argv[0], "remove") && argc == 2) {
		if ((addr = checked_address(argv[1], false)) == NULL)
			return 1;
		ret = store_account_remove(cli_store(cli), addr);
		if (ret < 0)
			ret = cli_fail("%s", store_error(cli->store));
		else
			printf("removed user %s and their mail\n", addr);
		free(addr);
		return ret;
	}
	return usage_error(usage);
}

static void print_alias(void *ctx, const char *source, const char *target)
{
	printf("%-40s -> %s\n", source, target);
}

static int alias_add(struct cli *cli, int argc, char **argv)
{
	char *src, *target;
	int i, ret = 0;

	if ((src = checked_address(argv[1], true)) == NULL)
		return 1;
	for (i = 2; i < argc && ret == 0; i++) {
		if ((target = checked_address(argv[i], false)) == NULL) {
			ret = 1;
			break;
		}
		if (store_alias_add(cli_store(cli), src, target) < 0)
			ret = cli_fail("%s", store_error(cli->store));
		else
			printf("added alias %s -> %s\n", src, target);
		free(target);
	}
	free(src);
	return ret;
}

int cli_alias(struct cli *cli, int argc, char **argv)
{
	const char *usage = "alias add SOURCE TARGET... | list [DOMAIN] | remove SOURCE [TARGET]";
	char *src, *target = NULL;
	int ret;

	if (argc >= 3 && !strcmp(argv[0], "add"))
		return alias_add(cli, argc, argv);
	if (argc <= 2 && argc >= 1 && !strcmp(argv[0], "list")) {
		char *d = argc == 2 ? checked_domain(argv[1]) : NULL;

		if (argc == 2 && d == NULL)
			return 1;
		ret = store_alias_list(cli_store(cli), d, print_alias, NULL);
		free(d);
		return ret < 0 ? cli_fail("%s", store_error(cli->store)) : 0;
	}
	if ((argc != 2 && argc != 3) || strcmp(argv[0], "remove"))
		return usage_error(usage);
	if ((src = checked_address(argv[1], true)) == NULL)
		return 1;
	if (argc == 3 && (target = checked_address(argv[2], false)) == NULL) {
		free(src);
		return 1;
	}
	ret = store_alias_remove(cli_store(cli), src, target);
	if (ret < 0)
		ret = cli_fail("%s", store_error(cli->store));
	else
		printf("removed alias %s%s%s\n", src, target ? " -> " : "", target ? target : "");
	free(src);
	free(target);
	return ret;
}
