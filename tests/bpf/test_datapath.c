// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_datapath.c - the real BPF programs through BPF_PROG_TEST_RUN.
 *
 * The skeleton is loaded (never pinned, never attached), images are built
 * here word by word as camfence.h lays them out, or by policy/table.c from
 * hand-made compiled ranges, and crafted frames are run through
 * cf_xdp_ingress, cf_tc_ingress and cf_tc_egress.  Each record states the
 * frame, the program, the setup and what must follow: the verdict, the
 * counter slot that counts the frame, the global stat, the event.  A
 * record that fails prints its frame in hex and the rest still run.
 *
 * Runs as root.  The process pins itself to one CPU so that the per-CPU
 * token bucket every run sees is the same one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfenv.h"
#include "table.h"
#include "pkt.h"

/* Classes of the hand-built image and the counter slots they use. */
enum {
	C_DEFAULT = CF_CLASS_DEFAULT,
	C_LOCAL = CF_CLASS_LOCAL,
	C_DENY,
	C_MON,
	C_ALLOW,
	C_DENY6,
	C_N,
};

#define SLOT(c) (100 + (c))
#define ST(stat) ((stat) + 1) /* 0 = no stat expected */
#define GEN 0x1122334455667788ull
#define EV_MAX 64

static const uint32_t watched_slots[] = {
	0, SLOT(C_DEFAULT), SLOT(C_LOCAL), SLOT(C_DENY),
	SLOT(C_MON), SLOT(C_ALLOW), SLOT(C_DENY6),
};
#define N_WATCHED (sizeof(watched_slots) / sizeof(watched_slots[0]))

static const char *const prog_names[] = { "xdp", "tc-ingress", "tc-egress" };

enum setup {
	S_STD,		/* malformed pass, events on, on_missing pass */
	S_MALF_DROP,
	S_MALF_MON,
	S_NOPOL_PASS,
	S_NOPOL_DROP,
	S_NOEV,		/* event_rate 0 */
	S_DEFDENY,	/* default class drops: allow-list mode */
};

struct env {
	struct bpfenv be;
	struct image_map img;	/* the hand-built image */
	int live_fd;		/* what cf_policy[0] holds, -1 for nothing */
	struct cf_event ev[EV_MAX];
	int n_ev;		/* kept in ev[] */
	int n_ev_seen;		/* all consumed */
};

/* ---- maps ------------------------------------------------------------ */

static int on_event(void *ctx, void *data, size_t len)
{
	struct env *e = ctx;

	if (len == sizeof(struct cf_event) && e->n_ev < EV_MAX)
		memcpy(&e->ev[e->n_ev++], data, len);
	e->n_ev_seen++;
	return 0;
}

static void events_drain(struct env *e)
{
	ring_buffer__consume(e->be.rb);
	e->n_ev = 0;
	e->n_ev_seen = 0;
}

struct snap {
	struct cf_counter slot[N_WATCHED];
	struct cf_counter stat[CF_STAT_MAX];
};

static void snap_take(struct env *e, struct snap *s)
{
	counters_read(&e->be, watched_slots, N_WATCHED, s->slot, s->stat);
}

static uint64_t stat_delta(const struct snap *a, const struct snap *b, int st)
{
	return b->stat[st].packets - a->stat[st].packets;
}

/* What one counter slot gained between two snapshots. */
static struct cf_counter slot_diff(const struct snap *a, const struct snap *b,
				   uint32_t slot)
{
	struct cf_counter d = { 0 };
	unsigned i;

	for (i = 0; i < N_WATCHED; i++) {
		if (watched_slots[i] == slot) {
			d.packets = b->slot[i].packets - a->slot[i].packets;
			d.bytes = b->slot[i].bytes - a->slot[i].bytes;
			return d;
		}
	}
	fail_msg("slot %u is not watched", slot);
	return d;
}

/* A fresh, full token bucket on every CPU. */
static void bucket_reset(struct env *e)
{
	percpu_zero(&e->be, e->be.skel->maps.cf_ratelimit);
}

/*
 * Install an image in cf_policy[0], or remove it (-1).  Each change of
 * a map-in-map slot waits out an RCU grace period, so callers that only
 * want a state use policy_want().
 */
static int policy_set(struct env *e, int img_fd)
{
	int err = policy_install(&e->be, img_fd);

	if (!err)
		e->live_fd = img_fd;
	return err;
}

static void policy_want(struct env *e, int img_fd)
{
	if (e->live_fd != img_fd)
		assert_int_equal(policy_set(e, img_fd), 0);
}

/* ---- a hand-built image ---------------------------------------------- */

struct imgb {
	uint32_t *w;
	uint32_t cap;
	uint32_t next; /* first free node word */
};

static uint32_t node_ent(unsigned stride, uint32_t base)
{
	return CF_ENT_NODE | (stride - 1) << CF_ENT_STRIDE_SHIFT | base;
}

/* A node of 2^stride entries, all `fill`; returns the entry naming it. */
static uint32_t img_node(struct imgb *b, unsigned stride, uint32_t fill)
{
	uint32_t base = b->next, i;

	assert_true(base + (1u << stride) <= b->cap);
	for (i = 0; i < 1u << stride; i++)
		b->w[base + i] = fill;
	b->next += 1u << stride;
	return node_ent(stride, base);
}

static uint32_t *img_at(struct imgb *b, uint32_t node, uint32_t idx)
{
	return &b->w[(node & CF_ENT_BASE_MASK) + idx];
}

#define V4ROOT(b, i) ((b)->w[CF_V4_ROOT + (i)])
#define V6ROOT(b, i) ((b)->w[CF_V6_ROOT + (i)])

static void img_header(struct imgb *b)
{
	struct cf_image_hdr *h = (struct cf_image_hdr *)b->w;

	h->magic = CF_IMAGE_MAGIC;
	h->version = CF_IMAGE_VERSION;
	h->n_classes = C_N;
	h->nodes_end = b->next;
	h->meta_off = b->next;
	h->n_words = b->next + C_N * sizeof(struct cf_class_meta) / 4;
	h->malformed = CF_VERDICT_PASS;
	h->event_rate = 1000000;
	h->event_burst = 1000000;
	h->generation = GEN;
}

static void std_classes(struct imgb *b)
{
	static const uint8_t verdict[C_N] = {
		[C_DEFAULT] = CF_VERDICT_PASS, [C_LOCAL] = CF_VERDICT_PASS,
		[C_DENY] = CF_VERDICT_DROP,    [C_MON] = CF_VERDICT_MONITOR,
		[C_ALLOW] = CF_VERDICT_PASS,   [C_DENY6] = CF_VERDICT_DROP,
	};
	int c;

	for (c = 0; c < C_N; c++)
		b->w[CF_CLASS_OFF + c] = CF_CLASS_WORD(verdict[c], SLOT(c));
}

/*
 * IPv4:
 *   10/8, 192.168/16 local; 1.2/16 deny (root leaves)
 *   198.51.100/24 deny inside a stride-8 node, rest of 198.51/16 default
 *   203.0/16: s8 -> [113] s4 (fill allow): [1] monitor (.16/28),
 *             [2] deny (.32/28), [3] s4 (fill deny): [5] allow (.53)
 *   9.6/16: four stride-4 levels down to 9.6.18.52 deny
 *   9.5/16: a stride-4 node whose last entries lie past the image
 *   9.7/16 never reaches a leaf; 9.8/16 a stride past the address
 *   (into a node of deny, were the stride not checked);
 *   9.9/16 a class id past CF_CLASS_MAX: all three take the default.
 */
static void std_v4(struct imgb *b)
{
	uint32_t n, m, k, l[4];
	int i;

	for (i = 0x0a00; i <= 0x0aff; i++)
		V4ROOT(b, i) = C_LOCAL;
	V4ROOT(b, 0xc0a8) = C_LOCAL;
	V4ROOT(b, 0x0102) = C_DENY;

	n = V4ROOT(b, 0xc633) = img_node(b, 8, C_DEFAULT);
	*img_at(b, n, 100) = C_DENY;

	n = V4ROOT(b, 0xcb00) = img_node(b, 8, C_DEFAULT);
	m = *img_at(b, n, 113) = img_node(b, 4, C_ALLOW);
	*img_at(b, m, 1) = C_MON;
	*img_at(b, m, 2) = C_DENY;
	k = *img_at(b, m, 3) = img_node(b, 4, C_DENY);
	*img_at(b, k, 5) = C_ALLOW;

	for (i = 0; i < 4; i++)
		l[i] = img_node(b, 4, C_DEFAULT);
	V4ROOT(b, 0x0906) = l[0];
	*img_at(b, l[0], 1) = l[1];
	*img_at(b, l[1], 2) = l[2];
	*img_at(b, l[2], 3) = l[3];
	*img_at(b, l[3], 4) = C_DENY;

	V4ROOT(b, 0x0905) = node_ent(4, b->cap - 8);
	for (i = 0; i < 8; i++)
		b->w[b->cap - 8 + i] = C_DENY;

	for (i = 0; i < 4; i++)
		l[i] = img_node(b, 4, 0);
	for (i = 0; i < 16; i++) {
		*img_at(b, l[0], i) = l[1];
		*img_at(b, l[1], i) = l[2];
		*img_at(b, l[2], i) = l[3];
		*img_at(b, l[3], i) = l[0];
	}
	V4ROOT(b, 0x0907) = l[0];
	/* a walk that ignored the bad stride would find deny there */
	n = img_node(b, 4, C_DENY);
	V4ROOT(b, 0x0908) = node_ent(20, n & CF_ENT_BASE_MASK);
	V4ROOT(b, 0x0909) = 20000;
}

/*
 * IPv6:
 *   fc00::/7, fe80::/10 local; 2a00::/16 class C_DENY6
 *   2001::/16: s16 (fill default) -> [0db8] s8 (fill deny)
 *     -> [00] s8 (fill deny): [01] monitor (2001:db8:1::/48),
 *        [02] s16 (fill deny) -> [0003] s8 in the low half (fill
 *        monitor): [ab] allow (2001:db8:2:3:ab00::/72)
 *     -> [ff] a node straddling bit 64: broken, default
 *   0::/16, 2002::/16 allow and 64::/16 local: what embedded IPv4
 *   addresses would get if they were not unwrapped.
 */
static void std_v6(struct imgb *b)
{
	uint32_t n, m, k, l;
	int i;

	for (i = 0xfc00; i <= 0xfdff; i++)
		V6ROOT(b, i) = C_LOCAL;
	for (i = 0xfe80; i <= 0xfebf; i++)
		V6ROOT(b, i) = C_LOCAL;
	V6ROOT(b, 0x2a00) = C_DENY6;
	V6ROOT(b, 0x0000) = C_ALLOW;
	V6ROOT(b, 0x2002) = C_ALLOW;
	V6ROOT(b, 0x0064) = C_LOCAL;

	n = V6ROOT(b, 0x2001) = img_node(b, 16, C_DEFAULT);
	m = *img_at(b, n, 0x0db8) = img_node(b, 8, C_DENY);
	/* a walk that ignored the straddle would find deny there */
	k = img_node(b, 8, C_DENY);
	*img_at(b, m, 0xff) = node_ent(32, k & CF_ENT_BASE_MASK);
	k = *img_at(b, m, 0x00) = img_node(b, 8, C_DENY);
	*img_at(b, k, 0x01) = C_MON;
	l = *img_at(b, k, 0x02) = img_node(b, 16, C_DENY);
	n = *img_at(b, l, 0x0003) = img_node(b, 8, C_MON);
	*img_at(b, n, 0xab) = C_ALLOW;
}

static void std_image(uint32_t *w, uint32_t cap)
{
	struct imgb b = { .w = w, .cap = cap, .next = CF_NODES_OFF };

	memset(w, 0, (size_t)cap * 4);
	std_classes(&b);
	std_v4(&b);
	std_v6(&b);
	img_header(&b);
}

/* ---- records ----------------------------------------------------------- */

struct want_ev {
	bool on;
	uint32_t class;
	uint8_t verdict;
	uint8_t l4proto;
	uint16_t sport, dport;
	uint16_t vlan;
	bool embedded;
	bool malformed;
	bool l2bad; /* malformed before the ethertype was known: family 0 */
};

struct rec {
	const char *name;
	struct pkt_desc pkt;
	enum prog_id prog;
	enum setup setup;
	bool drop;
	int slot;  /* counter slot that counts the frame; 0: none */
	int stat;  /* ST(enum cf_stat) that counts it; 0: none */
	struct want_ev ev;
};

#define UDP(sp, dp) .proto = IPPROTO_UDP, .sport = (sp), .dport = (dp)
#define TCP(sp, dp) .proto = IPPROTO_TCP, .sport = (sp), .dport = (dp)
#define TAG1(t, v) .n_tags = 1, .tpid = { t }, .vid = { v }
#define TAG2(t1, v1, t2, v2) .n_tags = 2, .tpid = { t1, t2 }, .vid = { v1, v2 }
/* n 802.1Q priority tags (id 0), n <= PKT_MAX_TAGS */
#define QTAGS(n)                                                          \
	.n_tags = (n), .tpid = { TPID_Q, TPID_Q, TPID_Q, TPID_Q, TPID_Q,  \
				 TPID_Q, TPID_Q, TPID_Q, TPID_Q, TPID_Q,  \
				 TPID_Q, TPID_Q }
#define EV(c, v, p, sp, dp)                                               \
	.on = true, .class = (c), .verdict = CF_VERDICT_##v, .l4proto = (p), \
	.sport = (sp), .dport = (dp)
#define EV_MALF(v) .on = true, .verdict = CF_VERDICT_##v, .malformed = true

static void setup_apply(struct env *e, enum setup s)
{
	struct cf_image_hdr *h = (struct cf_image_hdr *)e->img.w;

	h->malformed = s == S_MALF_DROP ? CF_VERDICT_DROP :
		       s == S_MALF_MON	? CF_VERDICT_MONITOR :
					  CF_VERDICT_PASS;
	h->event_rate = s == S_NOEV ? 0 : 1000000;
	h->event_burst = 1000000;
	e->img.w[CF_CLASS_OFF + C_DEFAULT] = CF_CLASS_WORD(
		s == S_DEFDENY ? CF_VERDICT_DROP : CF_VERDICT_PASS,
		SLOT(C_DEFAULT));
	config_set(&e->be, s == S_NOPOL_DROP ? CF_VERDICT_DROP :
					       CF_VERDICT_PASS, 0);
	policy_want(e, s == S_NOPOL_PASS || s == S_NOPOL_DROP ? -1 : e->img.fd);
	bucket_reset(e);
}

static void want_event(const struct rec *r, const struct pkt *p,
		       struct cf_event *x)
{
	const struct pkt_desc *d = &r->pkt;
	int n = d->family == 4 ? 4 : 16;

	memset(x, 0, sizeof(*x));
	x->generation = GEN;
	x->ifindex = BPFENV_IFINDEX;
	x->class = r->ev.class;
	x->len = p->len;
	x->vlan = r->ev.vlan;
	x->sport = r->ev.sport;
	x->dport = r->ev.dport;
	x->dir = r->prog == TCE ? CF_DIR_EGRESS : CF_DIR_INGRESS;
	x->verdict = r->ev.verdict;
	x->family = r->ev.l2bad ? 0 : d->family;
	x->l4proto = r->ev.l4proto;
	x->embedded = r->ev.embedded;
	x->malformed = r->ev.malformed;
	if (!r->ev.malformed) {
		uint8_t a[16];

		pkt_addr(d->family, d->src, d->family == 4 ? PKT_V4_SRC :
							      PKT_V6_SRC, a);
		memcpy(x->src, a, n);
		pkt_addr(d->family, d->dst, d->family == 4 ? PKT_V4_DST :
							      PKT_V6_DST, a);
		memcpy(x->dst, a, n);
	}
}

#define FIELD_NE(g, w, f, bad)                                              \
	do {                                                                \
		if ((g)->f != (w)->f) {                                     \
			fprintf(stderr, "    event." #f ": got %llu, want %llu\n", \
				(unsigned long long)(g)->f,                 \
				(unsigned long long)(w)->f);                \
			bad = 1;                                            \
		}                                                           \
	} while (0)

static int event_check(const struct cf_event *g, const struct cf_event *w,
		       uint64_t t0, uint64_t t1)
{
	int bad = 0;

	if (g->ts_ns < t0 || g->ts_ns > t1) {
		fprintf(stderr, "    event.ts_ns %llu outside [%llu, %llu]\n",
			(unsigned long long)g->ts_ns, (unsigned long long)t0,
			(unsigned long long)t1);
		bad = 1;
	}
	FIELD_NE(g, w, generation, bad);
	FIELD_NE(g, w, ifindex, bad);
	FIELD_NE(g, w, class, bad);
	FIELD_NE(g, w, len, bad);
	FIELD_NE(g, w, vlan, bad);
	FIELD_NE(g, w, sport, bad);
	FIELD_NE(g, w, dport, bad);
	FIELD_NE(g, w, dir, bad);
	FIELD_NE(g, w, verdict, bad);
	FIELD_NE(g, w, family, bad);
	FIELD_NE(g, w, l4proto, bad);
	FIELD_NE(g, w, embedded, bad);
	FIELD_NE(g, w, malformed, bad);
	if (memcmp(g->src, w->src, 16) || memcmp(g->dst, w->dst, 16)) {
		fprintf(stderr, "    event addresses differ\n");
		bad = 1;
	}
	return bad;
}

/* Counters: exactly the expected slot and stat moved, by one frame. */
static int deltas_check(const struct rec *r, const struct pkt *p,
			const struct snap *a, const struct snap *b)
{
	int bad = 0, st;
	unsigned i;

	for (i = 0; i < N_WATCHED; i++) {
		bool want = r->slot && (int)watched_slots[i] == r->slot;
		uint64_t dp = b->slot[i].packets - a->slot[i].packets;
		uint64_t db = b->slot[i].bytes - a->slot[i].bytes;

		if (dp != want || db != (want ? p->len : 0)) {
			fprintf(stderr, "    slot %u: +%llu packets +%llu bytes, want +%d +%zu\n",
				watched_slots[i], (unsigned long long)dp,
				(unsigned long long)db, want,
				want ? p->len : 0);
			bad = 1;
		}
	}
	for (st = 0; st < CF_STAT_MAX; st++) {
		uint64_t want = (r->stat && r->stat == ST(st)) ||
				(st == CF_STAT_EVENTS && r->ev.on);

		if (stat_delta(a, b, st) != want) {
			fprintf(stderr, "    stat %d: +%llu, want +%llu\n", st,
				(unsigned long long)stat_delta(a, b, st),
				(unsigned long long)want);
			bad = 1;
		}
	}
	return bad;
}

/* One record; 0 when everything it states held, else 1 (and why). */
static int rec_run(struct env *e, const struct rec *r)
{
	struct cf_event want;
	struct snap a, b;
	struct pkt p;
	uint64_t t0, t1;
	int ret, bad = 0;

	if (pkt_build(&r->pkt, &p)) {
		fprintf(stderr, "FAIL %s: cannot build the frame\n", r->name);
		return 1;
	}
	setup_apply(e, r->setup);
	events_drain(e);
	snap_take(e, &a);
	t0 = mono_ns();
	ret = prog_run(&e->be, r->prog, &p, 1);
	t1 = mono_ns();
	snap_take(e, &b);
	ring_buffer__consume(e->be.rb);
	setup_apply(e, S_STD);

	if (ret != prog_retval(r->prog, r->drop)) {
		fprintf(stderr, "    %s returned %d, want %d (%s)\n",
			prog_names[r->prog], ret,
			prog_retval(r->prog, r->drop),
			r->drop ? "drop" : "pass");
		bad = 1;
	}
	bad |= deltas_check(r, &p, &a, &b);
	if (e->n_ev_seen != (r->ev.on ? 1 : 0)) {
		fprintf(stderr, "    %d events, want %d\n", e->n_ev_seen,
			r->ev.on ? 1 : 0);
		bad = 1;
	} else if (r->ev.on) {
		want_event(r, &p, &want);
		bad |= event_check(&e->ev[0], &want, t0, t1);
	}
	if (bad) {
		fprintf(stderr, "FAIL %s (%s), frame of %zu bytes:\n", r->name,
			prog_names[r->prog], p.len);
		pkt_hexdump(stderr, &p);
	}
	return bad;
}

static int recs_run(struct env *e, const struct rec *r, size_t n)
{
	int fails = 0;
	size_t i;

	for (i = 0; i < n; i++)
		fails += rec_run(e, &r[i]);
	return fails;
}

/* ---- the record table -------------------------------------------------- */

#define DENY4 "198.51.100.7"
#define LOCAL4 "10.1.2.3"
#define DENY6 "2001:db8::1"
#define EXT(...) .n_ext = sizeof((uint8_t[]){ __VA_ARGS__ }), .ext = { __VA_ARGS__ }
#define HOP IPPROTO_HOPOPTS
#define DST IPPROTO_DSTOPTS
#define RT IPPROTO_ROUTING
#define AH IPPROTO_AH
#define FRAG IPPROTO_FRAGMENT
#define ARP .ethertype = ETH_P_ARP, .family = 0
#define ND(type) .proto = IPPROTO_ICMPV6, .icmp_type = (type), .hop_limit = 255

static const struct rec class_recs[] = {
	/* IPv4 down the hand-built trie; XDP judges the destination. */
	{ "v4 deny in a stride-8 node", { V4(NULL, DENY4), UDP(40000, 53) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 40000, 53) } },
	{ "v4 default beside it", { V4(NULL, "198.51.99.7") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v4 default root leaf", { V4(NULL, "8.8.8.8") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v4 deny root leaf, tcp", { V4(NULL, "1.2.3.4"), TCP(40001, 443) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_TCP, 40001, 443) } },
	{ "v4 local 10/8", { V4(NULL, LOCAL4) },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "v4 local 192.168/16", { V4("8.8.8.8", "192.168.7.7") },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "v4 monitor, stride 4", { V4(NULL, "203.0.113.17"), UDP(5, 6) },
	  XDP, S_STD, false, SLOT(C_MON), 0,
	  { EV(C_MON, MONITOR, IPPROTO_UDP, 5, 6) } },
	{ "v4 deny, stride 4", { V4(NULL, "203.0.113.33"), UDP(5, 6) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 5, 6) } },
	{ "v4 deny, third level", { V4(NULL, "203.0.113.50"), UDP(5, 6) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 5, 6) } },
	{ "v4 allow, third level", { V4(NULL, "203.0.113.53") },
	  XDP, S_STD, false, SLOT(C_ALLOW) },
	{ "v4 allow, node fill", { V4(NULL, "203.0.113.200") },
	  XDP, S_STD, false, SLOT(C_ALLOW) },
	{ "v4 default, node fill", { V4(NULL, "203.0.112.1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v4 deny, four levels", { V4(NULL, "9.6.18.52"), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2) } },
	{ "v4 default, four levels", { V4(NULL, "9.6.18.53") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v4 node at the image end", { V4(NULL, "9.5.0.1"), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2) } },
	{ "v4 entry past the image", { V4(NULL, "9.5.240.1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v4 walk bound without a leaf", { V4(NULL, "9.7.1.1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v4 stride past the address", { V4(NULL, "9.8.1.1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v4 class id past the table", { V4(NULL, "9.9.1.1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },

	/* IPv6: both halves, nodes of stride 16 and 8. */
	{ "v6 deny", { V6(NULL, DENY6), UDP(5353, 53) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 5353, 53) } },
	{ "v6 monitor /48", { V6(NULL, "2001:db8:1::5"), TCP(7, 8) },
	  XDP, S_STD, false, SLOT(C_MON), 0,
	  { EV(C_MON, MONITOR, IPPROTO_TCP, 7, 8) } },
	{ "v6 deny under a stride-16 node", { V6(NULL, "2001:db8:2::9") },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0) } },
	{ "v6 monitor, low half", { V6(NULL, "2001:db8:2:3::1") },
	  XDP, S_STD, false, SLOT(C_MON), 0,
	  { EV(C_MON, MONITOR, IPPROTO_UDP, 0, 0) } },
	{ "v6 allow, low half", { V6(NULL, "2001:db8:2:3:ab00::1") },
	  XDP, S_STD, false, SLOT(C_ALLOW) },
	{ "v6 allow, low half, last", { V6(NULL, "2001:db8:2:3:abff:ffff:ffff:ffff") },
	  XDP, S_STD, false, SLOT(C_ALLOW) },
	{ "v6 default under a node", { V6(NULL, "2001:db9::1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v6 node straddling bit 64", { V6(NULL, "2001:db8:ff00::1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "v6 root deny, own slot", { V6(NULL, "2a00::1"), UDP(9, 10) },
	  XDP, S_STD, true, SLOT(C_DENY6), 0,
	  { EV(C_DENY6, DROP, IPPROTO_UDP, 9, 10) } },
	{ "v6 ULA local", { V6(NULL, "fd12::1") },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "v6 link-local", { V6(NULL, "fe80::1") },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "v6 default root leaf", { V6(NULL, "2600::1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },

	/* IPv4 inside IPv6, judged by the IPv4 table. */
	{ "NAT64 deny", { V6(NULL, "64:ff9b::198.51.100.7"), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .embedded = true } },
	{ "v4-mapped monitor", { V6(NULL, "::ffff:203.0.113.17"), UDP(1, 2) },
	  XDP, S_STD, false, SLOT(C_MON), 0,
	  { EV(C_MON, MONITOR, IPPROTO_UDP, 1, 2), .embedded = true } },
	{ "6to4 deny", { V6(NULL, "2002:c633:6405::1"), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .embedded = true } },
	{ "v4-mapped local", { V6(NULL, "::ffff:10.0.0.1") },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "6to4 default", { V6(NULL, "2002:808:808::1") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "NAT64 /48 is not embedded", { V6(NULL, "64:ff9b:1::c633:6407") },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "v4-compatible is not embedded", { V6(NULL, "::c633:6407") },
	  XDP, S_STD, false, SLOT(C_ALLOW) },
	{ "tc egress, NAT64 source", { V6("64:ff9b::1.2.3.4", "fd00::1") },
	  TCE, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0), .embedded = true } },
};

static const struct rec l2_recs[] = {
	{ "802.1Q deny", { TAG1(TPID_Q, 100), V4(NULL, DENY4), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .vlan = 100 } },
	{ "802.1ad + 802.1Q deny",
	  { TAG2(TPID_AD, 200, TPID_Q, 100), V4(NULL, DENY4), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .vlan = 200 } },
	{ "802.1Q + 802.1ad deny",
	  { TAG2(TPID_Q, 300, TPID_AD, 400), V4(NULL, DENY4), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .vlan = 300 } },
	{ "802.1ad alone, local", { TAG1(TPID_AD, 5), V4(NULL, LOCAL4) },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "two tags, v6 deny",
	  { TAG2(TPID_AD, 7, TPID_Q, 4095), V6(NULL, DENY6), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .vlan = 7 } },
	{ "ARP", { ARP }, XDP, S_STD, false, 0, ST(CF_STAT_NON_IP) },
	{ "ARP in 802.1Q", { TAG1(TPID_Q, 9), ARP },
	  XDP, S_STD, false, 0, ST(CF_STAT_NON_IP) },
	{ "ethertype alone", { ARP, .cut = ETH },
	  XDP, S_STD, false, 0, ST(CF_STAT_NON_IP) },
	{ "tc egress ARP", { ARP }, TCE, S_STD, false, 0,
	  ST(CF_STAT_NON_IP) },
};

/*
 * Stacked tags.  The kernel strips priority tags (id 0) without a VLAN
 * device and routes what is inside, so every stack up to VLAN_MAX_DEPTH
 * (8) is judged by its address and a deeper one is malformed: never
 * non-IP.  test_vlan_stacks adds 1 to 9 priority tags on all programs.
 */
static const struct rec vlan_recs[] = {
	{ "8 priority tags, v4 allowed", { QTAGS(8), V4(NULL, "203.0.113.53") },
	  XDP, S_STD, false, SLOT(C_ALLOW) },
	{ "8 priority tags, v6 local", { QTAGS(8), V6(NULL, "fd12::1") },
	  TCI, S_STD, false, SLOT(C_LOCAL) },
	{ "9 priority tags, malformed passes",
	  { QTAGS(9), V4(NULL, DENY4), UDP(1, 2) },
	  XDP, S_STD, false, 0, ST(CF_STAT_MALFORMED) },
	{ "9 priority tags, malformed monitored",
	  { QTAGS(9), V6(NULL, DENY6), UDP(1, 2) },
	  TCE, S_MALF_MON, false, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(MONITOR), .l2bad = true } },
	{ "12 priority tags, no policy", { QTAGS(12), V4(NULL, DENY4) },
	  TCI, S_NOPOL_DROP, true, 0, ST(CF_STAT_NO_POLICY) },
	{ "802.1ad/Q mix, ids 0 and not, v4 deny",
	  { .n_tags = 6,
	    .tpid = { TPID_AD, TPID_Q, TPID_AD, TPID_Q, TPID_Q, TPID_AD },
	    .vid = { 0, 0, 4094, 7, 0, 1 }, V4(NULL, DENY4), UDP(1, 2) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .vlan = 4094 } },
	{ "802.1Q/ad mix of 8, v6 deny",
	  { .n_tags = 8,
	    .tpid = { TPID_Q, TPID_AD, TPID_AD, TPID_Q, TPID_AD, TPID_Q,
		      TPID_AD, TPID_Q },
	    .vid = { 5, 6, 7, 8, 9, 10, 11, 12 }, V6(NULL, DENY6),
	    UDP(1, 2) },
	  TCI, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .vlan = 5 } },
	{ "mix of 9, malformed",
	  { .n_tags = 9,
	    .tpid = { TPID_AD, TPID_Q, TPID_AD, TPID_Q, TPID_AD, TPID_Q,
		      TPID_AD, TPID_Q, TPID_AD },
	    .vid = { 0, 0, 0, 33 }, V4(NULL, LOCAL4) },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP), .l2bad = true, .vlan = 33 } },
	{ "cut in the fourth of five tags",
	  { QTAGS(5), V4(NULL, DENY4), .cut = ETH + 3 * VLAN + 1 },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP), .l2bad = true } },
	{ "cut after the type behind five tags",
	  { QTAGS(5), V6(NULL, DENY6), .cut = ETH + 5 * VLAN },
	  TCE, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "cut before the type behind eight tags",
	  { QTAGS(8), V6(NULL, DENY6), .cut = ETH + 8 * VLAN - 1 },
	  TCI, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP), .l2bad = true } },
	{ "ARP behind five priority tags", { QTAGS(5), ARP },
	  XDP, S_STD, false, 0, ST(CF_STAT_NON_IP) },
	{ "ARP behind eight tags", { QTAGS(8), ARP },
	  TCE, S_MALF_DROP, false, 0, ST(CF_STAT_NON_IP) },
	{ "ARP type alone behind three tags",
	  { QTAGS(3), ARP, .cut = ETH + 3 * VLAN },
	  XDP, S_MALF_DROP, false, 0, ST(CF_STAT_NON_IP) },
	{ "ARP behind nine tags is malformed", { QTAGS(9), ARP },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP), .l2bad = true } },
	/* 0x9100, the old QinQ TPID, is no tag to the kernel: not IP */
	{ "0x9100 after three tags is not IP",
	  { QTAGS(3), .ethertype = 0x9100, .family = 0 },
	  XDP, S_MALF_DROP, false, 0, ST(CF_STAT_NON_IP) },
};

/*
 * Neighbour discovery passes before any lookup only where it cannot be
 * routed on: to a link-local or ff02:: destination, or (TC egress) from a
 * link-local source.  Sent anywhere else it is judged like any packet.
 */
static const struct rec nd_recs[] = {
	{ "tc egress neighbour advertisement from a denied source",
	  { V6("2a00::1", "fe80::1"), ND(136) },
	  TCE, S_STD, false, 0, ST(CF_STAT_NDP) },
	{ "neighbour solicitation to a solicited-node group",
	  { V6(NULL, "ff02::1:ff00:1"), ND(135), .payload = 24 },
	  XDP, S_DEFDENY, false, 0, ST(CF_STAT_NDP) },
	{ "router solicitation to all-routers",
	  { V6("::", "ff02::2"), ND(133) }, TCI, S_DEFDENY, false, 0,
	  ST(CF_STAT_NDP) },
	{ "neighbour advertisement to the gateway's link-local address",
	  { V6(DENY6, "fe80::1"), ND(136) }, XDP, S_DEFDENY, false, 0,
	  ST(CF_STAT_NDP) },
	{ "fe80::/10 reaches febf::",
	  { V6(NULL, "febf:ffff::1"), ND(136) }, XDP, S_DEFDENY, false, 0,
	  ST(CF_STAT_NDP) },
	{ "tc egress router advertisement from fe80:: to a global address",
	  { V6("fe80::1", DENY6), ND(134) }, TCE, S_DEFDENY, false, 0,
	  ST(CF_STAT_NDP) },
	{ "redirect in 802.1Q to fe80::",
	  { TAG1(TPID_Q, 5), V6(NULL, "fe80::9"), ND(137) },
	  TCI, S_STD, false, 0, ST(CF_STAT_NDP) },
	{ "neighbour solicitation to a denied address is judged",
	  { V6(NULL, DENY6), ND(135), .payload = 64 },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "neighbour advertisement to a denied address is judged",
	  { V6(NULL, "2a00::1"), ND(136), .payload = 64 },
	  TCI, S_STD, true, SLOT(C_DENY6), 0,
	  { EV(C_DENY6, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "router solicitation to a denied address is judged",
	  { V6(NULL, DENY6), ND(133) }, XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "redirect in 802.1Q to a denied address is judged",
	  { TAG1(TPID_Q, 5), V6(NULL, DENY6), ND(137) },
	  TCI, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0), .vlan = 5 } },
	{ "ND behind eight priority tags is judged",
	  { QTAGS(8), V6(NULL, DENY6), ND(135) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "ND to the allowed default is judged, counted there",
	  { V6(NULL, "2600::1"), ND(135) }, XDP, S_STD, false,
	  SLOT(C_DEFAULT) },
	{ "ND to a global-scope group is judged",
	  { V6(NULL, "ff0e::1"), ND(135) },
	  XDP, S_DEFDENY, true, SLOT(C_DEFAULT), 0,
	  { EV(C_DEFAULT, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "ND to ff12:: (not ff02::) is judged",
	  { V6(NULL, "ff12::1"), ND(135) },
	  XDP, S_DEFDENY, true, SLOT(C_DEFAULT), 0,
	  { EV(C_DEFAULT, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "ND from fe80:: to a denied address is judged on ingress",
	  { V6("fe80::10", DENY6), ND(135) }, TCI, S_STD, true, SLOT(C_DENY),
	  0, { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "tc egress ND between global addresses is judged by the source",
	  { V6("2a00::1", DENY6), ND(136) }, TCE, S_STD, true,
	  SLOT(C_DENY6), 0, { EV(C_DENY6, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "tc egress ND from a denied source to ff02::1 passes",
	  { V6("2a00::1", "ff02::1"), ND(136) }, TCE, S_STD, false, 0,
	  ST(CF_STAT_NDP) },
	{ "neighbour solicitation with hop limit 64 is judged",
	  { V6(NULL, DENY6), .proto = IPPROTO_ICMPV6, .icmp_type = 135,
	    .hop_limit = 64 },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "hop limit 254 to fe80:: is judged",
	  { V6(NULL, "fe80::1"), .proto = IPPROTO_ICMPV6, .icmp_type = 135,
	    .hop_limit = 254 },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "ICMPv6 type 132 to fe80:: is judged",
	  { V6(NULL, "fe80::1"), ND(132) }, XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "ICMPv6 type 138 to ff02:: is judged",
	  { V6(NULL, "ff02::1"), ND(138) }, XDP, S_DEFDENY, true,
	  SLOT(C_DEFAULT), 0, { EV(C_DEFAULT, DROP, IPPROTO_ICMPV6, 0, 0) } },
	{ "neighbour solicitation cut before its type is judged",
	  { V6(NULL, "fe80::1"), ND(135), .cut = ETH + IP6 },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "neighbour solicitation behind a hop-by-hop header is judged",
	  { V6(NULL, DENY6), ND(135), EXT(IPPROTO_HOPOPTS) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0) } },
};

static const struct rec ip_recs[] = {
	{ "IPv4 ihl 6, ports after options",
	  { .ihl = 6, V4(NULL, DENY4), UDP(1111, 2222) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1111, 2222) } },
	{ "first fragment keeps ports",
	  { .mf = true, V4(NULL, DENY4), UDP(3, 4), .payload = 16 },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 3, 4) } },
	{ "later fragment: addresses, no ports",
	  { .frag = 185, .mf = true, V4(NULL, DENY4), UDP(3, 4),
	    .payload = 16 },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0) } },
	{ "last fragment, local",
	  { .frag = 185, V4(NULL, LOCAL4), .payload = 16 },
	  XDP, S_STD, false, SLOT(C_LOCAL) },
	{ "ICMP deny", { V4(NULL, DENY4), .proto = IPPROTO_ICMP },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMP, 0, 0) } },
	{ "tot_len = ihl * 4", { V4(NULL, DENY4), .proto = IPPROTO_ICMP,
				 .tot_len_set = true, .tot_len = 20 },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMP, 0, 0) } },
	{ "ihl 4, malformed passes", { .ihl = 4, V4(NULL, DENY4) },
	  XDP, S_STD, false, 0, ST(CF_STAT_MALFORMED) },
	{ "ihl 0, malformed drops", { .ihl = PKT_IHL_ZERO, V4(NULL, LOCAL4) },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "ihl 4, malformed drops", { .ihl = 4, V4(NULL, LOCAL4) },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "ihl 4, malformed monitored", { .ihl = 4, V4(NULL, LOCAL4) },
	  XDP, S_MALF_MON, false, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(MONITOR) } },
	{ "version 6 under ethertype IPv4", { .version = 6, V4(NULL, LOCAL4) },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "version 4 under ethertype IPv6", { .version = 4, V6(NULL, NULL) },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "IPv6 version 5", { .version = 5, V6(NULL, NULL) },
	  TCI, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "tot_len below the header", { .tot_len_set = true, .tot_len = 19,
					V4(NULL, LOCAL4) },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "tot_len 0 on a small frame", { .tot_len_set = true, .tot_len = 0,
					  V4(NULL, LOCAL4) },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },

	/* IPv6 extension headers only matter for the event's ports. */
	{ "hop-by-hop, TCP ports", { EXT(HOP), V6(NULL, DENY6), TCP(10, 20) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_TCP, 10, 20) } },
	{ "hop, dst, routing, AH, UDP ports",
	  { EXT(HOP, DST, RT, AH), V6(NULL, DENY6), UDP(11, 21) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 11, 21) } },
	{ "six extension headers",
	  { EXT(HOP, DST, RT, DST, AH, FRAG), .mf = true, V6(NULL, DENY6),
	    UDP(12, 22) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 12, 22) } },
	{ "seven extension headers: no ports",
	  { EXT(HOP, DST, RT, DST, AH, DST, DST), V6(NULL, DENY6),
	    UDP(13, 23) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_DSTOPTS, 0, 0) } },
	{ "first IPv6 fragment keeps ports",
	  { EXT(FRAG), .mf = true, V6(NULL, DENY6), UDP(14, 24) },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 14, 24) } },
	{ "later IPv6 fragment: no ports",
	  { EXT(FRAG), .frag = 100, V6(NULL, DENY6), UDP(14, 24),
	    .payload = 8 },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0) } },
	{ "ICMPv6", { V6(NULL, DENY6), .proto = IPPROTO_ICMPV6,
		      .payload = 8 },
	  XDP, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_ICMPV6, 0, 0) } },
};

static const struct rec cut_recs[] = {
	{ "cut in the 802.1Q tag", { TAG1(TPID_Q, 100), V4(NULL, DENY4),
				     .cut = ETH + 2 },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP), .l2bad = true } },
	{ "cut in the second tag",
	  { TAG2(TPID_AD, 200, TPID_Q, 100), V4(NULL, DENY4),
	    .cut = ETH + VLAN + 2 },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP), .l2bad = true, .vlan = 200 } },
	{ "ethertype IPv4, no header", { V4(NULL, DENY4), .cut = ETH },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "cut in the IPv4 header", { V4(NULL, DENY4), .cut = ETH + IP4 - 1 },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "cut in the IPv4 options",
	  { .ihl = 8, V4(NULL, DENY4), .cut = ETH + IP4 + 4 },
	  TCE, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "cut in the IPv6 header", { V6(NULL, DENY6), .cut = ETH + IP6 - 1 },
	  XDP, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
	{ "cut in a tagged IPv6 header",
	  { TAG1(TPID_Q, 100), V6(NULL, DENY6), .cut = ETH + VLAN + IP6 - 1 },
	  TCI, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP), .vlan = 100 } },
	{ "cut in IPv4, malformed passes",
	  { V4(NULL, DENY4), .cut = ETH + IP4 - 1 },
	  XDP, S_STD, false, 0, ST(CF_STAT_MALFORMED) },
	{ "cut right after IPv4", { V4(NULL, DENY4), UDP(1, 2), .cut = ETH + IP4 },
	  XDP, S_MALF_DROP, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0) } },
	{ "cut in the ports", { V4(NULL, DENY4), UDP(1, 2), .cut = ETH + IP4 + 3 },
	  XDP, S_MALF_DROP, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0) } },
	{ "cut after the ports", { V4(NULL, DENY4), UDP(1, 2), .cut = ETH + IP4 + 4 },
	  XDP, S_MALF_DROP, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2) } },
	{ "cut right after IPv6", { V6(NULL, DENY6), UDP(1, 2), .cut = ETH + IP6 },
	  XDP, S_MALF_DROP, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0) } },
	{ "IPv6 chain cut in its second header",
	  { EXT(HOP, DST), V6(NULL, DENY6), UDP(1, 2), .cut = ETH + IP6 + 9 },
	  XDP, S_MALF_DROP, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_DSTOPTS, 0, 0) } },
	{ "IPv6 chain cut before the ports",
	  { EXT(HOP, DST), V6(NULL, DENY6), UDP(1, 2), .cut = ETH + IP6 + 26 },
	  XDP, S_MALF_DROP, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 0, 0) } },
};

static const struct rec dir_recs[] = {
	{ "tc ingress judges the destination",
	  { V4(LOCAL4, DENY4), UDP(1, 2) },
	  TCI, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2) } },
	{ "tc ingress ignores the source", { V4(DENY4, LOCAL4) },
	  TCI, S_STD, false, SLOT(C_LOCAL) },
	{ "tc egress judges the source", { V4(DENY4, LOCAL4), TCP(443, 5000) },
	  TCE, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_TCP, 443, 5000) } },
	{ "tc egress ignores the destination", { V4(LOCAL4, DENY4) },
	  TCE, S_STD, false, SLOT(C_LOCAL) },
	{ "xdp ignores the source", { V4(DENY4, "8.8.8.8") },
	  XDP, S_STD, false, SLOT(C_DEFAULT) },
	{ "tc egress, v6 monitored source",
	  { V6("2001:db8:1::5", "fd00::1"), UDP(1, 2) },
	  TCE, S_STD, false, SLOT(C_MON), 0,
	  { EV(C_MON, MONITOR, IPPROTO_UDP, 1, 2) } },
	{ "tc egress, tagged, v6 ext",
	  { TAG2(TPID_AD, 10, TPID_Q, 20), EXT(HOP), V6(DENY6, "fd00::1"),
	    UDP(1, 2) },
	  TCE, S_STD, true, SLOT(C_DENY), 0,
	  { EV(C_DENY, DROP, IPPROTO_UDP, 1, 2), .vlan = 10 } },
	{ "tc ingress, malformed drops", { .ihl = 4, V4(NULL, DENY4) },
	  TCI, S_MALF_DROP, true, 0, ST(CF_STAT_MALFORMED),
	  { EV_MALF(DROP) } },
};

static const struct rec mode_recs[] = {
	{ "no policy, on_missing pass", { V4(NULL, DENY4) },
	  XDP, S_NOPOL_PASS, false, 0, ST(CF_STAT_NO_POLICY) },
	{ "no policy, on_missing drop", { V4(NULL, LOCAL4) },
	  XDP, S_NOPOL_DROP, true, 0, ST(CF_STAT_NO_POLICY) },
	{ "no policy, on_missing drop, v6", { V6(NULL, NULL) },
	  TCI, S_NOPOL_DROP, true, 0, ST(CF_STAT_NO_POLICY) },
	{ "no policy, tc egress drop", { V4(LOCAL4, LOCAL4) },
	  TCE, S_NOPOL_DROP, true, 0, ST(CF_STAT_NO_POLICY) },
	{ "no policy, tc egress pass", { V4(DENY4, LOCAL4) },
	  TCE, S_NOPOL_PASS, false, 0, ST(CF_STAT_NO_POLICY) },
	{ "no policy, non-IP still passes", { ARP },
	  XDP, S_NOPOL_DROP, false, 0, ST(CF_STAT_NON_IP) },
	{ "no policy, malformed follows on_missing", { .ihl = 4, V4(NULL, NULL) },
	  XDP, S_NOPOL_DROP, true, 0, ST(CF_STAT_NO_POLICY) },
	{ "allow-list: default drops", { V4(NULL, "8.8.8.8"), UDP(1, 2) },
	  XDP, S_DEFDENY, true, SLOT(C_DEFAULT), 0,
	  { EV(C_DEFAULT, DROP, IPPROTO_UDP, 1, 2) } },
	{ "allow-list: local passes", { V4(NULL, LOCAL4) },
	  XDP, S_DEFDENY, false, SLOT(C_LOCAL) },
	{ "allow-list: class past the table is default",
	  { V4(NULL, "9.9.1.1"), UDP(1, 2) },
	  XDP, S_DEFDENY, true, SLOT(C_DEFAULT), 0,
	  { EV(C_DEFAULT, DROP, IPPROTO_UDP, 1, 2) } },
	{ "events off: drop, silently", { V4(NULL, DENY4) },
	  XDP, S_NOEV, true, SLOT(C_DENY) },
	{ "events off: monitor, silently", { V4(NULL, "203.0.113.17") },
	  XDP, S_NOEV, false, SLOT(C_MON) },
};

#define RECS(t) t, sizeof(t) / sizeof(t[0])

static void test_classes(void **state)
{
	assert_int_equal(recs_run(*state, RECS(class_recs)), 0);
}

static void test_l2(void **state)
{
	assert_int_equal(recs_run(*state, RECS(l2_recs)), 0);
}

static void test_vlan(void **state)
{
	assert_int_equal(recs_run(*state, RECS(vlan_recs)), 0);
}

/*
 * 1 to 10 priority tags before IPv4 and IPv6 whose both addresses are
 * denied, on all three programs: judged and dropped up to the bound,
 * malformed (and dropped here) past it, never non-IP.
 */
static void test_vlan_stacks(void **state)
{
	static const enum prog_id progs[] = { XDP, TCI, TCE };
	char name[64];
	int n, i, fam, fails = 0;

	for (n = 1; n <= 10; n++) {
		for (i = 0; i < 3; i++) {
			for (fam = 4; fam <= 6; fam += 2) {
				struct rec r = {
					.name = name,
					.pkt = { QTAGS(n), UDP(7, 9),
						 .payload = 16 },
					.prog = progs[i],
					.setup = S_MALF_DROP,
					.drop = true,
				};

				r.pkt.family = fam;
				r.pkt.src = r.pkt.dst = fam == 4 ? DENY4 :
								   DENY6;
				if (n <= 8) {
					r.slot = SLOT(C_DENY);
					r.ev = (struct want_ev){
						EV(C_DENY, DROP, IPPROTO_UDP,
						   7, 9) };
				} else {
					r.stat = ST(CF_STAT_MALFORMED);
					r.ev = (struct want_ev){
						EV_MALF(DROP), .l2bad = true };
				}
				snprintf(name, sizeof(name),
					 "%d priority tags, ipv%d", n, fam);
				fails += rec_run(*state, &r);
			}
		}
	}
	assert_int_equal(fails, 0);
}

static void test_nd(void **state)
{
	assert_int_equal(recs_run(*state, RECS(nd_recs)), 0);
}

static void test_ip_headers(void **state)
{
	assert_int_equal(recs_run(*state, RECS(ip_recs)), 0);
}

static void test_cuts(void **state)
{
	assert_int_equal(recs_run(*state, RECS(cut_recs)), 0);
}

static void test_directions(void **state)
{
	assert_int_equal(recs_run(*state, RECS(dir_recs)), 0);
}

static void test_modes(void **state)
{
	assert_int_equal(recs_run(*state, RECS(mode_recs)), 0);
}

/* Every ihl from 5 to 15, on all three programs: ports after options. */
static void test_ipv4_options(void **state)
{
	static const enum prog_id progs[] = { XDP, TCI, TCE };
	char name[64];
	int ihl, i, fails = 0;

	for (ihl = 5; ihl <= 15; ihl++) {
		for (i = 0; i < 3; i++) {
			struct rec r = {
				.name = name,
				.pkt = { .ihl = ihl, V4(DENY4, DENY4),
					 TCP(1000 + ihl, 2000 + ihl) },
				.prog = progs[i],
				.drop = true,
				.slot = SLOT(C_DENY),
				.ev = { EV(C_DENY, DROP, IPPROTO_TCP,
					   1000 + ihl, 2000 + ihl) },
			};

			snprintf(name, sizeof(name), "ihl %d", ihl);
			fails += rec_run(*state, &r);
		}
	}
	assert_int_equal(fails, 0);
}

/*
 * Cut a frame at every length from the Ethernet header on, and hold each
 * cut to what the headers still present allow: a short tag or IP header
 * is malformed (dropped here), a short L4 header only loses the ports.
 */
static void test_cut_sweep_v4(void **state)
{
	/* two tags (22), IPv4 with 8 bytes of options (50), ports (54) */
	const struct pkt_desc base = { TAG2(TPID_AD, 200, TPID_Q, 100),
				       .ihl = 7, V4(NULL, DENY4),
				       UDP(1234, 4321), .payload = 10 };
	struct pkt full;
	char name[64];
	int cut, fails = 0;

	assert_int_equal(pkt_build(&base, &full), 0);
	for (cut = ETH; cut <= (int)full.len; cut++) {
		struct rec r = { .name = name, .pkt = base, .prog = XDP,
				 .setup = S_MALF_DROP, .drop = true };

		r.pkt.cut = cut;
		snprintf(name, sizeof(name), "v4 cut at %d", cut);
		if (cut < 50) {
			r.stat = ST(CF_STAT_MALFORMED);
			r.ev = (struct want_ev){ EV_MALF(DROP),
						 .l2bad = cut < 22,
						 .vlan = cut >= 18 ? 200 : 0 };
		} else {
			r.slot = SLOT(C_DENY);
			r.ev = (struct want_ev){ EV(C_DENY, DROP, IPPROTO_UDP,
						    cut >= 54 ? 1234 : 0,
						    cut >= 54 ? 4321 : 0),
						 .vlan = 200 };
		}
		fails += rec_run(*state, &r);
	}
	assert_int_equal(fails, 0);
}

static void test_cut_sweep_v6(void **state)
{
	/* a tag (18), IPv6 (58), hop-by-hop (66), dst opts (82), ports (86) */
	const struct pkt_desc base = { TAG1(TPID_Q, 100), EXT(HOP, DST),
				       V6(DENY6, "fd00::1"), UDP(1234, 4321),
				       .payload = 4 };
	struct pkt full;
	char name[64];
	int cut, fails = 0;

	assert_int_equal(pkt_build(&base, &full), 0);
	for (cut = ETH; cut <= (int)full.len; cut++) {
		struct rec r = { .name = name, .pkt = base, .prog = TCE,
				 .setup = S_MALF_DROP, .drop = true };
		uint8_t proto = cut < 60 ? IPPROTO_HOPOPTS :
				cut < 68 ? IPPROTO_DSTOPTS : IPPROTO_UDP;

		r.pkt.cut = cut;
		snprintf(name, sizeof(name), "v6 cut at %d", cut);
		if (cut < 58) {
			r.stat = ST(CF_STAT_MALFORMED);
			r.ev = (struct want_ev){ EV_MALF(DROP),
						 .l2bad = cut < 18,
						 .vlan = cut >= 18 ? 100 : 0 };
		} else {
			r.slot = SLOT(C_DENY);
			r.ev = (struct want_ev){ EV(C_DENY, DROP, proto,
						    cut >= 86 ? 1234 : 0,
						    cut >= 86 ? 4321 : 0),
						 .vlan = 100 };
		}
		fails += rec_run(*state, &r);
	}
	assert_int_equal(fails, 0);
}

/* A GSO skb on TC counts as the packets it will be sent as. */
static void test_gso_segments(void **state)
{
	struct env *e = *state;
	const struct pkt_desc d = { V4(DENY4, LOCAL4), TCP(443, 5000),
				    .payload = 400 };
	struct pkt p;
	struct snap a, b;
	int ret;

	assert_int_equal(pkt_build(&d, &p), 0);
	setup_apply(e, S_STD);
	events_drain(e);
	snap_take(e, &a);
	ret = prog_test_run(e->be.prog[TCE], false, &p, 1, 3, NULL);
	if (ret < 0)
		fail_msg("test run: %s", strerror(-ret));
	snap_take(e, &b);
	ring_buffer__consume(e->be.rb);
	assert_int_equal(ret, TC_ACT_SHOT);
	assert_int_equal(slot_diff(&a, &b, SLOT(C_DENY)).packets, 3);
	assert_int_equal(slot_diff(&a, &b, SLOT(C_DENY)).bytes, p.len);
	/* one skb, one event */
	assert_int_equal(e->n_ev_seen, 1);
	assert_int_equal(e->ev[0].len, p.len);
}

/* ---- events: the rate limit and a full ring ----------------------------- */

/* Run `n` copies of a denied frame in one test run (one CPU). */
static void run_denied(struct env *e, int n, struct snap *a, struct snap *b)
{
	const struct pkt_desc d = { V4(NULL, DENY4), UDP(1, 2) };
	struct pkt p;

	assert_int_equal(pkt_build(&d, &p), 0);
	snap_take(e, a);
	assert_int_equal(prog_run(&e->be, XDP, &p, n), XDP_DROP);
	snap_take(e, b);
	ring_buffer__consume(e->be.rb);
}

static void limit_set(struct env *e, uint32_t rate, uint32_t burst)
{
	struct cf_image_hdr *h = (struct cf_image_hdr *)e->img.w;

	setup_apply(e, S_STD);
	h->event_rate = rate;
	h->event_burst = burst;
}

static void test_ratelimit(void **state)
{
	struct env *e = *state;
	struct snap a, b;

	/* rate 1/s, burst 2: ten drops, two events, eight suppressed */
	limit_set(e, 1, 2);
	events_drain(e);
	run_denied(e, 10, &a, &b);
	assert_int_equal(slot_diff(&a, &b, SLOT(C_DENY)).packets, 10);
	assert_int_equal(e->n_ev_seen, 2);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS), 2);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS_SUPPRESSED), 8);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS_LOST), 0);

	/* the bucket does not refill within the run... */
	events_drain(e);
	run_denied(e, 3, &a, &b);
	assert_int_equal(e->n_ev_seen, 0);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS_SUPPRESSED), 3);

	/*
	 * ...but does with time, up to the depth: 1000/s and burst 1, so
	 * the 10 ms floor (10 events) sets the depth; 50 ms refill it.
	 */
	limit_set(e, 1000, 1);
	events_drain(e);
	run_denied(e, 25, &a, &b);
	assert_int_equal(e->n_ev_seen, 10);
	usleep(50000);
	events_drain(e);
	run_denied(e, 25, &a, &b);
	assert_int_equal(e->n_ev_seen, 10);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS_SUPPRESSED), 15);

	/* rate 0: no events, and nothing counted as suppressed */
	limit_set(e, 0, 100);
	events_drain(e);
	run_denied(e, 5, &a, &b);
	assert_int_equal(e->n_ev_seen, 0);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS), 0);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS_SUPPRESSED), 0);
	setup_apply(e, S_STD);
}

/* More events than the ring holds, unread: the rest are counted lost. */
static void test_ring_full(void **state)
{
	struct env *e = *state;
	uint32_t ring = bpf_map__max_entries(e->be.skel->maps.cf_events);
	/* each record takes its size plus an 8-byte header */
	int fit = ring / (sizeof(struct cf_event) + 8), n = fit + 500;
	struct snap a, b;
	uint64_t written, lost;

	setup_apply(e, S_STD);
	events_drain(e);
	run_denied(e, n, &a, &b);
	written = stat_delta(&a, &b, CF_STAT_EVENTS);
	lost = stat_delta(&a, &b, CF_STAT_EVENTS_LOST);
	assert_int_equal(written + lost, n);
	assert_true(lost >= 500);
	assert_int_equal(e->n_ev_seen, written);
	assert_int_equal(stat_delta(&a, &b, CF_STAT_EVENTS_SUPPRESSED), 0);
}

/* ---- environment -------------------------------------------------------- */

/*
 * Load the skeleton (inner image capacity `words`, 0 for the template's
 * own), build the hand-made image and install it.  Nothing is pinned or
 * attached.
 */
static int env_open(struct env *e, uint32_t words)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->img.fd = -1;
	e->live_fd = -1;
	err = bpfenv_open(&e->be, words);
	if (!err)
		err = image_map_new(&e->be, e->be.words, &e->img);
	if (!err)
		err = bpfenv_events(&e->be, on_event, e);
	if (err)
		return err;
	std_image(e->img.w, e->img.words);
	return policy_set(e, e->img.fd);
}

static void env_close(struct env *e)
{
	image_unmap(&e->img);
	bpfenv_close(&e->be);
}

/* ---- image swaps and sizes ---------------------------------------------- */

static void test_swap(void **state)
{
	struct env *e = *state;
	const struct pkt_desc d = { V4(NULL, "8.8.8.8") };
	struct pkt p;
	struct image_map m;
	int fd;

	assert_int_equal(pkt_build(&d, &p), 0);
	setup_apply(e, S_STD);
	assert_int_equal(prog_run(&e->be, XDP, &p, 1), XDP_PASS);

	/* a second image where the default drops, installed in one update */
	assert_int_equal(image_map_new(&e->be, e->be.words, &m), 0);
	std_image(m.w, m.words);
	m.w[CF_CLASS_OFF + C_DEFAULT] =
		CF_CLASS_WORD(CF_VERDICT_DROP, SLOT(C_DEFAULT));
	assert_int_equal(policy_set(e, m.fd), 0);
	/* the slot holds the map: our fd and mapping can go */
	image_unmap(&m);
	assert_int_equal(prog_run(&e->be, XDP, &p, 1), XDP_DROP);
	assert_int_equal(prog_run(&e->be, TCI, &p, 1), TC_ACT_SHOT);

	/* back to the first */
	assert_int_equal(policy_set(e, e->img.fd), 0);
	assert_int_equal(prog_run(&e->be, XDP, &p, 1), XDP_PASS);

	/* an image of another size does not fit the slot */
	fd = image_create(&e->be, e->be.words / 2);
	assert_true(fd >= 0);
	assert_int_equal(policy_set(e, fd), -EINVAL);
	close(fd);
	assert_int_equal(prog_run(&e->be, XDP, &p, 1), XDP_PASS);
	events_drain(e);
}

/*
 * The loader may size images before load: a small template must load and
 * judge as the default one does, including the node whose entries run
 * past the end of the (now smaller) image.
 */
static void test_small_image(void **state)
{
	struct env small;
	int err;

	(void)state;
	err = env_open(&small, CF_NODES_OFF + (1u << 18));
	if (err)
		fail_msg("cannot load with a small image: %s", strerror(-err));
	assert_int_equal(small.be.words, CF_NODES_OFF + (1u << 18));
	assert_int_equal(recs_run(&small, RECS(class_recs)), 0);
	env_close(&small);
}

/* ---- policy/table.c images agree with the datapath ---------------------- */

#define T_CLASSES 24

/* Reproducible from the seed printed on failure. */
static uint64_t rng;

static int cmp_u128(const void *a, const void *b)
{
	cf_u128 x = *(const cf_u128 *)a, y = *(const cf_u128 *)b;

	return x < y ? -1 : x > y;
}

/* Clear all but the top `len` of `bits` bits. */
static cf_u128 prefix_of(cf_u128 a, unsigned bits, unsigned len)
{
	cf_u128 host = len >= bits ? 0 : (((cf_u128)1 << (bits - len)) - 1);

	return a & ~host;
}

/*
 * Ranges covering a family, cut at n random points.  IPv6 cuts cluster
 * under a few /16s and mostly stop by bit 64, so nodes stay within the
 * image; a few go down to bit 128.
 */
static void ranges_make(struct cf_crangelist *l, int family, size_t n)
{
	unsigned bits = family == 4 ? 32 : 128;
	cf_u128 max = family == 4 ? 0xffffffffu : ~(cf_u128)0;
	cf_u128 *cut = calloc(n + 1, sizeof(*cut));
	size_t i, k = 0;

	assert_non_null(cut);
	for (i = 0; i < n; i++) {
		cf_u128 a = family == 4 ? rnd(&rng) & 0xffffffffu :
					  rnd128(&rng);
		unsigned len;

		if (family == 4) {
			len = 8 + rnd(&rng) % 25;
		} else {
			a = (a & ~((cf_u128)0xffff << 112)) |
			    (cf_u128)(0x2000 + rnd(&rng) % 16) << 112;
			len = i % 10 ? 17 + rnd(&rng) % 48 :
				       17 + rnd(&rng) % 112;
		}
		a = prefix_of(a, bits, len);
		if (a)
			cut[k++] = a;
	}
	qsort(cut, k, sizeof(*cut), cmp_u128);
	l->v = calloc(k + 1, sizeof(*l->v));
	assert_non_null(l->v);
	l->n = 0;
	for (i = 0; i <= k; i++) {
		cf_u128 first = i ? cut[i - 1] : 0;
		cf_u128 last = i < k ? cut[i] - 1 : max;

		if (i && i < k && cut[i] == cut[i - 1])
			continue;
		l->v[l->n++] = (struct cf_crange){ first, last,
						   rnd(&rng) % T_CLASSES };
	}
	l->cap = k + 1;
	free(cut);
}

static void compiled_make(struct cf_compiled *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->n_classes = T_CLASSES;
	c->classes = calloc(T_CLASSES, sizeof(*c->classes));
	assert_non_null(c->classes);
	/* every class logs, so each event names the class the walk found */
	for (i = 0; i < T_CLASSES; i++) {
		c->classes[i].kind = i < CF_CLASS_FIXED ? i : CF_KIND_NET;
		c->classes[i].verdict = i % 3 ? CF_VERDICT_DROP :
						CF_VERDICT_MONITOR;
	}
	c->malformed = CF_VERDICT_PASS;
	c->event_rate = 1000000;
	c->event_burst = 1000000;
	snprintf(c->policy_path, sizeof(c->policy_path), "test");
	ranges_make(&c->v4, 4, 3000);
	ranges_make(&c->v6, 6, 1200);
}

static void compiled_free(struct cf_compiled *c)
{
	free(c->classes);
	free(c->v4.v);
	free(c->v6.v);
}

static uint32_t range_class(const struct cf_crangelist *l, cf_u128 a)
{
	size_t lo = 0, hi = l->n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (l->v[mid].first <= a)
			lo = mid;
		else
			hi = mid;
	}
	return l->v[lo].class;
}

struct probe {
	cf_u128 addr; /* what goes in the packet */
	int family;
	enum prog_id prog;
	uint32_t want; /* class by the ranges */
	bool embedded;
};

/* One probe through a program; 0 when datapath, table.c and the ranges
 * agree on the class (and the verdict follows from it). */
static int probe_run(struct env *e, const struct cf_compiled *c,
		     const uint32_t *w, const struct probe *pr, uint64_t *hits)
{
	char addr[CF_ADDR_STRLEN];
	struct pkt_desc d = { .family = pr->family, UDP(7, 9) };
	uint32_t tbl = cf_image_lookup(w, pr->addr, pr->family);
	uint8_t verdict = c->classes[pr->want].verdict;
	struct pkt p;
	int ret;

	cf_addr_format(pr->addr, pr->family, addr);
	if (pr->prog == TCE)
		d.src = addr;
	else
		d.dst = addr;
	assert_int_equal(pkt_build(&d, &p), 0);

	e->n_ev = e->n_ev_seen = 0;
	ret = prog_run(&e->be, pr->prog, &p, 1);
	ring_buffer__consume(e->be.rb);
	hits[pr->want]++;
	if (tbl == pr->want && e->n_ev_seen == 1 &&
	    e->ev[0].class == pr->want && e->ev[0].embedded == pr->embedded &&
	    ret == prog_retval(pr->prog, verdict == CF_VERDICT_DROP))
		return 0;
	fprintf(stderr, "FAIL %s %s: ranges say class %u, table.c %u, "
		"datapath %d events, class %u, embedded %u, returned %d\n",
		prog_names[pr->prog], addr,
		pr->want, tbl, e->n_ev_seen, e->n_ev ? e->ev[0].class : 0,
		e->n_ev ? e->ev[0].embedded : 0, ret);
	pkt_hexdump(stderr, &p);
	return 1;
}

/* Addresses at and around every range edge, and one inside each. */
static int probe_ranges(struct env *e, const struct cf_compiled *c,
			const uint32_t *w, int family, uint64_t *hits)
{
	const struct cf_crangelist *l = family == 4 ? &c->v4 : &c->v6;
	size_t i;
	int fails = 0;

	for (i = 0; i < l->n; i++) {
		const struct cf_crange *r = &l->v[i];
		cf_u128 span = r->last - r->first;
		cf_u128 in = r->first + (span ? rnd128(&rng) % span : 0);
		cf_u128 a[3] = { r->first, r->last, in };
		int k;

		for (k = 0; k < 3; k++) {
			struct probe pr = { .addr = a[k], .family = family,
					    .prog = (i + k) % 7 ? XDP : TCE,
					    .want = r->class };
			uint32_t v4;

			/* e.g. the edges of a range holding 2002::/16 */
			if (family == 6 && cf_addr_embedded_v4(a[k], &v4)) {
				pr.want = range_class(&c->v4, v4);
				pr.embedded = true;
			}

			fails += probe_run(e, c, w, &pr, hits);
		}
	}
	return fails;
}

/* IPv4 addresses wrapped in NAT64, IPv4-mapped and 6to4 addresses. */
static int probe_embedded(struct env *e, const struct cf_compiled *c,
			  const uint32_t *w, uint64_t *hits)
{
	static const cf_u128 wrap[3] = {
		(cf_u128)0x0064ff9b << 96, 0xffff00000000ull,
		(cf_u128)0x2002 << 112,
	};
	int i, fails = 0;

	for (i = 0; i < 600; i++) {
		uint32_t v4 = c->v4.v[rnd(&rng) % c->v4.n].first +
			      (rnd(&rng) % 3);
		cf_u128 a = i % 3 == 2 ? wrap[2] | (cf_u128)v4 << 80 |
						 (rnd(&rng) & 0xffff) :
					 wrap[i % 3] | v4;
		struct probe pr = { .addr = a, .family = 6,
				    .prog = i % 2 ? XDP : TCI,
				    .want = range_class(&c->v4, v4),
				    .embedded = true };

		fails += probe_run(e, c, w, &pr, hits);
	}
	return fails;
}

static void test_table_agrees(void **state)
{
	struct env *e = *state;
	int cfd = bpf_map__fd(e->be.skel->maps.cf_counters);
	struct cf_compiled c;
	struct cf_image img = { 0 };
	struct cf_err err = { 0 };
	struct cf_counter before[T_CLASSES], sum;
	uint64_t hits[T_CLASSES] = { 0 };
	char msg[600];
	struct image_map m;
	uint32_t i;
	int fails = 0;
	const char *seed = getenv("CF_SEED");

	rng = seed ? strtoull(seed, NULL, 0) : 0x5eed;
	compiled_make(&c);
	if (cf_image_build(&c, GEN, e->be.words, &img, &err))
		fail_msg("cf_image_build: %s", cf_err_str(&err, msg, sizeof(msg)));
	assert_int_equal(image_load(&e->be, &img, &m), 0);
	assert_int_equal(policy_set(e, m.fd), 0);
	bucket_reset(e);
	events_drain(e);

	for (i = 0; i < T_CLASSES; i++)
		counter_read(&e->be, cfd, i, &before[i]);
	fails += probe_ranges(e, &c, m.w, 4, hits);
	fails += probe_ranges(e, &c, m.w, 6, hits);
	fails += probe_embedded(e, &c, m.w, hits);
	/* counter slot = class id in table.c's images */
	for (i = 0; i < T_CLASSES; i++) {
		counter_read(&e->be, cfd, i, &sum);
		if (sum.packets - before[i].packets != hits[i]) {
			fprintf(stderr, "FAIL slot %u counted %llu, want %llu\n",
				i,
				(unsigned long long)(sum.packets -
						     before[i].packets),
				(unsigned long long)hits[i]);
			fails++;
		}
	}
	if (fails)
		fprintf(stderr, "seed %#llx, %zu v4 and %zu v6 ranges, %zu nodes\n",
			seed ? strtoull(seed, NULL, 0) : 0x5eedull, c.v4.n,
			c.v6.n, img.n_nodes);

	assert_int_equal(policy_set(e, e->img.fd), 0);
	image_unmap(&m);
	cf_image_free(&img);
	compiled_free(&c);
	assert_int_equal(fails, 0);
}

/* ---- cost per packet ---------------------------------------------------- */

static int empty_xdp_load(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "cf_empty", "GPL", insns, 2,
			     NULL);
}

/* Best average of three runs of `repeat`, in ns per packet. */
static uint32_t bench_one(int fd, const struct pkt_desc *d, int repeat,
			  int want)
{
	uint32_t best = UINT32_MAX, ns;
	struct pkt p;
	int i;

	assert_int_equal(pkt_build(d, &p), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(prog_test_run(fd, true, &p, repeat, 0, &ns),
				 want);
		if (ns < best)
			best = ns;
	}
	return best;
}

/*
 * Not a pass/fail test of speed: prints what cf_xdp_ingress costs per
 * packet next to an empty XDP program.  CF_BENCH_REPEAT sets the repeat
 * count (default 1000000).  Drops run with events limited to 100/s, as
 * in service, or off.
 */
static void test_bench(void **state)
{
	static const struct {
		const char *name;
		struct pkt_desc d;
		bool drop;
		bool events;
	} cases[] = {
		{ "v4 allowed, root leaf", { V4(NULL, "8.8.8.8") } },
		{ "v4 allowed, 3 levels", { V4(NULL, "203.0.113.53") } },
		{ "v4 denied, events limited", { V4(NULL, DENY4) }, true, true },
		{ "v4 denied, events off", { V4(NULL, DENY4) }, true },
		{ "v6 allowed, root leaf", { V6(NULL, "2600::1") } },
		{ "v6 allowed, 5 levels", { V6(NULL, "2001:db8:2:3:ab00::1") } },
		{ "v6 denied, events limited", { V6(NULL, DENY6) }, true, true },
		{ "v6 denied, events off", { V6(NULL, DENY6) }, true },
		{ "v6 NAT64, v4 allowed", { V6(NULL, "64:ff9b::8.8.8.8") } },
		{ "802.1Q, v4 allowed",
		  { TAG1(TPID_Q, 2), V4(NULL, "8.8.8.8") } },
		{ "802.1ad+Q, v4 allowed",
		  { TAG2(TPID_AD, 1, TPID_Q, 2), V4(NULL, "8.8.8.8") } },
		{ "8 priority tags, v4 allowed",
		  { QTAGS(8), V4(NULL, "8.8.8.8") } },
		{ "ARP (non-IP)", { ARP } },
	};
	struct env *e = *state;
	const char *env = getenv("CF_BENCH_REPEAT");
	int repeat = env ? atoi(env) : 1000000;
	int empty = empty_xdp_load(), xdp = e->be.prog[XDP];
	const struct pkt_desc any = { V4(NULL, "8.8.8.8") };
	size_t i;

	assert_true(empty >= 0);
	assert_true(repeat > 0);
	printf("cost per packet, best of 3 x %d test runs:\n", repeat);
	printf("  %-30s %5u ns\n", "empty XDP program",
	       bench_one(empty, &any, repeat, XDP_PASS));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		limit_set(e, cases[i].events ? 100 : 0, 10);
		printf("  %-30s %5u ns\n", cases[i].name,
		       bench_one(xdp, &cases[i].d, repeat,
				 cases[i].drop ? XDP_DROP : XDP_PASS));
		events_drain(e);
	}
	setup_apply(e, S_STD);
	close(empty);
}

/* ---- main --------------------------------------------------------------- */

static int group_setup(void **state)
{
	static struct env env;
	int err;

	cpu_pin(); /* one CPU: one token bucket, one set of counters */
	err = env_open(&env, 0);
	if (err) {
		fprintf(stderr, "cannot load the datapath (root needed): %s\n",
			strerror(-err));
		env_close(&env);
		return -1;
	}
	*state = &env;
	return 0;
}

static int group_teardown(void **state)
{
	env_close(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_l2),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_vlan_stacks),
		cmocka_unit_test(test_nd),
		cmocka_unit_test(test_ip_headers),
		cmocka_unit_test(test_cuts),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_cut_sweep_v4),
		cmocka_unit_test(test_cut_sweep_v6),
		cmocka_unit_test(test_gso_segments),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_small_image),
		cmocka_unit_test(test_table_agrees),
		cmocka_unit_test(test_bench),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
