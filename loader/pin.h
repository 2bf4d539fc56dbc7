/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pin.h - the kernel objects camfence keeps pinned, and how to reach them.
 *
 * Layout under the pin directory (default /sys/fs/bpf/camfence):
 *
 *   maps/<map name>                     the skeleton's maps
 *   progs/<program name>                the three programs
 *   links/<ifindex>-<xdp|tc-ingress|tc-egress>   one per attachment
 *
 * The first attach loads the skeleton and pins maps and programs; every
 * later command opens the pins, so the datapath keeps its maps (policy,
 * counters) across runs of camfence and only attach ever loads programs.
 *
 * Whoever can unlink a link pin detaches it, so the tree must be root's
 * alone: a pin directory or subdirectory someone else owns or can write,
 * or one reached through their symbolic link, is refused (exit 3).
 */
#ifndef CF_PIN_H
#define CF_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

enum cf_map_id {
	CF_MAP_POLICY,
	CF_MAP_COUNTERS,
	CF_MAP_STATS,
	CF_MAP_CONFIG,
	CF_MAP_EVENTS,
	CF_MAP_RATELIMIT,
	CF_MAP_LEARN,
	CF_MAP_MAX,
};

enum cf_prog_id {
	CF_PROG_XDP,
	CF_PROG_TC_INGRESS,
	CF_PROG_TC_EGRESS,
	CF_PROG_MAX,
};

extern const char *const cf_map_names[CF_MAP_MAX];
extern const char *const cf_prog_names[CF_PROG_MAX];

struct cf_runtime {
	int map[CF_MAP_MAX];
	int prog[CF_PROG_MAX];
	bool created; /* loaded and pinned by this invocation */
};

#define CF_RT_CREATE 0x1 /* load and pin what is missing (attach only) */
#define CF_RT_QUIET 0x2	 /* "not loaded" is no error: just -ENOENT */

/*
 * Open the pinned maps and programs.  With CF_RT_CREATE, load the
 * skeleton and pin whatever is missing (reusing pinned maps); without it,
 * a missing pin is reported ("camfence is not loaded ...") and -ENOENT
 * returned.  Other failures print their one line and return a negative
 * errno.
 */
int cf_runtime_open(struct cf_runtime *rt, int flags);
/* No objects: every fd -1 (what close leaves too). */
void cf_runtime_init(struct cf_runtime *rt);
void cf_runtime_close(struct cf_runtime *rt);

/*
 * Check the pin tree as cf_runtime_open does (safedir.h: root's, nobody
 * else can write or replace it), creating nothing: 0 when it is trusted
 * or absent, else the error, said in one line.  cf_state_lock calls it,
 * so whatever holds the lock pins and unpins in a checked tree.
 */
int cf_pin_tree_check(void);

/* Remove the program and map pins and the pin directory. */
int cf_runtime_remove(void);

/* <pin dir>/<sub>/<name> into buf; -ENAMETOOLONG if it does not fit. */
int cf_pin_path(char *buf, size_t len, const char *sub, const char *name);

/* The shape every policy image (inner map of cf_policy) must have. */
struct cf_map_shape {
	__u32 type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 flags;
};

/* The inner map template as this camfence's datapath declares it. */
int cf_image_template(struct cf_map_shape *shape);

/*
 * An image's capacity in words.  Array values sit at an 8-byte stride,
 * so only values of a multiple of 8 bytes map densely (camfence.h's
 * CF_IMAGE_ELEM_WORDS); 0 for a shape that does not.
 */
static inline size_t cf_shape_words(const struct cf_map_shape *s)
{
	if (!s->value_size || s->value_size % 8)
		return 0;
	return (size_t)s->max_entries * s->value_size / sizeof(__u32);
}

#endif /* CF_PIN_H */
