// SPDX-License-Identifier: GPL-2.0-only
/*
 * report.c - `camfence report`: what learning mode recorded, per camera,
 * by country and by AS, and a policy suggested from it.
 *
 * The kernel keeps addresses only (decision 1 of DESIGN.md); the remote
 * ends are attributed here with the databases of the active policy (or
 * of --policy FILE, or the default database).  A suggested policy is
 * parsed with the policy parser before it is printed, so what comes out
 * is something `camfence push` accepts.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "attr.h"
#include "config.h"
#include "json.h"
#include "learn.h"
#include "link.h"
#include "log.h"
#include "main.h"
#include "pin.h"
#include "source.h"
#include "text.h"

enum suggest { S_NONE, S_ALLOW_SEEN, S_DENY_FOREIGN };
enum by { BY_COUNTRY, BY_ASN };
/* Groups sort known first, then unknown to the databases, then local. */
enum rank { R_KNOWN, R_UNKNOWN, R_LOCAL };

struct report_args {
	enum suggest suggest;
	enum by by; /* what allow-seen allows */
	char home[3]; /* deny-foreign */
	const char *policy; /* databases from here; NULL: the active policy */
};

/* One (camera, remote) pair, the remote attributed. */
struct seen {
	cf_u128 cam;
	int cam_family;
	struct cf_attr remote; /* embedded IPv4 unwrapped */
	bool local;
	const struct cf_learn_val *v;
};

/* Pairs summed by country or by AS. */
struct group {
	const struct seen *first; /* the key fields */
	enum rank rank;
	uint64_t packets, bytes, samples, last_ns;
	size_t remotes, cameras;
	size_t home, foreign; /* remotes in and outside --home */
	char ccs[16]; /* countries of an AS's remotes: "DE RU +" */
};

struct report {
	struct report_args *a;
	struct cf_source src;
	struct cf_learn_pair *pairs;
	size_t n;
	struct seen *seen;
	struct seen **by_cam;
	__u32 rate;
	int64_t mono_to_real_ns;
};

/* ---- attribution ------------------------------------------------------ */

static bool is_local(cf_u128 addr, int family)
{
	const struct cf_prefix *loc;
	size_t n;

	cf_local_prefixes(family, &loc, &n);
	for (size_t i = 0; i < n; i++)
		if (loc[i].family == family &&
		    addr >= cf_prefix_first(&loc[i]) &&
		    addr <= cf_prefix_last(&loc[i]))
			return true;
	return false;
}

static bool has(const struct seen *s, int what)
{
	return s->remote.rec && (s->remote.rec->has & what);
}

static enum rank rank_of(const struct seen *s, enum by by)
{
	if (s->local)
		return R_LOCAL;
	return has(s, by == BY_ASN ? CF_HAS_ASN : CF_HAS_CC) ? R_KNOWN :
							       R_UNKNOWN;
}

static void attribute(struct report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct cf_learn_key *k = &r->pairs[i].key;
		struct seen *s = &r->seen[i];
		int fam = k->family == 6 ? CF_AF_V6 : CF_AF_V4;

		s->cam = cf_addr_from_bytes(k->camera, fam);
		s->cam_family = fam;
		s->v = &r->pairs[i].val;
		cf_attr_find(r->src.dbs, cf_addr_from_bytes(k->remote, fam),
			     fam, &s->remote);
		s->local = is_local(s->remote.addr, s->remote.family);
		r->by_cam[i] = s;
	}
}

/* The databases: --policy FILE, else the active policy, else the default. */
static int load_dbs(struct report *r)
{
	struct cf_source *s = &r->src;
	int err;

	if (r->a->policy) {
		err = cf_source_read(s, r->a->policy);
	} else {
		err = cf_source_active(s, true);
		if (err == -ENOENT) {
			cf_source_free(s);
			err = cf_source_parse(s, strdup(""), 0, "<default>");
		} else if (err) {
			pr_err("%s", s->msg);
		}
	}
	return err ?: cf_source_load_dbs(s);
}

/* ---- grouping ---------------------------------------------------------- */

static int cmp_key(const struct seen *a, const struct seen *b, enum by by)
{
	enum rank ra = rank_of(a, by), rb = rank_of(b, by);
	uint32_t x, y;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra != R_KNOWN)
		return 0;
	if (by == BY_COUNTRY)
		return memcmp(a->remote.rec->cc, b->remote.rec->cc, 2);
	x = a->remote.rec->asn;
	y = b->remote.rec->asn;
	return x < y ? -1 : x > y;
}

static int cmp_cam(const struct seen *a, const struct seen *b)
{
	if (a->cam_family != b->cam_family)
		return a->cam_family < b->cam_family ? -1 : 1;
	return a->cam < b->cam ? -1 : a->cam > b->cam;
}

static int cmp_seen_by(const void *pa, const void *pb, void *ctx)
{
	const struct seen *a = *(struct seen *const *)pa;
	const struct seen *b = *(struct seen *const *)pb;

	return cmp_key(a, b, *(enum by *)ctx) ?: cmp_cam(a, b);
}

static int cmp_seen_cam(const void *pa, const void *pb)
{
	return cmp_cam(*(struct seen *const *)pa, *(struct seen *const *)pb);
}

static int cmp_group(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;

	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->packets != b->packets)
		return a->packets > b->packets ? -1 : 1;
	return 0;
}

/* Note a country in an AS group's short list. */
static void add_cc(struct group *g, const struct seen *s)
{
	char cc[4];
	size_t n = strlen(g->ccs);

	if (!has(s, CF_HAS_CC))
		return;
	snprintf(cc, sizeof(cc), "%.2s ", s->remote.rec->cc);
	if (strstr(g->ccs, cc) || strchr(g->ccs, '+'))
		return;
	/* room for this one and a final "+ " */
	if (n + 3 + 2 < sizeof(g->ccs))
		memcpy(g->ccs + n, cc, 4);
	else
		memcpy(g->ccs + n, "+ ", 3);
}

static void add_to(struct group *g, const struct seen *s, const char *home,
		   bool new_cam)
{
	g->packets += s->v->packets;
	g->bytes += s->v->bytes;
	g->samples += s->v->samples;
	if (s->v->last_ns > g->last_ns)
		g->last_ns = s->v->last_ns;
	g->remotes++;
	g->cameras += new_cam;
	if (home[0] && has(s, CF_HAS_CC) && !memcmp(s->remote.rec->cc, home, 2))
		g->home++;
	else if (!s->local)
		g->foreign++;
	add_cc(g, s);
}

/*
 * Sum the pairs v[0..n) by country or AS into *out (sorted: most packets
 * first), reordering v.  home may be "".
 */
static int group(struct seen **v, size_t n, enum by by, const char *home,
		 struct group **out, size_t *n_out)
{
	struct group *g = calloc(n ? n : 1, sizeof(*g));
	size_t k = 0;

	if (!g)
		return -ENOMEM;
	qsort_r(v, n, sizeof(*v), cmp_seen_by, &by);
	for (size_t i = 0; i < n; i++) {
		if (!i || cmp_key(v[i - 1], v[i], by)) {
			g[k].first = v[i];
			g[k++].rank = rank_of(v[i], by);
		}
		add_to(&g[k - 1], v[i], home,
		       g[k - 1].first == v[i] || cmp_cam(v[i - 1], v[i]));
	}
	qsort(g, k, sizeof(*g), cmp_group);
	*out = g;
	*n_out = k;
	return 0;
}

/* ---- the report ---------------------------------------------------------- */

static const char *fmt_time(const struct report *r, uint64_t mono_ns, char *buf,
			    size_t len)
{
	time_t t =
		(time_t)(((int64_t)mono_ns + r->mono_to_real_ns) / 1000000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	return buf;
}

/* An AS group's name and countries: "EXAMPLE-NET (DE RU)". */
static const char *as_label(const struct group *g, char *buf, size_t len)
{
	const char *name = g->first->remote.as_name;
	int n = g->ccs[0] ? (int)strlen(g->ccs) - 1 : 0; /* the last blank */

	snprintf(buf, len, "%s%s%s%.*s%s", name ? name : "",
		 name && n ? " " : "", n ? "(" : "", n, g->ccs, n ? ")" : "");
	return buf;
}

/* "DE Germany", "AS64500 EXAMPLE (DE)", "local", "no AS known" */
static const char *group_name(const struct group *g, enum by by, char *buf,
			      size_t len)
{
	const struct cf_attr *a = &g->first->remote;
	char label[200];

	if (g->rank == R_LOCAL)
		snprintf(buf, len, "local");
	else if (g->rank == R_UNKNOWN)
		snprintf(buf, len,
			 by == BY_ASN ? "no AS known" : "no country known");
	else if (by == BY_COUNTRY)
		snprintf(buf, len, "%.2s %s", a->rec->cc,
			 a->country_name ? a->country_name : "");
	else
		snprintf(buf, len, "AS%u %s", a->rec->asn,
			 as_label(g, label, sizeof(label)));
	return buf;
}

static void group_json(const struct report *r, const struct group *g,
		       enum by by)
{
	struct json_writer *jw = cf_json();
	const struct cf_attr *a = &g->first->remote;
	char t[32];

	jw_start_object(jw);
	if (by == BY_COUNTRY) {
		jw_name(jw, "country");
		if (g->rank == R_KNOWN)
			jw_printf(jw, "%.2s", a->rec->cc);
		else
			jw_null(jw);
		jw_string_field(jw, "country_name",
				g->rank == R_KNOWN ? a->country_name : NULL);
	} else {
		jw_name(jw, "asn");
		if (g->rank == R_KNOWN)
			jw_uint(jw, a->rec->asn);
		else
			jw_null(jw);
		jw_string_field(jw, "as_name",
				g->rank == R_KNOWN ? a->as_name : NULL);
		jw_printf_field(jw, "countries", "%.*s",
				g->ccs[0] ? (int)strlen(g->ccs) - 1 : 0,
				g->ccs);
	}
	jw_bool_field(jw, "local", g->rank == R_LOCAL);
	jw_uint_field(jw, "remotes", g->remotes);
	jw_uint_field(jw, "packets", g->packets);
	jw_uint_field(jw, "bytes", g->bytes);
	jw_uint_field(jw, "samples", g->samples);
	jw_string_field(jw, "last_seen", fmt_time(r, g->last_ns, t, sizeof(t)));
	jw_end_object(jw);
}

static void contacts_json(const struct report *r, struct seen **v, size_t n)
{
	struct json_writer *jw = cf_json();
	char t[32];

	jw_name(jw, "contacts");
	jw_start_array(jw);
	for (size_t i = 0; i < n; i++) {
		jw_start_object(jw);
		cf_attr_json(&v[i]->remote);
		jw_bool_field(jw, "local", v[i]->local);
		jw_uint_field(jw, "packets", v[i]->v->packets);
		jw_uint_field(jw, "bytes", v[i]->v->bytes);
		jw_uint_field(jw, "samples", v[i]->v->samples);
		jw_string_field(jw, "last_seen",
				fmt_time(r, v[i]->v->last_ns, t, sizeof(t)));
		jw_bool_field(jw, "from_camera",
			      v[i]->v->dirs & (1u << CF_DIR_INGRESS));
		jw_bool_field(jw, "to_camera",
			      v[i]->v->dirs & (1u << CF_DIR_EGRESS));
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

static void groups_text(const struct report *r, const char *title,
			const struct group *g, size_t n, enum by by)
{
	char name[256], t[32];

	printf("  %s:\n", title);
	for (size_t i = 0; i < n; i++)
		cf_line("    %-36s %4zu remote%s %10" PRIu64
			" packets %12" PRIu64 " bytes  last %s",
			group_name(&g[i], by, name, sizeof(name)), g[i].remotes,
			g[i].remotes == 1 ? " " : "s", g[i].packets, g[i].bytes,
			fmt_time(r, g[i].last_ns, t, sizeof(t)));
}

/* One camera: the pairs v[0..n) share it. */
static int camera_show(const struct report *r, struct seen **v, size_t n)
{
	struct json_writer *jw = cf_json();
	struct group *gc = NULL, *ga = NULL, sum = { 0 };
	char cam[CF_ADDR_STRLEN], ifn[IF_NAMESIZE + 8];
	size_t nc, na;
	int err;

	cf_addr_format(v[0]->cam, v[0]->cam_family, cam);
	cf_iface_name((int)v[0]->v->ifindex, ifn, sizeof(ifn));
	for (size_t i = 0; i < n; i++)
		add_to(&sum, v[i], "", false);
	err = group(v, n, BY_COUNTRY, "", &gc, &nc) ?:
		      group(v, n, BY_ASN, "", &ga, &na);
	if (err)
		goto out;
	if (!cf_g.json) {
		putchar('\n');
		cf_line("camera %s on %s: %zu remote%s, %" PRIu64
			" packets, %" PRIu64 " bytes",
			cam, ifn, n, n == 1 ? "" : "s", sum.packets, sum.bytes);
		groups_text(r, "countries", gc, nc, BY_COUNTRY);
		groups_text(r, "networks", ga, na, BY_ASN);
		goto out;
	}
	jw_start_object(jw);
	jw_string_field(jw, "camera", cam);
	jw_uint_field(jw, "ifindex", v[0]->v->ifindex);
	jw_string_field(jw, "ifname", ifn);
	jw_uint_field(jw, "remotes", n);
	jw_uint_field(jw, "packets", sum.packets);
	jw_uint_field(jw, "bytes", sum.bytes);
	jw_name(jw, "countries");
	jw_start_array(jw);
	for (size_t i = 0; i < nc; i++)
		group_json(r, &gc[i], BY_COUNTRY);
	jw_end_array(jw);
	jw_name(jw, "asns");
	jw_start_array(jw);
	for (size_t i = 0; i < na; i++)
		group_json(r, &ga[i], BY_ASN);
	jw_end_array(jw);
	contacts_json(r, v, n);
	jw_end_object(jw);
out:
	free(gc);
	free(ga);
	return err;
}

static int report_show(struct report *r)
{
	struct json_writer *jw = cf_json();
	size_t i, j;
	int err = 0;

	qsort(r->by_cam, r->n, sizeof(*r->by_cam), cmp_seen_cam);
	if (cf_g.json) {
		jw_start_object(jw);
		jw_bool_field(jw, "learning", r->rate != 0);
		jw_uint_field(jw, "sample", r->rate);
		jw_uint_field(jw, "pairs", r->n);
		jw_name(jw, "cameras");
		jw_start_array(jw);
	} else if (r->rate) {
		printf("learning: on, 1 in %u IP packets per CPU; %zu pairs\n",
		       r->rate, r->n);
	} else {
		printf("learning: off; %zu pairs recorded\n", r->n);
	}
	for (i = 0; !err && i < r->n; i = j) {
		for (j = i + 1; j < r->n; j++)
			if (cmp_cam(r->by_cam[i], r->by_cam[j]))
				break;
		err = camera_show(r, r->by_cam + i, j - i);
	}
	if (cf_g.json) {
		jw_end_array(jw);
		jw_end_object(jw);
	}
	return err;
}

/* ---- suggested policies -------------------------------------------------- */

/* Database text in a comment stays on its line, escaped as text output. */
static const char *clean(const char *s, char *buf, size_t len)
{
	return cf_text_escape(s, buf, len);
}

/* "  # 3 remotes, 120 packets, 2 cameras, last 2026-..." */
static void counts(FILE *f, const struct report *r, const struct group *g)
{
	char t[32];

	fprintf(f,
		"%zu remote%s, %" PRIu64 " packet%s, %zu camera%s, last %s\n",
		g->remotes, g->remotes == 1 ? "" : "s", g->packets,
		g->packets == 1 ? "" : "s", g->cameras,
		g->cameras == 1 ? "" : "s",
		fmt_time(r, g->last_ns, t, sizeof(t)));
}

/* The databases the attribution used, so the policy means the same. */
static void databases(FILE *f, const struct cf_policy *pol)
{
	char real[PATH_MAX];

	for (size_t i = 0; i < pol->n_dbs; i++) {
		const struct cf_db_ref *d = &pol->dbs[i];
		const char *path = realpath(d->path, real) ? real : d->path;

		if (d->format == CF_DB_AUTO)
			fprintf(f, "database %s\n", path);
		else
			fprintf(f, "database %s %s\n",
				cf_db_format_str(d->format), path);
	}
}

/* One host rule for a remote the databases say nothing useful about. */
static void host_rule(FILE *f, const char *verb, const struct seen *s,
		      bool commented)
{
	char a[CF_ADDR_STRLEN], cc[8] = "";

	if (has(s, CF_HAS_CC))
		snprintf(cc, sizeof(cc), "%.2s, ", s->remote.rec->cc);
	fprintf(f, "%s%s net %s/%u  # %s%" PRIu64 " packet%s\n",
		commented ? "# " : "", verb,
		cf_addr_format(s->remote.addr, s->remote.family, a),
		cf_af_bits(s->remote.family), cc, (uint64_t)s->v->packets,
		s->v->packets == 1 ? "" : "s");
}

/* The remotes of group g (the pairs sorted by its key), each once. */
static void host_rules(FILE *f, const char *verb, struct seen **v, size_t n,
		       bool commented, const char *home)
{
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		if (home && has(v[i], CF_HAS_CC) &&
		    !memcmp(v[i]->remote.rec->cc, home, 2))
			continue;
		for (size_t k = 0; k < i && !dup; k++)
			dup = v[k]->remote.family == v[i]->remote.family &&
			      v[k]->remote.addr == v[i]->remote.addr;
		if (!dup)
			host_rule(f, verb, v[i], commented);
	}
}

/* The pairs of the unknown (or local) rank: sorted last, after grouping. */
static size_t rank_start(struct seen **v, size_t n, enum by by, enum rank rk)
{
	size_t i = 0;

	while (i < n && rank_of(v[i], by) < rk)
		i++;
	return i;
}

static void allow_seen_rules(FILE *f, const struct report *r,
			     const struct group *g, size_t ng, struct seen **v,
			     size_t n)
{
	enum by by = r->a->by;
	char name[256], label[200];
	size_t u, l;

	for (size_t i = 0; i < ng && g[i].rank == R_KNOWN; i++) {
		const struct cf_attr *a = &g[i].first->remote;

		if (by == BY_ASN)
			fprintf(f, "allow asn %u  # %s, ", a->rec->asn,
				clean(as_label(&g[i], label, sizeof(label)),
				      name, sizeof(name)));
		else
			fprintf(f, "allow country %.2s  # %s, ", a->rec->cc,
				a->country_name ? a->country_name : "");
		counts(f, r, &g[i]);
	}
	/* group() left v sorted by key: unknown, then local, at the end */
	u = rank_start(v, n, by, R_UNKNOWN);
	l = rank_start(v, n, by, R_LOCAL);
	if (u < l) {
		fprintf(f,
			"# not placed by the databases (%s): the hosts seen\n",
			by == BY_ASN ? "no AS" : "no country");
		host_rules(f, "allow", v + u, l - u, false, NULL);
	}
	if (l < n)
		fprintf(f,
			"# %zu local remotes (recorders, NTP on the LAN...): local ranges pass without a rule\n",
			n - l);
}

static void deny_foreign_rules(FILE *f, const struct report *r,
			       const struct group *g, size_t ng,
			       struct seen **v, size_t n)
{
	const char *home = r->a->home;
	char name[256], label[200];
	size_t u, l, n_deny = 0;

	for (size_t i = 0; i < ng && g[i].rank == R_KNOWN; i++) {
		const struct cf_attr *a = &g[i].first->remote;

		if (!g[i].foreign)
			continue;
		n_deny++;
		if (g[i].home)
			fprintf(f,
				"# seen in %s too (%zu of %zu remotes): check before denying\n# ",
				home, g[i].home, g[i].remotes);
		fprintf(f, "deny asn %u  # %s, ", a->rec->asn,
			clean(as_label(&g[i], label, sizeof(label)), name,
			      sizeof(name)));
		counts(f, r, &g[i]);
	}
	if (!n_deny)
		fprintf(f, "# no AS seen outside %s\n", home);
	u = rank_start(v, n, BY_ASN, R_UNKNOWN);
	l = rank_start(v, n, BY_ASN, R_LOCAL);
	if (u < l) {
		fprintf(f, "# hosts outside %s with no AS in the databases:\n",
			home);
		host_rules(f, "deny", v + u, l - u, true, home);
	}
}

static void suggest_write(FILE *f, const struct report *r,
			  const struct group *g, size_t ng, struct seen **v,
			  size_t n)
{
	bool allow = r->a->suggest == S_ALLOW_SEEN;
	time_t now = time(NULL);
	char t[32];

	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", localtime(&now));
	fprintf(f, "# camfence report --suggest %s%s%s, %s\n",
		allow ? "allow-seen" : "deny-foreign", allow ? "" : " --home ",
		allow ? "" : r->a->home, t);
	fprintf(f,
		"# learned: %zu camera/remote pairs, 1 in %u IP packets sampled%s\n",
		r->n, r->rate ? r->rate : 0,
		r->rate ? "" : " (learning is off now)");
	if (allow && !n)
		fprintf(f,
			"# nothing learned: this policy passes local traffic only\n");
	databases(f, r->src.pol);
	fprintf(f, "default %s\n", allow ? "deny" : "allow");
	if (allow)
		allow_seen_rules(f, r, g, ng, v, n);
	else
		deny_foreign_rules(f, r, g, ng, v, n);
}

/* Write the suggestion, check that it parses, print it. */
static int suggest(struct report *r)
{
	enum by by = r->a->suggest == S_ALLOW_SEEN ? r->a->by : BY_ASN;
	struct cf_policy *pol = NULL;
	struct cf_err e = {};
	struct group *g = NULL;
	char *text = NULL, msg[700];
	size_t ng, len;
	FILE *f;
	int err;

	err = group(r->by_cam, r->n, by, r->a->home, &g, &ng);
	f = err ? NULL : open_memstream(&text, &len);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	suggest_write(f, r, g, ng, r->by_cam, r->n);
	fclose(f);
	err = cf_policy_parse(text, len, "<suggestion>", &pol, &e);
	if (err) {
		pr_err("the suggested policy does not parse (a bug): %s",
		       cf_err_str(&e, msg, sizeof(msg)));
		goto out;
	}
	if (cf_g.json) {
		jw_start_object(cf_json());
		jw_string_field(cf_json(), "suggest",
				r->a->suggest == S_ALLOW_SEEN ? "allow-seen" :
								"deny-foreign");
		jw_uint_field(cf_json(), "rules", pol->n_rules);
		jw_string_field(cf_json(), "policy", text);
		jw_end_object(cf_json());
	} else {
		fputs(text, stdout);
	}
out:
	cf_policy_free(pol);
	free(text);
	free(g);
	return err;
}

/* ---- the command ------------------------------------------------------------ */

/* Add to bpf_ktime_get_ns() for wall time. */
static int64_t mono_to_real_ns(void)
{
	struct timespec re, mo;

	clock_gettime(CLOCK_REALTIME, &re);
	clock_gettime(CLOCK_MONOTONIC, &mo);
	return ((int64_t)re.tv_sec - mo.tv_sec) * 1000000000 +
	       (re.tv_nsec - mo.tv_nsec);
}

static int report(struct report_args *a)
{
	struct report r = { .a = a };
	struct cf_runtime rt;
	struct cf_config cfg;
	int err;

	err = cf_runtime_open(&rt, 0);
	if (err)
		return err;
	err = cf_config_read(rt.map[CF_MAP_CONFIG], &cfg) ?:
		      cf_learn_read(rt.map[CF_MAP_LEARN], &r.pairs, &r.n);
	cf_runtime_close(&rt);
	if (err)
		return err;
	r.rate = cfg.learn_rate;
	r.mono_to_real_ns = mono_to_real_ns();
	r.seen = calloc(r.n ? r.n : 1, sizeof(*r.seen));
	r.by_cam = calloc(r.n ? r.n : 1, sizeof(*r.by_cam));
	err = !r.seen || !r.by_cam ? -ENOMEM : load_dbs(&r);
	if (!err) {
		attribute(&r);
		err = a->suggest ? suggest(&r) : report_show(&r);
	}
	cf_source_free(&r.src);
	free(r.by_cam);
	free(r.seen);
	free(r.pairs);
	return err;
}

static int parse_suggest(const char *s, struct report_args *a)
{
	if (!strcmp(s, "allow-seen"))
		a->suggest = S_ALLOW_SEEN;
	else if (!strcmp(s, "deny-foreign"))
		a->suggest = S_DENY_FOREIGN;
	else
		return -EINVAL;
	return 0;
}

static int parse_home(const char *s, struct report_args *a)
{
	if (strlen(s) != 2)
		return -EINVAL;
	a->home[0] = (char)toupper((unsigned char)s[0]);
	a->home[1] = (char)toupper((unsigned char)s[1]);
	return cf_country_valid(a->home) ? 0 : -EINVAL;
}

/* Options; -1 to go on, else the exit code. */
static int report_opt(int c, struct report_args *a)
{
	switch (c) {
	case 's':
		if (!parse_suggest(optarg, a))
			return -1;
		pr_err("--suggest: '%s' is not allow-seen or deny-foreign",
		       optarg);
		return CF_EXIT_USAGE;
	case 'H':
		if (!parse_home(optarg, a))
			return -1;
		pr_err("--home: '%s' is not an ISO 3166-1 country code",
		       optarg);
		return CF_EXIT_USAGE;
	case 'b':
		if (!strcmp(optarg, "asn") || !strcmp(optarg, "country")) {
			a->by = optarg[0] == 'a' ? BY_ASN : BY_COUNTRY;
			return -1;
		}
		pr_err("--by: '%s' is not asn or country", optarg);
		return CF_EXIT_USAGE;
	case 'P':
		a->policy = optarg;
		return -1;
	}
	return cf_common_opt(c, &cf_cmd_report);
}

/* Options that only mean something together. */
static int report_check(const struct report_args *a, bool by_set)
{
	if (a->suggest == S_DENY_FOREIGN && !a->home[0])
		pr_err("--suggest deny-foreign needs --home CC, the country the cameras may talk to");
	else if (a->home[0] && a->suggest != S_DENY_FOREIGN)
		pr_err("--home goes with --suggest deny-foreign");
	else if (by_set && a->suggest != S_ALLOW_SEEN)
		pr_err("--by goes with --suggest allow-seen");
	else
		return 0;
	return -EINVAL;
}

static int do_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "suggest", required_argument, NULL, 's' },
		{ "home", required_argument, NULL, 'H' },
		{ "by", required_argument, NULL, 'b' },
		{ "policy", required_argument, NULL, 'P' },
		CF_COMMON_LONGOPTS,
		{},
	};
	struct report_args a = { .by = BY_ASN };
	bool by_set = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		by_set |= c == 'b';
		ret = report_opt(c, &a);
		if (ret >= 0)
			return ret;
	}
	if (optind < argc) {
		cf_cmd_usage(&cf_cmd_report, true);
		return CF_EXIT_USAGE;
	}
	if (report_check(&a, by_set))
		return CF_EXIT_USAGE;
	return cf_exit_for(report(&a));
}

const struct cf_cmd cf_cmd_report = {
	.name = "report",
	.run = do_report,
	.summary = "what learning recorded, by camera, country and AS",
	.args = "[--suggest allow-seen [--by asn|country] | --suggest deny-foreign --home CC] [--policy FILE]",
	.options =
		"  -s, --suggest allow-seen    print a policy: default deny, allow\n"
		"                              the ASes (or countries) seen\n"
		"  -s, --suggest deny-foreign  print a policy: default allow, deny\n"
		"                              the ASes seen outside --home\n"
		"      --home CC               the cameras' own country\n"
		"      --by asn|country        what allow-seen allows (default asn)\n"
		"      --policy FILE           attribute with FILE's databases (default:\n"
		"                              the active policy's, else the default)\n",
};
