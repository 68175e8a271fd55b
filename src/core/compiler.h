/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Small compiler helpers shared by every module.
 */
#ifndef IPK_CORE_COMPILER_H
#define IPK_CORE_COMPILER_H

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define IPK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define IPK_CACHELINE 64
#define IPK_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#endif
