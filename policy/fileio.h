/* SPDX-License-Identifier: GPL-2.0-only */
/* fileio.h - small file helpers the policy library and the loader share. */
#ifndef CF_FILEIO_H
#define CF_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write all of buf to fd, retrying short writes and EINTR; 0 or a
 * negative errno (-EIO if the file takes nothing).
 */
int cf_write_all(int fd, const void *buf, size_t len);

/*
 * Replace path with buf, mode `mode` whatever the umask, so that a reader
 * sees the old file or the new, never half of one: the bytes go to a new
 * file beside it ("PATH.tmp.XXXXXX", created exclusively, so nothing
 * planted at a guessable name is opened), synced, then renamed over path.
 * Nothing is left behind on failure.  0 or a negative errno.
 */
int cf_replace_file(const char *path, const void *buf, size_t len,
		    mode_t mode);

#endif /* CF_FILEIO_H */
