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

static int mkdir_one(const char *dir)
{
	if (mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		pr_err("cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	return 0;
}

int cf_state_mkdir(const char *sub)
{
	char path[PATH_MAX];
	int err;

	err = mkdir_one(cf_g.state_dir);
	if (err || !sub)
		return err;
	err = cf_state_path(path, sizeof(path), sub);
	return err ?: mkdir_one(path);
}

int cf_state_lock(void)
{
	char path[PATH_MAX];
	int fd, err;

	err = cf_state_mkdir(NULL) ?: cf_state_path(path, sizeof(path), "lock");
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		err = -errno;
		pr_err("cannot lock %s: %s", path, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

void cf_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

int cf_state_write(const char *name, const void *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	int fd, err;

	err = cf_state_mkdir(NULL) ?: cf_state_path(path, sizeof(path), name);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = cf_write_all(fd, data, len);
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
out:
	if (err) {
		unlink(tmp);
		pr_err("cannot write %s: %s", path, strerror(-err));
	}
	return err;
}

int cf_state_read(const char *name, char **data, size_t *len)
{
	char path[PATH_MAX];
	FILE *f;
	int err;

	err = cf_state_path(path, sizeof(path), name);
	if (err)
		return err;
	f = fopen(path, "re");
	if (!f)
		return -errno;
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
	char path[PATH_MAX];
	int err;

	err = cf_state_path(path, sizeof(path), name);
	if (!err && unlink(path) && errno != ENOENT)
		err = -errno;
	return err;
}

void cf_state_rmdir(const char *name)
{
	char path[PATH_MAX];

	if (!cf_state_path(path, sizeof(path), name))
		rmdir(path);
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
