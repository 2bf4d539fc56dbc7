// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon_reload.c - the policy in force: adopt it or push it at start,
 * reload it on SIGHUP and when its files change.
 *
 * Files are watched through their directories, not themselves: editors
 * and location-update replace a file by renaming a new one over it, and
 * a watch on the old inode would never hear of the new.  Changes are
 * debounced (RELOAD_DELAY_MS after the first) so a burst of writes is one
 * reload.  A reload is push's prepare and cf_apply: nothing touches the
 * kernel until the new policy has compiled, and a failure anywhere,
 * recording the state files included, leaves the old policy in force
 * (decision 3).
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "daemon.h"
#include "log.h"
#include "main.h"
#include "metrics.h"
#include "state.h"

#define RELOAD_DELAY_MS 200
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE)

int dmn_watch_open(struct cf_daemon *d)
{
	d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ino_fd < 0) {
		int err = -errno;

		pr_err("inotify: %s", strerror(-err));
		return err;
	}
	return 0;
}

void dmn_watch_close(struct cf_daemon *d)
{
	if (d->ino_fd >= 0)
		close(d->ino_fd);
	d->ino_fd = -1;
	free(d->watches);
	free(d->files);
	d->watches = NULL;
	d->files = NULL;
	d->n_watches = d->n_files = 0;
}

static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* The policy file and the databases of the policy in force. */
static int collect_files(struct cf_daemon *d)
{
	const struct cf_policy *pol = d->cur ? d->cur->src.pol : NULL;
	size_t n = 1 + (pol ? pol->n_dbs : 0);

	free(d->files);
	d->files = calloc(n, sizeof(*d->files));
	if (!d->files)
		return -ENOMEM;
	snprintf(d->files[0], PATH_MAX, "%s", d->conf.policy);
	for (size_t i = 1; i < n; i++)
		snprintf(d->files[i], PATH_MAX, "%s", pol->dbs[i - 1].path);
	d->n_files = n;
	return 0;
}

static bool in_watches(const struct dmn_watch *w, size_t n, int wd)
{
	for (size_t i = 0; i < n; i++)
		if (w[i].wd == wd)
			return true;
	return false;
}

/* Watch every directory of the files; drop the watches not needed. */
static int watch_set(struct cf_daemon *d)
{
	struct dmn_watch *w = calloc(d->n_files, sizeof(*w));
	size_t n = 0;
	int wd;

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_files; i++) {
		dir_of(d->files[i], w[n].dir, sizeof(w[n].dir));
		/* the same directory twice gives the same watch */
		wd = inotify_add_watch(d->ino_fd, w[n].dir, WATCH_MASK);
		if (wd < 0) {
			pr_warn("cannot watch %s for changes: %s; SIGHUP reloads",
				w[n].dir, strerror(errno));
			continue;
		}
		w[n].wd = wd;
		if (!in_watches(w, n, wd))
			n++;
	}
	for (size_t i = 0; i < d->n_watches; i++)
		if (!in_watches(w, n, d->watches[i].wd))
			inotify_rm_watch(d->ino_fd, d->watches[i].wd);
	free(d->watches);
	d->watches = w;
	d->n_watches = n;
	return 0;
}

static int watches_update(struct cf_daemon *d)
{
	return collect_files(d) ?: watch_set(d);
}

/* Does this event name one of our files? */
static bool relevant(const struct cf_daemon *d,
		     const struct inotify_event *ev)
{
	const char *dir = NULL, *base;
	char fdir[PATH_MAX];

	for (size_t i = 0; i < d->n_watches; i++)
		if (d->watches[i].wd == ev->wd)
			dir = d->watches[i].dir;
	if (!dir || !ev->len)
		return false;
	for (size_t i = 0; i < d->n_files; i++) {
		dir_of(d->files[i], fdir, sizeof(fdir));
		base = strrchr(d->files[i], '/');
		base = base ? base + 1 : d->files[i];
		if (!strcmp(fdir, dir) && !strcmp(base, ev->name))
			return true;
	}
	return false;
}

void dmn_watch_read(struct cf_daemon *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	while ((n = read(d->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW || relevant(d, ev)) {
				pr_debug("%s/%s changed", "watch",
					 ev->len ? ev->name : "?");
				/* the first change sets the time: bounded delay */
				if (!d->reload_at)
					d->reload_at = cf_now_ms() +
						       RELOAD_DELAY_MS;
			}
		}
	}
}

/* ---- the policy ------------------------------------------------------- */

void dmn_policy_free(struct cf_daemon *d)
{
	if (d->cur)
		cf_push_free(d->cur);
	free(d->cur);
	d->cur = NULL;
	d->fmt.dbs = NULL;
}

/*
 * Keep what attribution and watching need (the databases, the parsed
 * policy), not the compiled tables, the image or the old live one: with
 * the full location.db they are most of our memory.
 */
static void install_cur(struct cf_daemon *d, struct cf_push *p)
{
	memcpy(d->digest, p->src.comp->digest, sizeof(d->digest));
	d->generation = p->generation;
	cf_live_close(&p->live);
	cf_image_free(&p->img);
	cf_compiled_free(p->src.comp);
	p->src.comp = NULL;
	dmn_policy_free(d);
	d->cur = p;
	d->fmt.dbs = p->src.dbs;
	/* give the freed tables back to the system, not to the next reload */
	malloc_trim(0);
}

/*
 * The live image's generation when its tables are the policy of this
 * digest; else 0.  The digest is read back from the trie, not from the
 * image's header: an image whose header only claims the policy (built
 * by an older camfence from a forged artifact) is replaced.
 */
static uint64_t live_same(const struct cf_daemon *d, const uint8_t *digest)
{
	struct cf_live_image li;
	uint8_t live[32];
	uint64_t gen = 0;

	if (cf_live_open(d->rt.map[CF_MAP_POLICY], &li))
		return 0;
	if (!cf_live_digest(&li, live, NULL, 0) && !memcmp(live, digest, 32))
		gen = cf_image_hdr(li.w)->generation;
	cf_live_close(&li);
	return gen;
}

/* The same policy is live: make the state files say so if they do not. */
static int adopt(struct cf_push *p, uint64_t gen)
{
	struct cf_active a;
	char hex[65];

	cf_digest_hex(p->src.comp->digest, hex);
	p->generation = gen;
	if (!cf_active_read(&a) && a.generation == gen &&
	    !strcmp(a.digest, hex))
		return 0;
	return cf_apply_adopt(p);
}

static void keep_old(const struct cf_daemon *d, const char *why)
{
	char hex[65];

	struct cf_live_image li;

	if (!d->cur && !cf_live_open(d->rt.map[CF_MAP_POLICY], &li)) {
		pr_warn("%s failed; the live policy stays (generation %" PRIu64
			")",
			why, (uint64_t)cf_image_hdr(li.w)->generation);
		cf_live_close(&li);
		return;
	}
	if (!d->cur) {
		pr_warn("%s failed; no policy is loaded (on-missing-policy applies)",
			why);
		return;
	}
	cf_digest_hex(d->digest, hex);
	pr_warn("%s failed; the policy in force stays (generation %" PRIu64
		", digest %.16s)",
		why, d->generation, hex);
}

int dmn_policy_load(struct cf_daemon *d, const char *why)
{
	struct cf_push *p = calloc(1, sizeof(*p));
	uint64_t gen;
	char hex[65];
	int err;

	if (!p)
		return -ENOMEM;
	d->reload_at = 0;
	err = cf_push_prepare(p, d->conf.policy);
	gen = err ? 0 : live_same(d, p->src.comp->digest);
	if (!err && gen)
		err = adopt(p, gen);
	else if (!err)
		err = cf_apply(p, &d->rt, NULL);
	if (err && p->switched) {
		/* not even the rollback worked: p enforces, so p is current */
		install_cur(d, p);
		watches_update(d);
		return err;
	}
	if (err) {
		keep_old(d, why);
		cf_push_free(p);
		free(p);
		malloc_trim(0);
		watches_update(d);
		return err;
	}
	cf_digest_hex(p->src.comp->digest, hex);
	pr_info("%s: %s %s, generation %" PRIu64 ", digest %.16s", why,
		gen ? "policy in force is" : "pushed", p->src.path,
		p->generation, hex);
	install_cur(d, p);
	watches_update(d);
	dmn_db_freshness(d);
	return 0;
}

/* Warn (at most daily) when the databases are older than the limit. */
void dmn_db_freshness(struct cf_daemon *d)
{
	struct cf_db_age a;
	time_t now = time(NULL);
	char buf[256];

	if (!d->cur || !d->cur->src.dbs)
		return;
	cf_db_age_get(d->cur->src.dbs->built_at, now, &a);
	if (!a.stale || (d->db_warned && now - d->db_warned < 86400))
		return;
	d->db_warned = now;
	pr_warn("%s", cf_db_age_warning(d->cur->src.dbs->built_at, &a, buf,
					sizeof(buf)));
}
