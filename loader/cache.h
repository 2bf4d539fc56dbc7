/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cache.h - the cache directory: what camfence could compute again from
 * the databases but would rather not.
 */
#ifndef CF_CACHE_H
#define CF_CACHE_H

/*
 * Point the policy library's caches into the cache directory (--cache,
 * CAMFENCE_CACHE_DIR, default CF_CACHE_DIR_DEFAULT; "none" turns them
 * off): libloc databases already verified, and the layered records of
 * the last databases read.  Whoever writes there decides what every
 * address is, so only root uses it, and only a directory nobody but root
 * can change or replace (safedir.h: root's, writable by root alone, no
 * symbolic link, every directory on the way root's and not writable by
 * others unless sticky); it is created 0700 when missing.  Otherwise the
 * caches stay off, which costs time, never correctness.
 */
void cf_cache_setup(void);

#endif /* CF_CACHE_H */
