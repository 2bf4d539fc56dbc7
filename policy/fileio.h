/* SPDX-License-Identifier: GPL-2.0-only */
/* fileio.h - small file helpers the policy library and the loader share. */
#ifndef CF_FILEIO_H
#define CF_FILEIO_H

#include <stddef.h>

/*
 * Write all of buf to fd, retrying short writes and EINTR; 0 or a
 * negative errno (-EIO if the file takes nothing).
 */
int cf_write_all(int fd, const void *buf, size_t len);

#endif /* CF_FILEIO_H */
