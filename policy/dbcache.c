// SPDX-License-Identifier: GPL-2.0-only
/*
 * dbcache.c - the layered records of a policy's databases, kept in a file.
 *
 * Reading the packaged location.db and layering it costs ~650 ms, nearly
 * all of a push, yet a change of rules alone does not change it.  So the
 * layered lists are written, as the struct cf_rec arrays they are in
 * memory, behind a header naming every database by path, format, device,
 * inode, size, mtime and ctime (a rewrite in place moves both times, and
 * no unprivileged process can set ctime back).  A later load whose
 * databases all match maps the file instead of reading them; anything
 * else - another database, a touched one, another build of camfence (the
 * record size and version are in the header) - misses and rewrites it.
 *
 * The file is written whole or not at all (a temporary file, then
 * rename), so a reader sees the old cache or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbcache.h"
#include "fileio.h"
#include "safedir.h"

#define DBC_MAGIC 0x3143424443464300ull /* "\0CFDBC1" */
#define DBC_VERSION 1

struct dbc_key {
	char path[PATH_MAX];
	uint32_t format;
	uint32_t pad;
	uint64_t dev, ino, size;
	int64_t mtime[2], ctime[2];
};

struct dbc_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t rec_size;
	uint64_t n_dbs;
	uint64_t n_v4, n_v6;
	uint64_t pad[3];
};

/* Records are read in place: they must stay aligned for cf_u128. */
_Static_assert(sizeof(struct dbc_hdr) % _Alignof(struct cf_rec) == 0,
	       "cache header breaks record alignment");
_Static_assert(sizeof(struct dbc_key) % _Alignof(struct cf_rec) == 0,
	       "cache key breaks record alignment");

static char dbc_path[PATH_MAX];

void cf_dbset_cache(const char *path)
{
	snprintf(dbc_path, sizeof(dbc_path), "%s", path ? path : "");
}

/* The identity of every database the policy names, as the header holds it. */
static int dbc_keys(const struct cf_policy *p, struct dbc_key **out)
{
	struct dbc_key *k = calloc(p->n_dbs ? p->n_dbs : 1, sizeof(*k));
	struct stat st;

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_dbs; i++) {
		if (stat(p->dbs[i].path, &st) ||
		    strlen(p->dbs[i].path) >= sizeof(k[i].path)) {
			free(k);
			return -ENOENT;
		}
		strcpy(k[i].path, p->dbs[i].path);
		k[i].format = p->dbs[i].format;
		k[i].dev = st.st_dev;
		k[i].ino = st.st_ino;
		k[i].size = st.st_size;
		k[i].mtime[0] = st.st_mtim.tv_sec;
		k[i].mtime[1] = st.st_mtim.tv_nsec;
		k[i].ctime[0] = st.st_ctim.tv_sec;
		k[i].ctime[1] = st.st_ctim.tv_nsec;
	}
	*out = k;
	return 0;
}

static size_t dbc_size(const struct dbc_hdr *h)
{
	return sizeof(*h) + h->n_dbs * sizeof(struct dbc_key) +
	       (h->n_v4 + h->n_v6) * sizeof(struct cf_rec);
}

static bool dbc_valid(const void *map, size_t len, const struct cf_policy *p,
		      const struct dbc_key *want)
{
	const struct dbc_hdr *h = map;

	return len >= sizeof(*h) && h->magic == DBC_MAGIC &&
	       h->version == DBC_VERSION &&
	       h->rec_size == sizeof(struct cf_rec) && h->n_dbs == p->n_dbs &&
	       h->n_v4 <= len / sizeof(struct cf_rec) &&
	       h->n_v6 <= len / sizeof(struct cf_rec) &&
	       h->n_dbs <= len / sizeof(struct dbc_key) &&
	       dbc_size(h) == len &&
	       !memcmp(h + 1, want, p->n_dbs * sizeof(*want));
}

/* Point s's record lists into the mapped file. */
static void dbc_view(struct cf_dbset *s, void *map, size_t len)
{
	const struct dbc_hdr *h = map;
	struct cf_rec *r = (struct cf_rec *)((char *)map + sizeof(*h) +
					     h->n_dbs * sizeof(struct dbc_key));

	s->map = map;
	s->map_len = len;
	s->v4 = (struct cf_reclist){ .v = r, .n = h->n_v4 };
	s->v6 = (struct cf_reclist){ .v = r + h->n_v4, .n = h->n_v6 };
}

int cf_dbcache_map(const struct cf_policy *p, const struct dbc_key *want,
		   struct cf_dbset *s)
{
	struct stat st;
	void *map;
	int fd, err = 0;

	if (!dbc_path[0] || !want)
		return -ENOENT;
	/* never through a symbolic link, nor a file that is not root's */
	fd = cf_safedir_file(AT_FDCWD, dbc_path, O_RDONLY, 0);
	if (fd < 0 || fstat(fd, &st) ||
	    st.st_size < (off_t)sizeof(struct dbc_hdr)) {
		err = -ENOENT;
		goto out;
	}
	/* populated at once: compile reads every record anyway */
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
		   0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto out;
	}
	if (!dbc_valid(map, st.st_size, p, want)) {
		munmap(map, st.st_size);
		err = -ESTALE;
		goto out;
	}
	dbc_view(s, map, st.st_size);
out:
	if (fd >= 0)
		close(fd);
	return err;
}

static int dbc_write(int fd, const struct cf_policy *p,
		     const struct dbc_key *keys, const struct cf_dbset *s)
{
	struct dbc_hdr h = {
		.magic = DBC_MAGIC,
		.version = DBC_VERSION,
		.rec_size = sizeof(struct cf_rec),
		.n_dbs = p->n_dbs,
		.n_v4 = s->v4.n,
		.n_v6 = s->v6.n,
	};

	return cf_write_all(fd, &h, sizeof(h)) ?:
	       cf_write_all(fd, keys, p->n_dbs * sizeof(*keys)) ?:
	       cf_write_all(fd, s->v4.v, s->v4.n * sizeof(struct cf_rec)) ?:
	       cf_write_all(fd, s->v6.v, s->v6.n * sizeof(struct cf_rec));
}

/*
 * keys were taken before the databases were read: if one was replaced in
 * between, the cache names the old file and the next load just misses.
 */
int cf_dbcache_save(const struct cf_policy *p, const struct dbc_key *keys,
		    const struct cf_dbset *s)
{
	char tmp[PATH_MAX + 16];
	int fd, err;

	if (!dbc_path[0] || !keys)
		return 0;
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", dbc_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC); /* 0600 */
	if (fd < 0)
		return -errno;
	err = dbc_write(fd, p, keys, s);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, dbc_path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

struct dbc_key *cf_dbcache_keys(const struct cf_policy *p)
{
	struct dbc_key *k = NULL;

	if (dbc_path[0] && dbc_keys(p, &k))
		k = NULL;
	return k;
}
