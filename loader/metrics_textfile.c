// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_textfile.c - the exposition as a node_exporter textfile.
 *
 * The file is replaced by a rename, so the collector never reads half of
 * one.  Its directory is often writable by the collector's user too, so
 * the temporary file gets a fresh random name, created O_EXCL: a file or
 * symlink planted at a name we would use is never opened, and cannot make
 * the write fail either (a fixed name could be taken first).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "metrics.h"

/*
 * Write buf to a new file named after the template tmp ("PATH.tmp.XXXXXX")
 * and rename it over path; nothing is left behind on failure.
 */
static int replace(const char *path, char *tmp, unsigned mode, const char *buf,
		   size_t len)
{
	int fd, err = 0;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* created 0600: the asked mode whatever the umask */
	if (fchmod(fd, (mode_t)mode))
		err = -errno;
	err = err ?: cf_write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int cf_metrics_textfile(const char *path, unsigned mode,
			const struct cf_runtime *rt)
{
	char tmp[PATH_MAX], *buf = NULL;
	size_t len = 0;
	int err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp)) {
		pr_err("textfile path '%s' is too long", path);
		return -EINVAL;
	}
	err = cf_metrics_render_mem(rt, &buf, &len);
	if (err)
		goto out;
	err = replace(path, tmp, mode, buf, len);
	if (err) {
		pr_err("cannot write the metrics to %s: %s", path,
		       strerror(-err));
		/* a missing directory is a bad path, not "not loaded" */
		if (err == -ENOENT || err == -ENOTDIR)
			err = -EINVAL;
	}
out:
	free(buf);
	return err;
}
