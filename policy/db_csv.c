// SPDX-License-Identifier: GPL-2.0-only
/*
 * db_csv.c - read address ranges from CSV.
 *
 * Rows are "first,last,CC" (a country) or "first,last,ASN[,name]" (an
 * autonomous system, "AS" prefix optional); the third field tells which,
 * per row.  IPv4 and IPv6 rows may be mixed.  Fields may be quoted, with
 * "" for a quote, so names can hold commas.  Blank lines and lines starting
 * with '#' are skipped, and so is a header: a first row whose first field
 * is a word rather than an address.
 *
 * Overlapping ranges are resolved as a lookup in nested networks would:
 * the narrower range wins, and of equal ranges the later line.  Countries
 * and ASNs are resolved separately, then laid over each other, so a file
 * that concatenates a country list and an ASN list gives every address
 * both attributes.  The whole file is read at open, so errors
 * (file:line:column) surface there.
 *
 * Some vendors' IPv6 files (IP2Location's among them) hold the IPv4 data
 * as IPv4-mapped ::ffff:a.b.c.d rows.  The datapath judges such an address
 * as a.b.c.d, libloc stores IPv4 that way and an mmdb aliases it there, so
 * here too a row inside ::ffff:0:0/96 is an IPv4 row of this file (it
 * competes with the file's other IPv4 rows as they do among themselves).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "db_int.h"

#define CSV_MAX_FIELDS 5 /* one more than a row may have, to say so */
#define CSV_MAPPED ((cf_u128)0xffff << 32) /* ::ffff:0:0/96 */
#define CSV_MAPPED_LAST (CSV_MAPPED | 0xffffffffu)
#define CSV_QUOTE_MAX 40 /* how much of a bad field an error quotes */

struct csv_row {
	cf_u128 first;
	cf_u128 last;
	uint32_t line;
	uint32_t asn;
	char cc[2];
	uint8_t has; /* CF_HAS_CC, CF_HAS_ASN, or 0 for AS0 ("none") */
};

struct csv_rows {
	struct csv_row *v;
	size_t n, cap;
};

struct csv_field {
	char *s; /* unquoted, NUL-terminated, in the scratch buffer */
	size_t len;
	unsigned col;
};

/* Rows are kept by family (v4, v6) and kind (country, ASN). */
enum { CSV_CC, CSV_ASN };

struct csv {
	struct cf_db *db;
	struct cf_err *e;
	unsigned line;
	bool seen_row; /* a header may only come before this is set */
	size_t n_rows;
	char *scratch;
	size_t scratch_cap;
	struct csv_rows rows[2][2];
	struct cf_asmap *names;
};

struct csv_priv {
	struct cf_reclist recs[2]; /* v4, v6 */
	struct cf_asmap names;
};

static int fam_idx(int family)
{
	return family == CF_AF_V6;
}

static int csv_err(struct csv *c, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int csv_err(struct csv *c, unsigned col, const char *fmt, ...)
{
	char msg[sizeof(c->e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cf_err_set(c->e, EINVAL, c->db->path, c->line, col, "%s", msg);
}

static int csv_nomem(struct csv *c)
{
	return cf_err_set(c->e, ENOMEM, c->db->path, 0, 0, "out of memory");
}

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Copy the quoted field at *pp to *out, leaving *pp after it. */
static int split_quoted(struct csv *c, const char *line, const char *end,
			const char **pp, char **out, unsigned col)
{
	const char *p = *pp + 1;
	char *o = *out;

	for (;;) {
		if (p == end)
			return csv_err(c, col, "unterminated quoted field");
		if (*p == '"' && p + 1 < end && p[1] == '"') {
			*o++ = '"';
			p += 2;
		} else if (*p == '"') {
			break;
		} else {
			*o++ = *p++;
		}
	}
	p = skip_blank(p + 1, end);
	if (p < end && *p != ',')
		return csv_err(c, p - line + 1,
			       "unexpected text after a quoted field");
	*pp = p;
	*out = o;
	return 0;
}

/* Split a line into fields, unquoted into the scratch buffer. */
static int split(struct csv *c, const char *line, const char *end,
		 struct csv_field *f, unsigned *nf)
{
	size_t need = end - line + CSV_MAX_FIELDS;
	const char *p = line;
	char *o;
	int err;

	if (need > c->scratch_cap) {
		free(c->scratch);
		c->scratch_cap = need * 2;
		c->scratch = malloc(c->scratch_cap);
		if (!c->scratch)
			return csv_nomem(c);
	}
	o = c->scratch;
	for (*nf = 0;; p++) {
		struct csv_field *fl = &f[*nf];

		p = skip_blank(p, end);
		if (*nf == CSV_MAX_FIELDS)
			return csv_err(c, p - line + 1, "too many fields");
		fl->col = p - line + 1;
		fl->s = o;
		if (p < end && *p == '"') {
			err = split_quoted(c, line, end, &p, &o, fl->col);
			if (err)
				return err;
		} else {
			while (p < end && *p != ',')
				*o++ = *p++;
			while (o > fl->s && (o[-1] == ' ' || o[-1] == '\t'))
				o--;
		}
		fl->len = o - fl->s;
		*o++ = '\0';
		++*nf;
		if (p == end)
			return 0;
	}
}

static int parse_addr(const struct csv_field *f, cf_u128 *a, int *family)
{
	uint8_t b[16];

	if (memchr(f->s, ':', f->len)) {
		if (inet_pton(AF_INET6, f->s, b) != 1)
			return -EINVAL;
		*a = cf_db_be(b, 16);
		*family = CF_AF_V6;
	} else {
		if (inet_pton(AF_INET, f->s, b) != 1)
			return -EINVAL;
		*a = cf_db_be(b, 4);
		*family = CF_AF_V4;
	}
	return 0;
}

static bool has_as_prefix(const struct csv_field *f)
{
	return f->len >= 2 && !strncasecmp(f->s, "AS", 2);
}

/* "13335", "AS13335" or "as13335". */
static int parse_asn(const struct csv_field *f, uint32_t *asn)
{
	size_t i = has_as_prefix(f) ? 2 : 0;
	uint64_t v = 0;

	if (i == f->len || f->len - i > 10)
		return -EINVAL;
	for (; i < f->len; i++) {
		if (f->s[i] < '0' || f->s[i] > '9')
			return -EINVAL;
		v = v * 10 + f->s[i] - '0';
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*asn = v;
	return 0;
}

/*
 * A header's first field is a word: it has a letter that is not a hex
 * digit, which no address has.  So a mistyped address in the first row
 * is still reported, not skipped as a header.
 */
static bool is_header(const struct csv_field *f)
{
	size_t i;

	for (i = 0; i < f->len; i++) {
		char ch = f->s[i] | 0x20;

		if ((ch >= 'g' && ch <= 'z') || f->s[i] == '_')
			return true;
	}
	return false;
}

static int rows_push(struct csv *c, struct csv_rows *l, const struct csv_row *r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct csv_row *v = reallocarray(l->v, cap, sizeof(*v));

		if (!v)
			return csv_nomem(c);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *r;
	return 0;
}

/* The third field (and a name): returns CSV_CC, CSV_ASN or -errno. */
static int csv_attr(struct csv *c, const struct csv_field *f, unsigned nf,
		    struct csv_row *r)
{
	const struct csv_field *a = &f[2];
	struct cf_rec cc = { 0 };

	if (!a->len)
		return csv_err(c, a->col, "missing country code or ASN");
	if (cf_db_set_cc(&cc, a->s, a->len)) {
		char code[3] = { cc.cc[0], cc.cc[1], '\0' };

		if (!cf_country_valid(code))
			return csv_err(c, a->col, "unknown country code '%s'",
				       code);
		if (nf > 3)
			return csv_err(
				c, f[3].col,
				"too many fields: a country row is first,last,CC");
		memcpy(r->cc, cc.cc, 2);
		r->has = CF_HAS_CC;
		return CSV_CC;
	}
	if (parse_asn(a, &r->asn)) {
		bool asn = has_as_prefix(a) || (*a->s >= '0' && *a->s <= '9');

		return csv_err(c, a->col, "bad %s '%.*s'",
			       asn ? "ASN" : "country code or ASN",
			       CSV_QUOTE_MAX, a->s);
	}
	if (nf > 4)
		return csv_err(
			c, f[4].col,
			"too many fields: an ASN row is first,last,ASN[,name]");
	/* AS0 means "not routed": the range states no ASN. */
	r->has = r->asn ? CF_HAS_ASN : 0;
	if (r->asn && nf == 4 && f[3].len &&
	    cf_asmap_put(c->names, r->asn, f[3].s, f[3].len))
		return csv_nomem(c);
	return CSV_ASN;
}

/*
 * A row wholly inside ::ffff:0:0/96 is IPv4 written the IPv6 way.  One
 * that only overlaps it (::/0, say) is an IPv6 row about more than that
 * and stays one: it must not start to state all of IPv4 (the compiler
 * leaves its part inside out, as for every reader).
 */
static int push_v6(struct csv *c, int kind, const struct csv_row *r)
{
	struct csv_row v4 = *r;

	if (r->first < CSV_MAPPED || r->last > CSV_MAPPED_LAST)
		return rows_push(c, &c->rows[1][kind], r);
	v4.first -= CSV_MAPPED;
	v4.last -= CSV_MAPPED;
	return rows_push(c, &c->rows[0][kind], &v4);
}

static int csv_row(struct csv *c, const struct csv_field *f, unsigned nf,
		   unsigned eol_col)
{
	struct csv_row r = { .line = c->line };
	int fam, fam2, kind;

	if (nf < 3)
		return csv_err(
			c, eol_col,
			"missing fields: expected first,last,CC or first,last,ASN[,name]");
	if (parse_addr(&f[0], &r.first, &fam))
		return csv_err(c, f[0].col, "bad address '%.*s'", CSV_QUOTE_MAX,
			       f[0].s);
	if (parse_addr(&f[1], &r.last, &fam2))
		return csv_err(c, f[1].col, "bad address '%.*s'", CSV_QUOTE_MAX,
			       f[1].s);
	if (fam != fam2)
		return csv_err(c, f[1].col, "mixed families in one row");
	if (r.first > r.last)
		return csv_err(c, f[0].col, "first address after last");
	kind = csv_attr(c, f, nf, &r);
	if (kind < 0)
		return kind;
	c->n_rows++;
	if (fam == CF_AF_V6)
		return push_v6(c, kind, &r);
	return rows_push(c, &c->rows[0][kind], &r);
}

static int csv_line(struct csv *c, const char *line, const char *end)
{
	struct csv_field f[CSV_MAX_FIELDS];
	const char *p, *nul;
	unsigned nf;
	int err;

	if (end > line && end[-1] == '\r')
		end--;
	p = skip_blank(line, end);
	if (p == end || *p == '#')
		return 0;
	/* Past the binary sniff a NUL can still turn up; fields are C
	 * strings, so it would cut one short without a word. */
	nul = memchr(p, '\0', end - p);
	if (nul)
		return csv_err(c, nul - line + 1, "NUL byte in a row");
	err = split(c, line, end, f, &nf);
	if (err)
		return err;
	if (!c->seen_row) {
		c->seen_row = true;
		if (is_header(&f[0]))
			return 0;
	}
	return csv_row(c, f, nf, end - line + 1);
}

static int csv_parse(struct csv *c, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl;
	int err;

	/* A byte order mark, as spreadsheets write, is not part of line 1. */
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	for (c->line = 1; p < end; c->line++, p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		err = csv_line(c, p, nl);
		if (err)
			return err;
	}
	if (!c->n_rows)
		return cf_err_set(c->e, EINVAL, c->db->path, 0, 0,
				  "no data rows");
	return 0;
}

static int csv_read(struct cf_db *db, char **buf, size_t *len, struct cf_err *e)
{
	struct stat st;
	ssize_t r = 0;
	size_t got = 0;
	int fd, err = 0;

	fd = open(db->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = cf_err_set(e, errno, db->path, 0, 0, "%s",
				 strerror(errno));
		goto out;
	}
	db->built_at = st.st_mtime;
	*buf = malloc(st.st_size + 1);
	if (!*buf) {
		err = cf_err_set(e, ENOMEM, db->path, 0, 0, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size &&
	       ((r = read(fd, *buf + got, st.st_size - got)) > 0 ||
		(r < 0 && errno == EINTR)))
		got += r > 0 ? r : 0;
	if (r < 0)
		err = cf_err_set(e, errno, db->path, 0, 0, "%s",
				 strerror(errno));
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	return err;
}

static int row_order(const void *x, const void *y)
{
	const struct csv_row *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* The narrower range wins; of equal ones the later line. */
static bool beats(const struct csv_row *a, const struct csv_row *b)
{
	cf_u128 sa = a->last - a->first, sb = b->last - b->first;

	return sa < sb || (sa == sb && a->line > b->line);
}

/* A binary heap of row indices, the winning row on top. */
struct heap {
	const struct csv_row *rows;
	uint32_t *v;
	size_t n;
};

static void heap_swap(struct heap *h, size_t i, size_t j)
{
	uint32_t t = h->v[i];

	h->v[i] = h->v[j];
	h->v[j] = t;
}

static void heap_push(struct heap *h, uint32_t row)
{
	size_t i = h->n++;

	h->v[i] = row;
	for (; i && beats(&h->rows[h->v[i]], &h->rows[h->v[(i - 1) / 2]]);
	     i = (i - 1) / 2)
		heap_swap(h, i, (i - 1) / 2);
}

static void heap_pop(struct heap *h)
{
	size_t i = 0, best;

	h->v[0] = h->v[--h->n];
	for (;; i = best) {
		best = i;
		if (2 * i + 1 < h->n &&
		    beats(&h->rows[h->v[2 * i + 1]], &h->rows[h->v[best]]))
			best = 2 * i + 1;
		if (2 * i + 2 < h->n &&
		    beats(&h->rows[h->v[2 * i + 2]], &h->rows[h->v[best]]))
			best = 2 * i + 2;
		if (best == i)
			return;
		heap_swap(h, i, best);
	}
}

static bool rows_sorted(const struct csv_rows *l)
{
	size_t i;

	for (i = 1; i < l->n; i++)
		if (row_order(&l->v[i - 1], &l->v[i]) > 0)
			return false;
	return true;
}

/*
 * Sweep the rows in address order, keeping the rows that cover the sweep
 * point in a heap; the top one owns the addresses up to where it ends or
 * the next row starts, whichever comes first.  Rows that ended stay in the
 * heap until they reach the top.  O(n log n).
 */
static int resolve(struct csv_rows *l, int family, struct cf_reclist *out)
{
	struct heap h = { .rows = l->v };
	struct cf_rec r = { .family = family };
	const struct csv_row *w;
	size_t i = 0;
	cf_u128 cur;
	int err = 0;

	if (!l->n)
		return 0;
	if (!rows_sorted(l))
		qsort(l->v, l->n, sizeof(*l->v), row_order);
	h.v = malloc(l->n * sizeof(*h.v));
	if (!h.v)
		return -ENOMEM;
	for (cur = l->v[0].first; !err;) {
		for (; i < l->n && l->v[i].first <= cur; i++)
			heap_push(&h, i);
		while (h.n && l->v[h.v[0]].last < cur)
			heap_pop(&h);
		if (!h.n && i == l->n)
			break;
		if (!h.n) {
			cur = l->v[i].first;
			continue;
		}
		w = &l->v[h.v[0]];
		r.first = cur;
		/* The winner holds until it ends or another row starts. */
		r.last = w->last;
		if (i < l->n && l->v[i].first <= w->last)
			r.last = l->v[i].first - 1;
		r.has = w->has;
		r.asn = w->asn;
		memcpy(r.cc, w->cc, 2);
		err = cf_db_emit(out, 0, &r);
		if (r.last == cf_af_max(family))
			break;
		cur = r.last + 1;
	}
	free(h.v);
	return err;
}

/*
 * Lay two sorted, disjoint lists over each other: each address gets the
 * attributes of both.
 */
static int overlay(const struct cf_reclist *a, const struct cf_reclist *b,
		   struct cf_reclist *out)
{
	size_t i = 0, j = 0;
	cf_u128 cur = 0;
	int err = 0;

	while (!err && (i < a->n || j < b->n)) {
		const struct cf_rec *ra = i < a->n ? &a->v[i] : NULL;
		const struct cf_rec *rb = j < b->n ? &b->v[j] : NULL;
		cf_u128 fa = ra && ra->first > cur ? ra->first : cur;
		cf_u128 fb = rb && rb->first > cur ? rb->first : cur;
		cf_u128 lo = !rb || (ra && fa < fb) ? fa : fb;
		bool in_a = ra && ra->first <= lo, in_b = rb && rb->first <= lo;
		struct cf_rec r = in_a ? *ra : *rb;

		r.first = lo;
		r.last = in_a ? ra->last : rb->last;
		if (in_b && rb->last < r.last)
			r.last = rb->last;
		if (!in_a && ra && ra->first - 1 < r.last)
			r.last = ra->first - 1;
		if (!in_b && rb && rb->first - 1 < r.last)
			r.last = rb->first - 1;
		if (in_a && in_b) {
			r.has = ra->has | rb->has;
			r.asn = rb->asn;
		}
		err = cf_db_emit(out, 0, &r);
		i += in_a && ra->last == r.last;
		j += in_b && rb->last == r.last;
		if (r.last == ~(cf_u128)0)
			break;
		cur = r.last + 1;
	}
	return err;
}

/* Resolve one family's rows into its records. */
static int csv_build(struct csv *c, int fi, struct cf_reclist *out)
{
	int family = fi ? CF_AF_V6 : CF_AF_V4;
	struct cf_reclist cc = { 0 }, asn = { 0 };
	int err;

	err = resolve(&c->rows[fi][CSV_CC], family, &cc);
	if (!err)
		err = resolve(&c->rows[fi][CSV_ASN], family, &asn);
	if (!err && !asn.n) {
		*out = cc;
		cc = (struct cf_reclist){ 0 };
	} else if (!err && !cc.n) {
		*out = asn;
		asn = (struct cf_reclist){ 0 };
	} else if (!err) {
		err = overlay(&cc, &asn, out);
	}
	cf_reclist_free(&cc);
	cf_reclist_free(&asn);
	return err ? csv_nomem(c) : 0;
}

static void csv_close(struct cf_db *db)
{
	struct csv_priv *p = db->priv;

	if (!p)
		return;
	cf_reclist_free(&p->recs[0]);
	cf_reclist_free(&p->recs[1]);
	cf_asmap_free(&p->names);
	free(p);
	db->priv = NULL;
}

static int csv_open(struct cf_db *db, struct cf_err *e)
{
	struct csv_priv *p = calloc(1, sizeof(*p));
	struct csv c = { .db = db, .e = e };
	char *buf = NULL;
	size_t len = 0;
	int i, j, err;

	if (!p)
		return cf_err_set(e, ENOMEM, db->path, 0, 0, "out of memory");
	db->priv = p;
	c.names = &p->names;
	err = csv_read(db, &buf, &len, e);
	if (!err)
		err = csv_parse(&c, buf, len);
	free(buf);
	free(c.scratch);
	for (i = 0; i < 2 && !err; i++)
		err = csv_build(&c, i, &p->recs[i]);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			free(c.rows[i][j].v);
	if (err)
		csv_close(db);
	return err;
}

static int csv_records(struct cf_db *db, int family, struct cf_reclist *out,
		       struct cf_err *e)
{
	struct csv_priv *p = db->priv;
	const struct cf_reclist *l = &p->recs[fam_idx(family)];
	size_t i;

	for (i = 0; i < l->n; i++)
		if (cf_reclist_push(out, &l->v[i]))
			return cf_err_set(e, ENOMEM, db->path, 0, 0,
					  "out of memory");
	return 0;
}

static const char *csv_as_name(struct cf_db *db, uint32_t asn)
{
	struct csv_priv *p = db->priv;

	return cf_asmap_get(&p->names, asn);
}

const struct cf_db_ops cf_db_csv_ops = {
	.open = csv_open,
	.close = csv_close,
	.records = csv_records,
	.as_name = csv_as_name,
};
