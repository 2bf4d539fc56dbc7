// SPDX-License-Identifier: GPL-2.0-only
/*
 * pin.c - load the datapath once, pin it, and reopen it from the pins.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <dirent.h>
#include <libgen.h>
#include <limits.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "camfence.skel.h"
#include "log.h"
#include "main.h"
#include "pin.h"
#include "safedir.h"

#define BPFFS_ROOT "/sys/fs/bpf"

const char *const cf_map_names[CF_MAP_MAX] = {
	[CF_MAP_POLICY] = "cf_policy",	   [CF_MAP_COUNTERS] = "cf_counters",
	[CF_MAP_STATS] = "cf_stats",	   [CF_MAP_CONFIG] = "cf_config",
	[CF_MAP_EVENTS] = "cf_events",	   [CF_MAP_RATELIMIT] = "cf_ratelimit",
	[CF_MAP_LEARN] = "cf_learn",
};

const char *const cf_prog_names[CF_PROG_MAX] = {
	[CF_PROG_XDP] = "cf_xdp_ingress",
	[CF_PROG_TC_INGRESS] = "cf_tc_ingress",
	[CF_PROG_TC_EGRESS] = "cf_tc_egress",
};

int cf_pin_path(char *buf, size_t len, const char *sub, const char *name)
{
	int n;

	if (sub)
		n = snprintf(buf, len, "%s/%s/%s", cf_g.pin_dir, sub, name);
	else
		n = snprintf(buf, len, "%s/%s", cf_g.pin_dir, name);
	if (n < 0 || (size_t)n >= len) {
		pr_err("pin path under %s is too long", cf_g.pin_dir);
		return -ENAMETOOLONG;
	}
	return 0;
}

void cf_runtime_init(struct cf_runtime *rt)
{
	memset(rt, 0, sizeof(*rt));
	for (int i = 0; i < CF_MAP_MAX; i++)
		rt->map[i] = -1;
	for (int i = 0; i < CF_PROG_MAX; i++)
		rt->prog[i] = -1;
}

void cf_runtime_close(struct cf_runtime *rt)
{
	for (int i = 0; i < CF_MAP_MAX; i++)
		if (rt->map[i] >= 0)
			close(rt->map[i]);
	for (int i = 0; i < CF_PROG_MAX; i++)
		if (rt->prog[i] >= 0)
			close(rt->prog[i]);
	cf_runtime_init(rt);
}

/* bpf_obj_get one pin; *missing names the first that is absent. */
static int get_pin(const char *sub, const char *name, int *fd,
		   const char **missing)
{
	char path[PATH_MAX];
	int err;

	err = cf_pin_path(path, sizeof(path), sub, name);
	if (err)
		return err;
	*fd = bpf_obj_get(path);
	if (*fd >= 0)
		return 0;
	err = -errno;
	if (err == -ENOENT && !*missing)
		*missing = name;
	return err;
}

/* Open every pin; -ENOENT with *missing set when one is absent. */
static int open_pins(struct cf_runtime *rt, const char **missing)
{
	int err = 0, e;

	for (int i = 0; i < CF_MAP_MAX; i++) {
		e = get_pin("maps", cf_map_names[i], &rt->map[i], missing);
		err = err ?: e;
	}
	for (int i = 0; i < CF_PROG_MAX; i++) {
		e = get_pin("progs", cf_prog_names[i], &rt->prog[i], missing);
		err = err ?: e;
	}
	if (err)
		cf_runtime_close(rt);
	return err;
}

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/* Mount bpffs at /sys/fs/bpf when the pin directory lives there. */
static int ensure_bpffs(void)
{
	size_t n = strlen(BPFFS_ROOT);

	if (strncmp(cf_g.pin_dir, BPFFS_ROOT "/", n + 1) || on_bpffs(BPFFS_ROOT))
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700")) {
		int err = -errno;

		pr_err("cannot mount bpffs on %s: %s", BPFFS_ROOT,
		       strerror(-err));
		return err;
	}
	pr_debug("mounted bpffs on %s", BPFFS_ROOT);
	return 0;
}

/* The pin directory, or the innermost of its parents that exists, is on
 * bpffs: nothing gets made on another filesystem. */
static bool bpffs_below(const char *dir)
{
	char buf[PATH_MAX], *parent;

	if (on_bpffs(dir))
		return true;
	snprintf(buf, sizeof(buf), "%s", dir);
	parent = dirname(buf);
	if (access(dir, F_OK) == 0 || !strcmp(parent, dir) ||
	    !strcmp(parent, "/"))
		return false;
	return bpffs_below(parent);
}

/* What the check opened is on bpffs (bpffs_below looked by path). */
static int bpffs_fd(int fd)
{
	struct statfs st;

	if (!fstatfs(fd, &st) && st.f_type == BPF_FS_MAGIC)
		return 0;
	pr_err("%s is not on a BPF filesystem (mount -t bpf bpf DIR)",
	       cf_g.pin_dir);
	return -ENOTDIR;
}

/*
 * The pin tree's directories are checked (safedir.h) before anything in
 * them is pinned, opened or unpinned.  bpf_obj_pin and bpf_obj_get take
 * paths (neither libbpf 1.1 nor a 6.1 kernel has a dirfd variant); that
 * is safe once every component is root's and nobody else can replace
 * it, which is what the check establishes.  A tree someone else made is
 * refused, never taken over: a plain `mount -t bpf` is 1777, so anyone
 * can mkdir the pin directory before camfence does, and its owner could
 * then unlink our links and take the fence down.
 */
static const char *const pin_subs[] = { "maps", "progs", "links" };

static int pin_refused(int err, const struct cf_err *e)
{
	pr_err("cannot use the pin directory %s: %s", cf_g.pin_dir, e->msg);
	return err;
}

/*
 * Whoever opens a pin gets the map or program behind it, so only root may
 * reach them: the directories are 0700 whatever an older run or a hand
 * mkdir left (the pins themselves the kernel makes 0600 & ~umask).  Only
 * a directory nobody else can write gets here.
 */
static int restrict_dir(int fd, const char *path)
{
	struct stat st;
	int err;

	if (!fstat(fd, &st) && (st.st_mode & 07777) == 0700)
		return 0;
	if (!fchmod(fd, 0700))
		return 0;
	err = -errno;
	pr_err("cannot restrict %s to root: %s", path, strerror(-err));
	return err;
}

/* A subdirectory of the checked pin directory dir; missing is -ENOENT. */
static int pin_sub(int dir, const char *sub, bool create)
{
	char path[PATH_MAX];
	struct cf_err e = {};
	int fd, err = 0;

	fd = cf_safedir_openat(dir, cf_g.pin_dir, sub,
			       create ? CF_SAFEDIR_CREATE : 0, &e);
	if (fd == -ENOENT && !create)
		return fd;
	if (fd < 0)
		return pin_refused(fd, &e);
	if (create)
		err = cf_pin_path(path, sizeof(path), NULL, sub) ?:
		      restrict_dir(fd, path);
	close(fd);
	return err;
}

/*
 * Check the pin tree: the pin directory and maps/, progs/, links/.  With
 * create, make what is missing (mkdir -p, on bpffs only) and restrict it
 * to root; without, a missing directory is -ENOENT, quietly.
 */
static int pin_tree(bool create)
{
	int flags = create ? CF_SAFEDIR_CREATE | CF_SAFEDIR_PARENTS : 0;
	struct cf_err e = {};
	int dir, err = 0;

	if (create) {
		err = ensure_bpffs();
		if (err)
			return err;
		if (!bpffs_below(cf_g.pin_dir)) {
			pr_err("%s is not on a BPF filesystem (mount -t bpf bpf DIR)",
			       cf_g.pin_dir);
			return -ENOTDIR;
		}
	}
	dir = cf_safedir_open(cf_g.pin_dir, flags, &e);
	if (dir == -ENOENT && !create)
		return dir;
	if (dir < 0)
		return pin_refused(dir, &e);
	if (create)
		err = bpffs_fd(dir) ?: restrict_dir(dir, cf_g.pin_dir);
	for (size_t i = 0; !err && i < sizeof(pin_subs) / sizeof(pin_subs[0]);
	     i++) {
		err = pin_sub(dir, pin_subs[i], create);
		if (err == -ENOENT)
			err = 0; /* open_pins names what is missing */
	}
	close(dir);
	return err;
}

int cf_pin_tree_check(void)
{
	int err = pin_tree(false);

	return err == -ENOENT ? 0 : err;
}

/* Pinned maps are reused by libbpf (same type, sizes, flags), others pinned
 * at load: the counters and the policy survive a reload of the programs. */
static int set_map_pins(struct bpf_object *obj)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	for (int i = 0; i < CF_MAP_MAX; i++) {
		map = bpf_object__find_map_by_name(obj, cf_map_names[i]);
		if (!map) {
			pr_err("the BPF object has no map %s", cf_map_names[i]);
			return -ENOENT;
		}
		err = cf_pin_path(path, sizeof(path), "maps", cf_map_names[i]);
		err = err ?: bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

static int pin_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *prog;
	char path[PATH_MAX];
	int err;

	prog = bpf_object__find_program_by_name(obj, name);
	if (!prog) {
		pr_err("the BPF object has no program %s", name);
		return -ENOENT;
	}
	err = cf_pin_path(path, sizeof(path), "progs", name);
	if (err)
		return err;
	/* a stale pin from an interrupted load: links keep their program */
	if (unlink(path) && errno != ENOENT)
		return -errno;
	if (bpf_obj_pin(bpf_program__fd(prog), path)) {
		err = -errno;
		pr_err("cannot pin %s: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

static int load_and_pin(bool had_pins)
{
	struct camfence *skel;
	int err;

	skel = camfence__open();
	if (!skel) {
		err = -errno;
		pr_err("cannot open the embedded BPF object: %s",
		       strerror(-err));
		return err;
	}
	err = set_map_pins(skel->obj);
	if (err)
		goto out;
	err = camfence__load(skel);
	if (err && had_pins) {
		pr_err("cannot load the datapath: %s (are the maps pinned under %s from another version? -v shows libbpf's log)",
		       strerror(-err), cf_g.pin_dir);
		goto out;
	} else if (err) {
		pr_err("cannot load the datapath: %s (-v shows libbpf's log)",
		       strerror(-err));
		goto out;
	}
	for (int i = 0; !err && i < CF_PROG_MAX; i++)
		err = pin_prog(skel->obj, cf_prog_names[i]);
out:
	camfence__destroy(skel);
	return err;
}

/* Load and pin; a pin directory this made goes again if that fails. */
static int create_runtime(void)
{
	bool fresh = access(cf_g.pin_dir, F_OK) != 0;
	int err;

	/* a tree refused is not ours to remove */
	err = pin_tree(true);
	if (err)
		return err;
	err = load_and_pin(!fresh);
	if (err && fresh)
		cf_runtime_remove();
	return err;
}

int cf_runtime_open(struct cf_runtime *rt, int flags)
{
	bool create = flags & CF_RT_CREATE;
	const char *missing = NULL;
	int err;

	cf_runtime_init(rt);
	err = pin_tree(false);
	if (err && err != -ENOENT)
		return err; /* refused, and said why */
	if (err)
		missing = "objects";
	err = err ?: open_pins(rt, &missing);
	if (!err || (err != -ENOENT))
		goto out;
	if (!create && (flags & CF_RT_QUIET))
		return -ENOENT;
	if (!create) {
		if (access(cf_g.pin_dir, F_OK))
			missing = "objects";
		pr_err("camfence is not loaded (no pinned %s under %s); run camfence attach IFACE",
		       missing, cf_g.pin_dir);
		return -ENOENT;
	}
	pr_debug("loading the datapath (%s not pinned)", missing);
	err = create_runtime();
	if (err)
		return err;
	rt->created = true;
	err = open_pins(rt, &missing);
out:
	if (err && (err != -ENOENT || create))
		pr_err("cannot open the pinned objects under %s: %s",
		       cf_g.pin_dir, strerror(-err));
	return err;
}

/* Unlink every entry of <pin>/<sub> (dir: the pin directory's fd) and
 * the directory itself. */
static int remove_sub(int dir, const char *sub, struct cf_err *e)
{
	struct dirent *de;
	int fd, err = 0;
	DIR *d;

	fd = cf_safedir_openat(dir, cf_g.pin_dir, sub, 0, e);
	if (fd == -ENOENT)
		e->msg[0] = '\0';
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	d = fdopendir(fd);
	if (!d) {
		err = -errno;
		close(fd);
		return err;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && unlinkat(fd, de->d_name, 0) &&
		    !err)
			err = -errno;
	closedir(d);
	if (!err && unlinkat(dir, sub, AT_REMOVEDIR))
		err = -errno;
	return err;
}

int cf_runtime_remove(void)
{
	static const char *const subs[] = { "links", "progs", "maps" };
	struct cf_err e = {};
	int dir, err = 0;

	dir = cf_safedir_open(cf_g.pin_dir, 0, &e);
	if (dir == -ENOENT)
		return 0;
	if (dir < 0)
		return pin_refused(dir, &e);
	for (size_t i = 0; !err && i < sizeof(subs) / sizeof(subs[0]); i++)
		err = remove_sub(dir, subs[i], &e);
	close(dir);
	if (!err && rmdir(cf_g.pin_dir) && errno != ENOENT)
		err = -errno;
	if (err)
		pr_err("cannot remove the pins under %s: %s", cf_g.pin_dir,
		       e.msg[0] ? e.msg : strerror(-err));
	return err;
}

int cf_image_template(struct cf_map_shape *shape)
{
	struct bpf_map *outer, *inner;
	struct camfence *skel;
	int err = 0;

	skel = camfence__open();
	if (!skel) {
		err = -errno;
		pr_err("cannot open the embedded BPF object: %s",
		       strerror(-err));
		return err;
	}
	outer = bpf_object__find_map_by_name(skel->obj, "cf_policy");
	inner = outer ? bpf_map__inner_map(outer) : NULL;
	if (!inner) {
		pr_err("the BPF object has no cf_policy map-in-map template");
		err = -ENOENT;
		goto out;
	}
	shape->type = bpf_map__type(inner);
	shape->key_size = bpf_map__key_size(inner);
	shape->value_size = bpf_map__value_size(inner);
	shape->max_entries = bpf_map__max_entries(inner);
	shape->flags = bpf_map__map_flags(inner);
out:
	camfence__destroy(skel);
	return err;
}
