/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * events.h - drop and monitor events, bounded (decision 6 of DESIGN.md).
 *
 * A per-CPU token bucket sized by the image header (event_rate per second,
 * event_burst deep) gates the ring buffer.  Every event the policy asks for
 * ends in exactly one of CF_STAT_EVENTS, CF_STAT_EVENTS_SUPPRESSED (over
 * the limit) or CF_STAT_EVENTS_LOST (ring full), never silently nowhere.
 * An event_rate of 0 turns events off; those are not counted anywhere, as
 * the operator asked for none.
 */
#ifndef CF_EVENTS_H
#define CF_EVENTS_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "camfence.h"
#include "compiler.h"
#include "lookup.h"
#include "maps.h"

#define CF_NSEC_PER_SEC 1000000000ull

/* Bounds that keep the bucket arithmetic in 64 bits without a division:
 * elapsed * rate < 2^62.  4M events/s is far beyond what a ring buffer
 * reader keeps up with; 18 minutes of quiet refills any sane bucket. */
#define CF_RATE_MAX (1u << 22)
#define CF_ELAPSED_MAX (1ull << 40)

/*
 * The bucket runs on the coarse clock (one tick, 1-10 ms): reading it
 * costs a few ns where bpf_ktime_get_ns() costs ~25, and this runs for
 * every dropped packet of a flood.  So that whole ticks of refill are
 * never lost to a shallow bucket, it holds at least 10 ms of events.
 *
 * One token is CF_NSEC_PER_SEC units, so `rate` events per second refill
 * `rate` units per nanosecond.
 */
static __always_inline int cf_bucket_take(struct cf_bucket *b, __u32 rate,
					  __u32 burst, __u64 now)
{
	__u64 cap = (__u64)(burst ? burst : 1) * CF_NSEC_PER_SEC;
	__u64 elapsed = now - b->last_ns;
	__u64 tokens;

	if (rate > CF_RATE_MAX)
		rate = CF_RATE_MAX;
	if (cap < (__u64)rate * (CF_NSEC_PER_SEC / 100))
		cap = (__u64)rate * (CF_NSEC_PER_SEC / 100);
	if (elapsed > CF_ELAPSED_MAX)
		elapsed = CF_ELAPSED_MAX;

	tokens = b->tokens + elapsed * rate;
	if (tokens > cap)
		tokens = cap;
	b->last_ns = now;
	if (tokens < CF_NSEC_PER_SEC) {
		b->tokens = tokens;
		return 0;
	}
	b->tokens = tokens - CF_NSEC_PER_SEC;
	return 1;
}

/*
 * An event record to fill, or NULL when the limit or the ring says no
 * (accounted here).  The record is zeroed except ts_ns and generation.
 */
static __always_inline struct cf_event *cf_event_reserve(void *img, __u32 len)
{
	struct cf_bucket *b;
	struct cf_event *ev;
	__u32 zero = 0, rate = 0, burst = 0;

	if (cf_word(img, CF_HDR_WORD(event_rate), &rate) || !rate)
		return NULL;
	cf_word(img, CF_HDR_WORD(event_burst), &burst);

	b = bpf_map_lookup_elem(&cf_ratelimit, &zero);
	if (!b)
		return NULL;
	if (!cf_bucket_take(b, rate, burst, bpf_ktime_get_coarse_ns())) {
		cf_stat(CF_STAT_EVENTS_SUPPRESSED, 1, len);
		return NULL;
	}

	ev = bpf_ringbuf_reserve(&cf_events, sizeof(*ev), 0);
	if (!ev) {
		cf_stat(CF_STAT_EVENTS_LOST, 1, len);
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->ts_ns = bpf_ktime_get_ns();
	ev->generation = cf_image_generation(img);
	return ev;
}

static __always_inline void cf_event_submit(struct cf_event *ev, __u32 len)
{
	bpf_ringbuf_submit(ev, 0);
	cf_stat(CF_STAT_EVENTS, 1, len);
}

#endif /* CF_EVENTS_H */
