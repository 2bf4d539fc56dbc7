// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_learn.c - learning mode of the real BPF programs, through
 * BPF_PROG_TEST_RUN.
 *
 * The skeleton is loaded without a policy (learning works before one is
 * pushed), cf_config.learn_rate is set, frames run through the three
 * programs, and cf_learn is read back: which (camera, remote) pairs were
 * recorded, in which direction, with what counts.
 *
 * Runs as root, pinned to one CPU: the sampling countdown is per CPU.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bpfenv.h"
#include "pkt.h"

#define CAM4 "192.0.2.10"
#define CAM6 "2001:db8:ca::10"
#define DE4 "198.51.100.10"
#define RU4 "198.51.100.200"
#define DE6 "2001:db8:de::10"

/* Run a frame `repeat` times; the program's return code or -errno. */
static int run(struct bpfenv *e, enum prog_id id, const struct pkt_desc *d,
	       int repeat, uint32_t gso_segs, size_t *len)
{
	struct pkt p;

	assert_int_equal(pkt_build(d, &p), 0);
	if (len)
		*len = p.len;
	return prog_test_run(e->prog[id], id == XDP, &p, repeat, gso_segs,
			     NULL);
}

/* Empty the table and restart every CPU's countdown. */
static void learn_reset(struct bpfenv *e)
{
	int fd = bpf_map__fd(e->skel->maps.cf_learn);
	struct cf_learn_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		assert_int_equal(bpf_map_delete_elem(fd, &k), 0);
	percpu_zero(e, e->skel->maps.cf_learn_tick);
}

static size_t learn_count(struct bpfenv *e)
{
	int fd = bpf_map__fd(e->skel->maps.cf_learn);
	struct cf_learn_key k, prev, *pp = NULL;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, pp, &k)) {
		prev = k;
		pp = &prev;
		n++;
	}
	return n;
}

static int key_make(struct cf_learn_key *k, int family, const char *cam,
		    const char *remote)
{
	memset(k, 0, sizeof(*k));
	k->family = family;
	return pkt_addr(family, cam, NULL, k->camera) ?:
		       pkt_addr(family, remote, NULL, k->remote);
}

/* The entry of (camera, remote), or -ENOENT. */
static int learn_get(struct bpfenv *e, int family, const char *cam,
		     const char *remote, struct cf_learn_val *v)
{
	struct cf_learn_key k;

	assert_int_equal(key_make(&k, family, cam, remote), 0);
	if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.cf_learn), &k, v))
		return -errno;
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

/*
 * Rate 1: each frame is recorded under (camera, remote) whichever way it
 * goes.  XDP and TC ingress see the camera as source, TC egress as
 * destination; the two directions of one conversation share an entry.
 */
static void test_directions(void **state)
{
	const struct pkt_desc out4 = { V4(CAM4, DE4) }, in4 = { V4(DE4, CAM4) };
	const struct pkt_desc out6 = { V6(CAM6, DE6), .payload = 100 };
	const struct pkt_desc tci = { V4(CAM4, RU4) };
	struct bpfenv *e = *state;
	struct cf_learn_val v;
	size_t l_out, l_in, l6;

	learn_reset(e);
	config_set(e, CF_VERDICT_PASS, 1);
	assert_int_equal(run(e, XDP, &out4, 1, 0, &l_out), XDP_PASS);
	assert_int_equal(run(e, TCE, &in4, 1, 0, &l_in), TC_ACT_OK);
	assert_int_equal(run(e, XDP, &out6, 3, 0, &l6), XDP_PASS);
	assert_int_equal(run(e, TCI, &tci, 1, 0, NULL), TC_ACT_OK);
	assert_int_equal(learn_count(e), 3);

	assert_int_equal(learn_get(e, 4, CAM4, DE4, &v), 0);
	assert_int_equal(v.packets, 2);
	assert_int_equal(v.samples, 2);
	assert_int_equal(v.bytes, l_out + l_in);
	assert_int_equal(v.dirs, 1u << CF_DIR_INGRESS | 1u << CF_DIR_EGRESS);
	assert_int_equal(v.ifindex, BPFENV_IFINDEX);
	assert_true(v.last_ns > 0);

	assert_int_equal(learn_get(e, 6, CAM6, DE6, &v), 0);
	assert_int_equal(v.packets, 3);
	assert_int_equal(v.bytes, 3 * l6);
	assert_int_equal(v.dirs, 1u << CF_DIR_INGRESS);

	assert_int_equal(learn_get(e, 4, CAM4, RU4, &v), 0);
	assert_int_equal(v.dirs, 1u << CF_DIR_INGRESS);
	/* never the wrong way round */
	assert_int_equal(learn_get(e, 4, DE4, CAM4, &v), -ENOENT);
}

/* The remote is kept as the packet has it: IPv4 inside IPv6 too. */
static void test_embedded_raw(void **state)
{
	const struct pkt_desc d = { V6(CAM6, "64:ff9b::c633:640a") };
	struct bpfenv *e = *state;
	struct cf_learn_val v;

	learn_reset(e);
	config_set(e, CF_VERDICT_PASS, 1);
	assert_int_equal(run(e, XDP, &d, 1, 0, NULL), XDP_PASS);
	assert_int_equal(learn_get(e, 6, CAM6, "64:ff9b::c633:640a", &v), 0);
	assert_int_equal(v.packets, 1);
}

/* Rate 0 records nothing; neither do non-IP, ND or broken frames. */
static void test_off_and_not_ip(void **state)
{
	const struct pkt_desc ip = { V4(CAM4, DE4) };
	const struct pkt_desc arp = { .ethertype = ETH_P_ARP };
	const struct pkt_desc nd = { V6("fe80::1", "ff02::1"),
				     .proto = IPPROTO_ICMPV6, .icmp_type = 135,
				     .hop_limit = 255 };
	const struct pkt_desc cut = { V4(CAM4, DE4), .cut = ETH + IP4 - 1 };
	struct bpfenv *e = *state;

	learn_reset(e);
	config_set(e, CF_VERDICT_PASS, 0);
	assert_int_equal(run(e, XDP, &ip, 1000, 0, NULL), XDP_PASS);
	assert_int_equal(run(e, TCE, &ip, 1000, 0, NULL), TC_ACT_OK);
	assert_int_equal(learn_count(e), 0);

	config_set(e, CF_VERDICT_PASS, 1);
	assert_int_equal(run(e, XDP, &arp, 10, 0, NULL), XDP_PASS);
	assert_int_equal(run(e, XDP, &nd, 10, 0, NULL), XDP_PASS);
	assert_int_equal(run(e, XDP, &cut, 10, 0, NULL), XDP_PASS);
	assert_int_equal(learn_count(e), 0);
	/* and the same table fills once frames are IP */
	assert_int_equal(run(e, XDP, &ip, 1, 0, NULL), XDP_PASS);
	assert_int_equal(learn_count(e), 1);
}

/*
 * Rate N: one frame in N per CPU is sampled, and counts for N.  The
 * countdown is exact on one CPU, so the test can be too.
 */
static void test_rates(void **state)
{
	static const uint32_t rates[] = { 1, 2, 7, 100, 1000 };
	const struct pkt_desc d = { V4(CAM4, DE4) };
	const int frames = 7000;
	struct bpfenv *e = *state;
	struct cf_learn_val v;
	size_t len, i;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		learn_reset(e);
		config_set(e, CF_VERDICT_PASS, rates[i]);
		assert_int_equal(run(e, XDP, &d, frames, 0, &len), XDP_PASS);
		assert_int_equal(learn_get(e, 4, CAM4, DE4, &v), 0);
		assert_int_equal(v.samples, frames / rates[i]);
		assert_int_equal(v.packets, frames / rates[i] * rates[i]);
		assert_int_equal(v.bytes,
				 (uint64_t)frames / rates[i] * rates[i] * len);
	}
	/* fewer frames than the rate: nothing yet */
	learn_reset(e);
	config_set(e, CF_VERDICT_PASS, 50);
	assert_int_equal(run(e, XDP, &d, 49, 0, NULL), XDP_PASS);
	assert_int_equal(learn_count(e), 0);
	assert_int_equal(run(e, XDP, &d, 1, 0, NULL), XDP_PASS);
	assert_int_equal(learn_count(e), 1);
}

/* A GSO skb stands for its segments. */
static void test_gso(void **state)
{
	const struct pkt_desc d = { V4(DE4, CAM4), .proto = IPPROTO_TCP };
	struct bpfenv *e = *state;
	struct cf_learn_val v;

	learn_reset(e);
	config_set(e, CF_VERDICT_PASS, 1);
	assert_int_equal(run(e, TCE, &d, 1, 4, NULL), TC_ACT_OK);
	assert_int_equal(learn_get(e, 4, CAM4, DE4, &v), 0);
	assert_int_equal(v.packets, 4);
	assert_int_equal(v.samples, 1);
	assert_int_equal(v.dirs, 1u << CF_DIR_EGRESS);
}

/* Learning does not change verdicts, and sees what is dropped. */
static void test_verdict_kept(void **state)
{
	const struct pkt_desc d = { V4(CAM4, RU4) };
	struct bpfenv *e = *state;
	struct cf_learn_val v;

	learn_reset(e);
	config_set(e, CF_VERDICT_DROP, 1);
	assert_int_equal(run(e, XDP, &d, 1, 0, NULL), XDP_DROP);
	assert_int_equal(run(e, TCI, &d, 1, 0, NULL), TC_ACT_SHOT);
	assert_int_equal(learn_get(e, 4, CAM4, RU4, &v), 0);
	assert_int_equal(v.packets, 2);
	config_set(e, CF_VERDICT_PASS, 1);
}

/* ---- main ------------------------------------------------------------- */

static int group_setup(void **state)
{
	static struct bpfenv env;
	int err;

	cpu_pin(); /* one CPU: one sampling countdown */
	err = bpfenv_open(&env, 0);
	if (err) {
		fprintf(stderr, "cannot load the datapath (root needed): %s\n",
			strerror(-err));
		bpfenv_close(&env);
		return -1;
	}
	*state = &env;
	return 0;
}

static int group_teardown(void **state)
{
	bpfenv_close(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_embedded_raw),
		cmocka_unit_test(test_off_and_not_ip),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_gso),
		cmocka_unit_test(test_verdict_kept),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
