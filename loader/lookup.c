// SPDX-License-Identifier: GPL-2.0-only
/*
 * lookup.c - `camfence lookup ADDR...`: explain a verdict.  For each
 * address: the database record, the rule that decides, the class and its
 * verdict, and what the kernel's live image says (which must agree when
 * the same policy is live).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "main.h"
#include "source.h"
#include "table.h"

/* One database's own records, read again to say which file said what. */
struct db_recs {
	struct cf_reclist l[2]; /* [0] IPv4, [1] IPv6 */
	bool loaded[2];
};

struct explainer {
	struct cf_source src;
	struct db_recs *recs; /* per database of src.dbs */
	struct cf_live_image live;
	bool have_live;
	bool active; /* explaining the policy pushed last */
};

struct answer {
	char arg[CF_ADDR_STRLEN];
	struct cf_attr a;
	const char *cc_from, *asn_from; /* database files */
	uint32_t cls, check;		/* compiled, and by the rule semantics */
	const struct cf_class_meta *m;
	const struct cf_prefix *net;	/* the net item that matched */
	uint32_t kcls;			/* the live image's class */
	const struct cf_class_meta *km;
};

static const struct cf_rec *rec_find(const struct cf_reclist *l, cf_u128 a)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].last < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->v[lo].first <= a ? &l->v[lo] : NULL;
}

/* Database k's own record for the address (records read on demand). */
static const struct cf_rec *db_rec(struct explainer *x, size_t k,
				   cf_u128 addr, int family)
{
	struct db_recs *r = &x->recs[k];
	int f = family == CF_AF_V4 ? 0 : 1;
	struct cf_err e = {};

	if (!r->loaded[f]) {
		r->loaded[f] = true;
		if (cf_db_records(x->src.dbs->db[k], family, &r->l[f], &e))
			return NULL;
	}
	return rec_find(&r->l[f], addr);
}

/* Later databases override per attribute: the last that states it. */
static void sources(struct explainer *x, struct answer *ans)
{
	const struct cf_dbset *s = x->src.dbs;
	const struct cf_rec *r;

	for (size_t k = 0; s && k < s->n; k++) {
		r = s->n == 1 ? ans->a.rec :
				db_rec(x, k, ans->a.addr, ans->a.family);
		if (r && (r->has & CF_HAS_CC))
			ans->cc_from = cf_db_path(s->db[k]);
		if (r && (r->has & CF_HAS_ASN))
			ans->asn_from = cf_db_path(s->db[k]);
	}
}

/* For a net class: the longest prefix of its rule holding the address. */
static const struct cf_prefix *net_item(const struct cf_policy *p,
					const struct cf_class_meta *m,
					cf_u128 addr, int family)
{
	const struct cf_prefix *best = NULL, *n;
	const struct cf_rule *r;

	if (m->kind != CF_KIND_NET || m->rule >= p->n_rules)
		return NULL;
	r = &p->rules[m->rule];
	for (size_t i = 0; i < r->n_items; i++) {
		n = &r->items[i].net;
		if (n->family == family && addr >= cf_prefix_first(n) &&
		    addr <= cf_prefix_last(n) && (!best || n->len > best->len))
			best = n;
	}
	return best;
}

static void explain(struct explainer *x, struct answer *ans, cf_u128 addr,
		    int family)
{
	const struct cf_compiled *c = x->src.comp;

	cf_attr_find(x->src.dbs, addr, family, &ans->a);
	sources(x, ans);
	ans->cls = cf_compiled_class(c, ans->a.addr, ans->a.family);
	/* without a database record the rules cannot be checked here */
	if (x->src.artifact)
		ans->check = ans->cls;
	else
		ans->check = cf_policy_classify(c, x->src.pol, ans->a.rec,
						ans->a.addr, ans->a.family);
	ans->m = ans->cls < c->n_classes ? &c->classes[ans->cls] : NULL;
	if (ans->m)
		ans->net = net_item(x->src.pol, ans->m, ans->a.addr,
				    ans->a.family);
	if (!x->have_live)
		return;
	/* the live image unwraps embedded IPv4 itself, as the datapath */
	ans->kcls = cf_image_lookup(x->live.w, addr, family);
	ans->km = cf_image_class(x->live.w, ans->kcls);
}

static bool agrees(const struct answer *ans)
{
	return ans->m && ans->km &&
	       cf_class_key(ans->m) == cf_class_key(ans->km) &&
	       ans->m->verdict == ans->km->verdict;
}

/* Line n of the policy text, trimmed, into buf. */
static const char *rule_text(const struct cf_source *s, unsigned n,
			     char *buf, size_t len)
{
	const char *p = s->text, *end = s->text + s->len, *nl;

	buf[0] = '\0';
	for (unsigned i = 1; p && p < end && i < n; i++) {
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : NULL;
	}
	if (!n || !p || p >= end)
		return buf;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		nl = end;
	if (nl > p && nl[-1] == '\r') /* a CRLF file */
		nl--;
	snprintf(buf, len, "%.*s", (int)(nl - p), p);
	return buf;
}

static void db_text(const struct explainer *x, const struct answer *ans)
{
	const struct cf_rec *r = ans->a.rec;
	char f[CF_ADDR_STRLEN], l[CF_ADDR_STRLEN], who[256];

	if (x->src.artifact) {
		cf_line("  database: not available (%s an artifact)",
			x->active ? "pushed from" : "policy is");
		return;
	}
	if (!r) {
		cf_line("  database: not in the databases");
		return;
	}
	cf_line("  database: %s", cf_attr_str(&ans->a, who, sizeof(who)));
	if (ans->cc_from)
		cf_line("            country from %s", ans->cc_from);
	if (ans->asn_from)
		cf_line("            AS from %s", ans->asn_from);
	cf_line("            range %s - %s",
		cf_addr_format(r->first, r->family, f),
		cf_addr_format(r->last, r->family, l));
}

static void kernel_text(const struct explainer *x, const struct answer *ans)
{
	char label[384];

	if (!x->have_live) {
		cf_line("  kernel:   no policy image loaded");
		return;
	}
	cf_line("  kernel:   class %u (%s), generation %llu: %s", ans->kcls,
		cf_class_label(x->live.w, ans->kcls, label, sizeof(label)),
		(unsigned long long)cf_image_hdr(x->live.w)->generation,
		agrees(ans) ? "agrees" : "DIFFERS from this policy");
}

/*
 * RFC 8215's local-use NAT64 prefix: where its IPv4 address sits depends
 * on a prefix length the site chose, so the datapath does not guess.
 */
static bool nat64_local(const struct answer *ans)
{
	return ans->a.family == CF_AF_V6 && cf_addr_nat64_local(ans->a.addr);
}

static void answer_text(const struct explainer *x, const struct answer *ans)
{
	const struct cf_compiled *c = x->src.comp;
	char label[384], text[256], a[CF_ADDR_STRLEN];

	cf_line("%s", ans->arg);
	if (ans->a.embedded)
		cf_line("  embedded IPv4 %s: the datapath judges that",
			cf_addr_format(ans->a.addr, CF_AF_V4, a));
	else if (nat64_local(ans))
		cf_line("  local-use NAT64 (64:ff9b:1::/48, RFC 8215): not decoded; judged as IPv6");
	db_text(x, ans);
	if (ans->m) {
		cf_meta_label(ans->m, c->policy_path, label, sizeof(label));
		rule_text(&x->src, ans->m->line, text, sizeof(text));
		cf_line("  rule:     %s%s%s%s", label, *text ? ": \"" : "",
			text, *text ? "\"" : "");
		if (ans->net)
			cf_line("            matching %s/%u",
				cf_addr_format(ans->net->addr, ans->net->family,
					       a),
				ans->net->len);
		cf_line("  class:    %u, verdict %s", ans->cls,
			cf_verdict_str(ans->m->verdict));
	}
	kernel_text(x, ans);
}

static void rec_json(const struct explainer *x, const struct answer *ans)
{
	const struct cf_rec *r = ans->a.rec;
	struct json_writer *jw = cf_json();
	char a[CF_ADDR_STRLEN];

	jw_name(jw, "database");
	if (x->src.artifact) {
		jw_null(jw); /* an artifact carries no databases */
		return;
	}
	jw_start_object(jw);
	cf_attr_json(&ans->a);
	jw_string_field(jw, "country_from", ans->cc_from);
	jw_string_field(jw, "asn_from", ans->asn_from);
	jw_name(jw, "range");
	if (r) {
		jw_start_object(jw);
		jw_string_field(jw, "first", cf_addr_format(r->first, r->family, a));
		jw_string_field(jw, "last", cf_addr_format(r->last, r->family, a));
		jw_end_object(jw);
	} else {
		jw_null(jw);
	}
	jw_end_object(jw);
}

static void rule_json(const struct explainer *x, const struct answer *ans)
{
	struct json_writer *jw = cf_json();
	char label[384], text[256], a[CF_ADDR_STRLEN];

	jw_uint_field(jw, "class", ans->cls);
	jw_name(jw, "rule");
	if (!ans->m) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_string_field(jw, "label", cf_meta_label(ans->m, x->src.comp->policy_path,
						   label, sizeof(label)));
	jw_uint_field(jw, "line", ans->m->line);
	jw_string_field(jw, "text",
			rule_text(&x->src, ans->m->line, text, sizeof(text)));
	if (ans->net)
		jw_printf_field(jw, "net", "%s/%u",
				cf_addr_format(ans->net->addr,
					       ans->net->family, a),
				ans->net->len);
	jw_end_object(jw);
	jw_string_field(jw, "verdict", cf_verdict_str(ans->m->verdict));
}

static void kernel_json(const struct explainer *x, const struct answer *ans)
{
	struct json_writer *jw = cf_json();
	char label[384];

	jw_name(jw, "kernel");
	if (!x->have_live) {
		jw_null(jw);
		return;
	}
	jw_start_object(jw);
	jw_uint_field(jw, "generation", cf_image_hdr(x->live.w)->generation);
	jw_uint_field(jw, "class", ans->kcls);
	jw_string_field(jw, "label", cf_class_label(x->live.w, ans->kcls,
						    label, sizeof(label)));
	jw_string_field(jw, "verdict",
			ans->km ? cf_verdict_str(ans->km->verdict) : NULL);
	jw_bool_field(jw, "agrees", agrees(ans));
	jw_end_object(jw);
}

static void answer_json(const struct explainer *x, const struct answer *ans)
{
	struct json_writer *jw = cf_json();
	char a[CF_ADDR_STRLEN];

	jw_start_object(jw);
	jw_string_field(jw, "address", ans->arg);
	jw_name(jw, "embedded_v4");
	if (ans->a.embedded)
		jw_string(jw, cf_addr_format(ans->a.addr, CF_AF_V4, a));
	else
		jw_null(jw);
	jw_bool_field(jw, "nat64_local_use", nat64_local(ans));
	rec_json(x, ans);
	rule_json(x, ans);
	kernel_json(x, ans);
	jw_end_object(jw);
}

/* --policy, else the one last pushed, else the installed file, else an
 * empty policy over the default database. */
static int choose_policy(const char *opt, struct explainer *x)
{
	struct cf_source *s = &x->src;
	char *empty;
	int err;

	if (opt)
		return cf_source_read(s, opt);
	err = cf_source_active(s, false);
	x->active = !err;
	if (err != -ENOENT)
		return err;
	if (!access(CF_POLICY_DEFAULT, F_OK))
		return cf_source_read(s, CF_POLICY_DEFAULT);
	empty = strdup("");
	if (!empty)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	return cf_source_parse(s, empty, 0, "(no policy)");
}

static int prepare(struct explainer *x, const char *policy)
{
	struct cf_runtime rt;
	int err;

	err = choose_policy(policy, x);
	if (!err && !x->src.artifact)
		err = cf_source_load_dbs(&x->src) ?: cf_source_compile(&x->src);
	if (err)
		return err;
	x->recs = calloc(x->src.dbs && x->src.dbs->n ? x->src.dbs->n : 1,
			 sizeof(*x->recs));
	if (!x->recs)
		return -ENOMEM;
	x->live.fd = -1;
	if (cf_runtime_open(&rt, CF_RT_QUIET))
		return 0; /* not loaded: explain the policy alone */
	err = cf_live_open(rt.map[CF_MAP_POLICY], &x->live);
	x->have_live = !err;
	cf_runtime_close(&rt);
	if (err == -EBADMSG)
		pr_warn("%s", x->live.why);
	return err == -ENOENT || err == -EBADMSG ? 0 : err;
}

static void release(struct explainer *x)
{
	for (size_t k = 0; x->recs && x->src.dbs && k < x->src.dbs->n; k++) {
		cf_reclist_free(&x->recs[k].l[0]);
		cf_reclist_free(&x->recs[k].l[1]);
	}
	free(x->recs);
	cf_live_close(&x->live);
	cf_source_free(&x->src);
}

static int parse_addrs(char **argv, int n, cf_u128 *addr, int *family)
{
	for (int i = 0; i < n; i++) {
		if (cf_addr_parse(argv[i], &addr[i], &family[i])) {
			pr_err("'%s' is not an IPv4 or IPv6 address", argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static void answer(struct explainer *x, const char *arg, cf_u128 addr,
		   int family)
{
	struct answer ans = {};

	snprintf(ans.arg, sizeof(ans.arg), "%s", arg);
	explain(x, &ans, addr, family);
	if (ans.check != ans.cls)
		pr_warn("%s: the compiled tables say class %u, the rules say class %u",
			arg, ans.cls, ans.check);
	if (cf_g.json)
		answer_json(x, &ans);
	else
		answer_text(x, &ans);
}

static int lookup(char **argv, int n, const char *policy)
{
	struct explainer x = { .live.fd = -1 };
	cf_u128 *addr = calloc((size_t)n, sizeof(*addr));
	int *family = calloc((size_t)n, sizeof(*family));
	int err = addr && family ? 0 : -ENOMEM;

	err = err ?: parse_addrs(argv, n, addr, family);
	err = err ?: prepare(&x, policy);
	if (!err && cf_g.json) {
		jw_start_object(cf_json());
		jw_string_field(cf_json(), "policy", x.src.path);
		cf_source_json_embedded(&x.src);
		jw_name(cf_json(), "addresses");
		jw_start_array(cf_json());
	} else if (!err) {
		cf_line("policy %s%s%s%s", x.src.path,
			x.src.artifact ? " (artifact of " : "",
			x.src.artifact ? cf_path_name(x.src.comp->policy_path) :
					 "",
			x.src.artifact ? ")" : "");
	}
	for (int i = 0; !err && i < n; i++)
		answer(&x, argv[i], addr[i], family[i]);
	if (!err && cf_g.json) {
		jw_end_array(cf_json());
		jw_end_object(cf_json());
	}
	release(&x);
	free(addr);
	free(family);
	return err;
}

int do_lookup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'P' },
		CF_COMMON_LONGOPTS,
		{},
	};
	const char *policy = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "P:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'P')
			policy = optarg;
		else if ((ret = cf_common_opt(c, &cf_cmd_lookup)) >= 0)
			return ret;
	}
	if (optind >= argc) {
		pr_err("lookup: which address? (camfence lookup ADDR...)");
		return CF_EXIT_USAGE;
	}
	return cf_exit_for(lookup(argv + optind, argc - optind, policy));
}

const struct cf_cmd cf_cmd_lookup = {
	.name = "lookup",
	.run = do_lookup,
	.summary = "explain the verdict on addresses: database record, rule, class, kernel",
	.args = "ADDR... [--policy FILE]",
	.options =
		"  -P, --policy FILE  explain with this policy (default: the one\n"
		"                     pushed last, else " CF_POLICY_DEFAULT ",\n"
		"                     else the default database alone)\n",
};
