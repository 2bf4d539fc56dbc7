// SPDX-License-Identifier: GPL-2.0-only
/*
 * log.c - operator messages and libbpf's, by verbosity.
 */
#include <paths.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "json.h"
#include "log.h"
#include "main.h"
#include "text.h"

/* How often to look for syslog again while nothing listens. */
#define SYSLOG_RETRY_MS 2000
/* A message or a line longer than this is cut. */
#define MSG_MAX 4096

/* A message as it may be shown: formatted, then escaped (text.h). */
struct shown {
	char text[CF_TEXT_ESC_LEN(MSG_MAX)];
};

static const char *show(struct shown *m, const char *fmt, va_list ap)
{
	char raw[MSG_MAX];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	return cf_text_escape(raw, m->text, sizeof(m->text));
}

static int errored;
static bool want_syslog; /* the daemon's `log syslog` */
static bool to_syslog;	 /* and something listens on /dev/log */
static double syslog_checked;

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A listener on /dev/log, by datagram or stream as syslog(3) tries. */
static bool syslog_listens(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	bool ok = false;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", _PATH_LOG);
	for (size_t i = 0; !ok && i < 2; i++) {
		fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		ok = !connect(fd, (const struct sockaddr *)&sa, sizeof(sa));
		close(fd);
	}
	return ok;
}

/*
 * syslog(3) drops messages without a word when nothing listens on
 * /dev/log (a container, a host without a syslog daemon, early boot), so
 * the daemon's messages go to stderr until something does.
 */
bool cf_log_to_syslog(void)
{
	double now, before = syslog_checked;

	if (!want_syslog || to_syslog)
		return to_syslog;
	now = mono_ms();
	if (before && now - before < SYSLOG_RETRY_MS)
		return false;
	syslog_checked = now;
	to_syslog = syslog_listens();
	/* the stderr log says where the rest went, syslog since when */
	if (to_syslog && before && cf_g.verbose >= CF_LOG_INFO) {
		fprintf(stderr, "syslog is up at %s; logging there\n",
			_PATH_LOG);
		syslog(LOG_INFO, "syslog is up at %s; logging here", _PATH_LOG);
	}
	return to_syslog;
}

void cf_log_syslog(bool on)
{
	want_syslog = on;
	to_syslog = false;
	syslog_checked = 0;
	if (on && !cf_log_to_syslog())
		fprintf(stderr,
			"camfence: warning: nothing listens on %s; logging to stderr until syslog is up\n",
			_PATH_LOG);
}

int cf_log_errored(void)
{
	return errored;
}

static void vlog(int level, int prio, const char *prefix, const char *fmt,
		 va_list ap)
{
	struct shown m;

	if (cf_g.verbose < level)
		return;
	show(&m, fmt, ap);
	if (cf_log_to_syslog())
		syslog(prio, "%s", m.text);
	else
		fprintf(stderr, "%s%s\n", prefix, m.text);
}

void pr_err(const char *fmt, ...)
{
	struct shown m;
	va_list ap;

	va_start(ap, fmt);
	if (cf_log_to_syslog()) {
		syslog(LOG_ERR, "%s", show(&m, fmt, ap));
	} else if (!cf_g.json) {
		fprintf(stderr, "camfence: %s\n", show(&m, fmt, ap));
	} else if (!errored) {
		/* bpftool style: the error is the whole JSON output, which
		 * escapes for JSON itself */
		json_print_error(fmt, ap);
	}
	va_end(ap);
	errored = 1;
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(CF_LOG_WARN, LOG_WARNING, "camfence: warning: ", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	if (cf_g.json)
		return;
	va_start(ap, fmt);
	vlog(CF_LOG_INFO, LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(CF_LOG_DEBUG, LOG_DEBUG, "camfence: debug: ", fmt, ap);
	va_end(ap);
}

void cf_line(const char *fmt, ...)
{
	struct shown m;
	va_list ap;

	va_start(ap, fmt);
	printf("%s\n", show(&m, fmt, ap));
	va_end(ap);
}

/*
 * libbpf explains failures in its own words, often several lines for one
 * problem; we print one line of ours instead, so its warnings need -v and
 * its debug output -vv.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	int need = level == LIBBPF_DEBUG ? CF_LOG_LIBBPF_DEBUG : CF_LOG_DEBUG;

	if (cf_g.verbose < need)
		return 0;
	if (cf_log_to_syslog()) {
		vsyslog(LOG_DEBUG, fmt, ap);
		return 0;
	}
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void cf_log_init(void)
{
	libbpf_set_print(libbpf_print);
}
