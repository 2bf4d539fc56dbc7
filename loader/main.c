// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - the camfence command: global options, then one subcommand.
 *
 * Exit codes (also in usage()):
 *   0  success
 *   1  usage error (unknown command or option, missing argument)
 *   2  bad input: policy, database, address or interface name
 *   3  system or kernel error: BPF, netlink, filesystem, permission
 *   4  not loaded / not attached (e.g. detach of an interface camfence
 *      has not attached, status before the first attach)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "main.h"

struct cf_global cf_g = {
	.pin_dir = CF_PIN_DIR_DEFAULT,
	.state_dir = CF_STATE_DIR_DEFAULT,
	.cache_dir = CF_CACHE_DIR_DEFAULT,
	.verbose = 1,
};

static int do_help(int argc, char **argv);

static const struct cf_cmd cf_cmd_help = {
	.name = "help",
	.run = do_help,
	.summary = "show this text, or a command's options",
	.args = "[COMMAND]",
};

static const struct cf_cmd *const commands[] = {
	&cf_cmd_attach, &cf_cmd_detach, &cf_cmd_push,	 &cf_cmd_status,
	&cf_cmd_stats,	&cf_cmd_events, &cf_cmd_lookup, &cf_cmd_version,
	&cf_cmd_metrics,
	&cf_cmd_daemon,
	&cf_cmd_compile,
	&cf_cmd_learn, &cf_cmd_report,
	&cf_cmd_help,
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: camfence [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Fence IP cameras off from countries and networks with eBPF.\n"
		"\n"
		"Commands (any unique prefix works):\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(f,
		"\n"
		"Options:\n"
		"  -j, --json          JSON output (errors too: {\"error\": ...})\n"
		"  -p, --pretty        indented JSON (implies -j)\n"
		"  -v, --verbose       more detail; twice for libbpf debug\n"
		"  -q, --quiet         errors only\n"
		"      --bpffs DIR     pinned objects (default %s,\n"
		"                      env CAMFENCE_PIN_DIR)\n"
		"      --state DIR     state files (default %s,\n"
		"                      env CAMFENCE_STATE_DIR)\n"
		"      --cache DIR     verified and layered databases (default\n"
		"                      %s, env CAMFENCE_CACHE_DIR; none: off)\n"
		"  -h, --help          this text; `camfence help COMMAND`\n"
		"      --version       print the version\n"
		"\n"
		"Exit codes: 0 ok, 1 usage error, 2 bad input (policy, database,\n"
		"address, interface), 3 system or kernel error, 4 not loaded or\n"
		"not attached.\n",
		CF_PIN_DIR_DEFAULT, CF_STATE_DIR_DEFAULT, CF_CACHE_DIR_DEFAULT);
}

void cf_cmd_usage(const struct cf_cmd *cmd, bool error)
{
	FILE *f = error ? stderr : stdout;

	fprintf(f, "Usage: camfence %s %s\n\n%s.\n", cmd->name, cmd->args,
		cmd->summary);
	if (cmd->options)
		fprintf(f, "\nOptions:\n%s", cmd->options);
	if (error)
		fprintf(f, "\nSee `camfence help` for the global options.\n");
}

int cf_common_opt(int c, const struct cf_cmd *cmd)
{
	switch (c) {
	case 'j':
		cf_g.json = true;
		return -1;
	case 'p':
		cf_g.json = cf_g.pretty = true;
		return -1;
	case 'v':
		cf_g.verbose++;
		return -1;
	case 'q':
		cf_g.verbose = 0;
		return -1;
	case 'h':
		cf_cmd_usage(cmd, false);
		return CF_EXIT_OK;
	default:
		cf_cmd_usage(cmd, true);
		return CF_EXIT_USAGE;
	}
}

int cf_parse_ulong(const char *opt, const char *s, unsigned long max,
		   unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out > max) {
		pr_err("%s: '%s' is not a number from 0 to %lu", opt, s, max);
		return -EINVAL;
	}
	return 0;
}

int cf_exit_for(int err)
{
	switch (err) {
	case 0:
		return CF_EXIT_OK;
	case -ENOENT:
		return CF_EXIT_ABSENT;
	case -EINVAL:
	case -E2BIG:
	case -ENODEV:
		return CF_EXIT_INPUT;
	default:
		return CF_EXIT_SYSTEM;
	}
}

static const struct cf_cmd *find_command(const char *name)
{
	const struct cf_cmd *found = NULL;
	char cands[256] = "";
	size_t len = strlen(name), n = 0;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(commands[i]->name, name))
			return commands[i];
		if (strncmp(commands[i]->name, name, len))
			continue;
		found = commands[i];
		n++;
		strncat(cands, n > 1 ? ", " : "", sizeof(cands) - 1 - strlen(cands));
		strncat(cands, found->name, sizeof(cands) - 1 - strlen(cands));
	}
	if (n == 1)
		return found;
	if (n > 1)
		pr_err("command '%s' is ambiguous: %s", name, cands);
	else
		pr_err("unknown command '%s'; see `camfence help`", name);
	return NULL;
}

static int do_help(int argc, char **argv)
{
	const struct cf_cmd *cmd;

	if (argc < 2) {
		usage(stdout);
		return CF_EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return CF_EXIT_USAGE;
	cf_cmd_usage(cmd, false);
	return CF_EXIT_OK;
}

enum { OPT_BPFFS = 256, OPT_STATE, OPT_CACHE, OPT_VERSION };

/* Returns -1 to go on to the command, else the exit code. */
static int parse_global(int argc, char **argv)
{
	static const struct option opts[] = {
		CF_COMMON_LONGOPTS,
		{ "bpffs", required_argument, NULL, OPT_BPFFS },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "cache", required_argument, NULL, OPT_CACHE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{},
	};
	int c;

	/* '+': stop at the command; its options are its own */
	while ((c = getopt_long(argc, argv, "+" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case OPT_BPFFS:
			cf_g.pin_dir = optarg;
			break;
		case OPT_STATE:
			cf_g.state_dir = optarg;
			break;
		case OPT_CACHE:
			cf_g.cache_dir = optarg;
			break;
		case OPT_VERSION:
			optind = 0; /* `camfence --version` is `camfence version` */
			return do_version(1, (char *[]){ "version", NULL });
		case 'h':
			usage(stdout);
			return CF_EXIT_OK;
		case 'j': case 'p': case 'v': case 'q':
			cf_common_opt(c, &cf_cmd_help);
			break;
		default:
			usage(stderr);
			return CF_EXIT_USAGE;
		}
	}
	return -1;
}

static void env_defaults(void)
{
	const char *s;

	s = getenv("CAMFENCE_PIN_DIR");
	if (s && *s)
		cf_g.pin_dir = s;
	s = getenv("CAMFENCE_STATE_DIR");
	if (s && *s)
		cf_g.state_dir = s;
	s = getenv("CAMFENCE_CACHE_DIR");
	if (s && *s)
		cf_g.cache_dir = s;
}

static int run(int argc, char **argv)
{
	const struct cf_cmd *cmd;
	int ret;

	env_defaults();
	ret = parse_global(argc, argv);
	if (ret >= 0)
		return ret;
	if (optind >= argc) {
		usage(stderr);
		return CF_EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd)
		return CF_EXIT_USAGE;
	argc -= optind;
	argv += optind;
	optind = 0; /* let the command's getopt_long start afresh */
	return cmd->run(argc, argv);
}

int main(int argc, char **argv)
{
	int ret;

	cf_log_init();
	ret = run(argc, argv);
	fflush(stdout);
	return ret;
}
