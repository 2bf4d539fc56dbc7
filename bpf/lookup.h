/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * lookup.h - the walk of a policy image (layout in camfence.h).
 *
 * Every word is read with its own bpf_map_lookup_elem() on the inner array
 * map.  The verifier turns each into a few inline instructions (bounds
 * check, index mask, address) because the inner maps are created without
 * BPF_F_INNER_MAP; a NULL result means the index is past the image, which
 * only a broken image can produce, and the packet then gets the default
 * class.  policy/table.c walks images the same way in userspace, and the
 * datapath tests hold the two to the same answers.
 */
#ifndef CF_LOOKUP_H
#define CF_LOOKUP_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "camfence.h"
#include "compiler.h"

/* Word index of a header field. */
#define CF_HDR_WORD(field) (__builtin_offsetof(struct cf_image_hdr, field) / 4)

/* Word idx: half idx % 2 of element idx / 2 (CF_IMAGE_ELEM_WORDS). */
static __always_inline int cf_word(void *img, __u32 idx, __u32 *w)
{
	__u32 key = idx / CF_IMAGE_ELEM_WORDS;
	__u32 *p = bpf_map_lookup_elem(img, &key);

	if (!p)
		return -1;
	*w = p[idx % CF_IMAGE_ELEM_WORDS];
	return 0;
}

/* The header's generation: two words, in the byte order of the host. */
static __always_inline __u64 cf_image_generation(void *img)
{
	__u32 a = 0, b = 0;

	cf_word(img, CF_HDR_WORD(generation), &a);
	cf_word(img, CF_HDR_WORD(generation) + 1, &b);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (__u64)b << 32 | a;
#else
	return (__u64)a << 32 | b;
#endif
}

static __always_inline __u32 cf_ent_stride(__u32 e)
{
	return ((e >> CF_ENT_STRIDE_SHIFT) & CF_ENT_STRIDE_MASK) + 1;
}

static __always_inline __u32 cf_ent_base(__u32 e)
{
	return e & CF_ENT_BASE_MASK;
}

/* A walk that ends on a node, or runs past the address, is a broken
 * image; such packets take the default class. */
static __always_inline __u32 cf_ent_class(__u32 e)
{
	return (e & CF_ENT_NODE) ? CF_CLASS_DEFAULT : (e & CF_ENT_CLASS_MASK);
}

/* IPv4, address in host order: the root, then up to 4 levels. */
static __always_inline __u32 cf_lookup_v4(void *img, __u32 addr)
{
	__u32 left = 32 - CF_ROOT_BITS;
	__u32 e, s, i, idx;

	if (cf_word(img, CF_V4_ROOT + (addr >> left), &e))
		return CF_CLASS_DEFAULT;

	for (i = 0; i < CF_V4_MAX_LEVELS; i++) {
		if (!(e & CF_ENT_NODE))
			break;
		s = cf_ent_stride(e);
		if (s > left)
			return CF_CLASS_DEFAULT;
		left -= s;
		idx = cf_ent_base(e) + ((addr >> left) & ((1u << s) - 1));
		if (cf_word(img, idx, &e))
			return CF_CLASS_DEFAULT;
	}
	return cf_ent_class(e);
}

/*
 * IPv6 as two 64-bit halves in host order.  A node never straddles bit
 * 64, so each level takes its index from one half.
 */
static __always_inline __u32 cf_lookup_v6(void *img, __u64 hi, __u64 lo)
{
	__u32 used = CF_ROOT_BITS;
	__u32 e, s, i, pos, idx;
	__u64 half;

	if (cf_word(img, CF_V6_ROOT + (__u32)(hi >> (64 - CF_ROOT_BITS)), &e))
		return CF_CLASS_DEFAULT;

	for (i = 0; i < CF_V6_MAX_LEVELS; i++) {
		if (!(e & CF_ENT_NODE))
			break;
		s = cf_ent_stride(e);
		pos = used & 63;
		if (used + s > 128 || pos + s > 64)
			return CF_CLASS_DEFAULT;
		half = used < 64 ? hi : lo;
		idx = (half >> (64 - pos - s)) & ((1ull << s) - 1);
		used += s;
		if (cf_word(img, cf_ent_base(e) + idx, &e))
			return CF_CLASS_DEFAULT;
	}
	return cf_ent_class(e);
}

/*
 * IPv4 inside IPv6, as policy/addr.h defines it: NAT64 64:ff9b::/96 and
 * IPv4-mapped ::ffff:0:0/96 in the last 32 bits, 6to4 2002::/16 in bits
 * 16-47.
 */
static __always_inline int cf_embedded_v4(__u64 hi, __u64 lo, __u32 *v4)
{
	if ((hi == 0x0064ff9b00000000ull && (lo >> 32) == 0) ||
	    (hi == 0 && (lo >> 32) == 0xffff)) {
		*v4 = (__u32)lo;
		return 1;
	}
	if ((hi >> 48) == 0x2002) {
		*v4 = (__u32)(hi >> 16);
		return 1;
	}
	return 0;
}

/*
 * What a class means: its class word.  Callers map class ids past the
 * table to the default class first.  A word that cannot be read (broken
 * image) passes the packet on counter slot 0: nothing better to do.
 */
static __always_inline __u32 cf_class_word(void *img, __u32 class)
{
	__u32 w;

	if (cf_word(img, CF_CLASS_OFF + class, &w))
		return CF_CLASS_WORD(CF_VERDICT_PASS, 0);
	return w;
}

#endif /* CF_LOOKUP_H */
