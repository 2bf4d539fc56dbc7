// SPDX-License-Identifier: GPL-2.0-only
/*
 * cfbench.c - the bench driver's commands (bench/README.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cfbench.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "pick-asns", cmd_pick_asns, "[DB]  write the bench policy" },
	{ "prep", cmd_prep, "POLICY DIR  compile once, derive every table" },
	{ "lookup", cmd_lookup, "DIR  ns per lookup in the kernel" },
	{ "pps", cmd_pps, "DIR ...  packets per second through a veth pair" },
	{ "datapath", cmd_datapath,
	  "DIR  camfence's XDP program per frame, by path" },
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: cfbench COMMAND ARGS\n");
	for (i = 0; i < N_CMDS; i++)
		fprintf(stderr, "  %s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	size_t i;
	int err;

	if (argc < 2) {
		usage();
		return 1;
	}
	for (i = 0; i < N_CMDS; i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		err = cmds[i].run(argc - 1, argv + 1);
		if (err)
			pr_err("%s failed: %s", cmds[i].name, strerror(-err));
		return err ? 2 : 0;
	}
	usage();
	return 1;
}
