// SPDX-License-Identifier: GPL-2.0-only
/*
 * db_libloc.c - read IPFire's location.db through libloc.
 *
 * The database holds nested networks (a /8 and, inside it, the /24s that
 * differ from it); a lookup answers with the most specific one.  libloc can
 * flatten them itself (LOC_DB_ENUMERATOR_FLAGS_FLATTEN), but in libloc
 * 0.9.16 that takes ~9 s for IPv4 and ~45 s for IPv6 on the packaged
 * database, against ~0.3 s each for the plain enumeration.  So we take the
 * plain enumeration, which comes in tree order (by first address, a network
 * before the networks inside it), and flatten it with a stack.
 *
 * The database is signed.  When the signing key is there (Debian's
 * `location` package installs it), a database that does not verify against
 * it is refused before anything is read from it; see ll_verify().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libloc/libloc.h>
#include <libloc/as.h>
#include <libloc/database.h>
#include <libloc/network.h>

#include "db.h"
#include "db_int.h"
#include "safedir.h"

/*
 * The header of a version 1 database, big endian, after the 8-byte magic:
 * created_at (8), vendor, description, license (4 each), then five
 * (offset, length) pairs of 4 bytes, two signature lengths (2 each), two
 * signatures of 2048 bytes and 32 bytes of padding.  libloc 0.9.16 trusts
 * the header and reads garbage from a truncated file, so check it first.
 */
#define LL_MAGIC_LEN 8
#define LL_SECTIONS_AT (LL_MAGIC_LEN + 20)
#define LL_HEADER_END (LL_MAGIC_LEN + 64 + 2 * 2048 + 32)
#define LL_TREE 2 /* the network tree's (offset, length) pair */
#define LL_SIGLENS_AT (LL_SECTIONS_AT + 40)

const char *cf_libloc_key_default = "/var/lib/location/signing-key.pem";

/* What a verification was about: a file's identity and its last change. */
struct ll_ident {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
	struct timespec ctim;
};

struct ll_priv {
	struct loc_ctx *ctx;
	struct loc_database *db;
	FILE *f;
	bool is_signed;	       /* the header states a signature */
	char note[320];	       /* what ll_verify did, for -v */
	struct cf_asmap names; /* copies: libloc frees its own with the AS */
};

/* Keep libloc quiet; our errors say what went wrong. */
static void ll_log(struct loc_ctx *ctx, int prio, const char *file, int line,
		   const char *fn, const char *fmt, va_list ap)
{
	(void)ctx, (void)prio, (void)file, (void)line, (void)fn, (void)fmt;
	(void)ap;
}

static int ll_check_header(struct cf_db *db, FILE *f, bool *is_signed,
			   struct cf_err *e)
{
	static const char *const sect[] = { "AS", "network data",
					    "network tree", "country",
					    "string pool" };
	uint8_t h[LL_SIGLENS_AT + 4];
	struct stat st;
	unsigned i;

	if (fstat(fileno(f), &st))
		return cf_err_set(e, errno, db->path, 0, 0, "%s",
				  strerror(errno));
	if (fread(h, 1, sizeof(h), f) != sizeof(h) ||
	    st.st_size < LL_HEADER_END)
		return cf_err_set(e, EINVAL, db->path, 0, 0,
				  "corrupt libloc database: truncated header");
	if (h[7] != 1)
		return cf_err_set(e, EINVAL, db->path, 0, 0,
				  "unsupported libloc database version %u",
				  h[7]);
	for (i = 0; i < 5; i++) {
		uint64_t off = cf_db_be(h + LL_SECTIONS_AT + 8 * i, 4);
		uint64_t len = cf_db_be(h + LL_SECTIONS_AT + 8 * i + 4, 4);

		if (off + len > (uint64_t)st.st_size)
			return cf_err_set(
				e, EINVAL, db->path, 0, 0,
				"corrupt libloc database: %s section ends past the end of the file (truncated?)",
				sect[i]);
		if (!len && i == LL_TREE)
			return cf_err_set(
				e, EINVAL, db->path, 0, 0,
				"corrupt libloc database: no network tree");
	}
	*is_signed = cf_db_be(h + LL_SIGLENS_AT, 4) != 0;
	rewind(f);
	return 0;
}

static bool ll_ident(int fd, struct ll_ident *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (fstat(fd, &st))
		return false;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtim = st.st_mtim;
	id->ctim = st.st_ctim;
	return true;
}

/*
 * libloc 0.9.16 hex-formats every byte it hashes, whatever the log level:
 * a verification of the 55 MB packaged database costs ~2.7 s, more than a
 * whole push.  So the last database and key that verified are remembered,
 * by identity and change times (a rewrite in place moves mtime and ctime,
 * which no unprivileged process can set back; a replacement changes the
 * inode): in the process for a daemon's reloads, and in the file
 * cf_db_verify_cache() names for one-shot commands.  The loader puts that
 * file in its root-only state directory.  One entry, no threads.
 */
#define LL_VERIFIED_MAGIC 0x43465631u /* "CFV1" */

struct ll_verified {
	uint32_t magic;
	uint32_t pad;
	struct ll_ident db, key;
	char key_path[PATH_MAX];
};

static struct ll_verified ll_verified;
static char ll_cache_path[PATH_MAX];

void cf_db_verify_cache(const char *path)
{
	snprintf(ll_cache_path, sizeof(ll_cache_path), "%s", path ? path : "");
}

static bool ll_matches(const struct ll_verified *v, const struct ll_ident id[2],
		       const char *key)
{
	return v->magic == LL_VERIFIED_MAGIC && !strcmp(v->key_path, key) &&
	       !memcmp(&v->db, &id[0], sizeof(id[0])) &&
	       !memcmp(&v->key, &id[1], sizeof(id[1]));
}

static bool ll_verified_before(const struct ll_ident id[2], const char *key)
{
	struct ll_verified v;
	bool ok = false;
	FILE *f;
	int fd;

	if (ll_matches(&ll_verified, id, key))
		return true;
	/* never through a symbolic link, nor a file that is not root's */
	fd = ll_cache_path[0] ?
		     cf_safedir_file(AT_FDCWD, ll_cache_path, O_RDONLY, 0) :
		     -1;
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (fread(&v, sizeof(v), 1, f) == 1) {
		v.key_path[sizeof(v.key_path) - 1] = '\0';
		ok = ll_matches(&v, id, key);
	}
	fclose(f);
	if (ok)
		ll_verified = v;
	return ok;
}

/* Write the cache file whole or not at all: a new tmp file (mkostemp's
 * O_EXCL: nothing already there is followed), then rename. */
static void ll_save(const struct ll_verified *v)
{
	char tmp[PATH_MAX + 8];
	FILE *f;
	int fd, ok;

	if (!ll_cache_path[0] ||
	    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", ll_cache_path) >=
		    (int)sizeof(tmp))
		return;
	fd = mkostemp(tmp, O_CLOEXEC); /* 0600 */
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return;
	}
	ok = fwrite(v, sizeof(*v), 1, f) == 1;
	ok = !fclose(f) && ok;
	if (!ok || rename(tmp, ll_cache_path))
		unlink(tmp);
}

static void ll_remember(const struct ll_ident id[2], const char *key)
{
	memset(&ll_verified, 0, sizeof(ll_verified));
	if (strlen(key) >= sizeof(ll_verified.key_path))
		return;
	ll_verified.magic = LL_VERIFIED_MAGIC;
	ll_verified.db = id[0];
	ll_verified.key = id[1];
	strcpy(ll_verified.key_path, key);
	ll_save(&ll_verified);
}

static bool env_set(const char *name)
{
	const char *s = getenv(name);

	return s && *s && strcmp(s, "0");
}

const char *cf_db_signing_key(void)
{
	const char *env = getenv("CAMFENCE_LOCATION_KEY");

	if (env_set("CAMFENCE_NO_VERIFY"))
		return NULL;
	if (env && *env)
		return env;
	if (access(cf_libloc_key_default, F_OK) && errno == ENOENT)
		return NULL;
	return cf_libloc_key_default;
}

/*
 * The key: CAMFENCE_LOCATION_KEY when set (it must then be readable),
 * else the default when it exists.  *kf NULL: do not verify, and why is
 * in the note.  An untyped database that was let in because a key was
 * there (db->must_verify) is refused if the key is gone by now.
 */
static int ll_open_key(struct cf_db *db, const char **key, FILE **kf,
		       struct cf_err *e)
{
	struct ll_priv *p = db->priv;
	const char *env = getenv("CAMFENCE_LOCATION_KEY");

	*kf = NULL;
	*key = env && *env ? env : cf_libloc_key_default;
	if (env_set("CAMFENCE_NO_VERIFY")) {
		snprintf(p->note, sizeof(p->note),
			 "signature not verified: CAMFENCE_NO_VERIFY is set");
		return 0;
	}
	*kf = fopen(*key, "re");
	if (*kf)
		return 0;
	if (errno == ENOENT && *key == cf_libloc_key_default &&
	    !db->must_verify) {
		snprintf(p->note, sizeof(p->note),
			 "signature not verified: no signing key %s", *key);
		return 0;
	}
	return cf_db_distrust(db, e, "cannot open the signing key %s: %s", *key,
			      strerror(errno));
}

static double ll_secs(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* libloc's check proper: 0 when a signature holds for key. */
static int ll_check_sig(struct cf_db *db, FILE *kf, const char *key,
			struct cf_err *e)
{
	struct ll_priv *p = db->priv;
	struct timespec t0, t1;
	int r;

	if (!p->is_signed)
		return cf_db_distrust(
			db, e,
			"signature verification failed with %s: the database is not signed (CAMFENCE_NO_VERIFY=1 to use it anyway)",
			key);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = loc_database_verify(p->db, kf);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r < 0)
		return cf_db_distrust(
			db, e,
			"cannot use the signing key %s: not a PEM public key",
			key);
	if (r)
		return cf_db_distrust(
			db, e, "signature verification failed with %s", key);
	snprintf(p->note, sizeof(p->note),
		 "signature verified with %s in %.2f s", key,
		 ll_secs(&t0, &t1));
	return 0;
}

/* Verify the signature when there is a key; a failure refuses the file. */
static int ll_verify(struct cf_db *db, struct cf_err *e)
{
	struct ll_priv *p = db->priv;
	struct ll_ident id[2];
	const char *key;
	bool known;
	FILE *kf;
	int err;

	err = ll_open_key(db, &key, &kf, e);
	if (err || !kf)
		return err;
	known = ll_ident(fileno(p->f), &id[0]) && ll_ident(fileno(kf), &id[1]);
	if (known && ll_verified_before(id, key)) {
		snprintf(p->note, sizeof(p->note),
			 "signature verified with %s earlier; file unchanged",
			 key);
	} else {
		err = ll_check_sig(db, kf, key, e);
		if (!err && known)
			ll_remember(id, key);
	}
	fclose(kf);
	return err;
}

const char *cf_db_verify_note(const struct cf_db *db)
{
	const struct ll_priv *p = db->priv;

	if (db->ops != &cf_db_libloc_ops || !p || !p->note[0])
		return NULL;
	return p->note;
}

static void ll_close(struct cf_db *db)
{
	struct ll_priv *p = db->priv;

	if (!p)
		return;
	if (p->db)
		loc_database_unref(p->db);
	if (p->ctx)
		loc_unref(p->ctx);
	if (p->f)
		fclose(p->f);
	cf_asmap_free(&p->names);
	free(p);
	db->priv = NULL;
}

static int ll_open(struct cf_db *db, struct cf_err *e)
{
	struct ll_priv *p;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return cf_err_set(e, ENOMEM, db->path, 0, 0, "out of memory");
	db->priv = p;
	p->f = fopen(db->path, "re");
	if (!p->f) {
		err = cf_err_set(e, errno, db->path, 0, 0, "%s",
				 strerror(errno));
		goto out;
	}
	err = ll_check_header(db, p->f, &p->is_signed, e);
	if (err)
		goto out;
	if (loc_new(&p->ctx)) {
		err = cf_err_set(e, ENOMEM, db->path, 0, 0,
				 "cannot create a libloc context");
		goto out;
	}
	loc_set_log_fn(p->ctx, ll_log);
	if (loc_database_new(p->ctx, &p->db, p->f)) {
		p->db = NULL;
		err = cf_err_set(e, EINVAL, db->path, 0, 0,
				 "corrupt libloc database");
		goto out;
	}
	err = ll_verify(db, e);
	if (err)
		goto out;
	db->built_at = loc_database_created_at(p->db);
out:
	if (err)
		ll_close(db);
	return err;
}

/* Flattening: the stack holds the networks containing the current one. */
struct ll_flat {
	struct cf_db *db;
	struct cf_err *e;
	struct cf_reclist *out;
	size_t base;
	int family;
	cf_u128 max; /* the family's last address */
	cf_u128 cur; /* the first address not emitted yet */
	bool full; /* everything up to max is emitted */
	struct cf_rec prev; /* the network pushed last */
	unsigned depth;
	struct cf_rec stack[129];
};

/* Emit r's attributes from cur up to last (if cur has not passed it). */
static int flat_emit(struct ll_flat *f, const struct cf_rec *r, cf_u128 last)
{
	struct cf_rec piece = *r;

	if (f->full || f->cur > last)
		return 0;
	piece.first = f->cur;
	piece.last = last;
	f->full = last == f->max;
	f->cur = last + 1;
	return cf_db_emit(f->out, f->base, &piece);
}

static int flat_corrupt(struct ll_flat *f, const struct cf_rec *n)
{
	char buf[CF_ADDR_STRLEN];

	return cf_err_set(
		f->e, EINVAL, f->db->path, 0, 0,
		"corrupt libloc database: network at %s overlaps another",
		cf_addr_format(n->first, n->family, buf));
}

/*
 * Take the next network in tree order.  -EAGAIN: the order is not tree
 * order after all (the caller sorts and starts again).
 */
static int flat_push(struct ll_flat *f, const struct cf_rec *n)
{
	struct cf_rec *top;
	int err;

	if (f->depth && (n->first < f->prev.first ||
			 (n->first == f->prev.first && n->last > f->prev.last)))
		return -EAGAIN;
	f->prev = *n;
	for (; f->depth; f->depth--) {
		top = &f->stack[f->depth - 1];
		if (top->last >= n->first)
			break;
		err = flat_emit(f, top, top->last);
		if (err)
			return err;
	}
	if (f->depth) {
		top = &f->stack[f->depth - 1];
		if (n->last > top->last || f->depth == ARRAY_SIZE(f->stack))
			return flat_corrupt(f, n);
		if (n->first && (err = flat_emit(f, top, n->first - 1)))
			return err;
	}
	f->cur = n->first;
	f->stack[f->depth++] = *n;
	return 0;
}

static int flat_finish(struct ll_flat *f)
{
	int err;

	for (; f->depth; f->depth--) {
		err = flat_emit(f, &f->stack[f->depth - 1],
				f->stack[f->depth - 1].last);
		if (err)
			return err;
	}
	return 0;
}

static int ll_rec(struct loc_network *n, int family, struct cf_rec *r)
{
	const uint8_t *a = loc_network_get_first_address(n)->s6_addr;
	const uint8_t *b = loc_network_get_last_address(n)->s6_addr;
	unsigned off = family == CF_AF_V4 ? 12 : 0;
	const char *cc = loc_network_get_country_code(n);
	int af = family == CF_AF_V4 ? AF_INET : AF_INET6;

	if (loc_network_address_family(n) != af)
		return -ENOENT;
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->first = cf_db_be(a + off, 16 - off);
	r->last = cf_db_be(b + off, 16 - off);
	if (cc)
		cf_db_set_cc(r, cc, strlen(cc));
	r->asn = loc_network_get_asn(n);
	if (r->asn)
		r->has |= CF_HAS_ASN;
	return 0;
}

typedef int (*ll_fn)(void *arg, const struct cf_rec *r);

/* Call fn for every network of a family, in the database's order. */
static int ll_enumerate(struct cf_db *db, int family, ll_fn fn, void *arg,
			struct cf_err *e)
{
	struct ll_priv *p = db->priv;
	struct loc_database_enumerator *en = NULL;
	struct loc_network *n;
	struct cf_rec r;
	int err;

	if (loc_database_enumerator_new(&en, p->db, LOC_DB_ENUMERATE_NETWORKS,
					0) ||
	    loc_database_enumerator_set_family(
		    en, family == CF_AF_V4 ? AF_INET : AF_INET6)) {
		err = cf_err_set(e, ENOMEM, db->path, 0, 0,
				 "cannot enumerate the networks");
		goto out;
	}
	for (;;) {
		n = NULL;
		if (loc_database_enumerator_next_network(en, &n)) {
			err = cf_err_set(
				e, EINVAL, db->path, 0, 0,
				"corrupt libloc database: cannot read the network tree");
			break;
		}
		if (!n) {
			err = 0;
			break;
		}
		err = ll_rec(n, family, &r) ? 0 : fn(arg, &r);
		loc_network_unref(n);
		if (err)
			break;
	}
out:
	if (en)
		loc_database_enumerator_unref(en);
	return err;
}

static int flat_cb(void *arg, const struct cf_rec *r)
{
	return flat_push(arg, r);
}

static int collect_cb(void *arg, const struct cf_rec *r)
{
	return cf_reclist_push(arg, r);
}

/* Tree order: by first address, a network before those inside it. */
static int tree_order(const void *x, const void *y)
{
	const struct cf_rec *a = x, *b = y;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->last > b->last ? -1 : a->last < b->last;
}

/* The slow way, should a database not come in tree order: sort first. */
static int ll_records_sorted(struct cf_db *db, struct ll_flat *f)
{
	struct cf_reclist all = { 0 };
	size_t i;
	int err;

	err = ll_enumerate(db, f->family, collect_cb, &all, f->e);
	if (err == -ENOMEM)
		cf_err_set(f->e, ENOMEM, db->path, 0, 0, "out of memory");
	if (err)
		goto out;
	qsort(all.v, all.n, sizeof(*all.v), tree_order);
	for (i = 0; i < all.n && !err; i++)
		err = flat_push(f, &all.v[i]);
	if (!err)
		err = flat_finish(f);
out:
	cf_reclist_free(&all);
	return err;
}

static void flat_init(struct ll_flat *f, struct cf_db *db, int family,
		      struct cf_reclist *out, struct cf_err *e)
{
	memset(f, 0, sizeof(*f));
	f->db = db;
	f->e = e;
	f->out = out;
	f->base = out->n;
	f->family = family;
	f->max = cf_af_max(family);
}

static int ll_records(struct cf_db *db, int family, struct cf_reclist *out,
		      struct cf_err *e)
{
	struct ll_flat f;
	int err;

	flat_init(&f, db, family, out, e);
	err = ll_enumerate(db, family, flat_cb, &f, e);
	if (!err)
		err = flat_finish(&f);
	if (err == -EAGAIN) {
		out->n = f.base;
		flat_init(&f, db, family, out, e);
		err = ll_records_sorted(db, &f);
	}
	if (err == -ENOMEM)
		cf_err_set(e, ENOMEM, db->path, 0, 0, "out of memory");
	return err;
}

static const char *ll_as_name(struct cf_db *db, uint32_t asn)
{
	struct ll_priv *p = db->priv;
	const char *name = cf_asmap_get(&p->names, asn);
	struct loc_as *as = NULL;

	if (name || loc_database_get_as(p->db, &as, asn) || !as)
		return name;
	name = loc_as_get_name(as);
	if (name && *name && !cf_asmap_put(&p->names, asn, name, strlen(name)))
		name = cf_asmap_get(&p->names, asn);
	else
		name = NULL;
	loc_as_unref(as);
	return name;
}

const struct cf_db_ops cf_db_libloc_ops = {
	.open = ll_open,
	.close = ll_close,
	.records = ll_records,
	.as_name = ll_as_name,
};
