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

#include "db.h"
#include "db_int.h"

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
	struct cf_db *db;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	fputs("1.0.0.0,1.0.0.255,US\n", f);
	fclose(f);
	db = open_ok(path);
	assert_null(cf_db_verify_note(db));
	cf_db_close(db);
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
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
