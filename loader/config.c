// SPDX-License-Identifier: GPL-2.0-only
/*
 * config.c - cf_config[0].
 */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "config.h"
#include "log.h"

int cf_config_read(int map_fd, struct cf_config *cfg)
{
	__u32 key = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (bpf_map_lookup_elem(map_fd, &key, cfg)) {
		int err = -errno;

		pr_err("cannot read cf_config: %s", strerror(-err));
		return err;
	}
	return 0;
}

int cf_config_write(int map_fd, const struct cf_config *cfg)
{
	__u32 key = 0;

	if (bpf_map_update_elem(map_fd, &key, cfg, BPF_ANY)) {
		int err = -errno;

		pr_err("cannot write cf_config: %s", strerror(-err));
		return err;
	}
	return 0;
}

int cf_on_missing_parse(const char *s, __u32 *verdict)
{
	if (!strcmp(s, "pass")) {
		*verdict = CF_VERDICT_PASS;
		return 0;
	}
	if (!strcmp(s, "drop")) {
		*verdict = CF_VERDICT_DROP;
		return 0;
	}
	pr_err("--on-missing-policy: '%s' is not pass or drop", s);
	return -EINVAL;
}

const char *cf_on_missing_str(__u32 verdict)
{
	return verdict == CF_VERDICT_DROP ? "drop" : "pass";
}
