/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parse.h - header parsing around a cursor, in the xdp-tools manner.
 *
 * Each parse_*() takes the cursor and the end of the readable data, checks
 * that the whole header it reads lies before the end (`hdr + 1 > end`, the
 * shape the verifier understands; the void * cast keeps clang's
 * -Wcompare-distinct-pointer-types quiet), advances the cursor past it and
 * returns
 * the next protocol, or -1 when the header is truncated or invalid.
 * Protocol numbers are returned as the packet holds them: ethertypes in
 * network order, IP protocol numbers as bytes.
 */
#ifndef CF_PARSE_H
#define CF_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>

#include "compiler.h"

/*
 * VLAN tags walked, outermost first, before a frame counts as malformed.
 * 802.1Q (0x8100) and 802.1ad (0x88a8) are accepted in any mix and order,
 * whatever their ids.  The kernel strips priority tags (id 0) one after
 * another without any VLAN device (__netif_receive_skb_core,
 * check_vlan_id) and routes what is inside: 6.18.44 drops frames with
 * more than 8 (RECURSION_LIMIT), a kernel without that limit takes any
 * number.  So a frame whose tags outnumber the bound is malformed (the
 * policy's `malformed` verdict), never passed as non-IP; the bound only
 * says how many tags a frame may have and still be judged by its
 * address.  Newer clang will not unroll the walk past 8.  A tag the
 * device holds outside the frame (TC's skb->vlan_tci) counts too, so
 * that XDP and TC judge one frame alike.
 */
#ifndef VLAN_MAX_DEPTH
#define VLAN_MAX_DEPTH 8
#endif

/* IPv6 extension headers walked to find the ports of an event. */
#ifndef IPV6_EXT_MAX_CHAIN
#define IPV6_EXT_MAX_CHAIN 6
#endif

#define CF_VLAN_VID_MASK 0x0fff
#define CF_IP_OFFSET 0x1fff

struct hdr_cursor {
	void *pos;
};

/* Not in the uapi headers: the 4 bytes a tag adds after the MACs. */
struct cf_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* The part of an IPv6 extension header every type shares. */
struct cf_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct cf_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | M flag */
	__be32 id;
};

struct cf_ports {
	__be16 source;
	__be16 dest;
};

static __always_inline int proto_is_vlan(__u16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) ||
	       proto == bpf_htons(ETH_P_8021AD);
}

/* From <bpf/bpf_helpers.h>, for a header pulled in on its own. */
#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "=r"(var) : "0"(var))
#endif

/* Tags parsed in line, the common stacks; parse_vlans() walks the rest. */
#define CF_VLAN_INLINE 2

/*
 * The in-line tags and one held outside must be within the bound, and the
 * last ethertype's offset within CF_VLAN_OFF_MASK.
 */
#if VLAN_MAX_DEPTH <= CF_VLAN_INLINE || VLAN_MAX_DEPTH > 60
#error "VLAN_MAX_DEPTH must lie in [3, 60]"
#endif

/*
 * parse_vlans() returns an offset in bits 0-7 (a small mask: 6.1 refuses
 * a packet pointer that may lie 64 KiB out), a VLAN id in bits 16-27,
 * and CF_VLAN_BAD when a tag was cut or there are too many.
 */
#define CF_VLAN_OFF_MASK 0xff
#define CF_VLAN_BAD (1ll << 32)

/* Offset of the ethertype (or TPID) behind n tags. */
#define CF_TYPE_OFF(n)                              \
	(__builtin_offsetof(struct ethhdr, h_proto) + \
	 (n) * sizeof(struct cf_vlan_hdr))

/*
 * 1 when the 16 bits at a TPID position (as the packet holds them) name a
 * tag, else 0, without a branch: q and ad lie in [0, 0xffff], so bit 63
 * of q - 1 is set only when q is 0.  The barriers keep clang from turning
 * the arithmetic back into compares, which the BPF backend branches on.
 */
static __always_inline __u64 tpid_is_vlan(__u64 tpid)
{
	__u64 q = tpid ^ bpf_htons(ETH_P_8021Q);
	__u64 ad = tpid ^ bpf_htons(ETH_P_8021AD);

	barrier_var(q);
	barrier_var(ad);
	return ((q - 1) | (ad - 1)) >> 63;
}

/*
 * The tags of a frame past the first CF_VLAN_INLINE.  The verifier
 * follows each path on its own, and a cursor at a different constant
 * offset per tag count would have it verify everything after the walk
 * once per count, past its million instructions.  So the offset grows by
 * what was read (tpid_is_vlan() * 4, fixed by a barrier before the branch
 * that leaves the loop): the walk ends on one path with a variable
 * offset, and still stops at the last tag.  Out of line, so that the hot
 * path keeps its registers: deep stacks pay for the call.  Returns the
 * offset of the ethertype after the tags, or CF_VLAN_BAD when a tag is
 * cut or there are more than VLAN_MAX_DEPTH in the frame; the first
 * non-zero VLAN id the walk met in bits 16-27 either way.
 */
static __noinline long parse_vlans(void *data, void *end)
{
	__u64 off = CF_TYPE_OFF(CF_VLAN_INLINE);
	__u64 next, v, vid = 0;
	__be16 *tp;
	int i;

#pragma unroll
	for (i = CF_VLAN_INLINE; i < VLAN_MAX_DEPTH; i++) {
		tp = data + off;
		if ((void *)(tp + 1) > end)
			return CF_VLAN_BAD | vid << 16;
		v = tpid_is_vlan(*tp);
		next = off + (v << 2);
		barrier_var(next);
		if (!v)
			return off | vid << 16;
		/* the rest of the tag and the type after it */
		if ((void *)(tp + 3) > end)
			return CF_VLAN_BAD | vid << 16;
		if (!vid)
			vid = bpf_ntohs(tp[1]) & CF_VLAN_VID_MASK;
		off = next;
	}
	/* VLAN_MAX_DEPTH tags: one more is too many */
	tp = data + off;
	if ((void *)(tp + 1) > end || tpid_is_vlan(*tp))
		return CF_VLAN_BAD | vid << 16;
	return off | vid << 16;
}

/*
 * Ethernet and its VLAN tags, `outside` of them already taken off the
 * frame by the device (0 or 1).  Returns the ethertype after the tags, or
 * -1 when a header is cut or the stack is deeper than VLAN_MAX_DEPTH.
 * *vid gets the first non-zero VLAN id in the frame (priority tags carry
 * id 0 and name no VLAN), 0 when there is none.
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *cur, void *end,
					__u16 *vid, int outside)
{
	struct ethhdr *eth = cur->pos;
	struct cf_vlan_hdr *vh;
	__be16 *tp;
	__u16 proto;
	long deep;
	int i;

	*vid = 0;
	if ((void *)(eth + 1) > end)
		return -1;
	cur->pos = eth + 1;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < CF_VLAN_INLINE; i++) {
		if (likely(!proto_is_vlan(proto)))
			return proto;
		vh = cur->pos;
		if ((void *)(vh + 1) > end)
			return -1;
		if (!*vid)
			*vid = bpf_ntohs(vh->tci) & CF_VLAN_VID_MASK;
		proto = vh->proto;
		cur->pos = vh + 1;
	}
	if (likely(!proto_is_vlan(proto)))
		return proto;

	deep = parse_vlans(eth, end);
	if (!*vid)
		*vid = deep >> 16 & CF_VLAN_VID_MASK;
	if (deep & CF_VLAN_BAD)
		return -1;
	/* VLAN_MAX_DEPTH tags in the frame and one outside: too many */
	if (outside && (deep & CF_VLAN_OFF_MASK) == CF_TYPE_OFF(VLAN_MAX_DEPTH))
		return -1;
	tp = (void *)eth + (deep & CF_VLAN_OFF_MASK);
	if ((void *)(tp + 1) > end)
		return -1;
	cur->pos = tp + 1;
	return *tp;
}

/*
 * IPv4: version 4, ihl >= 5, the whole header (options included) present,
 * and tot_len covering at least the header.  tot_len 0 is accepted on
 * frames longer than 64 KiB: that is how BIG TCP marks its IPv4 GSO
 * packets, which TC egress sees.
 */
static __always_inline int parse_iphdr(struct hdr_cursor *cur, void *end,
				       __u32 frame_len, struct iphdr **iphdr)
{
	struct iphdr *iph = cur->pos;
	__u32 hlen, tot_len;

	if ((void *)(iph + 1) > end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	hlen = iph->ihl * 4;
	if (cur->pos + hlen > end)
		return -1;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hlen && !(tot_len == 0 && frame_len > 0xffff))
		return -1;

	cur->pos += hlen;
	*iphdr = iph;
	return iph->protocol;
}

/* IPv6: version 6 and the fixed header present. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *cur, void *end,
					struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = cur->pos;

	if ((void *)(ip6h + 1) > end)
		return -1;
	if (ip6h->version != 6)
		return -1;

	cur->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

/*
 * IPv6 neighbour discovery (RFC 4861: router/neighbour solicitation and
 * advertisement, redirect) is to IPv6 what ARP is to IPv4: without it a
 * camera cannot reach its gateway, so it passes before any lookup, but
 * only where it cannot leave the link.  Hop limit 255, which receivers
 * check, says a message was not routed to us; it says nothing of where it
 * goes next: a solicitation to a global address is routed on like any
 * packet, payload and all, a channel out past the policy.  So the
 * destination must be one no router forwards: link-local (fe80::/10) or
 * link-scope multicast.  ff02::/16 holds every group ND uses (all-nodes,
 * all-routers, solicited-node); ff00::/8 would take in the site- and
 * global-scope groups a multicast router does forward.  On TC egress a
 * link-local source is enough: a router never forwards from one
 * (RFC 4291), so such a message is the gateway's own, router
 * advertisements and answers from fe80:: to a camera's global address.
 * Everything else, a unicast solicitation of the gateway's global
 * address included, is judged like any packet: ND then reaches the
 * gateway wherever the policy lets the camera reach it.
 */
#define CF_ND_FIRST 133 /* router solicitation */
#define CF_ND_LAST 137	/* redirect */

/* fe80::/10: the first 16 bits in network order, masked to 10 */
static __always_inline int ip6_is_linklocal(const struct in6_addr *a)
{
	return (a->in6_u.u6_addr16[0] & bpf_htons(0xffc0)) ==
	       bpf_htons(0xfe80);
}

/* fe80::/10 or ff02::/16: no router forwards a packet sent there */
static __always_inline int ip6_is_onlink(const struct in6_addr *a)
{
	return ip6_is_linklocal(a) || a->in6_u.u6_addr16[0] == bpf_htons(0xff02);
}

static __always_inline int is_ndp(struct ipv6hdr *ip6h, void *l4, void *end,
				  int egress)
{
	__u8 *type = l4;

	if (ip6h->nexthdr != IPPROTO_ICMPV6 || ip6h->hop_limit != 255)
		return 0;
	if ((void *)(type + 1) > end)
		return 0;
	if (*type < CF_ND_FIRST || *type > CF_ND_LAST)
		return 0;
	return ip6_is_onlink(&ip6h->daddr) ||
	       (egress && ip6_is_linklocal(&ip6h->saddr));
}

static __always_inline int ip6_is_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
	case IPPROTO_AH:
		return 1;
	}
	return 0;
}

/*
 * Length of one extension header, or -1 when it hides the rest of the
 * chain: a fragment that is not the first carries no upper-layer header.
 */
static __always_inline int ip6_ext_len(__u8 type, struct cf_ip6_ext *ext,
				       void *end)
{
	struct cf_ip6_frag *frag = (void *)ext;

	switch (type) {
	case IPPROTO_FRAGMENT:
		if ((void *)(frag + 1) > end)
			return -1;
		if (frag->frag_off & bpf_htons(0xfff8))
			return -1;
		return sizeof(*frag);
	case IPPROTO_AH:
		return (ext->hdrlen + 2) * 4;
	default:
		return (ext->hdrlen + 1) * 8;
	}
}

/*
 * Walk up to IPV6_EXT_MAX_CHAIN extension headers from the cursor.
 * *nexthdr follows the chain.  Returns 0 with the cursor on the header of
 * the upper-layer protocol *nexthdr, or -1 when the chain is truncated,
 * too long, or continues in a later fragment (*nexthdr is then the last
 * protocol the chain named).
 */
static __always_inline int skip_ip6hdrext(struct hdr_cursor *cur, void *end,
					  __u8 *nexthdr)
{
	struct cf_ip6_ext *ext;
	__u8 type = *nexthdr;
	int i, len;

#pragma unroll
	for (i = 0; i < IPV6_EXT_MAX_CHAIN; i++) {
		if (!ip6_is_ext(type))
			return 0;
		ext = cur->pos;
		if ((void *)(ext + 1) > end)
			return -1;
		*nexthdr = ext->nexthdr;
		len = ip6_ext_len(type, ext, end);
		if (len < 0)
			return -1;
		type = ext->nexthdr;
		cur->pos += len;
	}
	return ip6_is_ext(type) ? -1 : 0;
}

static __always_inline int proto_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_UDPLITE || proto == IPPROTO_SCTP;
}

/* Source and destination port, host order; only the 4 bytes are needed. */
static __always_inline int parse_ports(struct hdr_cursor *cur, void *end,
				       __u16 *sport, __u16 *dport)
{
	struct cf_ports *ports = cur->pos;

	if ((void *)(ports + 1) > end)
		return -1;
	*sport = bpf_ntohs(ports->source);
	*dport = bpf_ntohs(ports->dest);
	return 0;
}

#endif /* CF_PARSE_H */
