/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * push.h - compile a policy and switch the datapath to it atomically.
 *
 * prepare (no kernel) -> commit (build the image beside the live one,
 * one map update to switch) -> rollback (the previous image back).
 * Commit and rollback are the steps of cf_apply (apply.h), which records
 * the state files and undoes the switch on failure; push, attach
 * --policy and the daemon go through it, never through the steps.
 */
#ifndef CF_PUSH_H
#define CF_PUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"
#include "source.h"
#include "table.h"

struct cf_push {
	struct cf_source src;
	struct cf_live_image live; /* the image before the switch */
	bool have_live;
	struct cf_map_shape shape;
	size_t want_capacity; /* --capacity: must match the datapath's */
	struct cf_image img;
	uint64_t generation;
	size_t n_fresh;	 /* counter slots given to new classes */
	double build_ms;
	double switch_ms;
	bool switched;
};

/* Parse, read the databases and compile; nothing in the kernel yet. */
int cf_push_prepare(struct cf_push *p, const char *path);

/* Build the image and switch to it.  Needs the state lock. */
int cf_push_commit(struct cf_push *p, const struct cf_runtime *rt);

/*
 * Put back the image that was live before commit (or none); p->live
 * keeps that map open until cf_push_free.  p->switched stays true when
 * it fails.
 */
int cf_push_rollback(struct cf_push *p, const struct cf_runtime *rt);

/* One line (or a JSON object) about what was installed. */
void cf_push_report(const struct cf_push *p);
/* The fields of that JSON object, inside one the caller opened. */
void cf_push_report_json(const struct cf_push *p);

void cf_push_free(struct cf_push *p);

#endif /* CF_PUSH_H */
