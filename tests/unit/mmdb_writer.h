/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mmdb_writer.h - a small MaxMind DB writer for test fixtures.
 *
 * libmaxminddb only reads, so tests build their databases with this:
 * a search tree of 24-, 28- or 32-bit records, a data section of maps,
 * strings and integers, and the metadata map after the marker.  Networks
 * are inserted broadest first; a narrower one splits the record it lands
 * in.  Tests can also poke records directly to build corrupt trees.
 *
 *	struct mw w;
 *	uint32_t us;
 *
 *	mw_init(&w, 6, 28);
 *	us = mw_here(&w);
 *	mw_map(&w, 1);
 *	mw_str(&w, "country_code");
 *	mw_str(&w, "US");
 *	mw_insert(&w, "192.0.2.0/24", us);
 *	mw_write(&w, path, 1700000000, "test");
 *	mw_free(&w);
 */
#ifndef MMDB_WRITER_H
#define MMDB_WRITER_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MW_EMPTY, MW_NODE, MW_DATA, MW_RAW };

/* Types of the data section, as the spec numbers them. */
enum {
	MW_T_STRING = 2,
	MW_T_UINT16 = 5,
	MW_T_UINT32 = 6,
	MW_T_MAP = 7,
	MW_T_UINT64 = 9,
	MW_T_ARRAY = 11,
};

struct mw_node {
	uint8_t kind[2]; /* MW_EMPTY, MW_NODE, MW_DATA, MW_RAW */
	uint32_t val[2]; /* node index, data offset, or raw record value */
};

struct mw_buf {
	uint8_t *p;
	size_t n, cap;
};

struct mw {
	int ip_version; /* 4 or 6 */
	int record_size; /* 24, 28 or 32 */
	struct mw_node *nodes;
	size_t n_nodes, cap;
	struct mw_buf data;
	int err; /* sticky: the first failure */
};

static inline void mw_put(struct mw_buf *b, const void *p, size_t n, int *err)
{
	if (!n)
		return;
	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2 + 64;
		uint8_t *v = realloc(b->p, cap);

		if (!v) {
			*err = -ENOMEM;
			return;
		}
		b->p = v;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static inline void mw_put_be(struct mw_buf *b, uint64_t v, unsigned n, int *err)
{
	uint8_t tmp[8];
	unsigned i;

	for (i = 0; i < n; i++)
		tmp[i] = v >> (8 * (n - 1 - i));
	mw_put(b, tmp, n, err);
}

/* A control byte (and extended type byte, and size bytes). */
static inline void mw_ctrl(struct mw_buf *b, unsigned type, size_t size,
			   int *err)
{
	uint8_t c = (type <= 7 ? type : 0) << 5, ext = type - 7;

	if (size < 29)
		c |= size;
	else if (size < 285)
		c |= 29;
	else if (size < 65821)
		c |= 30;
	else
		c |= 31;
	mw_put(b, &c, 1, err);
	if (type > 7)
		mw_put(b, &ext, 1, err);
	if (size >= 65821)
		mw_put_be(b, size - 65821, 3, err);
	else if (size >= 285)
		mw_put_be(b, size - 285, 2, err);
	else if (size >= 29)
		mw_put_be(b, size - 29, 1, err);
}

static inline void mw_b_str(struct mw_buf *b, const char *s, int *err)
{
	mw_ctrl(b, MW_T_STRING, strlen(s), err);
	mw_put(b, s, strlen(s), err);
}

/* Unsigned integers take as few bytes as their value needs. */
static inline void mw_b_uint(struct mw_buf *b, unsigned type, uint64_t v,
			     int *err)
{
	unsigned n = 0;

	while (n < 8 && v >> (8 * n))
		n++;
	mw_ctrl(b, type, n, err);
	mw_put_be(b, v, n, err);
}

static inline void mw_init(struct mw *w, int ip_version, int record_size)
{
	memset(w, 0, sizeof(*w));
	w->ip_version = ip_version;
	w->record_size = record_size;
}

static inline void mw_free(struct mw *w)
{
	free(w->nodes);
	free(w->data.p);
	memset(w, 0, sizeof(*w));
}

/* Offset of the next data entry: what mw_insert wants. */
static inline uint32_t mw_here(const struct mw *w)
{
	return w->data.n;
}

static inline void mw_map(struct mw *w, unsigned pairs)
{
	mw_ctrl(&w->data, MW_T_MAP, pairs, &w->err);
}

static inline void mw_array(struct mw *w, unsigned n)
{
	mw_ctrl(&w->data, MW_T_ARRAY, n, &w->err);
}

static inline void mw_str(struct mw *w, const char *s)
{
	mw_b_str(&w->data, s, &w->err);
}

static inline void mw_uint(struct mw *w, unsigned type, uint64_t v)
{
	mw_b_uint(&w->data, type, v, &w->err);
}

/* Raw bytes, to write data the reader must reject. */
static inline void mw_raw(struct mw *w, const void *p, size_t n)
{
	mw_put(&w->data, p, n, &w->err);
}

/* A new node whose records are both (kind, val); returns its index. */
static inline uint32_t mw_node_new(struct mw *w, uint8_t kind, uint32_t val)
{
	if (w->n_nodes == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct mw_node *v = realloc(w->nodes, cap * sizeof(*v));

		if (!v) {
			w->err = -ENOMEM;
			return 0;
		}
		w->nodes = v;
		w->cap = cap;
	}
	w->nodes[w->n_nodes].kind[0] = w->nodes[w->n_nodes].kind[1] = kind;
	w->nodes[w->n_nodes].val[0] = w->nodes[w->n_nodes].val[1] = val;
	return w->n_nodes++;
}

/* "192.0.2.0/24" or "2001:db8::/32" as 16 bytes and a depth in the tree. */
static inline int mw_prefix(const struct mw *w, const char *s, uint8_t a[16],
			    unsigned *len)
{
	unsigned off = w->ip_version == 6 ? 96 : 0;
	char buf[64], *slash;
	int v6;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	v6 = strchr(buf, ':') != NULL;
	*len = slash ? (unsigned)atoi(slash) : v6 ? 128 : 32;
	memset(a, 0, 16);
	if (v6)
		return w->ip_version == 6 && *len <= 128 &&
				       inet_pton(AF_INET6, buf, a) == 1 ?
			       0 :
			       -EINVAL;
	if (*len > 32 || inet_pton(AF_INET, buf, a + off / 8) != 1)
		return -EINVAL;
	*len += off;
	return 0;
}

/* Point the record for prefix at (kind, val), splitting records above. */
static inline int mw_set(struct mw *w, const char *prefix, uint8_t kind,
			 uint32_t val)
{
	uint32_t node = 0, child;
	unsigned d, len, bit;
	uint8_t a[16];

	if (mw_prefix(w, prefix, a, &len) || !len)
		return -EINVAL;
	if (!w->n_nodes)
		mw_node_new(w, MW_EMPTY, 0);
	for (d = 0; !w->err; d++) {
		bit = a[d / 8] >> (7 - d % 8) & 1;
		if (d == len - 1) {
			w->nodes[node].kind[bit] = kind;
			w->nodes[node].val[bit] = val;
			return 0;
		}
		if (w->nodes[node].kind[bit] != MW_NODE) {
			child = mw_node_new(w, w->nodes[node].kind[bit],
					    w->nodes[node].val[bit]);
			w->nodes[node].kind[bit] = MW_NODE;
			w->nodes[node].val[bit] = child;
		}
		node = w->nodes[node].val[bit];
	}
	return w->err;
}

static inline int mw_insert(struct mw *w, const char *prefix, uint32_t data)
{
	return mw_set(w, prefix, MW_DATA, data);
}

/*
 * Alias the IPv4 subtree (::/96) at ::ffff:0:0/96 and 2002::/16, as
 * MaxMind's writers do.  Insert the IPv4 networks first.
 */
static inline int mw_alias_v4(struct mw *w)
{
	uint32_t node = 0;
	unsigned d;

	for (d = 0; d < 96; d++) {
		if (d >= w->n_nodes || w->nodes[node].kind[0] != MW_NODE)
			return -EINVAL;
		node = w->nodes[node].val[0];
	}
	if (mw_set(w, "::ffff:0:0/96", MW_NODE, node))
		return -EINVAL;
	return mw_set(w, "2002::/16", MW_NODE, node);
}

static inline uint32_t mw_record(const struct mw *w, uint8_t kind, uint32_t val)
{
	switch (kind) {
	case MW_EMPTY:
		return w->n_nodes;
	case MW_DATA:
		return w->n_nodes + 16 + val;
	default:
		return val;
	}
}

static inline void mw_tree(const struct mw *w, struct mw_buf *b, int *err)
{
	uint32_t l, r;
	uint8_t mid;
	size_t i;

	for (i = 0; i < w->n_nodes; i++) {
		l = mw_record(w, w->nodes[i].kind[0], w->nodes[i].val[0]);
		r = mw_record(w, w->nodes[i].kind[1], w->nodes[i].val[1]);
		if (w->record_size == 24) {
			mw_put_be(b, l, 3, err);
			mw_put_be(b, r, 3, err);
		} else if (w->record_size == 28) {
			/* The middle byte holds both records' top nibbles. */
			mid = (l >> 24 & 0xf) << 4 | (r >> 24 & 0xf);
			mw_put_be(b, l & 0xffffff, 3, err);
			mw_put(b, &mid, 1, err);
			mw_put_be(b, r & 0xffffff, 3, err);
		} else {
			mw_put_be(b, l, 4, err);
			mw_put_be(b, r, 4, err);
		}
	}
}

static inline void mw_metadata(const struct mw *w, struct mw_buf *b,
			       uint64_t epoch, const char *type, int *err)
{
	mw_put(b, "\xab\xcd\xefMaxMind.com", 14, err);
	mw_ctrl(b, MW_T_MAP, 9, err);
	mw_b_str(b, "binary_format_major_version", err);
	mw_b_uint(b, MW_T_UINT16, 2, err);
	mw_b_str(b, "binary_format_minor_version", err);
	mw_b_uint(b, MW_T_UINT16, 0, err);
	mw_b_str(b, "build_epoch", err);
	mw_b_uint(b, MW_T_UINT64, epoch, err);
	mw_b_str(b, "database_type", err);
	mw_b_str(b, type, err);
	mw_b_str(b, "description", err);
	mw_ctrl(b, MW_T_MAP, 1, err);
	mw_b_str(b, "en", err);
	mw_b_str(b, "camfence test fixture", err);
	mw_b_str(b, "ip_version", err);
	mw_b_uint(b, MW_T_UINT16, w->ip_version, err);
	mw_b_str(b, "languages", err);
	mw_ctrl(b, MW_T_ARRAY, 1, err);
	mw_b_str(b, "en", err);
	mw_b_str(b, "node_count", err);
	mw_b_uint(b, MW_T_UINT32, w->n_nodes, err);
	mw_b_str(b, "record_size", err);
	mw_b_uint(b, MW_T_UINT16, w->record_size, err);
}

/* Write the database to path; returns 0 or -errno. */
static inline int mw_write(struct mw *w, const char *path, uint64_t epoch,
			   const char *type)
{
	static const uint8_t zero[16];
	struct mw_buf b = { 0 };
	int err = w->err;
	FILE *f;

	if (!w->n_nodes)
		mw_node_new(w, MW_EMPTY, 0);
	mw_tree(w, &b, &err);
	mw_put(&b, zero, sizeof(zero), &err);
	mw_put(&b, w->data.p, w->data.n, &err);
	mw_metadata(w, &b, epoch, type, &err);
	f = err ? NULL : fopen(path, "we");
	if (!err && !f)
		err = -errno;
	if (f && fwrite(b.p, 1, b.n, f) != b.n)
		err = -EIO;
	if (f && fclose(f) && !err)
		err = -errno;
	free(b.p);
	return err;
}

#endif /* MMDB_WRITER_H */
