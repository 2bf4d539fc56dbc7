// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_policy.c - cf_policy_parse on arbitrary bytes.
 *
 * Every input either parses into a policy that keeps the parser's promises
 * (valid codes, ASNs and prefixes, no item listed twice, lines and columns
 * inside the text) or fails with -EINVAL and an error that points into the
 * text.  Two more properties tie the parser to itself:
 *  - a parsed policy written back out as text parses to the same policy;
 *  - the same text with CRLF line ends gives the same result, error or
 *    policy, down to lines and columns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "fuzz/fuzz.h"

#define POLICY_PATH "/fuzz/policy.conf"
#define EVENT_RATE_MAX 1000000 /* parse.c's limits */
#define EVENT_BURST_MAX (2 * EVENT_RATE_MAX)

/* An item reduced to what makes it a duplicate of another. */
struct key {
	cf_u128 v;
	uint8_t kind;
	uint8_t family;
	uint8_t len;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->family != y->family)
		return x->family - y->family;
	if (x->len != y->len)
		return x->len - y->len;
	return x->v < y->v ? -1 : x->v > y->v;
}

static void check_item(const struct cf_rule *r, const struct cf_item *it,
		       struct key *k)
{
	const struct cf_prefix *p = &it->net;

	*k = (struct key){ .kind = r->match };
	switch (r->match) {
	case CF_MATCH_COUNTRY:
		FZ_CHECK(it->cc[2] == '\0' && cf_country_valid(it->cc),
			 "line %u: bad country code accepted", r->line);
		FZ_CHECK((it->cc[0] < 'a' || it->cc[0] > 'z') &&
				 (it->cc[1] < 'a' || it->cc[1] > 'z'),
			 "line %u: country '%s' not upper case", r->line,
			 it->cc);
		k->v = (unsigned)it->cc[0] << 8 | (unsigned)it->cc[1];
		break;
	case CF_MATCH_ASN:
		FZ_CHECK(it->asn, "line %u: ASN 0 accepted", r->line);
		k->v = it->asn;
		break;
	case CF_MATCH_NET:
		FZ_CHECK((p->family == CF_AF_V4 || p->family == CF_AF_V6) &&
				 p->len <= cf_af_bits(p->family),
			 "line %u: bad prefix family %u len %u", r->line,
			 p->family, p->len);
		FZ_CHECK(cf_prefix_first(p) == p->addr,
			 "line %u: prefix %s/%u has host bits", r->line,
			 fz_addr(p->addr, p->family), p->len);
		k->v = p->addr;
		k->family = p->family;
		k->len = p->len;
		break;
	default:
		fz_fail("line %u: match %d", r->line, r->match);
	}
}

/* Each rule's items are valid; no item appears twice in the policy. */
static void check_rules(const struct cf_policy *p, unsigned lines)
{
	struct key *keys;
	size_t i, k, n = 0;

	for (i = 0; i < p->n_rules; i++)
		n += p->rules[i].n_items;
	keys = calloc(n + 1, sizeof(*keys));
	FZ_CHECK(keys, "out of memory");
	for (i = 0, n = 0; i < p->n_rules; i++) {
		const struct cf_rule *r = &p->rules[i];

		FZ_CHECK(r->action <= CF_MONITOR, "rule %zu: action %d", i,
			 r->action);
		FZ_CHECK(r->line >= 1 && r->line <= lines && r->n_items,
			 "rule %zu: line %u of %u, %zu items", i, r->line,
			 lines, r->n_items);
		for (k = 0; k < r->n_items; k++) {
			FZ_CHECK(r->items[k].col >= 1, "rule %zu: column 0", i);
			check_item(r, &r->items[k], &keys[n++]);
		}
	}
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 1; i < n; i++)
		FZ_CHECK(cmp_key(&keys[i - 1], &keys[i]),
			 "an item is listed twice");
	free(keys);
}

static void check_policy(const struct cf_policy *p, unsigned lines)
{
	size_t i;

	FZ_CHECK(p->path && !strcmp(p->path, POLICY_PATH), "policy path");
	FZ_CHECK(p->default_action == CF_ALLOW || p->default_action == CF_DENY,
		 "default action %d", p->default_action);
	FZ_CHECK(p->malformed == CF_ALLOW || p->malformed == CF_DENY,
		 "malformed %d", p->malformed);
	FZ_CHECK(p->event_rate <= EVENT_RATE_MAX &&
			 p->event_burst <= EVENT_BURST_MAX &&
			 (!p->event_rate || p->event_burst >= p->event_rate),
		 "event-rate %u %u", p->event_rate, p->event_burst);
	for (i = 0; i < p->n_dbs; i++) {
		const struct cf_db_ref *d = &p->dbs[i];

		FZ_CHECK(d->format <= CF_DB_CSV && d->path &&
				 d->path[0] == '/' && d->line >= 1 &&
				 d->line <= lines,
			 "database %zu: format %d path '%s' line %u", i,
			 d->format, d->path ? d->path : "(null)", d->line);
	}
	check_rules(p, lines);
}

static const char *const fmt_words[] = {
	[CF_DB_AUTO] = NULL,
	[CF_DB_LIBLOC] = "libloc",
	[CF_DB_MMDB] = "mmdb",
	[CF_DB_CSV] = "csv",
};

static void write_item(FILE *f, const struct cf_rule *r,
		       const struct cf_item *it)
{
	char a[CF_ADDR_STRLEN];

	if (r->match == CF_MATCH_COUNTRY)
		fprintf(f, " %s", it->cc);
	else if (r->match == CF_MATCH_ASN)
		fprintf(f, " AS%u", it->asn);
	else
		fprintf(f, " %s/%u",
			cf_addr_format(it->net.addr, it->net.family, a),
			it->net.len);
}

/* The policy as text the parser must read back to the same policy. */
static char *write_policy(const struct cf_policy *p, size_t *len)
{
	static const char *const match[] = { "country", "asn", "net" };
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	size_t i, k;

	FZ_CHECK(f, "open_memstream");
	fprintf(f, "default %s\nmalformed %s\nevent-rate %u %u\n",
		p->default_action == CF_DENY ? "deny" : "allow",
		p->malformed == CF_DENY ? "drop" : "pass", p->event_rate,
		p->event_burst);
	for (i = 0; i < p->n_dbs; i++)
		fprintf(f, "database %s%s%s\n",
			fmt_words[p->dbs[i].format] ?: "",
			fmt_words[p->dbs[i].format] ? " " : "", p->dbs[i].path);
	for (i = 0; i < p->n_rules; i++) {
		const struct cf_rule *r = &p->rules[i];

		fputs(cf_action_str(r->action), f);
		fprintf(f, " %s", match[r->match]);
		for (k = 0; k < r->n_items; k++)
			write_item(f, r, &r->items[k]);
		fputc('\n', f);
	}
	FZ_CHECK(!fclose(f), "open_memstream");
	return text;
}

static bool same_item(enum cf_match m, const struct cf_item *a,
		      const struct cf_item *b)
{
	if (m == CF_MATCH_COUNTRY)
		return !strcmp(a->cc, b->cc);
	if (m == CF_MATCH_ASN)
		return a->asn == b->asn;
	return a->net.addr == b->net.addr && a->net.family == b->net.family &&
	       a->net.len == b->net.len;
}

/* Same meaning; with `where`, also the same lines and columns. */
static bool same_policy(const struct cf_policy *a, const struct cf_policy *b,
			bool where)
{
	size_t i, k;

	if (a->default_action != b->default_action ||
	    a->malformed != b->malformed || a->event_rate != b->event_rate ||
	    a->event_burst != b->event_burst || a->n_dbs != b->n_dbs ||
	    a->n_rules != b->n_rules)
		return false;
	for (i = 0; i < a->n_dbs; i++)
		if (a->dbs[i].format != b->dbs[i].format ||
		    strcmp(a->dbs[i].path, b->dbs[i].path) ||
		    (where && a->dbs[i].line != b->dbs[i].line))
			return false;
	for (i = 0; i < a->n_rules; i++) {
		const struct cf_rule *x = &a->rules[i], *y = &b->rules[i];

		if (x->action != y->action || x->match != y->match ||
		    x->n_items != y->n_items || (where && x->line != y->line))
			return false;
		for (k = 0; k < x->n_items; k++)
			if (!same_item(x->match, &x->items[k], &y->items[k]) ||
			    (where && x->items[k].col != y->items[k].col))
				return false;
	}
	return true;
}

static void check_roundtrip(const struct cf_policy *p)
{
	struct cf_policy *q = NULL;
	struct cf_err e = { 0 };
	size_t len;
	char *text = write_policy(p, &len);

	if (cf_policy_parse(text, len, POLICY_PATH, &q, &e))
		fz_fail("policy written back does not parse: %u:%u: %s\n%s",
			e.line, e.col, e.msg, text);
	FZ_CHECK(same_policy(p, q, false),
		 "policy written back parses differently:\n%s", text);
	cf_policy_free(q);
	free(text);
}

/*
 * The input with every "\n" made "\r\n"; NULL when it has none.  A line
 * that already ended in CR gets a second one, which the parser must take
 * as a blank.  (Only a line at the 64 KiB limit could tell the two apart,
 * and inputs stay far below it.)
 */
static uint8_t *crlf(const uint8_t *d, size_t n, size_t *len)
{
	size_t i, nl = 0;
	uint8_t *out, *o;

	for (i = 0; i < n; i++)
		nl += d[i] == '\n';
	if (!nl)
		return NULL;
	out = o = malloc(n + nl);
	FZ_CHECK(out, "out of memory");
	for (i = 0; i < n; i++) {
		if (d[i] == '\n')
			*o++ = '\r';
		*o++ = d[i];
	}
	*len = n + nl;
	return out;
}

static void check_crlf(const uint8_t *d, size_t n, int err,
		       const struct cf_policy *p, const struct cf_err *e)
{
	struct cf_policy *q = NULL;
	struct cf_err e2 = { 0 };
	size_t len;
	uint8_t *text = crlf(d, n, &len);
	int err2;

	if (!text)
		return;
	err2 = cf_policy_parse((const char *)text, len, POLICY_PATH, &q, &e2);
	FZ_CHECK(err == err2, "CRLF changes the result: %d, then %d (%s)", err,
		 err2, err2 ? e2.msg : e->msg);
	if (err)
		FZ_CHECK(e->line == e2.line && e->col == e2.col &&
				 !strcmp(e->msg, e2.msg),
			 "CRLF moves the error: %u:%u: %s, then %u:%u: %s",
			 e->line, e->col, e->msg, e2.line, e2.col, e2.msg);
	else
		FZ_CHECK(same_policy(p, q, true), "CRLF changes the policy");
	cf_policy_free(q);
	free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* "database default" must resolve to the absolute packaged path. */
	unsetenv("CAMFENCE_DATABASE");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char untouched;
	struct cf_policy *p = (struct cf_policy *)&untouched;
	struct cf_err e = { 0 };
	int err;

	err = cf_policy_parse((const char *)data, size, POLICY_PATH, &p, &e);
	if (err) {
		FZ_CHECK(err == -EINVAL, "parse returned %d: %s", err, e.msg);
		FZ_CHECK(p == (struct cf_policy *)&untouched,
			 "*out written on error");
		fz_check_text_err(&e, POLICY_PATH, data, size);
		FZ_CHECK(e.line, "error without a line: %s", e.msg);
		check_crlf(data, size, err, NULL, &e);
		return 0;
	}
	check_policy(p, fz_count_lines(data, size));
	check_roundtrip(p);
	check_crlf(data, size, err, p, &e);
	cf_policy_free(p);
	return 0;
}
