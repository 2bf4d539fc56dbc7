// SPDX-License-Identifier: GPL-2.0-only
/*
 * table.c - merged class ranges -> multibit trie image (see camfence.h).
 *
 * The walk below the 2^16 root visits the address space in order, so one
 * cursor into the sorted range list decides in O(1) whether a block is
 * uniform (one range covers it: a leaf) or needs a node.  Total work is
 * proportional to the size of the image.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

struct builder {
	const struct cf_crangelist *l;
	size_t cur;	/* range containing the next address to place */
	uint32_t *w;
	size_t cap;
	size_t next;	/* next free word */
	size_t nodes;
	unsigned bits;	/* 32 or 128 */
};

static cf_u128 block_last(cf_u128 start, unsigned rem)
{
	return rem >= 128 ? ~(cf_u128)0 : start + ((((cf_u128)1) << rem) - 1);
}

/* Ranges that start inside [start, last] after the cursor's range. */
static size_t ranges_in(const struct builder *b, cf_u128 last)
{
	size_t lo = b->cur, hi = b->l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->l->v[mid].first <= last)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - b->cur;
}

/*
 * Stride of a node at `depth` bits with `rem` bits left.  IPv6 nodes stop
 * at bit 64 so the datapath reads each index from one 64-bit half.
 *
 * IPv6 allocations sit at /29-/48, three to eight 4-bit levels below the
 * root; a busy /16 (a RIR's block holding dozens of ranges) gets one
 * 12-bit node instead, which takes random IPv6 lookups from 3.0 to 1.7
 * node reads (32 to 21 ns in bench/) for 16 KiB a busy /16.  Sparse
 * /16s stay at 4 bits, so a synthetic table of many thin /16s does not
 * balloon.
 */
static unsigned pick_stride(const struct builder *b, cf_u128 start,
			    unsigned depth, unsigned rem)
{
	unsigned s = CF_TABLE_STRIDE;

	if (b->bits == 128 && depth == CF_ROOT_BITS &&
	    ranges_in(b, block_last(start, rem)) >= CF_TABLE_WIDE_RANGES)
		s = CF_TABLE_WIDE_STRIDE;
	if (depth < 64 && depth + s > 64)
		s = 64 - depth;
	return s < rem ? s : rem;
}

static uint32_t block_entry(struct builder *b, cf_u128 start, unsigned depth);

/*
 * Fill entries [i, n) of the level at w (blocks of 2^shift addresses from
 * start): a leaf entry's range usually covers the blocks after it too,
 * and those get its class without a walk each.
 */
static void fill_level(struct builder *b, size_t w, size_t n, cf_u128 start,
		       unsigned shift, unsigned depth)
{
	size_t i = 0, more;

	while (i < n) {
		cf_u128 at = start + ((cf_u128)i << shift);
		uint32_t e = block_entry(b, at, depth);

		more = 0;
		if (!(e & CF_ENT_NODE)) {
			cf_u128 beyond = b->l->v[b->cur].last - block_last(at, shift);

			beyond >>= shift; /* whole blocks after this one */
			more = beyond < n - i - 1 ? (size_t)beyond : n - i - 1;
		}
		for (size_t k = 0; k <= more; k++, i++)
			if (w + i < b->cap)
				b->w[w + i] = e;
	}
}

static uint32_t make_node(struct builder *b, cf_u128 start, unsigned depth)
{
	unsigned rem = b->bits - depth, s = pick_stride(b, start, depth, rem);
	size_t base = b->next, n = (size_t)1 << s;

	b->next += n;
	b->nodes++;
	fill_level(b, base, n, start, rem - s, depth + s);
	return CF_ENT_NODE | (s - 1) << CF_ENT_STRIDE_SHIFT |
	       ((uint32_t)base & CF_ENT_BASE_MASK);
}

/* Entry for the aligned block of 2^(bits - depth) addresses at start. */
static uint32_t block_entry(struct builder *b, cf_u128 start, unsigned depth)
{
	const struct cf_crange *r;
	cf_u128 last = block_last(start, b->bits - depth);

	while (b->l->v[b->cur].last < start)
		b->cur++;
	r = &b->l->v[b->cur];
	if (r->last >= last)
		return r->class;
	return make_node(b, start, depth);
}

static void build_root(struct builder *b, const struct cf_crangelist *l,
		       unsigned bits, size_t root)
{
	b->l = l;
	b->cur = 0;
	b->bits = bits;
	fill_level(b, root, CF_ROOT_ENTRIES, 0, bits - CF_ROOT_BITS,
		   CF_ROOT_BITS);
}

static void fill_header(uint32_t *w, const struct cf_compiled *c,
			uint64_t generation, size_t nodes_end)
{
	struct cf_image_hdr *h = (struct cf_image_hdr *)w;
	size_t meta_words = c->n_classes * sizeof(struct cf_class_meta) / 4;

	h->magic = CF_IMAGE_MAGIC;
	h->version = CF_IMAGE_VERSION;
	h->n_classes = c->n_classes;
	h->nodes_end = nodes_end;
	h->meta_off = nodes_end;
	h->n_words = nodes_end + meta_words;
	h->malformed = c->malformed;
	h->event_rate = c->event_rate;
	h->event_burst = c->event_burst;
	h->generation = generation;
	h->compiled_at = (uint64_t)time(NULL);
	h->db_built_at = (uint64_t)c->db_built_at;
	memcpy(h->digest, c->digest, sizeof(h->digest));
	memcpy(h->policy_path, c->policy_path, sizeof(h->policy_path));
	h->v4_ranges = c->v4.n;
	h->v6_ranges = c->v6.n;
}

static void fill_classes(uint32_t *w, const struct cf_compiled *c)
{
	size_t i;

	/* Counter slot = class id until the loader maps stable slots. */
	for (i = 0; i < c->n_classes; i++)
		w[CF_CLASS_OFF + i] = CF_CLASS_WORD(c->classes[i].verdict, i);
	memcpy(w + cf_image_hdr(w)->meta_off, c->classes,
	       c->n_classes * sizeof(struct cf_class_meta));
}

int cf_image_build(const struct cf_compiled *c, uint64_t generation,
		   size_t capacity, struct cf_image *img, struct cf_err *e)
{
	struct builder b = { .next = CF_NODES_OFF };
	size_t need;

	if (!capacity)
		capacity = CF_IMAGE_WORDS_DEFAULT;
	if (c->n_classes > CF_CLASS_MAX || !c->v4.n || !c->v6.n)
		return cf_err_set(e, EINVAL, NULL, 0, 0, "bad compiled policy");
	b.w = calloc(capacity, sizeof(uint32_t));
	if (!b.w)
		return cf_err_set(e, ENOMEM, NULL, 0, 0,
				  "out of memory for a %zu-word image", capacity);
	b.cap = capacity;
	build_root(&b, &c->v4, 32, CF_V4_ROOT);
	build_root(&b, &c->v6, 128, CF_V6_ROOT);
	need = b.next + c->n_classes * sizeof(struct cf_class_meta) / 4;
	if (need > capacity || b.next > CF_ENT_BASE_MASK) {
		free(b.w);
		return cf_err_set(e, E2BIG, NULL, 0, 0,
				  "policy tables need %zu words, the image holds %zu",
				  need, capacity);
	}
	fill_header(b.w, c, generation, b.next);
	fill_classes(b.w, c);
	img->w = b.w;
	img->n_words = need;
	img->capacity = capacity;
	img->n_nodes = b.nodes;
	return 0;
}

void cf_image_free(struct cf_image *img)
{
	free(img->w);
	memset(img, 0, sizeof(*img));
}

int cf_image_check(const uint32_t *w, size_t capacity, struct cf_err *e)
{
	const struct cf_image_hdr *h = cf_image_hdr(w);
	size_t meta_words = (size_t)h->n_classes * sizeof(struct cf_class_meta) / 4;

	if (capacity < CF_NODES_OFF || h->magic != CF_IMAGE_MAGIC)
		return cf_err_set(e, EINVAL, NULL, 0, 0, "not a camfence image");
	if (h->version != CF_IMAGE_VERSION)
		return cf_err_set(e, EINVAL, NULL, 0, 0,
				  "image version %u, this camfence reads %u",
				  h->version, CF_IMAGE_VERSION);
	if (h->n_words > capacity || h->n_classes > CF_CLASS_MAX ||
	    h->nodes_end < CF_NODES_OFF || h->meta_off < h->nodes_end ||
	    h->meta_off + meta_words > h->n_words)
		return cf_err_set(e, EINVAL, NULL, 0, 0, "image bounds are broken");
	return 0;
}

static uint32_t entry_at(const uint32_t *w, uint32_t e, uint32_t idx)
{
	size_t i = (size_t)(e & CF_ENT_BASE_MASK) + idx;

	return i < cf_image_hdr(w)->nodes_end ? w[i] : UINT32_MAX;
}

static unsigned stride_of(uint32_t e)
{
	return ((e >> CF_ENT_STRIDE_SHIFT) & CF_ENT_STRIDE_MASK) + 1;
}

uint32_t cf_image_lookup_v4(const uint32_t *w, uint32_t addr)
{
	uint32_t e = w[CF_V4_ROOT + (addr >> (32 - CF_ROOT_BITS))];
	unsigned shift = CF_ROOT_BITS, lvl;

	for (lvl = 0; lvl < CF_V4_MAX_LEVELS && (e & CF_ENT_NODE); lvl++) {
		unsigned s = stride_of(e);
		uint32_t idx = (uint32_t)((uint64_t)addr << shift) >> (32 - s);

		e = entry_at(w, e, idx);
		shift += s;
	}
	return e & CF_ENT_NODE ? UINT32_MAX : e;
}

uint32_t cf_image_lookup_v6(const uint32_t *w, cf_u128 addr)
{
	uint64_t hi = (uint64_t)(addr >> 64), lo = (uint64_t)addr;
	uint32_t e = w[CF_V6_ROOT + (hi >> (64 - CF_ROOT_BITS))];
	unsigned shift = CF_ROOT_BITS, lvl;

	for (lvl = 0; lvl < CF_V6_MAX_LEVELS && (e & CF_ENT_NODE); lvl++) {
		unsigned s = stride_of(e);
		uint64_t half = shift < 64 ? hi << shift : lo << (shift - 64);

		e = entry_at(w, e, (uint32_t)(half >> (64 - s)));
		shift += s;
	}
	return e & CF_ENT_NODE ? UINT32_MAX : e;
}

uint32_t cf_image_lookup(const uint32_t *w, cf_u128 addr, int family)
{
	uint32_t v4;

	if (family == CF_AF_V4)
		return cf_image_lookup_v4(w, (uint32_t)addr);
	if (cf_addr_embedded_v4(addr, &v4))
		return cf_image_lookup_v4(w, v4);
	return cf_image_lookup_v6(w, addr);
}
