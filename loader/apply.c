// SPDX-License-Identifier: GPL-2.0-only
/*
 * apply.c - switch to a compiled policy and record it, or neither.
 *
 * The switch is one map-in-map update (cf_image_install); the kernel
 * drops its reference to the old inner map after an RCU grace period,
 * but the push holds the old map's fd (p->live) until it is freed, so
 * re-installing it is the same single update in reverse.  The state
 * files are written policy.conf first and active last: active is what
 * status compares with the live image, so a push killed between the two
 * shows as interrupted.  When active cannot be written, policy.conf gets
 * its old bytes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "log.h"
#include "main.h"
#include "safedir.h"
#include "state.h"

/* policy.conf as it was before the record. */
struct saved {
	char *data;
	size_t len;
	bool present;
};

/* The whole of fd, a regular file (cf_safedir_file checked it). */
static int read_fd(int fd, struct saved *s)
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	s->data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!s->data)
		return -ENOMEM;
	while (s->len < (size_t)st.st_size) {
		n = read(fd, s->data + s->len, (size_t)st.st_size - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		s->len += (size_t)n;
	}
	s->present = true;
	return 0;
}

/*
 * Binary-safe (policy.conf may hold an artifact), and opened as state.c
 * opens state files: in the checked directory, never through a link,
 * only a regular file of root's.  What cannot be read cannot be put
 * back, so it stops the record before anything changes.
 */
static int save_policy(struct saved *s)
{
	struct cf_err e = {};
	int dir, fd, err;

	memset(s, 0, sizeof(*s));
	dir = cf_safedir_open(cf_g.state_dir, 0, &e);
	if (dir == -ENOENT)
		return 0;
	if (dir < 0) {
		pr_err("cannot use the state directory %s: %s", cf_g.state_dir,
		       e.msg);
		return dir;
	}
	fd = cf_safedir_file(dir, "policy.conf", O_RDONLY, 0);
	close(dir);
	if (fd == -ENOENT)
		return 0;
	err = fd < 0 ? fd : read_fd(fd, s);
	if (fd >= 0)
		close(fd);
	if (err)
		pr_err("cannot read %s/policy.conf: %s", cf_g.state_dir,
		       err == -EPERM ? "not a regular file of root's" :
				       strerror(-err));
	return err;
}

static void restore_policy(const struct saved *s)
{
	int err;

	if (s->present)
		err = cf_state_write("policy.conf", s->data, s->len);
	else
		err = cf_state_remove("policy.conf");
	if (err)
		pr_err("cannot put %s/policy.conf back: lookup may explain from the policy not in force",
		       cf_g.state_dir);
}

static int write_active(const struct cf_push *p)
{
	struct cf_active a = { .generation = p->generation };
	char *abs = NULL;

	if (strcmp(p->src.path, "-"))
		abs = realpath(p->src.path, NULL);
	snprintf(a.path, sizeof(a.path), "%s", abs ? abs : p->src.path);
	free(abs);
	cf_digest_hex(p->src.comp->digest, a.digest);
	a.pushed_at = time(NULL);
	return cf_active_write(&a);
}

/* Exactly what was installed (lookup explains from it), then active. */
static int record(const struct cf_push *p)
{
	struct saved old;
	int err;

	err = save_policy(&old);
	if (!err && p->src.artifact)
		err = cf_state_write("policy.conf", p->src.artifact,
				     p->src.artifact_len);
	else if (!err)
		err = cf_state_write("policy.conf", p->src.text, p->src.len);
	if (!err) {
		err = write_active(p);
		if (err)
			restore_policy(&old);
	}
	free(old.data);
	/* whatever the errno, a state file that cannot be written is the
	 * system's problem, not bad input or "not loaded" */
	return err && cf_exit_for(err) != CF_EXIT_SYSTEM ? -EIO : err;
}

/* Put the previous image back after a failure past the switch. */
static void roll_back(struct cf_push *p, const struct cf_runtime *rt)
{
	uint64_t old = p->have_live ? cf_image_hdr(p->live.w)->generation : 0;
	int err;

	err = cf_push_rollback(p, rt);
	if (err)
		pr_err("cannot put the previous policy back: generation %" PRIu64
		       " stays in force, unrecorded",
		       p->generation);
	else if (p->have_live)
		pr_warn("switch to generation %" PRIu64
			" undone: generation %" PRIu64 " is back in force",
			p->generation, old);
	else
		pr_warn("switch to generation %" PRIu64
			" undone: no policy is loaded (on-missing-policy applies)",
			p->generation);
}

int cf_apply(struct cf_push *p, const struct cf_runtime *rt,
	     const struct cf_apply_opts *o)
{
	int lock = -1, err;

	if (!o || !o->locked) {
		lock = cf_state_lock();
		if (lock < 0)
			return lock;
	}
	err = cf_push_commit(p, rt);
	if (!err && o && o->then)
		err = o->then(o->ctx);
	if (!err)
		err = record(p);
	if (err && p->switched)
		roll_back(p, rt);
	cf_state_unlock(lock);
	return err;
}

int cf_apply_adopt(const struct cf_push *p)
{
	int lock, err;

	lock = cf_state_lock();
	if (lock < 0)
		return lock;
	err = record(p);
	cf_state_unlock(lock);
	return err;
}
