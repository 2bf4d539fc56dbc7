/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkt.h - frames for the datapath tests, described rather than spelled.
 *
 * A struct pkt_desc says what a frame is (tags, family, addresses, ports,
 * header quirks, where to cut it); pkt_build() writes the bytes.  Every
 * field left zero takes the ordinary value, so a record states only what
 * makes its frame interesting.
 */
#ifndef CF_TEST_PKT_H
#define CF_TEST_PKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>

#define PKT_MAX 512
#define PKT_MAX_TAGS 12
#define PKT_MAX_EXT 8

/* Header sizes, for readable cut points: .cut = ETH + VLAN + IP4 - 1. */
#define ETH 14
#define VLAN 4
#define IP4 20
#define IP6 40

/* Addresses a description leaves NULL. */
#define PKT_V4_SRC "192.168.1.10"
#define PKT_V4_DST "192.168.1.1"
#define PKT_V6_SRC "fd00::10"
#define PKT_V6_DST "fd00::1"

/* A description's family and addresses: { V4(NULL, "192.0.2.1") }. */
#define V4(s, d) .family = 4, .src = (s), .dst = (d)
#define V6(s, d) .family = 6, .src = (s), .dst = (d)

#define TPID_Q 0x8100
#define TPID_AD 0x88a8

struct pkt_desc {
	int n_tags;
	uint16_t tpid[PKT_MAX_TAGS]; /* outermost first */
	uint16_t vid[PKT_MAX_TAGS];
	uint16_t ethertype;	     /* 0: from family */
	int family;		     /* 4, 6, or 0 for a raw ethertype */
	const char *src;	     /* textual; NULL = a fixed local address */
	const char *dst;
	uint8_t proto;		     /* 0: UDP */
	uint16_t sport, dport;
	uint8_t version;	     /* 0: the family's */
	uint8_t ihl;		     /* IPv4, 0: 5; options are NOPs */
#define PKT_IHL_ZERO 16		     /* .ihl that writes an ihl of 0 */
	bool tot_len_set;	     /* IPv4: write tot_len as given */
	uint16_t tot_len;
	uint16_t frag;		     /* fragment offset, 8-byte units */
	bool mf;		     /* more fragments */
	int n_ext;		     /* IPv6 extension headers, in order */
	uint8_t ext[PKT_MAX_EXT];    /* IPPROTO_{HOPOPTS,ROUTING,...} */
	uint8_t hop_limit;	     /* IPv6, 0: 64 */
	uint8_t icmp_type;	     /* ICMPv6 type, 0: echo request */
	int payload;		     /* bytes after the L4 header */
	int cut;		     /* > 0: keep only this many bytes */
};

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

static inline void pkt_put(struct pkt *p, const void *src, size_t n)
{
	if (p->len + n <= sizeof(p->b))
		memcpy(p->b + p->len, src, n);
	p->len += n;
}

static inline void pkt_put16(struct pkt *p, uint16_t v)
{
	v = htons(v);
	pkt_put(p, &v, 2);
}

static inline void pkt_fill(struct pkt *p, uint8_t byte, size_t n)
{
	while (n--)
		pkt_put(p, &byte, 1);
}

static inline int pkt_addr(int family, const char *s, const char *dflt,
			   uint8_t out[16])
{
	memset(out, 0, 16);
	return inet_pton(family == 4 ? AF_INET : AF_INET6, s ? s : dflt,
			 out) == 1 ? 0 : -1;
}

static inline void pkt_l2(struct pkt *p, const struct pkt_desc *d)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x01,
					  0x02, 0, 0, 0, 0, 0x02 };
	uint16_t type = d->ethertype;
	int i;

	if (!type)
		type = d->family == 6 ? ETH_P_IPV6 : ETH_P_IP;
	pkt_put(p, macs, sizeof(macs));
	for (i = 0; i < d->n_tags && i < PKT_MAX_TAGS; i++) {
		pkt_put16(p, d->tpid[i]);
		pkt_put16(p, d->vid[i] | (3u << 13)); /* PCP 3: ignored */
	}
	pkt_put16(p, type);
}

static inline uint8_t pkt_proto(const struct pkt_desc *d)
{
	return d->proto ? d->proto : IPPROTO_UDP;
}

/* The L4 header (absent in later fragments) and the payload. */
static inline void pkt_l4(struct pkt *p, const struct pkt_desc *d, bool first)
{
	uint8_t proto = pkt_proto(d);

	if (first && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
		pkt_put16(p, d->sport);
		pkt_put16(p, d->dport);
		if (proto == IPPROTO_TCP) {
			pkt_fill(p, 0, 8);
			pkt_put16(p, 0x5002); /* doff 5, SYN */
			pkt_fill(p, 0, 6);
		} else {
			pkt_put16(p, 8 + d->payload);
			pkt_put16(p, 0);
		}
	} else if (first && proto == IPPROTO_ICMP) {
		pkt_put16(p, 0x0800); /* echo request */
		pkt_fill(p, 0, 6);
	} else if (first && proto == IPPROTO_ICMPV6) {
		pkt_put(p, (uint8_t[]){ d->icmp_type ? d->icmp_type : 128, 0 }, 2);
		pkt_fill(p, 0, 6);
	}
	/* Bytes that would read as ports 0xa5a5 if wrongly taken for them. */
	pkt_fill(p, 0xa5, d->payload);
}

static inline uint16_t pkt_csum(const uint8_t *b, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static inline int pkt_ipv4(struct pkt *p, const struct pkt_desc *d)
{
	uint8_t src[16], dst[16];
	size_t ip = p->len;
	unsigned ihl = d->ihl ? d->ihl & 15 : 5;
	unsigned words = ihl > 5 ? ihl : 5;
	uint16_t frag = d->frag | (d->mf ? 0x2000 : 0);
	uint16_t csum;

	if (pkt_addr(4, d->src, PKT_V4_SRC, src) ||
	    pkt_addr(4, d->dst, PKT_V4_DST, dst))
		return -1;
	pkt_put(p, (uint8_t[]){ (d->version ? d->version : 4) << 4 | ihl }, 1);
	pkt_fill(p, 0, 1);
	pkt_put16(p, 0);	/* tot_len, below */
	pkt_put16(p, 0x1234);	/* id */
	pkt_put16(p, frag);
	pkt_put(p, (uint8_t[]){ 64, pkt_proto(d) }, 2);
	pkt_put16(p, 0);	/* checksum, below */
	pkt_put(p, src, 4);
	pkt_put(p, dst, 4);
	pkt_fill(p, 1, (words - 5) * 4); /* NOP options */
	pkt_l4(p, d, d->frag == 0);
	if (p->len > sizeof(p->b))
		return -1;

	*(uint16_t *)(p->b + ip + 2) =
		htons(d->tot_len_set ? d->tot_len : p->len - ip);
	csum = pkt_csum(p->b + ip, words * 4);
	*(uint16_t *)(p->b + ip + 10) = htons(csum);
	return 0;
}

/* One extension header of 8 bytes (16 for destination options). */
static inline void pkt_ext(struct pkt *p, const struct pkt_desc *d,
			   uint8_t type, uint8_t next)
{
	switch (type) {
	case IPPROTO_FRAGMENT:
		pkt_put(p, (uint8_t[]){ next, 0 }, 2);
		pkt_put16(p, d->frag << 3 | (d->mf ? 1 : 0));
		pkt_put(p, (uint8_t[]){ 0xca, 0xfe, 0xf0, 0x0d }, 4);
		break;
	case IPPROTO_AH: /* 12 bytes of header, 4 of ICV */
		pkt_put(p, (uint8_t[]){ next, 2, 0, 0 }, 4);
		pkt_fill(p, 0x11, 12);
		break;
	case IPPROTO_DSTOPTS: /* hdrlen 1: 16 bytes, one PadN */
		pkt_put(p, (uint8_t[]){ next, 1, 1, 12 }, 4);
		pkt_fill(p, 0, 12);
		break;
	case IPPROTO_ROUTING: /* type 0 header stub, segments left 0 */
		pkt_put(p, (uint8_t[]){ next, 0, 0, 0 }, 4);
		pkt_fill(p, 0, 4);
		break;
	default: /* hop-by-hop: PadN */
		pkt_put(p, (uint8_t[]){ next, 0, 1, 4 }, 4);
		pkt_fill(p, 0, 4);
		break;
	}
}

static inline bool pkt_v6_later_frag(const struct pkt_desc *d)
{
	int i;

	for (i = 0; i < d->n_ext; i++)
		if (d->ext[i] == IPPROTO_FRAGMENT && d->frag)
			return true;
	return false;
}

static inline int pkt_ipv6(struct pkt *p, const struct pkt_desc *d)
{
	uint8_t src[16], dst[16];
	size_t ip = p->len;
	uint8_t first = d->n_ext ? d->ext[0] : pkt_proto(d);
	uint32_t vtc = (uint32_t)(d->version ? d->version : 6) << 28;
	int i;

	if (pkt_addr(6, d->src, PKT_V6_SRC, src) ||
	    pkt_addr(6, d->dst, PKT_V6_DST, dst))
		return -1;
	vtc = htonl(vtc);
	pkt_put(p, &vtc, 4);
	pkt_put16(p, 0); /* payload length, below */
	pkt_put(p, (uint8_t[]){ first, d->hop_limit ? d->hop_limit : 64 }, 2);
	pkt_put(p, src, 16);
	pkt_put(p, dst, 16);
	for (i = 0; i < d->n_ext && i < PKT_MAX_EXT; i++)
		pkt_ext(p, d, d->ext[i],
			i + 1 < d->n_ext ? d->ext[i + 1] : pkt_proto(d));
	pkt_l4(p, d, !pkt_v6_later_frag(d));
	if (p->len > sizeof(p->b))
		return -1;
	*(uint16_t *)(p->b + ip + 4) = htons(p->len - ip - 40);
	return 0;
}

/* 0, or -1 when the description cannot be built. */
static inline int pkt_build(const struct pkt_desc *d, struct pkt *p)
{
	int err = 0;

	memset(p, 0, sizeof(*p));
	pkt_l2(p, d);
	if (d->family == 4)
		err = pkt_ipv4(p, d);
	else if (d->family == 6)
		err = pkt_ipv6(p, d);
	else
		pkt_fill(p, 0x5a, d->payload ? d->payload : 28);
	if (err || p->len > sizeof(p->b))
		return -1;
	if (d->cut > 0 && (size_t)d->cut < p->len)
		p->len = d->cut;
	return 0;
}

static inline void pkt_hexdump(FILE *f, const struct pkt *p)
{
	size_t i;

	for (i = 0; i < p->len; i++)
		fprintf(f, "%02x%s", p->b[i],
			(i + 1) % 16 == 0 || i + 1 == p->len ? "\n" : " ");
}

#endif /* CF_TEST_PKT_H */
