// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * camfence.bpf.c - the datapath.
 *
 * Three programs share one core: cf_xdp_ingress and cf_tc_ingress judge
 * the DESTINATION of what cameras send, cf_tc_egress the SOURCE of what
 * reaches them.  A packet is parsed (Ethernet, up to VLAN_MAX_DEPTH VLAN
 * tags, IPv4 or IPv6), its address walked down the live image (lookup.h)
 * to a class, the class word gives verdict and counter slot, and drops
 * and monitored packets leave a rate-limited event (events.h).
 *
 * What the core decides, in order:
 *   non-IP frame              pass, CF_STAT_NON_IP
 *   IPv6 neighbour discovery  pass, CF_STAT_NDP (on-link only: parse.h)
 *   (learning on: a sample of the IP packets goes to cf_learn, learn.h)
 *   no image installed        cf_config.on_missing, CF_STAT_NO_POLICY
 *   truncated or bad header,  the image's `malformed`, CF_STAT_MALFORMED
 *   too many VLAN tags
 *   otherwise                 the class's verdict, its counter slot
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "camfence.h"
#include "compiler.h"
#include "parse.h"
#include "lookup.h"
#include "maps.h"
#include "events.h"
#include "learn.h"

/* Not a verdict: the headers run past the linear part of an skb. */
#define CF_VERDICT_PULL 0xffu

/* Bytes a TC program makes linear when the headers were not. */
#ifndef CF_PULL_LEN
#define CF_PULL_LEN 256
#endif

enum cf_kind {
	CF_PKT_NON_IP,
	CF_PKT_BAD,
	CF_PKT_V4,
	CF_PKT_V6,
	CF_PKT_NDP,
};

/* What the program wrapper knows about the frame. */
struct cf_meta {
	__u32 ifindex;
	__u32 len;	/* whole frame: counters and events */
	__u32 segs;	/* packets it stands for: GSO segments, else 1 */
	__u16 vlan;	/* VLAN id the device holds outside the frame */
	__u8 tags;	/* tags it holds there: 0 or 1 */
	__u8 dir;	/* enum cf_dir */
	__u8 may_pull;	/* TC: a short header may be pulled and retried */
};

struct cf_pkt {
	void *l3;	/* IP header, its fixed part checked */
	void *l4;	/* just past the IP header */
	void *end;
	__u16 vlan;	/* first non-zero VLAN id in the frame */
	__u8 family;	/* 4 or 6 once the ethertype says so */
};

static __always_inline int cf_parse(struct cf_pkt *p, void *data, void *end,
				    const struct cf_meta *m)
{
	struct hdr_cursor cur = { .pos = data };
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	int proto;

	p->end = end;
	proto = parse_ethhdr(&cur, end, &p->vlan, m->tags);
	if (proto < 0)
		return CF_PKT_BAD;

	if (proto == bpf_htons(ETH_P_IP)) {
		p->family = 4;
		if (parse_iphdr(&cur, end, m->len, &iph) < 0)
			return CF_PKT_BAD;
		p->l3 = iph;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		p->family = 6;
		if (parse_ip6hdr(&cur, end, &ip6h) < 0)
			return CF_PKT_BAD;
		p->l3 = ip6h;
		if (is_ndp(ip6h, cur.pos, end, m->dir == CF_DIR_EGRESS))
			return CF_PKT_NDP;
	} else {
		return CF_PKT_NON_IP;
	}
	p->l4 = cur.pos;
	return p->family == 4 ? CF_PKT_V4 : CF_PKT_V6;
}

static __always_inline __u64 cf_ip6_half(const __be32 *w)
{
	return (__u64)bpf_ntohl(w[0]) << 32 | bpf_ntohl(w[1]);
}

/* The class of the judged address; IPv4 inside IPv6 by the IPv4 table. */
static __always_inline __u32 cf_classify(void *img, const struct cf_pkt *p,
					 __u8 dir, __u8 *embedded)
{
	struct ipv6hdr *ip6h = p->l3;
	struct iphdr *iph = p->l3;
	const __be32 *a;
	__u64 hi, lo;
	__u32 v4;

	if (p->family == 4)
		return cf_lookup_v4(img, bpf_ntohl(dir == CF_DIR_INGRESS ?
							   iph->daddr :
							   iph->saddr));

	a = dir == CF_DIR_INGRESS ? ip6h->daddr.in6_u.u6_addr32 :
				    ip6h->saddr.in6_u.u6_addr32;
	hi = cf_ip6_half(a);
	lo = cf_ip6_half(a + 2);
	if (cf_embedded_v4(hi, lo, &v4)) {
		*embedded = 1;
		return cf_lookup_v4(img, v4);
	}
	return cf_lookup_v6(img, hi, lo);
}

/* Addresses, protocol and ports of a sound IP header, for an event. */
static __always_inline void cf_event_l3(struct cf_event *ev,
					const struct cf_pkt *p)
{
	struct hdr_cursor cur = { .pos = p->l4 };
	struct ipv6hdr *ip6h = p->l3;
	struct iphdr *iph = p->l3;
	__u8 proto;

	if (p->family == 4) {
		__builtin_memcpy(ev->src, &iph->saddr, 4);
		__builtin_memcpy(ev->dst, &iph->daddr, 4);
		proto = iph->protocol;
		/* Later fragments carry addresses but no ports. */
		if (!(iph->frag_off & bpf_htons(CF_IP_OFFSET)) &&
		    proto_has_ports(proto))
			parse_ports(&cur, p->end, &ev->sport, &ev->dport);
	} else {
		__builtin_memcpy(ev->src, &ip6h->saddr, 16);
		__builtin_memcpy(ev->dst, &ip6h->daddr, 16);
		proto = ip6h->nexthdr;
		/* A broken chain only costs the ports. */
		if (!skip_ip6hdrext(&cur, p->end, &proto) &&
		    proto_has_ports(proto))
			parse_ports(&cur, p->end, &ev->sport, &ev->dport);
	}
	ev->l4proto = proto;
}

static __always_inline void cf_emit(void *img, const struct cf_pkt *p,
				    const struct cf_meta *m, __u32 class,
				    __u32 verdict, __u8 embedded)
{
	struct cf_event *ev = cf_event_reserve(img, m->len);

	if (!ev)
		return;
	ev->ifindex = m->ifindex;
	ev->class = class;
	ev->len = m->len;
	ev->vlan = m->vlan ? m->vlan : p->vlan;
	ev->dir = m->dir;
	ev->verdict = verdict;
	ev->family = p->family;
	ev->embedded = embedded;
	ev->malformed = !p->l3;
	if (p->l3)
		cf_event_l3(ev, p);
	cf_event_submit(ev, m->len);
}

static __always_inline __u32 cf_judge(void *img, const struct cf_pkt *p,
				      const struct cf_meta *m)
{
	__u8 embedded = 0;
	__u32 class, cw, verdict;

	class = cf_classify(img, p, m->dir, &embedded);
	if (class >= CF_CLASS_MAX)
		class = CF_CLASS_DEFAULT;
	cw = cf_class_word(img, class);
	verdict = CF_CLASS_VERDICT(cw);

	cf_count(&cf_counters, CF_CLASS_COUNTER(cw), m->segs, m->len);
	if (verdict == CF_VERDICT_DROP || verdict == CF_VERDICT_MONITOR)
		cf_emit(img, p, m, class, verdict, embedded);
	return verdict;
}

/* Bad IP headers: the header word is read on this path only. */
static __always_inline __u32 cf_malformed(void *img, const struct cf_pkt *p,
					  const struct cf_meta *m)
{
	__u32 verdict = CF_VERDICT_PASS;

	cf_word(img, CF_HDR_WORD(malformed), &verdict);
	cf_stat(CF_STAT_MALFORMED, m->segs, m->len);
	if (verdict == CF_VERDICT_DROP || verdict == CF_VERDICT_MONITOR)
		cf_emit(img, p, m, CF_CLASS_DEFAULT, verdict, 0);
	return verdict;
}

static __always_inline __u32 cf_no_policy(const struct cf_config *cfg,
					  const struct cf_meta *m)
{
	__u32 verdict = CF_VERDICT_PASS;

	if (cfg)
		verdict = READ_ONCE(cfg->on_missing);
	cf_stat(CF_STAT_NO_POLICY, m->segs, m->len);
	return verdict;
}

/*
 * The verdict on one frame (enum cf_verdict), or CF_VERDICT_PULL, before
 * anything is counted, when m->may_pull and the headers may lie past
 * `end` in the rest of the frame.
 */
static __always_inline __u32 cf_core(void *data, void *end,
				     const struct cf_meta *m)
{
	struct cf_config *cfg;
	struct cf_pkt p = {};
	__u32 zero = 0, rate = 0;
	void *img;
	int kind;

	kind = cf_parse(&p, data, end, m);
	if (kind == CF_PKT_NON_IP) {
		cf_stat(CF_STAT_NON_IP, m->segs, m->len);
		return CF_VERDICT_PASS;
	}
	if (kind == CF_PKT_NDP) {
		cf_stat(CF_STAT_NDP, m->segs, m->len);
		return CF_VERDICT_PASS;
	}
	if (kind == CF_PKT_BAD && m->may_pull && end - data < m->len)
		return CF_VERDICT_PULL;

	/*
	 * The one read of cf_config on the fast path, shared by learning and
	 * on_missing.  Learning samples before the policy lookup: it works
	 * without a policy, and sees what the policy would drop.
	 */
	cfg = bpf_map_lookup_elem(&cf_config, &zero);
	if (cfg)
		rate = READ_ONCE(cfg->learn_rate);
	if (unlikely(rate) && kind != CF_PKT_BAD)
		cf_learn_sample(p.l3, p.family, m->ifindex, m->dir, m->segs,
				m->len, rate);

	img = bpf_map_lookup_elem(&cf_policy, &zero);
	if (!img)
		return cf_no_policy(cfg, m);
	if (kind == CF_PKT_BAD)
		return cf_malformed(img, &p, m);
	return cf_judge(img, &p, m);
}

SEC("xdp")
int cf_xdp_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct cf_meta m = {
		.ifindex = ctx->ingress_ifindex,
		.len = end - data,
		.segs = 1,
		.dir = CF_DIR_INGRESS,
	};

	return cf_core(data, end, &m) == CF_VERDICT_DROP ? XDP_DROP : XDP_PASS;
}

/*
 * TC sees skbs whose headers may sit partly in page fragments.  The core
 * says so before it counts anything; the headers are then pulled into the
 * linear part once and the frame judged again, this time for good.
 */
static __always_inline int cf_tc(struct __sk_buff *skb, __u8 dir)
{
	struct cf_meta m = {
		.ifindex = skb->ifindex,
		.len = skb->len,
		.segs = skb->gso_segs ? skb->gso_segs : 1,
		.dir = dir,
		.may_pull = 1,
	};
	__u32 verdict;

	/*
	 * A tag offloaded to (or from) the NIC is the outermost one; on
	 * ingress the kernel has moved it there itself before TC runs.  It
	 * counts toward VLAN_MAX_DEPTH as XDP counted it in the frame.  The
	 * count is copied, not set in the branch: as a constant the verifier
	 * would follow the two cases apart through the whole program.
	 */
	m.tags = skb->vlan_present;
	if (m.tags)
		m.vlan = skb->vlan_tci & CF_VLAN_VID_MASK;

	verdict = cf_core((void *)(long)skb->data, (void *)(long)skb->data_end,
			  &m);
	if (verdict == CF_VERDICT_PULL) {
		bpf_skb_pull_data(skb, m.len < CF_PULL_LEN ? m.len :
							     CF_PULL_LEN);
		m.may_pull = 0;
		verdict = cf_core((void *)(long)skb->data,
				  (void *)(long)skb->data_end, &m);
	}
	return verdict == CF_VERDICT_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int cf_tc_ingress(struct __sk_buff *skb)
{
	return cf_tc(skb, CF_DIR_INGRESS);
}

SEC("tc")
int cf_tc_egress(struct __sk_buff *skb)
{
	return cf_tc(skb, CF_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
