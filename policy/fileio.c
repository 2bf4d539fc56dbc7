// SPDX-License-Identifier: GPL-2.0-only
/*
 * fileio.c - small file helpers (fileio.h).
 */
#include <errno.h>
#include <unistd.h>

#include "fileio.h"

int cf_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
