/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbcache.h - inside policy/: dbset.c keeps its layered records in the
 * file cf_dbset_cache() names (compile.h); see dbcache.c.
 */
#ifndef CF_DBCACHE_H
#define CF_DBCACHE_H

#include "compile.h"

struct dbc_key;

/*
 * The identity of the policy's databases now, before they are read; NULL
 * when there is no cache file or a database cannot be named (the load
 * then reports it).  free() it.
 */
struct dbc_key *cf_dbcache_keys(const struct cf_policy *p);

/*
 * Point s->v4 and s->v6 into the cache file (s->map) when it holds these
 * databases; -ENOENT or -ESTALE when it does not.
 */
int cf_dbcache_map(const struct cf_policy *p, const struct dbc_key *keys,
		   struct cf_dbset *s);

/* Write s's records as the cache for keys; 0 when there is no cache. */
int cf_dbcache_save(const struct cf_policy *p, const struct dbc_key *keys,
		    const struct cf_dbset *s);

#endif /* CF_DBCACHE_H */
