/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * maps.h - the datapath's maps.  The loader finds them by these names
 * through the skeleton and pins them itself, so none has a `pinning`
 * attribute (tests load the skeleton without touching /sys/fs/bpf).
 */
#ifndef CF_MAPS_H
#define CF_MAPS_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "camfence.h"
#include "compiler.h"

/*
 * One image: words written by userspace through mmap, two per element
 * (CF_IMAGE_ELEM_WORDS: array values sit at an 8-byte stride, and this
 * keeps the mapping dense).  Not BPF_F_INNER_MAP: with that flag the
 * verifier stops inlining lookups, so every image must instead match
 * this template's max_entries.  To size images otherwise, the loader
 * hands libbpf a template map of that size before load with
 * bpf_map__set_inner_map_fd() (libbpf 1.1's bpf_map__set_max_entries()
 * dereferences the inner map's NULL object and crashes).
 */
struct cf_image_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CF_IMAGE_WORDS_DEFAULT / CF_IMAGE_ELEM_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32[CF_IMAGE_ELEM_WORDS]);
};

/* Slot 0 holds the live image; replacing it is how a policy changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct cf_image_map);
} cf_policy SEC(".maps");

/* Per class-word counter slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CF_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct cf_counter);
} cf_counters SEC(".maps");

/* enum cf_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CF_STAT_MAX);
	__type(key, __u32);
	__type(value, struct cf_counter);
} cf_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cf_config);
} cf_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} cf_events SEC(".maps");

/* Token bucket of the event rate limit; tokens in 1e-9 events. */
struct cf_bucket {
	__u64 last_ns;
	__u64 tokens;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cf_bucket);
} cf_ratelimit SEC(".maps");

/* Learning mode: (camera, remote) -> counts; see camfence.h. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CF_LEARN_ENTRIES);
	__type(key, struct cf_learn_key);
	__type(value, struct cf_learn_val);
} cf_learn SEC(".maps");

/*
 * IP packets since the last sample, per CPU.  Not pinned: it only paces
 * the sampling, so a reload may start it again from zero.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cf_learn_tick SEC(".maps");

/*
 * Count frames.  The counter maps are per-CPU, and XDP and TC programs
 * run to completion on one CPU with bottom halves off, so nothing else
 * touches this CPU's copy meanwhile: plain increments are exact, with no
 * atomics and no cache line shared between CPUs.  Userspace sums the
 * copies.
 */
static __always_inline void cf_count(void *map, __u32 slot, __u32 packets,
				     __u32 bytes)
{
	struct cf_counter *c = bpf_map_lookup_elem(map, &slot);

	if (c) {
		c->packets += packets;
		c->bytes += bytes;
	}
}

static __always_inline void cf_stat(__u32 stat, __u32 packets, __u32 bytes)
{
	cf_count(&cf_stats, stat, packets, bytes);
}

#endif /* CF_MAPS_H */
