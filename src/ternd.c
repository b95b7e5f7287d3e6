/*
 * ternd: the Tern mail server daemon. Parses the command line and hands
 * over to daemon_run().
 */
#include "daemon/daemon.h"
#include "core/config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ternd [-c CONFIG] [-n]\n"
		"       ternd --demo [DIR]\n"
		"\n"
		"The Tern mail server. Runs in the foreground and logs to stderr.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE  configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  -n, --check        check the configuration and exit\n"
		"      --demo [DIR]   run a complete demo server on 127.0.0.1 with its\n"
		"                     data in DIR (default ./demo); created on first start,\n"
		"                     with the user demo@example.test and a random password\n"
		"                     printed and kept in DIR/demo-password\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n"
		"\n"
		"Signals: SIGTERM or SIGINT finish in-flight transactions and exit;\n"
		"SIGHUP reloads the configuration and certificates.\n"
		"Administer a running server with `tern` (see `tern --help`).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "demo", optional_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_options opts = { .config_path = CONFIG_DEFAULT_PATH };
	int c;

	while ((c = getopt_long(argc, argv, "c:nhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 'n':
			opts.check_only = true;
			break;
		case 'D':
			/* --demo DIR and --demo=DIR both work */
			if (optarg != NULL)
				opts.demo_dir = optarg;
			else if (optind < argc && argv[optind][0] != '-')
				opts.demo_dir = argv[optind++];
			else
				opts.demo_dir = "demo";
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ternd %s\n", TERN_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ternd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return daemon_run(&opts);
}
