/*
 * `tern queue`: look at and manage the outbound queue. list, show, hold,
 * release and delete work on the store directly (each in one SQL
 * transaction, safe while ternd runs); flush and retry ask the running
 * daemon over the control socket, since only it delivers.
 */
#include "cli/cli.h"
#include "core/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void age_text(int64_t seconds, char *out, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 120)
		snprintf(out, len, "%llds", (long long)seconds);
	else if (seconds < 7200)
		snprintf(out, len, "%lldm", (long long)seconds / 60);
	else if (seconds < 2 * 86400)
		snprintf(out, len, "%lldh", (long long)seconds / 3600);
	else
		snprintf(out, len, "%lldd", (long long)seconds / 86400);
}

static void when_text(int64_t t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One line per message: its rows are adjacent (ordered by created, id). */
static void print_list(const struct store_queue_row *rows, size_t n)
{
	int64_t now = time_now();
	char age[32], next[32];
	size_t i, j;

	printf("%-14s %-6s %-8s %-5s %-20s %-30s %s\n", "QUEUE-ID", "AGE", "ATTEMPTS", "HELD",
	       "NEXT-ATTEMPT", "SENDER", "RECIPIENT LAST-ERROR");
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && strcmp(rows[j].queue_id, rows[i].queue_id) == 0; j++) {
			const struct store_queue_row *r = &rows[j];

			age_text(now - r->created, age, sizeof(age));
			when_text(r->next_attempt, next, sizeof(next));
			printf("%-14s %-6s %-8lld %-5s %-20s %-30s %s%s%s\n",
			       j == i ? r->queue_id : "", age, (long long)r->attempts,
			       r->held ? "yes" : "no", r->held ? "-" : next,
			       j == i ? (r->sender[0] ? r->sender : "<>") : "", r->recipient,
			       r->last_error ? "  " : "", r->last_error ? r->last_error : "");
		}
	}
	printf("%zu recipient%s queued\n", n, n == 1 ? "" : "s");
}

static void print_show(const struct store_queue_row *rows, size_t n)
{
	char when[32];
	size_t i;

	printf("queue_id: %s\nsender: %s\nsize: %llu\n", rows[0].queue_id,
	       rows[0].sender[0] ? rows[0].sender : "<>", (unsigned long long)rows[0].size);
	when_text(rows[0].created, when, sizeof(when));
	printf("arrived: %s\nsmtputf8: %s\n8bitmime: %s\n", when, rows[0].smtputf8 ? "yes" : "no",
	       rows[0].eightbit ? "yes" : "no");
	for (i = 0; i < n; i++) {
		printf("\nrecipient: %s\nattempts: %lld\nheld: %s\n", rows[i].recipient,
		       (long long)rows[i].attempts, rows[i].held ? "yes" : "no");
		when_text(rows[i].next_attempt, when, sizeof(when));
		printf("next_attempt: %s\n", when);
		if (rows[i].last_attempt > 0) {
			when_text(rows[i].last_attempt, when, sizeof(when));
			printf("last_attempt: %s\n", when);
		}
		printf("warned: %s\n", rows[i].warned ? "yes" : "no");
		if (rows[i].last_error)
			printf("last_error: %s\n", rows[i].last_error);
	}
}

static int queue_list_or_show(struct cli *cli, const char *queue_id)
{
	struct store *s = cli_store(cli);
	struct store_queue_row *rows;
	size_t n;

	if (store_queue_list(s, queue_id, &rows, &n) < 0)
		return cli_fail("%s", store_error(s));
	if (queue_id != NULL && n == 0)
		return cli_fail("no queued message %s", queue_id);
	if (queue_id != NULL)
		print_show(rows, n);
	else
		print_list(rows, n);
	store_queue_rows_free(&rows, n);
	return 0;
}

static int queue_edit(struct cli *cli, const char *verb, const char *queue_id)
{
	struct store *s = cli_store(cli);
	int n;

	if (!strcmp(verb, "delete"))
		n = store_queue_delete(s, queue_id);
	else
		n = store_queue_set_held(s, queue_id, !strcmp(verb, "hold"));
	if (n < 0)
		return cli_fail("%s", store_error(s));
	if (n == 0)
		return cli_fail("no queued message %s", queue_id);
	printf("%s: %s %d recipient%s\n", queue_id, !strcmp(verb, "delete") ? "deleted" :
	       !strcmp(verb, "hold") ? "held" : "released", n, n == 1 ? "" : "s");
	return 0;
}

static bool id_valid(const char *id)
{
	return id[0] != '\0' && strlen(id) < 64 &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(id);
}

int cli_queue(struct cli *cli, int argc, char **argv)
{
	char command[96];

	if (argc == 1 && !strcmp(argv[0], "list"))
		return queue_list_or_show(cli, NULL);
	if (argc == 1 && !strcmp(argv[0], "flush"))
		return cli_control(cli, "flush");
	if (argc != 2)
		goto usage;
	if (!id_valid(argv[1]))
		return cli_fail("'%s' is not a queue id", argv[1]);
	if (!strcmp(argv[0], "show"))
		return queue_list_or_show(cli, argv[1]);
	if (!strcmp(argv[0], "retry")) {
		snprintf(command, sizeof(command), "retry %s", argv[1]);
		return cli_control(cli, command);
	}
	if (!strcmp(argv[0], "delete") || !strcmp(argv[0], "hold") || !strcmp(argv[0], "release"))
		return queue_edit(cli, argv[0], argv[1]);
usage:
	cli_fail("usage: tern queue list|flush|show ID|retry ID|delete ID|hold ID|release ID");
	return 2;
}
