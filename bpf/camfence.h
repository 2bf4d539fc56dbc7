/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * camfence.h - the ABI between the datapath (bpf/) and userspace.
 *
 * Plain fixed-width types only: this header is included by the BPF
 * programs (with vmlinux-free <linux/types.h>) and by the loader and the
 * policy compiler.
 *
 * The policy lives in one "image": a BPF array map of __u32 words that
 * userspace fills through BPF_F_MMAPABLE and then installs, whole, in slot
 * 0 of the map-in-map cf_policy.  Swapping the inner map is the only way a
 * policy changes, so a packet is judged wholly by one image (decision 3 of
 * DESIGN.md).  Every image has the same capacity because the verifier
 * inlines array lookups on inner maps only when all of them match the
 * template's max_entries.
 *
 * Image layout (word offsets):
 *
 *   [0, CF_HDR_WORDS)                 struct cf_image_hdr
 *   [CF_CLASS_OFF, +CF_CLASS_MAX)     one word per class: verdict | counter
 *   [CF_V4_ROOT, +CF_ROOT_ENTRIES)    IPv4 root, indexed by the top 16 bits
 *   [CF_V6_ROOT, +CF_ROOT_ENTRIES)    IPv6 root, indexed by the top 16 bits
 *   [CF_NODES_OFF, hdr.nodes_end)     trie nodes
 *   [hdr.meta_off, hdr.n_words)       struct cf_class_meta per class (user only)
 *
 * A trie entry is either a leaf (bit 31 clear: the class id) or a node
 * pointer (bit 31 set): bits 26-30 hold the node's stride minus one and
 * bits 0-25 the word index of its first entry.  A node of stride s has
 * 2^s entries indexed by the next s bits of the address.  The compiler
 * never lets a node straddle bit 64 of an IPv6 address, so the datapath
 * reads its index from one 64-bit half.
 */
#ifndef CAMFENCE_ABI_H
#define CAMFENCE_ABI_H

#include <linux/types.h>

#define CF_IMAGE_MAGIC 0x43464d31 /* "CFM1" */
#define CF_IMAGE_VERSION 1

#define CF_HDR_WORDS 128
#define CF_CLASS_MAX 16384
#define CF_ROOT_BITS 16
#define CF_ROOT_ENTRIES (1u << CF_ROOT_BITS)
#define CF_CLASS_OFF CF_HDR_WORDS
#define CF_V4_ROOT (CF_CLASS_OFF + CF_CLASS_MAX)
#define CF_V6_ROOT (CF_V4_ROOT + CF_ROOT_ENTRIES)
#define CF_NODES_OFF (CF_V6_ROOT + CF_ROOT_ENTRIES)

/* Default capacity of an image in words (16 MiB); the loader may size it. */
#define CF_IMAGE_WORDS_DEFAULT (4u << 20)

/*
 * Words per element of an image map.  The kernel lays array values out
 * at an 8-byte stride (round_up(value_size, 8)), so a map of __u32 values
 * would mmap with every other word unused.  An image map's value is
 * therefore CF_IMAGE_ELEM_WORDS words: value_size 8, max_entries = the
 * capacity in words / CF_IMAGE_ELEM_WORDS, and its mmap is exactly the
 * dense __u32 array laid out below.  The datapath reads word i as
 * element i / 2, half i % 2.
 */
#define CF_IMAGE_ELEM_WORDS 2

/* Trie entry encoding. */
#define CF_ENT_NODE 0x80000000u
#define CF_ENT_STRIDE_SHIFT 26
#define CF_ENT_STRIDE_MASK 0x1fu
#define CF_ENT_BASE_MASK 0x03ffffffu
#define CF_ENT_CLASS_MASK 0x7fffffffu

/* Bounds on the walk below the root; the compiler respects them. */
#define CF_MIN_STRIDE 4
#define CF_V4_MAX_LEVELS ((32 - CF_ROOT_BITS) / CF_MIN_STRIDE)
#define CF_V6_MAX_LEVELS ((128 - CF_ROOT_BITS) / CF_MIN_STRIDE)

/* Fixed classes every image has. */
#define CF_CLASS_DEFAULT 0 /* no rule matched: the policy's default */
#define CF_CLASS_LOCAL 1   /* RFC 1918, ULA, link-local, ... not named */
#define CF_CLASS_FIXED 2

/* A class word: verdict in bits 0-7, counter slot in bits 16-31. */
#define CF_CLASS_VERDICT(w) ((w) & 0xffu)
#define CF_CLASS_COUNTER(w) ((w) >> 16)
#define CF_CLASS_WORD(verdict, counter) ((__u32)(verdict) | ((__u32)(counter) << 16))

enum cf_verdict {
	CF_VERDICT_PASS = 0,
	CF_VERDICT_DROP = 1,
	CF_VERDICT_MONITOR = 2, /* pass, count and log */
};

struct cf_image_hdr {
	__u32 magic;
	__u32 version;
	__u32 n_words;	      /* words in use, meta included */
	__u32 n_classes;
	__u32 nodes_end;      /* first word after the trie nodes */
	__u32 meta_off;	      /* struct cf_class_meta[n_classes] */
	__u32 malformed;      /* enum cf_verdict for bad IP headers */
	__u32 event_rate;     /* events per second per CPU; 0 = none */
	__u32 event_burst;    /* token bucket depth */
	__u32 flags;
	__u64 generation;     /* loader's push counter */
	__u64 compiled_at;    /* unix time */
	__u64 db_built_at;    /* oldest database build time, unix */
	__u8 digest[32];      /* SHA-256 of the policy and databases */
	char policy_path[256];
	__u32 v4_ranges;      /* merged ranges, for status */
	__u32 v6_ranges;
};

/* Classes as userspace describes them; the datapath never reads these. */
enum cf_class_kind {
	CF_KIND_DEFAULT = 0,
	CF_KIND_LOCAL = 1,
	CF_KIND_COUNTRY = 2,
	CF_KIND_ASN = 3,
	CF_KIND_NET = 4,
};

struct cf_class_meta {
	__u8 kind;    /* enum cf_class_kind */
	__u8 verdict; /* enum cf_verdict */
	__u8 cc[2];   /* country code, CF_KIND_COUNTRY */
	__u32 asn;    /* CF_KIND_ASN */
	__u32 line;   /* policy line of the rule, 0 for fixed classes */
	__u32 rule;   /* index of the rule in the policy */
};

/* Per-class and global counters (per-CPU maps). */
#define CF_COUNTER_SLOTS 65536

struct cf_counter {
	__u64 packets;
	__u64 bytes;
};

enum cf_stat {
	CF_STAT_NON_IP = 0,	   /* passed: not IPv4/IPv6 */
	CF_STAT_MALFORMED,	   /* truncated or bad IP header */
	CF_STAT_NO_POLICY,	   /* judged by on-missing-policy */
	CF_STAT_EVENTS,		   /* events written to the ring */
	CF_STAT_EVENTS_SUPPRESSED, /* over the rate limit */
	CF_STAT_EVENTS_LOST,	   /* ring buffer full */
	CF_STAT_NDP,		   /* passed: IPv6 neighbour discovery */
	CF_STAT_MAX,
};

/* Settings that hold without a policy (cf_config[0]). */
struct cf_config {
	__u32 on_missing; /* enum cf_verdict when no image is installed */
	__u32 learn_rate; /* learning: 1 in N IP packets per CPU; 0 = off */
};

enum cf_dir {
	CF_DIR_INGRESS = 0, /* from cameras: destination judged */
	CF_DIR_EGRESS = 1,  /* to cameras: source judged */
};

/* Ring buffer record for drop and monitor verdicts. */
struct cf_event {
	__u64 ts_ns;	  /* bpf_ktime_get_ns() */
	__u64 generation; /* image that judged it */
	__u32 ifindex;
	__u32 class;
	__u32 len;	  /* frame length */
	__u16 vlan;	  /* first non-zero VLAN id, outermost first; 0 = none */
	__u16 sport;	  /* host order; 0 when unknown */
	__u16 dport;
	__u8 dir;	  /* enum cf_dir */
	__u8 verdict;	  /* enum cf_verdict */
	__u8 family;	  /* 4 or 6 (of the outer header) */
	__u8 l4proto;
	__u8 embedded;	  /* judged by an IPv4 address inside IPv6 */
	__u8 malformed;
	__u8 src[16];	  /* IPv4 in the first 4 bytes */
	__u8 dst[16];
};

/*
 * Learning mode: which remote addresses each camera talks to, sampled
 * (cf_config.learn_rate) into the LRU hash cf_learn before any policy
 * lookup, so a gateway learns without a policy too.  The camera is the
 * source of what XDP and TC ingress see and the destination of what TC
 * egress sees; the remote is the other end, kept as the packet has it
 * (an embedded IPv4 address is found in userspace).  Country and AS are
 * worked out in userspace (decision 1).
 */
#define CF_LEARN_ENTRIES 65536

struct cf_learn_key {
	__u8 camera[16]; /* IPv4 in the first 4 bytes, the rest zero */
	__u8 remote[16];
	__u8 family;	 /* 4 or 6 */
	__u8 pad[3];
};

struct cf_learn_val {
	__u64 packets;	/* estimate: a sample counts learn_rate packets */
	__u64 bytes;	/* estimate, likewise */
	__u64 samples;	/* sampled packets */
	__u64 last_ns;	/* bpf_ktime_get_ns() of the last sample */
	__u32 ifindex;	/* where the last sample was seen */
	__u32 dirs;	/* 1 << enum cf_dir for each direction seen */
};

#endif /* CAMFENCE_ABI_H */
