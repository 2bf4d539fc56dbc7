// SPDX-License-Identifier: GPL-2.0-only
/*
 * env.c - the bench skeleton loaded, with the camfence image installed in
 * its map-in-map (bpf/maps.h, the datapath's own definition) and the LPM
 * tries filled with the same compiled ranges.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "camfence.h"
#include "cfbench.h"
#include "bench.skel.h"

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/*
 * A new image map shaped like the template the programs were verified
 * against, filled through mmap and frozen, as the loader does it.
 */
static int image_install(struct bench_env *e, const struct bench_data *d)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = e->shape.flags);
	uint32_t key = 0, words;
	size_t len;
	void *p;
	int fd;

	words = e->shape.max_entries * CF_IMAGE_ELEM_WORDS;
	if (d->image_words > words)
		return -E2BIG;
	fd = bpf_map_create(e->shape.type, "cfb_image", e->shape.key_size,
			    e->shape.value_size, e->shape.max_entries, &o);
	if (fd < 0)
		return -errno;
	e->img_fd = fd;
	e->img_words = words;
	len = (size_t)words * 4;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	memcpy(p, d->image, d->image_words * 4);
	munmap(p, len);
	if (bpf_map_freeze(fd) ||
	    bpf_map_update_elem(bpf_map__fd(e->skel->maps.cf_policy), &key, &fd,
				BPF_ANY))
		return -errno;
	return fdinfo_memlock(fd, &e->img_memlock);
}

/* The prototype's copy: the image as one value, when it fits. */
static int flat_install(struct bpf_map *map, const uint32_t *w, size_t words,
			bool *ok)
{
	size_t len = sizeof(struct flat_img);
	void *p;

	if (words > FLAT_WORDS)
		return 0;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(map), 0);
	if (p == MAP_FAILED)
		return -errno;
	memcpy(p, w, words * 4);
	munmap(p, len);
	*ok = true;
	return 0;
}

/* A second image, for the harness's "2" walks. */
static int second_install(struct bench_env *e, const struct env_opts *o)
{
	struct bench *s = e->skel;
	int err;

	if (!o->image2)
		return 0;
	err = image_put(bpf_map__fd(s->maps.cf_policy2), &e->shape, o->image2,
			o->image2_words);
	err = err ?: flat_install(s->maps.flat_image2, o->image2,
				  o->image2_words, &e->flat2_ok);
	e->img2_ok = !err;
	return err;
}

/* Batch updates of `n` entries of `esz` bytes: key, then a u32 value. */
static int lpm_fill(int fd, const void *ents, size_t n, size_t esz, size_t ksz)
{
	const uint8_t *p = ents;
	size_t i;

	/* LPM tries have no batch ops; one update per prefix */
	for (i = 0; i < n; i++, p += esz)
		if (bpf_map_update_elem(fd, p, p + ksz, BPF_NOEXIST))
			return -errno;
	return 0;
}

static int lpm_load(struct bench_env *e, const struct bench_data *d)
{
	int fd4 = bpf_map__fd(e->skel->maps.lpm_v4);
	int fd6 = bpf_map__fd(e->skel->maps.lpm_v6);
	int cfd = bpf_map__fd(e->skel->maps.lpm_class);
	uint64_t k0 = kmem_now();
	double t0 = now_ms();
	uint32_t i;
	int err;

	err = lpm_fill(fd4, d->lpm4, d->n_lpm4, sizeof(*d->lpm4),
		       sizeof(d->lpm4->key));
	err = err   ?:
		      lpm_fill(fd6, d->lpm6, d->n_lpm6, sizeof(*d->lpm6),
			       sizeof(d->lpm6->key));
	e->lpm_load_ms = now_ms() - t0;
	e->lpm_kmem = kmem_now() - k0;
	for (i = 0; !err && i < d->n_classes; i++)
		if (bpf_map_update_elem(cfd, &i, &d->cw[i], BPF_ANY))
			err = -errno;
	err = err ?: fdinfo_memlock(fd4, &e->lpm_memlock[0]);
	return err ?: fdinfo_memlock(fd6, &e->lpm_memlock[1]);
}

static int env_size(struct bench_env *e, const struct bench_data *d,
		    const struct env_opts *o)
{
	struct bench *s = e->skel;
	int err;

	err = bpf_map__set_max_entries(s->maps.bench_addrs,
				       o->addr_elems ? o->addr_elems : 1);
	err = err   ?:
		      bpf_map__set_max_entries(s->maps.gen_addrs,
					       o->gen_ents ? o->gen_ents : 1);
	err = err   ?:
		      bpf_map__set_max_entries(s->maps.lpm_v4,
					       d->n_lpm4 ? d->n_lpm4 : 1);
	return err   ?:
		       bpf_map__set_max_entries(s->maps.lpm_v6,
						d->n_lpm6 ? d->n_lpm6 : 1);
}

/* libbpf forgets the inner map's definition once the outer map exists. */
static int template_shape(struct bench_env *e)
{
	struct bpf_map *inner = bpf_map__inner_map(e->skel->maps.cf_policy);

	if (!inner || bpf_map__value_size(inner) != 4 * CF_IMAGE_ELEM_WORDS)
		return -EPROTO;
	e->shape.type = bpf_map__type(inner);
	e->shape.flags = bpf_map__map_flags(inner);
	e->shape.key_size = bpf_map__key_size(inner);
	e->shape.value_size = bpf_map__value_size(inner);
	e->shape.max_entries = bpf_map__max_entries(inner);
	return 0;
}

int env_open(struct bench_env *e, const struct bench_data *d,
	     const struct env_opts *o)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->img_fd = -1;
	libbpf_set_print(libbpf_quiet);
	e->skel = bench__open();
	if (!e->skel)
		return -errno ?: -EINVAL;
	err = template_shape(e) ?: env_size(e, d, o) ?: bench__load(e->skel);
	if (err) {
		pr_err("cannot load the bench programs: %s", strerror(-err));
		return err;
	}
	err = image_install(e, d) ?:
	      flat_install(e->skel->maps.flat_image, d->image, d->image_words,
			   &e->flat_ok) ?:
	      second_install(e, o);
	if (err) {
		pr_err("cannot install the image: %s", strerror(-err));
		return err;
	}
	err = o->lpm ? lpm_load(e, d) : 0;
	if (err)
		pr_err("cannot fill the LPM tries: %s", strerror(-err));
	return err;
}

void env_close(struct bench_env *e)
{
	if (e->img_fd >= 0)
		close(e->img_fd);
	bench__destroy(e->skel);
	memset(e, 0, sizeof(*e));
	e->img_fd = -1;
}
