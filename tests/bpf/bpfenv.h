/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpfenv.h - what the tests of the real BPF programs share.
 *
 * The camfence skeleton loaded (never pinned, never attached), image maps
 * shaped like the template the programs were loaded with, cf_policy[0]
 * and cf_config, per-CPU counters summed over the CPUs, frames run
 * through BPF_PROG_TEST_RUN, and a random stream that replays from its
 * seed.
 *
 * Header-only, like pkt.h: the Makefile builds each test from its one
 * source.  Map reads and writes that cannot fail in a sound run assert
 * (cmocka); the rest return 0 or -errno for the test to judge.
 */
#ifndef CF_TEST_BPFENV_H
#define CF_TEST_BPFENV_H

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "camfence.h"
#include "camfence.skel.h"
#include "table.h"
#include "pkt.h"

/* The interface every test run's context names: loopback, always there. */
#define BPFENV_IFINDEX 1

enum prog_id { XDP, TCI, TCE, N_PROGS };

/*
 * The image template as the skeleton declares it: libbpf frees its
 * description of the inner map once the outer one exists, so it is read
 * between open and load.
 */
struct image_shape {
	enum bpf_map_type type;
	uint32_t flags;
	uint32_t key_size;
	uint32_t value_size;
};

struct bpfenv {
	struct camfence *skel;
	int ncpus;
	struct image_shape shape;
	uint32_t words;		/* image capacity in words */
	int prog[N_PROGS];
	struct ring_buffer *rb;	/* NULL until bpfenv_events() */
};

/* An image map and its writable mapping: w is NULL when there is none. */
struct image_map {
	int fd;
	uint32_t *w;
	uint32_t words;
};

/* ---- images ------------------------------------------------------------ */

/* An empty image map of `words` words shaped like the template, or -errno. */
static inline int image_create(const struct bpfenv *e, uint32_t words)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = e->shape.flags);
	int fd;

	fd = bpf_map_create(e->shape.type, "cf_image_test", e->shape.key_size,
			    e->shape.value_size, words / CF_IMAGE_ELEM_WORDS,
			    &o);
	return fd < 0 ? -errno : fd;
}

/* An empty image map of `words` words, mapped for writing. */
static inline int image_map_new(const struct bpfenv *e, uint32_t words,
				struct image_map *m)
{
	void *p;
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = image_create(e, words);
	if (m->fd < 0)
		return m->fd;
	p = mmap(NULL, (size_t)words * 4, PROT_READ | PROT_WRITE, MAP_SHARED,
		 m->fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		close(m->fd);
		m->fd = -1;
		return err;
	}
	m->w = p;
	m->words = words;
	return 0;
}

/* A map of the template's capacity holding a policy/table.c image. */
static inline int image_load(const struct bpfenv *e,
			     const struct cf_image *img, struct image_map *m)
{
	int err = image_map_new(e, e->words, m);

	if (!err)
		memcpy(m->w, img->w, img->n_words * 4);
	return err;
}

/* Drop our mapping and fd; an installed image lives on in its slot. */
static inline void image_unmap(struct image_map *m)
{
	if (m->w) {
		munmap(m->w, (size_t)m->words * 4);
		close(m->fd);
	}
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

/* ---- the skeleton ------------------------------------------------------- */

static inline int bpfenv_shape(struct bpfenv *e)
{
	struct bpf_map *inner = bpf_map__inner_map(e->skel->maps.cf_policy);

	if (!inner)
		return -ENOENT;
	e->shape = (struct image_shape){
		.type = bpf_map__type(inner),
		.flags = bpf_map__map_flags(inner),
		.key_size = bpf_map__key_size(inner),
		.value_size = bpf_map__value_size(inner),
	};
	if (e->shape.value_size != 4 * CF_IMAGE_ELEM_WORDS)
		return -EPROTO;
	e->words = bpf_map__max_entries(inner) * CF_IMAGE_ELEM_WORDS;
	return 0;
}

/*
 * Load with another image capacity, as the loader sizes images: hand
 * libbpf a template map of that size.  libbpf 1.1's
 * bpf_map__set_max_entries() cannot do it: it dereferences the inner
 * map's (NULL) object and crashes.  The template is needed only until
 * the outer map exists.
 */
static inline int bpfenv_template_load(struct bpfenv *e, uint32_t words)
{
	int fd = image_create(e, words), err;

	if (fd < 0)
		return fd;
	err = bpf_map__set_inner_map_fd(e->skel->maps.cf_policy, fd);
	if (!err) {
		err = camfence__load(e->skel);
		e->words = words;
	}
	close(fd);
	return err;
}

/*
 * Open and load the skeleton with an image capacity of `words` (0: the
 * template's own).  Nothing is pinned or attached.  On error the caller
 * still calls bpfenv_close().
 */
static inline int bpfenv_open(struct bpfenv *e, uint32_t words)
{
	struct camfence *s;
	int err;

	memset(e, 0, sizeof(*e));
	e->ncpus = libbpf_num_possible_cpus();
	if (e->ncpus <= 0)
		return e->ncpus ?: -EINVAL;
	s = e->skel = camfence__open();
	if (!s)
		return -errno ?: -EINVAL;
	err = bpfenv_shape(e);
	if (!err)
		err = words ? bpfenv_template_load(e, words) :
			      camfence__load(s);
	if (err)
		return err;
	e->prog[XDP] = bpf_program__fd(s->progs.cf_xdp_ingress);
	e->prog[TCI] = bpf_program__fd(s->progs.cf_tc_ingress);
	e->prog[TCE] = bpf_program__fd(s->progs.cf_tc_egress);
	return 0;
}

static inline int bpfenv_discard(void *ctx, void *data, size_t len)
{
	(void)ctx;
	(void)data;
	(void)len;
	return 0;
}

/*
 * Read cf_events through `cb` (NULL: only to keep the ring from filling,
 * since events past it count as lost).
 */
static inline int bpfenv_events(struct bpfenv *e, ring_buffer_sample_fn cb,
				void *ctx)
{
	e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.cf_events),
				 cb ?: bpfenv_discard, ctx, NULL);
	return e->rb ? 0 : -errno;
}

static inline void bpfenv_close(struct bpfenv *e)
{
	ring_buffer__free(e->rb);
	camfence__destroy(e->skel);
	memset(e, 0, sizeof(*e));
}

/* ---- maps --------------------------------------------------------------- */

/* Install an image map in cf_policy[0], or empty the slot (img_fd < 0). */
static inline int policy_install(const struct bpfenv *e, int img_fd)
{
	int fd = bpf_map__fd(e->skel->maps.cf_policy);
	uint32_t key = 0;

	if (img_fd < 0 && bpf_map_delete_elem(fd, &key) && errno != ENOENT)
		return -errno;
	if (img_fd >= 0 && bpf_map_update_elem(fd, &key, &img_fd, BPF_ANY))
		return -errno;
	return 0;
}

static inline void config_set(const struct bpfenv *e, uint32_t on_missing,
			      uint32_t learn_rate)
{
	struct cf_config c = { .on_missing = on_missing,
			       .learn_rate = learn_rate };
	int fd = bpf_map__fd(e->skel->maps.cf_config);
	uint32_t key = 0;

	assert_int_equal(bpf_map_update_elem(fd, &key, &c, BPF_ANY), 0);
}

/* Zero every CPU's value of a per-CPU array's key 0. */
static inline void percpu_zero(const struct bpfenv *e, struct bpf_map *map)
{
	/* the kernel copies values at an 8-byte stride */
	size_t stride = (bpf_map__value_size(map) + 7) & ~(size_t)7;
	uint8_t zero[stride * e->ncpus];
	uint32_t key = 0;

	memset(zero, 0, sizeof(zero));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(map), &key, zero,
					     BPF_ANY), 0);
}

/* One counter of a per-CPU map (cf_counters, cf_stats), all CPUs summed. */
static inline void counter_read(const struct bpfenv *e, int fd, uint32_t key,
				struct cf_counter *sum)
{
	struct cf_counter v[e->ncpus];
	int i;

	memset(sum, 0, sizeof(*sum));
	assert_int_equal(bpf_map_lookup_elem(fd, &key, v), 0);
	for (i = 0; i < e->ncpus; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
}

/* The counter slots asked for into slot[], every cf_stat into stat[]. */
static inline void counters_read(const struct bpfenv *e,
				 const uint32_t *slots, size_t n,
				 struct cf_counter *slot,
				 struct cf_counter stat[CF_STAT_MAX])
{
	int cfd = bpf_map__fd(e->skel->maps.cf_counters);
	int sfd = bpf_map__fd(e->skel->maps.cf_stats);
	size_t i;

	for (i = 0; i < n; i++)
		counter_read(e, cfd, slots[i], &slot[i]);
	for (i = 0; i < CF_STAT_MAX; i++)
		counter_read(e, sfd, i, &stat[i]);
}

/* ---- test runs ---------------------------------------------------------- */

/*
 * Run a frame `repeat` times through a program, with a context naming
 * BPFENV_IFINDEX; gso_segs is the skb's (TC only).  The program's return
 * code, or -errno; *duration, if asked, the mean ns per run.
 */
static inline int prog_test_run(int fd, bool xdp, const struct pkt *p,
				int repeat, uint32_t gso_segs,
				uint32_t *duration)
{
	struct xdp_md xctx = { .data_end = p->len,
			       .ingress_ifindex = BPFENV_IFINDEX };
	struct __sk_buff sctx = { .ifindex = BPFENV_IFINDEX,
				  .gso_segs = gso_segs };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b,
		    .data_size_in = p->len, .repeat = repeat);

	if (xdp) {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	} else {
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	if (duration)
		*duration = o.duration;
	return o.retval;
}

/* One of the skeleton's programs, `repeat` times. */
static inline int prog_run(const struct bpfenv *e, enum prog_id id,
			   const struct pkt *p, int repeat)
{
	return prog_test_run(e->prog[id], id == XDP, p, repeat, 0, NULL);
}

/* What a program returns for a drop, or for anything it lets through. */
static inline int prog_retval(enum prog_id id, bool drop)
{
	if (id == XDP)
		return drop ? XDP_DROP : XDP_PASS;
	return drop ? TC_ACT_SHOT : TC_ACT_OK;
}

/* ---- time, CPU and randomness ------------------------------------------- */

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Stay on the CPU we run on: the token bucket, the learning countdown and
 * the counters a test watches are per CPU, and test runs use the caller's.
 */
static inline void cpu_pin(void)
{
	int cpu = sched_getcpu();
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(cpu < 0 ? 0 : cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
}

/* xorshift64*: a run replays from the seed it prints.  Never seed 0. */
static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static inline cf_u128 rnd128(uint64_t *s)
{
	cf_u128 hi = rnd(s); /* first: the order the streams were made in */

	return hi << 64 | rnd(s);
}

static inline uint32_t below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rnd(s) % n);
}

static inline void rnd_bytes(uint64_t *s, uint8_t *b, size_t n)
{
	while (n--)
		*b++ = (uint8_t)rnd(s);
}

#endif /* CF_TEST_BPFENV_H */
