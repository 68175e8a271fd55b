// SPDX-License-Identifier: BSD-2-Clause
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static enum ipk_log_level log_level = IPK_LOG_INFO;
static _Atomic int log_syslog;

void ipk_log_to_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

void ipk_log_set_level(enum ipk_log_level level)
{
	log_level = level;
}

enum ipk_log_level ipk_log_get_level(void)
{
	return log_level;
}

/* Formats the whole line first so that concurrent threads never interleave. */
static void log_emit(enum ipk_log_level level, int errnum, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "error", "warning", "notice", "info", "debug" };
	char line[1024];
	int n;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "ipseck %s: ", prefix[level]);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n >= (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (errnum)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(errnum));
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	if (log_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
					     LOG_DEBUG };

		line[n] = '\0';
		syslog(prio[level], "%s", line + strlen("ipseck "));
		return;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

#define LOG_FN(fn, level, use_errno)                                   \
	void fn(const char *fmt, ...)                                  \
	{                                                              \
		int errnum = (use_errno) ? errno : 0;                   \
		va_list ap;                                            \
		va_start(ap, fmt);                                     \
		log_emit(level, errnum, fmt, ap);                      \
		va_end(ap);                                            \
	}

LOG_FN(log_warn, IPK_LOG_WARN, 1)
LOG_FN(log_warnx, IPK_LOG_WARN, 0)
LOG_FN(log_notice, IPK_LOG_NOTICE, 0)
LOG_FN(log_info, IPK_LOG_INFO, 0)
LOG_FN(log_debug, IPK_LOG_DEBUG, 0)

void fatal(const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(IPK_LOG_ERR, errnum, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(IPK_LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
