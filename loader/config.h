/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config.h - cf_config[0], the settings that hold without a policy.
 */
#ifndef CF_CONFIG_H
#define CF_CONFIG_H

#include "camfence.h"

int cf_config_read(int map_fd, struct cf_config *cfg);
int cf_config_write(int map_fd, const struct cf_config *cfg);

/* "pass" or "drop" <-> enum cf_verdict; -EINVAL prints the error. */
int cf_on_missing_parse(const char *s, __u32 *verdict);
const char *cf_on_missing_str(__u32 verdict);

#endif /* CF_CONFIG_H */
