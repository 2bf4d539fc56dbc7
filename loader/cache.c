// SPDX-License-Identifier: GPL-2.0-only
/*
 * cache.c - the cache directory (cache.h).
 *
 * Two files live there: "libloc-verified" (policy/db_libloc.c: libloc's
 * signature check costs ~2.7 s on the packaged database) and "records"
 * (policy/dbcache.c: reading and layering the databases costs ~650 ms).
 * A push whose databases are unchanged then costs the compile and the
 * switch only.  Being a cache, it survives reboots (/var/cache) and may be
 * deleted at any time.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "compile.h"
#include "db.h"
#include "log.h"
#include "main.h"
#include "safedir.h"

/*
 * Checked (safedir.h) at every load, since the daemon lives longer than
 * any one check: every directory on the way root's and replaceable by
 * nobody else, the cache itself no symbolic link and writable by root
 * alone.  The files in it are then opened by path, without following a
 * symbolic link and only if root's (dbcache.c, db_libloc.c).
 */
static bool cache_dir_ok(const char *dir)
{
	struct cf_err e = {};
	int fd;

	fd = cf_safedir_open(dir, CF_SAFEDIR_CREATE, &e);
	if (fd < 0) {
		pr_debug("cache %s off: %s", dir, e.msg);
		return false;
	}
	close(fd);
	return true;
}

void cf_cache_setup(void)
{
	const char *dir = cf_g.cache_dir;
	char verified[PATH_MAX], records[PATH_MAX];

	/* off unless this check passes, whatever an earlier load found */
	cf_db_verify_cache(NULL);
	cf_dbset_cache(NULL);
	if (geteuid() || !dir[0] || !strcmp(dir, "none") ||
	    snprintf(verified, sizeof(verified), "%s/libloc-verified", dir) >=
		    (int)sizeof(verified) ||
	    snprintf(records, sizeof(records), "%s/records", dir) >=
		    (int)sizeof(records) ||
	    !cache_dir_ok(dir))
		return;
	cf_db_verify_cache(verified);
	cf_dbset_cache(records);
}
