// SPDX-License-Identifier: GPL-2.0-only
/*
 * events.c - `camfence events`: follow the datapath's ring buffer of drop
 * and monitor verdicts, one line (or JSON object) per event, with the
 * remote address attributed to its country and AS.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "attr.h"
#include "events.h"
#include "image.h"
#include "json.h"
#include "link.h"
#include "log.h"
#include "main.h"
#include "source.h"
#include "text.h"

#define POLL_MS 100

struct follower {
	struct cf_evfmt fmt;
	struct cf_source src;	 /* databases, when they load */
	uint64_t start_ns;	 /* events before this one were buffered */
	unsigned long count, max, stale;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *ifname(struct cf_evfmt *f, int ifindex)
{
	unsigned slot = (unsigned)ifindex % CF_EVFMT_IFNAMES;

	if (f->ifc[slot].ifindex != ifindex) {
		f->ifc[slot].ifindex = ifindex;
		cf_iface_name(ifindex, f->ifc[slot].name,
			      sizeof(f->ifc[slot].name));
	}
	return f->ifc[slot].name;
}

static const char *proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	}
	snprintf(buf, len, "proto %u", p);
	return buf;
}

static const char *fmt_wall(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	size_t n;

	localtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03d", (int)(ns % 1000000000 / 1000000));
	return buf;
}

/* Labels come from the image that judged the event, if it is still live. */
static const char *class_label(struct cf_evfmt *f, const struct cf_event *e,
			       char *buf, size_t len)
{
	if (!f->live.w ||
	    cf_image_hdr(f->live.w)->generation != e->generation) {
		cf_live_close(&f->live);
		cf_live_open(f->rt->map[CF_MAP_POLICY], &f->live);
	}
	if (f->live.w && cf_image_hdr(f->live.w)->generation == e->generation)
		return cf_class_label(f->live.w, e->class, buf, len);
	snprintf(buf, len, "class %u of generation %" PRIu64, e->class,
		 (uint64_t)e->generation);
	return buf;
}

struct ev_view {
	int family;
	cf_u128 src, dst;
	char t[40], src_s[CF_ADDR_STRLEN + 8], dst_s[CF_ADDR_STRLEN + 8];
	char label[384], proto[16];
	const char *proto_s;
	struct cf_attr remote;
};

static void endpoint(cf_u128 addr, int family, uint16_t port, bool ports,
		     char *buf, size_t len)
{
	char a[CF_ADDR_STRLEN];

	cf_addr_format(addr, family, a);
	if (!ports)
		snprintf(buf, len, "%s", a);
	else if (family == CF_AF_V6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

static void view(struct cf_evfmt *f, const struct cf_event *e,
		 struct ev_view *v)
{
	bool ports = e->sport || e->dport;

	v->family = e->family == 6 ? CF_AF_V6 : CF_AF_V4;
	v->src = cf_addr_from_bytes(e->src, v->family);
	v->dst = cf_addr_from_bytes(e->dst, v->family);
	fmt_wall((int64_t)e->ts_ns + f->mono_to_real_ns, v->t, sizeof(v->t));
	endpoint(v->src, v->family, e->sport, ports, v->src_s,
		 sizeof(v->src_s));
	endpoint(v->dst, v->family, e->dport, ports, v->dst_s,
		 sizeof(v->dst_s));
	class_label(f, e, v->label, sizeof(v->label));
	v->proto_s = proto_name(e->l4proto, v->proto, sizeof(v->proto));
	/* the remote end: what cameras talk to, or what talks to them */
	cf_attr_find(f->dbs, e->dir == CF_DIR_INGRESS ? v->dst : v->src,
		     v->family, &v->remote);
}

static void format_text(struct cf_evfmt *f, const struct cf_event *e,
			const struct ev_view *v, char *buf, size_t len)
{
	char vlan[16] = "", who[384] = "", attr[256];
	char ra[CF_ADDR_STRLEN];

	if (e->vlan)
		snprintf(vlan, sizeof(vlan), " vlan %u", e->vlan);
	if (f->dbs)
		snprintf(who, sizeof(who), "  remote %s%s: %s",
			 cf_addr_format(v->remote.addr, v->remote.family, ra),
			 v->remote.embedded ? " (embedded)" : "",
			 cf_attr_str(&v->remote, attr, sizeof(attr)));
	snprintf(buf, len, "%s %s %s %s %s%s %s -> %s %s%s len %u%s", v->t,
	       ifname(f, (int)e->ifindex),
	       e->dir == CF_DIR_INGRESS ? "ingress" : "egress",
	       cf_verdict_str(e->verdict), v->label,
	       e->malformed ? " malformed" : "", v->src_s, v->dst_s,
	       v->proto_s, vlan, e->len, who);
}

/*
 * The line goes to terminals and to syslog, and carries an AS name from
 * a database, a rule label with the policy's file name and an interface
 * name: escaped whole (text.h), so none of them can add a line or drive
 * the terminal reading it.
 */
const char *cf_evfmt_text(struct cf_evfmt *f, const struct cf_event *e,
			  char *buf, size_t len)
{
	char raw[CF_EVFMT_LINE];
	struct ev_view v;

	view(f, e, &v);
	format_text(f, e, &v, raw, sizeof(raw));
	return cf_text_escape(raw, buf, len);
}

void cf_evfmt_init(struct cf_evfmt *f, const struct cf_runtime *rt,
		   const struct cf_dbset *dbs)
{
	memset(f, 0, sizeof(*f));
	f->rt = rt;
	f->dbs = dbs;
	f->live.fd = -1;
	f->mono_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
}

void cf_evfmt_fini(struct cf_evfmt *f)
{
	cf_live_close(&f->live);
}

static void print_json(struct cf_evfmt *f, const struct cf_event *e,
		       const struct ev_view *v)
{
	struct json_writer *jw = cf_json();
	char a[CF_ADDR_STRLEN];

	jw_start_object(jw);
	jw_string_field(jw, "time", v->t);
	jw_uint_field(jw, "ts_ns", e->ts_ns);
	jw_string_field(jw, "ifname", ifname(f, (int)e->ifindex));
	jw_uint_field(jw, "ifindex", e->ifindex);
	jw_string_field(jw, "direction",
			e->dir == CF_DIR_INGRESS ? "ingress" : "egress");
	jw_string_field(jw, "verdict", cf_verdict_str(e->verdict));
	jw_uint_field(jw, "class", e->class);
	jw_string_field(jw, "label", v->label);
	jw_uint_field(jw, "generation", e->generation);
	jw_uint_field(jw, "family", e->family);
	jw_string_field(jw, "src", cf_addr_format(v->src, v->family, a));
	jw_string_field(jw, "dst", cf_addr_format(v->dst, v->family, a));
	jw_uint_field(jw, "sport", e->sport);
	jw_uint_field(jw, "dport", e->dport);
	jw_string_field(jw, "proto", v->proto_s);
	jw_uint_field(jw, "vlan", e->vlan);
	jw_uint_field(jw, "len", e->len);
	jw_bool_field(jw, "malformed", e->malformed);
	jw_name(jw, "remote");
	jw_start_object(jw);
	cf_attr_json(&v->remote);
	jw_end_object(jw);
	jw_end_object(jw);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct follower *f = ctx;
	struct ev_view v;
	char line[CF_EVFMT_LINE];

	if (size < sizeof(struct cf_event))
		return 0;
	/* "as they happen": what waited in the ring is history (see stats) */
	if (((const struct cf_event *)data)->ts_ns < f->start_ns) {
		f->stale++;
		return 0;
	}
	if (cf_g.json) {
		view(&f->fmt, data, &v);
		print_json(&f->fmt, data, &v);
	} else {
		printf("%s\n", cf_evfmt_text(&f->fmt, data, line, sizeof(line)));
	}
	fflush(stdout);
	/* a negative return stops ring_buffer__poll right after this one */
	return ++f->count == f->max ? -ECANCELED : 0;
}

/* The databases of the active policy; without them, no attribution. */
static void load_attribution(struct follower *f)
{
	int err = cf_source_active(&f->src, true);

	if (!err)
		err = cf_source_load_dbs(&f->src);
	if (err) {
		pr_warn("events are shown without country/AS: %s",
			f->src.msg[0] ? f->src.msg : strerror(-err));
		return;
	}
	f->fmt.dbs = f->src.dbs;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: the poll returns -EINTR and the loop ends */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int follow(struct follower *f, unsigned long timeout)
{
	double end = cf_now_ms() + timeout * 1000.0;
	struct ring_buffer *rb;
	int err = 0;

	rb = ring_buffer__new(f->fmt.rt->map[CF_MAP_EVENTS], on_event, f, NULL);
	if (!rb) {
		err = -errno;
		pr_err("cannot open the event ring buffer: %s", strerror(-err));
		return err;
	}
	catch_signals();
	while (!stop && (!f->max || f->count < f->max) &&
	       (!timeout || cf_now_ms() < end)) {
		err = ring_buffer__poll(rb, POLL_MS);
		if (err == -EINTR || err == -ECANCELED) {
			err = 0;
			break;
		}
		if (err < 0) {
			pr_err("reading events: %s", strerror(-err));
			break;
		}
		err = 0;
	}
	ring_buffer__free(rb);
	return err;
}

static int events(const struct cf_runtime *rt, unsigned long max,
		  unsigned long timeout)
{
	struct follower *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	cf_evfmt_init(&f->fmt, rt, NULL);
	f->max = max;
	f->start_ns = (uint64_t)clock_ns(CLOCK_MONOTONIC);
	load_attribution(f);
	err = follow(f, timeout);
	pr_debug("%lu events, %lu older ones skipped", f->count, f->stale);
	cf_evfmt_fini(&f->fmt);
	cf_source_free(&f->src);
	free(f);
	return err;
}

int do_events(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		CF_COMMON_LONGOPTS,
		{},
	};
	unsigned long max = 0, timeout = 0;
	struct cf_runtime rt;
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:t:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		if (c == 'c' && cf_parse_ulong("--count", optarg, ~0ul, &max))
			return CF_EXIT_USAGE;
		if (c == 't' &&
		    cf_parse_ulong("--timeout", optarg, 1ul << 31, &timeout))
			return CF_EXIT_USAGE;
		if (c != 'c' && c != 't' &&
		    (ret = cf_common_opt(c, &cf_cmd_events)) >= 0)
			return ret;
	}
	if (optind < argc) {
		cf_cmd_usage(&cf_cmd_events, true);
		return CF_EXIT_USAGE;
	}
	ret = cf_runtime_open(&rt, 0);
	if (!ret) {
		ret = events(&rt, max, timeout);
		cf_runtime_close(&rt);
	}
	return cf_exit_for(ret);
}

const struct cf_cmd cf_cmd_events = {
	.name = "events",
	.run = do_events,
	.summary = "follow drop and monitor events as they happen",
	.args = "[--count N] [--timeout SEC]",
	.options =
		"  -c, --count N      stop after N events\n"
		"  -t, --timeout SEC  stop after SEC seconds\n"
		"  (Ctrl-C stops too; -j prints one JSON object per line)\n",
};
