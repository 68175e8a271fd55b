/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging. The packet path counts and does not log; these are for the control plane,
 * start-up and rate-limited debug messages. Messages start with __func__ or an instance
 * name. Output goes to stderr, or to syslog after ipk_log_to_syslog().
 * Thread-safe: each message is one write.
 */
#ifndef IPK_CORE_LOG_H
#define IPK_CORE_LOG_H

#include "core/compiler.h"

enum ipk_log_level { IPK_LOG_ERR, IPK_LOG_WARN, IPK_LOG_NOTICE, IPK_LOG_INFO, IPK_LOG_DEBUG };

void ipk_log_set_level(enum ipk_log_level level);
enum ipk_log_level ipk_log_get_level(void);
/* From now on, messages go to syslog (facility daemon, tagged @ident) instead of stderr:
 * the daemon calls it once it has detached from the terminal. */
void ipk_log_to_syslog(const char *ident);

/* log_warn appends strerror(errno); log_warnx does not. */
void log_warn(const char *fmt, ...) IPK_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) IPK_PRINTF(1, 2);
/* Normal but significant: events an operator or a keying daemon acts on (SA expiry). */
void log_notice(const char *fmt, ...) IPK_PRINTF(1, 2);
void log_info(const char *fmt, ...) IPK_PRINTF(1, 2);
void log_debug(const char *fmt, ...) IPK_PRINTF(1, 2);
/* Start-up only: log and exit(1). */
_Noreturn void fatal(const char *fmt, ...) IPK_PRINTF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) IPK_PRINTF(1, 2);

#endif
