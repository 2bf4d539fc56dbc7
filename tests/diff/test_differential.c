// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_differential.c - the datapath against an independent reference, on
 * the real location.db.
 *
 * Millions of addresses - random IPv4, random IPv6 in 2000::/3, addresses
 * in and at the edges of database networks and compiled ranges, IPv4
 * embedded in IPv6 and its near misses, and both ends of every compiled
 * range and rule prefix - are judged twice:
 *
 *  - by the real programs through BPF_PROG_TEST_RUN: cf_xdp_ingress on the
 *    destination, cf_tc_egress on the source (one address in ten) and
 *    cf_tc_ingress (one in twenty), with the image the normal pipeline
 *    makes (cf_policy_parse, cf_dbset_load, cf_compile, cf_image_build)
 *    installed in cf_policy[0];
 *  - by a reference that shares nothing with that pipeline: libloc's own
 *    lookup (the database's longest-prefix match over its nested networks)
 *    gives the record, and the rules are applied naively from the rule
 *    tables below, which the policy text is also written from.
 *
 * The return code gives each address's verdict.  Per-class counters, read
 * once a batch, give its class: a batch whose counters disagree with the
 * classes the reference expects is run again one address at a time to
 * name the culprit - address, both verdicts and classes, libloc's record.
 *
 * CAMFENCE_DIFF_ADDRS=N sets the random addresses of the deny-list run
 * (default 10 million; the allow-list run takes half of that).
 * CAMFENCE_DIFF_SEED=S replays a run.  Needs root and the database; SKIPs
 * without them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <libloc/libloc.h>
#include <libloc/database.h>
#include <libloc/network.h>

#include "bpf/bpfenv.h"
#include "compile.h"
#include "table.h"
#include "bpf/pkt.h"

#define ADDRS_DEFAULT 10000000ull
#define BATCH 8192
#define MAX_CLASSES 128
#define MAX_NETS 64
#define SHOW_MAX 20	/* mismatches printed in full */
#define EXPLAIN_MAX 16	/* batches run again one address at a time */
#define RULE_LINE0 4	/* policy line of the first rule (policy_text) */
#define NO_CLASS UINT32_MAX

typedef cf_u128 u128;

/* ---- the policies ------------------------------------------------------ */

struct rule_def {
	enum cf_action action;
	enum cf_match match;
	const char *items; /* as written in the policy */
};

struct policy_def {
	const char *name;
	enum cf_action dflt;
	const struct rule_def *rules;
	size_t n_rules;
	unsigned addr_div; /* random addresses: CAMFENCE_DIFF_ADDRS / this */
};

/*
 * Deny-list mode.  ASN rules beat country rules both ways (allowed ASNs
 * inside denied countries, denied ASNs outside them); net rules nest and
 * overlap database networks, ASN rules and the local ranges: longer than
 * a local range (10.66/16, fc00::/8, 100.64/11), equal to one (192.168/16,
 * fe80::/10, ::1) and shorter than one (172/8, 224/3), which the local
 * range then beats.  64:ff9b::/32 holds the NAT64 /96, whose addresses
 * are judged by their IPv4 address and so never by this rule.
 */
static const struct rule_def denylist_rules[] = {
	{ CF_DENY, CF_MATCH_COUNTRY, "CN RU BY KP IR SY CU VE MM AF" },
	{ CF_DENY, CF_MATCH_ASN,
	  "4134 4837 4808 9808 12389 8359 3216 31133 20485 25513" },
	{ CF_DENY, CF_MATCH_ASN,
	  "AS37963 AS45102 45090 14061 24940 9009 20473 132203 55990 4766" },
	{ CF_ALLOW, CF_MATCH_ASN, "4538 24400 56046 13238" },
	{ CF_MONITOR, CF_MATCH_ASN, "13335 16509 3356 15169" },
	{ CF_MONITOR, CF_MATCH_COUNTRY, "HK" },
	{ CF_DENY, CF_MATCH_NET,
	  "10.66.0.0/16 8.8.8.0/24 172.0.0.0/8 224.0.0.0/3" },
	{ CF_ALLOW, CF_MATCH_NET,
	  "10.66.6.0/24 8.8.8.8 1.0.1.0/24 2a00:1450:4001::/48 2600:1f00::/24" },
	{ CF_MONITOR, CF_MATCH_NET,
	  "192.168.0.0/16 223.5.5.0/24 2001:db8::/32 100.64.0.0/11 "
	  "2600:1f18::/33 64:ff9b::/32" },
	{ CF_DENY, CF_MATCH_NET,
	  "2a00:1450::/32 fc00::/8 2600::/12 ff02::/16 fe80::/10 ::1" },
};

/* Allow-list mode: the default drops. */
static const struct rule_def allowlist_rules[] = {
	{ CF_ALLOW, CF_MATCH_COUNTRY, "DE FR NL" },
	{ CF_ALLOW, CF_MATCH_ASN, "15169 13335 16509 8075" },
	{ CF_DENY, CF_MATCH_ASN, "24940 16276" },
	{ CF_MONITOR, CF_MATCH_COUNTRY, "CH AT" },
	{ CF_MONITOR, CF_MATCH_ASN, "3320" },
	{ CF_ALLOW, CF_MATCH_NET, "192.0.2.0/24 198.51.100.0/24 2001:db8::/32" },
	{ CF_DENY, CF_MATCH_NET, "10.0.0.0/8 fd00::/8 8.8.8.0/24" },
	{ CF_MONITOR, CF_MATCH_NET,
	  "100.64.0.0/10 2a01:4f8::/32 2a00:1450:4000::/40" },
};

#define RULES(t) t, sizeof(t) / sizeof(t[0])

static const struct policy_def denylist = {
	"deny-list", CF_ALLOW, RULES(denylist_rules), 1
};
static const struct policy_def allowlist = {
	"allow-list", CF_DENY, RULES(allowlist_rules), 2
};

/* The ranges the policy keeps local unless a net rule of equal or longer
 * prefix names them (DESIGN.md), written down again here. */
static const char *const local_nets[] = {
	"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
	"169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4",
	"255.255.255.255/32", "::/128", "::1/128", "fc00::/7", "fe80::/10",
	"ff00::/8",
};

static const char *action_word(enum cf_action a)
{
	return a == CF_DENY ? "deny" : a == CF_MONITOR ? "monitor" : "allow";
}

static const char *match_word(enum cf_match m)
{
	return m == CF_MATCH_COUNTRY ? "country" :
	       m == CF_MATCH_ASN ? "asn" : "net";
}

/* The policy as an operator would write it; rule i on RULE_LINE0 + i. */
static char *policy_text(const struct policy_def *pd, const char *db,
			 size_t *len)
{
	size_t cap = 8192, n, i;
	char *t = malloc(cap);

	assert_non_null(t);
	n = snprintf(t, cap, "database libloc %s\ndefault %s\nevent-rate 0\n",
		     db, action_word(pd->dflt));
	for (i = 0; i < pd->n_rules && n < cap; i++)
		n += snprintf(t + n, cap - n, "%s %s %s\n",
			      action_word(pd->rules[i].action),
			      match_word(pd->rules[i].match),
			      pd->rules[i].items);
	assert_true(n < cap);
	*len = n;
	return t;
}

/* ---- small helpers ----------------------------------------------------- */

static u128 fam_max(int family)
{
	return family == 4 ? (u128)0xffffffffu : ~(u128)0;
}

static u128 host_mask(int family, unsigned len)
{
	unsigned bits = family == 4 ? 32 : 128;

	return len >= bits ? 0 : ((u128)1 << (bits - len)) - 1;
}

static void addr_bytes(int family, u128 a, uint8_t *out)
{
	int n = family == 4 ? 4 : 16, i;

	for (i = n - 1; i >= 0; i--, a >>= 8)
		out[i] = (uint8_t)a;
}

static u128 bytes_addr(const uint8_t *in, int n)
{
	u128 a = 0;
	int i;

	for (i = 0; i < n; i++)
		a = a << 8 | in[i];
	return a;
}

static const char *addr_str(int family, u128 a, char *buf)
{
	uint8_t b[16];

	addr_bytes(family, a, b);
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, b, buf,
			 INET6_ADDRSTRLEN);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	uint64_t n;

	if (!v || !*v)
		return dflt;
	errno = 0;
	n = strtoull(v, &end, 0);
	if (errno || *end)
		fail_msg("%s=%s: expected a number", name, v);
	return n;
}

/* ---- libloc, read only through its own API ----------------------------- */

/* Networks of one family: first address (uint32_t or u128) and length. */
struct lnets {
	void *first;
	uint8_t *len;
	size_t n;
	size_t cap;
};

/* The database as libloc opens it, and its networks to sample from. */
struct geo {
	struct loc_ctx *ctx;
	struct loc_database *db;
	FILE *f;
	struct lnets v4;
	struct lnets v6;
};

struct ref_rec {
	bool found;
	char cc[3];	/* "" when the network states no country */
	uint32_t asn;	/* 0 when it states none */
	char net[64];
};

static void geo_lookup(struct geo *g, int family, u128 a, struct ref_rec *r,
		       bool name)
{
	struct loc_network *n = NULL;
	struct in6_addr in = { 0 };
	const char *cc;
	int err;

	if (family == 4) {
		in.s6_addr[10] = in.s6_addr[11] = 0xff;
		addr_bytes(4, a, in.s6_addr + 12);
	} else {
		addr_bytes(6, a, in.s6_addr);
	}
	memset(r, 0, sizeof(*r));
	err = loc_database_lookup(g->db, &in, &n);
	if (!n) {
		if (err < 0)
			fail_msg("libloc lookup failed: %s", strerror(-err));
		return;
	}
	r->found = true;
	cc = loc_network_get_country_code(n);
	if (cc && strlen(cc) == 2)
		memcpy(r->cc, cc, 2);
	r->asn = loc_network_get_asn(n);
	if (name)
		snprintf(r->net, sizeof(r->net), "%s", loc_network_str(n));
	loc_network_unref(n);
}

static int lnets_room(struct lnets *l, size_t size)
{
	size_t cap = l->cap ? l->cap * 2 : 4096;
	void *first;
	uint8_t *len;

	if (l->n < l->cap)
		return 0;
	first = realloc(l->first, cap * size);
	if (!first)
		return -ENOMEM;
	l->first = first;
	len = realloc(l->len, cap);
	if (!len)
		return -ENOMEM;
	l->len = len;
	l->cap = cap;
	return 0;
}

static int geo_push(struct geo *g, struct loc_network *n)
{
	const uint8_t *a = loc_network_get_first_address(n)->s6_addr;
	unsigned len = loc_network_prefix(n);
	bool v4 = loc_network_address_family(n) == AF_INET;
	struct lnets *l = v4 ? &g->v4 : &g->v6;

	if (lnets_room(l, v4 ? sizeof(uint32_t) : sizeof(u128)))
		return -ENOMEM;
	if (v4) {
		((uint32_t *)l->first)[l->n] = (uint32_t)bytes_addr(a + 12, 4);
		/* an IPv4 network's prefix, counted mapped or not */
		l->len[l->n++] = len > 32 ? len - 96 : len;
	} else {
		((u128 *)l->first)[l->n] = bytes_addr(a, 16);
		l->len[l->n++] = len;
	}
	return 0;
}

/* Every network of the database, to draw addresses from. */
static int geo_networks(struct geo *g)
{
	struct loc_database_enumerator *en = NULL;
	struct loc_network *n;
	int err;

	if (loc_database_enumerator_new(&en, g->db, LOC_DB_ENUMERATE_NETWORKS,
					0))
		return -ENOMEM;
	for (;;) {
		n = NULL;
		err = loc_database_enumerator_next_network(en, &n) ? -EIO : 0;
		if (err || !n)
			break;
		err = geo_push(g, n);
		loc_network_unref(n);
		if (err)
			break;
	}
	loc_database_enumerator_unref(en);
	return err ? err : (g->v4.n && g->v6.n ? 0 : -ENODATA);
}

static void geo_close(struct geo *g)
{
	if (g->db)
		loc_database_unref(g->db);
	if (g->ctx)
		loc_unref(g->ctx);
	if (g->f)
		fclose(g->f);
	free(g->v4.first);
	free(g->v4.len);
	free(g->v6.first);
	free(g->v6.len);
	memset(g, 0, sizeof(*g));
}

static int geo_open(struct geo *g, const char *path)
{
	int err = -EINVAL;

	memset(g, 0, sizeof(*g));
	g->f = fopen(path, "re");
	if (!g->f)
		return -errno;
	if (loc_new(&g->ctx)) {
		g->ctx = NULL;
		goto out;
	}
	if (loc_database_new(g->ctx, &g->db, g->f)) {
		g->db = NULL;
		goto out;
	}
	err = geo_networks(g);
out:
	if (err)
		geo_close(g);
	return err;
}

/* ---- the reference ----------------------------------------------------- */

struct ref_class {
	uint8_t kind;	 /* enum cf_class_kind */
	uint8_t verdict; /* enum cf_verdict */
	char cc[3];
	uint32_t asn;
	unsigned line;	 /* policy line, 0 for default and local */
};

struct ref_net {
	u128 first;
	u128 last;
	uint8_t family;
	uint8_t len;
	uint32_t class;
};

/* Classes as compile.h numbers them: default, local, then rule by rule,
 * one per country or ASN listed and one per net rule. */
struct ref {
	struct geo *geo;
	struct ref_class cls[MAX_CLASSES];
	size_t n_cls;
	struct ref_net net[MAX_NETS];
	size_t n_net;
};

static uint8_t action_verdict(enum cf_action a)
{
	return a == CF_DENY ? CF_VERDICT_DROP :
	       a == CF_MONITOR ? CF_VERDICT_MONITOR : CF_VERDICT_PASS;
}

static uint32_t ref_add_class(struct ref *r, uint8_t kind, uint8_t verdict,
			      unsigned line)
{
	assert_true(r->n_cls < MAX_CLASSES);
	r->cls[r->n_cls] = (struct ref_class){ .kind = kind,
					       .verdict = verdict,
					       .line = line };
	return r->n_cls++;
}

/* "192.0.2.0/24", "2001:db8::/32" or a bare address. */
static void ref_add_net(struct ref *r, const char *s, uint32_t class)
{
	const char *slash = strchr(s, '/');
	struct ref_net *n = &r->net[r->n_net];
	char a[INET6_ADDRSTRLEN];
	uint8_t b[16];
	int family = 0;

	assert_true(r->n_net < MAX_NETS);
	snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - s) : (int)strlen(s),
		 s);
	if (inet_pton(AF_INET, a, b) == 1)
		family = 4;
	else if (inet_pton(AF_INET6, a, b) == 1)
		family = 6;
	if (!family)
		fail_msg("reference: bad prefix '%s'", s);
	n->family = family;
	n->len = slash ? atoi(slash + 1) : (family == 4 ? 32 : 128);
	n->first = bytes_addr(b, family == 4 ? 4 : 16);
	n->last = n->first | host_mask(family, n->len);
	n->class = class;
	if (n->first & host_mask(family, n->len))
		fail_msg("reference: host bits set in '%s'", s);
	r->n_net++;
}

static void ref_add_rule(struct ref *r, const struct rule_def *d,
			 unsigned line)
{
	uint8_t v = action_verdict(d->action);
	uint32_t net_class = 0, c;
	char buf[512], *tok, *save;

	if (d->match == CF_MATCH_NET)
		net_class = ref_add_class(r, CF_KIND_NET, v, line);
	snprintf(buf, sizeof(buf), "%s", d->items);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (d->match == CF_MATCH_NET) {
			ref_add_net(r, tok, net_class);
		} else if (d->match == CF_MATCH_COUNTRY) {
			c = ref_add_class(r, CF_KIND_COUNTRY, v, line);
			snprintf(r->cls[c].cc, 3, "%s", tok);
		} else {
			c = ref_add_class(r, CF_KIND_ASN, v, line);
			r->cls[c].asn = strtoul(tok + (tok[0] == 'A' ? 2 : 0),
						NULL, 10);
		}
	}
}

static void ref_build(struct ref *r, const struct policy_def *pd,
		      struct geo *g)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->geo = g;
	ref_add_class(r, CF_KIND_DEFAULT, action_verdict(pd->dflt), 0);
	ref_add_class(r, CF_KIND_LOCAL, CF_VERDICT_PASS, 0);
	for (i = 0; i < sizeof(local_nets) / sizeof(local_nets[0]); i++)
		ref_add_net(r, local_nets[i], CF_CLASS_LOCAL);
	for (i = 0; i < pd->n_rules; i++)
		ref_add_rule(r, &pd->rules[i], RULE_LINE0 + i);
}

/* NAT64 64:ff9b::/96, IPv4-mapped ::ffff:0:0/96, 6to4 2002::/16. */
static bool ref_embedded(u128 a, uint32_t *v4)
{
	uint8_t b[16];
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	addr_bytes(6, a, b);
	if (!memcmp(b, nat64, 12) || !memcmp(b, mapped, 12)) {
		*v4 = (uint32_t)bytes_addr(b + 12, 4);
		return true;
	}
	if (b[0] == 0x20 && b[1] == 0x02) {
		*v4 = (uint32_t)bytes_addr(b + 2, 4);
		return true;
	}
	return false;
}

/* Longest net rule or local range holding a; at equal length the
 * operator's rule wins.  NO_CLASS when none does. */
static uint32_t ref_net_class(const struct ref *r, int family, u128 a)
{
	uint32_t class = NO_CLASS;
	int best = -1;
	size_t i;

	for (i = 0; i < r->n_net; i++) {
		const struct ref_net *n = &r->net[i];

		if (n->family != family || a < n->first || a > n->last)
			continue;
		if (n->len > best ||
		    (n->len == best && n->class != CF_CLASS_LOCAL)) {
			best = n->len;
			class = n->class;
		}
	}
	return class;
}

/* asn rule, else country rule, else the default. */
static uint32_t ref_rec_class(const struct ref *r, const struct ref_rec *rec)
{
	size_t i;

	if (!rec->found)
		return CF_CLASS_DEFAULT;
	for (i = CF_CLASS_FIXED; rec->asn && i < r->n_cls; i++)
		if (r->cls[i].kind == CF_KIND_ASN && r->cls[i].asn == rec->asn)
			return i;
	for (i = CF_CLASS_FIXED; rec->cc[0] && i < r->n_cls; i++)
		if (r->cls[i].kind == CF_KIND_COUNTRY &&
		    !strncasecmp(r->cls[i].cc, rec->cc, 2))
			return i;
	return CF_CLASS_DEFAULT;
}

/* The class of an address: IPv4 inside IPv6 by its IPv4 address, then
 * net rules and local ranges, then the database record. */
static uint32_t ref_judge(const struct ref *r, int family, u128 a,
			  bool *embedded)
{
	struct ref_rec rec;
	uint32_t v4, class;

	*embedded = family == 6 && ref_embedded(a, &v4);
	if (*embedded) {
		family = 4;
		a = v4;
	}
	class = ref_net_class(r, family, a);
	if (class != NO_CLASS)
		return class;
	geo_lookup(r->geo, family, a, &rec, false);
	return ref_rec_class(r, &rec);
}

static const char *const verdict_names[] = { "pass", "drop", "monitor" };

static const char *ref_class_str(const struct ref *r, uint32_t c, char *buf,
				 size_t len)
{
	static const char *const verdict[] = { "allow", "deny", "monitor" };
	const struct ref_class *k = c < r->n_cls ? &r->cls[c] : NULL;

	if (!k)
		snprintf(buf, len, "class %u (none of the policy's)", c);
	else if (k->kind == CF_KIND_DEFAULT)
		snprintf(buf, len, "class 0, default %s", verdict[k->verdict]);
	else if (k->kind == CF_KIND_LOCAL)
		snprintf(buf, len, "class 1, local ranges");
	else if (k->kind == CF_KIND_COUNTRY)
		snprintf(buf, len, "class %u, %s country %s (line %u)", c,
			 verdict[k->verdict], k->cc, k->line);
	else if (k->kind == CF_KIND_ASN)
		snprintf(buf, len, "class %u, %s asn AS%u (line %u)", c,
			 verdict[k->verdict], k->asn, k->line);
	else
		snprintf(buf, len, "class %u, %s net (line %u)", c,
			 verdict[k->verdict], k->line);
	return buf;
}

/* ---- the datapath ------------------------------------------------------ */

static const char *const prog_names[N_PROGS] = {
	[XDP] = "xdp (dst)", [TCI] = "tc-ingress (dst)",
	[TCE] = "tc-egress (src)",
};

/* Offsets of the judged address in the template frames. */
#define V4_SRC (ETH + 12)
#define V4_DST (ETH + 16)
#define V4_CSUM (ETH + 10)
#define V6_SRC (ETH + 8)
#define V6_DST (ETH + 24)

struct dp {
	struct bpfenv be;
	struct pkt frame[2][2]; /* [IPv6][source judged] */
};

static int dp_frames(struct dp *d)
{
	const struct pkt_desc v4 = { .family = 4, .proto = IPPROTO_UDP,
				     .sport = 40000, .dport = 554 };
	const struct pkt_desc v6 = { .family = 6, .proto = IPPROTO_UDP,
				     .sport = 40000, .dport = 554 };

	if (pkt_build(&v4, &d->frame[0][0]) || pkt_build(&v6, &d->frame[1][0]))
		return -EINVAL;
	d->frame[0][1] = d->frame[0][0];
	d->frame[1][1] = d->frame[1][0];
	return 0;
}

static void dp_close(struct dp *d)
{
	bpfenv_close(&d->be);
}

/* Load the skeleton; nothing is attached or pinned. */
static int dp_open(struct dp *d)
{
	return bpfenv_open(&d->be, 0) ?: dp_frames(d);
}

/* A new image map holding img, installed in cf_policy[0]. */
static int dp_install(struct dp *d, const struct cf_image *img)
{
	struct image_map m;
	int err;

	err = image_load(&d->be, img, &m);
	if (!err)
		err = policy_install(&d->be, m.fd);
	image_unmap(&m); /* the slot holds the map */
	return err;
}

/* What a program's return code says, for a mismatch report. */
static const char *retval_str(enum prog_id p, int ret)
{
	if (ret < 0)
		return "test run failed";
	if (p == XDP)
		return ret == XDP_DROP ? "XDP_DROP" :
		       ret == XDP_PASS ? "XDP_PASS" : "unexpected XDP action";
	return ret == TC_ACT_SHOT ? "TC_ACT_SHOT" :
	       ret == TC_ACT_OK ? "TC_ACT_OK" : "unexpected TC action";
}

/* One frame carrying `a` where the program looks; retval or -errno. */
static int dp_run(struct dp *d, enum prog_id p, int family, u128 a,
		  uint32_t *len)
{
	bool src = p == TCE;
	struct pkt *f = &d->frame[family == 6][src];

	if (family == 4) {
		addr_bytes(4, a, f->b + (src ? V4_SRC : V4_DST));
		f->b[V4_CSUM] = f->b[V4_CSUM + 1] = 0;
		*(uint16_t *)(f->b + V4_CSUM) = htons(pkt_csum(f->b + ETH, IP4));
	} else {
		addr_bytes(6, a, f->b + (src ? V6_SRC : V6_DST));
	}
	*len = f->len;
	return prog_run(&d->be, p, f, 1);
}

/* ---- one run: a policy, its image and its reference -------------------- */

struct snap {
	struct cf_counter slot[MAX_CLASSES]; /* of each class */
	struct cf_counter stat[CF_STAT_MAX];
};

struct probe {
	u128 addr;
	uint8_t family;
	uint8_t prog;
	bool embedded;
	uint32_t class; /* the reference's */
};

struct run {
	const struct policy_def *pd;
	struct dp *dp;
	struct geo *geo;
	struct ref ref;
	struct cf_policy *pol;
	struct cf_dbset *dbs;
	struct cf_compiled *c;
	struct cf_image img;
	uint32_t slot[MAX_CLASSES]; /* counter slot of each class */
	uint64_t rng;

	struct probe b[BATCH];
	size_t n_b;

	uint64_t n, n_edges, n_fam[2], n_emb, n_prog[N_PROGS];
	uint64_t hits[MAX_CLASSES];
	uint64_t mismatches, bad_batches, explained, shown;
	uint64_t pipe_ns, dp_ns;
};

#define U(x) ((unsigned long long)(x))

static void snap_take(struct run *r, struct snap *s)
{
	counters_read(&r->dp->be, r->slot, r->ref.n_cls, s->slot, s->stat);
}

/* What the datapath should return for a probe the reference judged. */
static int want_retval(const struct run *r, const struct probe *p)
{
	return prog_retval(p->prog,
			   r->ref.cls[p->class].verdict == CF_VERDICT_DROP);
}

/* The class whose counter moved by exactly one packet, alone; NO_CLASS
 * when none or several did, or a global stat moved. */
static uint32_t snap_class(const struct run *r, const struct snap *a,
			   const struct snap *b)
{
	uint32_t class = NO_CLASS;
	size_t c;

	for (c = 0; c < CF_STAT_MAX; c++)
		if (b->stat[c].packets != a->stat[c].packets)
			return NO_CLASS;
	for (c = 0; c < r->ref.n_cls; c++) {
		uint64_t d = b->slot[c].packets - a->slot[c].packets;

		if (d > 1 || (d == 1 && class != NO_CLASS))
			return NO_CLASS;
		if (d == 1)
			class = c;
	}
	return class;
}

static void probe_print(struct run *r, const struct probe *p, int ret,
			uint32_t got)
{
	const struct ref_class *want = &r->ref.cls[p->class];
	char a[INET6_ADDRSTRLEN], j[INET6_ADDRSTRLEN], s1[96], s2[96];
	int fam = p->family;
	u128 judged = p->addr;
	struct ref_rec rec;
	const struct cf_rec *lay;
	uint32_t v4;

	if (p->embedded && ref_embedded(p->addr, &v4)) {
		fam = 4;
		judged = v4;
	}
	geo_lookup(r->geo, fam, judged, &rec, true);
	lay = cf_dbset_find(r->dbs, judged, fam);
	fprintf(stderr,
		"MISMATCH %s%s%s via %s\n"
		"  bpf:       %s (%d), %s\n"
		"  reference: %s, %s\n"
		"  libloc:    %s country %s asn %u\n"
		"  (pipeline: compiled class %u, image walk %u, layered record %s %.2s AS%u)\n",
		addr_str(p->family, p->addr, a),
		p->embedded ? " judged as " : "",
		p->embedded ? addr_str(4, judged, j) : "", prog_names[p->prog],
		retval_str(p->prog, ret), ret,
		got == NO_CLASS ? "no single class counted" :
				  ref_class_str(&r->ref, got, s1, sizeof(s1)),
		verdict_names[want->verdict],
		ref_class_str(&r->ref, p->class, s2, sizeof(s2)),
		rec.found ? rec.net : "(no network)",
		rec.cc[0] ? rec.cc : "-", rec.asn,
		cf_compiled_class(r->c, judged, fam),
		cf_image_lookup(r->img.w, p->addr, p->family),
		lay ? "found" : "none",
		lay && (lay->has & CF_HAS_CC) ? lay->cc : "--",
		lay && (lay->has & CF_HAS_ASN) ? lay->asn : 0);
}

/* One address, alone, with its own counter snapshots; 1 if it differs. */
static int probe_explain(struct run *r, const struct probe *p)
{
	struct snap a, b;
	uint32_t len, got;
	int ret;

	snap_take(r, &a);
	ret = dp_run(r->dp, p->prog, p->family, p->addr, &len);
	snap_take(r, &b);
	got = snap_class(r, &a, &b);
	if (got == p->class && ret == want_retval(r, p))
		return 0;
	if (r->shown++ < SHOW_MAX)
		probe_print(r, p, ret, got);
	return 1;
}

/* Every class counted what the reference expects, and nothing else. */
static bool batch_counts_ok(const struct run *r, const struct snap *a,
			    const struct snap *b, const uint64_t *pk,
			    const uint64_t *by)
{
	size_t c;

	for (c = 0; c < CF_STAT_MAX; c++)
		if (b->stat[c].packets != a->stat[c].packets)
			return false;
	for (c = 0; c < r->ref.n_cls; c++)
		if (b->slot[c].packets - a->slot[c].packets != pk[c] ||
		    b->slot[c].bytes - a->slot[c].bytes != by[c])
			return false;
	return true;
}

static void batch_explain(struct run *r, size_t bad_ret)
{
	uint64_t found = 0;
	size_t i;

	if (r->explained++ >= EXPLAIN_MAX) {
		/* past the budget: count what the return codes show */
		r->mismatches += bad_ret;
		r->bad_batches++;
		return;
	}
	for (i = 0; i < r->n_b; i++)
		found += probe_explain(r, &r->b[i]);
	r->mismatches += found;
	if (!found) /* the counters moved wrongly, no address alone did */
		r->bad_batches++;
}

static void batch_flush(struct run *r)
{
	uint64_t pk[MAX_CLASSES] = { 0 }, by[MAX_CLASSES] = { 0 };
	uint64_t t0 = mono_ns();
	struct snap a, b;
	size_t i, bad_ret = 0;
	uint32_t len;

	snap_take(r, &a);
	for (i = 0; i < r->n_b; i++) {
		const struct probe *p = &r->b[i];
		int ret = dp_run(r->dp, p->prog, p->family, p->addr, &len);

		if (ret != want_retval(r, p))
			bad_ret++;
		pk[p->class]++;
		by[p->class] += len;
	}
	snap_take(r, &b);
	if (bad_ret || !batch_counts_ok(r, &a, &b, pk, by))
		batch_explain(r, bad_ret);
	r->n += r->n_b;
	r->n_b = 0;
	r->dp_ns += mono_ns() - t0;
}

/* Judge `a` by the reference now, by the datapath with its batch. */
static void probe_add(struct run *r, int family, u128 a)
{
	struct probe *p = &r->b[r->n_b++];
	uint64_t pick = rnd(&r->rng) % 20;

	p->addr = a & fam_max(family);
	p->family = family;
	/* one in ten through tc egress (source), one in twenty tc ingress */
	p->prog = pick < 2 ? TCE : pick == 2 ? TCI : XDP;
	p->class = ref_judge(&r->ref, family, p->addr, &p->embedded);
	r->hits[p->class]++;
	r->n_fam[family == 6]++;
	r->n_emb += p->embedded;
	r->n_prog[p->prog]++;
	if (r->n_b == BATCH)
		batch_flush(r);
}

/* ---- addresses --------------------------------------------------------- */

/* An address of the network first/len: an edge or beside one (one time
 * in two), else anywhere inside. */
static u128 in_net(struct run *r, int family, u128 first, unsigned len)
{
	u128 host = host_mask(family, len);

	switch (rnd(&r->rng) % 8) {
	case 0:
		return first;
	case 1:
		return first | host;
	case 2:
		return first - 1;
	case 3:
		return (first | host) + 1;
	default:
		return first | (rnd128(&r->rng) & host);
	}
}

/* An address in or beside a database network. */
static u128 in_geo(struct run *r, int family)
{
	const struct lnets *l = family == 4 ? &r->geo->v4 : &r->geo->v6;
	size_t i = rnd(&r->rng) % l->n;

	if (family == 4)
		return in_net(r, 4, ((uint32_t *)l->first)[i], l->len[i]);
	return in_net(r, 6, ((u128 *)l->first)[i], l->len[i]);
}

/* An address of a compiled range, its edges one time in four. */
static u128 in_crange(struct run *r, int family)
{
	const struct cf_crangelist *l = family == 4 ? &r->c->v4 : &r->c->v6;
	const struct cf_crange *c = &l->v[rnd(&r->rng) % l->n];
	u128 span = c->last - c->first;

	switch (rnd(&r->rng) % 8) {
	case 0:
		return c->first - 1;
	case 1:
		return c->last + 1;
	default:
		if (span == ~(u128)0)
			return rnd128(&r->rng);
		return c->first + rnd128(&r->rng) % (span + 1);
	}
}

/* IPv4 inside IPv6, near misses of the three forms, the local and
 * special IPv6 ranges, and the whole IPv6 space. */
static u128 gen_v6_special(struct run *r)
{
	uint32_t v4 = rnd(&r->rng) % 2 ? (uint32_t)rnd(&r->rng) :
					 (uint32_t)in_geo(r, 4);
	u128 low80 = rnd128(&r->rng) & (((u128)1 << 80) - 1);
	static const char *const local6[] = { "fc00::", "fe80::", "ff00::",
					      "::", "2001::", "2002::" };
	uint8_t b[16];

	switch (rnd(&r->rng) % 10) {
	case 0: /* NAT64 */
		return (u128)0x0064ff9b << 96 | v4;
	case 1: /* IPv4-mapped */
		return (u128)0xffff << 32 | v4;
	case 2: /* 6to4 */
		return (u128)0x2002 << 112 | (u128)v4 << 80 | low80;
	case 3: /* NAT64 but for one bit between /32 and /96 */
		return (u128)0x0064ff9b << 96 |
		       (u128)1 << (32 + rnd(&r->rng) % 64) | v4;
	case 4: /* IPv4-compatible, or mapped with one bit off */
		return rnd(&r->rng) % 2 ? (u128)v4 :
		       (u128)(0xffff ^ 1u << rnd(&r->rng) % 17) << 32 | v4;
	case 5: /* beside 2002::/16 */
		return (u128)(rnd(&r->rng) % 2 ? 0x2001 : 0x2003) << 112 |
		       (rnd128(&r->rng) & (((u128)1 << 112) - 1));
	case 6: /* in and around the local ranges, Teredo and 6to4 */
		inet_pton(AF_INET6, local6[rnd(&r->rng) % 6], b);
		return bytes_addr(b, 16) |
		       (rnd128(&r->rng) >> (6 + rnd(&r->rng) % 122));
	case 7: /* the rest of 64:ff9b::/32 */
		return (u128)0x0064ff9b << 96 |
		       (rnd128(&r->rng) >> (32 + rnd(&r->rng) % 96));
	default:
		return rnd128(&r->rng);
	}
}

/*
 * One random address.  Per mille: 450 IPv4 uniform, 75 in a database
 * network, 75 in a compiled range; 170 IPv6 uniform in 2000::/3, 85 in a
 * database network, 85 in a compiled range; 60 special IPv6 forms.
 */
static void gen_one(struct run *r)
{
	uint64_t k = rnd(&r->rng) % 1000;

	if (k < 450)
		probe_add(r, 4, (uint32_t)rnd(&r->rng));
	else if (k < 525)
		probe_add(r, 4, in_geo(r, 4));
	else if (k < 600)
		probe_add(r, 4, in_crange(r, 4));
	else if (k < 770)
		probe_add(r, 6, (u128)1 << 125 |
				       (rnd128(&r->rng) >> 3));
	else if (k < 855)
		probe_add(r, 6, in_geo(r, 6));
	else if (k < 940)
		probe_add(r, 6, in_crange(r, 6));
	else
		probe_add(r, 6, gen_v6_special(r));
}

/*
 * Both ends of every compiled range (the ranges tile each family, so this
 * is every range's first, last, first - 1 and last + 1), and around every
 * prefix the reference knows, in case the compiler lost one.
 */
static void gen_edges(struct run *r)
{
	const struct cf_crangelist *l[2] = { &r->c->v4, &r->c->v6 };
	uint64_t before = r->n + r->n_b;
	size_t i, f;

	for (f = 0; f < 2; f++) {
		for (i = 0; i < l[f]->n; i++) {
			probe_add(r, f ? 6 : 4, l[f]->v[i].first);
			probe_add(r, f ? 6 : 4, l[f]->v[i].last);
		}
	}
	for (i = 0; i < r->ref.n_net; i++) {
		const struct ref_net *n = &r->ref.net[i];

		probe_add(r, n->family, n->first);
		probe_add(r, n->family, n->last);
		probe_add(r, n->family, n->first - 1);
		probe_add(r, n->family, n->last + 1);
	}
	r->n_edges = r->n + r->n_b - before;
}

/* ---- setting up and reporting a run ------------------------------------ */

static void run_pipeline(struct run *r, const char *dbpath)
{
	struct cf_err e = { 0 };
	char msg[700];
	size_t len;
	char *text = policy_text(r->pd, dbpath, &len);
	int err;

	err = cf_policy_parse(text, len, r->pd->name, &r->pol, &e);
	if (!err)
		err = cf_dbset_load(r->pol, &r->dbs, &e);
	if (!err)
		err = cf_compile(r->pol, r->dbs, &r->c, &e);
	if (!err)
		err = cf_image_build(r->c, 1, r->dp->be.words, &r->img, &e);
	if (err)
		fprintf(stderr, "%s", text);
	free(text);
	if (err)
		fail_msg("%s: %s", r->pd->name, cf_err_str(&e, msg, sizeof(msg)));
	err = dp_install(r->dp, &r->img);
	if (err)
		fail_msg("cannot install the image: %s", strerror(-err));
}

/* The classes compile.h promises are the reference's, in its order, and
 * the image gives each its verdict and a counter slot of its own. */
static void run_check_classes(struct run *r)
{
	const struct cf_image_hdr *h = cf_image_hdr(r->img.w);
	uint8_t used[CF_COUNTER_SLOTS] = { 0 };
	char s[96];
	size_t c;

	assert_int_equal(r->c->n_classes, r->ref.n_cls);
	assert_int_equal(h->n_classes, r->ref.n_cls);
	for (c = 0; c < r->ref.n_cls; c++) {
		const struct ref_class *k = &r->ref.cls[c];
		const struct cf_class_meta *m = &r->c->classes[c];
		uint32_t w = r->img.w[CF_CLASS_OFF + c];

		if (m->kind != k->kind || m->verdict != k->verdict ||
		    CF_CLASS_VERDICT(w) != k->verdict ||
		    (k->kind == CF_KIND_ASN && m->asn != k->asn) ||
		    (k->kind == CF_KIND_COUNTRY && memcmp(m->cc, k->cc, 2)) ||
		    (c >= CF_CLASS_FIXED && m->line != k->line))
			fail_msg("class %zu is not %s", c,
				 ref_class_str(&r->ref, c, s, sizeof(s)));
		r->slot[c] = CF_CLASS_COUNTER(w);
		assert_false(used[r->slot[c]]);
		used[r->slot[c]] = 1;
	}
}

static void run_report(const struct run *r, uint64_t ns)
{
	uint64_t v[3] = { 0 };
	size_t c, unhit = 0;
	char s[96];

	for (c = 0; c < r->ref.n_cls; c++)
		v[r->ref.cls[c].verdict] += r->hits[c];

	printf("%s: %llu addresses, %llu mismatches, %.1f s\n"
	       "  %llu random, %llu at the edges of %zu IPv4 and %zu IPv6 compiled ranges and %zu prefixes\n"
	       "  IPv4 %llu, IPv6 %llu (%llu of them embedded IPv4)\n"
	       "  xdp %llu, tc-egress %llu, tc-ingress %llu; pass %llu, drop %llu, monitor %llu\n"
	       "  pipeline %.1f s, addresses and reference %.1f s, datapath %.1f s\n",
	       r->pd->name, U(r->n), U(r->mismatches), ns / 1e9,
	       U(r->n - r->n_edges), U(r->n_edges), r->c->v4.n, r->c->v6.n,
	       r->ref.n_net, U(r->n_fam[0]), U(r->n_fam[1]), U(r->n_emb),
	       U(r->n_prog[XDP]), U(r->n_prog[TCE]), U(r->n_prog[TCI]),
	       U(v[CF_VERDICT_PASS]), U(v[CF_VERDICT_DROP]),
	       U(v[CF_VERDICT_MONITOR]),
	       r->pipe_ns / 1e9, (ns - r->pipe_ns - r->dp_ns) / 1e9,
	       r->dp_ns / 1e9);
	if (r->mismatches || r->bad_batches)
		printf("  %llu batches run again one address at a time, %llu more with wrong counters\n",
		       U(r->explained < EXPLAIN_MAX ? r->explained : EXPLAIN_MAX),
		       U(r->bad_batches));
	for (c = 0; c < r->ref.n_cls; c++) {
		if (r->hits[c])
			continue;
		printf("  note: no address reached %s\n",
		       ref_class_str(&r->ref, c, s, sizeof(s)));
		unhit++;
	}
	printf("  %zu of %zu classes reached\n", r->ref.n_cls - unhit,
	       r->ref.n_cls);
	fflush(stdout);
}

static void run_free(struct run *r)
{
	cf_image_free(&r->img);
	cf_compiled_free(r->c);
	cf_dbset_free(r->dbs);
	cf_policy_free(r->pol);
	free(r);
}

/* ---- the tests --------------------------------------------------------- */

struct world {
	const char *skip;	/* why the tests cannot run */
	char why[300];
	const char *dbpath;
	uint64_t seed;
	struct dp dp;
	struct geo geo;
};

static void diff_run(struct world *w, const struct policy_def *pd,
		     uint64_t salt)
{
	uint64_t n = env_u64("CAMFENCE_DIFF_ADDRS", ADDRS_DEFAULT) / pd->addr_div;
	uint64_t i, bad, t0 = mono_ns();
	struct run *r;

	if (w->skip) {
		printf("SKIP %s: %s\n", pd->name, w->skip);
		fflush(stdout);
		skip();
	}
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->pd = pd;
	r->dp = &w->dp;
	r->geo = &w->geo;
	r->rng = (w->seed ^ salt) ?: 1;
	ref_build(&r->ref, pd, &w->geo);
	run_pipeline(r, w->dbpath);
	run_check_classes(r);
	r->pipe_ns = mono_ns() - t0;

	gen_edges(r);
	for (i = 0; i < n; i++)
		gen_one(r);
	if (r->n_b)
		batch_flush(r);

	run_report(r, mono_ns() - t0);
	bad = r->mismatches + r->bad_batches;
	run_free(r);
	if (bad)
		fail_msg("%s: the datapath and the reference disagree; replay with CAMFENCE_DIFF_SEED=%#llx",
			 pd->name, U(w->seed));
}

static void test_denylist(void **state)
{
	diff_run(*state, &denylist, 0);
}

static void test_allowlist(void **state)
{
	diff_run(*state, &allowlist, 0x9e3779b97f4a7c15ull);
}

static uint64_t seed_pick(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = mono_ns() ^ (uint64_t)getpid() << 32;
	return env_u64("CAMFENCE_DIFF_SEED", s);
}

static int group_setup(void **state)
{
	static struct world w;
	int err;

	*state = &w;
	w.seed = seed_pick();
	w.dbpath = cf_default_database();
	printf("seed %#llx (CAMFENCE_DIFF_SEED replays it), database %s\n",
	       U(w.seed), w.dbpath);
	fflush(stdout);
	if (geteuid()) {
		w.skip = "needs root to load the BPF programs";
		return 0;
	}
	if (access(w.dbpath, R_OK)) {
		snprintf(w.why, sizeof(w.why), "no database at %s: %s",
			 w.dbpath, strerror(errno));
		w.skip = w.why;
		return 0;
	}
	err = geo_open(&w.geo, w.dbpath);
	if (err) {
		/* e.g. CAMFENCE_DATABASE naming an mmdb or a CSV file */
		snprintf(w.why, sizeof(w.why),
			 "libloc cannot read %s (%s); the reference needs a libloc database",
			 w.dbpath, strerror(-err));
		w.skip = w.why;
		return 0;
	}
	err = dp_open(&w.dp);
	if (err) {
		fprintf(stderr, "cannot load the datapath: %s\n",
			strerror(-err));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	struct world *w = *state;

	dp_close(&w->dp);
	geo_close(&w->geo);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denylist),
		cmocka_unit_test(test_allowlist),
	};

	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
