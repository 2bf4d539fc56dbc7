// SPDX-License-Identifier: GPL-2.0-only
/*
 * ref_frame.c - the reference model of ref_frame.h.
 *
 * Deliberately plain: bytes are read by offset from the start of the frame,
 * every length is compared with what was captured, and each step leaves a
 * line of reasoning so that a disagreement with the datapath explains
 * itself ("tag 1 (0x8100), ipv4 ihl=4 -> malformed").
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "table.h"
#include "ref_frame.h"

#define REF_ETH_LEN 14
#define REF_TAG_LEN 4
#define REF_MAX_TAGS 8
#define REF_IP4_MIN 20
#define REF_IP6_LEN 40
#define REF_BIG_FRAME 0xffffu /* longer frames may say tot_len 0 */

struct ref_addr {
	int family;		/* 4 or 6 */
	uint8_t b[16];		/* network order; IPv4 in b[0..3] */
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void say(struct ref_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct ref_result *r, const char *fmt, ...)
{
	size_t n = strlen(r->why);
	va_list ap;

	if (n >= sizeof(r->why) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why + n, sizeof(r->why) - n, fmt, ap);
	va_end(ap);
}

const char *ref_kind_str(enum ref_kind k)
{
	static const char *const s[] = { "non-ip", "no-policy", "malformed",
					 "judged", "ndp" };

	return k <= REF_NDP ? s[k] : "?";
}

/*
 * Ethernet and its tags.  Sets *off to the first byte after them and
 * returns the ethertype, or -1 (malformed) when a header is cut or there
 * are more than REF_MAX_TAGS tags.
 */
static int link_layer(const struct ref_input *in, size_t *off,
		      struct ref_result *r)
{
	uint16_t type;
	int tags = 0;

	if (in->caplen < REF_ETH_LEN) {
		say(r, "ethernet header cut at %zu bytes", in->caplen);
		return -1;
	}
	type = rd16(in->frame + 12);
	*off = REF_ETH_LEN;
	while (type == 0x8100 || type == 0x88a8) {
		if (tags == REF_MAX_TAGS) {
			say(r, "tag %d (%#06x): more than %d tags", tags + 1,
			    type, REF_MAX_TAGS);
			r->tags = tags + 1;
			return -1;
		}
		if (in->caplen < *off + REF_TAG_LEN) {
			say(r, "tag %d (%#06x) cut at %zu bytes", tags + 1,
			    type, in->caplen);
			return -1;
		}
		say(r, "tag %d (%#06x), ", tags + 1, type);
		type = rd16(in->frame + *off + 2);
		*off += REF_TAG_LEN;
		r->tags = ++tags;
	}
	return type;
}

/* The IPv4 header at off; 0 and the judged address, or -1 (malformed). */
static int ipv4_header(const struct ref_input *in, size_t off,
		       struct ref_addr *a, struct ref_result *r)
{
	const uint8_t *h = in->frame + off;
	size_t have = in->caplen - off;
	unsigned version, ihl, tot_len;

	if (have < REF_IP4_MIN) {
		say(r, "ipv4 header cut at %zu of 20 bytes", have);
		return -1;
	}
	version = h[0] >> 4;
	ihl = h[0] & 0xf;
	tot_len = rd16(h + 2);
	if (version != 4) {
		say(r, "ipv4 version=%u", version);
		return -1;
	}
	if (ihl < 5) {
		say(r, "ipv4 ihl=%u", ihl);
		return -1;
	}
	if (have < ihl * 4) {
		say(r, "ipv4 ihl=%u needs %u bytes, %zu present", ihl,
		    ihl * 4, have);
		return -1;
	}
	if (tot_len < ihl * 4) {
		if (tot_len != 0 || in->frame_len <= REF_BIG_FRAME) {
			say(r, "ipv4 tot_len=%u < ihl*4=%u", tot_len, ihl * 4);
			return -1;
		}
		say(r, "ipv4 tot_len=0 on a %zu-byte frame (BIG TCP), ",
		    in->frame_len);
	}
	a->family = 4;
	memcpy(a->b, h + (in->dir == CF_DIR_EGRESS ? 12 : 16), 4);
	return 0;
}

/* fe80::/10, or with `group` also ff02::/16: no router forwards them. */
static bool on_link(const uint8_t a[16], bool group)
{
	return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	       (group && a[0] == 0xff && a[1] == 0x02);
}

static int ipv6_header(const struct ref_input *in, size_t off,
		       struct ref_addr *a, struct ref_result *r)
{
	const uint8_t *h = in->frame + off;
	size_t have = in->caplen - off;

	if (have < REF_IP6_LEN) {
		say(r, "ipv6 header cut at %zu of 40 bytes", have);
		return -1;
	}
	if (h[0] >> 4 != 6) {
		say(r, "ipv6 version=%u", h[0] >> 4);
		return -1;
	}
	a->family = 6;
	memcpy(a->b, h + (in->dir == CF_DIR_EGRESS ? 8 : 24), 16);
	/* next header 58 (ICMPv6), hop limit 255, type byte present */
	if (h[6] != 58 || h[7] != 255 || have <= REF_IP6_LEN ||
	    h[REF_IP6_LEN] < 133 || h[REF_IP6_LEN] > 137)
		return 0;
	say(r, "icmpv6 type %u, hop limit 255, ", h[REF_IP6_LEN]);
	if (on_link(h + 24, true) ||
	    (in->dir == CF_DIR_EGRESS && on_link(h + 8, false))) {
		say(r, "on-link: neighbour discovery");
		return 1;
	}
	say(r, "not on-link, ");
	return 0;
}

/* Framing: REF_NON_IP, REF_MALFORMED, or REF_JUDGED with the address. */
static enum ref_kind frame_parse(const struct ref_input *in,
				 struct ref_addr *a, struct ref_result *r)
{
	size_t off = 0;
	int type = link_layer(in, &off, r);

	if (type < 0)
		return REF_MALFORMED;
	if (type == 0x0800)
		return ipv4_header(in, off, a, r) ? REF_MALFORMED : REF_JUDGED;
	if (type == 0x86dd) {
		int v = ipv6_header(in, off, a, r);

		return v < 0 ? REF_MALFORMED : v ? REF_NDP : REF_JUDGED;
	}
	say(r, "ethertype %#06x is not IP", type);
	return REF_NON_IP;
}

/* IPv4 carried in an IPv6 address: NAT64, IPv4-mapped, 6to4. */
static bool embedded_v4(const uint8_t b[16], uint32_t *v4)
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(b, nat64, 12) || !memcmp(b, mapped, 12)) {
		*v4 = rd32(b + 12);
		return true;
	}
	if (b[0] == 0x20 && b[1] == 0x02) {
		*v4 = rd32(b + 2);
		return true;
	}
	return false;
}

static uint32_t addr_class(const uint32_t *img, const struct ref_addr *a,
			   struct ref_result *r)
{
	char s[INET6_ADDRSTRLEN];
	cf_u128 v6 = 0;
	uint32_t v4;
	int i;

	inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->b, s, sizeof(s));
	say(r, "ipv%d %s", a->family, s);
	if (a->family == 4)
		return cf_image_lookup_v4(img, rd32(a->b));
	if (embedded_v4(a->b, &v4)) {
		r->embedded = true;
		say(r, " embeds %u.%u.%u.%u", v4 >> 24, v4 >> 16 & 0xff,
		    v4 >> 8 & 0xff, v4 & 0xff);
		return cf_image_lookup_v4(img, v4);
	}
	for (i = 0; i < 16; i++)
		v6 = v6 << 8 | a->b[i];
	return cf_image_lookup_v6(img, v6);
}

static void judge(const struct ref_input *in, const struct ref_addr *a,
		  struct ref_result *r)
{
	const struct cf_image_hdr *h = cf_image_hdr(in->img);
	uint32_t class = addr_class(in->img, a, r), word;
	char rule[96] = "?";

	if (class >= CF_CLASS_MAX)
		class = CF_CLASS_DEFAULT;
	if (class < h->n_classes)
		cf_class_str(&cf_image_meta(in->img)[class], rule,
			     sizeof(rule));
	word = in->img[CF_CLASS_OFF + class];
	r->class = class;
	r->slot = CF_CLASS_COUNTER(word);
	r->verdict = CF_CLASS_VERDICT(word);
	say(r, " -> class %u (%s), %s", class, rule,
	    cf_verdict_str(r->verdict));
}

void ref_frame(const struct ref_input *in, struct ref_result *r)
{
	struct ref_addr a = { 0 };

	memset(r, 0, sizeof(*r));
	say(r, "%s: ", in->dir == CF_DIR_EGRESS ? "egress, source" :
						  "ingress, destination");
	r->kind = frame_parse(in, &a, r);
	if (r->kind == REF_NON_IP || r->kind == REF_NDP) {
		r->verdict = CF_VERDICT_PASS;
		say(r, " -> pass");
	} else if (!in->img) {
		r->kind = REF_NO_POLICY;
		r->verdict = in->on_missing;
		say(r, " -> no image, on-missing-policy %s",
		    cf_verdict_str(r->verdict));
	} else if (r->kind == REF_MALFORMED) {
		r->verdict = cf_image_hdr(in->img)->malformed;
		say(r, " -> malformed, %s", cf_verdict_str(r->verdict));
	} else {
		judge(in, &a, r);
	}
	r->drop = r->verdict == CF_VERDICT_DROP;
}
