// SPDX-License-Identifier: GPL-2.0-only
/*
 * version.c - `camfence version`.
 */
#include <stdio.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "json.h"
#include "main.h"

int do_version(int argc, char **argv)
{
	static const struct option opts[] = { CF_COMMON_LONGOPTS, {} };
	struct utsname u = {};
	int c, ret;

	while ((c = getopt_long(argc, argv, CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1)
		if ((ret = cf_common_opt(c, &cf_cmd_version)) >= 0)
			return ret;
	uname(&u);
	if (!cf_g.json) {
		printf("camfence %s\nlibbpf %u.%u\nkernel %s %s\n",
		       CAMFENCE_VERSION, libbpf_major_version(),
		       libbpf_minor_version(), u.release, u.machine);
		return CF_EXIT_OK;
	}
	jw_start_object(cf_json());
	jw_string_field(cf_json(), "camfence", CAMFENCE_VERSION);
	jw_printf_field(cf_json(), "libbpf", "%u.%u", libbpf_major_version(),
			libbpf_minor_version());
	jw_string_field(cf_json(), "kernel", u.release);
	jw_string_field(cf_json(), "machine", u.machine);
	jw_end_object(cf_json());
	return CF_EXIT_OK;
}

const struct cf_cmd cf_cmd_version = {
	.name = "version",
	.run = do_version,
	.summary = "show camfence's, libbpf's and the kernel's versions",
	.args = "",
};
