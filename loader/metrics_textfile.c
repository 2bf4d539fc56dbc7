// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_textfile.c - the exposition as a node_exporter textfile.
 *
 * The file is replaced by a rename (cf_replace_file), so the collector
 * never reads half of one.  Its directory is often writable by the
 * collector's user too, which is why the temporary file gets a fresh
 * random name, created O_EXCL: a file or symlink planted at a name we
 * would use is never opened, and cannot make the write fail either (a
 * fixed name could be taken first).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fileio.h"
#include "log.h"
#include "metrics.h"

int cf_metrics_textfile(const char *path, unsigned mode,
			const struct cf_runtime *rt)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = cf_metrics_render_mem(rt, &buf, &len);
	if (err)
		goto out;
	err = cf_replace_file(path, buf, len, (mode_t)mode);
	if (err == -ENAMETOOLONG) {
		pr_err("textfile path '%s' is too long", path);
		err = -EINVAL;
	} else if (err) {
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
