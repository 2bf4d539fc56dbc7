// SPDX-License-Identifier: GPL-2.0-only
/*
 * db.c - open a geolocation/ASN database of any supported format and hand
 * out its records.  The readers live in db_libloc.c, db_mmdb.c, db_csv.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "db_int.h"

#define LIBLOC_MAGIC "LOCDBXX"
#define MMDB_MARKER "\xab\xcd\xefMaxMind.com"
/* The mmdb metadata sits in the last 128 KiB of the file. */
#define MMDB_META_MAX (128 * 1024)
/* A NUL in the first bytes means binary data, not CSV. */
#define SNIFF_TEXT 4096

int cf_reclist_push(struct cf_reclist *l, const struct cf_rec *r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct cf_rec *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *r;
	return 0;
}

void cf_reclist_free(struct cf_reclist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int cf_db_emit(struct cf_reclist *l, size_t base, const struct cf_rec *r)
{
	struct cf_rec *last = l->n > base ? &l->v[l->n - 1] : NULL;

	if (!r->has)
		return 0;
	if (last && last->family == r->family && last->last + 1 == r->first &&
	    cf_rec_same_attrs(last, r)) {
		last->last = r->last;
		return 0;
	}
	return cf_reclist_push(l, r);
}

const char *cf_db_format_str(enum cf_db_format fmt)
{
	switch (fmt) {
	case CF_DB_AUTO:
		return "auto";
	case CF_DB_LIBLOC:
		return "libloc";
	case CF_DB_MMDB:
		return "mmdb";
	case CF_DB_CSV:
		return "csv";
	}
	return "unknown";
}

/* Read up to len bytes at off; returns the count or -errno. */
static ssize_t read_at(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, off + got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			break;
		got += r;
	}
	return got;
}

static int has_mmdb_marker(int fd, off_t size, bool *found)
{
	size_t len = size < MMDB_META_MAX ? size : MMDB_META_MAX;
	char *buf = malloc(len);
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	r = read_at(fd, buf, len, size - len);
	*found = r > 0 && memmem(buf, r, MMDB_MARKER, strlen(MMDB_MARKER));
	free(buf);
	return r < 0 ? r : 0;
}

/* What the content says the file is: libloc, mmdb, text (CSV) or binary. */
static int sniff(int fd, off_t size, enum cf_db_format *fmt, bool *binary)
{
	char head[SNIFF_TEXT];
	bool mmdb;
	ssize_t r;

	r = read_at(fd, head, sizeof(head), 0);
	if (r < 0)
		return r;
	*binary = memchr(head, 0, r) != NULL;
	if (r >= 7 && !memcmp(head, LIBLOC_MAGIC, 7)) {
		*fmt = CF_DB_LIBLOC;
		return 0;
	}
	r = has_mmdb_marker(fd, size, &mmdb);
	if (r)
		return r;
	*fmt = mmdb ? CF_DB_MMDB : CF_DB_CSV;
	return 0;
}

static const char *const format_what[] = {
	[CF_DB_LIBLOC] = "a libloc database",
	[CF_DB_MMDB] = "an mmdb database",
	[CF_DB_CSV] = "a CSV database",
};

/* Does what the content says (found) agree with what was asked (want)? */
static int check_format(const char *path, enum cf_db_format want,
			enum cf_db_format found, bool binary, struct cf_err *e)
{
	if (want == CF_DB_AUTO) {
		if (found == CF_DB_CSV && binary)
			return cf_err_set(e, EINVAL, path, 0, 0,
					  "not a libloc, mmdb or CSV database");
		return 0;
	}
	if (want > CF_DB_CSV)
		return cf_err_set(e, EINVAL, path, 0, 0,
				  "unknown database format %d", want);
	if (want == found && !(found == CF_DB_CSV && binary))
		return 0;
	if (found != CF_DB_CSV)
		return cf_err_set(e, EINVAL, path, 0, 0, "not %s (it is %s)",
				  format_what[want], format_what[found]);
	switch (want) {
	case CF_DB_LIBLOC:
		return cf_err_set(e, EINVAL, path, 0, 0,
				  "not a libloc database (bad magic)");
	case CF_DB_MMDB:
		return cf_err_set(e, EINVAL, path, 0, 0,
				  "not an mmdb database (no metadata marker)");
	default:
		return cf_err_set(e, EINVAL, path, 0, 0,
				  "not a CSV database (binary data)");
	}
}

/* Check that path is a usable file of format *fmt (CF_DB_AUTO: detect). */
static int check_file(const char *path, enum cf_db_format *fmt,
		      struct cf_err *e)
{
	enum cf_db_format found;
	struct stat st;
	bool binary;
	int fd, err;

	/* O_NONBLOCK: a FIFO put where a database was must not stall us */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return cf_err_set(e, errno, path, 0, 0, "%s", strerror(errno));
	if (fstat(fd, &st)) {
		err = cf_err_set(e, errno, path, 0, 0, "%s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = cf_err_set(e, EISDIR, path, 0, 0, "%s", strerror(EISDIR));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = cf_err_set(e, EINVAL, path, 0, 0, "not a regular file");
		goto out;
	}
	if (!st.st_size) {
		err = cf_err_set(e, EINVAL, path, 0, 0, "empty file");
		goto out;
	}
	err = sniff(fd, st.st_size, &found, &binary);
	if (err) {
		cf_err_set(e, -err, path, 0, 0, "%s", strerror(-err));
		goto out;
	}
	err = check_format(path, *fmt, found, binary, e);
	if (!err && *fmt == CF_DB_AUTO)
		*fmt = found;
out:
	close(fd);
	return err;
}

int cf_db_distrust(const struct cf_db *db, struct cf_err *e, const char *fmt,
		   ...)
{
	char why[sizeof(e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!db->ref_file)
		return cf_err_set(e, EINVAL, db->path, 0, 0, "%s", why);
	return cf_err_set(e, EINVAL, db->ref_file, db->ref_line, db->ref_col,
			  "%s: %s", db->path, why);
}

static const char *const format_word[] = {
	[CF_DB_LIBLOC] = "libloc",
	[CF_DB_MMDB] = "mmdb",
	[CF_DB_CSV] = "csv",
};

/*
 * An untyped database, found to be fmt: while a signing key is configured
 * it must be libloc, and then must verify (even should the key vanish
 * before ll_verify looks).  `database default` stands for the signed
 * database the location package keeps: a CSV or mmdb file there was most
 * likely put there by someone else, so restoring it comes first.
 */
static int check_trust(struct cf_db *db, enum cf_db_format fmt,
		       struct cf_err *e)
{
	const char *key = cf_db_signing_key();

	if (!key)
		return 0;
	if (fmt == CF_DB_LIBLOC) {
		db->must_verify = true;
		return 0;
	}
	if (!strcmp(db->path, cf_default_database()))
		return cf_db_distrust(
			db, e,
			"content is %s, but `database default` must be a signed libloc database while a signing key is configured (%s): restore it (`location update`), or write `database %s %s` to use this file unverified",
			format_what[fmt], key, format_word[fmt], db->path);
	return cf_db_distrust(
		db, e,
		"content is %s, but a libloc signing key is configured (%s): write `database %s %s` to use it unverified",
		format_what[fmt], key, format_word[fmt], db->path);
}

static const struct cf_db_ops *ops_for(enum cf_db_format fmt)
{
	switch (fmt) {
	case CF_DB_LIBLOC:
		return &cf_db_libloc_ops;
	case CF_DB_MMDB:
		return &cf_db_mmdb_ops;
	default:
		return &cf_db_csv_ops;
	}
}

/* db->path and the database line set; fmt as the line gives it. */
static int db_open(struct cf_db *db, enum cf_db_format fmt, struct cf_err *e)
{
	bool untyped = fmt == CF_DB_AUTO;
	int err;

	err = check_file(db->path, &fmt, e);
	if (!err && untyped)
		err = check_trust(db, fmt, e);
	if (err)
		return err;
	db->format = fmt;
	db->ops = ops_for(fmt);
	return db->ops->open(db, e);
}

static int open_at(const char *path, enum cf_db_format fmt,
		   const char *ref_file, unsigned line, unsigned col,
		   struct cf_db **out, struct cf_err *e)
{
	struct cf_db *db = calloc(1, sizeof(*db));
	int err;

	if (!db || !(db->path = strdup(path))) {
		err = cf_err_set(e, ENOMEM, path, 0, 0, "out of memory");
		goto out;
	}
	db->ref_file = ref_file;
	db->ref_line = line;
	db->ref_col = col;
	err = db_open(db, fmt, e);
	db->ref_file = NULL; /* the caller's string: only while opening */
out:
	if (err && db) {
		free(db->path);
		free(db);
	} else if (!err) {
		*out = db;
	}
	return err;
}

int cf_db_open(const char *path, enum cf_db_format fmt, struct cf_db **out,
	       struct cf_err *e)
{
	return open_at(path, fmt, NULL, 0, 0, out, e);
}

int cf_db_open_ref(const struct cf_db_ref *ref, const char *policy,
		   struct cf_db **out, struct cf_err *e)
{
	if (!policy || !strcmp(policy, "-"))
		policy = "<stdin>";
	return open_at(ref->path, ref->format, policy, ref->line, ref->col, out,
		       e);
}

void cf_db_close(struct cf_db *db)
{
	if (!db)
		return;
	db->ops->close(db);
	free(db->path);
	free(db);
}

const char *cf_db_path(const struct cf_db *db)
{
	return db->path;
}

enum cf_db_format cf_db_format(const struct cf_db *db)
{
	return db->format;
}

time_t cf_db_built_at(const struct cf_db *db)
{
	return db->built_at;
}

/*
 * The compiler relies on records being sorted and disjoint; a reader bug or
 * a database that defeats a reader's checks must not get past here.
 */
static int check_records(const struct cf_db *db, int family,
			 const struct cf_reclist *l, size_t base,
			 struct cf_err *e)
{
	cf_u128 max = cf_af_max(family);
	char buf[CF_ADDR_STRLEN];
	size_t i;

	for (i = base; i < l->n; i++) {
		const struct cf_rec *r = &l->v[i];

		if (r->family == family && r->first <= r->last &&
		    r->last <= max && (i == base || r->first > r[-1].last))
			continue;
		return cf_err_set(
			e, EINVAL, db->path, 0, 0,
			"%s reader: record %zu at %s out of order or overlapping",
			cf_db_format_str(db->format), i - base,
			cf_addr_format(r->first, family, buf));
	}
	return 0;
}

int cf_db_records(struct cf_db *db, int family, struct cf_reclist *out,
		  struct cf_err *e)
{
	size_t base = out->n;
	int err;

	if (family != CF_AF_V4 && family != CF_AF_V6)
		return cf_err_set(e, EINVAL, db->path, 0, 0,
				  "bad address family %d", family);
	err = db->ops->records(db, family, out, e);
	if (!err)
		err = check_records(db, family, out, base, e);
	if (err)
		out->n = base;
	return err;
}

const char *cf_db_as_name(struct cf_db *db, uint32_t asn)
{
	return db->ops->as_name ? db->ops->as_name(db, asn) : NULL;
}

/* Slots are a power of two; keep them at most half full. */
static size_t asmap_find(const struct cf_asmap *m, uint32_t asn)
{
	size_t i = (asn * 2654435761u) & (m->cap - 1);

	while (m->slot[i].name && m->slot[i].asn != asn)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int asmap_grow(struct cf_asmap *m)
{
	struct cf_asmap n = { .cap = m->cap ? m->cap * 2 : 256 };
	size_t i;

	n.slot = calloc(n.cap, sizeof(*n.slot));
	if (!n.slot)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->slot[i].name)
			n.slot[asmap_find(&n, m->slot[i].asn)] = m->slot[i];
	n.n = m->n;
	free(m->slot);
	*m = n;
	return 0;
}

int cf_asmap_put(struct cf_asmap *m, uint32_t asn, const char *name, size_t len)
{
	struct cf_asname *s;
	char *copy;

	if ((m->n + 1) * 2 > m->cap && asmap_grow(m))
		return -ENOMEM;
	s = &m->slot[asmap_find(m, asn)];
	if (s->name && strlen(s->name) == len && !memcmp(s->name, name, len))
		return 0;
	copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	if (!s->name)
		m->n++;
	free(s->name);
	s->asn = asn;
	s->name = copy;
	return 0;
}

const char *cf_asmap_get(const struct cf_asmap *m, uint32_t asn)
{
	return m->cap ? m->slot[asmap_find(m, asn)].name : NULL;
}

void cf_asmap_free(struct cf_asmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slot[i].name);
	free(m->slot);
	m->slot = NULL;
	m->n = m->cap = 0;
}
