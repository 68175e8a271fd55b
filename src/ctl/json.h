/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Output of the read-only commands: a growable text buffer with a size limit, and a small
 * JSON writer over it (RFC 8259: objects, arrays, strings, numbers, booleans).
 *
 * The buffer grows on demand up to its limit; past it, writes are dropped and the buffer
 * remembers that it overflowed, so a caller checks once at the end instead of after each
 * write. Contents may be key material (`show sa keys`): ipk_out_fini() wipes them.
 *
 * The writer adds commas and quotes itself: the caller says what comes next. Members of
 * an object take a key; elements of an array take NULL. Strings are escaped as RFC 8259
 * §7 requires: quote, backslash and control characters (< 0x20, as \n, \t, ... or \u00XX);
 * bytes from 0x80 up pass through unchanged, so UTF-8 stays UTF-8.
 *
 * Threads: a buffer and a writer belong to one caller.
 */
#ifndef IPK_CTL_JSON_H
#define IPK_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"

#define IPK_JSON_DEPTH_MAX 16

struct ipk_outbuf {
	char *buf;      /* NUL-terminated; NULL until the first write */
	size_t len;     /* bytes written, without the NUL */
	size_t cap;
	size_t max;     /* largest @len allowed */
	bool overflow;  /* a write was dropped: no memory or past @max */
};

/* An empty buffer that holds at most @max bytes. */
void ipk_out_init(struct ipk_outbuf *out, size_t max);
/* Wipes and frees the contents; the buffer may be used again. */
void ipk_out_fini(struct ipk_outbuf *out);
/* Empties the buffer (wiping it) and clears @overflow, keeping the memory. */
void ipk_out_reset(struct ipk_outbuf *out);
void ipk_out_write(struct ipk_outbuf *out, const void *data, size_t len);
void ipk_out_printf(struct ipk_outbuf *out, const char *fmt, ...) IPK_PRINTF(2, 3);
/* The text so far ("" when empty). */
const char *ipk_out_str(const struct ipk_outbuf *out);

struct ipk_json {
	struct ipk_outbuf *out;
	unsigned depth;
	bool has_items[IPK_JSON_DEPTH_MAX]; /* per open container: a comma is due */
	bool bad_nesting;                   /* too deep, or end without begin */
};

void ipk_json_init(struct ipk_json *j, struct ipk_outbuf *out);
/* @key names the member inside an object; NULL inside an array or at the top. */
void ipk_json_obj_begin(struct ipk_json *j, const char *key);
void ipk_json_obj_end(struct ipk_json *j);
void ipk_json_arr_begin(struct ipk_json *j, const char *key);
void ipk_json_arr_end(struct ipk_json *j);
void ipk_json_str(struct ipk_json *j, const char *key, const char *value);
void ipk_json_u64(struct ipk_json *j, const char *key, uint64_t value);
void ipk_json_i64(struct ipk_json *j, const char *key, int64_t value);
void ipk_json_bool(struct ipk_json *j, const char *key, bool value);
/* Writes "\n" once every container is closed. Returns 0, or -EINVAL when the nesting was
 * wrong (an end without a begin, more than IPK_JSON_DEPTH_MAX levels, or still open). */
int ipk_json_finish(struct ipk_json *j);
/* The escaped form of @s, quotes included, appended to @out. */
void ipk_json_escape(struct ipk_outbuf *out, const char *s);

#endif
