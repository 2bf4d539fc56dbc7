/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * apply.h - the one path a compiled policy takes into force, for attach
 * --policy, push and the daemon.
 *
 * Under the state lock: build the image and switch to it (push.h's
 * commit), run the caller's step (attach's hooks), record the state
 * files.  A failure after the switch puts the previous image back
 * (re-installed from the fd kept since before the switch) and leaves the
 * state files as they were, so a command either succeeds with the new
 * policy enforcing and recorded, or fails with the old one enforcing and
 * nothing recorded.  Failing to record is a system error (exit 3).
 */
#ifndef CF_APPLY_H
#define CF_APPLY_H

#include <stdbool.h>

#include "push.h"

struct cf_apply_opts {
	bool locked; /* the caller holds the state lock */
	/* after the switch, before the record; its failure rolls back */
	int (*then)(void *ctx);
	void *ctx;
};

/*
 * Apply a prepared push (cf_push_prepare).  o may be NULL.  On failure
 * after the switch, p->switched stays true only when the previous image
 * could not be put back (then p's policy enforces, unrecorded, and an
 * error says so).
 */
int cf_apply(struct cf_push *p, const struct cf_runtime *rt,
	     const struct cf_apply_opts *o);

/*
 * Record p, already live at p->generation (the daemon adopting what it
 * finds), as the policy in force.  Takes the state lock.  The state
 * files change whole or not at all.
 */
int cf_apply_adopt(const struct cf_push *p);

#endif /* CF_APPLY_H */
