/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * compiler.h - the few compiler helpers every datapath file needs.
 *
 * Include after <bpf/bpf_helpers.h>, which already defines __always_inline;
 * the fallback below only matters for a header pulled in on its own.
 */
#ifndef CF_COMPILER_H
#define CF_COMPILER_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#ifndef unlikely
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/*
 * READ_ONCE: one load, never repeated or torn by the compiler.  Used on
 * map values userspace may rewrite while a packet is in flight (cf_config):
 * clang may otherwise reload the word between a test and its use, and the
 * two reads could disagree.  Image words need no such care: a live image
 * is never written, it is replaced whole.
 */
#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif

#ifndef WRITE_ONCE
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))
#endif

#endif /* CF_COMPILER_H */
