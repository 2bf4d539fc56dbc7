/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * proto_lookup.h - prototype walks of the same image (camfence.h layout),
 * to measure what bpf/lookup.h could gain.  Not used by camfence.
 *
 * "Flat": the image is ONE element of an array map (value FLAT_WORDS
 * words, 4 MiB, the most an array value may be), looked up once per
 * packet.  Each word is then a masked index off that pointer: no key
 * spilled to the stack and read back, no bounds-check branch per level,
 * which bpf_map_lookup_elem() per word costs today.  Out-of-image indexes
 * wrap inside the value instead of failing (only a broken image has them).
 *
 * fl_lookup_v6_split also walks IPv6 as two IPv4-like loops, first over
 * the high 64 bits and then the low, instead of choosing a half and
 * re-checking bounds at every level.  fl_lookup_v6 keeps lookup.h's loop
 * as it is, so the two effects can be told apart.
 */
#ifndef CF_PROTO_LOOKUP_H
#define CF_PROTO_LOOKUP_H

#include "lookup.h"
#include "bench_abi.h"

#define FLAT_MASK (FLAT_WORDS - 1)

static __always_inline __u32 fl_word(const __u32 *w, __u32 idx)
{
	return w[idx & FLAT_MASK];
}

static __always_inline __u32 fl_lookup_v4(const __u32 *w, __u32 addr)
{
	__u32 left = 32 - CF_ROOT_BITS, e, s, i;

	e = fl_word(w, CF_V4_ROOT + (addr >> left));
	for (i = 0; i < CF_V4_MAX_LEVELS && (e & CF_ENT_NODE); i++) {
		s = cf_ent_stride(e);
		if (s > left)
			return CF_CLASS_DEFAULT;
		left -= s;
		e = fl_word(w, cf_ent_base(e) +
				       ((addr >> left) & ((1u << s) - 1)));
	}
	return cf_ent_class(e);
}

/* lookup.h's IPv6 loop, words read flat. */
static __always_inline __u32 fl_lookup_v6(const __u32 *w, __u64 hi, __u64 lo)
{
	__u32 used = CF_ROOT_BITS, e, s, i, pos, idx;
	__u64 half;

	e = fl_word(w, CF_V6_ROOT + (__u32)(hi >> (64 - CF_ROOT_BITS)));
	for (i = 0; i < CF_V6_MAX_LEVELS && (e & CF_ENT_NODE); i++) {
		s = cf_ent_stride(e);
		pos = used & 63;
		if (used + s > 128 || pos + s > 64)
			return CF_CLASS_DEFAULT;
		half = used < 64 ? hi : lo;
		idx = (half >> (64 - pos - s)) & ((1ull << s) - 1);
		used += s;
		e = fl_word(w, cf_ent_base(e) + idx);
	}
	return cf_ent_class(e);
}

/*
 * Walk the nodes that index `half` (left: its bits not yet used).  Ends
 * on a leaf, on a node that begins the next half (left == 0), or on a
 * broken one (*bad).
 */
static __always_inline __u32 fl_walk_half(const __u32 *w, __u32 e, __u64 half,
					  __u32 left, __u32 levels, int *bad)
{
	__u32 s, i;

	for (i = 0; i < levels && (e & CF_ENT_NODE) && left; i++) {
		s = cf_ent_stride(e);
		if (s > left) {
			*bad = 1;
			return e;
		}
		left -= s;
		e = fl_word(w, cf_ent_base(e) + (__u32)((half >> left) &
							((1ull << s) - 1)));
	}
	*bad |= left != 0 && (e & CF_ENT_NODE);
	return e;
}

static __always_inline __u32 fl_lookup_v6_split(const __u32 *w, __u64 hi,
						__u64 lo)
{
	int bad = 0;
	__u32 e;

	e = fl_word(w, CF_V6_ROOT + (__u32)(hi >> (64 - CF_ROOT_BITS)));
	e = fl_walk_half(w, e, hi, 64 - CF_ROOT_BITS,
			 (64 - CF_ROOT_BITS) / CF_MIN_STRIDE, &bad);
	if (!bad && (e & CF_ENT_NODE))
		e = fl_walk_half(w, e, lo, 64, 64 / CF_MIN_STRIDE, &bad);
	return bad ? CF_CLASS_DEFAULT : cf_ent_class(e);
}

#endif /* CF_PROTO_LOOKUP_H */
