/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * learn.h - the learning table (cf_learn) from userspace: what `learn`
 * manages and `report` reads.
 */
#ifndef CF_LEARN_H
#define CF_LEARN_H

#include <stddef.h>

#include "camfence.h"

/* What the datapath records when learning is on and no rate is given. */
#define CF_LEARN_RATE_DEFAULT 1

struct cf_learn_pair {
	struct cf_learn_key key;
	struct cf_learn_val val;
};

/*
 * Every (camera, remote) pair in the table, sorted by key, into *out
 * (free() it).  Prints its error line.
 */
int cf_learn_read(int map_fd, struct cf_learn_pair **out, size_t *n);

#endif /* CF_LEARN_H */
