/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * safedir.h - directories for camfence's private use (the pin tree, the
 * state directory, the cache) and the files inside them.
 *
 * A directory is trusted when nobody but root could have put anything in
 * it, or could replace it or anything on the way to it:
 *
 *  - every directory on the way is owned by root and writable by group or
 *    others only with the sticky bit (/tmp, a 1777 bpffs), where nobody
 *    else can rename or remove what root made;
 *  - a symbolic link on the way is followed only when root owns it (a
 *    directory checked as above holds it, so nobody else planted it);
 *  - the directory itself is a directory, not a symbolic link, owned by
 *    root and writable by nobody else (others may read it: the caller
 *    tightens it if that matters).
 *
 * "Root" is uid 0 or the effective uid, whichever camfence runs as.
 * Paths below a trusted directory then stay what was checked, so a later
 * call that takes a path (bpf_obj_pin) is as safe as one relative to the
 * directory's fd.
 */
#ifndef CF_SAFEDIR_H
#define CF_SAFEDIR_H

#include <stddef.h>

#include "err.h"

#define CF_SAFEDIR_CREATE 0x1 /* create it (0700) if missing */
#define CF_SAFEDIR_PARENTS 0x2 /* with CREATE: missing parents too (0700) */

/*
 * Walk path from "/" (a relative path from the working directory's real
 * path), one openat(O_PATH | O_NOFOLLOW) and fstat per component, and
 * return an O_RDONLY | O_DIRECTORY fd of the trusted directory.  Errors:
 * -ENOENT (missing, without CREATE), -EPERM (someone else owns or can
 * write a component), -ELOOP (the directory is a symbolic link, or too
 * many links), -ENOTDIR, or what a system call said; e->msg says which
 * component is wrong and how to fix it.
 */
int cf_safedir_open(const char *path, int flags, struct cf_err *e);

/*
 * The directory name inside the trusted directory dirfd (whose path,
 * dirpath, only names it in messages), checked the same way.
 */
int cf_safedir_openat(int dirfd, const char *dirpath, const char *name,
		      int flags, struct cf_err *e);

/*
 * Open the file name in dirfd (AT_FDCWD: name is a path) without
 * following a symbolic link, and only if it is a regular file root owns
 * that nobody else can write: a file planted there is never trusted, nor
 * written through.  flags as for open(2); O_CREAT makes it mode.
 * -ELOOP for a symbolic link, -EPERM for any other stranger.
 */
int cf_safedir_file(int dirfd, const char *name, int flags, unsigned mode);

/*
 * A new file "<name>.XXXXXX.tmp" in dirfd, 0600, made with O_EXCL so
 * nothing already there is followed or reused; its name goes into tmp.
 * Write it, then renameat() it over name.
 */
int cf_safedir_tmpfile(int dirfd, const char *name, char *tmp, size_t len);

#endif /* CF_SAFEDIR_H */
