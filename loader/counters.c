// SPDX-License-Identifier: GPL-2.0-only
/*
 * counters.c - per-CPU counter slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"
#include "image.h"
#include "log.h"
#include "table.h"

/* A per-CPU value buffer: one struct cf_counter per possible CPU. */
static struct cf_counter *percpu_buf(int *ncpu)
{
	*ncpu = libbpf_num_possible_cpus();
	if (*ncpu <= 0)
		return NULL;
	return calloc((size_t)*ncpu, sizeof(struct cf_counter));
}

int cf_counter_read(int map_fd, uint32_t slot, struct cf_counter *sum)
{
	struct cf_counter *v;
	int ncpu, err = 0;

	memset(sum, 0, sizeof(*sum));
	v = percpu_buf(&ncpu);
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &slot, v))
		err = -errno;
	for (int i = 0; !err && i < ncpu; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	free(v);
	return err;
}

int cf_counter_zero(int map_fd, uint32_t slot)
{
	struct cf_counter *v;
	int ncpu, err = 0;

	v = percpu_buf(&ncpu);
	if (!v)
		return -ENOMEM;
	if (bpf_map_update_elem(map_fd, &slot, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}

/*
 * Lowest slot neither the live image nor this one uses yet.  Two images
 * of at most CF_CLASS_MAX classes each never exhaust CF_COUNTER_SLOTS.
 */
static int next_free(uint8_t *used, uint32_t *cursor, uint32_t *slot)
{
	while (*cursor < CF_COUNTER_SLOTS && used[*cursor])
		(*cursor)++;
	if (*cursor >= CF_COUNTER_SLOTS)
		return -ENOSPC;
	used[*cursor] = 1;
	*slot = *cursor;
	return 0;
}

/* Mark the live image's slots used: new classes must not share them. */
static void mark_used(const uint32_t *old, uint8_t *used)
{
	for (size_t i = 0; old && i < cf_image_hdr(old)->n_classes; i++)
		used[CF_CLASS_COUNTER(old[CF_CLASS_OFF + i])] = 1;
}

int cf_slots_assign(uint32_t *w, const uint32_t *old, uint32_t *fresh,
		    size_t *n_fresh)
{
	const struct cf_class_meta *meta = cf_image_meta(w);
	struct cf_class_index ix = {};
	uint8_t *used = calloc(CF_COUNTER_SLOTS, 1);
	uint32_t cursor = 0, slot = 0, *word;
	long prev;
	int err = 0;

	*n_fresh = 0;
	if (!used || (old && cf_class_index_build(cf_image_meta(old),
						  cf_image_hdr(old)->n_classes,
						  &ix)))
		err = -ENOMEM;
	if (!err)
		mark_used(old, used);
	for (size_t i = 0; !err && i < cf_image_hdr(w)->n_classes; i++) {
		prev = cf_class_index_find(&ix, cf_class_key(&meta[i]));
		if (prev >= 0) {
			slot = CF_CLASS_COUNTER(old[CF_CLASS_OFF + prev]);
		} else {
			err = next_free(used, &cursor, &slot);
			fresh[(*n_fresh)++] = slot;
		}
		word = &w[CF_CLASS_OFF + i];
		*word = CF_CLASS_WORD(CF_CLASS_VERDICT(*word), slot);
	}
	cf_class_index_free(&ix);
	free(used);
	return err;
}

const char *const cf_stat_names[CF_STAT_MAX] = {
	[CF_STAT_NON_IP] = "non_ip",
	[CF_STAT_MALFORMED] = "malformed",
	[CF_STAT_NO_POLICY] = "no_policy",
	[CF_STAT_EVENTS] = "events",
	[CF_STAT_EVENTS_SUPPRESSED] = "events_suppressed",
	[CF_STAT_EVENTS_LOST] = "events_lost",
	[CF_STAT_NDP] = "ndp",
};
