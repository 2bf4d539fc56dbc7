// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_dbcache.c - the layered-records cache (policy/dbcache.c) behind
 * fast policy-only pushes.  A load through the cache must give exactly
 * the records a load without it gives; any change to a database (new
 * content, a touch, another file at the path, another list of databases)
 * must miss; a damaged cache file must miss and be rewritten, never read.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "compile.h"

static char dir[] = "/tmp/camfence-test_dbcache.XXXXXX";
static char cache[PATH_MAX];

static const char *path_of(const char *name)
{
	static char buf[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static struct cf_policy *policy(const char *dbs)
{
	char text[1024];
	struct cf_policy *p;
	struct cf_err e = {};

	snprintf(text, sizeof(text), "%sdeny country RU\n", dbs);
	assert_int_equal(cf_policy_parse(text, strlen(text), path_of("p.conf"),
					 &p, &e), 0);
	return p;
}

/* Load with the cache as it is; say whether it was read from the cache. */
static struct cf_dbset *load(const struct cf_policy *p, bool *cached)
{
	struct cf_dbset *s;
	struct cf_err e = {};

	cf_dbset_cache(cache);
	assert_int_equal(cf_dbset_load(p, &s, &e), 0);
	*cached = s->map != NULL;
	return s;
}

/* What the databases say, read without any cache. */
static void same_as_uncached(const struct cf_policy *p, const struct cf_dbset *s)
{
	struct cf_dbset *u;
	struct cf_err e = {};

	cf_dbset_cache(NULL);
	assert_int_equal(cf_dbset_load(p, &u, &e), 0);
	assert_null(u->map);
	assert_int_equal(s->v4.n, u->v4.n);
	assert_int_equal(s->v6.n, u->v6.n);
	assert_memory_equal(s->v4.v, u->v4.v, u->v4.n * sizeof(*u->v4.v));
	assert_memory_equal(s->v6.v, u->v6.v, u->v6.n * sizeof(*u->v6.v));
	assert_int_equal(s->built_at, u->built_at);
	cf_dbset_free(u);
}

/* Load twice: the first must miss (and write), the second must hit. */
static void miss_then_hit(const struct cf_policy *p)
{
	struct cf_dbset *s;
	bool cached;

	s = load(p, &cached);
	assert_false(cached);
	same_as_uncached(p, s);
	cf_dbset_free(s);
	s = load(p, &cached);
	assert_true(cached);
	same_as_uncached(p, s);
	cf_dbset_free(s);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(cache, sizeof(cache), "%s/records", dir);
	write_file("cc.csv", "192.0.2.0,192.0.2.127,RU\n"
			     "198.51.100.0,198.51.100.255,DE\n"
			     "2001:db8::,2001:db8::ffff,RU\n");
	write_file("asn.csv", "192.0.2.64,192.0.2.255,64500,EXAMPLE\n");
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	cf_dbset_cache(NULL);
	return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_hit_equals_uncached(void **state)
{
	char dbs[PATH_MAX * 2 + 32];
	struct cf_policy *p;
	struct stat st;

	(void)state;
	unlink(cache);
	snprintf(dbs, sizeof(dbs), "database csv %s\ndatabase csv %s\n",
		 path_of("cc.csv"), path_of("asn.csv"));
	p = policy(dbs);
	miss_then_hit(p);
	assert_int_equal(stat(cache, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	cf_policy_free(p);
}

static void test_changed_database_misses(void **state)
{
	char dbs[PATH_MAX + 32];
	struct cf_policy *p;
	struct cf_dbset *s;
	struct timespec ts[2] = { { 0, UTIME_OMIT } };
	struct stat st;
	bool cached;

	(void)state;
	unlink(cache);
	snprintf(dbs, sizeof(dbs), "database csv %s\n", path_of("cc.csv"));
	p = policy(dbs);
	miss_then_hit(p);

	/* same size, new content, mtime set back: only ctime tells */
	assert_int_equal(stat(path_of("cc.csv"), &st), 0);
	ts[1] = st.st_mtim;
	write_file("cc.csv", "192.0.2.0,192.0.2.127,FR\n"
			     "198.51.100.0,198.51.100.255,DE\n"
			     "2001:db8::,2001:db8::ffff,RU\n");
	assert_int_equal(utimensat(AT_FDCWD, path_of("cc.csv"), ts, 0), 0);
	s = load(p, &cached);
	assert_false(cached);
	assert_memory_equal(s->v4.v[0].cc, "FR", 2);
	same_as_uncached(p, s);
	cf_dbset_free(s);

	/* another file renamed over the path */
	write_file("new.csv", "10.0.0.0,10.255.255.255,CN\n");
	assert_int_equal(rename(path_of("new.csv"), path_of("cc.csv")), 0);
	s = load(p, &cached);
	assert_false(cached);
	assert_int_equal(s->v4.n, 1);
	assert_memory_equal(s->v4.v[0].cc, "CN", 2);
	cf_dbset_free(s);
	cf_policy_free(p);
}

static void test_other_databases_miss(void **state)
{
	char one[PATH_MAX + 32], two[PATH_MAX * 2 + 32];
	struct cf_policy *p1, *p2;
	struct cf_dbset *s;
	bool cached;

	(void)state;
	unlink(cache);
	write_file("a.csv", "192.0.2.0,192.0.2.255,RU\n");
	write_file("b.csv", "192.0.2.0,192.0.2.255,64500,EXAMPLE\n");
	snprintf(one, sizeof(one), "database csv %s\n", path_of("a.csv"));
	snprintf(two, sizeof(two), "database csv %s\ndatabase csv %s\n",
		 path_of("a.csv"), path_of("b.csv"));
	p1 = policy(one);
	p2 = policy(two);
	miss_then_hit(p1);
	s = load(p2, &cached); /* a prefix of the list is not the list */
	assert_false(cached);
	assert_true(s->v4.v[0].has & CF_HAS_ASN);
	cf_dbset_free(s);
	s = load(p1, &cached);
	assert_false(cached);
	assert_false(s->v4.v[0].has & CF_HAS_ASN);
	cf_dbset_free(s);
	cf_policy_free(p1);
	cf_policy_free(p2);
}

static void damage(off_t at, const void *bytes, size_t n, bool truncate_there)
{
	int fd = open(cache, O_WRONLY);

	assert_true(fd >= 0);
	if (truncate_there)
		assert_int_equal(ftruncate(fd, at), 0);
	else
		assert_int_equal(pwrite(fd, bytes, n, at), (ssize_t)n);
	assert_int_equal(close(fd), 0);
}

static void test_damaged_cache_misses(void **state)
{
	char dbs[PATH_MAX + 32];
	static const uint8_t junk[8] = { 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff };
	static const struct {
		off_t at;
		bool truncate;
	} cases[] = {
		{ 0, false },	/* magic */
		{ 8, false },	/* version, record size */
		{ 16, false },	/* number of databases */
		{ 24, false },	/* number of IPv4 records */
		{ 64, false },	/* the database's path */
		{ 100, true },	/* cut inside the key */
		{ 0, true },	/* empty */
	};
	struct cf_policy *p;
	struct stat st;

	(void)state;
	snprintf(dbs, sizeof(dbs), "database csv %s\n", path_of("a.csv"));
	p = policy(dbs);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unlink(cache);
		miss_then_hit(p);
		assert_int_equal(stat(cache, &st), 0);
		damage(cases[i].at, junk, sizeof(junk), cases[i].truncate);
		miss_then_hit(p); /* rewritten by the miss, then read */
	}
	/* one byte too many: the record counts no longer add up */
	damage(st.st_size, junk, 1, false);
	miss_then_hit(p);
	cf_policy_free(p);
}

static void test_no_cache_writes_nothing(void **state)
{
	char dbs[PATH_MAX + 32];
	struct cf_policy *p;
	struct cf_dbset *s;
	struct cf_err e = {};

	(void)state;
	unlink(cache);
	snprintf(dbs, sizeof(dbs), "database csv %s\n", path_of("a.csv"));
	p = policy(dbs);
	cf_dbset_cache("");
	assert_int_equal(cf_dbset_load(p, &s, &e), 0);
	assert_null(s->map);
	cf_dbset_free(s);
	assert_int_equal(access(cache, F_OK), -1);
	/* a cache that cannot be written is no error */
	snprintf(cache, sizeof(cache), "%s/missing/records", dir);
	cf_dbset_cache(cache);
	assert_int_equal(cf_dbset_load(p, &s, &e), 0);
	assert_null(s->map);
	cf_dbset_free(s);
	snprintf(cache, sizeof(cache), "%s/records", dir);
	cf_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_equals_uncached),
		cmocka_unit_test(test_changed_database_misses),
		cmocka_unit_test(test_other_databases_miss),
		cmocka_unit_test(test_damaged_cache_misses),
		cmocka_unit_test(test_no_cache_writes_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
