// SPDX-License-Identifier: GPL-2.0-only
/*
 * push.c - `cfbench push POLICY POLICY2 CACHE`: what a push costs, stage
 * by stage, today and with a cache of the layered database records.
 *
 * A push is: parse, read and layer the databases, compile, build the
 * image, switch (create the image map, fill it through mmap, freeze it,
 * install it in the map-in-map).  The switch here goes into the bench
 * skeleton's copy of the datapath's cf_policy (bpf/maps.h), exactly as
 * loader/image.c does it, so the kernel work is the same.
 *
 * The prototype cache: the layered records of the policy's databases, as
 * struct cf_rec arrays, in one file keyed by each database's path,
 * format, device, inode, size and mtime.  A push whose databases have not
 * changed maps the file instead of reading the databases: a change of
 * rules only ("policy-only") then costs compile + build + switch.
 *
 * Prints JSON: per repetition, the stages of a full push, of a cold push
 * that writes the cache, and of a policy-only push of POLICY2 that reads
 * it; what the SHA-256 digest inside compile costs (compile.c's way, and
 * over the same ranges packed); then the cost of creating empty image
 * maps of 4, 8 and 16 MiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compile.h"
#include "sha256.h"
#include "table.h"
#include "cfbench.h"
#include "bench.skel.h"

#define CACHE_MAGIC 0x3143424443464300ull /* "\0CFDBCB1" */

struct cache_key {
	char path[256];
	uint32_t format;
	uint32_t pad;
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec;
};

struct cache_hdr {
	uint64_t magic;
	uint32_t rec_size; /* sizeof(struct cf_rec): same build */
	uint32_t n_dbs;
	uint64_t n_v4, n_v6;
	int64_t built_at;
	struct cache_key key[4];
};

struct stages {
	double parse, db, cache, compile, build;
	double digest, digest_packed; /* inside compile; measured apart */
	double create, fill, freeze, install, total;
};

struct pusher {
	struct bench_env env;
	const char *cache;
	uint32_t reps;
	bool quick; /* skip the plain full push: the cold one is one too */
};

/* ---- the cache ----------------------------------------------------------- */

static int cache_keys(const struct cf_policy *p, struct cache_hdr *h)
{
	struct stat st;
	size_t k;

	if (p->n_dbs > sizeof(h->key) / sizeof(h->key[0]))
		return -E2BIG;
	h->n_dbs = p->n_dbs;
	for (k = 0; k < p->n_dbs; k++) {
		struct cache_key *c = &h->key[k];

		if (stat(p->dbs[k].path, &st))
			return -errno;
		memset(c, 0, sizeof(*c));
		snprintf(c->path, sizeof(c->path), "%s", p->dbs[k].path);
		c->format = p->dbs[k].format;
		c->dev = st.st_dev;
		c->ino = st.st_ino;
		c->size = st.st_size;
		c->mtime_sec = st.st_mtim.tv_sec;
		c->mtime_nsec = st.st_mtim.tv_nsec;
	}
	return 0;
}

static int cache_write(const char *path, const struct cf_policy *p,
		       const struct cf_dbset *dbs)
{
	struct cache_hdr h = { .magic = CACHE_MAGIC,
			       .rec_size = sizeof(struct cf_rec),
			       .n_v4 = dbs->v4.n,
			       .n_v6 = dbs->v6.n,
			       .built_at = dbs->built_at };
	FILE *f;
	int err;

	err = cache_keys(p, &h);
	if (err)
		return err;
	f = fopen(path, "we");
	if (!f)
		return -errno;
	if (fwrite(&h, sizeof(h), 1, f) != 1 ||
	    fwrite(dbs->v4.v, sizeof(struct cf_rec), dbs->v4.n, f) !=
		    dbs->v4.n ||
	    fwrite(dbs->v6.v, sizeof(struct cf_rec), dbs->v6.n, f) != dbs->v6.n)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/*
 * A dbset whose record lists point into the mapped cache, or -ESTALE when
 * a database changed since the cache was written.
 */
static int cache_map(const char *path, const struct cf_policy *p,
		     struct cf_dbset *view, void **map, size_t *len)
{
	struct cache_hdr want = { 0 };
	const struct cache_hdr *h;
	struct stat st;
	int fd, err = 0;

	err = cache_keys(p, &want);
	fd = err ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (!err && (fd < 0 || fstat(fd, &st)))
		err = -errno;
	if (!err && (size_t)st.st_size < sizeof(*h))
		err = -ESTALE;
	*map = err ? MAP_FAILED :
		     mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (err || *map == MAP_FAILED)
		return err ?: -errno;
	*len = st.st_size;
	h = *map;
	if (h->magic != CACHE_MAGIC || h->rec_size != sizeof(struct cf_rec) ||
	    memcmp(h->key, want.key, sizeof(want.key)) ||
	    h->n_dbs != want.n_dbs ||
	    *len != sizeof(*h) + (h->n_v4 + h->n_v6) * sizeof(struct cf_rec)) {
		munmap(*map, *len);
		return -ESTALE;
	}
	memset(view, 0, sizeof(*view));
	view->v4.v = (struct cf_rec *)(h + 1);
	view->v4.n = h->n_v4;
	view->v6.v = view->v4.v + h->n_v4;
	view->v6.n = h->n_v6;
	view->built_at = h->built_at;
	return 0;
}

/* ---- the switch, as loader/image.c does it -------------------------------- */

static int image_switch(struct pusher *ps, const struct cf_image *img,
			struct stages *s)
{
	const struct image_shape *sh = &ps->env.shape;
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = sh->flags);
	size_t len = (size_t)sh->max_entries * sh->value_size;
	uint32_t key = 0;
	double t = now_ms();
	void *p;
	int fd, err = 0;

	fd = bpf_map_create(sh->type, "cfb_push", sh->key_size, sh->value_size,
			    sh->max_entries, &o);
	if (fd < 0)
		return -errno;
	s->create = now_ms() - t;
	t = now_ms();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	memcpy(p, img->w, img->n_words * 4);
	munmap(p, len);
	s->fill = now_ms() - t;
	t = now_ms();
	if (bpf_map_freeze(fd)) {
		err = -errno;
		goto out;
	}
	s->freeze = now_ms() - t;
	t = now_ms();
	if (bpf_map_update_elem(bpf_map__fd(ps->env.skel->maps.cf_policy), &key,
				&fd, BPF_ANY))
		err = -errno;
	s->install = now_ms() - t;
out:
	close(fd);
	return err;
}

/* ---- the digest compile.c takes over its ranges ------------------------ */

/* As compile.c does it: every struct cf_crange whole, padding included. */
static void digest_whole(const struct cf_compiled *c, uint8_t out[32])
{
	const struct cf_crangelist *l[2] = { &c->v4, &c->v6 };
	struct cf_sha256 s;
	size_t i, k;

	cf_sha256_init(&s);
	for (k = 0; k < 2; k++)
		for (i = 0; i < l[k]->n; i++)
			cf_sha256_update(&s, &l[k]->v[i], sizeof(l[k]->v[i]));
	cf_sha256_final(&s, out);
}

/*
 * The alternative: the same ranges packed (IPv4 bounds in 4 bytes, IPv6
 * in 16, class in 4), hashed in one update per family.
 */
static int digest_packed(const struct cf_compiled *c, uint8_t out[32])
{
	const struct cf_crangelist *l[2] = { &c->v4, &c->v6 };
	size_t n = c->v4.n > c->v6.n ? c->v4.n : c->v6.n, i, k, alen;
	uint8_t *buf = malloc(n * 36), *p;
	struct cf_sha256 s;

	if (!buf)
		return -ENOMEM;
	cf_sha256_init(&s);
	for (k = 0; k < 2; k++) {
		alen = k ? 16 : 4;
		for (i = 0, p = buf; i < l[k]->n; i++) {
			uint8_t a[16];

			cf_addr_to_bytes(l[k]->v[i].first,
					 k ? CF_AF_V6 : CF_AF_V4, a);
			memcpy(p, a, alen);
			cf_addr_to_bytes(l[k]->v[i].last,
					 k ? CF_AF_V6 : CF_AF_V4, a);
			memcpy(p + alen, a, alen);
			memcpy(p + 2 * alen, &l[k]->v[i].class, 4);
			p += 2 * alen + 4;
		}
		cf_sha256_update(&s, buf, p - buf);
	}
	cf_sha256_final(&s, out);
	free(buf);
	return 0;
}

static int digest_times(const struct cf_compiled *c, struct stages *s)
{
	uint8_t d[32];
	double t = now_ms();
	int err;

	digest_whole(c, d);
	s->digest = now_ms() - t;
	t = now_ms();
	err = digest_packed(c, d);
	s->digest_packed = now_ms() - t;
	return err;
}

/* ---- one push ------------------------------------------------------------- */

enum mode { M_FULL, M_COLD, M_WARM };

static const char *const mode_names[] = { "full", "cold_writes_cache",
					  "policy_only_cached" };

static int stage_dbs(struct pusher *ps, enum mode m, struct cf_policy *pol,
		     struct cf_dbset **dbs, struct cf_dbset *view, void **map,
		     size_t *len, struct stages *s)
{
	struct cf_err e = {};
	double t = now_ms();
	int err;

	if (m == M_WARM) {
		err = cache_map(ps->cache, pol, view, map, len);
		s->cache = now_ms() - t;
		return err;
	}
	err = cf_dbset_load(pol, dbs, &e);
	s->db = now_ms() - t;
	if (err || m != M_COLD)
		return err;
	t = now_ms();
	err = cache_write(ps->cache, pol, *dbs);
	s->cache = now_ms() - t;
	return err;
}

static int push_once(struct pusher *ps, const char *policy, enum mode m,
		     struct stages *s)
{
	struct cf_policy *pol = NULL;
	struct cf_dbset *dbs = NULL, view;
	struct cf_compiled *c = NULL;
	struct cf_image img = {};
	struct cf_err e = {};
	double t0 = now_ms(), t;
	void *map = MAP_FAILED;
	size_t len = 0;
	int err;

	memset(s, 0, sizeof(*s));
	err = cf_policy_load(policy, &pol, &e);
	s->parse = now_ms() - t0;
	err = err ?: stage_dbs(ps, m, pol, &dbs, &view, &map, &len, s);
	t = now_ms();
	err = err ?: cf_compile(pol, m == M_WARM ? &view : dbs, &c, &e);
	s->compile = now_ms() - t;
	t = now_ms();
	err = err   ?:
		      cf_image_build(c, 1,
				     (size_t)ps->env.shape.max_entries *
					     CF_IMAGE_ELEM_WORDS,
				     &img, &e);
	s->build = now_ms() - t;
	err = err ?: image_switch(ps, &img, s);
	s->total = now_ms() - t0;
	err = err ?: digest_times(c, s);
	if (err && e.msg[0])
		pr_err("%s: %s", policy, e.msg);
	cf_image_free(&img);
	cf_compiled_free(c);
	if (map != MAP_FAILED)
		munmap(map, len);
	cf_dbset_free(dbs);
	cf_policy_free(pol);
	return err;
}

static void stages_print(enum mode m, uint32_t rep, const struct stages *s)
{
	printf("{\"mode\": \"%s\", \"rep\": %u, \"ms\": {\"parse\": %.2f, "
	       "\"databases\": %.2f, \"cache\": %.2f, \"compile\": %.2f, "
	       "\"build\": %.2f, \"map_create\": %.2f, \"map_fill\": %.2f, "
	       "\"freeze\": %.2f, \"install\": %.2f, \"total\": %.2f, "
	       "\"digest_in_compile\": %.2f, \"digest_packed\": %.2f}}",
	       mode_names[m], rep, s->parse, s->db, s->cache, s->compile,
	       s->build, s->create, s->fill, s->freeze, s->install, s->total,
	       s->digest, s->digest_packed);
}

/* Creating (and dropping) an empty image-shaped map of `mib` MiB. */
static double create_ms(const struct image_shape *sh, uint32_t mib)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = sh->flags);
	double t = now_ms();
	int fd;

	fd = bpf_map_create(sh->type, "cfb_size", sh->key_size, sh->value_size,
			    (mib << 20) / sh->value_size, &o);
	t = now_ms() - t;
	if (fd < 0)
		return -1;
	close(fd);
	return t;
}

static int run_all(struct pusher *ps, const char *p1, const char *p2)
{
	static const uint32_t sizes[] = { 4, 8, 16 };
	struct stages s;
	uint32_t r, i;
	int m, err = 0;

	printf("{\"runs\": [");
	for (r = 0; r < ps->reps && !err; r++) {
		for (m = ps->quick ? M_COLD : M_FULL; m <= M_WARM && !err;
		     m++) {
			err = push_once(ps, m == M_WARM ? p2 : p1, m, &s);
			if (!err) {
				printf("%s",
				       r || m > (ps->quick ? M_COLD : M_FULL) ?
					       ", " :
					       "");
				stages_print(m, r, &s);
			}
		}
	}
	printf("], \"map_create_ms\": {");
	for (i = 0; i < 3; i++)
		printf("%s\"%u\": %.2f", i ? ", " : "", sizes[i],
		       create_ms(&ps->env.shape, sizes[i]));
	printf("}, \"ok\": %s}\n", err ? "false" : "true");
	return err;
}

int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "quick", no_argument, NULL, 'q' },
		{},
	};
	struct pusher ps = { .reps = 3 };
	struct bench_data d = {};
	struct env_opts eo = {};
	uint32_t dummy[CF_NODES_OFF] = { 0 };
	int c, err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'q')
			ps.quick = true;
		else if (c != 'r' || parse_u32("--reps", optarg, &ps.reps))
			return -EINVAL;
	}
	if (argc - optind != 3 || !ps.reps) {
		pr_err("usage: cfbench push POLICY POLICY2 CACHE [--reps N] [--quick]");
		return -EINVAL;
	}
	ps.cache = argv[optind + 2];
	/* the skeleton wants some image; the pushes replace it */
	d.image = dummy;
	d.image_words = CF_NODES_OFF;
	err = env_open(&ps.env, &d, &eo);
	err = err ?: run_all(&ps, argv[optind], argv[optind + 1]);
	env_close(&ps.env);
	return err;
}
