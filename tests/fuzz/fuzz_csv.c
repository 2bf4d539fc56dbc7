// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_csv.c - the CSV database reader, and the layering of databases.
 *
 * An input is written to a memfd, reused for the whole run (no disk
 * writes), and opened by its /proc/self/fd path as any database would be.
 * Two kinds of input:
 *
 *  - arbitrary bytes (the first byte is not NUL): the reader either fails
 *    with an error pointing into the text, or hands out records that are
 *    sorted, disjoint and well formed; the same text with CRLF line ends
 *    gives the same result;
 *  - structured (a NUL first byte, which as CSV could only ever be refused
 *    as binary data): the bytes after it choose rows, which the harness
 *    writes out as CSV in assorted spellings, into one file or two, and
 *    checks the records against a naive evaluation of the overlap rules
 *    at every row edge: per kind (country, ASN) the narrowest covering
 *    row wins, of equal ones the later line, AS0 states no ASN; a row
 *    wholly inside ::ffff:0:0/96 is an IPv4 row written the IPv6 way.
 *    Two files are also loaded as a policy's two databases
 *    (cf_dbset_load): per attribute, the second wins where it states one.
 *    AS names follow the same rules.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compile.h"
#include "db.h"
#include "fuzz/fuzz.h"

/* Two files: raw input uses the first, layered databases both. */
static int memfd[2];
static char path[2][64];
static bool dump; /* FUZZ_DUMP=1: print the CSV a structured input makes */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int i;

	(void)argc;
	(void)argv;
	for (i = 0; i < 2; i++) {
		memfd[i] = memfd_create("fuzz-csv", MFD_CLOEXEC);
		FZ_CHECK(memfd[i] >= 0, "memfd_create failed");
		snprintf(path[i], sizeof(path[i]), "/proc/self/fd/%d",
			 memfd[i]);
	}
	dump = getenv("FUZZ_DUMP") != NULL;
	return 0;
}

static void put_file(int i, const void *d, size_t n)
{
	FZ_CHECK(!ftruncate(memfd[i], 0), "ftruncate");
	FZ_CHECK(!n || pwrite(memfd[i], d, n, 0) == (ssize_t)n, "pwrite");
}

/* What db.h promises of cf_db_records' output. */
static void check_records(const struct cf_reclist *l, int family)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct cf_rec *r = &l->v[i];

		FZ_CHECK(r->family == family, "record %zu: family %u", i,
			 r->family);
		FZ_CHECK(r->first <= r->last && r->last <= cf_af_max(family),
			 "record %zu: %s-%s", i, fz_addr(r->first, family),
			 fz_addr(r->last, family));
		FZ_CHECK(!i || r[-1].last < r->first,
			 "record %zu at %s overlaps or is out of order", i,
			 fz_addr(r->first, family));
		FZ_CHECK(r->has && !(r->has & ~(CF_HAS_CC | CF_HAS_ASN)),
			 "record %zu: has %#x", i, r->has);
		FZ_CHECK(!(r->has & CF_HAS_CC) ||
				 (r->cc[0] >= 'A' && r->cc[0] <= 'Z' &&
				  r->cc[1] >= 'A' && r->cc[1] <= 'Z'),
			 "record %zu: country %.2s", i, r->cc);
		FZ_CHECK(!(r->has & CF_HAS_ASN) || r->asn,
			 "record %zu: states ASN 0", i);
	}
}

struct result {
	int err;
	struct cf_err e;
	struct cf_reclist recs[2]; /* v4, v6 */
	struct cf_db *db;
};

/* Open memfd i as CSV and read both families; the db stays open. */
static void read_csv(int i, struct result *res)
{
	static const int fams[2] = { CF_AF_V4, CF_AF_V6 };
	int k, err;

	memset(res, 0, sizeof(*res));
	res->err = cf_db_open(path[i], CF_DB_CSV, &res->db, &res->e);
	if (res->err)
		return;
	for (k = 0; k < 2; k++) {
		err = cf_db_records(res->db, fams[k], &res->recs[k], &res->e);
		FZ_CHECK(!err, "records of an open CSV: %s", res->e.msg);
		check_records(&res->recs[k], fams[k]);
	}
}

static void free_result(struct result *res)
{
	cf_reclist_free(&res->recs[0]);
	cf_reclist_free(&res->recs[1]);
	cf_db_close(res->db);
}

static bool same_recs(const struct cf_reclist *a, const struct cf_reclist *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct cf_rec *x = &a->v[i], *y = &b->v[i];

		if (x->first != y->first || x->last != y->last ||
		    x->has != y->has ||
		    ((x->has & CF_HAS_ASN) && x->asn != y->asn) ||
		    ((x->has & CF_HAS_CC) && memcmp(x->cc, y->cc, 2)))
			return false;
	}
	return true;
}

static bool bare_lf(const uint8_t *d, size_t i)
{
	return d[i] == '\n' && (!i || d[i - 1] != '\r');
}

/*
 * The input with every bare "\n" made "\r\n"; NULL when it has none.
 * A CR already there stays single: a second one would be text on the
 * line, which the reader rightly refuses in a field.
 */
static uint8_t *crlf(const uint8_t *d, size_t n, size_t *len)
{
	size_t i, nl = 0;
	uint8_t *out, *o;

	for (i = 0; i < n; i++)
		nl += bare_lf(d, i);
	if (!nl)
		return NULL;
	out = o = malloc(n + nl);
	FZ_CHECK(out, "out of memory");
	for (i = 0; i < n; i++) {
		if (bare_lf(d, i))
			*o++ = '\r';
		*o++ = d[i];
	}
	*len = n + nl;
	return out;
}

/*
 * CRLF line ends change nothing.  Not for input with a NUL: moving it
 * across the reader's binary sniff window changes the verdict, rightly.
 */
static void check_crlf(const uint8_t *d, size_t n, const struct result *res)
{
	struct result r2;
	size_t len;
	uint8_t *text;

	if (memchr(d, '\0', n) || !(text = crlf(d, n, &len)))
		return;
	put_file(0, text, len);
	free(text);
	read_csv(0, &r2);
	FZ_CHECK(res->err == r2.err, "CRLF changes the result: %d, then %d",
		 res->err, r2.err);
	if (res->err)
		FZ_CHECK(res->e.line == r2.e.line && res->e.col == r2.e.col,
			 "CRLF moves the error: %u:%u: %s, then %u:%u: %s",
			 res->e.line, res->e.col, res->e.msg, r2.e.line,
			 r2.e.col, r2.e.msg);
	else
		FZ_CHECK(same_recs(&res->recs[0], &r2.recs[0]) &&
				 same_recs(&res->recs[1], &r2.recs[1]),
			 "CRLF changes the records");
	free_result(&r2);
}

/*
 * A NUL cannot be part of an address, code or name.  Past the reader's
 * binary sniff window it would cut a field short where C strings are
 * used, so a row holding one must be refused, not read as its prefix.
 */
static void check_no_nul_rows(const uint8_t *d, size_t n)
{
	const uint8_t *p = d, *end = d + n, *nl, *q;
	unsigned line = 1;

	if (n >= 3 && !memcmp(d, "\xef\xbb\xbf", 3))
		p += 3;
	for (; p < end; p = nl + 1, line++) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end;
		for (q = p; q < nl && (*q == ' ' || *q == '\t'); q++)
			;
		if (q == nl || *q == '#')
			continue;
		FZ_CHECK(!memchr(q, '\0', nl - q),
			 "line %u: a row with a NUL byte accepted", line);
	}
}

static void fuzz_raw(const uint8_t *d, size_t n)
{
	struct result res;
	size_t i, k;

	put_file(0, d, n);
	read_csv(0, &res);
	if (res.err) {
		FZ_CHECK(res.err == -EINVAL, "open returned %d: %s", res.err,
			 res.e.msg);
		fz_check_text_err(&res.e, path[0], d, n);
	} else {
		check_no_nul_rows(d, n);
		/* Names are looked up the way `lookup` and events do. */
		for (k = 0; k < 2; k++)
			for (i = 0; i < res.recs[k].n; i++)
				if (res.recs[k].v[i].has & CF_HAS_ASN)
					(void)cf_db_as_name(
						res.db, res.recs[k].v[i].asn);
	}
	check_crlf(d, n, &res);
	free_result(&res);
}

/* ---- structured rows ---------------------------------------------------- */

#define MAX_ROWS 32

enum { KIND_CC, KIND_ASN, KIND_AS0, KIND_NAMED };

#define MAPPED ((cf_u128)0xffff << 32) /* ::ffff:0:0/96 */

struct row {
	cf_u128 first, last;
	unsigned line;
	int db; /* which of the two files */
	int family;
	int text_family; /* as written: IPv4 may be ::ffff:a.b.c.d */
	int kind;
	uint32_t asn;
	const char *cc;
	const char *name;
};

struct rows {
	struct row v[MAX_ROWS];
	size_t n;
	size_t n_db[2]; /* rows per file */
	char *text[2];
	size_t len[2];
};

static const char *const ccs[] = { "DE", "FR", "US", "CN", "NL", "ch" };
static const uint32_t asns[] = { 1, 2, 3, 13335, 64500, 4294967295u };
static const char *const names[] = {
	"Cloudflare, Inc.", "say \"hi\"", "x", "", " padded ", "AS64500",
};

/* Bases near the interesting edges: zero, the top, and the middle. */
static cf_u128 pick_base(struct fz *f, int family)
{
	static const uint32_t v4[] = { 0, 0x01000000, 0x7fffff00, 0xffffff00 };
	static const cf_u128 v6[] = {
		0,
		(cf_u128)0x20010db8 << 96,
		(cf_u128)0xffff << 32,
		~(cf_u128)0 - 0xff,
	};
	unsigned i = fz_below(f, 4);

	return family == CF_AF_V4 ? v4[i] : v6[i];
}

static void pick_range(struct fz *f, struct row *r)
{
	cf_u128 max = cf_af_max(r->family), width;
	uint8_t w = fz_u8(f);

	r->first = pick_base(f, r->family) + fz_u8(f);
	switch (w >> 6) {
	case 0:
		width = w & 0x3f;
		break;
	case 1:
		width = (cf_u128)(w & 0x3f) << 8;
		break;
	case 2:
		width = (cf_u128)1 << (w & 0x3f); /* a big one */
		break;
	default:
		r->first = w & 1 ? 0 : r->first;
		width = max; /* to the end of the family */
	}
	r->last = width > max - r->first ? max : r->first + width;
}

static void write_row(FILE *out, const struct row *r, uint8_t style)
{
	const char *sp = style & 1 ? " " : "";
	const char *q = style & 2 ? "\"" : "";
	char a[CF_ADDR_STRLEN], b[CF_ADDR_STRLEN];
	const char *s;

	cf_u128 off = r->text_family != r->family ? MAPPED : 0;

	fprintf(out, "%s%s%s%s,%s%s%s%s,%s", sp, q,
		cf_addr_format(r->first + off, r->text_family, a), q, sp, q,
		cf_addr_format(r->last + off, r->text_family, b), q, sp);
	if (r->kind == KIND_CC) {
		fprintf(out, "%s%s%s", q, r->cc, q);
	} else {
		fprintf(out, "%s%s%u%s", q, style & 4 ? "AS" : "", r->asn, q);
		if (r->kind == KIND_NAMED) {
			/* Always quoted: a name may hold commas and quotes. */
			fputs(",\"", out);
			for (s = r->name; *s; s++)
				fprintf(out, *s == '"' ? "\"\"" : "%c", *s);
			fputc('"', out);
		}
	}
	fputs(style & 8 ? "\r\n" : "\n", out);
}

static struct row *make_row(struct fz *f, struct rows *rs, bool two,
			    uint8_t *style)
{
	struct row *r = &rs->v[rs->n++];

	*style = fz_u8(f);
	r->db = two ? fz_u8(f) & 1 : 0;
	r->family = *style & 0x80 ? CF_AF_V6 : CF_AF_V4;
	r->kind = (*style >> 4) & 3;
	r->cc = ccs[fz_below(f, 6)];
	r->asn = r->kind == KIND_AS0 ? 0 : asns[fz_below(f, 6)];
	r->name = names[fz_below(f, 6)];
	pick_range(f, r);
	r->text_family = r->family;
	if (r->family == CF_AF_V6 && r->first >= MAPPED &&
	    r->last <= (MAPPED | 0xffffffffu)) {
		r->family = CF_AF_V4; /* the reader takes it as IPv4 */
		r->first -= MAPPED;
		r->last -= MAPPED;
	}
	rs->n_db[r->db]++;
	return r;
}

/* Rows from bytes, written as CSV text into one file or two. */
static void make_rows(struct fz *f, struct rows *rs)
{
	uint8_t flags = fz_u8(f), style;
	unsigned line[2] = { 1, 1 };
	FILE *out[2];
	int i;

	for (i = 0; i < 2; i++) {
		out[i] = open_memstream(&rs->text[i], &rs->len[i]);
		FZ_CHECK(out[i], "open_memstream");
		if (flags & 1)
			fputs("\xef\xbb\xbf", out[i]);
		if (flags & 2) {
			fputs("network_first,network_last,asn,name\n", out[i]);
			line[i]++;
		}
	}
	while (f->n && rs->n < MAX_ROWS) {
		struct row *r = make_row(f, rs, flags & 8, &style);

		if (style & 0x40) {
			fputs(flags & 4 ? "# a comment\n" : "  \n", out[r->db]);
			line[r->db]++;
		}
		r->line = line[r->db]++;
		write_row(out[r->db], r, style);
	}
	for (i = 0; i < 2; i++)
		FZ_CHECK(!fclose(out[i]), "open_memstream");
}

/* The row of a kind in file db that owns addr: narrowest, then latest. */
static const struct row *winner(const struct rows *rs, int db, int family,
				bool asn, cf_u128 addr)
{
	const struct row *best = NULL;
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];

		if (r->db != db || r->family != family ||
		    (r->kind != KIND_CC) != asn || addr < r->first ||
		    addr > r->last)
			continue;
		if (!best || r->last - r->first < best->last - best->first ||
		    (r->last - r->first == best->last - best->first &&
		     r->line > best->line))
			best = r;
	}
	return best;
}

/* What file db says of addr; AS0 states no ASN. */
static struct cf_rec expect_one(const struct rows *rs, int db, int family,
				cf_u128 addr)
{
	const struct row *c = winner(rs, db, family, false, addr);
	const struct row *a = winner(rs, db, family, true, addr);
	struct cf_rec want = { .family = family };

	if (c) {
		want.has |= CF_HAS_CC;
		want.cc[0] = toupper(c->cc[0]);
		want.cc[1] = toupper(c->cc[1]);
	}
	if (a && a->asn) {
		want.has |= CF_HAS_ASN;
		want.asn = a->asn;
	}
	return want;
}

/* Both files layered: the second one's attributes win where it has them. */
static struct cf_rec expect_layered(const struct rows *rs, int family,
				    cf_u128 addr)
{
	struct cf_rec want = expect_one(rs, 0, family, addr);
	struct cf_rec over = expect_one(rs, 1, family, addr);

	if (over.has & CF_HAS_CC)
		memcpy(want.cc, over.cc, 2);
	if (over.has & CF_HAS_ASN)
		want.asn = over.asn;
	want.has |= over.has;
	return want;
}

static const struct cf_rec *find(const struct cf_reclist *l, cf_u128 addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].first <= addr && addr <= l->v[i].last)
			return &l->v[i];
	return NULL;
}

static void compare(const char *what, const struct cf_rec *got,
		    const struct cf_rec *want, cf_u128 addr)
{
	const char *a = fz_addr(addr, want->family);

	if (!want->has) {
		FZ_CHECK(!got, "%s %s: a record where no row states anything",
			 what, a);
		return;
	}
	FZ_CHECK(got && got->has == want->has, "%s %s: has %#x, rows say %#x",
		 what, a, got ? got->has : 0, want->has);
	FZ_CHECK(!(want->has & CF_HAS_CC) || !memcmp(got->cc, want->cc, 2),
		 "%s %s: country %.2s, rows say %.2s", what, a, got->cc,
		 want->cc);
	FZ_CHECK(!(want->has & CF_HAS_ASN) || got->asn == want->asn,
		 "%s %s: AS%u, rows say AS%u", what, a, got->asn, want->asn);
}

/* The addresses worth asking about: row edges and their neighbours. */
static size_t probes(const struct rows *rs, int family, cf_u128 *out)
{
	size_t i, n = 0;

	for (i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];

		if (r->family != family)
			continue;
		out[n++] = r->first;
		out[n++] = r->last;
		if (r->first)
			out[n++] = r->first - 1;
		if (r->last < cf_af_max(family))
			out[n++] = r->last + 1;
	}
	return n;
}

/* An ASN's name: the last non-empty one a row of files lo..hi gave. */
static const char *expect_name(const struct rows *rs, int lo, int hi,
			       uint32_t asn)
{
	const char *want = NULL;
	int db;
	size_t k;

	for (db = lo; db <= hi; db++)
		for (k = 0; k < rs->n; k++)
			if (rs->v[k].db == db && rs->v[k].asn == asn &&
			    rs->v[k].kind == KIND_NAMED && rs->v[k].name[0])
				want = rs->v[k].name;
	return want;
}

static void check_name(const char *got, const char *want, uint32_t asn)
{
	FZ_CHECK(!want == !got && (!want || !strcmp(want, got)),
		 "AS%u: name '%s', rows say '%s'", asn, got ? got : "(none)",
		 want ? want : "(none)");
}

/* A single file: its records and names against its rows. */
static void check_one(const struct rows *rs, int db, const struct result *res)
{
	static const int fams[2] = { CF_AF_V4, CF_AF_V6 };
	cf_u128 pts[4 * MAX_ROWS];
	size_t i, k, n;

	for (k = 0; k < 2; k++) {
		n = probes(rs, fams[k], pts);
		for (i = 0; i < n; i++) {
			struct cf_rec want =
				expect_one(rs, db, fams[k], pts[i]);

			compare("one file:", find(&res->recs[k], pts[i]), &want,
				pts[i]);
		}
	}
	for (i = 0; i < rs->n; i++)
		if (rs->v[i].db == db && rs->v[i].asn)
			check_name(cf_db_as_name(res->db, rs->v[i].asn),
				   expect_name(rs, db, db, rs->v[i].asn),
				   rs->v[i].asn);
}

/* Both files through cf_dbset_load, as a policy's databases. */
static void check_layered(const struct rows *rs)
{
	static const int fams[2] = { CF_AF_V4, CF_AF_V6 };
	struct cf_db_ref refs[2] = {
		{ .format = CF_DB_CSV, .path = path[0], .line = 1 },
		{ .format = CF_DB_CSV, .path = path[1], .line = 2 },
	};
	struct cf_policy pol = { .path = "/fuzz/layers.conf",
				 .n_dbs = 2,
				 .dbs = refs };
	cf_u128 pts[4 * MAX_ROWS];
	struct cf_dbset *set;
	struct cf_err e = { 0 };
	size_t i, k, n;

	if (cf_dbset_load(&pol, &set, &e))
		fz_fail("layering two good files: %s: %s", e.file, e.msg);
	check_records(&set->v4, CF_AF_V4);
	check_records(&set->v6, CF_AF_V6);
	for (k = 0; k < 2; k++) {
		n = probes(rs, fams[k], pts);
		for (i = 0; i < n; i++) {
			struct cf_rec want =
				expect_layered(rs, fams[k], pts[i]);

			compare("layered:", cf_dbset_find(set, pts[i], fams[k]),
				&want, pts[i]);
		}
	}
	for (i = 0; i < rs->n; i++)
		if (rs->v[i].asn)
			check_name(cf_dbset_as_name(set, rs->v[i].asn),
				   expect_name(rs, 0, 1, rs->v[i].asn),
				   rs->v[i].asn);
	cf_dbset_free(set);
}

static void fuzz_rows(const uint8_t *d, size_t n)
{
	struct fz f = { d, n };
	struct rows rs = { .n = 0 };
	struct result res[2];
	int i;

	make_rows(&f, &rs);
	for (i = 0; i < 2; i++) {
		if (dump)
			fprintf(stderr, "--- file %d\n%s", i, rs.text[i]);
		put_file(i, rs.text[i], rs.len[i]);
		read_csv(i, &res[i]);
		if (!rs.n_db[i])
			FZ_CHECK(res[i].err == -EINVAL,
				 "file %d: no rows, yet %d", i, res[i].err);
		else if (res[i].err)
			fz_fail("rows the reader should take: %u:%u: %s\n%s",
				res[i].e.line, res[i].e.col, res[i].e.msg,
				rs.text[i]);
		else
			check_one(&rs, i, &res[i]);
		free_result(&res[i]);
	}
	if (rs.n_db[0] && rs.n_db[1])
		check_layered(&rs);
	free(rs.text[0]);
	free(rs.text[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && !data[0])
		fuzz_rows(data + 1, size - 1);
	else
		fuzz_raw(data, size);
	return 0;
}
