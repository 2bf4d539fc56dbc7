/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * state.h - camfence's files under the state directory (/run/camfence).
 *
 *   lock          flock()ed by every command that changes the kernel state
 *   policy.conf   the text of the policy last pushed, or the artifact
 *   active        what was pushed: path, digest, generation, time
 *   tc/<ifindex>-<tc-ingress|tc-egress>   clsact filters (no tcx): handle,
 *                 priority and program id, so detach removes exactly ours
 *
 * The kernel objects stay the truth; these files only say what cannot be
 * read back from the kernel.
 *
 * The directory and tc/ are checked every time they are used (safedir.h):
 * one someone else owns or can write, or a symbolic link, is refused with
 * a line saying so.  Files are never opened through a symbolic link, and
 * new ones are written beside their name with O_EXCL and renamed.
 */
#ifndef CF_STATE_H
#define CF_STATE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

int cf_state_path(char *buf, size_t len, const char *name);

/* Create the state directory (0700) and, if sub, a directory inside it. */
int cf_state_mkdir(const char *sub);

/*
 * Take the state lock (blocking); returns the fd to pass to unlock.  The
 * pin tree is checked once it is held (cf_pin_tree_check).
 */
int cf_state_lock(void);
void cf_state_unlock(int fd);

/* Replace a file atomically (temporary file, fsync, rename). */
int cf_state_write(const char *name, const void *data, size_t len);

/*
 * Open name ("daemon.pid", "tc/<record>") relative to the checked state
 * directory, as every file there is opened: never through a symbolic
 * link (-ELOOP), only a regular file root owns and nobody else can write
 * (-EPERM), and O_NONBLOCK while opening, so a FIFO cannot hang the
 * command (cf_safedir_file).  flags as for open(2); O_CREAT makes it
 * mode, but never the directory.  -ENOENT quietly when it or the
 * directory is missing; a directory that is refused is said, the file's
 * own errors are the caller's to say (cf_state_strerror).
 *
 * Root's 0700 state directory admits nobody else, so what this guards
 * against is what root itself left there: a file an older or careless
 * tool, a restored backup or a compromised process made (a link to
 * /etc/shadow, a FIFO), which camfence must not follow, write through or
 * block on.
 */
int cf_state_open(const char *name, int flags, unsigned mode);

/* The checked directory sub ("tc") inside the state directory, to list
 * (O_RDONLY | O_DIRECTORY); -ENOENT quietly when missing. */
int cf_state_opendir(const char *sub);

/* cf_state_open for reading, as a stream: 0, or its negative errno. */
int cf_state_fopen(const char *name, FILE **f);

/* cf_state_open's errors in words ("a symbolic link, not followed"). */
const char *cf_state_strerror(int err);

/* Read a whole file, NUL-terminated; -ENOENT when absent. */
int cf_state_read(const char *name, char **data, size_t *len);

int cf_state_remove(const char *name);
/* Remove an empty directory; quietly nothing if absent or in use. */
void cf_state_rmdir(const char *name);

struct cf_active {
	char path[PATH_MAX]; /* the policy file pushed ("-": stdin) */
	char digest[65];   /* SHA-256, hex */
	uint64_t generation;
	time_t pushed_at;
};

int cf_active_read(struct cf_active *a);
int cf_active_write(const struct cf_active *a);

/* Hex of a 32-byte digest into out[65]. */
void cf_digest_hex(const uint8_t digest[32], char out[65]);

#endif /* CF_STATE_H */
