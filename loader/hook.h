/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hook.h - where camfence's programs hang on an interface.
 *
 * Ingress is XDP (native or generic) or, where XDP cannot attach, tc;
 * egress is always tc.  tc attachments are tcx links where the kernel has
 * them (6.6+) and clsact cls_bpf filters otherwise.  Links are pinned
 * under <pin>/links/<ifindex>-<hook>; clsact filters cannot be pinned, so
 * their handle and priority are recorded in <state>/tc/<ifindex>-<hook>.
 */
#ifndef CF_HOOK_H
#define CF_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "pin.h"

enum cf_hook {
	CF_HOOK_XDP,
	CF_HOOK_TC_INGRESS,
	CF_HOOK_TC_EGRESS,
	CF_HOOK_MAX,
};

extern const char *const cf_hook_names[CF_HOOK_MAX];

enum cf_mode {
	CF_MODE_AUTO,	 /* native XDP, else generic XDP, else tc */
	CF_MODE_NATIVE,
	CF_MODE_GENERIC,
	CF_MODE_TC,
};

int cf_mode_parse(const char *s, enum cf_mode *mode);

/* One attachment as found in the pins and state files. */
struct cf_hook_att {
	bool present;
	bool clsact;  /* a cls_bpf filter, not a link */
	bool defunct; /* the link outlived its interface */
	__u32 link_id;
	__u32 prog_id;
	__u32 handle; /* clsact */
	__u32 priority;
};

struct cf_att {
	int ifindex;
	struct cf_hook_att hook[CF_HOOK_MAX];
};

/* Every interface camfence has attached to, sorted by ifindex. */
struct cf_att_list {
	struct cf_att *v;
	size_t n;
};

int cf_att_list_read(struct cf_att_list *l);
void cf_att_list_free(struct cf_att_list *l);
const struct cf_att *cf_att_find(const struct cf_att_list *l, int ifindex);
bool cf_att_any(const struct cf_att *a);

/*
 * Attach ingress by mode; *hook says where it went.  Prints the one error
 * line on failure.
 */
int cf_attach_ingress(const struct cf_runtime *rt, int ifindex,
		      const char *ifname, enum cf_mode mode,
		      enum cf_hook *hook);
int cf_attach_egress(const struct cf_runtime *rt, int ifindex,
		     const char *ifname);

/* Remove exactly this attachment (link or clsact filter) and its record. */
int cf_hook_detach(int ifindex, enum cf_hook hook,
		   const struct cf_hook_att *att);

/* "xdp-native", "xdp-generic", "tc" (tcx) or "tc-clsact". */
const char *cf_hook_mode_str(int ifindex, enum cf_hook hook,
			     const struct cf_hook_att *att);

#endif /* CF_HOOK_H */
