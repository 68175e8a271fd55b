/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Human-readable configuration errors.
 *
 * Validators take a struct ipk_err and write one line such as
 * "line 3: 'spi': expected a number in 1..0xffffffff, got 'foo'". The control
 * socket later sends that text back verbatim. Functions still return a negative
 * errno; the message is for people.
 */
#ifndef IPK_CORE_ERR_H
#define IPK_CORE_ERR_H

#include "core/compiler.h"

#define IPK_ERR_MSG_MAX 256

struct ipk_err {
	char msg[IPK_ERR_MSG_MAX];
};

/* Writes the message (printf format) into @err, which may be NULL. Returns @code so that
 * callers can write "return ipk_err_set(err, -EINVAL, ...)". */
int ipk_err_set(struct ipk_err *err, int code, const char *fmt, ...) IPK_PRINTF(3, 4);

#endif
