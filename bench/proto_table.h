/* SPDX-License-Identifier: GPL-2.0-only */
/* proto_table.h - prototype image layouts (proto_table.c). */
#ifndef CF_PROTO_TABLE_H
#define CF_PROTO_TABLE_H

#include "compile.h"
#include "table.h"

#define STRIDE_SCHED_MAX 16

/* Stride of the node at each level below the root; the last repeats. */
struct stride_sched {
	unsigned stride[STRIDE_SCHED_MAX];
	unsigned n;
};

/* "8,8,4": 0, or -EINVAL. */
int stride_sched_parse(const char *s, struct stride_sched *out);

int proto_image_build(const struct cf_compiled *c,
		      const struct stride_sched *s4,
		      const struct stride_sched *s6, struct cf_image *img,
		      struct cf_err *e);

#endif /* CF_PROTO_TABLE_H */
