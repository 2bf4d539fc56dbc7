// SPDX-License-Identifier: GPL-2.0-only
/*
 * safedir.c - trusted directories and the files in them (safedir.h).
 *
 * Refuse, never take over.  A directory someone else owns or can write is
 * refused, naming what is wrong and how to fix it; it is not chowned or
 * chmodded into shape.  Its owner may hold it open, may have placed pins,
 * files or symbolic links inside, and keeps every fd they opened before
 * such a change: taking it over would adopt all of that, at a path they
 * chose.  The operator removes it and camfence makes a fresh one.  A
 * directory that others may read but not write is accepted as it is:
 * nothing in it can be anyone else's (the caller may tighten it).
 *
 * Every component is opened O_PATH | O_NOFOLLOW relative to the one
 * before and checked with fstat() on that fd, so what is checked is what
 * the next step walks from: there is no window in which a component can
 * be swapped between its check and its use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "safedir.h"

#define SD_MAX_LINKS 40 /* as the kernel's own walk */

struct sd_walk {
	int fd; /* the directory reached so far */
	int flags; /* CF_SAFEDIR_* */
	int links; /* symbolic links followed */
	char done[PATH_MAX]; /* its path, for messages ("" is "/") */
	char todo[PATH_MAX]; /* what is left to walk */
	struct cf_err *e;
};

static bool sd_ours(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static int sd_syserr(struct cf_err *e, int err, const char *what,
		     const char *path)
{
	return cf_err_set(e, err, NULL, 0, 0, "%s%s: %s", what, path,
			  strerror(err));
}

/* A directory on the way (final false), or the one asked for. */
static int sd_check(const struct stat *st, const char *path, bool final,
		    struct cf_err *e)
{
	unsigned mode = st->st_mode & 07777;

	if (!S_ISDIR(st->st_mode))
		return cf_err_set(e, ENOTDIR, NULL, 0, 0,
				  "%s is not a directory", path);
	if (!sd_ours(st->st_uid) && final)
		return cf_err_set(
			e, EPERM, NULL, 0, 0,
			"%s is owned by uid %u, not root: remove it and camfence makes its own",
			path, (unsigned)st->st_uid);
	if (!sd_ours(st->st_uid))
		return cf_err_set(
			e, EPERM, NULL, 0, 0,
			"%s is owned by uid %u, not root, who could replace what is below it: use another directory",
			path, (unsigned)st->st_uid);
	if (!(mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (final)
		return cf_err_set(
			e, EPERM, NULL, 0, 0,
			"%s is writable by group or others (mode %04o), who could have put anything in it: remove it and camfence makes its own",
			path, mode);
	if (!(mode & S_ISVTX))
		return cf_err_set(
			e, EPERM, NULL, 0, 0,
			"%s is writable by group or others (mode %04o) without the sticky bit, so anyone could replace what is below it: chmod go-w it or use another directory",
			path, mode);
	return 0;
}

/* Start over at "/" (at first, and for an absolute link). */
static int sd_root(struct sd_walk *w)
{
	struct stat st;

	if (w->fd >= 0)
		close(w->fd);
	w->done[0] = '\0';
	w->fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->fd < 0 || fstat(w->fd, &st))
		return sd_syserr(w->e, errno, "", "/");
	return sd_check(&st, "/", false, w->e);
}

/* 1 and the next component of w->todo in name, or 0 when none is left. */
static int sd_next(struct sd_walk *w, char name[NAME_MAX + 1])
{
	const char *s = w->todo, *end;
	size_t n;

	for (;; s = end) {
		while (*s == '/')
			s++;
		if (!*s) {
			w->todo[0] = '\0';
			return 0;
		}
		end = strchrnul(s, '/');
		n = (size_t)(end - s);
		if (n != 1 || *s != '.')
			break;
	}
	if (n > NAME_MAX)
		return cf_err_set(w->e, ENAMETOOLONG, NULL, 0, 0,
				  "%.*s...: name too long", NAME_MAX, s);
	memcpy(name, s, n);
	name[n] = '\0';
	memmove(w->todo, end, strlen(end) + 1);
	return 1;
}

/* Whether w->todo names anything more than "." and slashes. */
static bool sd_more(const char *todo)
{
	for (const char *s = todo; *s; s++) {
		if (*s == '/')
			continue;
		if (*s != '.' || (s[1] && s[1] != '/'))
			return true;
	}
	return false;
}

/* What name below w->done is called, for messages. */
static int sd_path(const struct sd_walk *w, const char *name, char *buf,
		   size_t len)
{
	if (snprintf(buf, len, "%s/%s", w->done, name) < (int)len)
		return 0;
	return cf_err_set(w->e, ENAMETOOLONG, NULL, 0, 0,
			  "%s/%s: path too long", w->done, name);
}

/*
 * Open name below w->fd, creating it if asked.  On EEXIST someone made it
 * first: it is opened and checked like anything found, never trusted for
 * having been "ours a moment ago".
 */
static int sd_open_one(struct sd_walk *w, const char *name, bool create,
		       const char *path, struct stat *st)
{
	int fd, err;

	fd = openat(w->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(w->fd, name, 0700) && errno != EEXIST)
			return sd_syserr(w->e, errno, "cannot create ", path);
		fd = openat(w->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return sd_syserr(w->e, errno, "", path);
	if (fstat(fd, st)) {
		err = sd_syserr(w->e, errno, "", path);
		close(fd);
		return err;
	}
	return fd;
}

/* Go on through a symbolic link root owns: its target, then the rest. */
static int sd_follow(struct sd_walk *w, int fd, const struct stat *st,
		     const char *path)
{
	char target[PATH_MAX], rest[PATH_MAX];
	ssize_t n;

	if (!sd_ours(st->st_uid))
		return cf_err_set(
			w->e, EPERM, NULL, 0, 0,
			"%s is a symbolic link owned by uid %u, not root: use a path without it",
			path, (unsigned)st->st_uid);
	if (++w->links > SD_MAX_LINKS)
		return cf_err_set(w->e, ELOOP, NULL, 0, 0,
				  "%s: too many symbolic links", path);
	n = readlinkat(fd, "", target, sizeof(target));
	if (n < 0)
		return sd_syserr(w->e, errno, "", path);
	if ((size_t)n >= sizeof(target))
		return sd_syserr(w->e, ENAMETOOLONG, "", path);
	target[n] = '\0';
	memcpy(rest, w->todo, sizeof(rest));
	if (snprintf(w->todo, sizeof(w->todo), "%s/%s", target, rest) >=
	    (int)sizeof(w->todo))
		return sd_syserr(w->e, ENAMETOOLONG, "", path);
	return target[0] == '/' ? sd_root(w) : 0;
}

/* One component: checked as a directory on the way, or followed. */
static int sd_step(struct sd_walk *w, const char *name)
{
	bool last = !sd_more(w->todo);
	bool create = (w->flags & CF_SAFEDIR_CREATE) &&
		      (last || (w->flags & CF_SAFEDIR_PARENTS));
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	err = sd_path(w, name, path, sizeof(path));
	if (err)
		return err;
	fd = sd_open_one(w, name, create, path, &st);
	if (fd < 0)
		return fd;
	if (S_ISLNK(st.st_mode) && last)
		err = cf_err_set(
			w->e, ELOOP, NULL, 0, 0,
			"%s is a symbolic link: name the directory itself",
			path);
	else if (S_ISLNK(st.st_mode))
		err = sd_follow(w, fd, &st, path);
	else
		err = sd_check(&st, path, last, w->e);
	if (err || S_ISLNK(st.st_mode)) {
		close(fd);
		return err;
	}
	close(w->fd);
	w->fd = fd;
	memcpy(w->done, path, sizeof(w->done));
	return 0;
}

/* The directory itself: reopened readable, and checked. */
static int sd_finish(struct sd_walk *w)
{
	const char *path = w->done[0] ? w->done : "/";
	struct stat st;
	int fd, err;

	fd = openat(w->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sd_syserr(w->e, errno, "", path);
	if (fstat(fd, &st))
		err = sd_syserr(w->e, errno, "", path);
	else
		err = sd_check(&st, path, true, w->e);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int sd_run(struct sd_walk *w)
{
	char name[NAME_MAX + 1];
	int n = 0, err = 0;

	while (!err && (n = sd_next(w, name)) > 0)
		err = sd_step(w, name);
	err = err ?: (n < 0 ? n : sd_finish(w));
	close(w->fd);
	return err;
}

int cf_safedir_open(const char *path, int flags, struct cf_err *e)
{
	struct sd_walk w = { .fd = -1, .flags = flags, .e = e };
	char cwd[PATH_MAX];
	int err, n;

	if (path[0] == '/') {
		n = snprintf(w.todo, sizeof(w.todo), "%s", path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return sd_syserr(e, errno, "the working directory of ",
					 path);
		n = snprintf(w.todo, sizeof(w.todo), "%s/%s", cwd, path);
	}
	if (n < 0 || (size_t)n >= sizeof(w.todo))
		return sd_syserr(e, ENAMETOOLONG, "", path);
	err = sd_root(&w);
	if (err) {
		close(w.fd);
		return err;
	}
	return sd_run(&w);
}

int cf_safedir_openat(int dirfd, const char *dirpath, const char *name,
		      int flags, struct cf_err *e)
{
	struct sd_walk w = { .flags = flags, .e = e };

	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return cf_err_set(e, EINVAL, NULL, 0, 0,
				  "%s/%s: not a plain name", dirpath, name);
	if (snprintf(w.done, sizeof(w.done), "%s", dirpath) >=
		    (int)sizeof(w.done) ||
	    snprintf(w.todo, sizeof(w.todo), "%s", name) >= (int)sizeof(w.todo))
		return sd_syserr(e, ENAMETOOLONG, "", dirpath);
	w.fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (w.fd < 0)
		return sd_syserr(e, errno, "", dirpath);
	return sd_run(&w);
}

int cf_safedir_file(int dirfd, const char *name, int flags, unsigned mode)
{
	struct stat st;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO put there must not hang us; O_TRUNC only once
	 * the file proved ours */
	fd = openat(dirfd, name,
		    (flags & ~O_TRUNC) | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    mode);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode) || !sd_ours(st.st_uid) ||
		 (st.st_mode & (S_IWGRP | S_IWOTH)))
		err = -EPERM;
	else if (fcntl(fd, F_SETFL, flags & ~(O_NONBLOCK | O_TRUNC)))
		err = -errno;
	else if ((flags & O_TRUNC) && ftruncate(fd, 0))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int cf_safedir_tmpfile(int dirfd, const char *name, char *tmp, size_t len)
{
	static const char abc[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static unsigned counter;
	struct timespec ts;
	char sfx[7];
	uint64_t x;
	int fd;

	/* O_EXCL makes the name ours; the mix only makes clashes rare */
	for (int tries = 0; tries < 100; tries++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^
		    (++counter * 0x9e3779b97f4a7c15ull);
		for (size_t i = 0; i < sizeof(sfx) - 1; i++, x /= 62)
			sfx[i] = abc[x % 62];
		sfx[sizeof(sfx) - 1] = '\0';
		if (snprintf(tmp, len, "%s.%s.tmp", name, sfx) >= (int)len)
			return -ENAMETOOLONG;
		fd = openat(dirfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}
