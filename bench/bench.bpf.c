// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench.bpf.c - the BPF side of `make bench`.
 *
 *  - lk_*: lookup harnesses.  One BPF_PROG_TEST_RUN runs bpf_loop() over
 *    a slice of an address array; each iteration judges one address.
 *    lk_cf_* walk camfence's image with bpf/lookup.h, the datapath's own
 *    code, through the real map-in-map of bpf/maps.h; lk_lpm_* ask a
 *    BPF_MAP_TYPE_LPM_TRIE holding the same compiled ranges; lk_base_*
 *    only read the address, and measure the harness itself; lk_flat*
 *    walk the same image with the prototypes of proto_lookup.h.
 *  - lpm_xdp: the LPM trie as a whole XDP classifier, parsing as the
 *    datapath does (bpf/parse.h), counting per class, for throughput.
 *  - bare_xdp: the throughput ceiling.  It reads the verdict the
 *    generator stamped into the frame: the same drops as every filter
 *    under test, at no lookup cost.
 *  - gen_xdp: the traffic generator, run with BPF_F_TEST_XDP_LIVE_FRAMES;
 *    writes the next destination into the frame and sends it (XDP_TX).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "camfence.h"
#include "compiler.h"
#include "parse.h"
#include "lookup.h"
#include "maps.h"
#include "bench_abi.h"
#include "proto_lookup.h"

/* Sizes are set by the driver before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_addrs);
} bench_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
} lpm_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, __u32);
} lpm_v6 SEC(".maps");

/* The same image as one 4 MiB value, for the flat prototype walks. */
struct flat_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct flat_img);
};

struct flat_map flat_image SEC(".maps");

/*
 * A second image (a prototype layout), in a map-in-map of its own and
 * flat, so that the harness measures both layouts interleaved.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct cf_image_map);
} cf_policy2 SEC(".maps");

struct flat_map flat_image2 SEC(".maps");

/* Class words of the LPM classifier: the image's, copied. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CF_CLASS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} lpm_class SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CF_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct cf_counter);
} lpm_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_ent);
} gen_addrs SEC(".maps");

/* Harness run: addresses (run_start + i) & run_mask, i < run_count. */
__u32 run_start, run_count, run_mask;
struct bench_out out;

/* Generator: next destination, index mask, family of the template. */
__u32 gen_next, gen_mask, gen_family;

/* ---- lookup harness -------------------------------------------------- */

struct lk_ctx {
	void *img;
	const __u32 *flat;
	__u32 start;
	__u32 mask;
	__u64 drops;
	__u64 sum;
	__u32 err;
};

static __always_inline struct bench_addrs *lk_elem(struct lk_ctx *c, __u32 i,
						   __u32 per, __u32 *idx)
{
	__u32 n = (c->start + i) & c->mask, key = n / per;

	*idx = n % per;
	return bpf_map_lookup_elem(&bench_addrs, &key);
}

static __always_inline int lk_v4(struct lk_ctx *c, __u32 i, __u32 *a)
{
	struct bench_addrs *p;
	__u32 idx;

	p = lk_elem(c, i, BENCH_V4_PER_ELEM, &idx);
	if (!p)
		return -1;
	*a = p->w[idx & (BENCH_ELEM_WORDS - 1)];
	return 0;
}

static __always_inline __u32 *lk_v6(struct lk_ctx *c, __u32 i)
{
	struct bench_addrs *p;
	__u32 idx;

	p = lk_elem(c, i, BENCH_V6_PER_ELEM, &idx);
	if (!p)
		return NULL;
	return &p->w[(idx & (BENCH_V6_PER_ELEM - 1)) * 4];
}

/* What the datapath does after the walk: the class word, its verdict. */
static __always_inline void lk_cf_tally(struct lk_ctx *c, __u32 class)
{
	__u32 cw;

	if (class >= CF_CLASS_MAX)
		class = CF_CLASS_DEFAULT;
	cw = cf_class_word(c->img, class);
	c->drops += CF_CLASS_VERDICT(cw) == CF_VERDICT_DROP;
	c->sum += class;
}

static __always_inline void lk_flat_tally(struct lk_ctx *c, __u32 class)
{
	__u32 cw;

	if (class >= CF_CLASS_MAX)
		class = CF_CLASS_DEFAULT;
	cw = fl_word(c->flat, CF_CLASS_OFF + class);
	c->drops += CF_CLASS_VERDICT(cw) == CF_VERDICT_DROP;
	c->sum += class;
}

static __always_inline void lk_lpm_tally(struct lk_ctx *c, __u32 *val)
{
	__u32 class = val ? *val : CF_CLASS_DEFAULT;
	__u32 *cw = bpf_map_lookup_elem(&lpm_class, &class);

	c->drops += cw && CF_CLASS_VERDICT(*cw) == CF_VERDICT_DROP;
	c->sum += class;
}

static long cb_base_v4(__u32 i, void *data)
{
	struct lk_ctx *c = data;
	__u32 a;

	if (lk_v4(c, i, &a)) {
		c->err = 2;
		return 1;
	}
	c->sum += a & 1;
	return 0;
}

static long cb_cf_v4(__u32 i, void *data)
{
	struct lk_ctx *c = data;
	__u32 a;

	if (lk_v4(c, i, &a)) {
		c->err = 2;
		return 1;
	}
	lk_cf_tally(c, cf_lookup_v4(c->img, bpf_ntohl(a)));
	return 0;
}

static long cb_lpm_v4(__u32 i, void *data)
{
	struct lpm_v4_key k = { .prefixlen = 32 };
	struct lk_ctx *c = data;

	if (lk_v4(c, i, &k.addr)) {
		c->err = 2;
		return 1;
	}
	lk_lpm_tally(c, bpf_map_lookup_elem(&lpm_v4, &k));
	return 0;
}

static long cb_flat_v4(__u32 i, void *data)
{
	struct lk_ctx *c = data;
	__u32 a;

	if (lk_v4(c, i, &a)) {
		c->err = 2;
		return 1;
	}
	lk_flat_tally(c, fl_lookup_v4(c->flat, bpf_ntohl(a)));
	return 0;
}

static long cb_base_v6(__u32 i, void *data)
{
	struct lk_ctx *c = data;
	__u32 *a = lk_v6(c, i);

	if (!a) {
		c->err = 2;
		return 1;
	}
	c->sum += (a[0] ^ a[3]) & 1;
	return 0;
}

static __always_inline __u64 half(const __u32 *w)
{
	return (__u64)bpf_ntohl(w[0]) << 32 | bpf_ntohl(w[1]);
}

static long cb_cf_v6(__u32 i, void *data)
{
	struct lk_ctx *c = data;
	__u32 *a = lk_v6(c, i);

	if (!a) {
		c->err = 2;
		return 1;
	}
	lk_cf_tally(c, cf_lookup_v6(c->img, half(a), half(a + 2)));
	return 0;
}

static long cb_flat_v6(__u32 i, void *data)
{
	struct lk_ctx *c = data;
	__u32 *a = lk_v6(c, i);

	if (!a) {
		c->err = 2;
		return 1;
	}
	lk_flat_tally(c, fl_lookup_v6_split(c->flat, half(a), half(a + 2)));
	return 0;
}

static long cb_flat1_v6(__u32 i, void *data)
{
	struct lk_ctx *c = data;
	__u32 *a = lk_v6(c, i);

	if (!a) {
		c->err = 2;
		return 1;
	}
	lk_flat_tally(c, fl_lookup_v6(c->flat, half(a), half(a + 2)));
	return 0;
}

static long cb_lpm_v6(__u32 i, void *data)
{
	struct lpm_v6_key k = { .prefixlen = 128 };
	struct lk_ctx *c = data;
	__u32 *a = lk_v6(c, i);

	if (!a) {
		c->err = 2;
		return 1;
	}
	__builtin_memcpy(k.addr, a, 16);
	lk_lpm_tally(c, bpf_map_lookup_elem(&lpm_v6, &k));
	return 0;
}

/*
 * One slice.  The live image is looked up once, as the datapath does per
 * packet, and handed to the callbacks; bpf_ktime_get_ns() brackets only
 * the loop.
 */
static __always_inline int harness(long (*cb)(__u32, void *), int second)
{
	struct lk_ctx c = { .start = run_start, .mask = run_mask };
	__u32 zero = 0;
	__u64 t0;

	if (second) {
		c.img = bpf_map_lookup_elem(&cf_policy2, &zero);
		c.flat = bpf_map_lookup_elem(&flat_image2, &zero);
	} else {
		c.img = bpf_map_lookup_elem(&cf_policy, &zero);
		c.flat = bpf_map_lookup_elem(&flat_image, &zero);
	}
	if (!c.img || !c.flat) {
		out.err = 1;
		return XDP_ABORTED;
	}
	t0 = bpf_ktime_get_ns();
	out.done = bpf_loop(run_count, cb, &c, 0);
	out.ns = bpf_ktime_get_ns() - t0;
	out.drops = c.drops;
	out.class_sum = c.sum;
	out.err = c.err;
	return XDP_PASS;
}

#define HARNESS(impl, fam)                            \
	SEC("xdp")                                    \
	int lk_##impl##_##fam(struct xdp_md *ctx)     \
	{                                             \
		return harness(cb_##impl##_##fam, 0); \
	}

/* The same walks over the second image. */
#define HARNESS2(impl, fam)                           \
	SEC("xdp")                                    \
	int lk_##impl##2_##fam(struct xdp_md *ctx)    \
	{                                             \
		return harness(cb_##impl##_##fam, 1); \
	}

HARNESS(base, v4)
HARNESS(cf, v4)
HARNESS(lpm, v4)
HARNESS(flat, v4)
HARNESS(base, v6)
HARNESS(cf, v6)
HARNESS(lpm, v6)
HARNESS(flat, v6)
HARNESS(flat1, v6)
HARNESS2(cf, v4)
HARNESS2(flat, v4)
HARNESS2(cf, v6)
HARNESS2(flat, v6)

/* ---- XDP programs for throughput ------------------------------------- */

static __always_inline __u32 lpm_classify(void *l3, int family)
{
	struct lpm_v4_key k4 = { .prefixlen = 32 };
	struct lpm_v6_key k6 = { .prefixlen = 128 };
	struct ipv6hdr *ip6h = l3;
	struct iphdr *iph = l3;
	__u32 *v;

	if (family == 4) {
		k4.addr = iph->daddr;
		v = bpf_map_lookup_elem(&lpm_v4, &k4);
	} else {
		__builtin_memcpy(k6.addr, &ip6h->daddr, 16);
		v = bpf_map_lookup_elem(&lpm_v6, &k6);
	}
	return v ? *v : CF_CLASS_DEFAULT;
}

/* Parse as the datapath does; malformed and non-IP frames pass. */
SEC("xdp")
int lpm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct hdr_cursor cur = { .pos = data };
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	__u32 class, *cw, verdict = CF_VERDICT_PASS;
	__u16 vlan;
	int proto;

	proto = parse_ethhdr(&cur, end, &vlan, 0);
	if (proto == bpf_htons(ETH_P_IP)) {
		if (parse_iphdr(&cur, end, end - data, &iph) < 0)
			return XDP_PASS;
		class = lpm_classify(iph, 4);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (parse_ip6hdr(&cur, end, &ip6h) < 0)
			return XDP_PASS;
		class = lpm_classify(ip6h, 6);
	} else {
		return XDP_PASS;
	}
	cw = bpf_map_lookup_elem(&lpm_class, &class);
	if (cw) {
		verdict = CF_CLASS_VERDICT(*cw);
		/* per-CPU, and XDP runs to completion: no atomics */
		cf_count(&lpm_counters, CF_CLASS_COUNTER(*cw), 1, end - data);
	}
	return verdict == CF_VERDICT_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int bare_xdp(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (data + GEN_STAMP_OFF + 1 > (__u8 *)end)
		return XDP_PASS;
	return data[GEN_STAMP_OFF] ? XDP_DROP : XDP_PASS;
}

/*
 * The frame is the driver's template (Ethernet, IPv4 or IPv6, UDP); only
 * the destination, the IPv4 checksum and the stamp change.  Live frames
 * keep what the program wrote when their page comes round again, so
 * every field that varies is written every time.
 */
SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 idx = gen_next++ & gen_mask;
	struct ipv6hdr *ip6h = (void *)(data + ETH_HLEN);
	struct iphdr *iph = (void *)(data + ETH_HLEN);
	struct gen_ent *e = bpf_map_lookup_elem(&gen_addrs, &idx);

	if (!e || (void *)(ip6h + 1) > end)
		return XDP_ABORTED;
	data[GEN_STAMP_OFF] = e->drop;
	if (gen_family == 4) {
		iph->daddr = e->dst[0];
		iph->check = e->csum;
	} else {
		__builtin_memcpy(&ip6h->daddr, e->dst, 16);
	}
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
