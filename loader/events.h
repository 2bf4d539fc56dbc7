/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * events.h - one datapath event as one line for a person: time,
 * interface, verdict, the rule that judged it and the remote address
 * attributed to its country and AS.  `camfence events` prints these
 * lines; the daemon sends them to syslog.
 */
#ifndef CF_EVENTS_H
#define CF_EVENTS_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "camfence.h"
#include "compile.h"
#include "image.h"
#include "pin.h"

#define CF_EVFMT_IFNAMES 16 /* interface names cached by ifindex */
#define CF_EVFMT_LINE 1024  /* room for the longest line */

struct cf_evfmt {
	const struct cf_runtime *rt;
	const struct cf_dbset *dbs; /* NULL: no attribution */
	struct cf_live_image live;  /* class labels */
	int64_t mono_to_real_ns;    /* add to bpf_ktime_get_ns(): wall time */
	struct {
		int ifindex;
		char name[IF_NAMESIZE + 8];
	} ifc[CF_EVFMT_IFNAMES];
};

/* dbs may be NULL, and may be changed later (after a reload). */
void cf_evfmt_init(struct cf_evfmt *f, const struct cf_runtime *rt,
		   const struct cf_dbset *dbs);
void cf_evfmt_fini(struct cf_evfmt *f);

/* The event as one line, without a newline, its control characters
 * escaped (policy/text.h); returns buf. */
const char *cf_evfmt_text(struct cf_evfmt *f, const struct cf_event *e,
			  char *buf, size_t len);

#endif /* CF_EVENTS_H */
