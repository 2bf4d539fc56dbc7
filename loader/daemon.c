// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon.c - `camfence daemon`: keep an appliance's fence up unattended.
 *
 * One poll() loop over rtnetlink (links), inotify (policy and database
 * files), a signalfd (SIGHUP reloads, SIGTERM/SIGINT stop), the event
 * ring buffer and the metrics server, with a one-second tick for retries,
 * the metrics textfile and the database freshness check.
 *
 * Stopping leaves everything attached and the policy in force: the
 * kernel objects outlive the tool (decision 7).  `camfence detach` is
 * how the fence comes down.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "main.h"
#include "metrics.h"
#include "source.h"
#include "state.h"

#define TICK_MS 1000
#define RETRY_TICKS 10	    /* failed attaches */
#define TEXTFILE_TICKS 10   /* the node_exporter textfile: fsync costs */
#define FRESHNESS_TICKS 3600

#define ENV_ALLOW_UID "CAMFENCE_METRICS_ALLOW_UID"

/* the metrics server's descriptors come last: its listener and clients */
enum {
	P_SIG, P_LINK, P_INOTIFY, P_EVENTS, P_METRICS,
	P_MAX = P_METRICS + CF_METRICS_NFDS
};

/*
 * The environment's scraper uid as the daemon started (the unit's
 * Environment=).  We setenv the uid in force for metrics_http.c, so a
 * reload must not read our own value back as the environment's.
 */
static char *env_allow_uid;

/* ---- configuration ---------------------------------------------------- */

static void apply_args(const struct dmn_args *a, struct cf_conf *c)
{
	const struct cf_conf *o = &a->over;

	if (a->policy_set)
		memcpy(c->policy, o->policy, sizeof(c->policy));
	if (a->on_missing_set)
		c->on_missing = o->on_missing;
	if (a->listen_set)
		memcpy(c->metrics_listen, o->metrics_listen,
		       sizeof(c->metrics_listen));
	if (a->textfile_set)
		memcpy(c->metrics_textfile, o->metrics_textfile,
		       sizeof(c->metrics_textfile));
	if (a->textfile_mode_set)
		c->metrics_textfile_mode = o->metrics_textfile_mode;
	if (a->age_set)
		c->database_max_age = o->database_max_age;
	if (a->log_set)
		c->log = o->log;
	/* --metrics-allow-uid: its default, -1, means not given */
	if (o->metrics_allow_uid >= 0)
		c->metrics_allow_uid = o->metrics_allow_uid;
}

/* The environment comes last: flags, then the file, then it. */
static int apply_env(struct cf_conf *c)
{
	char why[160];

	if (!env_allow_uid || !*env_allow_uid || c->metrics_allow_uid >= 0)
		return 0;
	if (cf_conf_parse_uid(env_allow_uid, &c->metrics_allow_uid, why,
			      sizeof(why))) {
		pr_err(ENV_ALLOW_UID ": %s", why);
		return -EINVAL;
	}
	return 0;
}

/* metrics_http.c reads the scraper uid from the environment per request. */
static void allow_uid_publish(const struct cf_conf *c)
{
	char buf[24];

	if (c->metrics_allow_uid < 0) {
		unsetenv(ENV_ALLOW_UID);
		return;
	}
	snprintf(buf, sizeof(buf), "%ld", c->metrics_allow_uid);
	setenv(ENV_ALLOW_UID, buf, 1);
}

/* "root and uid 65534 (nobody)", for the log. */
static const char *allow_uid_str(const struct cf_conf *c, char *buf,
				 size_t len)
{
	struct passwd *pw;

	if (c->metrics_allow_uid < 0)
		return "root only";
	pw = getpwuid((uid_t)c->metrics_allow_uid);
	snprintf(buf, len, "root and uid %ld%s%s%s", c->metrics_allow_uid,
		 pw ? " (" : "", pw ? pw->pw_name : "", pw ? ")" : "");
	return buf;
}

/* --interface replaces the file's list. */
static int apply_ifaces(const struct dmn_args *a, struct cf_conf *c)
{
	const struct cf_conf *o = &a->over;
	int err = 0;

	if (!o->n_ifaces)
		return 0;
	cf_conf_free(c);
	for (size_t i = 0; !err && i < o->n_ifaces; i++)
		err = cf_conf_add_iface(c, o->ifaces[i].name, o->ifaces[i].mode,
					0);
	return err;
}

/* The file (a missing default file is no error), then the flags. */
static int conf_read(const struct dmn_args *a, struct cf_conf *c)
{
	struct cf_err e = {};
	char msg[800];
	int err;

	cf_conf_init(c);
	err = cf_conf_load(a->conf_path, c, &e);
	if (err == -ENOENT && !a->conf_explicit) {
		pr_debug("%s: %s; using defaults and flags", a->conf_path,
			 strerror(ENOENT));
		err = 0;
	} else if (err) {
		pr_err("%s", cf_err_str(&e, msg, sizeof(msg)));
		cf_conf_free(c);
		return err == -ENOMEM ? err : -EINVAL;
	}
	apply_args(a, c);
	err = apply_env(c) ?: apply_ifaces(a, c);
	if (err)
		cf_conf_free(c);
	return err;
}

/* The per-interface state of a new list, carried over by name. */
static int ifs_rebuild(struct cf_daemon *d, const struct cf_conf *old)
{
	struct dmn_iface *ifs = calloc(d->conf.n_ifaces + 1, sizeof(*ifs));

	if (!ifs)
		return -ENOMEM;
	for (size_t i = 0; i < d->conf.n_ifaces; i++)
		for (size_t j = 0; old && j < old->n_ifaces; j++)
			if (!strcmp(d->conf.ifaces[i].name,
				    old->ifaces[j].name))
				ifs[i] = d->ifs[j];
	free(d->ifs);
	d->ifs = ifs;
	return 0;
}

static int apply_on_missing(struct cf_daemon *d)
{
	struct cf_config cfg;
	int err;

	if (d->conf.on_missing < 0)
		return 0;
	err = cf_config_read(d->rt.map[CF_MAP_CONFIG], &cfg);
	if (err || cfg.on_missing == (__u32)d->conf.on_missing)
		return err;
	cfg.on_missing = (__u32)d->conf.on_missing;
	err = cf_config_write(d->rt.map[CF_MAP_CONFIG], &cfg);
	if (!err)
		pr_info("on-missing-policy %s", cf_on_missing_str(cfg.on_missing));
	return err;
}

/* What a reload changed that is not obvious from its effects. */
static void report_changes(const struct cf_conf *old, const struct cf_conf *c)
{
	char buf[96];

	if (old->log != c->log || strcmp(old->metrics_listen,
					 c->metrics_listen))
		pr_warn("log and metrics-listen changes take a restart");
	if (old->metrics_allow_uid != c->metrics_allow_uid &&
	    c->metrics_listen[0])
		pr_info("metrics: answering %s",
			allow_uid_str(c, buf, sizeof(buf)));
}

/* SIGHUP: the configuration file again, then the policy. */
static void reconfigure(struct cf_daemon *d)
{
	struct cf_conf c, old = d->conf;

	if (conf_read(d->args, &c)) {
		pr_warn("configuration not reloaded; the running one stays");
		return;
	}
	d->conf = c;
	if (ifs_rebuild(d, &old)) {
		cf_conf_free(&d->conf);
		d->conf = old;
		return;
	}
	report_changes(&old, &d->conf);
	allow_uid_publish(&d->conf);
	cf_conf_free(&old);
	cf_db_max_age_set(d->conf.database_max_age);
	apply_on_missing(d);
	dmn_reconcile(d);
	dmn_policy_load(d, "SIGHUP");
}

/* ---- events ----------------------------------------------------------- */

static int on_event(void *ctx, void *data, size_t size)
{
	struct cf_daemon *d = ctx;
	const struct cf_event *e = data;
	char line[CF_EVFMT_LINE];

	if (size < sizeof(*e))
		return 0;
	cf_evfmt_text(&d->fmt, e, line, sizeof(line));
	/* as the messages go: `log` at start, stderr while syslog is down */
	if (cf_log_to_syslog())
		syslog(e->verdict == CF_VERDICT_DROP ? LOG_NOTICE : LOG_INFO,
		       "%s", line);
	else
		fprintf(stderr, "event: %s\n", line);
	return 0;
}

static int events_open(struct cf_daemon *d)
{
	cf_evfmt_init(&d->fmt, &d->rt, d->cur ? d->cur->src.dbs : NULL);
	d->rb = ring_buffer__new(d->rt.map[CF_MAP_EVENTS], on_event, d, NULL);
	if (!d->rb) {
		int err = -errno;

		pr_err("cannot open the event ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

/* ---- process ---------------------------------------------------------- */

/*
 * One daemon per state directory: <state>/daemon.pid, flock()ed.  Opened
 * as state files are (state.h): a link left there is not written
 * through, nor is a FIFO blocked on.
 */
static int pid_lock(struct cf_daemon *d)
{
	char buf[32];
	int fd, n, err;

	err = cf_state_mkdir(NULL);
	if (err)
		return err;
	fd = cf_state_open("daemon.pid", O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		pr_err("cannot open %s/daemon.pid: %s", cf_g.state_dir,
		       cf_state_strerror(fd));
		return fd;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = -errno;
		n = (int)read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		pr_err("another camfence daemon runs (%s/daemon.pid: %s)",
		       cf_g.state_dir,
		       n > 0 ? strtok(buf, "\n") : strerror(-err));
		close(fd);
		return -EBUSY;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || write(fd, buf, (size_t)n) != n)
		pr_warn("cannot write %s/daemon.pid: %s", cf_g.state_dir,
			strerror(errno));
	d->pid_fd = fd;
	return 0;
}

static int signals_open(struct cf_daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* a metrics client that hangs up must not kill us */
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0) {
		int err = -errno;

		pr_err("signalfd: %s", strerror(-err));
		return err;
	}
	return 0;
}

static void signal_read(struct cf_daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			pr_info("SIGHUP: reloading %s and the policy",
				d->args->conf_path);
			reconfigure(d);
		} else {
			pr_info("%s: stopping; the fence stays up",
				strsignal((int)si.ssi_signo));
			d->stop = true;
		}
	}
}

static void metrics_open(struct cf_daemon *d)
{
	char buf[96];

	cf_db_max_age_set(d->conf.database_max_age);
	if (!d->conf.metrics_listen[0])
		return;
	if (cf_metrics_srv_open(&d->metrics, d->conf.metrics_listen, false))
		pr_warn("metrics endpoint %s not served", d->conf.metrics_listen);
	else
		pr_info("metrics on http://%s/metrics for %s",
			d->conf.metrics_listen,
			allow_uid_str(&d->conf, buf, sizeof(buf)));
}

/* ---- the loop --------------------------------------------------------- */

static void tick(struct cf_daemon *d)
{
	d->ticks++;
	if (d->ticks % RETRY_TICKS == 0 && dmn_attach_pending(d))
		dmn_reconcile(d);
	if (d->conf.metrics_textfile[0] && d->ticks % TEXTFILE_TICKS == 1)
		cf_metrics_textfile(d->conf.metrics_textfile,
				    d->conf.metrics_textfile_mode, &d->rt);
	if (d->ticks % FRESHNESS_TICKS == 0)
		dmn_db_freshness(d);
}

static int timeout_ms(const struct cf_daemon *d, double next_tick)
{
	double now = cf_now_ms(), until = next_tick, m;

	if (d->reload_at && d->reload_at < until)
		until = d->reload_at;
	/* a metrics client past its deadline is closed on time */
	m = d->metrics ? cf_metrics_srv_deadline(d->metrics) : 0;
	if (m && m < until)
		until = m;
	return until <= now ? 0 : (int)(until - now) + 1;
}

static void fill_pollfds(const struct cf_daemon *d, struct pollfd *p)
{
	p[P_SIG].fd = d->sig_fd;
	p[P_LINK].fd = dmn_link_fd(d);
	p[P_INOTIFY].fd = d->ino_fd;
	p[P_EVENTS].fd = d->rb ? ring_buffer__epoll_fd(d->rb) : -1;
	for (int i = 0; i < P_METRICS; i++) {
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	for (int i = P_METRICS; i < P_MAX; i++)
		p[i] = (struct pollfd){ .fd = -1 };
	if (d->metrics)
		cf_metrics_srv_pollfds(d->metrics, p + P_METRICS);
}

static void dispatch(struct cf_daemon *d, const struct pollfd *p)
{
	if (p[P_EVENTS].revents & POLLIN)
		ring_buffer__consume(d->rb);
	if (p[P_LINK].revents & POLLIN)
		dmn_link_read(d);
	if (p[P_INOTIFY].revents & POLLIN)
		dmn_watch_read(d);
	if (p[P_SIG].revents & POLLIN)
		signal_read(d);
}

static int loop(struct cf_daemon *d)
{
	double next_tick = cf_now_ms() + TICK_MS;
	struct pollfd p[P_MAX];
	int n;

	while (!d->stop) {
		fill_pollfds(d, p);
		n = poll(p, P_MAX, timeout_ms(d, next_tick));
		if (n < 0 && errno != EINTR) {
			pr_err("poll: %s", strerror(errno));
			return -errno;
		}
		if (n > 0)
			dispatch(d, p);
		/* also on a timeout: it closes clients past their deadline */
		if (d->metrics)
			cf_metrics_srv_run(d->metrics, p + P_METRICS, &d->rt);
		if (d->reload_at && cf_now_ms() >= d->reload_at)
			dmn_policy_load(d, "file change");
		if (cf_now_ms() >= next_tick) {
			next_tick = cf_now_ms() + TICK_MS;
			tick(d);
		}
	}
	return 0;
}

/* Load or adopt the pinned datapath, the settings, the policy. */
static int adopt_runtime(struct cf_daemon *d)
{
	int lock, err;

	lock = cf_state_lock();
	if (lock < 0)
		return lock;
	err = cf_runtime_open(&d->rt, CF_RT_CREATE);
	if (!err)
		pr_info("%s the datapath pinned under %s",
			d->rt.created ? "loaded" : "adopted", cf_g.pin_dir);
	err = err ?: apply_on_missing(d);
	cf_state_unlock(lock);
	return err;
}

static int start(struct cf_daemon *d)
{
	int err;

	err = pid_lock(d) ?: signals_open(d) ?: adopt_runtime(d);
	err = err ?: dmn_watch_open(d) ?: ifs_rebuild(d, NULL);
	if (err)
		return err;
	if (!d->conf.n_ifaces)
		pr_warn("no interface configured: add `interface NAME` to %s or give --interface",
			d->args->conf_path);
	/* the policy goes in before any new hook: first packets are judged */
	dmn_policy_load(d, "start");
	/* subscribe before looking, so no change falls in between */
	err = dmn_link_open(d) ?: events_open(d);
	if (err)
		return err;
	dmn_reconcile(d);
	metrics_open(d);
	return 0;
}

static void stop(struct cf_daemon *d)
{
	cf_metrics_srv_close(d->metrics);
	ring_buffer__free(d->rb);
	cf_evfmt_fini(&d->fmt);
	dmn_link_close(d);
	dmn_watch_close(d);
	dmn_policy_free(d);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	cf_runtime_close(&d->rt);
	if (d->pid_fd >= 0) {
		cf_state_remove("daemon.pid");
		close(d->pid_fd);
	}
	free(d->ifs);
	cf_conf_free(&d->conf);
}

static int run(struct dmn_args *a)
{
	struct cf_daemon d = {
		.args = a, .ino_fd = -1, .sig_fd = -1, .pid_fd = -1,
	};
	int err;

	cf_runtime_init(&d.rt);
	err = conf_read(a, &d.conf);
	if (err)
		return err;
	allow_uid_publish(&d.conf);
	if (d.conf.log == CF_CONF_LOG_SYSLOG) {
		openlog("camfence", LOG_PID, LOG_DAEMON);
		cf_log_syslog(true);
	}
	err = start(&d);
	if (!err) {
		pr_info("camfence daemon %s running (pid %d)", CAMFENCE_VERSION,
			(int)getpid());
		err = loop(&d);
	}
	stop(&d);
	return err;
}

/* ---- the command ------------------------------------------------------ */

enum {
	OPT_ON_MISSING = 256, OPT_LISTEN, OPT_TEXTFILE, OPT_TEXTFILE_MODE,
	OPT_MAX_AGE, OPT_LOG, OPT_ALLOW_UID,
};

/* IFACE or IFACE:MODE */
static int opt_iface(struct dmn_args *a, char *s)
{
	enum cf_mode mode = CF_MODE_AUTO;
	char *colon = strchr(s, ':'), why[128];

	if (colon) {
		*colon = '\0';
		if (cf_mode_parse(colon + 1, &mode))
			return -EINVAL;
	}
	if (cf_conf_check_ifname(s, why, sizeof(why))) {
		pr_err("--interface: %s", why);
		return -EINVAL;
	}
	return cf_conf_add_iface(&a->over, s, mode, 0);
}

static int opt_value(struct dmn_args *a, int c, char *v)
{
	struct cf_conf *o = &a->over;
	unsigned long days;
	char why[160];

	switch (c) {
	case OPT_ON_MISSING:
		a->on_missing_set = true;
		return cf_on_missing_parse(v, (__u32 *)&o->on_missing);
	case OPT_LISTEN:
		a->listen_set = true;
		if (strcmp(v, "off") &&
		    cf_conf_check_listen(v, why, sizeof(why))) {
			pr_err("--metrics-listen: %s", why);
			return -EINVAL;
		}
		snprintf(o->metrics_listen, sizeof(o->metrics_listen), "%s",
			 strcmp(v, "off") ? v : "");
		return 0;
	case OPT_TEXTFILE:
		a->textfile_set = true;
		snprintf(o->metrics_textfile, sizeof(o->metrics_textfile),
			 "%s", v);
		return 0;
	case OPT_TEXTFILE_MODE:
		a->textfile_mode_set = true;
		if (cf_conf_parse_file_mode(v, &o->metrics_textfile_mode, why,
					    sizeof(why))) {
			pr_err("--metrics-textfile-mode: %s", why);
			return -EINVAL;
		}
		return 0;
	case OPT_MAX_AGE:
		a->age_set = true;
		if (cf_parse_ulong("--database-max-age", v,
				   CF_CONF_DB_MAX_AGE_MAX, &days))
			return -EINVAL;
		o->database_max_age = (unsigned)days;
		return 0;
	case OPT_ALLOW_UID:
		if (cf_conf_parse_uid(v, &o->metrics_allow_uid, why,
				      sizeof(why))) {
			pr_err("--metrics-allow-uid: %s", why);
			return -EINVAL;
		}
		return 0;
	}
	a->log_set = true;
	o->log = !strcmp(v, "stderr") ? CF_CONF_LOG_STDERR : CF_CONF_LOG_SYSLOG;
	if (strcmp(v, "stderr") && strcmp(v, "syslog")) {
		pr_err("--log: '%s' is not syslog or stderr", v);
		return -EINVAL;
	}
	return 0;
}

/* -1 to go on, else the exit code. */
static int parse_opt(struct dmn_args *a, int c)
{
	switch (c) {
	case 'c':
		a->conf_path = optarg;
		a->conf_explicit = true;
		return -1;
	case 'P':
		a->policy_set = true;
		snprintf(a->over.policy, sizeof(a->over.policy), "%s", optarg);
		return -1;
	case 'i':
		return opt_iface(a, optarg) ? CF_EXIT_USAGE : -1;
	case OPT_ON_MISSING: case OPT_LISTEN: case OPT_TEXTFILE:
	case OPT_TEXTFILE_MODE: case OPT_MAX_AGE: case OPT_LOG:
	case OPT_ALLOW_UID:
		return opt_value(a, c, optarg) ? CF_EXIT_USAGE : -1;
	default:
		return cf_common_opt(c, &cf_cmd_daemon);
	}
}

static int parse_args(int argc, char **argv, struct dmn_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'P' },
		{ "interface", required_argument, NULL, 'i' },
		{ "on-missing-policy", required_argument, NULL, OPT_ON_MISSING },
		{ "metrics-listen", required_argument, NULL, OPT_LISTEN },
		{ "metrics-textfile", required_argument, NULL, OPT_TEXTFILE },
		{ "metrics-textfile-mode", required_argument, NULL,
		  OPT_TEXTFILE_MODE },
		{ "metrics-allow-uid", required_argument, NULL, OPT_ALLOW_UID },
		{ "database-max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "log", required_argument, NULL, OPT_LOG },
		CF_COMMON_LONGOPTS,
		{},
	};
	int c, ret;

	cf_conf_init(&a->over);
	a->conf_path = CF_CONF_DEFAULT;
	while ((c = getopt_long(argc, argv, "c:P:i:" CF_COMMON_SHORTOPTS, opts,
				NULL)) != -1) {
		ret = parse_opt(a, c);
		if (ret >= 0)
			return ret;
	}
	if (optind < argc) {
		cf_cmd_usage(&cf_cmd_daemon, true);
		return CF_EXIT_USAGE;
	}
	return -1;
}

int do_daemon(int argc, char **argv)
{
	const char *env = getenv(ENV_ALLOW_UID);
	struct dmn_args a = {};
	int ret;

	if (env && !(env_allow_uid = strdup(env)))
		return cf_exit_for(-ENOMEM);
	ret = parse_args(argc, argv, &a);
	/* a daemon logs lines, not a JSON document */
	cf_g.json = cf_g.pretty = false;
	if (ret < 0)
		ret = cf_exit_for(run(&a));
	cf_conf_free(&a.over);
	free(env_allow_uid);
	env_allow_uid = NULL;
	return ret;
}

const struct cf_cmd cf_cmd_daemon = {
	.name = "daemon",
	.run = do_daemon,
	.summary = "attach, keep attached, reload and log, unattended",
	.args = "[--config FILE] [--interface IFACE[:MODE]]... [--policy FILE] [OPTIONS]",
	.options =
		"  -c, --config FILE         settings (default " CF_CONF_DEFAULT ")\n"
		"  -i, --interface IFACE[:MODE]\n"
		"                            camera-facing interface, MODE auto, native,\n"
		"                            generic or tc; repeat for more (replaces the\n"
		"                            file's list)\n"
		"  -P, --policy FILE         the policy (default " CF_POLICY_DEFAULT ")\n"
		"      --on-missing-policy pass|drop\n"
		"      --metrics-listen ADDR:PORT|off   (default " CF_METRICS_LISTEN_DEFAULT ")\n"
		"      --metrics-textfile PATH          node_exporter textfile\n"
		"      --metrics-textfile-mode MODE     its mode (default 0640)\n"
		"      --metrics-allow-uid UID|USER     the scraper answered besides root\n"
		"                                       (env " ENV_ALLOW_UID ")\n"
		"      --database-max-age DAYS          warn when older (default 30)\n"
		"      --log syslog|stderr              (default syslog)\n"
		"  Flags override the file.  SIGHUP rereads both the file and the policy;\n"
		"  SIGTERM stops the daemon and leaves the fence up.\n",
};
