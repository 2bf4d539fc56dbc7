// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics.c - the Prometheus exposition of camfence's state, and the
 * database freshness check status shares.
 *
 * Everything is read from the kernel first (a snapshot), then printed:
 * a failed read leaves the output untouched, and one scrape shows one
 * consistent set of classes, the live image's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "counters.h"
#include "hook.h"
#include "image.h"
#include "link.h"
#include "log.h"
#include "main.h"
#include "metrics.h"
#include "state.h"

#define DAY_S 86400

struct snap {
	struct cf_live_image li;
	const uint32_t *w;	  /* the live image, NULL when none */
	struct cf_counter *cls;	  /* per class of w */
	struct cf_counter stat[CF_STAT_MAX];
	struct cf_att_list att;
	time_t now;
};

static const char *const kind_names[] = {
	[CF_KIND_DEFAULT] = "default", [CF_KIND_LOCAL] = "local",
	[CF_KIND_COUNTRY] = "country", [CF_KIND_ASN] = "asn",
	[CF_KIND_NET] = "net",
};

/* ---------------------------------------------------------- freshness */

static unsigned long max_age_days = CF_DB_MAX_AGE_DEFAULT;

int cf_db_max_age_init(const char *opt)
{
	const char *name = "--max-db-age";
	unsigned long v;
	int err;

	if (!opt) {
		opt = getenv("CAMFENCE_MAX_DB_AGE");
		name = "CAMFENCE_MAX_DB_AGE";
		if (!opt || !*opt)
			return 0;
	}
	err = cf_parse_ulong(name, opt, CF_DB_MAX_AGE_LIMIT, &v);
	if (!err)
		max_age_days = v;
	return err;
}

void cf_db_max_age_set(unsigned long days)
{
	max_age_days = days;
}

unsigned long cf_db_max_age_days(void)
{
	return max_age_days;
}

void cf_db_age_get(time_t built_at, time_t now, struct cf_db_age *a)
{
	a->known = built_at > 0;
	a->age_s = a->known && now > built_at ? (int64_t)(now - built_at) : 0;
	a->max_days = max_age_days;
	a->stale = a->known && a->max_days &&
		   a->age_s > (int64_t)a->max_days * DAY_S;
}

const char *cf_db_age_warning(time_t built_at, const struct cf_db_age *a,
			      char *buf, size_t len)
{
	char day[16] = "unknown";
	struct tm tm;

	if (gmtime_r(&built_at, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(buf, len, "database built %s is %" PRId64 " days old (max %lu)",
		 day, a->age_s / DAY_S, a->max_days);
	return buf;
}

/* ----------------------------------------------------------- snapshot */

static int read_classes(const struct cf_runtime *rt, struct snap *s)
{
	uint32_t n = cf_image_hdr(s->w)->n_classes, slot;
	int err = 0;

	s->cls = calloc(n ? n : 1, sizeof(*s->cls));
	if (!s->cls)
		return -ENOMEM;
	for (uint32_t i = 0; !err && i < n; i++) {
		slot = CF_CLASS_COUNTER(s->w[CF_CLASS_OFF + i]);
		err = cf_counter_read(rt->map[CF_MAP_COUNTERS], slot,
				      &s->cls[i]);
	}
	return err;
}

static void snap_free(struct snap *s)
{
	free(s->cls);
	if (s->w)
		cf_live_close(&s->li);
	cf_att_list_free(&s->att);
}

static int snap_take(const struct cf_runtime *rt, struct snap *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->now = time(NULL);
	err = cf_live_open(rt->map[CF_MAP_POLICY], &s->li);
	if (err == -EBADMSG)
		pr_err("%s", s->li.why);
	if (err && err != -ENOENT)
		return err;
	s->w = err ? NULL : s->li.w;
	err = s->w ? read_classes(rt, s) : 0;
	for (int i = 0; !err && i < CF_STAT_MAX; i++)
		err = cf_counter_read(rt->map[CF_MAP_STATS], (uint32_t)i,
				      &s->stat[i]);
	if (err) {
		pr_err("cannot read the counters: %s", strerror(-err));
		goto out;
	}
	err = cf_att_list_read(&s->att);
out:
	if (err)
		snap_free(s);
	return err;
}

/* ------------------------------------------------------------ classes */

/* {rule="deny country CN",action="deny",kind="country",country="CN"} */
static void class_labels(FILE *f, const uint32_t *w, uint32_t cls)
{
	const struct cf_class_meta *m = cf_image_class(w, cls);
	uint32_t v = CF_CLASS_VERDICT(w[CF_CLASS_OFF + cls]);
	char rule[128], num[16];

	cf_class_str(m, rule, sizeof(rule));
	fputc('{', f);
	cf_prom_label(f, "rule", rule, true);
	cf_prom_label(f, "action", v == CF_VERDICT_DROP ? "deny" :
				   v == CF_VERDICT_MONITOR ? "monitor" :
							     "allow", false);
	cf_prom_label(f, "kind", m->kind <= CF_KIND_NET ?
				 kind_names[m->kind] : "unknown", false);
	if (m->kind == CF_KIND_COUNTRY) {
		snprintf(num, sizeof(num), "%.2s", (const char *)m->cc);
		cf_prom_label(f, "country", num, false);
	} else if (m->kind == CF_KIND_ASN) {
		snprintf(num, sizeof(num), "%u", m->asn);
		cf_prom_label(f, "asn", num, false);
	} else if (m->kind == CF_KIND_NET) {
		snprintf(num, sizeof(num), "%u", m->line);
		cf_prom_label(f, "net_line", num, false);
	}
	fputc('}', f);
}

static void print_classes(FILE *f, const struct snap *s)
{
	uint32_t n = s->w ? cf_image_hdr(s->w)->n_classes : 0;

	cf_prom_family(f, "camfence_class_packets_total", "counter",
		       "Packets judged by a class of the live policy (a rule, or one country or ASN of a rule), summed over CPUs.");
	for (uint32_t i = 0; i < n; i++) {
		fputs("camfence_class_packets_total", f);
		class_labels(f, s->w, i);
		fprintf(f, " %" PRIu64 "\n", (uint64_t)s->cls[i].packets);
	}
	cf_prom_family(f, "camfence_class_bytes_total", "counter",
		       "Bytes (whole frames) judged by a class of the live policy.");
	for (uint32_t i = 0; i < n; i++) {
		fputs("camfence_class_bytes_total", f);
		class_labels(f, s->w, i);
		fprintf(f, " %" PRIu64 "\n", (uint64_t)s->cls[i].bytes);
	}
}

/* Drops are what the live policy's deny classes counted. */
static void print_drops(FILE *f, const struct snap *s)
{
	uint32_t n = s->w ? cf_image_hdr(s->w)->n_classes : 0;
	struct cf_counter d = {};

	for (uint32_t i = 0; i < n; i++) {
		if (CF_CLASS_VERDICT(s->w[CF_CLASS_OFF + i]) != CF_VERDICT_DROP)
			continue;
		d.packets += s->cls[i].packets;
		d.bytes += s->cls[i].bytes;
	}
	cf_prom_family(f, "camfence_dropped_packets_total", "counter",
		       "Packets dropped by the deny classes of the live policy.");
	fprintf(f, "camfence_dropped_packets_total %" PRIu64 "\n",
		(uint64_t)d.packets);
	cf_prom_family(f, "camfence_dropped_bytes_total", "counter",
		       "Bytes dropped by the deny classes of the live policy.");
	fprintf(f, "camfence_dropped_bytes_total %" PRIu64 "\n",
		(uint64_t)d.bytes);
}

/* ----------------------------------------------------------- datapath */

static const char *const stat_help[CF_STAT_MAX] = {
	[CF_STAT_NON_IP] = "Frames passed because they are not IPv4 or IPv6.",
	[CF_STAT_MALFORMED] = "Frames with a truncated or bad IP header, judged by the policy's malformed setting.",
	[CF_STAT_NO_POLICY] = "Packets judged by on-missing-policy because no policy was loaded.",
	[CF_STAT_EVENTS] = "Drop and monitor events written to the ring buffer.",
	[CF_STAT_EVENTS_SUPPRESSED] = "Events not written because of the per-CPU rate limit.",
	[CF_STAT_EVENTS_LOST] = "Events lost because the ring buffer was full.",
	[CF_STAT_NDP] = "IPv6 neighbour discovery packets passed before any lookup.",
};

static void print_datapath(FILE *f, const struct snap *s)
{
	char name[64];

	for (int i = 0; i < CF_STAT_MAX; i++) {
		bool ev = i == CF_STAT_EVENTS ||
			  i == CF_STAT_EVENTS_SUPPRESSED ||
			  i == CF_STAT_EVENTS_LOST;

		snprintf(name, sizeof(name), "camfence_%s%s_total",
			 cf_stat_names[i], ev ? "" : "_packets");
		cf_prom_family(f, name, "counter", stat_help[i]);
		fprintf(f, "%s %" PRIu64 "\n", name,
			(uint64_t)s->stat[i].packets);
	}
}

/* ------------------------------------------------- policy and database */

static void gauge(FILE *f, const char *name, const char *help, int64_t v)
{
	cf_prom_family(f, name, "gauge", help);
	fprintf(f, "%s %" PRId64 "\n", name, v);
}

/*
 * The digest status shows: read back from the live tables (image.h), not
 * the header's claim, and "unknown" when they cannot be read back; with
 * whether status warns about it (the header says otherwise, or no read
 * back).  Reading back costs ~30 ms on a policy over the full
 * location.db, too much for every scrape in the daemon's loop, so it is
 * remembered for the map it was read from: camfence freezes an image map
 * as it makes it, and the kernel hands out map ids cyclically, so one id
 * is one content until 2^31 maps later.
 */
struct live_digest {
	uint32_t map_id; /* 0: nothing remembered */
	bool mismatch;
	char hex[65];
};

static const struct live_digest *live_digest(const struct snap *s)
{
	static struct live_digest memo;
	char claim[65];
	uint8_t d[32];

	if (memo.map_id == s->li.id)
		return &memo;
	memo.map_id = 0;
	if (cf_live_digest(&s->li, d, NULL, 0)) {
		snprintf(memo.hex, sizeof(memo.hex), "unknown");
		memo.mismatch = true;
	} else {
		cf_digest_hex(d, memo.hex);
		cf_digest_hex(cf_image_hdr(s->w)->digest, claim);
		memo.mismatch = strcmp(claim, memo.hex) != 0;
	}
	memo.map_id = s->li.id;
	return &memo;
}

static void print_policy(FILE *f, const struct snap *s)
{
	const struct cf_image_hdr *h = s->w ? cf_image_hdr(s->w) : NULL;
	const struct live_digest *dg;

	gauge(f, "camfence_policy_loaded",
	      "1 when a policy image is installed, 0 when none judges traffic.",
	      h != NULL);
	if (!h)
		return;
	dg = live_digest(s);
	cf_prom_family(f, "camfence_policy_info", "gauge",
		       "The live policy: SHA-256 digest of its tables, read back from the kernel as status shows it (unknown when they cannot be), and the file pushed.");
	fputs("camfence_policy_info{", f);
	cf_prom_label(f, "digest", dg->hex, true);
	cf_prom_label(f, "path", h->policy_path, false);
	fputs("} 1\n", f);
	gauge(f, "camfence_policy_digest_mismatch",
	      "1 when the live image's tables are not what its header claims (another digest, or none can be read back), as status warns; push the policy again.",
	      dg->mismatch);
	gauge(f, "camfence_policy_generation",
	      "Push counter of the live policy image.", (int64_t)h->generation);
	gauge(f, "camfence_policy_classes",
	      "Classes (rules, countries and ASNs listed) of the live policy.",
	      h->n_classes);
	gauge(f, "camfence_policy_compiled_timestamp_seconds",
	      "When the live policy was compiled, unix time.",
	      (int64_t)h->compiled_at);
	gauge(f, "camfence_policy_age_seconds",
	      "Seconds since the live policy was compiled.",
	      s->now > (time_t)h->compiled_at ?
		      (int64_t)(s->now - (time_t)h->compiled_at) : 0);
}

static void print_database(FILE *f, const struct snap *s)
{
	time_t built = s->w ? (time_t)cf_image_hdr(s->w)->db_built_at : 0;
	struct cf_db_age a;

	cf_db_age_get(built, s->now, &a);
	gauge(f, "camfence_database_max_age_seconds",
	      "Age above which the database counts as stale (--max-db-age); 0: never.",
	      (int64_t)a.max_days * DAY_S);
	gauge(f, "camfence_database_stale",
	      "1 when the live policy's oldest database is older than the maximum age.",
	      a.stale);
	if (!a.known)
		return;
	gauge(f, "camfence_database_build_timestamp_seconds",
	      "Build time of the oldest database behind the live policy, unix time.",
	      (int64_t)built);
	gauge(f, "camfence_database_age_seconds",
	      "Seconds since the oldest database behind the live policy was built.",
	      a.age_s);
}

/* ------------------------------------------------ interfaces and image */

static void iface_labels(FILE *f, const struct cf_iface *ifc)
{
	char idx[16];

	snprintf(idx, sizeof(idx), "%d", ifc->ifindex);
	cf_prom_label(f, "interface", ifc->name, true);
	cf_prom_label(f, "ifindex", idx, false);
}

static const char *hook_mode(const struct cf_att *a, enum cf_hook h)
{
	if (!a->hook[h].present)
		return "none";
	return cf_hook_mode_str(a->ifindex, h, &a->hook[h]);
}

static void print_ifaces(FILE *f, const struct snap *s)
{
	struct cf_iface *ifc = calloc(s->att.n ? s->att.n : 1, sizeof(*ifc));
	const struct cf_att *a;

	for (size_t i = 0; ifc && i < s->att.n; i++) {
		ifc[i].ifindex = s->att.v[i].ifindex;
		if (cf_iface_by_index(ifc[i].ifindex, &ifc[i]))
			snprintf(ifc[i].name, sizeof(ifc[i].name), "if%d",
				 ifc[i].ifindex);
	}
	cf_prom_family(f, "camfence_interface_info", "gauge",
		       "An interface camfence is attached to, and how: ingress xdp-native, xdp-generic, tc or tc-clsact; egress tc or tc-clsact.");
	for (size_t i = 0; ifc && i < s->att.n; i++) {
		a = &s->att.v[i];
		fputs("camfence_interface_info{", f);
		iface_labels(f, &ifc[i]);
		cf_prom_label(f, "ingress",
			      hook_mode(a, a->hook[CF_HOOK_XDP].present ?
					   CF_HOOK_XDP : CF_HOOK_TC_INGRESS),
			      false);
		cf_prom_label(f, "egress", hook_mode(a, CF_HOOK_TC_EGRESS),
			      false);
		fputs("} 1\n", f);
	}
	cf_prom_family(f, "camfence_interface_up", "gauge",
		       "1 when an attached interface exists, is up and has carrier.");
	for (size_t i = 0; ifc && i < s->att.n; i++) {
		fputs("camfence_interface_up{", f);
		iface_labels(f, &ifc[i]);
		fprintf(f, "} %d\n", ifc[i].up && ifc[i].lower_up);
	}
	free(ifc);
}

static void print_image(FILE *f, const struct snap *s)
{
	const struct cf_image_hdr *h = s->w ? cf_image_hdr(s->w) : NULL;
	size_t cap;

	if (!h)
		return;
	cap = cf_shape_words(&s->li.shape);
	gauge(f, "camfence_image_words_used",
	      "32-bit words the live policy image uses.", h->n_words);
	gauge(f, "camfence_image_words_capacity",
	      "32-bit words every policy image map holds.", (int64_t)cap);
	gauge(f, "camfence_table_memory_bytes",
	      "Bytes of verdict tables in the live image.",
	      (int64_t)h->n_words * 4);
	gauge(f, "camfence_image_map_bytes",
	      "Bytes of the policy image map (its capacity).",
	      (int64_t)cap * 4);
}

int cf_metrics_render(FILE *out, const struct cf_runtime *rt)
{
	struct snap s;
	int err;

	err = snap_take(rt, &s);
	if (err)
		return err;
	cf_prom_family(out, "camfence_build_info", "gauge",
		       "The camfence version serving these metrics.");
	fputs("camfence_build_info{", out);
	cf_prom_label(out, "version", CAMFENCE_VERSION, true);
	fputs("} 1\n", out);
	print_classes(out, &s);
	print_drops(out, &s);
	print_datapath(out, &s);
	print_policy(out, &s);
	print_database(out, &s);
	print_ifaces(out, &s);
	print_image(out, &s);
	snap_free(&s);
	return ferror(out) ? -EIO : 0;
}

/* In memory first, so a failure leaves no half-written file or answer. */
int cf_metrics_render_mem(const struct cf_runtime *rt, char **buf,
			  size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err;

	if (!f)
		return -errno;
	err = cf_metrics_render(f, rt);
	if (fclose(f) && !err)
		err = -EIO;
	return err;
}
