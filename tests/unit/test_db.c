// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_db.c - the database readers: CSV parsing and overlap resolution,
 * mmdb trees in both schemas (fixtures written by mmdb_writer.h), libloc
 * on the packaged location.db, format detection, and damaged files.
 *
 * Real databases: libloc's comes with the libloc-database package; the
 * ip-location-db ones are fetched by scripts/testdata.sh into
 * $CAMFENCE_TESTDATA (default build/testdata).  Tests skip, saying why,
 * when a file is absent.  Real data is checked against the format's own
 * lookup library (libloc, libmaxminddb) or the file's own lines, not
 * against numbers written here.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <libloc/libloc.h>
#include <libloc/database.h>
#include <libloc/network.h>
#include <maxminddb.h>

#include "db.h"
#include "db_int.h"
#include "mmdb_writer.h"

#define LIBLOC_DB "/usr/share/libloc-location/location.db"
#define SPOT_CHECKS 20000

static char tmpdir[] = "/tmp/camfence-test_db.XXXXXX";

/* ---- helpers ---------------------------------------------------------- */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* A path in the test's temporary directory (a static buffer per slot). */
static const char *tmp_path(const char *name)
{
	static char buf[4][512];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static const char *write_bytes(const char *name, const void *data, size_t n)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *write_text(const char *name, const char *text)
{
	return write_bytes(name, text, strlen(text));
}

static const char *testdata(const char *rel, char *buf, size_t len)
{
	const char *dir = getenv("CAMFENCE_TESTDATA");

	snprintf(buf, len, "%s/%s", dir && *dir ? dir : "build/testdata", rel);
	return buf;
}

static cf_u128 A(const char *s)
{
	uint8_t b[16];
	cf_u128 v = 0;
	int i, n = 16;

	if (strchr(s, ':')) {
		assert_int_equal(inet_pton(AF_INET6, s, b), 1);
	} else {
		assert_int_equal(inet_pton(AF_INET, s, b), 1);
		n = 4;
	}
	for (i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static struct cf_db *open_ok(const char *path, enum cf_db_format fmt)
{
	struct cf_db *db = NULL;
	struct cf_err e;
	char buf[1024];

	if (cf_db_open(path, fmt, &db, &e))
		fail_msg("open %s: %s", path, cf_err_str(&e, buf, sizeof(buf)));
	assert_non_null(db);
	return db;
}

static void records_ok(struct cf_db *db, int family, struct cf_reclist *l)
{
	struct cf_err e;
	char buf[1024];
	size_t i;

	if (cf_db_records(db, family, l, &e))
		fail_msg("records: %s", cf_err_str(&e, buf, sizeof(buf)));
	/* The contract, checked again from the outside. */
	for (i = 0; i < l->n; i++) {
		assert_int_equal(l->v[i].family, family);
		assert_true(l->v[i].first <= l->v[i].last);
		assert_true(l->v[i].has);
		if (i)
			assert_true(l->v[i].first > l->v[i - 1].last);
	}
}

/* Open path as fmt and expect an error mentioning what, at line:col. */
static void open_fails(const char *path, enum cf_db_format fmt,
		       const char *what, unsigned line, unsigned col)
{
	struct cf_db *db = NULL;
	struct cf_err e;
	char buf[1024];
	int err = cf_db_open(path, fmt, &db, &e);

	if (!err)
		fail_msg("%s opened, expected '%s'", path, what);
	assert_true(err < 0);
	assert_null(db);
	cf_err_str(&e, buf, sizeof(buf));
	if (!strstr(buf, what))
		fail_msg("error '%s' lacks '%s'", buf, what);
	assert_string_equal(e.file, path);
	if (e.line != line || e.col != col)
		fail_msg("error '%s' at %u:%u, expected %u:%u", buf, e.line,
			 e.col, line, col);
}

static void csv_fails(const char *text, const char *what, unsigned line,
		      unsigned col)
{
	open_fails(write_text("bad.csv", text), CF_DB_CSV, what, line, col);
}

/* The record holding addr, or NULL. */
static const struct cf_rec *find(const struct cf_reclist *l, cf_u128 addr)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].last < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->v[lo].first <= addr ? &l->v[lo] : NULL;
}

/* Expect exactly one record [first, last] with cc (or NULL) and asn. */
static void expect_rec(const struct cf_rec *r, const char *first,
		       const char *last, const char *cc, uint32_t asn)
{
	char a[CF_ADDR_STRLEN], b[CF_ADDR_STRLEN];

	if (!r)
		fail_msg("no record for %s-%s", first, last);
	if (r->first != A(first) || r->last != A(last))
		fail_msg("record %s-%s, expected %s-%s",
			 cf_addr_format(r->first, r->family, a),
			 cf_addr_format(r->last, r->family, b), first, last);
	assert_int_equal(!!(r->has & CF_HAS_CC), cc != NULL);
	if (cc)
		assert_memory_equal(r->cc, cc, 2);
	assert_int_equal(!!(r->has & CF_HAS_ASN), asn != 0);
	if (asn)
		assert_int_equal(r->asn, asn);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	/*
	 * The readers, not the trust rule (test_verify.c): with no signing
	 * key an untyped CSV or mmdb file opens, and the format is detected.
	 */
	unsetenv("CAMFENCE_LOCATION_KEY");
	cf_libloc_key_default = "/nonexistent/signing-key.pem";
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- CSV ---------------------------------------------------------------- */

static void test_csv_country(void **state)
{
	struct cf_reclist v4 = { 0 }, v6 = { 0 };
	struct cf_db *db;

	(void)state;
	db = open_ok(write_text("cc.csv",
				"192.0.2.0,192.0.2.127,de\n"
				"2001:db8::,2001:db8::ffff,US\n"
				" 198.51.100.0 , 198.51.100.255 , FR \n"
				"192.0.2.128,192.0.2.255,DE\n"
				"203.0.113.0,203.0.113.255,as\n"),
		     CF_DB_AUTO);
	assert_int_equal(cf_db_format(db), CF_DB_CSV);
	records_ok(db, CF_AF_V4, &v4);
	records_ok(db, CF_AF_V6, &v6);
	/* Adjacent ranges of one country are one record. */
	assert_int_equal(v4.n, 3);
	expect_rec(&v4.v[0], "192.0.2.0", "192.0.2.255", "DE", 0);
	expect_rec(&v4.v[1], "198.51.100.0", "198.51.100.255", "FR", 0);
	/* Two letters are a country, even American Samoa's. */
	expect_rec(&v4.v[2], "203.0.113.0", "203.0.113.255", "AS", 0);
	assert_int_equal(v6.n, 1);
	expect_rec(&v6.v[0], "2001:db8::", "2001:db8::ffff", "US", 0);
	assert_null(cf_db_as_name(db, 64500));
	cf_reclist_free(&v4);
	cf_reclist_free(&v6);
	cf_db_close(db);
}

static void test_csv_asn(void **state)
{
	struct cf_reclist v4 = { 0 }, v6 = { 0 };
	struct cf_db *db;

	(void)state;
	db = open_ok(
		write_text(
			"asn.csv",
			"10.0.0.0,10.0.0.255,AS64500,\"Example, Inc.\"\n"
			"10.0.1.0,10.0.1.255,64501,\"The \"\"Quoted\"\" Net\"\n"
			"10.0.2.0,10.0.2.255,as64502\n"
			"10.0.3.0,10.0.3.255,64503,  Plain Name  \n"
			"\"2001:db8::\",\"2001:db8::ff\",\"64500\"\n"
			"10.0.0.0,10.255.255.255,4294967295,Top\n"
			"10.0.0.128,10.0.0.255,0\n"),
		CF_DB_CSV);
	records_ok(db, CF_AF_V4, &v4);
	records_ok(db, CF_AF_V6, &v6);
	/* AS0 states "no ASN" and so cuts a hole in its own range. */
	expect_rec(&v4.v[0], "10.0.0.0", "10.0.0.127", NULL, 64500);
	expect_rec(&v4.v[1], "10.0.1.0", "10.0.1.255", NULL, 64501);
	expect_rec(&v4.v[2], "10.0.2.0", "10.0.2.255", NULL, 64502);
	expect_rec(&v4.v[3], "10.0.3.0", "10.0.3.255", NULL, 64503);
	expect_rec(&v4.v[4], "10.0.4.0", "10.255.255.255", NULL, 4294967295u);
	assert_int_equal(v4.n, 5);
	expect_rec(&v6.v[0], "2001:db8::", "2001:db8::ff", NULL, 64500);
	assert_int_equal(v6.n, 1);
	assert_string_equal(cf_db_as_name(db, 64500), "Example, Inc.");
	assert_string_equal(cf_db_as_name(db, 64501), "The \"Quoted\" Net");
	assert_string_equal(cf_db_as_name(db, 64503), "Plain Name");
	assert_string_equal(cf_db_as_name(db, 4294967295u), "Top");
	assert_null(cf_db_as_name(db, 64502));
	cf_reclist_free(&v4);
	cf_reclist_free(&v6);
	cf_db_close(db);
}

static void test_csv_comments_header_crlf(void **state)
{
	struct cf_reclist v4 = { 0 };
	struct timeval tv[2] = { { 1600000000, 0 }, { 1600000000, 0 } };
	const char *path;
	struct cf_db *db;

	(void)state;
	path = write_text(
		"hdr.csv",
		"\xef\xbb\xbf# exported\r\n"
		"\r\n"
		"  # indented comment\r\n"
		"first_ip,last_ip,country\r\n"
		"192.0.2.0,192.0.2.255,NL\r\n"
		"\t\r\n"
		"198.51.100.0,198.51.100.255,BE"); /* no final newline */
	assert_int_equal(utimes(path, tv), 0);
	db = open_ok(path, CF_DB_AUTO);
	assert_int_equal(cf_db_built_at(db), 1600000000);
	records_ok(db, CF_AF_V4, &v4);
	assert_int_equal(v4.n, 2);
	expect_rec(&v4.v[0], "192.0.2.0", "192.0.2.255", "NL", 0);
	expect_rec(&v4.v[1], "198.51.100.0", "198.51.100.255", "BE", 0);
	cf_reclist_free(&v4);
	cf_db_close(db);
}

/*
 * Nested, partial and equal overlaps, written in an order that is not
 * the address order: the narrower range wins, of equals the later line.
 */
static void test_csv_overlaps(void **state)
{
	struct cf_reclist v4 = { 0 };
	struct cf_db *db;

	(void)state;
	db = open_ok(write_text("ovl.csv", "10.1.2.0,10.1.2.255,FR\n"
					   "10.0.0.0,10.255.255.255,US\n"
					   "10.1.0.0,10.1.255.255,DE\n"
					   "10.1.2.0,10.1.2.255,IT\n"
					   "20.0.0.0,20.0.0.9,NL\n"
					   "20.0.0.5,20.0.0.14,BE\n"
					   "30.0.0.0,30.0.0.9,SE\n"
					   "30.0.0.5,30.0.0.7,NO\n"
					   "30.0.0.0,30.0.0.9,FI\n"),
		     CF_DB_CSV);
	records_ok(db, CF_AF_V4, &v4);
	assert_int_equal(v4.n, 10);
	expect_rec(&v4.v[0], "10.0.0.0", "10.0.255.255", "US", 0);
	expect_rec(&v4.v[1], "10.1.0.0", "10.1.1.255", "DE", 0);
	expect_rec(&v4.v[2], "10.1.2.0", "10.1.2.255", "IT", 0);
	expect_rec(&v4.v[3], "10.1.3.0", "10.1.255.255", "DE", 0);
	expect_rec(&v4.v[4], "10.2.0.0", "10.255.255.255", "US", 0);
	/* Same width, partly overlapping: the later line takes the overlap. */
	expect_rec(&v4.v[5], "20.0.0.0", "20.0.0.4", "NL", 0);
	expect_rec(&v4.v[6], "20.0.0.5", "20.0.0.14", "BE", 0);
	expect_rec(&v4.v[7], "30.0.0.0", "30.0.0.4", "FI", 0);
	expect_rec(&v4.v[8], "30.0.0.5", "30.0.0.7", "NO", 0);
	expect_rec(&v4.v[9], "30.0.0.8", "30.0.0.9", "FI", 0);
	cf_reclist_free(&v4);
	cf_db_close(db);
}

/* The edges of the address space, where last + 1 overflows. */
static void test_csv_full_range(void **state)
{
	struct cf_reclist v4 = { 0 }, v6 = { 0 };
	struct cf_db *db;

	(void)state;
	db = open_ok(
		write_text("full.csv",
			   "0.0.0.0,255.255.255.255,ZA\n"
			   "255.255.255.0,255.255.255.255,ZW\n"
			   "::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,1\n"
			   "ffff::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,2\n"),
		CF_DB_CSV);
	records_ok(db, CF_AF_V4, &v4);
	records_ok(db, CF_AF_V6, &v6);
	assert_int_equal(v4.n, 2);
	expect_rec(&v4.v[0], "0.0.0.0", "255.255.254.255", "ZA", 0);
	expect_rec(&v4.v[1], "255.255.255.0", "255.255.255.255", "ZW", 0);
	assert_int_equal(v6.n, 2);
	expect_rec(&v6.v[0], "::", "fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		   NULL, 1);
	expect_rec(&v6.v[1],
		   "ffff::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL,
		   2);
	cf_reclist_free(&v4);
	cf_reclist_free(&v6);
	cf_db_close(db);
}

/*
 * IPv4 written as IPv4-mapped IPv6 (IP2Location's IPv6 files): rows wholly
 * inside ::ffff:0:0/96 are IPv4 rows of the file and compete with its
 * other IPv4 rows (narrower wins, then the later line); a row that only
 * overlaps ::ffff:0:0/96 stays IPv6.
 */
static void test_csv_v4_mapped(void **state)
{
	struct cf_reclist v4 = { 0 }, v6 = { 0 };
	struct cf_db *db;

	(void)state;
	db = open_ok(write_text("mapped.csv",
				"198.51.100.0,198.51.100.127,DE\n"
				"::ffff:198.51.100.0,::ffff:198.51.100.255,RU\n"
				"203.0.113.0,203.0.113.255,US\n"
				"::ffff:203.0.113.0,::ffff:203.0.113.255,CA\n"
				"::ffff:192.0.2.0,::ffff:192.0.2.255,64500,X\n"
				"2001:db8::,2001:db8::ff,FR\n"
				"::fffe:ffff:ff00,::ffff:0.0.0.255,64501\n"),
		     CF_DB_AUTO);
	records_ok(db, CF_AF_V4, &v4);
	records_ok(db, CF_AF_V6, &v6);
	assert_int_equal(v4.n, 4);
	expect_rec(&v4.v[0], "192.0.2.0", "192.0.2.255", NULL, 64500);
	expect_rec(&v4.v[1], "198.51.100.0", "198.51.100.127", "DE", 0);
	expect_rec(&v4.v[2], "198.51.100.128", "198.51.100.255", "RU", 0);
	expect_rec(&v4.v[3], "203.0.113.0", "203.0.113.255", "CA", 0);
	assert_int_equal(v6.n, 2);
	expect_rec(&v6.v[0], "::fffe:ffff:ff00", "::ffff:0.0.0.255", NULL,
		   64501);
	expect_rec(&v6.v[1], "2001:db8::", "2001:db8::ff", "FR", 0);
	assert_string_equal(cf_db_as_name(db, 64500), "X");
	cf_reclist_free(&v4);
	cf_reclist_free(&v6);
	cf_db_close(db);
}

/* Countries and ASNs in one file: each address gets both. */
static void test_csv_country_and_asn(void **state)
{
	struct cf_reclist v4 = { 0 };
	struct cf_db *db;

	(void)state;
	db = open_ok(write_text("both.csv", "10.0.0.0,10.0.255.255,US\n"
					    "10.0.1.0,10.0.1.255,64500,Acme\n"
					    "10.0.255.0,10.1.0.255,64501\n"),
		     CF_DB_CSV);
	records_ok(db, CF_AF_V4, &v4);
	assert_int_equal(v4.n, 5);
	expect_rec(&v4.v[0], "10.0.0.0", "10.0.0.255", "US", 0);
	expect_rec(&v4.v[1], "10.0.1.0", "10.0.1.255", "US", 64500);
	expect_rec(&v4.v[2], "10.0.2.0", "10.0.254.255", "US", 0);
	expect_rec(&v4.v[3], "10.0.255.0", "10.0.255.255", "US", 64501);
	expect_rec(&v4.v[4], "10.1.0.0", "10.1.0.255", NULL, 64501);
	cf_reclist_free(&v4);
	cf_db_close(db);
}

static void test_csv_errors(void **state)
{
	(void)state;
	csv_fails("1.0.0.0,1.0.0.255,US\n2.0.0.0,1.255.255.255,US\n",
		  "first address after last", 2, 1);
	csv_fails("1.0.0.0,::1,US\n", "mixed families in one row", 1, 9);
	csv_fails("1.0.0.0,1.0.0.255,xy\n", "unknown country code 'XY'", 1, 19);
	csv_fails("1.0.0.0,1.0.0.256,US\n", "bad address '1.0.0.256'", 1, 9);
	csv_fails("1.0.0.0,  2001:db8::g,US\n", "bad address", 1, 11);
	csv_fails("1.0.0.0,1.0.0.255,AS12x\n", "bad ASN 'AS12x'", 1, 19);
	csv_fails("1.0.0.0,1.0.0.255,4294967296\n", "bad ASN", 1, 19);
	csv_fails("1.0.0.0,1.0.0.255,USA\n", "bad country code or ASN 'USA'", 1,
		  19);
	csv_fails("1.0.0.0,1.0.0.255,\n", "missing country code or ASN", 1, 19);
	csv_fails("1.0.0.0,1.0.0.255\n", "missing fields", 1, 18);
	csv_fails("1.0.0.0,1.0.0.255,64500,\"Cloud\n",
		  "unterminated quoted field", 1, 25);
	csv_fails("1.0.0.0,1.0.0.255,\"US\"x\n",
		  "unexpected text after a quoted field", 1, 23);
	csv_fails("1.0.0.0,1.0.0.255,US,Extra\n", "too many fields", 1, 22);
	csv_fails("1.0.0.0,1.0.0.255,64500,a,b\n", "too many fields", 1, 27);
	csv_fails("1.0.0.0,1.0.0.255,1,a,b,c\n", "too many fields", 1, 25);
	/* A word in the first field is a header only on the first row. */
	csv_fails("# c\n1.0.0.0,1.0.0.255,US\nfirst,last,cc\n",
		  "bad address 'first'", 3, 1);
	/* A mistyped address on the first row is no header. */
	csv_fails("1.0.0.300,1.0.0.255,US\n", "bad address '1.0.0.300'", 1, 1);
	csv_fails("# nothing\nfirst,last,cc\n\n", "no data rows", 0, 0);
	/* Column numbers do not count a byte order mark. */
	csv_fails("\xef\xbb\xbf"
		  "1.0.0.0,1.0.0.255,QQ\r\n",
		  "unknown country code 'QQ'", 1, 19);
}

/* ---- mmdb --------------------------------------------------------------- */

#define EPOCH 1700000000

/* { KEY: { iso_code: CC } } */
static void mw_iso(struct mw *w, const char *key, const char *cc)
{
	mw_str(w, key);
	mw_map(w, 1);
	mw_str(w, "iso_code");
	mw_str(w, cc);
}

/*
 * A GeoLite2-Country style database: nested maps, an IPv6 tree with the
 * IPv4 subtree aliased at ::ffff:0:0/96 and 2002::/16.  With pad, the
 * data sits past 16 MiB so 28-bit records use their top nibbles.
 */
static const char *mmdb_geolite2(int record_size, bool pad)
{
	const char *path = tmp_path("geolite2.mmdb");
	uint32_t de, fr, us, none;
	struct mw w;

	mw_init(&w, 6, record_size);
	if (pad) {
		char *zeros = calloc(1, 1 << 24);

		assert_non_null(zeros);
		mw_raw(&w, zeros, 1 << 24);
		free(zeros);
	}
	de = mw_here(&w);
	mw_map(&w, 2);
	mw_str(&w, "continent");
	mw_map(&w, 1);
	mw_str(&w, "code");
	mw_str(&w, "EU");
	mw_str(&w, "country");
	mw_map(&w, 2);
	mw_str(&w, "geoname_id");
	mw_uint(&w, MW_T_UINT32, 2921044);
	mw_str(&w, "iso_code");
	mw_str(&w, "DE");
	fr = mw_here(&w); /* only a registered country */
	mw_map(&w, 1);
	mw_iso(&w, "registered_country", "FR");
	us = mw_here(&w); /* the country wins over the registered one */
	mw_map(&w, 2);
	mw_iso(&w, "registered_country", "CA");
	mw_iso(&w, "country", "US");
	none = mw_here(&w); /* states nothing we read */
	mw_map(&w, 1);
	mw_str(&w, "continent");
	mw_str(&w, "AN");

	assert_int_equal(mw_insert(&w, "1.0.0.0/25", de), 0);
	assert_int_equal(mw_insert(&w, "1.0.0.128/25", de), 0);
	assert_int_equal(mw_insert(&w, "1.0.1.0/24", fr), 0);
	assert_int_equal(mw_insert(&w, "1.0.2.0/24", none), 0);
	assert_int_equal(mw_insert(&w, "8.8.8.0/24", us), 0);
	assert_int_equal(mw_insert(&w, "255.255.255.255/32", us), 0);
	assert_int_equal(mw_insert(&w, "2001:db8::/32", de), 0);
	assert_int_equal(mw_insert(&w, "2001:db8:1::/48", us), 0);
	assert_int_equal(mw_alias_v4(&w), 0);
	assert_int_equal(mw_write(&w, path, EPOCH, "GeoLite2-Country"), 0);
	mw_free(&w);
	return path;
}

static void check_geolite2(int record_size, bool pad)
{
	struct cf_reclist v4 = { 0 }, v6 = { 0 };
	struct cf_db *db;

	db = open_ok(mmdb_geolite2(record_size, pad), CF_DB_AUTO);
	assert_int_equal(cf_db_format(db), CF_DB_MMDB);
	assert_int_equal(cf_db_built_at(db), EPOCH);
	records_ok(db, CF_AF_V4, &v4);
	records_ok(db, CF_AF_V6, &v6);
	assert_int_equal(v4.n, 4);
	expect_rec(&v4.v[0], "1.0.0.0", "1.0.0.255", "DE", 0);
	expect_rec(&v4.v[1], "1.0.1.0", "1.0.1.255", "FR", 0);
	expect_rec(&v4.v[2], "8.8.8.0", "8.8.8.255", "US", 0);
	expect_rec(&v4.v[3], "255.255.255.255", "255.255.255.255", "US", 0);
	/* Nothing from the aliases: only the real IPv6 networks. */
	assert_int_equal(v6.n, 3);
	expect_rec(&v6.v[0],
		   "2001:db8::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff", "DE",
		   0);
	expect_rec(&v6.v[1],
		   "2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff", "US",
		   0);
	expect_rec(&v6.v[2],
		   "2001:db8:2::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
		   "DE", 0);
	assert_null(cf_db_as_name(db, 64500));
	cf_reclist_free(&v4);
	cf_reclist_free(&v6);
	cf_db_close(db);
}

static void test_mmdb_geolite2_24(void **state)
{
	(void)state;
	check_geolite2(24, false);
}

static void test_mmdb_geolite2_28(void **state)
{
	(void)state;
	check_geolite2(28, false);
	check_geolite2(28, true);
}

static void test_mmdb_geolite2_32(void **state)
{
	(void)state;
	check_geolite2(32, true);
}

/* ip-location-db's flat schema, in an IPv4-only tree. */
static void test_mmdb_flat(void **state)
{
	const char *path = tmp_path("flat.mmdb");
	struct cf_reclist v4 = { 0 }, v6 = { 0 };
	uint32_t jp, us, asn, bad;
	struct cf_db *db;
	struct mw w;

	(void)state;
	mw_init(&w, 4, 24);
	jp = mw_here(&w);
	mw_map(&w, 3);
	mw_str(&w, "country_code");
	mw_str(&w, "JP");
	mw_str(&w, "autonomous_system_number");
	mw_uint(&w, MW_T_UINT32, 2500);
	mw_str(&w, "autonomous_system_organization");
	mw_str(&w, "WIDE Project");
	us = mw_here(&w);
	mw_map(&w, 2);
	mw_str(&w, "country_code");
	mw_str(&w, "us");
	mw_str(&w, "asn");
	mw_str(&w, "AS13335");
	asn = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "asn");
	mw_uint(&w, MW_T_UINT64, 64512);
	bad = mw_here(&w); /* not a country code: states nothing */
	mw_map(&w, 1);
	mw_str(&w, "country_code");
	mw_str(&w, "X");
	assert_int_equal(mw_insert(&w, "192.0.2.0/24", jp), 0);
	assert_int_equal(mw_insert(&w, "198.51.100.0/24", us), 0);
	assert_int_equal(mw_insert(&w, "203.0.113.0/25", asn), 0);
	assert_int_equal(mw_insert(&w, "203.0.113.128/25", bad), 0);
	assert_int_equal(mw_write(&w, path, EPOCH + 1, "asn-country"), 0);
	mw_free(&w);

	db = open_ok(path, CF_DB_MMDB);
	assert_int_equal(cf_db_built_at(db), EPOCH + 1);
	records_ok(db, CF_AF_V4, &v4);
	records_ok(db, CF_AF_V6, &v6);
	assert_int_equal(v4.n, 3);
	expect_rec(&v4.v[0], "192.0.2.0", "192.0.2.255", "JP", 2500);
	expect_rec(&v4.v[1], "198.51.100.0", "198.51.100.255", "US", 13335);
	expect_rec(&v4.v[2], "203.0.113.0", "203.0.113.127", NULL, 64512);
	assert_int_equal(v6.n, 0);
	assert_string_equal(cf_db_as_name(db, 2500), "WIDE Project");
	assert_null(cf_db_as_name(db, 13335));
	cf_reclist_free(&v4);
	cf_reclist_free(&v6);
	cf_db_close(db);
}

/*
 * Data records above the skipped ranges: ::/8 holds all of IPv4 and the
 * mapped alias, 2000::/3 holds 6to4.  They are split around them.
 */
static void test_mmdb_straddle(void **state)
{
	const char *path = tmp_path("straddle.mmdb");
	struct cf_reclist v4 = { 0 }, v6 = { 0 };
	uint32_t aq, nz;
	struct cf_db *db;
	struct mw w;

	(void)state;
	mw_init(&w, 6, 24);
	aq = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "country_code");
	mw_str(&w, "AQ");
	nz = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "country_code");
	mw_str(&w, "NZ");
	assert_int_equal(mw_insert(&w, "::/8", aq), 0);
	assert_int_equal(mw_insert(&w, "2000::/3", nz), 0);
	assert_int_equal(mw_write(&w, path, EPOCH, "straddle"), 0);
	mw_free(&w);

	db = open_ok(path, CF_DB_AUTO);
	records_ok(db, CF_AF_V4, &v4);
	records_ok(db, CF_AF_V6, &v6);
	assert_int_equal(v4.n, 1);
	expect_rec(&v4.v[0], "0.0.0.0", "255.255.255.255", "AQ", 0);
	assert_int_equal(v6.n, 4);
	expect_rec(&v6.v[0], "::1:0:0", "::fffe:ffff:ffff", "AQ", 0);
	expect_rec(&v6.v[1], "::1:0:0:0",
		   "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "AQ", 0);
	expect_rec(&v6.v[2],
		   "2000::", "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "NZ",
		   0);
	expect_rec(&v6.v[3],
		   "2003::", "3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "NZ",
		   0);
	cf_reclist_free(&v4);
	cf_reclist_free(&v6);
	cf_db_close(db);
}

static void test_mmdb_no_schema(void **state)
{
	const char *path = tmp_path("city.mmdb");
	uint32_t city;
	struct mw w;

	(void)state;
	mw_init(&w, 6, 28);
	city = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "city");
	mw_str(&w, "Paris");
	assert_int_equal(mw_insert(&w, "192.0.2.0/24", city), 0);
	assert_int_equal(mw_insert(&w, "2001:db8::/32", city), 0);
	assert_int_equal(mw_write(&w, path, EPOCH, "City-Names"), 0);
	mw_free(&w);
	open_fails(path, CF_DB_AUTO, "mmdb (type 'City-Names') has no country",
		   0, 0);
}

/* Read a whole file into a malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;

	assert_int_equal(stat(path, &st), 0);
	buf = malloc(st.st_size);
	assert_non_null(buf);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, st.st_size, f), st.st_size);
	fclose(f);
	*len = st.st_size;
	return buf;
}

static void test_mmdb_damaged_files(void **state)
{
	const uint8_t *meta;
	size_t len, tree;
	uint8_t *buf, *cut;

	(void)state;
	buf = slurp(mmdb_geolite2(24, false), &len);
	/* Cut in half: the metadata, and so the marker, are gone. */
	write_bytes("half.mmdb", buf, len / 2);
	open_fails(tmp_path("half.mmdb"), CF_DB_AUTO,
		   "not a libloc, mmdb or CSV database", 0, 0);
	open_fails(tmp_path("half.mmdb"), CF_DB_MMDB,
		   "not an mmdb database (no metadata marker)", 0, 0);
	/* Metadata intact, search tree cut short. */
	meta = memmem(buf, len, "\xab\xcd\xefMaxMind.com", 14);
	assert_non_null(meta);
	tree = 12;
	cut = malloc(len);
	assert_non_null(cut);
	memcpy(cut, buf, tree);
	memcpy(cut + tree, meta, buf + len - meta);
	write_bytes("cut.mmdb", cut, tree + (buf + len - meta));
	open_fails(tmp_path("cut.mmdb"), CF_DB_AUTO, "corrupt mmdb: ", 0, 0);
	/* Metadata cut short after the marker. */
	write_bytes("meta.mmdb", buf, meta - buf + 20);
	open_fails(tmp_path("meta.mmdb"), CF_DB_AUTO, "corrupt mmdb: ", 0, 0);
	free(cut);
	free(buf);
}

/*
 * An IPv4 tree whose left half is data and whose right record is set by
 * the caller.  Opening works (the schema is seen on the left); walking
 * the right half must fail with what.
 */
static void bad_tree(uint8_t kind, uint32_t val, int family, const char *what)
{
	const char *path = tmp_path("badtree.mmdb");
	struct cf_reclist l = { 0 };
	struct cf_db *db;
	struct cf_err e;
	uint32_t cc;
	struct mw w;
	int err;

	mw_init(&w, 6, 24);
	cc = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "country_code");
	mw_str(&w, "IS");
	assert_int_equal(mw_insert(&w, "::/1", cc), 0);
	w.nodes[0].kind[1] = kind;
	w.nodes[0].val[1] = val;
	assert_int_equal(mw_write(&w, path, EPOCH, "bad"), 0);
	mw_free(&w);

	db = open_ok(path, CF_DB_MMDB);
	err = cf_db_records(db, family, &l, &e);
	assert_int_equal(err, -EINVAL);
	assert_int_equal(l.n, 0);
	if (!strstr(e.msg, what))
		fail_msg("error '%s' lacks '%s'", e.msg, what);
	assert_string_equal(e.file, path);
	cf_reclist_free(&l);
	cf_db_close(db);
}

/* A chain of nodes deeper than an IPv4 address is long. */
static void test_mmdb_too_deep(void **state)
{
	const char *path = tmp_path("deep.mmdb");
	uint32_t cc, i;
	struct mw w;

	(void)state;
	mw_init(&w, 4, 24);
	cc = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "country_code");
	mw_str(&w, "IS");
	for (i = 0; i < 40; i++) {
		mw_node_new(&w, MW_DATA, cc);
		w.nodes[i].kind[0] = MW_NODE;
		w.nodes[i].val[0] = i + 1;
	}
	mw_node_new(&w, MW_DATA, cc);
	assert_int_equal(mw_write(&w, path, EPOCH, "deep"), 0);
	mw_free(&w);

	/* The schema probe walks left first, straight into the chain. */
	open_fails(path, CF_DB_MMDB, "corrupt mmdb: search tree too deep", 0,
		   0);
}

static void test_mmdb_corrupt_tree(void **state)
{
	(void)state;
	/* Back to the root (libmaxminddb rejects pointers backwards). */
	bad_tree(MW_NODE, 0, CF_AF_V6,
		 "corrupt mmdb: invalid search tree record");
	/* Far past the end of the file. */
	bad_tree(MW_RAW, 1 << 23, CF_AF_V6,
		 "corrupt mmdb: invalid search tree record");
}

/*
 * 60 nodes, each with both records pointing at the next: a tree of 2^60
 * paths through 60 nodes.  The walk must give up, not run for ever.
 */
static void test_mmdb_shared_nodes(void **state)
{
	const char *path = tmp_path("dag.mmdb");
	struct cf_reclist l = { 0 };
	struct cf_db *db;
	struct cf_err e;
	uint32_t cc, i;
	struct mw w;

	(void)state;
	mw_init(&w, 6, 24);
	cc = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "country_code");
	mw_str(&w, "IS");
	for (i = 0; i < 60; i++)
		mw_node_new(&w, MW_NODE, i + 1);
	mw_node_new(&w, MW_DATA, cc);
	assert_int_equal(mw_write(&w, path, EPOCH, "dag"), 0);
	mw_free(&w);

	db = open_ok(path, CF_DB_MMDB);
	/* IPv4 lies on one path of the DAG, so it is fine... */
	records_ok(db, CF_AF_V4, &l);
	assert_int_equal(l.n, 1);
	expect_rec(&l.v[0], "0.0.0.0", "255.255.255.255", "IS", 0);
	l.n = 0;
	/* ...but IPv6 is not. */
	assert_int_equal(cf_db_records(db, CF_AF_V6, &l, &e), -EINVAL);
	if (!strstr(e.msg, "search tree has loops or shared nodes"))
		fail_msg("error '%s'", e.msg);
	cf_reclist_free(&l);
	cf_db_close(db);
}

/* A data entry that runs off the end of the data section. */
static void test_mmdb_bad_data(void **state)
{
	const char *path = tmp_path("baddata.mmdb");
	uint32_t off;
	struct mw w;

	(void)state;
	mw_init(&w, 4, 24);
	off = mw_here(&w);
	mw_map(&w, 2);
	mw_str(&w, "country_code");
	mw_raw(&w,
	       "\x45"
	       "AB",
	       3); /* a 5-byte string, 2 bytes of it */
	assert_int_equal(mw_insert(&w, "10.0.0.0/8", off), 0);
	assert_int_equal(mw_write(&w, path, EPOCH, "bad"), 0);
	mw_free(&w);
	open_fails(path, CF_DB_AUTO, "corrupt mmdb: bad data entry", 0, 0);
}

/* ---- libloc ------------------------------------------------------------- */

static void quiet(struct loc_ctx *ctx, int prio, const char *file, int line,
		  const char *fn, const char *fmt, va_list ap)
{
	(void)ctx, (void)prio, (void)file, (void)line, (void)fn, (void)fmt;
	(void)ap;
}

/*
 * Even i: an address inside a random record.  Odd i: a uniformly random
 * address (for IPv6, every other one in 2000::/3, where the data is).
 */
static cf_u128 pick(const struct cf_reclist *l, int family, unsigned i)
{
	const struct cf_rec *rec;
	cf_u128 r = 0, span;
	unsigned k;

	for (k = 0; k < 4; k++)
		r = r << 32 | (uint32_t)random();
	if (family == CF_AF_V4 && (i % 2 || !l->n))
		return r & 0xffffffff;
	if (i % 4 == 1)
		return r >> 3 | (cf_u128)1 << 125;
	if (i % 2 || !l->n)
		return r;
	rec = &l->v[random() % l->n];
	span = rec->last - rec->first;
	return rec->first + (span == ~(cf_u128)0 ? r : r % (span + 1));
}

static void addr_in6(cf_u128 a, int family, struct in6_addr *in6)
{
	unsigned i;

	memset(in6, 0, sizeof(*in6));
	if (family == CF_AF_V4) {
		in6->s6_addr[10] = in6->s6_addr[11] = 0xff;
		for (i = 0; i < 4; i++)
			in6->s6_addr[15 - i] = a >> (8 * i);
		return;
	}
	for (i = 0; i < 16; i++)
		in6->s6_addr[15 - i] = a >> (8 * i);
}

/* Our record for a (or none) must say what libloc's lookup says. */
static void same_as_libloc(struct loc_database *ldb, const struct cf_reclist *l,
			   int family, cf_u128 a)
{
	const struct cf_rec *r = find(l, a);
	struct loc_network *n = NULL;
	char cc[3] = "", buf[CF_ADDR_STRLEN];
	struct in6_addr in6;
	uint32_t asn = 0;

	addr_in6(a, family, &in6);
	if (!loc_database_lookup(ldb, &in6, &n) && n) {
		const char *c = loc_network_get_country_code(n);

		snprintf(cc, sizeof(cc), "%s", c ? c : "");
		asn = loc_network_get_asn(n);
		loc_network_unref(n);
	}
	cf_addr_format(a, family, buf);
	if (!*cc && !asn) {
		if (r)
			fail_msg("%s: record, libloc has none", buf);
		return;
	}
	if (!r)
		fail_msg("%s: no record, libloc says %s AS%u", buf, cc, asn);
	if (*cc && (!(r->has & CF_HAS_CC) || memcmp(r->cc, cc, 2)))
		fail_msg("%s: country %.2s, libloc says %s", buf,
			 r->has & CF_HAS_CC ? r->cc : "--", cc);
	if (!*cc && (r->has & CF_HAS_CC))
		fail_msg("%s: country %.2s, libloc has none", buf, r->cc);
	if (asn != ((r->has & CF_HAS_ASN) ? r->asn : 0))
		fail_msg("%s: AS%u, libloc says AS%u", buf, r->asn, asn);
}

static void test_libloc_real(void **state)
{
	struct cf_reclist l[2] = { { 0 } };
	struct loc_database *ldb = NULL;
	struct loc_ctx *ctx = NULL;
	uint64_t created;
	uint8_t hdr[16];
	struct cf_db *db;
	double t0, t1;
	unsigned i, f;
	FILE *file;

	(void)state;
	file = fopen(LIBLOC_DB, "r");
	if (!file) {
		print_message(
			"skip: %s: %s (apt-get install libloc-database)\n",
			LIBLOC_DB, strerror(errno));
		skip();
	}
	t0 = now();
	db = open_ok(LIBLOC_DB, CF_DB_AUTO);
	assert_int_equal(cf_db_format(db), CF_DB_LIBLOC);
	for (f = 0; f < 2; f++) {
		t1 = now();
		records_ok(db, f ? CF_AF_V6 : CF_AF_V4, &l[f]);
		print_message("libloc %s: %zu records in %.2f s\n",
			      f ? "IPv6" : "IPv4", l[f].n, now() - t1);
	}
	print_message("libloc: opened and read in %.2f s\n", now() - t0);
	/* created_at, read from the header by hand. */
	assert_int_equal(fread(hdr, 1, sizeof(hdr), file), sizeof(hdr));
	memcpy(&created, hdr + 8, sizeof(created));
	assert_int_equal(cf_db_built_at(db), (time_t)be64toh(created));
	/* Flattened and merged, a full database has this many. */
	assert_in_range(l[0].n, 100000, 3000000);
	assert_in_range(l[1].n, 20000, 3000000);

	assert_int_equal(loc_new(&ctx), 0);
	loc_set_log_fn(ctx, quiet);
	assert_int_equal(loc_database_new(ctx, &ldb, file), 0);
	srandom(1);
	for (f = 0; f < 2; f++)
		for (i = 0; i < SPOT_CHECKS; i++)
			same_as_libloc(ldb, &l[f], f ? CF_AF_V6 : CF_AF_V4,
				       pick(&l[f], f ? CF_AF_V6 : CF_AF_V4, i));
	/* What `location lookup` says about a few well-known addresses. */
	same_as_libloc(ldb, &l[0], CF_AF_V4, A("1.1.1.1"));
	same_as_libloc(ldb, &l[0], CF_AF_V4, A("8.8.8.8"));
	same_as_libloc(ldb, &l[1], CF_AF_V6, A("2606:4700:4700::1111"));
	assert_int_equal(find(&l[0], A("1.1.1.1"))->asn, 13335);
	assert_int_equal(find(&l[1], A("2606:4700:4700::1111"))->asn, 13335);
	assert_string_equal(cf_db_as_name(db, 13335), "CLOUDFLARENET");
	assert_null(cf_db_as_name(db, 4294967294u));

	loc_database_unref(ldb);
	loc_unref(ctx);
	fclose(file);
	cf_reclist_free(&l[0]);
	cf_reclist_free(&l[1]);
	cf_db_close(db);
}

static void test_libloc_damaged(void **state)
{
	static uint8_t img[100000];
	size_t n;
	FILE *f;

	(void)state;
	memcpy(img, "LOCDBXX\x02", 8);
	write_bytes("v2.db", img, 5000);
	open_fails(tmp_path("v2.db"), CF_DB_AUTO,
		   "unsupported libloc database version 2", 0, 0);
	img[7] = 1;
	write_bytes("short.db", img, 100);
	open_fails(tmp_path("short.db"), CF_DB_LIBLOC,
		   "corrupt libloc database: truncated header", 0, 0);
	/* A header with no sections at all. */
	write_bytes("hollow.db", img, 8 + 4192);
	open_fails(tmp_path("hollow.db"), CF_DB_AUTO,
		   "corrupt libloc database: no network tree", 0, 0);
	open_fails(write_text("cc.csv", "1.0.0.0,1.0.0.255,US\n"), CF_DB_LIBLOC,
		   "not a libloc database (bad magic)", 0, 0);

	f = fopen(LIBLOC_DB, "r");
	if (!f) {
		print_message("skip: %s: %s\n", LIBLOC_DB, strerror(errno));
		skip();
	}
	n = fread(img, 1, sizeof(img), f);
	fclose(f);
	assert_int_equal(n, sizeof(img));
	write_bytes("trunc.db", img, n);
	open_fails(tmp_path("trunc.db"), CF_DB_AUTO,
		   "section ends past the end of the file (truncated?)", 0, 0);
}

/* ---- format detection and whole-file errors ----------------------------- */

static void test_detect(void **state)
{
	static const uint8_t junk[] = { 0x7f, 'E', 'L', 'F', 0, 1, 2, 3 };
	const char *mmdb = mmdb_geolite2(24, false);
	const char *csv = write_text("d.csv", "1.0.0.0,1.0.0.255,US\n");
	const char *empty = write_text("empty", "");
	struct cf_reclist l = { 0 };
	struct cf_db *db;
	struct cf_err e;
	enum cf_db_format fmt;

	(void)state;
	db = open_ok(mmdb, CF_DB_AUTO);
	assert_int_equal(cf_db_format(db), CF_DB_MMDB);
	assert_string_equal(cf_db_path(db), mmdb);
	assert_int_equal(cf_db_records(db, 5, &l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "bad address family"));
	cf_db_close(db);
	db = open_ok(csv, CF_DB_AUTO);
	assert_int_equal(cf_db_format(db), CF_DB_CSV);
	cf_db_close(db);

	open_fails(mmdb, CF_DB_CSV,
		   "not a CSV database (it is an mmdb database)", 0, 0);
	open_fails(mmdb, CF_DB_LIBLOC,
		   "not a libloc database (it is an mmdb database)", 0, 0);
	open_fails(csv, CF_DB_MMDB, "not an mmdb database (no metadata marker)",
		   0, 0);
	if (!access(LIBLOC_DB, R_OK))
		open_fails(LIBLOC_DB, CF_DB_MMDB,
			   "not an mmdb database (it is a libloc database)", 0,
			   0);
	write_bytes("junk", junk, sizeof(junk));
	open_fails(tmp_path("junk"), CF_DB_AUTO,
		   "not a libloc, mmdb or CSV database", 0, 0);
	open_fails(tmp_path("junk"), CF_DB_CSV,
		   "not a CSV database (binary data)", 0, 0);
	for (fmt = CF_DB_AUTO; fmt <= CF_DB_CSV; fmt++)
		open_fails(empty, fmt, "empty file", 0, 0);

	assert_string_equal(cf_db_format_str(CF_DB_AUTO), "auto");
	assert_string_equal(cf_db_format_str(CF_DB_LIBLOC), "libloc");
	assert_string_equal(cf_db_format_str(CF_DB_MMDB), "mmdb");
	assert_string_equal(cf_db_format_str(CF_DB_CSV), "csv");
}

static void test_missing_and_unreadable(void **state)
{
	const char *missing = tmp_path("no-such.db");
	struct cf_db *db = NULL;
	char want[1024], got[1024];
	struct cf_err e;

	(void)state;
	assert_int_equal(cf_db_open(missing, CF_DB_AUTO, &db, &e), -ENOENT);
	assert_null(db);
	snprintf(want, sizeof(want), "%s: No such file or directory", missing);
	assert_string_equal(cf_err_str(&e, got, sizeof(got)), want);
	open_fails(missing, CF_DB_LIBLOC, "No such file or directory", 0, 0);
	assert_int_equal(cf_db_open(tmpdir, CF_DB_AUTO, &db, &e), -EISDIR);
	assert_string_equal(e.msg, "Is a directory");
	open_fails("/dev/null", CF_DB_AUTO, "not a regular file", 0, 0);
}

/* ---- real databases from ip-location-db (scripts/testdata.sh) ----------- */

static bool have_testdata(const char *path)
{
	if (!access(path, R_OK))
		return true;
	print_message(
		"skip: %s: %s (run scripts/testdata.sh; CAMFENCE_TESTDATA overrides the directory)\n",
		path, strerror(errno));
	return false;
}

/* Our record for a must say what libmaxminddb's lookup says. */
static void same_as_mmdb(MMDB_s *m, const struct cf_reclist *l, int family,
			 cf_u128 a)
{
	static const char *const path[] = { "country_code", NULL };
	const struct cf_rec *r = find(l, a);
	char buf[CF_ADDR_STRLEN], cc[3] = "";
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	int gai, rc;

	cf_addr_format(a, family, buf);
	res = MMDB_lookup_string(m, buf, &gai, &rc);
	assert_int_equal(gai, 0);
	assert_int_equal(rc, MMDB_SUCCESS);
	if (res.found_entry &&
	    MMDB_aget_value(&res.entry, &d, path) == MMDB_SUCCESS &&
	    d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
	    d.data_size == 2)
		memcpy(cc, d.utf8_string, 2);
	if (!*cc) {
		if (r)
			fail_msg("%s: record %.2s, libmaxminddb has none", buf,
				 r->cc);
		return;
	}
	if (!r || !(r->has & CF_HAS_CC) || memcmp(r->cc, cc, 2))
		fail_msg("%s: %.2s, libmaxminddb says %s", buf,
			 r && (r->has & CF_HAS_CC) ? r->cc : "--", cc);
}

static void test_real_mmdb(void **state)
{
	struct cf_reclist l[2] = { { 0 } };
	char path[512];
	struct cf_db *db;
	unsigned i, f;
	double t0, t1;
	MMDB_s m;

	(void)state;
	testdata("geolite2-country-mmdb/geolite2-country.mmdb", path,
		 sizeof(path));
	if (!have_testdata(path))
		skip();
	t0 = now();
	db = open_ok(path, CF_DB_AUTO);
	assert_int_equal(cf_db_format(db), CF_DB_MMDB);
	for (f = 0; f < 2; f++) {
		t1 = now();
		records_ok(db, f ? CF_AF_V6 : CF_AF_V4, &l[f]);
		print_message(
			"geolite2-country.mmdb %s: %zu records in %.2f s\n",
			f ? "IPv6" : "IPv4", l[f].n, now() - t1);
	}
	print_message("geolite2-country.mmdb: opened and read in %.2f s\n",
		      now() - t0);
	assert_in_range(l[0].n, 50000, 3000000);
	assert_in_range(l[1].n, 50000, 3000000);
	/* No IPv6 record may fall in the IPv4 subtree or its aliases. */
	assert_null(find(&l[1], A("::1.2.3.4")));
	assert_null(find(&l[1], A("::ffff:1.2.3.4")));
	assert_null(find(&l[1], A("2002:102:304::")));

	assert_int_equal(MMDB_open(path, MMDB_MODE_MMAP, &m), MMDB_SUCCESS);
	assert_int_equal(cf_db_built_at(db), (time_t)m.metadata.build_epoch);
	srandom(2);
	for (f = 0; f < 2; f++)
		for (i = 0; i < SPOT_CHECKS; i++)
			same_as_mmdb(&m, &l[f], f ? CF_AF_V6 : CF_AF_V4,
				     pick(&l[f], f ? CF_AF_V6 : CF_AF_V4, i));
	same_as_mmdb(&m, &l[0], CF_AF_V4, A("8.8.8.8"));
	same_as_mmdb(&m, &l[1], CF_AF_V6, A("2001:4860:4860::8888"));
	MMDB_close(&m);
	cf_reclist_free(&l[0]);
	cf_reclist_free(&l[1]);
	cf_db_close(db);
}

/*
 * Check n random lines of an ip-location-db ASN file against the records:
 * the file's ranges are disjoint, so each line's range must carry its ASN,
 * and its name must be known.
 */
static void check_asn_lines(struct cf_db *db, const char *path,
			    const struct cf_reclist *l, int family,
			    size_t *lines)
{
	char line[1024], first[64], last[64];
	const struct cf_rec *r;
	unsigned long asn;
	size_t n = 0;
	FILE *f;

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (n++ % 97)
			continue;
		assert_int_equal(sscanf(line, "%63[^,],%63[^,],%lu", first,
					last, &asn),
				 3);
		r = find(l, A(first));
		if (!r || r->asn != asn || r->last < A(last) ||
		    r->family != family)
			fail_msg("%s:%zu: %s-%s AS%lu not in the records", path,
				 n, first, last, asn);
		assert_non_null(cf_db_as_name(db, asn));
	}
	fclose(f);
	*lines = n;
}

static void real_asn_csv(const char *rel, int family)
{
	struct cf_reclist l = { 0 }, other = { 0 };
	char path[512];
	struct cf_db *db;
	size_t lines;
	double t0;

	testdata(rel, path, sizeof(path));
	if (!have_testdata(path))
		skip();
	t0 = now();
	db = open_ok(path, CF_DB_AUTO);
	records_ok(db, family, &l);
	print_message("%s: %zu records in %.2f s\n", rel, l.n, now() - t0);
	records_ok(db, family == CF_AF_V4 ? CF_AF_V6 : CF_AF_V4, &other);
	assert_int_equal(other.n, 0);
	check_asn_lines(db, path, &l, family, &lines);
	/* Merging joins only neighbours of one ASN. */
	assert_in_range(l.n, lines / 2, lines);
	cf_reclist_free(&l);
	cf_db_close(db);
}

static void test_real_asn_ipv4(void **state)
{
	(void)state;
	real_asn_csv("asn/asn-ipv4.csv", CF_AF_V4);
}

static void test_real_asn_ipv6(void **state)
{
	(void)state;
	real_asn_csv("asn/asn-ipv6.csv", CF_AF_V6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_country),
		cmocka_unit_test(test_csv_asn),
		cmocka_unit_test(test_csv_comments_header_crlf),
		cmocka_unit_test(test_csv_overlaps),
		cmocka_unit_test(test_csv_full_range),
		cmocka_unit_test(test_csv_v4_mapped),
		cmocka_unit_test(test_csv_country_and_asn),
		cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_mmdb_geolite2_24),
		cmocka_unit_test(test_mmdb_geolite2_28),
		cmocka_unit_test(test_mmdb_geolite2_32),
		cmocka_unit_test(test_mmdb_flat),
		cmocka_unit_test(test_mmdb_straddle),
		cmocka_unit_test(test_mmdb_no_schema),
		cmocka_unit_test(test_mmdb_damaged_files),
		cmocka_unit_test(test_mmdb_too_deep),
		cmocka_unit_test(test_mmdb_corrupt_tree),
		cmocka_unit_test(test_mmdb_shared_nodes),
		cmocka_unit_test(test_mmdb_bad_data),
		cmocka_unit_test(test_libloc_real),
		cmocka_unit_test(test_libloc_damaged),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_missing_and_unreadable),
		cmocka_unit_test(test_real_mmdb),
		cmocka_unit_test(test_real_asn_ipv4),
		cmocka_unit_test(test_real_asn_ipv6),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
