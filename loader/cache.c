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
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "compile.h"
#include "db.h"
#include "log.h"
#include "main.h"

static bool cache_dir_ok(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		pr_debug("cache %s off: %s", dir, strerror(errno));
		return false;
	}
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022)) {
		pr_debug("cache %s off: not a directory only root writes", dir);
		return false;
	}
	return true;
}

void cf_cache_setup(void)
{
	const char *dir = cf_g.cache_dir;
	char verified[PATH_MAX], records[PATH_MAX];

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
