/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * table.h - compiled ranges -> the image the datapath walks (camfence.h).
 *
 * The image is a multibit trie: a 2^16-entry root per family and nodes of
 * variable stride below it, each entry a leaf class or a node pointer.
 * cf_image_lookup_v4/v6 walk it exactly as bpf/lookup.h does, so tests can
 * compare the two and the loader can explain what the kernel will do.
 */
#ifndef CF_TABLE_H
#define CF_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "compile.h"

/*
 * Stride of nodes below the root (IPv6 nodes are cut at bit 64).  Four
 * bits make a node one 64-byte cache line; on the full location.db with a
 * 10-country policy the image is 2.6 MiB (stride 8: 10.9 MiB) and 93% of
 * random IPv4 addresses still resolve at the root.
 */
#define CF_TABLE_STRIDE 4

/* A busy IPv6 /16 (at least this many ranges) gets a wide first node. */
#define CF_TABLE_WIDE_STRIDE 12
#define CF_TABLE_WIDE_RANGES 32

struct cf_image {
	uint32_t *w;	   /* capacity words, zeroed past n_words */
	size_t n_words;	   /* words in use (header's n_words) */
	size_t capacity;   /* words allocated = map max_entries */
	size_t n_nodes;	   /* trie nodes below the roots */
};

/*
 * Build an image of `capacity` words (0: CF_IMAGE_WORDS_DEFAULT).
 * Fails with -E2BIG (and says how many words it needed) when the tables do
 * not fit.
 */
int cf_image_build(const struct cf_compiled *c, uint64_t generation,
		   size_t capacity, struct cf_image *img, struct cf_err *e);
void cf_image_free(struct cf_image *img);

/* Check an image read back from the kernel: magic, version, bounds. */
int cf_image_check(const uint32_t *w, size_t capacity, struct cf_err *e);

static inline const struct cf_image_hdr *cf_image_hdr(const uint32_t *w)
{
	return (const struct cf_image_hdr *)w;
}

static inline const struct cf_class_meta *cf_image_meta(const uint32_t *w)
{
	return (const struct cf_class_meta *)(w + cf_image_hdr(w)->meta_off);
}

/* The class the datapath finds; UINT32_MAX on a broken image. */
uint32_t cf_image_lookup_v4(const uint32_t *w, uint32_t addr);
uint32_t cf_image_lookup_v6(const uint32_t *w, cf_u128 addr);

/* Lookup that unwraps IPv4 embedded in IPv6 first, as the datapath does. */
uint32_t cf_image_lookup(const uint32_t *w, cf_u128 addr, int family);

#endif /* CF_TABLE_H */
