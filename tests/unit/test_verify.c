// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_verify.c - libloc signature verification in cf_db_open: the
 * packaged database verifies against the key of Debian's `location`
 * package; a copy with one byte changed after the header, an unsigned copy,
 * another key, a missing or broken given key are refused with the message
 * the operator sees; no key at the default path means no verification.
 *
 * Each real verification costs libloc ~3 s on the 55 MB database, so the
 * tests share copies and do four of them in all.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "compile.h"
#include "db.h"
#include "db_int.h"
#include "mmdb_writer.h"

#define LIBLOC_DB "/usr/share/libloc-location/location.db"
#define LIBLOC_KEY "/var/lib/location/signing-key.pem"
/* The header ends here (db_libloc.c); the sections follow. */
#define HEADER_END (8 + 64 + 2 * 2048 + 32)
#define SIGLENS_AT (8 + 60)

/*
 * libloc hex-formats every byte it hashes with sprintf; ASan's check of
 * each printf call doubles the cost.  The options in ASAN_OPTIONS still
 * win over this default.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "check_printf=0";
}

static char tmpdir[] = "/tmp/camfence-test_verify.XXXXXX";
static char copy[256];

static const char *tmp_path(const char *name)
{
	static char buf[4][512];
	static unsigned slot;
	char *p = buf[slot++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void need_real(void)
{
	if (access(LIBLOC_DB, R_OK) || access(LIBLOC_KEY, R_OK)) {
		print_message("skip: needs %s and %s (apt-get install libloc-database location)\n",
			      LIBLOC_DB, LIBLOC_KEY);
		skip();
	}
}

static void copy_file(const char *from, const char *to)
{
	static char buf[1 << 16];
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)))
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* XOR one byte of path at off with x (in place: same inode). */
static void flip(const char *path, off_t off, uint8_t x)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= x;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static struct cf_db *open_ok(const char *path)
{
	struct cf_db *db = NULL;
	struct cf_err e = { 0 };
	char buf[1024];

	if (cf_db_open(path, CF_DB_AUTO, &db, &e))
		fail_msg("%s: %s", path, cf_err_str(&e, buf, sizeof(buf)));
	return db;
}

/* Opening path must fail with exactly "path: msg". */
static void refused(const char *path, const char *msg)
{
	struct cf_db *db = NULL;
	struct cf_err e = { 0 };
	char want[1024], got[1024];

	assert_int_equal(cf_db_open(path, CF_DB_AUTO, &db, &e), -EINVAL);
	assert_null(db);
	snprintf(want, sizeof(want), "%s: %s", path, msg);
	assert_string_equal(cf_err_str(&e, got, sizeof(got)), want);
}

static void note_starts(struct cf_db *db, const char *prefix)
{
	const char *n = cf_db_verify_note(db);

	assert_non_null(n);
	if (strncmp(n, prefix, strlen(prefix)))
		fail_msg("note '%s', expected '%s...'", n, prefix);
}

static int setup(void **state)
{
	(void)state;
	unsetenv("CAMFENCE_NO_VERIFY");
	unsetenv("CAMFENCE_LOCATION_KEY");
	cf_libloc_key_default = LIBLOC_KEY;
	return 0;
}

/* The packaged database verifies, reads as before, and is remembered. */
static void test_real_verifies(void **state)
{
	struct cf_reclist l = { 0 };
	struct cf_err e = { 0 };
	struct cf_db *db;
	double t0;

	(void)state;
	need_real();
	t0 = now();
	db = open_ok(LIBLOC_DB);
	print_message("verify: %.2f s (%s)\n", now() - t0,
		      cf_db_verify_note(db));
	note_starts(db, "signature verified with " LIBLOC_KEY " in ");
	/* verification reads the file to its end: enumeration still works */
	assert_int_equal(cf_db_records(db, CF_AF_V4, &l, &e), 0);
	assert_true(l.n > 100000);
	cf_reclist_free(&l);
	cf_db_close(db);

	t0 = now();
	db = open_ok(LIBLOC_DB);
	assert_true(now() - t0 < 1.0);
	note_starts(db, "signature verified with " LIBLOC_KEY " earlier; file unchanged");
	cf_db_close(db);
}

/*
 * One byte flipped in the network tree, in place after the copy verified:
 * the remembered verification does not cover it, the signature fails.
 * Without verification the same file opens: the signature refused it.
 */
static void test_flipped_refused(void **state)
{
	struct stat st;
	struct cf_db *db;

	(void)state;
	need_real();
	assert_int_equal(stat(copy, &st), 0);
	db = open_ok(copy);
	note_starts(db, "signature verified with " LIBLOC_KEY " in ");
	cf_db_close(db);

	assert_true(st.st_size / 2 > HEADER_END);
	flip(copy, st.st_size / 2, 0x01);
	refused(copy, "signature verification failed with " LIBLOC_KEY);

	setenv("CAMFENCE_NO_VERIFY", "1", 1);
	db = open_ok(copy);
	note_starts(db, "signature not verified: CAMFENCE_NO_VERIFY is set");
	cf_db_close(db);
	unsetenv("CAMFENCE_NO_VERIFY");
	flip(copy, st.st_size / 2, 0x01);
}

/* A database without signatures is refused while a key is present. */
static void test_unsigned_refused(void **state)
{
	const char *path = tmp_path("unsigned.db");
	static const uint8_t zero[4];
	int fd;

	(void)state;
	need_real();
	copy_file(LIBLOC_DB, path);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, zero, sizeof(zero), SIGLENS_AT), 4);
	close(fd);
	refused(path, "signature verification failed with " LIBLOC_KEY
		      ": the database is not signed (CAMFENCE_NO_VERIFY=1 to use it anyway)");
	unlink(path);
}

/* Another key (a fresh P-521 key made with openssl) does not verify. */
static void test_other_key_refused(void **state)
{
	const char *priv = tmp_path("other.key"), *pub = tmp_path("other.pem");
	char cmd[2048], msg[1024];

	(void)state;
	need_real();
	snprintf(cmd, sizeof(cmd),
		 "openssl ecparam -name secp521r1 -genkey -noout -out %s 2>/dev/null && "
		 "openssl ec -in %s -pubout -out %s 2>/dev/null",
		 priv, priv, pub);
	if (system(cmd)) {
		print_message("skip: openssl cannot make a key\n");
		skip();
	}
	setenv("CAMFENCE_LOCATION_KEY", pub, 1);
	snprintf(msg, sizeof(msg), "signature verification failed with %s",
		 pub);
	refused(copy, msg);
	unsetenv("CAMFENCE_LOCATION_KEY");
}

/* A key the operator names must be there and be a key. */
static void test_given_key_broken(void **state)
{
	const char *junk = tmp_path("junk.pem");
	char msg[1024];
	FILE *f;

	(void)state;
	need_real();
	setenv("CAMFENCE_LOCATION_KEY", "/nonexistent/key.pem", 1);
	refused(LIBLOC_DB, "cannot open the signing key /nonexistent/key.pem: "
			   "No such file or directory");
	f = fopen(junk, "w");
	assert_non_null(f);
	fputs("-----BEGIN PUBLIC KEY-----\nnot base64\n", f);
	fclose(f);
	setenv("CAMFENCE_LOCATION_KEY", junk, 1);
	snprintf(msg, sizeof(msg),
		 "cannot use the signing key %s: not a PEM public key", junk);
	refused(copy, msg);
	unsetenv("CAMFENCE_LOCATION_KEY");
}

/* No key at the default path: used unverified, and the note says so. */
static void test_missing_key_skips(void **state)
{
	struct cf_db *db;
	double t0;

	(void)state;
	need_real();
	cf_libloc_key_default = "/nonexistent/signing-key.pem";
	flip(copy, 100000, 0x80); /* would fail if it were verified */
	t0 = now();
	db = open_ok(copy);
	assert_true(now() - t0 < 1.0);
	note_starts(db, "signature not verified: no signing key /nonexistent/signing-key.pem");
	cf_db_close(db);
	flip(copy, 100000, 0x80);
	cf_libloc_key_default = LIBLOC_KEY;
}

/* Only libloc databases carry signatures. */
static void test_csv_no_note(void **state)
{
	const char *path = tmp_path("a.csv");
	struct cf_db *db = NULL;
	struct cf_err e = { 0 };
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	fputs("1.0.0.0,1.0.0.255,US\n", f);
	fclose(f);
	assert_int_equal(cf_db_open(path, CF_DB_CSV, &db, &e), 0);
	assert_null(cf_db_verify_note(db));
	cf_db_close(db);
}

/* ---- untyped databases while a key is configured --------------------- */

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A flat-schema mmdb: one IPv4 network in RU. */
static void write_mmdb(const char *path)
{
	struct mw w;
	uint32_t ru;

	mw_init(&w, 6, 28);
	ru = mw_here(&w);
	mw_map(&w, 1);
	mw_str(&w, "country_code");
	mw_str(&w, "RU");
	assert_int_equal(mw_insert(&w, "::c633:6400/120", ru), 0);
	assert_int_equal(mw_write(&w, path, 1700000000, "test"), 0);
	mw_free(&w);
}

/* A policy of one database line (text) through cf_dbset_load. */
static int load_policy(const char *text, struct cf_dbset **s, struct cf_err *e)
{
	struct cf_policy *p = NULL;
	int err;

	*s = NULL;
	err = cf_policy_parse(text, strlen(text), "/etc/camfence/policy.conf",
			      &p, e);
	assert_int_equal(err, 0);
	err = cf_dbset_load(p, s, e);
	cf_policy_free(p);
	return err;
}

static void policy_refused(const char *text, const char *want)
{
	struct cf_dbset *s;
	struct cf_err e = { 0 };
	char got[1024];

	assert_int_equal(load_policy(text, &s, &e), -EINVAL);
	assert_null(s);
	assert_string_equal(cf_err_str(&e, got, sizeof(got)), want);
}

static void policy_loads(const char *text, const char *cc_of_198_51_100_7)
{
	struct cf_dbset *s;
	struct cf_err e = { 0 };
	const struct cf_rec *r;
	char got[1024];

	if (load_policy(text, &s, &e))
		fail_msg("%s: %s", text, cf_err_str(&e, got, sizeof(got)));
	r = cf_dbset_find(s, 0xc6336407, CF_AF_V4);
	assert_non_null(r);
	assert_memory_equal(r->cc, cc_of_198_51_100_7, 2);
	cf_dbset_free(s);
}

/*
 * With a signing key, a database line without a format must name a libloc
 * database: a CSV or an mmdb file there is refused, naming the line and
 * the way to use it unverified (the format word), which works.
 */
static void test_untyped_refused(void **state)
{
	const char *csv = tmp_path("geo.csv"), *mmdb = tmp_path("geo.mmdb");
	char text[1024], want[2048];

	(void)state;
	write_text(csv, "198.51.100.0,198.51.100.255,RU\n");
	write_mmdb(mmdb);
	cf_libloc_key_default = tmp_path("key.pem"); /* any file: a key */
	write_text(cf_libloc_key_default, "not read: nothing is verified\n");

	snprintf(text, sizeof(text), "deny country RU\ndatabase   %s\n", csv);
	snprintf(
		want, sizeof(want),
		"/etc/camfence/policy.conf:2:12: %s: content is a CSV database, but a libloc signing key is configured (%s): write `database csv %s` to use it unverified",
		csv, cf_libloc_key_default, csv);
	policy_refused(text, want);
	snprintf(text, sizeof(text), "database %s\n", mmdb);
	snprintf(
		want, sizeof(want),
		"/etc/camfence/policy.conf:1:10: %s: content is an mmdb database, but a libloc signing key is configured (%s): write `database mmdb %s` to use it unverified",
		mmdb, cf_libloc_key_default, mmdb);
	policy_refused(text, want);

	/* the operator's word: used unverified */
	snprintf(text, sizeof(text), "database csv %s\n", csv);
	policy_loads(text, "RU");
	snprintf(text, sizeof(text), "database mmdb %s\n", mmdb);
	policy_loads(text, "RU");
	/* no key, or verification off: untyped files open as before */
	setenv("CAMFENCE_NO_VERIFY", "1", 1);
	snprintf(text, sizeof(text), "database %s\n", csv);
	policy_loads(text, "RU");
	unsetenv("CAMFENCE_NO_VERIFY");
	unlink(cf_libloc_key_default);
	policy_loads(text, "RU");
	cf_libloc_key_default = LIBLOC_KEY;
}

/*
 * `database default` (and a policy without database lines, which gets the
 * same path with no line) stands for the signed libloc database: a CSV or
 * an mmdb file there is refused, restoring it advised first.
 */
static void test_default_refused(void **state)
{
	const char *csv = tmp_path("database.db"), *mmdb = tmp_path("d.mmdb");
	const char *key = tmp_path("key.pem");
	struct cf_db_ref ref = { .format = CF_DB_AUTO };
	struct cf_db *db = NULL;
	struct cf_err e = { 0 };
	char want[2048], got[2048];

	(void)state;
	write_text(csv, "198.51.100.0,198.51.100.255,RU\n");
	write_mmdb(mmdb);
	write_text(key, "not read: nothing is verified\n");
	setenv("CAMFENCE_LOCATION_KEY", key, 1);

	setenv("CAMFENCE_DATABASE", csv, 1);
	snprintf(
		want, sizeof(want),
		"/etc/camfence/policy.conf:3:10: %s: content is a CSV database, but `database default` must be a signed libloc database while a signing key is configured (%s): restore it (`location update`), or write `database csv %s` to use this file unverified",
		csv, key, csv);
	policy_refused("default deny\n\ndatabase default\n", want);
	/* no database line: the loader adds the default without a line */
	ref.path = (char *)csv;
	assert_int_equal(cf_db_open_ref(&ref, "/etc/camfence/policy.conf", &db,
					&e),
			 -EINVAL);
	assert_null(db);
	snprintf(
		want, sizeof(want),
		"/etc/camfence/policy.conf: %s: content is a CSV database, but `database default` must be a signed libloc database while a signing key is configured (%s): restore it (`location update`), or write `database csv %s` to use this file unverified",
		csv, key, csv);
	assert_string_equal(cf_err_str(&e, got, sizeof(got)), want);

	setenv("CAMFENCE_DATABASE", mmdb, 1);
	snprintf(
		want, sizeof(want),
		"/etc/camfence/policy.conf:1:10: %s: content is an mmdb database, but `database default` must be a signed libloc database while a signing key is configured (%s): restore it (`location update`), or write `database mmdb %s` to use this file unverified",
		mmdb, key, mmdb);
	policy_refused("database default\n", want);
	unsetenv("CAMFENCE_DATABASE");
	unsetenv("CAMFENCE_LOCATION_KEY");
}

/* An unsigned libloc database at an untyped line: refused at the line. */
static void test_untyped_unsigned_refused(void **state)
{
	const char *path = tmp_path("unsigned2.db");
	static const uint8_t zero[4];
	char text[600], want[2048];
	int fd;

	(void)state;
	need_real();
	copy_file(LIBLOC_DB, path);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, zero, sizeof(zero), SIGLENS_AT), 4);
	close(fd);
	setenv("CAMFENCE_DATABASE", path, 1);
	snprintf(
		want, sizeof(want),
		"/etc/camfence/policy.conf:1:10: %s: signature verification failed with " LIBLOC_KEY
		": the database is not signed (CAMFENCE_NO_VERIFY=1 to use it anyway)",
		path);
	policy_refused("database default\n", want);
	snprintf(text, sizeof(text), "database libloc %s\n", path);
	snprintf(
		want, sizeof(want),
		"/etc/camfence/policy.conf:1:17: %s: signature verification failed with " LIBLOC_KEY
		": the database is not signed (CAMFENCE_NO_VERIFY=1 to use it anyway)",
		path);
	policy_refused(text, want);
	unsetenv("CAMFENCE_DATABASE");
	unlink(path);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(copy, sizeof(copy), "%s/copy.db", tmpdir);
	if (!access(LIBLOC_DB, R_OK))
		copy_file(LIBLOC_DB, copy);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_real_verifies, setup),
		cmocka_unit_test_setup(test_flipped_refused, setup),
		cmocka_unit_test_setup(test_unsigned_refused, setup),
		cmocka_unit_test_setup(test_other_key_refused, setup),
		cmocka_unit_test_setup(test_given_key_broken, setup),
		cmocka_unit_test_setup(test_missing_key_skips, setup),
		cmocka_unit_test_setup(test_csv_no_note, setup),
		cmocka_unit_test_setup(test_untyped_refused, setup),
		cmocka_unit_test_setup(test_default_refused, setup),
		cmocka_unit_test_setup(test_untyped_unsigned_refused, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
