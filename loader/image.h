/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * image.h - policy images in the kernel: read the live one, install a new.
 *
 * The live image is the inner map in slot 0 of cf_policy.  Reading it
 * maps it read-only (images are frozen, so nothing writes them any more);
 * installing builds a new inner map beside it and swaps the slot with one
 * map update, the only moment the running policy changes.
 */
#ifndef CF_IMAGE_H
#define CF_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "camfence.h"
#include "pin.h"
#include "table.h"

struct cf_live_image {
	int fd;		    /* the inner map */
	uint32_t id;
	const uint32_t *w;  /* mapped read-only */
	size_t map_len;
	struct cf_map_shape shape;
	char why[600]; /* after -EBADMSG: what is wrong with the image */
};

/*
 * Open the image installed in cf_policy; a mapped image has passed
 * cf_image_check.  Quietly -ENOENT when there is none and -EBADMSG (with
 * li->why) when it is no image this camfence understands; other errors
 * print their line.
 */
int cf_live_open(int policy_fd, struct cf_live_image *li);
void cf_live_close(struct cf_live_image *li);

/*
 * The digest of what the live image enforces, read back from its tables
 * (readback.h); its header's digest is only what the pushing camfence
 * wrote there.  On a trie that cannot be read back, an error and, when
 * why is given, the reason in it.
 */
int cf_live_digest(const struct cf_live_image *li, uint8_t digest[32],
		   char *why, size_t why_len);

/* The shape a new image must have: the live one's, else the template's. */
int cf_image_shape(const struct cf_live_image *li, struct cf_map_shape *shape);

/* A new frozen inner map holding img; returns its fd. */
int cf_image_create(const struct cf_map_shape *shape,
		    const struct cf_image *img);

/* The atomic switch: slot 0 of cf_policy := inner_fd (or empty if < 0). */
int cf_image_install(int policy_fd, int inner_fd);

/* Class id -> meta of an image, or NULL past n_classes. */
const struct cf_class_meta *cf_image_class(const uint32_t *w, uint32_t cls);

/* The rule label of a class: "deny country CN (policy.conf:3)". */
const char *cf_meta_label(const struct cf_class_meta *m,
			  const char *policy_path, char *buf, size_t len);
const char *cf_class_label(const uint32_t *w, uint32_t cls, char *buf,
			   size_t len);

/* Identity of a class across pushes: kind + country/ASN/rule line. */
uint64_t cf_class_key(const struct cf_class_meta *m);

/* Classes by identity, to match the classes of two images. */
struct cf_class_index {
	struct cf_class_ref *v;
	size_t n;
};

int cf_class_index_build(const struct cf_class_meta *m, size_t n,
			 struct cf_class_index *ix);
/* The class id with this identity, or -1. */
long cf_class_index_find(const struct cf_class_index *ix, uint64_t key);
void cf_class_index_free(struct cf_class_index *ix);

#endif /* CF_IMAGE_H */
