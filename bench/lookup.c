// SPDX-License-Identifier: GPL-2.0-only
/*
 * lookup.c - `cfbench lookup DIR`: ns per lookup in the kernel.
 *
 * Each address set goes into the harness's array; each pass runs every
 * implementation over the whole set in slices of SLICE addresses (one
 * BPF_PROG_TEST_RUN each, so no run holds the CPU for long), the three
 * interleaved so that a noisy neighbour hits them alike.  The hot set is
 * the first 1024 addresses of a set, looped over.  Every slice's drops
 * and class sum are checked against the classes prep computed from the
 * compiled ranges (binary search, not the trie): a wrong answer fails
 * the run.  Output: JSON on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "camfence.h"
#include "cfbench.h"
#include "bench.skel.h"

#define SLICE 65536u
#define HOT 1024u
#define MAX_PASSES 64

/*
 * base: the harness alone; cf: bpf/lookup.h; lpm: the LPM trie; flat and
 * flat1: the prototypes of proto_lookup.h (IPv4 has one flat walk); cf2
 * and flat2: bpf/lookup.h and the flat walk over the second image.
 */
enum impl { I_BASE, I_CF, I_LPM, I_FLAT, I_FLAT1, I_CF2, I_FLAT2, I_N };

static const char *const impl_names[I_N] = { "base", "cf",  "lpm",  "flat",
					     "flat1", "cf2", "flat2" };

struct run {
	struct bench_env env;
	struct bench_data data;
	const char *dir;
	const char *image; /* --image, NULL: image.bin */
	const char *image2; /* --image2: a second image, or NULL */
	uint32_t passes;
	uint32_t slice;
	double ns[I_N][MAX_PASSES]; /* per pass, ns per lookup */
};

static int prog_fd(struct run *r, enum impl i, int family)
{
	struct bench *s = r->env.skel;
	struct bpf_program *v4[I_N] = {
		s->progs.lk_base_v4, s->progs.lk_cf_v4,	 s->progs.lk_lpm_v4,
		s->progs.lk_flat_v4, NULL,		 s->progs.lk_cf2_v4,
		s->progs.lk_flat2_v4,
	};
	struct bpf_program *v6[I_N] = {
		s->progs.lk_base_v6,  s->progs.lk_cf_v6,  s->progs.lk_lpm_v6,
		s->progs.lk_flat_v6,  s->progs.lk_flat1_v6, s->progs.lk_cf2_v6,
		s->progs.lk_flat2_v6,
	};
	struct bpf_program *p = family == 4 ? v4[i] : v6[i];

	return p ? bpf_program__fd(p) : -1;
}

/* What a family measures: the prototypes only where they apply. */
static bool impl_on(const struct run *r, enum impl i, int family)
{
	switch (i) {
	case I_FLAT:
		return r->env.flat_ok;
	case I_FLAT1:
		return r->env.flat_ok && family == 6;
	case I_CF2:
		return r->env.img2_ok;
	case I_FLAT2:
		return r->env.flat2_ok;
	default:
		return true;
	}
}

/* The set, packed into the harness's 64-byte elements. */
static int addrs_load(struct run *r, const struct bench_set *set)
{
	int fd = bpf_map__fd(r->env.skel->maps.bench_addrs);
	size_t alen = set->family == 4 ? 4 : 16;
	uint32_t per = sizeof(struct bench_addrs) / alen, k;
	struct bench_addrs v;

	for (k = 0; k < set->n / per; k++) {
		memcpy(&v, set->addr + (size_t)k * per * alen, sizeof(v));
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* What a slice must find: drops and the sum of classes. */
static void expect(const struct run *r, const struct bench_set *set,
		   uint32_t start, uint32_t mask, uint64_t *drops,
		   uint64_t *sum)
{
	uint32_t i;

	*drops = *sum = 0;
	for (i = 0; i < r->slice; i++) {
		uint32_t c = set->class[(start + i) & mask];

		*drops += verdict_of(&r->data, c) == CF_VERDICT_DROP;
		*sum += c;
	}
}

/* One slice; its time in ns, or -errno. */
static int64_t slice_run(struct run *r, enum impl i,
			 const struct bench_set *set, uint32_t start,
			 uint32_t mask)
{
	static uint8_t pkt[64];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = sizeof(pkt), .repeat = 1);
	struct bench_out *out = &r->env.skel->bss->out;
	uint64_t drops, sum;

	r->env.skel->bss->run_start = start;
	r->env.skel->bss->run_count = r->slice;
	r->env.skel->bss->run_mask = mask;
	memset(out, 0, sizeof(*out));
	if (bpf_prog_test_run_opts(prog_fd(r, i, set->family), &o))
		return -errno;
	if (out->err || out->done != r->slice) {
		pr_err("%s: harness error %u after %u of %u", impl_names[i],
		       out->err, out->done, r->slice);
		return -EIO;
	}
	expect(r, set, start, mask, &drops, &sum);
	if (i != I_BASE && (out->drops != drops || out->class_sum != sum)) {
		pr_err("%s: slice at %u: %llu drops, class sum %llu; expected %llu, %llu",
		       impl_names[i], start, (unsigned long long)out->drops,
		       (unsigned long long)out->class_sum,
		       (unsigned long long)drops, (unsigned long long)sum);
		return -EBADMSG;
	}
	return (int64_t)out->ns;
}

/* Every implementation over `lookups` addresses, `passes` times. */
static int measure(struct run *r, const struct bench_set *set, uint32_t mask,
		   uint32_t lookups)
{
	uint32_t p, s, n_slices = lookups / r->slice;
	int64_t ns;
	int i;

	for (p = 0; p < r->passes; p++) {
		for (i = 0; i < I_N; i++) {
			double total = 0;

			if (!impl_on(r, i, set->family))
				continue;
			for (s = 0; s < n_slices; s++) {
				ns = slice_run(r, i, set, s * r->slice, mask);
				if (ns < 0)
					return (int)ns;
				total += ns;
			}
			r->ns[i][p] = total / ((double)n_slices * r->slice);
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(struct run *r, const char *name, uint32_t n, int family)
{
	double med[I_N];
	int i;

	printf("\"%s\": {\"n\": %u, \"passes\": %u", name, n, r->passes);
	for (i = 0; i < I_N; i++) {
		if (!impl_on(r, i, family))
			continue;
		qsort(r->ns[i], r->passes, sizeof(double), cmp_double);
		med[i] = r->ns[i][r->passes / 2];
		printf(", \"%s\": {\"median\": %.2f, \"min\": %.2f, \"max\": %.2f}",
		       impl_names[i], med[i], r->ns[i][0],
		       r->ns[i][r->passes - 1]);
	}
	/* each minus the harness's own cost */
	for (i = I_CF; i < I_N; i++)
		if (impl_on(r, i, family))
			printf(", \"%s_net\": %.2f", impl_names[i],
			       med[i] - med[I_BASE]);
	printf("}");
}

static int one_set(struct run *r, const char *name, bool hot, bool *first)
{
	struct bench_set set;
	char file[64], label[64];
	int err;

	snprintf(file, sizeof(file), "set-%s.bin", name);
	err = set_read(r->dir, file, &set);
	if (err)
		return err;
	err = addrs_load(r, &set);
	err = err ?: measure(r, &set, set.n - 1, set.n);
	if (!err) {
		printf("%s", *first ? "" : ", ");
		report(r, name, set.n, set.family);
		*first = false;
	}
	if (!err && hot) {
		err = measure(r, &set, HOT - 1, set.n);
		snprintf(label, sizeof(label), "%s-hot1k", name);
		if (!err) {
			printf(", ");
			report(r, label, HOT, set.family);
		}
	}
	set_free(&set);
	if (err)
		pr_err("set %s: %s", name, strerror(-err));
	return err;
}

static void report_env(const struct run *r)
{
	const struct bench_env *e = &r->env;

	printf("\"tables\": {\"image_words_used\": %zu, \"image_capacity_words\": %zu, "
	       "\"image_memlock\": %llu, \"lpm4_prefixes\": %zu, "
	       "\"lpm6_prefixes\": %zu, \"lpm4_memlock\": %llu, "
	       "\"lpm6_memlock\": %llu, \"lpm_kmem_delta\": %llu, "
	       "\"lpm_load_ms\": %.1f}",
	       r->data.image_words, e->img_words,
	       (unsigned long long)e->img_memlock, r->data.n_lpm4,
	       r->data.n_lpm6, (unsigned long long)e->lpm_memlock[0],
	       (unsigned long long)e->lpm_memlock[1],
	       (unsigned long long)e->lpm_kmem, e->lpm_load_ms);
}

static int lookup_args(int argc, char **argv, struct run *r)
{
	static const struct option opts[] = {
		{ "passes", required_argument, NULL, 'p' },
		{ "slice", required_argument, NULL, 's' },
		{ "image", required_argument, NULL, 'i' },
		{ "image2", required_argument, NULL, 'I' },
		{},
	};
	int c;

	r->passes = 5;
	r->slice = SLICE;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p' && !parse_u32("--passes", optarg, &r->passes))
			continue;
		if (c == 's' && !parse_u32("--slice", optarg, &r->slice))
			continue;
		if (c == 'i' || c == 'I') {
			*(c == 'i' ? &r->image : &r->image2) = optarg;
			continue;
		}
		return -EINVAL;
	}
	if (argc - optind != 1 || !r->passes || r->passes > MAX_PASSES ||
	    r->slice < HOT || (r->slice & (r->slice - 1))) {
		pr_err("usage: cfbench lookup DIR [--passes 1-%d] [--slice POW2>=%u]\n"
		       "  [--image FILE] [--image2 FILE]",
		       MAX_PASSES, HOT);
		return -EINVAL;
	}
	r->dir = argv[optind];
	return 0;
}

int cmd_lookup(int argc, char **argv)
{
	/* the deny sets: what a flood of denied traffic costs to look up */
	static const char *const sets[] = { "v4-uniform", "v4-dbnet",
					    "v6-dbnet",	  "v6-uniform",
					    "v4-deny",	  "v6-deny" };
	struct env_opts eo = { .lpm = true };
	struct bench_set probe;
	struct run *r = calloc(1, sizeof(*r));
	uint32_t *image2 = NULL;
	bool first = true;
	size_t i, len;
	int err;

	if (!r)
		return -ENOMEM;
	err = lookup_args(argc, argv, r) ?:
					   data_read(r->dir, r->image, &r->data);
	/* the largest set sizes the array: IPv6, four to an element */
	err = err ?: set_read(r->dir, "set-v6-dbnet.bin", &probe);
	if (err)
		goto out;
	eo.addr_elems = probe.n / BENCH_V6_PER_ELEM;
	if (r->image2) {
		err = file_read(r->dir, r->image2, (void **)&image2, &len);
		if (err)
			goto out;
		eo.image2 = image2;
		eo.image2_words = len / 4;
	}
	if (probe.n < r->slice)
		r->slice = probe.n;
	set_free(&probe);
	err = env_open(&r->env, &r->data, &eo);
	if (err)
		goto out;
	printf("{");
	report_env(r);
	printf(", \"sets\": {");
	for (i = 0; i < sizeof(sets) / sizeof(sets[0]) && !err; i++)
		err = one_set(r, sets[i], i == 0 || i == 2, &first);
	printf("}, \"ok\": %s}\n", err ? "false" : "true");
out:
	env_close(&r->env);
	data_free(&r->data);
	free(image2);
	free(r);
	return err;
}
