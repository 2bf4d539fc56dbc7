/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * bench_abi.h - what bench.bpf.c and the cfbench driver share.
 *
 * Addresses are held in network byte order, as packets carry them, so
 * every implementation under test converts them exactly as it would a
 * packet's.
 */
#ifndef CF_BENCH_ABI_H
#define CF_BENCH_ABI_H

#include <linux/types.h>

/*
 * The address array of the lookup harness: 64-byte elements (one cache
 * line) of packed addresses, so the harness streams through memory the
 * way a NIC ring would instead of striding over 8-byte-aligned slots.
 */
#define BENCH_ELEM_WORDS 16
#define BENCH_V4_PER_ELEM BENCH_ELEM_WORDS
#define BENCH_V6_PER_ELEM (BENCH_ELEM_WORDS / 4)

struct bench_addrs {
	__u32 w[BENCH_ELEM_WORDS];
};

/* Keys of the LPM tries: prefix length, then the address bytes. */
struct lpm_v4_key {
	__u32 prefixlen;
	__u32 addr;
};

struct lpm_v6_key {
	__u32 prefixlen;
	__u32 addr[4];
};

/*
 * One destination of the traffic generator: the address, the IPv4 header
 * checksum that goes with it (every other header field is fixed), and
 * the verdict the policy gives it, stamped into the frame so the bare XDP
 * program can reproduce every filter's verdicts without a lookup.
 */
struct gen_ent {
	__u32 dst[4];
	__u16 csum;
	__u8 drop;
	__u8 pad[13];
};

/* Byte of the Ethernet source address that carries the stamp. */
#define GEN_STAMP_OFF 11

/* The flat prototype's image: one array value of the most it may hold. */
#define FLAT_WORDS (1u << 20)

struct flat_img {
	__u32 w[FLAT_WORDS];
};

/* The harness programs' results (bss). */
struct bench_out {
	__u64 ns; /* bpf_ktime_get_ns() around the loop */
	__u64 drops; /* addresses judged DROP */
	__u64 class_sum; /* sum of their classes: catches wrong answers */
	__u32 done; /* iterations completed */
	__u32 err; /* nonzero: no image, or an address out of range */
};

#endif /* CF_BENCH_ABI_H */
