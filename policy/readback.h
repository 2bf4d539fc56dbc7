/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * readback.h - an image back into the policy it enforces.
 *
 * The digest in an image's header is a claim made by whoever built the
 * image.  What status shows and what the daemon compares must be what
 * the datapath does, so they read the trie back into merged ranges, take
 * each class's verdict from its class word (what the datapath reads) and
 * the settings from the header, and hash that with cf_compiled_digest.
 * For an image table.c built, the result is the digest cf_compile gave
 * the policy; for any other it is the digest of what actually judges.
 */
#ifndef CF_READBACK_H
#define CF_READBACK_H

#include <stddef.h>
#include <stdint.h>

#include "compile.h"
#include "err.h"

/*
 * Decode an image of `capacity` words (passed cf_image_check) into a new
 * compiled policy: classes (verdicts from the class words), both
 * families' ranges, the settings, and its digest computed from them.
 * Fails with -EINVAL on a trie the datapath could not walk to a class
 * (a pointer out of bounds, a node too deep or across bit 64 of IPv6, a
 * class past n_classes), -ENOMEM when out of memory.
 */
int cf_image_readback(const uint32_t *w, size_t capacity,
		      struct cf_compiled **out, struct cf_err *e);

/* Only the digest of what the image enforces. */
int cf_image_digest(const uint32_t *w, size_t capacity, uint8_t digest[32],
		    struct cf_err *e);

#endif /* CF_READBACK_H */
