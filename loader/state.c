// SPDX-License-Identifier: GPL-2.0-only
/*
 * state.c - small files under the state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "main.h"
#include "pin.h"
#include "safedir.h"
#include "state.h"

int cf_state_path(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", cf_g.state_dir, name);

	if (n < 0 || (size_t)n >= len) {
		pr_err("state path under %s is too long", cf_g.state_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * The state directory is checked (safedir.h) each time it is used: it
 * holds the lock, the policy in force and the tc records detach goes by,
 * so one someone else owns or can write, or a symbolic link, is refused
 * (exit 3), never taken over (policy/safedir.c says why).  A missing one
 * is -ENOENT, quietly, unless flags create it; anything else is said.
 */
static int state_dir(int flags)
{
	struct cf_err e = {};
	int fd;

	fd = cf_safedir_open(cf_g.state_dir, flags, &e);
	if (fd < 0 && (fd != -ENOENT || (flags & CF_SAFEDIR_CREATE)))
		pr_err("cannot use the state directory %s: %s", cf_g.state_dir,
		       e.msg);
	return fd;
}

/* The checked directory sub inside the state directory (made if flags
 * say so; sub never is); -ENOENT quietly when either is missing. */
static int state_subdir(const char *sub, int flags)
{
	struct cf_err e = {};
	int dir, fd;

	dir = state_dir(flags);
	if (dir < 0)
		return dir;
	fd = cf_safedir_openat(dir, cf_g.state_dir, sub, 0, &e);
	close(dir);
	if (fd < 0 && fd != -ENOENT)
		pr_err("cannot use the state directory %s: %s", cf_g.state_dir,
		       e.msg);
	return fd;
}

/* The checked directory that holds name: the state directory (made if
 * flags say so) or one inside it ("tc/NAME"); *base is name's last part. */
static int state_dir_of(const char *name, const char **base, int flags)
{
	const char *slash = strchr(name, '/');
	char sub[NAME_MAX + 1];
	size_t n;

	*base = slash ? slash + 1 : name;
	if (!slash)
		return state_dir(flags);
	n = (size_t)(slash - name);
	if (n >= sizeof(sub) || strchr(*base, '/'))
		return -EINVAL;
	memcpy(sub, name, n);
	sub[n] = '\0';
	return state_subdir(sub, flags);
}

const char *cf_state_strerror(int err)
{
	if (err == -ELOOP)
		return "a symbolic link, not followed";
	if (err == -EPERM)
		return "not a regular file root alone owns and can write";
	return strerror(-err);
}

int cf_state_open(const char *name, int flags, unsigned mode)
{
	const char *base;
	int dir, fd;

	dir = state_dir_of(name, &base, 0);
	if (dir < 0)
		return dir;
	fd = cf_safedir_file(dir, base, flags, mode);
	close(dir);
	return fd;
}

int cf_state_opendir(const char *sub)
{
	return state_subdir(sub, 0);
}

int cf_state_mkdir(const char *sub)
{
	struct cf_err e = {};
	int dir, fd = -1;

	dir = state_dir(CF_SAFEDIR_CREATE);
	if (dir < 0)
		return dir;
	if (sub)
		fd = cf_safedir_openat(dir, cf_g.state_dir, sub,
				       CF_SAFEDIR_CREATE, &e);
	close(dir);
	if (sub && fd < 0) {
		pr_err("cannot use the state directory %s: %s", cf_g.state_dir,
		       e.msg);
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * Everything that pins or unpins holds this lock (attach, detach, push,
 * the daemon's reconciling), so the pin tree is checked here too: under
 * the lock nobody but root can change it, camfence included.
 */
int cf_state_lock(void)
{
	int dir, fd, err;

	dir = state_dir(CF_SAFEDIR_CREATE);
	if (dir < 0)
		return dir;
	fd = cf_safedir_file(dir, "lock", O_RDWR | O_CREAT, 0600);
	close(dir);
	err = fd < 0 ? fd : flock(fd, LOCK_EX) ? -errno : 0;
	if (err) {
		pr_err("cannot lock %s/lock: %s", cf_g.state_dir,
		       cf_state_strerror(err));
		goto out;
	}
	err = cf_pin_tree_check();
out:
	if (err && fd >= 0)
		close(fd);
	return err ?: fd;
}

void cf_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* A new file beside name, never one already there, renamed over it. */
int cf_state_write(const char *name, const void *data, size_t len)
{
	char tmp[NAME_MAX + 1];
	const char *base;
	int dir, fd, err;

	dir = state_dir_of(name, &base, CF_SAFEDIR_CREATE);
	if (dir == -ENOENT)
		pr_err("cannot write %s/%s: %s", cf_g.state_dir, name,
		       strerror(ENOENT));
	if (dir < 0)
		return dir;
	fd = cf_safedir_tmpfile(dir, base, tmp, sizeof(tmp));
	if (fd < 0) {
		err = fd;
		goto out;
	}
	err = cf_write_all(fd, data, len);
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && renameat(dir, tmp, dir, base))
		err = -errno;
	if (err)
		unlinkat(dir, tmp, 0);
out:
	if (err)
		pr_err("cannot write %s/%s: %s", cf_g.state_dir, name,
		       strerror(-err));
	close(dir);
	return err;
}

int cf_state_fopen(const char *name, FILE **f)
{
	int fd, err;

	fd = cf_state_open(name, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	*f = fdopen(fd, "r");
	if (!*f) {
		err = -errno;
		close(fd);
		return err;
	}
	return 0;
}

int cf_state_read(const char *name, char **data, size_t *len)
{
	FILE *f;
	int err;

	err = cf_state_fopen(name, &f);
	if (err)
		return err;
	*data = NULL;
	*len = 0;
	err = getdelim(data, len, '\0', f) < 0 && ferror(f) ? -EIO : 0;
	if (!err && !*data)
		err = -ENOMEM;
	if (!err)
		*len = strlen(*data);
	fclose(f);
	if (err) {
		free(*data);
		*data = NULL;
	}
	return err;
}

int cf_state_remove(const char *name)
{
	const char *base;
	int dir, err = 0;

	dir = state_dir_of(name, &base, 0);
	if (dir < 0)
		return dir == -ENOENT ? 0 : dir;
	if (unlinkat(dir, base, 0) && errno != ENOENT)
		err = -errno;
	close(dir);
	return err;
}

void cf_state_rmdir(const char *name)
{
	int dir = state_dir(0);

	if (dir < 0)
		return;
	unlinkat(dir, name, AT_REMOVEDIR);
	close(dir);
}

void cf_digest_hex(const uint8_t digest[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", digest[i]);
	out[64] = '\0';
}

/* One "key=value" line of the active file. */
static void active_field(struct cf_active *a, const char *key,
			 const char *val)
{
	if (!strcmp(key, "path"))
		snprintf(a->path, sizeof(a->path), "%s", val);
	else if (!strcmp(key, "digest"))
		snprintf(a->digest, sizeof(a->digest), "%s", val);
	else if (!strcmp(key, "generation"))
		a->generation = strtoull(val, NULL, 10);
	else if (!strcmp(key, "pushed_at"))
		a->pushed_at = (time_t)strtoll(val, NULL, 10);
}

int cf_active_read(struct cf_active *a)
{
	char *text, *line, *save, *eq;
	size_t len;
	int err;

	memset(a, 0, sizeof(*a));
	err = cf_state_read("active", &text, &len);
	if (err)
		return err;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		active_field(a, line, eq + 1);
	}
	free(text);
	return 0;
}

int cf_active_write(const struct cf_active *a)
{
	char buf[PATH_MAX + 256];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "path=%s\ndigest=%s\ngeneration=%" PRIu64
		     "\npushed_at=%lld\n",
		     a->path, a->digest, a->generation,
		     (long long)a->pushed_at);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	return cf_state_write("active", buf, (size_t)n);
}
