// SPDX-License-Identifier: GPL-2.0-only
/*
 * readback.c - an image's trie walked back into merged class ranges.
 *
 * The walk visits entries in address order, so a leaf either extends the
 * last range (same class) or starts the next; the result is merged as
 * cf_compile leaves its ranges and hashes to the same digest.  Only
 * tries the datapath walks to a class are accepted, and each node is
 * visited at most once in total (a budget of the image's node words), so
 * a crafted image whose pointers share nodes cannot make the walk
 * explode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "readback.h"
#include "table.h"

struct walk {
	const uint32_t *w;
	uint32_t nodes_end;
	uint32_t n_classes;
	size_t budget; /* node words not yet visited */
	unsigned bits; /* 32 or 128 */
	unsigned max_levels;
	struct cf_crangelist *l;
	struct cf_err *e;
};

static unsigned stride_of(uint32_t e)
{
	return ((e >> CF_ENT_STRIDE_SHIFT) & CF_ENT_STRIDE_MASK) + 1;
}

static int broken(struct walk *k, uint32_t e, unsigned depth, const char *why)
{
	return cf_err_set(k->e, EINVAL, NULL, 0, 0,
			  "IPv%d trie entry %#x at bit %u: %s",
			  k->bits == 32 ? 4 : 6, e, depth, why);
}

/* Is the node entry e, at depth bits with `level` nodes above it, one
 * the datapath walks (bpf/lookup.h) and within the budget? */
static int check_node(struct walk *k, uint32_t e, unsigned depth,
		      unsigned level)
{
	unsigned s = stride_of(e), rem = k->bits - depth;
	size_t base = e & CF_ENT_BASE_MASK;

	if (level >= k->max_levels)
		return broken(k, e, depth, "deeper than the datapath walks");
	if (s > rem)
		return broken(k, e, depth, "stride runs past the address");
	if (k->bits == 128 && (depth & 63) + s > 64)
		return broken(k, e, depth, "node straddles bit 64");
	if (base < CF_NODES_OFF || base + ((size_t)1 << s) > k->nodes_end)
		return broken(k, e, depth, "node outside the image's nodes");
	if (((size_t)1 << s) > k->budget)
		return broken(k, e, depth, "nodes are shared: not a trie");
	k->budget -= (size_t)1 << s;
	return 0;
}

/* The entry e for the 2^(bits - depth) addresses from first. */
static int walk(struct walk *k, uint32_t e, cf_u128 first, unsigned depth,
		unsigned level)
{
	unsigned rem = k->bits - depth, s;
	size_t base, n;
	int err;

	if (!(e & CF_ENT_NODE)) {
		if (e >= k->n_classes)
			return broken(k, e, depth,
				      "class past the image's classes");
		/* entries come in address order: a leaf follows the last */
		return cf_crange_push(k->l, first,
				      first + ((((cf_u128)1) << rem) - 1), e);
	}
	err = check_node(k, e, depth, level);
	if (err)
		return err;
	s = stride_of(e);
	base = e & CF_ENT_BASE_MASK;
	n = (size_t)1 << s;
	for (size_t i = 0; i < n && !err; i++)
		err = walk(k, k->w[base + i], first + ((cf_u128)i << (rem - s)),
			   depth + s, level + 1);
	return err;
}

static int walk_family(struct walk *k, unsigned bits, size_t root,
		       struct cf_crangelist *l)
{
	int err = 0;

	k->bits = bits;
	k->max_levels = bits == 32 ? CF_V4_MAX_LEVELS : CF_V6_MAX_LEVELS;
	k->l = l;
	for (size_t i = 0; i < CF_ROOT_ENTRIES && !err; i++)
		err = walk(k, k->w[root + i],
			   (cf_u128)i << (bits - CF_ROOT_BITS), CF_ROOT_BITS,
			   0);
	return err;
}

/* Classes as the datapath reads them: the verdict is the class word's. */
static int read_classes(const uint32_t *w, struct cf_compiled *c)
{
	const struct cf_image_hdr *h = cf_image_hdr(w);

	c->classes =
		calloc(h->n_classes ? h->n_classes : 1, sizeof(*c->classes));
	if (!c->classes)
		return -ENOMEM;
	c->n_classes = h->n_classes;
	memcpy(c->classes, cf_image_meta(w),
	       h->n_classes * sizeof(*c->classes));
	for (size_t i = 0; i < c->n_classes; i++)
		c->classes[i].verdict =
			(uint8_t)CF_CLASS_VERDICT(w[CF_CLASS_OFF + i]);
	return 0;
}

static void read_settings(const uint32_t *w, struct cf_compiled *c)
{
	const struct cf_image_hdr *h = cf_image_hdr(w);

	c->malformed = (enum cf_verdict)h->malformed;
	c->event_rate = h->event_rate;
	c->event_burst = h->event_burst;
	c->db_built_at = (time_t)h->db_built_at;
	memcpy(c->policy_path, h->policy_path, sizeof(c->policy_path));
	c->policy_path[sizeof(c->policy_path) - 1] = '\0';
}

int cf_image_readback(const uint32_t *w, size_t capacity,
		      struct cf_compiled **out, struct cf_err *e)
{
	struct cf_compiled *c;
	struct walk k = { .w = w, .e = e };
	int err;

	err = cf_image_check(w, capacity, e);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return cf_err_set(e, ENOMEM, NULL, 0, 0, "out of memory");
	k.nodes_end = cf_image_hdr(w)->nodes_end;
	k.n_classes = cf_image_hdr(w)->n_classes;
	k.budget = k.nodes_end - CF_NODES_OFF;
	err = read_classes(w, c);
	if (!err)
		err = walk_family(&k, 32, CF_V4_ROOT, &c->v4);
	if (!err)
		err = walk_family(&k, 128, CF_V6_ROOT, &c->v6);
	if (err) {
		cf_compiled_free(c);
		if (err == -ENOMEM)
			return cf_err_set(e, ENOMEM, NULL, 0, 0,
					  "out of memory");
		return err;
	}
	read_settings(w, c);
	cf_compiled_digest(c, c->digest);
	*out = c;
	return 0;
}

int cf_image_digest(const uint32_t *w, size_t capacity, uint8_t digest[32],
		    struct cf_err *e)
{
	struct cf_compiled *c;
	int err;

	err = cf_image_readback(w, capacity, &c, e);
	if (err)
		return err;
	memcpy(digest, c->digest, 32);
	cf_compiled_free(c);
	return 0;
}
