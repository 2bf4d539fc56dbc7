// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_safedir.c - trusted directories (policy/safedir.c): the check the
 * pin tree, the state directory and the cache go through.  A directory
 * another user owns or can write, or reaches through a symbolic link they
 * planted, is refused; so is a directory someone makes between our look
 * and our mkdir.  Files in a trusted directory are never opened through a
 * symbolic link, nor trusted when someone else owns them.
 *
 * Another user is uid 65534 (nobody), given files with chown: the test
 * needs root and skips without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "safedir.h"

#define NOBODY 65534

static char base[] = "/tmp/camfence-test_safedir.XXXXXX";

/*
 * The other user's move between our openat (ENOENT) and our mkdirat:
 * with race set, mkdirat first makes the directory as NOBODY would, so
 * ours fails with EEXIST.  The library's mkdirat binds to this one.
 */
static enum { RACE_NONE, RACE_DIR, RACE_LINK } race;
static int mkdirat_calls;

int mkdirat(int dirfd, const char *path, mode_t mode)
{
	mkdirat_calls++;
	if (race == RACE_DIR) {
		syscall(SYS_mkdirat, dirfd, path, 0777);
		fchownat(dirfd, path, NOBODY, NOBODY, AT_SYMLINK_NOFOLLOW);
	} else if (race == RACE_LINK) {
		symlinkat("/etc", dirfd, path);
		fchownat(dirfd, path, NOBODY, NOBODY, AT_SYMLINK_NOFOLLOW);
	}
	race = RACE_NONE;
	return (int)syscall(SYS_mkdirat, dirfd, path, mode);
}

static const char *at(const char *name)
{
	static char buf[4][PATH_MAX];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", base, name);
	return buf[k];
}

static void make_dir(const char *name, mode_t mode, uid_t uid)
{
	assert_int_equal(mkdir(at(name), 0700), 0);
	assert_int_equal(chmod(at(name), mode), 0);
	assert_int_equal(lchown(at(name), uid, uid), 0);
}

static void make_link(const char *name, const char *target, uid_t uid)
{
	assert_int_equal(symlink(target, at(name)), 0);
	assert_int_equal(lchown(at(name), uid, uid), 0);
}

/* cf_safedir_open(name) fails with want, and its message has every part. */
static void refused(const char *name, int flags, int want, ...)
{
	struct cf_err e = {};
	const char *part;
	va_list ap;
	int fd;

	fd = cf_safedir_open(at(name), flags, &e);
	if (fd >= 0)
		close(fd);
	if (fd != want)
		fail_msg("%s: got %d, want %d (%s)", at(name), fd, want, e.msg);
	va_start(ap, want);
	while ((part = va_arg(ap, const char *)))
		if (!strstr(e.msg, part))
			fail_msg("%s: message \"%s\" lacks \"%s\"", at(name),
				 e.msg, part);
	va_end(ap);
}

/* cf_safedir_open(name) gives the directory now at real. */
static void accepted(const char *name, int flags, const char *real)
{
	struct cf_err e = {};
	struct stat a, b;
	int fd;

	fd = cf_safedir_open(at(name), flags, &e);
	if (fd < 0)
		fail_msg("%s refused: %s", at(name), e.msg);
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(lstat(at(real), &b), 0);
	assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	if (geteuid())
		return 0;
	return mkdtemp(base) ? 0 : -1;
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
	if (geteuid())
		return 0;
	return nftw(base, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

#define NEED_ROOT()                                                   \
	do {                                                          \
		if (geteuid())                                        \
			skip(); /* chown to another uid needs root */ \
	} while (0)

static void test_root_dir_ok(void **state)
{
	struct stat st;

	(void)state;
	NEED_ROOT();
	make_dir("ok", 0700, 0);
	accepted("ok", 0, "ok");
	accepted("ok", CF_SAFEDIR_CREATE, "ok");
	/* others may read but not write: nothing in it can be theirs, and
	 * it is left as it is */
	make_dir("readable", 0755, 0);
	accepted("readable", CF_SAFEDIR_CREATE, "readable");
	assert_int_equal(stat(at("readable"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void test_other_owner_refused(void **state)
{
	char want[PATH_MAX + 32];

	(void)state;
	NEED_ROOT();
	make_dir("theirs", 0700, NOBODY);
	snprintf(want, sizeof(want), "%s is owned by uid 65534", at("theirs"));
	refused("theirs", 0, -EPERM, want, "remove it", NULL);
	refused("theirs", CF_SAFEDIR_CREATE, -EPERM, want, NULL);
	/* and below a directory of theirs, even one of ours is not ours */
	make_dir("theirs/d", 0700, 0);
	refused("theirs/d", 0, -EPERM, want, "use another directory", NULL);
}

static void test_final_symlink_refused(void **state)
{
	(void)state;
	NEED_ROOT();
	make_dir("real", 0700, 0);
	make_link("link", "real", 0); /* root's own link, still refused */
	refused("link", CF_SAFEDIR_CREATE, -ELOOP, "is a symbolic link", NULL);
	refused("link/", 0, -ELOOP, NULL);
	refused("link/.", 0, -ELOOP, NULL);
	make_link("dangling", "nowhere", NOBODY);
	refused("dangling", CF_SAFEDIR_CREATE, -ELOOP, NULL);
	assert_int_equal(access(at("nowhere"), F_OK), -1);
}

static void test_ancestor_symlink(void **state)
{
	(void)state;
	NEED_ROOT();
	make_dir("tree", 0755, 0);
	make_dir("tree/d", 0700, 0);
	/* one someone else planted: refused, whatever it points to */
	make_link("planted", "tree", NOBODY);
	refused("planted/d", 0, -EPERM, "symbolic link owned by uid 65534",
		NULL);
	/* root's own (say /var/run -> /run) is followed and the target
	 * checked like any other path */
	make_link("rootlink", "tree", 0);
	accepted("rootlink/d", 0, "tree/d");
	make_link("abslink", at("tree"), 0);
	accepted("abslink/d", 0, "tree/d");
	/* a loop ends */
	make_link("loop1", "loop2", 0);
	make_link("loop2", "loop1", 0);
	refused("loop1/d", 0, -ELOOP, "too many symbolic links", NULL);
}

static void test_writable_ancestor(void **state)
{
	(void)state;
	NEED_ROOT();
	make_dir("open", 0777, 0);
	make_dir("open/d", 0700, 0);
	refused("open/d", 0, -EPERM, "without the sticky bit", NULL);
	make_dir("gw", 0770, 0);
	make_dir("gw/d", 0700, 0);
	refused("gw/d", 0, -EPERM, "writable by group or others", NULL);
	/* sticky (/tmp, a plain bpffs mount): others cannot move ours */
	make_dir("sticky", 01777, 0);
	make_dir("sticky/d", 0700, 0);
	accepted("sticky/d", 0, "sticky/d");
	accepted("sticky/new", CF_SAFEDIR_CREATE, "sticky/new");
}

static void test_writable_final(void **state)
{
	(void)state;
	NEED_ROOT();
	/* others may have put anything in it: sticky or not */
	make_dir("loose", 0777, 0);
	refused("loose", CF_SAFEDIR_CREATE, -EPERM, "mode 0777", NULL);
	make_dir("loose-sticky", 01777, 0);
	refused("loose-sticky", CF_SAFEDIR_CREATE, -EPERM, "mode 1777", NULL);
	make_dir("loose-group", 0770, 0);
	refused("loose-group", 0, -EPERM, "mode 0770", NULL);
}

static void test_create(void **state)
{
	char cwd[PATH_MAX];
	struct cf_err e = {};
	struct stat st;
	int fd;

	(void)state;
	NEED_ROOT();
	refused("new", 0, -ENOENT, NULL);
	accepted("new", CF_SAFEDIR_CREATE, "new");
	assert_int_equal(stat(at("new"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 0);
	/* parents only when asked */
	refused("p1/p2/p3", CF_SAFEDIR_CREATE, -ENOENT, "p1", NULL);
	assert_int_equal(access(at("p1"), F_OK), -1);
	accepted("p1/p2/p3", CF_SAFEDIR_CREATE | CF_SAFEDIR_PARENTS,
		 "p1/p2/p3");
	assert_int_equal(stat(at("p1"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* relative paths start at the working directory's real path */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(base), 0);
	fd = cf_safedir_open("new", 0, &e);
	assert_int_equal(chdir(cwd), 0);
	assert_true(fd >= 0);
	close(fd);
}

/* Someone makes it between our look (ENOENT) and our mkdir (EEXIST). */
static void test_race_refused(void **state)
{
	(void)state;
	NEED_ROOT();
	mkdirat_calls = 0;
	race = RACE_DIR;
	refused("raced", CF_SAFEDIR_CREATE, -EPERM, "owned by uid 65534", NULL);
	assert_int_equal(mkdirat_calls, 1);
	race = RACE_LINK;
	refused("raced-link", CF_SAFEDIR_CREATE, -ELOOP, "symbolic link", NULL);
	assert_int_equal(mkdirat_calls, 2);
	/* the same race on a parent */
	race = RACE_DIR;
	refused("raced-parent/d", CF_SAFEDIR_CREATE | CF_SAFEDIR_PARENTS,
		-EPERM, "raced-parent is owned by uid 65534", NULL);
	assert_int_equal(access(at("raced-parent/d"), F_OK), -1);
}

static void test_not_a_dir(void **state)
{
	int fd;

	(void)state;
	NEED_ROOT();
	fd = open(at("file"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	refused("file", CF_SAFEDIR_CREATE, -ENOTDIR, "is not a directory",
		NULL);
	refused("file/d", CF_SAFEDIR_CREATE | CF_SAFEDIR_PARENTS, -ENOTDIR,
		NULL);
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	refused("fifo", 0, -ENOTDIR, NULL);
}

static void test_openat(void **state)
{
	struct cf_err e = {};
	int dir, fd;

	(void)state;
	NEED_ROOT();
	make_dir("top", 0700, 0);
	make_dir("top/theirs", 0700, NOBODY);
	make_link("top/link", at("top"), 0);
	dir = cf_safedir_open(at("top"), 0, &e);
	assert_true(dir >= 0);
	fd = cf_safedir_openat(dir, at("top"), "sub", CF_SAFEDIR_CREATE, &e);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cf_safedir_openat(dir, at("top"), "theirs", 0, &e),
			 -EPERM);
	assert_non_null(strstr(e.msg, "top/theirs is owned by uid 65534"));
	assert_int_equal(cf_safedir_openat(dir, at("top"), "link", 0, &e),
			 -ELOOP);
	assert_int_equal(cf_safedir_openat(dir, at("top"), "..", 0, &e),
			 -EINVAL);
	assert_int_equal(cf_safedir_openat(dir, at("top"), "a/b", 0, &e),
			 -EINVAL);
	assert_int_equal(cf_safedir_openat(dir, at("top"), "none", 0, &e),
			 -ENOENT);
	close(dir);
}

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void same_text(const char *name, const char *text)
{
	char buf[64] = "";
	FILE *f = fopen(at(name), "r");

	assert_non_null(f);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	assert_string_equal(buf, text);
}

static void test_files(void **state)
{
	int dir, fd;
	struct cf_err e = {};

	(void)state;
	NEED_ROOT();
	make_dir("files", 0700, 0);
	write_text("victim", "untouched\n");
	make_link("files/lock", at("victim"), 0);
	write_text("files/foreign", "theirs\n");
	assert_int_equal(chown(at("files/foreign"), NOBODY, NOBODY), 0);
	write_text("files/wide", "wide\n");
	assert_int_equal(chmod(at("files/wide"), 0666), 0);
	assert_int_equal(mkfifo(at("files/fifo"), 0600), 0);
	write_text("files/ours", "ours\n");
	dir = cf_safedir_open(at("files"), 0, &e);
	assert_true(dir >= 0);

	assert_int_equal(cf_safedir_file(dir, "lock",
					 O_RDWR | O_CREAT | O_TRUNC, 0600),
			 -ELOOP);
	same_text("victim", "untouched\n");
	assert_int_equal(cf_safedir_file(dir, "foreign", O_WRONLY | O_TRUNC, 0),
			 -EPERM);
	same_text("files/foreign", "theirs\n");
	assert_int_equal(cf_safedir_file(dir, "wide", O_RDONLY, 0), -EPERM);
	assert_int_equal(cf_safedir_file(dir, "fifo", O_RDONLY, 0), -EPERM);
	fd = cf_safedir_file(dir, "ours", O_WRONLY | O_TRUNC, 0);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	same_text("files/ours", "");
	fd = cf_safedir_file(dir, "made", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	/* by path, as the cache files are opened */
	assert_int_equal(cf_safedir_file(AT_FDCWD, at("files/lock"), O_RDONLY,
					 0),
			 -ELOOP);
	close(dir);
}

static void test_tmpfile(void **state)
{
	char t1[NAME_MAX + 1], t2[NAME_MAX + 1];
	struct cf_err e = {};
	struct stat st;
	int dir, a, b;

	(void)state;
	NEED_ROOT();
	make_dir("tmp", 0700, 0);
	write_text("victim2", "untouched\n");
	make_link("tmp/active.tmp", at("victim2"), 0);
	dir = cf_safedir_open(at("tmp"), 0, &e);
	assert_true(dir >= 0);
	a = cf_safedir_tmpfile(dir, "active", t1, sizeof(t1));
	b = cf_safedir_tmpfile(dir, "active", t2, sizeof(t2));
	assert_true(a >= 0 && b >= 0);
	assert_string_not_equal(t1, t2);
	assert_int_equal(strncmp(t1, "active.", 7), 0);
	assert_string_equal(t1 + strlen(t1) - 4, ".tmp");
	assert_int_equal(fstat(a, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(write(a, "x", 1), 1);
	close(a);
	close(b);
	same_text("victim2", "untouched\n");
	close(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_dir_ok),
		cmocka_unit_test(test_other_owner_refused),
		cmocka_unit_test(test_final_symlink_refused),
		cmocka_unit_test(test_ancestor_symlink),
		cmocka_unit_test(test_writable_ancestor),
		cmocka_unit_test(test_writable_final),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_race_refused),
		cmocka_unit_test(test_not_a_dir),
		cmocka_unit_test(test_openat),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_tmpfile),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
