/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ref_frame.h - what the datapath should decide for one frame.
 *
 * A userspace model written from the datapath's stated semantics (DESIGN.md,
 * camfence.h), not from its code, so that the two can be held against each
 * other frame by frame (tests/bpf/test_frames.c):
 *
 *   Ethernet, then up to eight 802.1Q/802.1ad tags in any mix; a ninth
 *   makes the frame malformed, as does a cut inside the Ethernet header
 *   or a tag.
 *   Non-IP (any other ethertype)          pass, counted CF_STAT_NON_IP
 *   IPv6 neighbour discovery: ICMPv6      pass, counted CF_STAT_NDP
 *   133-137 right after a sound IPv6
 *   header with hop limit 255, sent to
 *   fe80::/10 or ff02::/16, or on egress
 *   from fe80::/10
 *   IP, no image installed                on_missing, CF_STAT_NO_POLICY
 *   IP with a bad or cut header           the image's malformed verdict,
 *                                         CF_STAT_MALFORMED
 *   otherwise                             the verdict of the class of the
 *                                         judged address, its counter slot
 *
 * IPv4 is sound when version is 4, ihl >= 5, ihl * 4 bytes are present and
 * tot_len >= ihl * 4 (tot_len 0 also on frames longer than 64 KiB: BIG TCP).
 * IPv6 when version is 6 and its 40 bytes are present.  The judged address
 * is the destination on ingress (XDP, TC ingress) and the source on TC
 * egress; an IPv6 address embedding IPv4 (64:ff9b::/96, ::ffff:0:0/96,
 * 2002::/16) is judged by the IPv4 table.  Monitor passes.
 *
 * The table walk itself is policy/table.c's (cf_image_lookup_v4/v6),
 * tested elsewhere; this model is about framing and parsing.
 */
#ifndef CF_TEST_REF_FRAME_H
#define CF_TEST_REF_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camfence.h"

enum ref_kind {
	REF_NON_IP,	/* passed, CF_STAT_NON_IP */
	REF_NO_POLICY,	/* on_missing, CF_STAT_NO_POLICY */
	REF_MALFORMED,	/* image's malformed verdict, CF_STAT_MALFORMED */
	REF_JUDGED,	/* class verdict, counted in the class's slot */
	REF_NDP,	/* passed, CF_STAT_NDP */
};

struct ref_input {
	const uint8_t *frame;
	size_t caplen;		/* bytes the program can read */
	size_t frame_len;	/* whole frame (skb->len); >= caplen */
	enum cf_dir dir;	/* whose address is judged */
	const uint32_t *img;	/* live image words, NULL: none installed */
	uint32_t on_missing;	/* enum cf_verdict */
};

struct ref_result {
	enum ref_kind kind;
	uint32_t verdict;	/* enum cf_verdict that decided */
	bool drop;		/* what the program returns */
	uint32_t class;		/* REF_JUDGED */
	uint32_t slot;		/* REF_JUDGED: counter slot of the class */
	bool embedded;		/* judged by IPv4 inside IPv6 */
	unsigned tags;		/* VLAN tags walked (one more: too many) */
	char why[200];		/* the reasoning, for a mismatch report */
};

void ref_frame(const struct ref_input *in, struct ref_result *r);

const char *ref_kind_str(enum ref_kind k);

#endif /* CF_TEST_REF_FRAME_H */
