/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * main.h - what every camfence command shares: global options, exit codes,
 * the command table's entry type and the commands themselves.
 */
#ifndef CF_MAIN_H
#define CF_MAIN_H

#include <getopt.h>
#include <stdbool.h>

#define CAMFENCE_VERSION "0.1.0"

#define CF_PIN_DIR_DEFAULT "/sys/fs/bpf/camfence"
#define CF_STATE_DIR_DEFAULT "/run/camfence"
#define CF_CACHE_DIR_DEFAULT "/var/cache/camfence"
#define CF_POLICY_DEFAULT "/etc/camfence/policy.conf"

/*
 * Exit codes.  Scripts rely on them, so they are part of the interface:
 * keep them in step with the usage text in main.c.
 */
enum cf_exit {
	CF_EXIT_OK = 0,
	CF_EXIT_USAGE = 1,  /* bad command line */
	CF_EXIT_INPUT = 2,  /* bad policy, database, address or interface */
	CF_EXIT_SYSTEM = 3, /* BPF, netlink, filesystem or permission error */
	CF_EXIT_ABSENT = 4, /* not loaded / not attached */
};

struct cf_global {
	const char *pin_dir;
	const char *state_dir;
	const char *cache_dir;
	bool json;
	bool pretty;
	int verbose; /* 0 quiet, 1 normal, 2 -v, 3 -vv */
};

extern struct cf_global cf_g;

struct cf_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *args;    /* synopsis after the command name */
	const char *options; /* one option a line, or NULL */
};

/*
 * Options every command accepts after its name too, so that
 * `camfence status -j` works like `camfence -j status`.
 */
#define CF_COMMON_LONGOPTS                                 \
	{ "json", no_argument, NULL, 'j' },                \
	{ "pretty", no_argument, NULL, 'p' },              \
	{ "verbose", no_argument, NULL, 'v' },             \
	{ "quiet", no_argument, NULL, 'q' },               \
	{ "help", no_argument, NULL, 'h' }
#define CF_COMMON_SHORTOPTS "jpvqh"

/*
 * Handle an option getopt_long returned that the command does not know
 * itself.  Returns -1 to go on parsing (a common option), otherwise the
 * exit code to return now (0 after --help, CF_EXIT_USAGE on a bad option).
 */
int cf_common_opt(int c, const struct cf_cmd *cmd);
void cf_cmd_usage(const struct cf_cmd *cmd, bool error);

/*
 * The exit code for a negative errno.  Inside the loader, -ENOENT means
 * "not loaded / not attached", -EINVAL, -E2BIG and -ENODEV bad operator
 * input; anything else is a system error.
 */
int cf_exit_for(int err);

/* Parse an unsigned decimal option value; prints the error itself. */
int cf_parse_ulong(const char *opt, const char *s, unsigned long max,
		   unsigned long *out);

int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_push(int argc, char **argv);
int do_status(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_events(int argc, char **argv);
int do_lookup(int argc, char **argv);
int do_version(int argc, char **argv);

extern const struct cf_cmd cf_cmd_attach, cf_cmd_detach, cf_cmd_push,
	cf_cmd_status, cf_cmd_stats, cf_cmd_events, cf_cmd_lookup,
	cf_cmd_version;

extern const struct cf_cmd cf_cmd_metrics;
extern const struct cf_cmd cf_cmd_daemon;
extern const struct cf_cmd cf_cmd_compile;
extern const struct cf_cmd cf_cmd_learn, cf_cmd_report;
#endif /* CF_MAIN_H */
