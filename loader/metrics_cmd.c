// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics_cmd.c - `camfence metrics`: the Prometheus exposition on
 * stdout, into a node_exporter textfile, or served over HTTP until
 * SIGINT or SIGTERM.  The daemon serves the same endpoint from its own
 * loop; this command is for systems without it, and for checks by hand.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "main.h"
#include "metrics.h"
#include "source.h"

struct metrics_opts {
	const char *listen;
	bool listen_any;
	const char *textfile;
	unsigned textfile_mode;
	bool textfile_mode_set;
	unsigned long interval; /* seconds between textfile writes; 0 once */
	bool once;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* no SA_RESTART: poll returns EINTR and the loop sees stop */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * Poll timeout until the next textfile write or client deadline, or -1
 * for none.
 */
static int next_timeout(const struct metrics_opts *o, double next,
			const struct cf_metrics_srv *srv)
{
	double until = o->textfile && o->interval ? next : 0, d;

	d = srv ? cf_metrics_srv_deadline(srv) : 0;
	if (d && (!until || d < until))
		until = d;
	if (!until)
		return -1;
	d = until - cf_now_ms();
	return d > 0 ? (int)d + 1 : 0;
}

static bool textfile_due(const struct metrics_opts *o, double next)
{
	return o->textfile && o->interval && cf_now_ms() >= next;
}

/* Serve scrapes (srv) and rewrite the textfile until a signal. */
static int loop(const struct metrics_opts *o, struct cf_metrics_srv *srv,
		const struct cf_runtime *rt)
{
	double next = cf_now_ms() + o->interval * 1000.0;
	struct pollfd p[CF_METRICS_NFDS];
	int n, err = 0;

	catch_signals();
	while (!stop && !err) {
		if (srv)
			cf_metrics_srv_pollfds(srv, p);
		n = poll(p, srv ? CF_METRICS_NFDS : 0,
			 next_timeout(o, next, srv));
		if (n < 0 && errno != EINTR) {
			err = -errno;
			pr_err("metrics: poll: %s", strerror(-err));
		}
		if (srv && n >= 0 && cf_metrics_srv_run(srv, p, rt) && o->once)
			break;
		if (textfile_due(o, next)) {
			err = cf_metrics_textfile(o->textfile, o->textfile_mode,
						  rt);
			next += o->interval * 1000.0;
		}
	}
	return err;
}

static int run(const struct metrics_opts *o, const struct cf_runtime *rt)
{
	struct cf_metrics_srv *srv = NULL;
	int err = 0;

	if (!o->listen && !o->textfile)
		return cf_metrics_render(stdout, rt);
	if (o->textfile)
		err = cf_metrics_textfile(o->textfile, o->textfile_mode, rt);
	if (err || (!o->listen && !o->interval))
		return err;
	if (o->listen) {
		err = cf_metrics_srv_open(&srv, o->listen, o->listen_any);
		if (err)
			return err;
		pr_info("serving metrics on %s (GET /metrics)", o->listen);
	}
	err = loop(o, srv, rt);
	cf_metrics_srv_close(srv);
	return err;
}

enum {
	OPT_LISTEN_ANY = 256,
	OPT_ONCE,
	OPT_INTERVAL,
	OPT_MAX_DB_AGE,
	OPT_ALLOW_UID,
	OPT_TEXTFILE_MODE,
};

/* Returns -1 to go on, else the exit code. */
static int parse(int argc, char **argv, struct metrics_opts *o)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "listen-any", no_argument, NULL, OPT_LISTEN_ANY },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "textfile", required_argument, NULL, 't' },
		{ "textfile-mode", required_argument, NULL, OPT_TEXTFILE_MODE },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "max-db-age", required_argument, NULL, OPT_MAX_DB_AGE },
		CF_COMMON_LONGOPTS,
		{},
	};
	const char *max_age = NULL;
	unsigned long uid;
	char why[160];
	int c, ret;

	while ((c = getopt_long(argc, argv, "l:t:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case OPT_LISTEN_ANY:
			o->listen_any = true;
			break;
		case OPT_ALLOW_UID:
			if (cf_parse_ulong("--allow-uid", optarg, 0x7fffffff,
					   &uid))
				return CF_EXIT_USAGE;
			/* read where requests are answered (metrics_http.c) */
			setenv("CAMFENCE_METRICS_ALLOW_UID", optarg, 1);
			break;
		case 't':
			o->textfile = optarg;
			break;
		case OPT_TEXTFILE_MODE:
			if (cf_conf_parse_file_mode(optarg, &o->textfile_mode,
						    why, sizeof(why))) {
				pr_err("--textfile-mode: %s", why);
				return CF_EXIT_USAGE;
			}
			o->textfile_mode_set = true;
			break;
		case OPT_ONCE:
			o->once = true;
			break;
		case OPT_INTERVAL:
			if (cf_parse_ulong("--interval", optarg, 86400,
					   &o->interval))
				return CF_EXIT_USAGE;
			break;
		case OPT_MAX_DB_AGE:
			max_age = optarg;
			break;
		default:
			ret = cf_common_opt(c, &cf_cmd_metrics);
			if (ret >= 0)
				return ret;
		}
	}
	if (optind < argc ||
	    ((o->interval || o->textfile_mode_set) && !o->textfile)) {
		cf_cmd_usage(&cf_cmd_metrics, true);
		return CF_EXIT_USAGE;
	}
	if (o->once)
		o->interval = 0;
	return cf_db_max_age_init(max_age) ? CF_EXIT_USAGE : -1;
}

static int do_metrics(int argc, char **argv)
{
	struct metrics_opts o = {
		.textfile_mode = CF_CONF_TEXTFILE_MODE_DEFAULT,
	};
	struct cf_runtime rt;
	int ret;

	ret = parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = cf_runtime_open(&rt, 0);
	if (!ret) {
		ret = run(&o, &rt);
		cf_runtime_close(&rt);
	}
	return cf_exit_for(ret);
}

const struct cf_cmd cf_cmd_metrics = {
	.name = "metrics",
	.run = do_metrics,
	.summary = "export counters and state for Prometheus",
	.args = "[--listen ADDR:PORT [--listen-any]] [--textfile PATH [--textfile-mode MODE]] [--once]",
	.options =
		"  -l, --listen ADDR:PORT  serve GET /metrics until SIGINT/SIGTERM\n"
		"                          (127.0.0.1:9733, [::1]:9733; loopback only)\n"
		"      --listen-any        allow a non-loopback --listen address\n"
		"      --allow-uid UID     answer this uid besides root\n"
		"  -t, --textfile PATH     write a node_exporter textfile (atomically)\n"
		"      --textfile-mode MODE\n"
		"                          its octal mode (default 0640; never o+w)\n"
		"      --interval S        rewrite the textfile every S seconds\n"
		"      --once              serve one request, or write once, then exit\n"
		"      --max-db-age DAYS   database age that counts as stale (default 30,\n"
		"                          env CAMFENCE_MAX_DB_AGE; 0: never)\n"
		"Without --listen or --textfile the metrics go to stdout.\n",
};
