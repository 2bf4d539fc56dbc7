// SPDX-License-Identifier: GPL-2.0-only
/*
 * log.c - operator messages and libbpf's, by verbosity.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include <bpf/libbpf.h>

#include "json.h"
#include "log.h"
#include "main.h"

static int errored;
static bool to_syslog;

void cf_log_syslog(bool on)
{
	to_syslog = on;
}

int cf_log_errored(void)
{
	return errored;
}

static void vlog(int level, int prio, const char *prefix, const char *fmt,
		 va_list ap)
{
	if (cf_g.verbose < level)
		return;
	if (to_syslog) {
		vsyslog(prio, fmt, ap);
		return;
	}
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (to_syslog) {
		vsyslog(LOG_ERR, fmt, ap);
	} else if (!cf_g.json) {
		fputs("camfence: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else if (!errored) {
		/* bpftool style: the error is the whole JSON output */
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
	if (to_syslog) {
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
