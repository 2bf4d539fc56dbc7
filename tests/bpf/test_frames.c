// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_frames.c - the malformed-frame run.
 *
 * Random frames, mutated valid frames and valid frames with random
 * addresses go through cf_xdp_ingress, cf_tc_ingress and cf_tc_egress
 * with BPF_PROG_TEST_RUN, and every verdict is held against ref_frame.c,
 * a model written from the datapath's semantics.  Per batch, the global
 * counters (non-IP, malformed, no policy), the counter slot of every
 * class and the event accounting must have moved exactly as the model
 * says; a batch that disagrees is replayed frame by frame to name the
 * frame.  Three setups: an enforcing image (malformed drop), an
 * allow-list image (malformed pass), and no image with on-missing drop.
 *
 * Images come from the normal pipeline: policy text -> cf_policy_parse ->
 * cf_compile (net rules only, no database) -> cf_image_build.
 *
 * CAMFENCE_FRAMES=N frames per setup (default 100000),
 * CAMFENCE_FRAMES_SEED=S (default fixed; "random" picks one).  The seed
 * is printed; frame i of a setup depends only on the seed, so a failure
 * replays with the same seed and any N > i.
 *
 * The kernel part needs root and SKIPs otherwise; the reference's own
 * cases run anywhere.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bpfenv.h"
#include "compile.h"
#include "policy.h"
#include "table.h"
#include "pkt.h"
#include "ref_frame.h"

/* The Makefile builds a test from its one source: the model comes in here. */
#include "ref_frame.c"

#define FRAMES_DEFAULT 100000
#define SEED_DEFAULT 0xc0ffee5eedull
#define BATCH 256
#define SHOW_MAX 8	/* mismatches printed in full per setup */
#define WATCH_MAX 64	/* counter slots watched */
#define GEN 0x4652414d45ull

static const char *const prog_names[N_PROGS] = {
	"cf_xdp_ingress", "cf_tc_ingress", "cf_tc_egress",
};

static const enum cf_dir prog_dir[N_PROGS] = {
	CF_DIR_INGRESS, CF_DIR_INGRESS, CF_DIR_EGRESS,
};

/*
 * Nets of every action in both families.  The IPv6 table's word on the
 * embedded prefixes (2002::/16, 64:ff9b::/96, ::ffff:0:0/96), which nets
 * around them set, is never asked: those addresses are judged by the IPv4
 * nets, which a misjudged frame would show.  (A net wholly inside one is
 * refused by the parser: it could never match.)  10.66/16 and fd66::/16
 * are local ranges an operator named.
 */
static const char policy_enforce[] =
	"default allow\n"
	"malformed drop\n"
	"event-rate 1000000 2000000\n"
	"deny net 0.0.0.0/2 198.51.100.0/24 2001:db8:d00::/40 2a00::/8\n"
	"allow net 32.0.0.0/4 198.51.100.128/25 2001:db8:d00:1::/64 2400::/6\n"
	"monitor net 128.0.0.0/3 203.0.113.0/24 2001:db8:40::/42 2c00::/7\n"
	"deny net 2002::/15 64:ff9b::/64 ::fffe:0:0/95\n"
	"deny net 10.66.0.0/16 fd66::/16\n";

/* Allow-list mode: default deny, malformed frames pass. */
static const char policy_allowlist[] =
	"default deny\n"
	"malformed pass\n"
	"event-rate 1000000 2000000\n"
	"allow net 0.0.0.0/2 2001:db8:d00::/40 2a00::/8 2002::/15\n"
	"allow net 203.0.113.0/24\n"
	"monitor net 128.0.0.0/3 2c00::/7 64:ff9b::/64\n"
	"deny net 10.0.0.0/8 198.51.100.0/24 ::fffe:0:0/95\n";

struct image {
	const char *text;
	struct cf_policy *pol;
	struct cf_image img;	/* policy/table.c's build */
	struct image_map map;	/* what the kernel reads, once loaded */
};

struct env {
	struct bpfenv be;	/* be.skel NULL when not root */
	struct image enforce, allowlist;
	uint64_t seed;
	long frames;
};

/* The frame stream of a setup: the whole run follows from the seed. */
static uint64_t rng;

/* ---- images -------------------------------------------------------------- */

static int image_build(struct image *im, size_t words)
{
	struct cf_compiled *c = NULL;
	struct cf_err err = { 0 };
	char msg[600];
	int ret;

	ret = cf_policy_parse(im->text, strlen(im->text), "frames.conf",
			      &im->pol, &err);
	if (!ret)
		ret = cf_compile(im->pol, NULL, &c, &err);
	if (!ret)
		ret = cf_image_build(c, GEN, words, &im->img, &err);
	if (ret)
		fprintf(stderr, "policy pipeline: %s\n",
			cf_err_str(&err, msg, sizeof(msg)));
	cf_compiled_free(c);
	return ret;
}

static void image_free(struct image *im)
{
	image_unmap(&im->map);
	cf_image_free(&im->img);
	cf_policy_free(im->pol);
}

/* ---- addresses ----------------------------------------------------------- */

struct nets {
	struct cf_prefix v4[32], v6[32];
	size_t n4, n6;
};

static void nets_of(const struct cf_policy *p, struct nets *n)
{
	size_t i, k;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < p->n_rules; i++) {
		const struct cf_rule *r = &p->rules[i];

		for (k = 0; r->match == CF_MATCH_NET && k < r->n_items; k++) {
			const struct cf_prefix *x = &r->items[k].net;

			if (x->family == CF_AF_V4 && n->n4 < 32)
				n->v4[n->n4++] = *x;
			else if (x->family == CF_AF_V6 && n->n6 < 32)
				n->v6[n->n6++] = *x;
		}
	}
}

/* Inside a net, or one of its edges and their neighbours outside. */
static cf_u128 in_net(const struct cf_prefix *x, bool edge)
{
	unsigned host = cf_af_bits(x->family) - x->len;
	cf_u128 mask = host >= 128 ? ~(cf_u128)0 : ((cf_u128)1 << host) - 1;
	cf_u128 first = x->addr, last = x->addr | mask;

	if (!edge)
		return first | (rnd128(&rng) & mask);
	switch (below(&rng, 4)) {
	case 0:
		return first;
	case 1:
		return last;
	case 2:
		return first - 1;
	default:
		return last + 1;
	}
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

static uint32_t pick_v4(const struct nets *n)
{
	static const uint32_t local[] = {
		0x0a420000, 0x0a000000, 0xc0a80000, 0x7f000000, 0xe0000000,
		0x64400000, 0xa9fe0000, 0xffffff00, 0x00000000, 0xac100000,
	};

	switch (below(&rng, 8)) {
	case 0: case 1: case 2:
		return (uint32_t)rnd(&rng);
	case 3: case 4: case 5:
		return (uint32_t)in_net(&n->v4[below(&rng, n->n4)], false);
	case 6:
		return (uint32_t)in_net(&n->v4[below(&rng, n->n4)], true);
	default:
		return local[below(&rng, 10)] | below(&rng, 256);
	}
}

/* IPv6 around the policy's nets, the embedded forms and their near misses. */
static void pick_v6(const struct nets *n, uint8_t b[16])
{
	static const uint8_t nat64[4] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t local[4][2] = {
		{ 0xfd, 0x66 }, { 0xfd, 0x00 }, { 0xfe, 0x80 }, { 0xff, 0x02 },
	};
	cf_u128 a;
	unsigned r = below(&rng, 11);

	memset(b, 0, 16);
	if (r <= 4) {
		a = r == 0 ? rnd128(&rng) :
		    r == 1 ? (rnd128(&rng) >> 3) | (cf_u128)1 << 125 :
			     in_net(&n->v6[below(&rng, n->n6)], r == 4);
		cf_addr_to_bytes(a, CF_AF_V6, b);
		return;
	}
	switch (r) {
	case 5: /* NAT64, sometimes 64:ff9b:1::/48, which is not unwrapped */
		memcpy(b, nat64, 4);
		if (!below(&rng, 4))
			b[5] = 1;
		put32(b + 12, pick_v4(n));
		break;
	case 6: /* IPv4-mapped, sometimes ::fffe:0:0/96 */
		b[10] = 0xff;
		b[11] = below(&rng, 4) ? 0xff : 0xfe;
		put32(b + 12, pick_v4(n));
		break;
	case 7: /* 6to4, sometimes 2003::/16 */
		b[0] = 0x20;
		b[1] = below(&rng, 4) ? 0x02 : 0x03;
		put32(b + 2, pick_v4(n));
		rnd_bytes(&rng, b + 6, 10);
		break;
	case 8:
		b[15] = below(&rng, 3); /* ::, ::1, ::2 */
		break;
	default:
		memcpy(b, local[below(&rng, 4)], 2);
		rnd_bytes(&rng, b + 8, 8);
		break;
	}
}

/*
 * Addresses neighbour discovery uses, and their near misses: fe80::/10
 * and its neighbours fec0:: and fe7f::, ff02:: groups (as `dst`) and
 * ff01::, ff12::, ff0e::.
 */
static void pick_nd(uint8_t b[16], bool dst)
{
	static const uint8_t pre[][2] = {
		{ 0xfe, 0x80 }, { 0xfe, 0xbf }, { 0xfe, 0xc0 }, { 0xfe, 0x7f },
		{ 0xff, 0x02 }, { 0xff, 0x02 }, { 0xff, 0x01 }, { 0xff, 0x12 },
		{ 0xff, 0x0e },
	};
	unsigned k = below(&rng, dst ? 9 : 4);

	memset(b, 0, 16);
	memcpy(b, pre[k], 2);
	if (b[0] == 0xff) {
		/* solicited-node, all-nodes or all-routers */
		b[11] = below(&rng, 2);
		b[12] = b[11] ? 0xff : 0;
		b[15] = b[11] ? (uint8_t)rnd(&rng) : 1 + below(&rng, 2);
	} else {
		rnd_bytes(&rng, b + 8, 8);
	}
}

/* ---- frames -------------------------------------------------------------- */

struct frame {
	struct pkt p;
	char how[120];	/* how it was made, for a mismatch report */
};

static void how(struct frame *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void how(struct frame *f, const char *fmt, ...)
{
	size_t n = strlen(f->how);
	va_list ap;

	if (n >= sizeof(f->how) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(f->how + n, sizeof(f->how) - n, fmt, ap);
	va_end(ap);
}

/*
 * Mostly untagged or one or two tags; one frame in ten has a stack of 3
 * to PKT_MAX_TAGS around the datapath's bound of 8, mostly priority tags
 * (id 0), which the kernel strips without a VLAN device.
 */
static void desc_l2(struct pkt_desc *d)
{
	static const uint8_t tags[18] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
					  1, 1, 1, 1, 1, 2, 2, 2, 2 };
	unsigned r = below(&rng, 20);
	int i;

	d->n_tags = r < 18 ? tags[r] : 3 + below(&rng, PKT_MAX_TAGS - 2);
	for (i = 0; i < d->n_tags; i++) {
		d->tpid[i] = below(&rng, 2) ? TPID_Q : TPID_AD;
		d->vid[i] = d->n_tags > 2 && below(&rng, 4) ?
				    0 : below(&rng, 4096);
	}
}

static void desc_v4(struct pkt_desc *d)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,
					  IPPROTO_ICMP, IPPROTO_GRE,
					  IPPROTO_SCTP, IPPROTO_IPV6 };

	d->proto = protos[below(&rng, sizeof(protos))];
	d->ihl = below(&rng, 2) ? 5 : 5 + below(&rng, 11);
	if (!below(&rng, 5)) {
		d->frag = below(&rng, 2) ? 0 : 1 + below(&rng, 0x1fff);
		d->mf = below(&rng, 2);
	}
}

static void desc_v6(struct pkt_desc *d)
{
	static const uint8_t exts[] = { IPPROTO_HOPOPTS, IPPROTO_ROUTING,
					IPPROTO_DSTOPTS, IPPROTO_FRAGMENT,
					IPPROTO_AH };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,
					  IPPROTO_ICMPV6, IPPROTO_SCTP,
					  IPPROTO_NONE };
	int i;

	d->proto = protos[below(&rng, sizeof(protos))];
	/* ICMPv6 around the neighbour discovery types and hop limit */
	if (d->proto == IPPROTO_ICMPV6) {
		d->icmp_type = 127 + below(&rng, 14);
		d->hop_limit = below(&rng, 2) ? 255 : 1 + below(&rng, 255);
	}
	d->n_ext = below(&rng, 3) ? 0 : 1 + below(&rng, 4);
	for (i = 0; i < d->n_ext; i++)
		d->ext[i] = exts[below(&rng, sizeof(exts))];
	d->frag = below(&rng, 2) ? 0 : below(&rng, 0x1fff);
	d->mf = below(&rng, 2);
}

/* A sound frame of random shape with policy-aware random addresses. */
static void frame_valid(struct frame *f, const struct nets *n)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	struct pkt_desc d = { 0 };
	uint8_t b[16];

	desc_l2(&d);
	d.family = below(&rng, 2) ? 4 : 6;
	if (d.family == 4) {
		desc_v4(&d);
		put32(b, pick_v4(n));
		inet_ntop(AF_INET, b, src, sizeof(src));
		put32(b, pick_v4(n));
		inet_ntop(AF_INET, b, dst, sizeof(dst));
	} else {
		desc_v6(&d);
		pick_v6(n, b);
		if (d.icmp_type && below(&rng, 2))
			pick_nd(b, false);
		inet_ntop(AF_INET6, b, src, sizeof(src));
		pick_v6(n, b);
		if (d.icmp_type && below(&rng, 2))
			pick_nd(b, true);
		inet_ntop(AF_INET6, b, dst, sizeof(dst));
	}
	d.src = src;
	d.dst = dst;
	d.sport = (uint16_t)rnd(&rng);
	d.dport = (uint16_t)rnd(&rng);
	d.payload = below(&rng, 4) ? below(&rng, 24) : below(&rng, 200);
	assert_int_equal(pkt_build(&d, &f->p), 0);
	how(f, "%d tags, ipv%d proto %u", d.n_tags, d.family, pkt_proto(&d));
}

static void frame_random(struct frame *f)
{
	memset(&f->p, 0, sizeof(f->p));
	f->p.len = ETH + below(&rng, 200 - ETH + 1);
	rnd_bytes(&rng, f->p.b, f->p.len);
	how(f, "random");
}

/* Offset of the IP header if the frame is as built: after its tags. */
static size_t l3_off(const struct pkt *p)
{
	size_t off = ETH;
	int i;

	for (i = 0; i < PKT_MAX_TAGS && off + VLAN <= p->len; i++) {
		uint16_t t = p->b[off - 2] << 8 | p->b[off - 1];

		if (t != TPID_Q && t != TPID_AD)
			break;
		off += VLAN;
	}
	return off;
}

static void set16(struct pkt *p, size_t off, uint16_t v)
{
	if (off + 2 <= p->len) {
		p->b[off] = v >> 8;
		p->b[off + 1] = (uint8_t)v;
	}
}

/* Offsets where a change matters most: headers and addresses. */
static size_t hot_off(const struct pkt *p)
{
	size_t hot = l3_off(p) + 48;

	/* three times in four within the headers, else anywhere */
	if (hot < p->len && below(&rng, 4))
		return below(&rng, hot);
	return below(&rng, p->len);
}

static void mut_type(struct frame *f)
{
	static const uint16_t edge[] = {
		0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x0806, 0x88cc,
		0x05dc, 0x0600, 0x0000, 0xffff, 0x0801, 0x86dc, 0x8847,
	};
	/* the ethertype or any TPID before it */
	size_t off = 12 + VLAN * below(&rng, (l3_off(&f->p) - ETH) / VLAN + 1);
	uint16_t v = edge[below(&rng, sizeof(edge) / sizeof(edge[0]))];

	set16(&f->p, off, v);
	how(f, ", type@%zu=%#06x", off, v);
}

static void mut_tot_len(struct frame *f)
{
	size_t l3 = l3_off(&f->p);
	unsigned hl = l3 < f->p.len ? (f->p.b[l3] & 0xf) * 4 : 20;
	unsigned l3len = f->p.len > l3 ? f->p.len - l3 : 0;
	const uint16_t edge[] = {
		0, 1, 19, 20, hl - 1, hl, hl + 1, l3len - 1, l3len, l3len + 1,
		0xffff, (uint16_t)rnd(&rng),
	};
	uint16_t v = edge[below(&rng, sizeof(edge) / sizeof(edge[0]))];

	set16(&f->p, l3 + 2, v);
	how(f, ", tot_len=%u", v);
}

static void mut_nibble(struct frame *f, bool high)
{
	size_t l3 = l3_off(&f->p);
	uint8_t v = below(&rng, 16);

	if (l3 >= f->p.len)
		return;
	if (high)
		f->p.b[l3] = (uint8_t)(v << 4 | (f->p.b[l3] & 0xf));
	else
		f->p.b[l3] = (uint8_t)((f->p.b[l3] & 0xf0) | v);
	how(f, ", %s=%u", high ? "version" : "ihl", v);
}

static void mut_cut(struct frame *f)
{
	size_t l3 = l3_off(&f->p), len;

	if (below(&rng, 2))
		len = ETH + below(&rng, f->p.len - ETH + 1);
	else
		len = l3 - below(&rng, 5) + below(&rng, 64);
	if (len < ETH || len > f->p.len)
		return;
	f->p.len = len;
	how(f, ", cut %zu", len);
}

static void mutate_one(struct frame *f)
{
	struct pkt *p = &f->p;
	size_t off, l3;

	switch (below(&rng, 9)) {
	case 0:
		off = hot_off(p);
		p->b[off] ^= 1u << (off % 8);
		how(f, ", flip %zu.%zu", off, off % 8);
		break;
	case 1:
		off = hot_off(p);
		p->b[off] = (uint8_t)rnd(&rng);
		how(f, ", byte %zu=%#04x", off, p->b[off]);
		break;
	case 2:
		mut_cut(f);
		break;
	case 3:
		mut_type(f);
		break;
	case 4:
		mut_nibble(f, true);
		break;
	case 5:
		mut_nibble(f, false);
		break;
	case 6:
		mut_tot_len(f);
		break;
	case 7:
		l3 = l3_off(p);
		if (l3 < p->len)
			rnd_bytes(&rng, p->b + l3, p->len - l3);
		how(f, ", random l3");
		break;
	default: /* an address inside IPv6 set to an embedded form */
		l3 = l3_off(p) + (below(&rng, 2) ? 8 : 24);
		if (l3 + 12 <= p->len) {
			memcpy(p->b + l3, (const uint8_t[]){ 0, 0x64, 0xff,
							   0x9b },
			       4);
			memset(p->b + l3 + 4, 0, 8);
		}
		how(f, ", nat64@%zu", l3);
		break;
	}
}

static void frame_mutated(struct frame *f, const struct nets *n)
{
	int i, k = 1 + below(&rng, 3);

	frame_valid(f, n);
	how(f, ", mutated");
	for (i = 0; i < k; i++)
		mutate_one(f);
}

/* One frame of the mix: a quarter random, 40% mutated, the rest sound. */
static void frame_make(struct frame *f, const struct nets *n)
{
	unsigned r = below(&rng, 100);

	f->how[0] = 0;
	if (r < 25)
		frame_random(f);
	else if (r < 65)
		frame_mutated(f, n);
	else
		frame_valid(f, n);
}

/* ---- counters ------------------------------------------------------------ */

struct counts {
	struct cf_counter stat[CF_STAT_MAX];
	struct cf_counter slot[WATCH_MAX];
};

/* One setup of the run and what it found. */
struct setup {
	const char *name;
	const struct image *im;	/* installed; NULL: none */
	uint32_t on_missing;
	uint64_t salt;		/* its own frame stream */
	struct nets nets;
	uint32_t watch[WATCH_MAX]; /* counter slots of the classes */
	size_t n_watch;
	bool events;		/* the image asks for events */
	bool quiet;		/* replaying: no tallies, no reports */
	uint64_t runs, mismatches, counter_bad, drops, embedded;
	uint64_t deep;		/* judged behind more than two tags */
	uint64_t too_deep;	/* malformed for more than eight */
	uint64_t refused;	/* TC runs the kernel would not make */
	uint64_t kinds[REF_NDP + 1];
};

static void snap(const struct env *e, const struct setup *s, struct counts *c)
{
	counters_read(&e->be, s->watch, s->n_watch, c->slot, c->stat);
}

/* Every counter slot a class of the image names. */
static void watch_slots(struct setup *s, const struct image *im)
{
	const uint32_t *w = im->img.w;
	uint32_t c, k, slot;

	s->n_watch = 0;
	for (c = 0; c < cf_image_hdr(w)->n_classes; c++) {
		slot = CF_CLASS_COUNTER(w[CF_CLASS_OFF + c]);
		for (k = 0; k < s->n_watch && s->watch[k] != slot; k++)
			;
		if (k == s->n_watch) {
			assert_true(s->n_watch < WATCH_MAX);
			s->watch[s->n_watch++] = slot;
		}
	}
}

static struct cf_counter *watched(struct setup *s, struct counts *x,
				  uint32_t slot)
{
	size_t i;

	for (i = 0; i < s->n_watch; i++)
		if (s->watch[i] == slot)
			return &x->slot[i];
	fail_msg("reference names counter slot %u, not a class's", slot);
	return NULL;
}

/*
 * What one verdict of the reference adds to the counters.  Every drop or
 * monitor verdict with events on ends in exactly one of the three event
 * stats; their sum is kept in x->stat[CF_STAT_EVENTS].
 */
static void expect_add(struct setup *s, const struct ref_result *r,
		       size_t len, struct counts *x)
{
	static const int stat_of[] = {
		[REF_NON_IP] = CF_STAT_NON_IP,
		[REF_NO_POLICY] = CF_STAT_NO_POLICY,
		[REF_MALFORMED] = CF_STAT_MALFORMED,
		[REF_NDP] = CF_STAT_NDP,
	};
	struct cf_counter *c;

	c = r->kind == REF_JUDGED ? watched(s, x, r->slot) :
				    &x->stat[stat_of[r->kind]];
	c->packets++;
	c->bytes += len;
	if (s->events &&
	    (r->kind == REF_MALFORMED || r->kind == REF_JUDGED) &&
	    (r->verdict == CF_VERDICT_DROP ||
	     r->verdict == CF_VERDICT_MONITOR)) {
		x->stat[CF_STAT_EVENTS].packets++;
		x->stat[CF_STAT_EVENTS].bytes += len;
	}
}

static struct cf_counter delta(const struct cf_counter *a,
			       const struct cf_counter *b)
{
	return (struct cf_counter){ b->packets - a->packets,
				    b->bytes - a->bytes };
}

static int counter_cmp(const char *what, struct cf_counter got,
		       const struct cf_counter *want, bool quiet)
{
	if (got.packets == want->packets && got.bytes == want->bytes)
		return 0;
	if (!quiet)
		fprintf(stderr, "    %s: +%llu packets +%llu bytes, reference +%llu +%llu\n",
			what, (unsigned long long)got.packets,
			(unsigned long long)got.bytes,
			(unsigned long long)want->packets,
			(unsigned long long)want->bytes);
	return 1;
}

/* 0 when the counters moved from a to b exactly as x says. */
static int counts_check(const struct setup *s, const struct counts *a,
			const struct counts *b, const struct counts *x,
			bool quiet)
{
	static const char *const names[] = {
		[CF_STAT_NON_IP] = "stat non-ip",
		[CF_STAT_MALFORMED] = "stat malformed",
		[CF_STAT_NO_POLICY] = "stat no-policy",
		[CF_STAT_EVENTS] = "stats events+suppressed+lost",
		[CF_STAT_NDP] = "stat ndp",
	};
	struct cf_counter ev = { 0 }, d;
	char what[32];
	int bad = 0, i;

	for (i = 0; i < CF_STAT_MAX; i++) {
		d = delta(&a->stat[i], &b->stat[i]);
		if (i >= CF_STAT_EVENTS && i <= CF_STAT_EVENTS_LOST) {
			ev.packets += d.packets;
			ev.bytes += d.bytes;
			continue;
		}
		bad |= counter_cmp(names[i], d, &x->stat[i], quiet);
	}
	bad |= counter_cmp(names[CF_STAT_EVENTS], ev, &x->stat[CF_STAT_EVENTS],
			   quiet);
	for (i = 0; i < (int)s->n_watch; i++) {
		snprintf(what, sizeof(what), "slot %u", s->watch[i]);
		bad |= counter_cmp(what, delta(&a->slot[i], &b->slot[i]),
				   &x->slot[i], quiet);
	}
	return bad;
}

/* ---- running frames ------------------------------------------------------ */

/*
 * Frames the kernel will not make an skb of for a TC test run: since the
 * syzbot fix to bpf_prog_test_run_skb (in 6.18 here), an untagged IPv4
 * or IPv6 ethertype must be followed by the whole fixed IP header.  XDP
 * still sees them.
 */
static bool tc_refused(const struct pkt *p)
{
	uint16_t type = p->b[12] << 8 | p->b[13];

	return (type == ETH_P_IP && p->len < ETH + IP4) ||
	       (type == ETH_P_IPV6 && p->len < ETH + IP6);
}

static const char *ret_str(enum prog_id id, int ret)
{
	if (ret == prog_retval(id, true))
		return "drop";
	return ret == prog_retval(id, false) ? "pass" : "other";
}

static void reference(const struct setup *s, const struct pkt *p,
		      enum prog_id id, struct ref_result *r)
{
	struct ref_input in = {
		.frame = p->b,
		.caplen = p->len,
		.frame_len = p->len,
		.dir = prog_dir[id],
		.img = s->im ? s->im->img.w : NULL,
		.on_missing = s->on_missing,
	};

	ref_frame(&in, r);
}

static void mismatch_show(const struct setup *s, const struct frame *f,
			  long idx, enum prog_id id, int ret,
			  const struct ref_result *r)
{
	fprintf(stderr, "MISMATCH [%s] frame %ld (%s), %s: datapath %s (%d), reference %s\n"
		"  reference: %s\n  frame, %zu bytes:\n",
		s->name, idx, f->how, prog_names[id], ret_str(id, ret), ret,
		r->drop ? "drop" : "pass", r->why, f->p.len);
	pkt_hexdump(stderr, &f->p);
}

static void tally(struct setup *s, const struct ref_result *r)
{
	s->runs++;
	s->kinds[r->kind]++;
	s->drops += r->drop;
	s->embedded += r->embedded;
	s->deep += r->kind != REF_MALFORMED && r->tags > 2;
	s->too_deep += r->kind == REF_MALFORMED && r->tags > 8;
}

/* One frame through the three programs, each verdict checked. */
static void frame_check(const struct env *e, struct setup *s,
			const struct frame *f, long idx, struct counts *x)
{
	struct ref_result r;
	int id, ret;

	for (id = 0; id < N_PROGS; id++) {
		reference(s, &f->p, id, &r);
		ret = prog_run(&e->be, id, &f->p, 1);
		if (ret == -EINVAL && id != XDP && tc_refused(&f->p)) {
			s->refused += !s->quiet;
			continue;
		}
		if (ret < 0) {
			pkt_hexdump(stderr, &f->p);
			fail_msg("[%s] frame %ld (%s): %s test run: %s",
				 s->name, idx, f->how, prog_names[id],
				 strerror(-ret));
		}
		expect_add(s, &r, f->p.len, x);
		if (s->quiet)
			continue;
		tally(s, &r);
		if (ret != prog_retval(id, r.drop) &&
		    s->mismatches++ < SHOW_MAX)
			mismatch_show(s, f, idx, id, ret, &r);
	}
}

/* A batch whose counters disagreed, frame by frame, to name the frames. */
static void batch_replay(const struct env *e, struct setup *s,
			 const struct frame *fr, size_t n, long base)
{
	struct counts a, b, x;
	struct ref_result r;
	int shown = 0, id;
	size_t i;

	s->quiet = true;
	for (i = 0; i < n && shown < 3; i++) {
		memset(&x, 0, sizeof(x));
		snap(e, s, &a);
		frame_check(e, s, &fr[i], base + i, &x);
		ring_buffer__consume(e->be.rb);
		snap(e, s, &b);
		if (!counts_check(s, &a, &b, &x, true))
			continue;
		shown++;
		fprintf(stderr, "COUNTERS [%s] frame %ld (%s), %zu bytes:\n",
			s->name, base + (long)i, fr[i].how, fr[i].p.len);
		counts_check(s, &a, &b, &x, false);
		for (id = 0; id < N_PROGS; id++) {
			reference(s, &fr[i].p, id, &r);
			fprintf(stderr, "  %s, reference: %s\n",
				prog_names[id], r.why);
		}
		pkt_hexdump(stderr, &fr[i].p);
	}
	s->quiet = false;
}

static void batch_run(const struct env *e, struct setup *s,
		      const struct frame *fr, size_t n, long base)
{
	struct counts a, b, x;
	size_t i;

	memset(&x, 0, sizeof(x));
	snap(e, s, &a);
	for (i = 0; i < n; i++)
		frame_check(e, s, &fr[i], base + i, &x);
	/* keep the ring from filling: events past it would count as lost */
	ring_buffer__consume(e->be.rb);
	snap(e, s, &b);
	if (!counts_check(s, &a, &b, &x, true))
		return;
	if (s->counter_bad++ < SHOW_MAX) {
		fprintf(stderr, "COUNTERS [%s] batch of frames %ld-%ld disagree:\n",
			s->name, base, base + (long)n - 1);
		counts_check(s, &a, &b, &x, false);
		batch_replay(e, s, fr, n, base);
	}
}

/* ---- the three setups ---------------------------------------------------- */

static void setup_report(const struct setup *s, long frames, double secs)
{
	printf("[%s] %ld frames, %llu runs (%llu refused by TC test runs) in %.2f s: %llu non-ip, %llu malformed (%llu too many tags), %llu no-policy, %llu judged (%llu embedded), %llu behind 3+ tags, %llu ndp, %llu drops; %llu verdict mismatches, %llu counter mismatches\n",
	       s->name, frames, (unsigned long long)s->runs,
	       (unsigned long long)s->refused, secs,
	       (unsigned long long)s->kinds[REF_NON_IP],
	       (unsigned long long)s->kinds[REF_MALFORMED],
	       (unsigned long long)s->too_deep,
	       (unsigned long long)s->kinds[REF_NO_POLICY],
	       (unsigned long long)s->kinds[REF_JUDGED],
	       (unsigned long long)s->embedded,
	       (unsigned long long)s->deep,
	       (unsigned long long)s->kinds[REF_NDP],
	       (unsigned long long)s->drops,
	       (unsigned long long)s->mismatches,
	       (unsigned long long)s->counter_bad);
}

/* A run too uniform to mean anything is a broken generator. */
static void coverage_check(const struct setup *s, long frames)
{
	if (frames < 1000)
		return;
	assert_true(s->kinds[REF_NON_IP] > 0);
	assert_true(s->kinds[REF_NDP] > 0);
	assert_true(s->deep > 0);
	assert_true(s->drops > 0 && s->drops < s->runs);
	if (!s->im) {
		assert_true(s->kinds[REF_NO_POLICY] > 0);
		return;
	}
	assert_true(s->kinds[REF_MALFORMED] > (uint64_t)frames / 20);
	assert_true(s->too_deep > 0);
	assert_true(s->kinds[REF_JUDGED] > (uint64_t)frames / 5);
	assert_true(s->embedded > 0);
}

static void setup_run(struct env *e, struct setup *s)
{
	static struct frame fr[BATCH]; /* fail_msg() jumps past any free() */
	uint64_t t0 = mono_ns();
	long done, n, i;

	if (!e->be.skel)
		skip();
	assert_int_equal(policy_install(&e->be, s->im ? s->im->map.fd : -1), 0);
	config_set(&e->be, s->on_missing, 0);
	nets_of(e->enforce.pol, &s->nets);
	watch_slots(s, s->im ? s->im : &e->enforce);
	s->events = s->im && cf_image_hdr(s->im->img.w)->event_rate;
	rng = (e->seed ^ s->salt) ? e->seed ^ s->salt : 1;

	for (done = 0; done < e->frames; done += n) {
		n = e->frames - done < BATCH ? e->frames - done : BATCH;
		for (i = 0; i < n; i++)
			frame_make(&fr[i], &s->nets);
		batch_run(e, s, fr, n, done);
	}
	setup_report(s, e->frames, (mono_ns() - t0) / 1e9);
	if (s->mismatches || s->counter_bad)
		fail_msg("[%s] seed %#llx: %llu verdict and %llu counter mismatches",
			 s->name, (unsigned long long)e->seed,
			 (unsigned long long)s->mismatches,
			 (unsigned long long)s->counter_bad);
	coverage_check(s, e->frames);
}

static void test_frames_enforce(void **state)
{
	struct env *e = *state;
	struct setup s = { .name = "enforce", .im = &e->enforce,
			   .on_missing = CF_VERDICT_PASS, .salt = 1 };

	setup_run(e, &s);
}

static void test_frames_allowlist(void **state)
{
	struct env *e = *state;
	struct setup s = { .name = "allow-list, malformed pass",
			   .im = &e->allowlist,
			   .on_missing = CF_VERDICT_PASS, .salt = 2 };

	setup_run(e, &s);
}

static void test_frames_no_image(void **state)
{
	struct env *e = *state;
	struct setup s = { .name = "no image, on-missing drop",
			   .on_missing = CF_VERDICT_DROP, .salt = 3 };

	setup_run(e, &s);
}

/* ---- the reference's own cases ------------------------------------------- */

struct ref_case {
	const char *name;
	struct pkt_desc d;
	enum cf_dir dir;
	size_t frame_len;	/* 0: as built */
	bool no_image;		/* on-missing drop */
	enum ref_kind kind;
	bool drop;
	bool embedded;
};

#define TAGS1 .n_tags = 1, .tpid = { TPID_Q }
#define TAGS2 .n_tags = 2, .tpid = { TPID_AD, TPID_Q }
#define TAGS3 .n_tags = 3, .tpid = { TPID_AD, TPID_Q, TPID_Q }
#define PRIO(n)                                                           \
	.n_tags = (n), .tpid = { TPID_Q, TPID_AD, TPID_Q, TPID_Q, TPID_AD, \
				 TPID_Q, TPID_Q, TPID_Q, TPID_Q, TPID_Q }
#define NDP(type) .proto = IPPROTO_ICMPV6, .icmp_type = (type), .hop_limit = 255
#define IN CF_DIR_INGRESS
#define OUT CF_DIR_EGRESS
#define DENY4 "1.2.3.4"	    /* deny 0.0.0.0/2 */
#define ALLOW4 "32.0.0.1"   /* allow 32.0.0.0/4 */
#define MON4 "128.0.0.1"    /* monitor 128.0.0.0/3 */

/* What the enforcing policy means, written out by hand. */
static const struct ref_case ref_cases[] = {
	{ "arp", { .family = 0, .ethertype = ETH_P_ARP }, IN, 0, false,
	  REF_NON_IP, false },
	{ "802.3 length field", { .family = 0, .ethertype = 0x05dc }, IN, 0,
	  false, REF_NON_IP, false },
	{ "deny, two tags", { TAGS2, V4(NULL, DENY4) }, IN, 0, false,
	  REF_JUDGED, true },
	{ "three tags, deny", { TAGS3, V4(NULL, DENY4) }, IN, 0, false,
	  REF_JUDGED, true },
	{ "eight priority tags, deny", { PRIO(8), V6(NULL, "2a00::1") }, IN,
	  0, false, REF_JUDGED, true },
	{ "eight priority tags, allow", { PRIO(8), V4(NULL, ALLOW4) }, OUT,
	  0, false, REF_JUDGED, false },
	{ "nine priority tags: malformed", { PRIO(9), V4(NULL, ALLOW4) }, IN,
	  0, false, REF_MALFORMED, true },
	{ "nine tags, no image", { PRIO(9), V4(NULL, ALLOW4) }, IN, 0, true,
	  REF_NO_POLICY, true },
	{ "arp behind eight tags", { PRIO(8), .family = 0,
	  .ethertype = ETH_P_ARP }, IN, 0, false, REF_NON_IP, false },
	{ "arp behind nine tags", { PRIO(9), .family = 0,
	  .ethertype = ETH_P_ARP }, IN, 0, false, REF_MALFORMED, true },
	{ "sixth tag cut", { PRIO(7), V4(NULL, ALLOW4),
	  .cut = ETH + 5 * VLAN + 3 }, IN, 0, false, REF_MALFORMED, true },
	{ "ns to a denied address", { V6(NULL, "2a00::1"), NDP(135) }, IN, 0,
	  false, REF_JUDGED, true },
	{ "na to fe80::", { V6("2a00::1", "fe80::1"), NDP(136) }, IN, 0,
	  false, REF_NDP, false },
	{ "ns to a solicited-node group", { V6(NULL, "ff02::1:ff00:1"),
	  NDP(135) }, IN, 0, false, REF_NDP, false },
	{ "ns to ff0e::1 is judged", { V6(NULL, "ff0e::1"), NDP(135) }, IN,
	  0, false, REF_JUDGED, false },
	{ "ns from fe80:: to a denied address", { V6("fe80::1", "2a00::1"),
	  NDP(135) }, IN, 0, false, REF_JUDGED, true },
	{ "egress ra from fe80::", { V6("fe80::1", "2400::1"), NDP(134) },
	  OUT, 0, false, REF_NDP, false },
	{ "egress na between global addresses", { V6("2a00::1", "2400::1"),
	  NDP(136) }, OUT, 0, false, REF_JUDGED, true },
	{ "hop limit 254 to fe80:: is judged", { V6(NULL, "fe80::1"),
	  .proto = IPPROTO_ICMPV6, .icmp_type = 135, .hop_limit = 254 }, IN,
	  0, false, REF_JUDGED, false },
	{ "tag cut", { TAGS1, V4(NULL, DENY4), .cut = ETH + 2 }, IN, 0, false,
	  REF_MALFORMED, true },
	{ "second tag cut", { TAGS2, V4(NULL, DENY4), .cut = ETH + VLAN + 3 },
	  IN, 0, false, REF_MALFORMED, true },
	{ "ihl 4", { V4(NULL, ALLOW4), .ihl = 4 }, IN, 0, false,
	  REF_MALFORMED, true },
	{ "ihl 15, options cut", { V4(NULL, ALLOW4), .ihl = 15,
	  .cut = ETH + 59 }, IN, 0, false, REF_MALFORMED, true },
	{ "ipv4 cut at 19", { V4(NULL, ALLOW4), .cut = ETH + 19 }, IN, 0,
	  false, REF_MALFORMED, true },
	{ "version 6 in ipv4", { V4(NULL, ALLOW4), .version = 6 }, IN, 0,
	  false, REF_MALFORMED, true },
	{ "tot_len 19", { V4(NULL, ALLOW4), .tot_len_set = true,
	  .tot_len = 19 }, IN, 0, false, REF_MALFORMED, true },
	{ "tot_len 20", { V4(NULL, DENY4), .tot_len_set = true,
	  .tot_len = 20 }, IN, 0, false, REF_JUDGED, true },
	{ "tot_len 0", { V4(NULL, ALLOW4), .tot_len_set = true }, IN, 0,
	  false, REF_MALFORMED, true },
	{ "tot_len 0, BIG TCP", { V4(NULL, ALLOW4), .tot_len_set = true },
	  IN, 70000, false, REF_JUDGED, false },
	{ "tot_len 0, 64 KiB exactly", { V4(NULL, ALLOW4),
	  .tot_len_set = true }, IN, 65535, false, REF_MALFORMED, true },
	{ "ipv6 cut at 39", { V6(NULL, "2400::1"), .cut = ETH + 39 }, IN, 0,
	  false, REF_MALFORMED, true },
	{ "version 4 in ipv6", { V6(NULL, "2400::1"), .version = 4 }, IN, 0,
	  false, REF_MALFORMED, true },
	{ "v6 deny", { V6(NULL, "2a00::1") }, IN, 0, false, REF_JUDGED, true },
	{ "v6 monitor", { V6(NULL, "2c00::1") }, IN, 0, false, REF_JUDGED,
	  false },
	{ "nat64 of a denied v4", { V6(NULL, "64:ff9b::1.2.3.4") }, IN, 0,
	  false, REF_JUDGED, true, true },
	{ "6to4 of an allowed v4", { V6(NULL, "2002:2000:1::1") }, IN, 0,
	  false, REF_JUDGED, false, true },
	{ "mapped monitor v4", { V6(NULL, "::ffff:128.0.0.1") }, IN, 0,
	  false, REF_JUDGED, false, true },
	{ "64:ff9b:1::/48 is not unwrapped", { V6(NULL, "64:ff9b:1::1.2.3.4") },
	  IN, 0, false, REF_JUDGED, false, false },
	{ "ingress judges the destination", { V4(DENY4, ALLOW4) }, IN, 0,
	  false, REF_JUDGED, false },
	{ "egress judges the source", { V4(DENY4, ALLOW4) }, OUT, 0, false,
	  REF_JUDGED, true },
	{ "egress, v6 source", { V6("2a00::1", "2400::1") }, OUT, 0, false,
	  REF_JUDGED, true },
	{ "local range named by a rule", { V4(NULL, "10.66.1.1") }, IN, 0,
	  false, REF_JUDGED, true },
	{ "local range", { V4(NULL, "10.1.1.1") }, IN, 0, false, REF_JUDGED,
	  false },
	{ "no image", { V4(NULL, ALLOW4) }, IN, 0, true, REF_NO_POLICY, true },
	{ "no image, malformed", { V4(NULL, ALLOW4), .ihl = 3 }, IN, 0, true,
	  REF_NO_POLICY, true },
	{ "no image, tag cut", { TAGS1, V4(NULL, DENY4), .cut = ETH + 2 }, IN,
	  0, true, REF_NO_POLICY, true },
	{ "no image, arp", { .family = 0, .ethertype = ETH_P_ARP }, IN, 0,
	  true, REF_NON_IP, false },
	{ "monitor passes", { V4(NULL, MON4) }, IN, 0, false, REF_JUDGED,
	  false },
};

static void test_reference_cases(void **state)
{
	struct env *e = *state;
	const struct ref_case *c;
	struct ref_result r;
	struct pkt p;
	int fails = 0;
	size_t i;

	for (i = 0; i < sizeof(ref_cases) / sizeof(ref_cases[0]); i++) {
		c = &ref_cases[i];
		assert_int_equal(pkt_build(&c->d, &p), 0);
		ref_frame(&(struct ref_input){
				  .frame = p.b, .caplen = p.len,
				  .frame_len = c->frame_len ?: p.len,
				  .dir = c->dir,
				  .img = c->no_image ? NULL : e->enforce.img.w,
				  .on_missing = CF_VERDICT_DROP },
			  &r);
		if (r.kind == c->kind && r.drop == c->drop &&
		    r.embedded == c->embedded)
			continue;
		fprintf(stderr, "FAIL %s: %s %s%s, want %s %s%s\n  %s\n",
			c->name, ref_kind_str(r.kind), r.drop ? "drop" : "pass",
			r.embedded ? " embedded" : "", ref_kind_str(c->kind),
			c->drop ? "drop" : "pass",
			c->embedded ? " embedded" : "", r.why);
		fails++;
	}
	assert_int_equal(fails, 0);
}

/* ---- environment --------------------------------------------------------- */

/* Load the skeleton; nothing is pinned or attached. */
static int env_load(struct env *e)
{
	/* events are only drained: past a full ring they count as lost */
	return bpfenv_open(&e->be, 0) ?: bpfenv_events(&e->be, NULL, NULL);
}

static int params_get(struct env *e)
{
	const char *s = getenv("CAMFENCE_FRAMES_SEED");
	const char *n = getenv("CAMFENCE_FRAMES");
	char *end;

	e->seed = SEED_DEFAULT;
	if (s && !strcmp(s, "random")) {
		if (getrandom(&e->seed, sizeof(e->seed), 0) != sizeof(e->seed))
			e->seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	} else if (s && *s) {
		e->seed = strtoull(s, &end, 0);
		if (*end) {
			fprintf(stderr, "CAMFENCE_FRAMES_SEED='%s': not a number or \"random\"\n", s);
			return -EINVAL;
		}
	}
	e->frames = FRAMES_DEFAULT;
	if (n && *n) {
		e->frames = strtol(n, &end, 0);
		if (*end || e->frames < 1) {
			fprintf(stderr, "CAMFENCE_FRAMES='%s': not a positive number\n", n);
			return -EINVAL;
		}
	}
	return 0;
}

static int group_setup(void **state)
{
	static struct env env;
	uint32_t words;
	int err;

	env.enforce = (struct image){ .text = policy_enforce };
	env.allowlist = (struct image){ .text = policy_allowlist };
	*state = &env;
	if (params_get(&env))
		return -1;
	if (geteuid() == 0) {
		err = env_load(&env);
		if (err) {
			fprintf(stderr, "cannot load the datapath: %s\n",
				strerror(-err));
			return -1;
		}
	} else {
		printf("SKIP frame runs: loading BPF programs needs root\n");
	}
	words = env.be.skel ? env.be.words : 0;
	err = image_build(&env.enforce, words);
	if (!err)
		err = image_build(&env.allowlist, words);
	if (!err && env.be.skel)
		err = image_load(&env.be, &env.enforce.img, &env.enforce.map);
	if (!err && env.be.skel)
		err = image_load(&env.be, &env.allowlist.img,
				 &env.allowlist.map);
	if (err)
		return -1;
	printf("seed %#llx (CAMFENCE_FRAMES_SEED), %ld frames per setup (CAMFENCE_FRAMES)\n",
	       (unsigned long long)env.seed, env.frames);
	return 0;
}

static int group_teardown(void **state)
{
	struct env *e = *state;

	image_free(&e->enforce);
	image_free(&e->allowlist);
	bpfenv_close(&e->be);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_cases),
		cmocka_unit_test(test_frames_enforce),
		cmocka_unit_test(test_frames_allowlist),
		cmocka_unit_test(test_frames_no_image),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
