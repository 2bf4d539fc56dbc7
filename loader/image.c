// SPDX-License-Identifier: GPL-2.0-only
/*
 * image.c - the live policy image and the atomic switch to a new one.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "compile.h"
#include "image.h"
#include "log.h"
#include "readback.h"
#include "source.h"

static size_t map_bytes(const struct cf_map_shape *s)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = cf_shape_words(s) * sizeof(uint32_t);

	return (len + page - 1) / page * page;
}

static int map_shape(int fd, struct cf_map_shape *s)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	s->type = info.type;
	s->key_size = info.key_size;
	s->value_size = info.value_size;
	s->max_entries = info.max_entries;
	s->flags = info.map_flags;
	return 0;
}

/* Slot 0 of cf_policy holds an inner map id when read from userspace. */
static int live_fd(int policy_fd, uint32_t *id)
{
	__u32 key = 0;
	int fd;

	if (bpf_map_lookup_elem(policy_fd, &key, id))
		return -errno;
	fd = bpf_map_get_fd_by_id(*id);
	return fd < 0 ? -errno : fd;
}

static int live_map(struct cf_live_image *li)
{
	struct cf_err e = {};
	char msg[512];
	void *p;

	if (cf_shape_words(&li->shape) < CF_NODES_OFF) {
		snprintf(li->why, sizeof(li->why),
			 "the live policy map (id %u) is no camfence image: %u-byte values, %u entries",
			 li->id, li->shape.value_size, li->shape.max_entries);
		return -EBADMSG;
	}
	li->map_len = map_bytes(&li->shape);
	p = mmap(NULL, li->map_len, PROT_READ, MAP_SHARED, li->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	li->w = p;
	if (cf_image_check(li->w, cf_shape_words(&li->shape), &e)) {
		snprintf(li->why, sizeof(li->why),
			 "the live policy image (map id %u) is unusable: %s",
			 li->id, cf_err_str(&e, msg, sizeof(msg)));
		return -EBADMSG;
	}
	return 0;
}

int cf_live_open(int policy_fd, struct cf_live_image *li)
{
	int err;

	memset(li, 0, sizeof(*li));
	li->fd = live_fd(policy_fd, &li->id);
	if (li->fd == -ENOENT) {
		li->fd = -1;
		return -ENOENT; /* no policy installed */
	}
	err = li->fd < 0 ? li->fd : 0;
	err = err ?: map_shape(li->fd, &li->shape);
	err = err ?: live_map(li);
	if (err && err != -EBADMSG)
		pr_err("cannot read the live policy image: %s", strerror(-err));
	if (err) {
		char why[sizeof(li->why)];

		memcpy(why, li->why, sizeof(why));
		cf_live_close(li);
		memcpy(li->why, why, sizeof(why));
	}
	return err;
}

void cf_live_close(struct cf_live_image *li)
{
	if (li->w)
		munmap((void *)li->w, li->map_len);
	if (li->fd >= 0)
		close(li->fd);
	memset(li, 0, sizeof(*li));
	li->fd = -1;
}

int cf_live_digest(const struct cf_live_image *li, uint8_t digest[32],
		   char *why, size_t why_len)
{
	struct cf_err e = {};
	char msg[512];
	int err;

	err = cf_image_digest(li->w, cf_shape_words(&li->shape), digest, &e);
	if (err && why)
		snprintf(why, why_len,
			 "the live policy image (map id %u) cannot be read back: %s",
			 li->id, cf_err_str(&e, msg, sizeof(msg)));
	return err;
}

int cf_image_shape(const struct cf_live_image *li, struct cf_map_shape *shape)
{
	if (li && li->w) {
		*shape = li->shape;
		return 0;
	}
	return cf_image_template(shape);
}

static int fill_map(int fd, const struct cf_map_shape *s,
		    const struct cf_image *img)
{
	size_t len = map_bytes(s);
	void *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* a new array map is zeroed: only the words in use need copying */
	memcpy(p, img->w, img->n_words * sizeof(uint32_t));
	munmap(p, len);
	/* no writable mapping is left, so the map can be frozen */
	return bpf_map_freeze(fd) ? -errno : 0;
}

int cf_image_create(const struct cf_map_shape *s, const struct cf_image *img)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = s->flags);
	int fd, err;

	if (img->capacity != cf_shape_words(s)) {
		pr_err("the image has %zu words but the datapath's image map takes %zu",
		       img->capacity, cf_shape_words(s));
		return -EPROTO;
	}
	fd = bpf_map_create(s->type, "cf_image", s->key_size, s->value_size,
			    s->max_entries, &o);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot create a %zu-word policy map: %s",
		       cf_shape_words(s), strerror(-err));
		return err;
	}
	err = fill_map(fd, s, img);
	if (err) {
		pr_err("cannot write the policy map: %s", strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int cf_image_install(int policy_fd, int inner_fd)
{
	__u32 key = 0;
	int err;

	/*
	 * One update of the map-in-map slot: the kernel swaps the inner
	 * map pointer and waits out an RCU grace period, so each packet
	 * sees the old image or the new one, whole.
	 */
	if (inner_fd >= 0)
		err = bpf_map_update_elem(policy_fd, &key, &inner_fd, BPF_ANY);
	else
		err = bpf_map_delete_elem(policy_fd, &key);
	if (err && !(inner_fd < 0 && errno == ENOENT)) {
		err = -errno;
		pr_err("cannot install the policy image: %s", strerror(-err));
		return err;
	}
	return 0;
}

const struct cf_class_meta *cf_image_class(const uint32_t *w, uint32_t cls)
{
	if (!w || cls >= cf_image_hdr(w)->n_classes)
		return NULL;
	return &cf_image_meta(w)[cls];
}

static const char *verdict_action(uint8_t verdict)
{
	switch (verdict) {
	case CF_VERDICT_DROP:
		return "deny";
	case CF_VERDICT_MONITOR:
		return "monitor";
	default:
		return "allow";
	}
}

const char *cf_meta_label(const struct cf_class_meta *m,
			  const char *policy_path, char *buf, size_t len)
{
	char rule[128], path[256];

	snprintf(path, sizeof(path), "%s",
		 policy_path ? cf_path_name(policy_path) : "");
	/* cf_class_str says "(line N)" for nets; the suffix says more */
	if (m->kind == CF_KIND_NET)
		snprintf(rule, sizeof(rule), "%s net",
			 verdict_action(m->verdict));
	else
		cf_class_str(m, rule, sizeof(rule));
	if (m->line)
		snprintf(buf, len, "%s (%s:%u)", rule, basename(path), m->line);
	else
		snprintf(buf, len, "%s", rule);
	return buf;
}

const char *cf_class_label(const uint32_t *w, uint32_t cls, char *buf,
			   size_t len)
{
	const struct cf_class_meta *m = cf_image_class(w, cls);

	if (!m) {
		snprintf(buf, len, "class %u", cls);
		return buf;
	}
	return cf_meta_label(m, cf_image_hdr(w)->policy_path, buf, len);
}

uint64_t cf_class_key(const struct cf_class_meta *m)
{
	uint32_t v = 0;

	switch (m->kind) {
	case CF_KIND_COUNTRY:
		v = (uint32_t)m->cc[0] << 8 | m->cc[1];
		break;
	case CF_KIND_ASN:
		v = m->asn;
		break;
	case CF_KIND_NET:
		v = m->line; /* one class per net rule */
		break;
	}
	return (uint64_t)m->kind << 32 | v;
}

struct cf_class_ref {
	uint64_t key;
	uint32_t cls;
};

static int cmp_ref(const void *a, const void *b)
{
	uint64_t x = ((const struct cf_class_ref *)a)->key;
	uint64_t y = ((const struct cf_class_ref *)b)->key;

	return x < y ? -1 : x > y;
}

int cf_class_index_build(const struct cf_class_meta *m, size_t n,
			 struct cf_class_index *ix)
{
	ix->n = n;
	ix->v = calloc(n ? n : 1, sizeof(*ix->v));
	if (!ix->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ix->v[i].key = cf_class_key(&m[i]);
		ix->v[i].cls = (uint32_t)i;
	}
	qsort(ix->v, n, sizeof(*ix->v), cmp_ref);
	return 0;
}

long cf_class_index_find(const struct cf_class_index *ix, uint64_t key)
{
	struct cf_class_ref k = { .key = key }, *hit;

	if (!ix->n)
		return -1;
	hit = bsearch(&k, ix->v, ix->n, sizeof(*ix->v), cmp_ref);
	return hit ? (long)hit->cls : -1;
}

void cf_class_index_free(struct cf_class_index *ix)
{
	free(ix->v);
	ix->v = NULL;
	ix->n = 0;
}
