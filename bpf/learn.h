/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * learn.h - learning mode: sample who each camera talks to.
 *
 * Off (learn_rate 0) it costs the datapath one read of cf_config per IP
 * packet, a read the core shares with on_missing (under a nanosecond in
 * test_datapath's bench); everything here runs only when learning is on.
 * One IP packet in learn_rate per CPU is sampled: a per-CPU countdown
 * keeps the pace exact and costs no random numbers or atomics.
 */
#ifndef CF_LEARN_H
#define CF_LEARN_H

#include <linux/types.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>

#include "camfence.h"
#include "compiler.h"
#include "maps.h"

/* Camera and remote of a sound IPv4 or IPv6 header. */
static __always_inline void cf_learn_key(struct cf_learn_key *k, void *l3,
					 __u8 family, __u8 dir)
{
	struct ipv6hdr *ip6h = l3;
	struct iphdr *iph = l3;
	__u8 *cam = k->camera, *rem = k->remote;

	/* ingress: the camera sends; egress: it receives */
	if (dir != CF_DIR_INGRESS) {
		cam = k->remote;
		rem = k->camera;
	}
	k->family = family;
	if (family == 4) {
		__builtin_memcpy(cam, &iph->saddr, 4);
		__builtin_memcpy(rem, &iph->daddr, 4);
	} else {
		__builtin_memcpy(cam, &ip6h->saddr, 16);
		__builtin_memcpy(rem, &ip6h->daddr, 16);
	}
}

/*
 * The entry is shared by every CPU, hence the atomic adds.  Two CPUs
 * inserting the same new pair at once lose one sample to BPF_NOEXIST,
 * and two setting a new direction bit at once may lose one bit until the
 * next sample sets it again (32-bit atomic OR needs -mcpu=v3): samples
 * are estimates anyway.
 */
static __always_inline void cf_learn_record(const struct cf_learn_key *k,
					    __u32 ifindex, __u8 dir, __u32 segs,
					    __u32 len, __u32 rate)
{
	__u64 now = bpf_ktime_get_ns();
	struct cf_learn_val *v, nv = {
		.packets = (__u64)segs * rate,
		.bytes = (__u64)len * rate,
		.samples = 1,
		.last_ns = now,
		.ifindex = ifindex,
		.dirs = 1u << dir,
	};

	v = bpf_map_lookup_elem(&cf_learn, k);
	if (!v) {
		bpf_map_update_elem(&cf_learn, k, &nv, BPF_NOEXIST);
		return;
	}
	__sync_fetch_and_add(&v->packets, nv.packets);
	__sync_fetch_and_add(&v->bytes, nv.bytes);
	__sync_fetch_and_add(&v->samples, 1);
	if (!(READ_ONCE(v->dirs) & nv.dirs))
		WRITE_ONCE(v->dirs, v->dirs | nv.dirs);
	WRITE_ONCE(v->last_ns, now);
	WRITE_ONCE(v->ifindex, ifindex);
}

/* Count this IP packet; every rate-th one on this CPU is recorded. */
static __always_inline void cf_learn_sample(void *l3, __u8 family,
					    __u32 ifindex, __u8 dir, __u32 segs,
					    __u32 len, __u32 rate)
{
	struct cf_learn_key k = {};
	__u32 zero = 0, *tick;

	tick = bpf_map_lookup_elem(&cf_learn_tick, &zero);
	if (!tick)
		return;
	/* per-CPU, run to completion: a plain increment is exact */
	if (++*tick < rate)
		return;
	*tick = 0;
	cf_learn_key(&k, l3, family, dir);
	cf_learn_record(&k, ifindex, dir, segs, len, rate);
}

#endif /* CF_LEARN_H */
