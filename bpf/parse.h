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
 * VLAN tags parsed, outermost first.  802.1Q (0x8100) and 802.1ad (0x88a8)
 * are accepted in either order.  A frame with more tags than this returns
 * the next tag's TPID, which callers treat as a non-IP frame: the gateway
 * would need that many stacked VLAN devices to route what is inside, and
 * such a setup should raise the bound rather than have its frames judged
 * by a guess.
 */
#ifndef VLAN_MAX_DEPTH
#define VLAN_MAX_DEPTH 2
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

/*
 * Ethernet and up to VLAN_MAX_DEPTH tags.  *vid gets the outermost VLAN
 * id (0 when untagged).
 */
static __always_inline int parse_ethhdr(struct hdr_cursor *cur, void *end,
					__u16 *vid)
{
	struct ethhdr *eth = cur->pos;
	struct cf_vlan_hdr *vh;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > end)
		return -1;
	cur->pos = eth + 1;
	proto = eth->h_proto;
	*vid = 0;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!proto_is_vlan(proto))
			break;
		vh = cur->pos;
		if ((void *)(vh + 1) > end)
			return -1;
		if (i == 0)
			*vid = bpf_ntohs(vh->tci) & CF_VLAN_VID_MASK;
		proto = vh->proto;
		cur->pos = vh + 1;
	}
	return proto;
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
 * camera cannot reach its gateway.  A gateway answers from its global
 * address, which an allow-list policy would judge and drop, so these
 * messages pass before any lookup.  Hop limit 255 is what RFC 4861 makes
 * receivers check: such a packet cannot have been routed from afar.
 */
#define CF_ND_FIRST 133 /* router solicitation */
#define CF_ND_LAST 137	/* redirect */

static __always_inline int is_ndp(struct ipv6hdr *ip6h, void *l4, void *end)
{
	__u8 *type = l4;

	if (ip6h->nexthdr != IPPROTO_ICMPV6 || ip6h->hop_limit != 255)
		return 0;
	if ((void *)(type + 1) > end)
		return 0;
	return *type >= CF_ND_FIRST && *type <= CF_ND_LAST;
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
