// SPDX-License-Identifier: BSD-2-Clause
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>

int ipk_err_set(struct ipk_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}
