// SPDX-License-Identifier: GPL-2.0-only
/*
 * proto_table.c - a prototype of policy/table.c's image builder with a
 * stride schedule, to measure other layouts with the unchanged datapath.
 *
 * camfence.h lets every node carry its own stride (entry bits 26-30), and
 * bpf/lookup.h walks whatever strides it finds, so trying a layout needs
 * only a different builder.  A schedule gives the stride of the node at
 * each level below the root; past its end the last stride repeats.  As in
 * table.c, an IPv6 node never straddles bit 64 and never runs past the
 * address; what is not a stride of the schedule is cut to fit.
 *
 * `cfbench prep --v4-strides 8,8 --v6-strides 8` uses it; without those
 * options prep builds with policy/table.c itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "proto_table.h"

struct pbuilder {
	const struct cf_crangelist *l;
	const struct stride_sched *sched;
	size_t cur;
	uint32_t *w;
	size_t cap, next, nodes;
	unsigned bits;
};

static unsigned sched_stride(const struct pbuilder *b, unsigned level,
			     unsigned depth)
{
	const struct stride_sched *s = b->sched;
	unsigned st = s->stride[level < s->n ? level : s->n - 1];
	unsigned rem = b->bits - depth;

	if (depth < 64 && depth + st > 64)
		st = 64 - depth;
	return st < rem ? st : rem;
}

static uint32_t pblock(struct pbuilder *b, cf_u128 start, unsigned depth,
		       unsigned level);

static uint32_t pnode(struct pbuilder *b, cf_u128 start, unsigned depth,
		      unsigned level)
{
	unsigned rem = b->bits - depth, s = sched_stride(b, level, depth);
	size_t base = b->next, i, n = (size_t)1 << s;

	b->next += n;
	b->nodes++;
	for (i = 0; i < n; i++) {
		uint32_t e = pblock(b, start + ((cf_u128)i << (rem - s)),
				    depth + s, level + 1);

		if (base + i < b->cap)
			b->w[base + i] = e;
	}
	return CF_ENT_NODE | (s - 1) << CF_ENT_STRIDE_SHIFT |
	       ((uint32_t)base & CF_ENT_BASE_MASK);
}

static uint32_t pblock(struct pbuilder *b, cf_u128 start, unsigned depth,
		       unsigned level)
{
	unsigned rem = b->bits - depth;
	cf_u128 last = rem >= 128 ? ~(cf_u128)0 :
				    start + ((((cf_u128)1) << rem) - 1);
	const struct cf_crange *r;

	while (b->l->v[b->cur].last < start)
		b->cur++;
	r = &b->l->v[b->cur];
	if (r->last >= last)
		return r->class;
	return pnode(b, start, depth, level);
}

static void proot(struct pbuilder *b, const struct cf_crangelist *l,
		  const struct stride_sched *s, unsigned bits, size_t root)
{
	size_t i;

	b->l = l;
	b->sched = s;
	b->cur = 0;
	b->bits = bits;
	for (i = 0; i < CF_ROOT_ENTRIES; i++)
		b->w[root + i] = pblock(b, (cf_u128)i << (bits - CF_ROOT_BITS),
					CF_ROOT_BITS, 0);
}

/*
 * Build the image with table.c, then rebuild its tries with the schedules
 * over the same header and classes (the class metadata moves to the new
 * end of the nodes).
 */
int proto_image_build(const struct cf_compiled *c,
		      const struct stride_sched *s4,
		      const struct stride_sched *s6, struct cf_image *img,
		      struct cf_err *e)
{
	struct pbuilder b = { .next = CF_NODES_OFF };
	struct cf_image_hdr *h;
	size_t meta_words = c->n_classes * sizeof(struct cf_class_meta) / 4;
	int err;

	err = cf_image_build(c, 1, 0, img, e);
	if (err)
		return err;
	b.w = img->w;
	b.cap = img->capacity;
	memset(b.w + CF_V4_ROOT, 0, (b.cap - CF_V4_ROOT) * 4);
	proot(&b, &c->v4, s4, 32, CF_V4_ROOT);
	proot(&b, &c->v6, s6, 128, CF_V6_ROOT);
	if (b.next + meta_words > b.cap) {
		cf_image_free(img);
		return cf_err_set(e, E2BIG, NULL, 0, 0,
				  "prototype layout needs %zu words",
				  b.next + meta_words);
	}
	h = (struct cf_image_hdr *)b.w;
	h->nodes_end = b.next;
	h->meta_off = b.next;
	h->n_words = b.next + meta_words;
	memcpy(b.w + b.next, c->classes, meta_words * 4);
	img->n_words = h->n_words;
	img->n_nodes = b.nodes;
	return 0;
}

int stride_sched_parse(const char *s, struct stride_sched *out)
{
	char *end;
	unsigned long v;

	memset(out, 0, sizeof(*out));
	while (*s && out->n < STRIDE_SCHED_MAX) {
		v = strtoul(s, &end, 10);
		if (end == s || v < 1 || v > 24)
			return -EINVAL;
		out->stride[out->n++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	return out->n && !*s ? 0 : -EINVAL;
}
