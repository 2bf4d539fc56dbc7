/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * counters.h - per-CPU counters: read them summed, zero them, and give
 * each class of a new image a counter slot.
 *
 * A class keeps its slot across pushes (same kind and country, ASN or net
 * rule line), so counters run on through a policy change.  A new class
 * gets a slot the live image does not use, zeroed before the switch, so
 * it starts at zero and the old image never counts into it.
 */
#ifndef CF_COUNTERS_H
#define CF_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "camfence.h"

/* Sum of every CPU's copy of one slot. */
int cf_counter_read(int map_fd, uint32_t slot, struct cf_counter *sum);
int cf_counter_zero(int map_fd, uint32_t slot);

/*
 * Rewrite the class words of image w with stable counter slots, taking
 * the live image old (may be NULL) into account.  The slots to zero
 * before the switch go to fresh[] (room for CF_CLASS_MAX), their count to
 * *n_fresh.
 */
int cf_slots_assign(uint32_t *w, const uint32_t *old, uint32_t *fresh,
		    size_t *n_fresh);

/* Names of the datapath stats (enum cf_stat) in stats and metrics. */
extern const char *const cf_stat_names[CF_STAT_MAX];

#endif /* CF_COUNTERS_H */
