// SPDX-License-Identifier: BSD-2-Clause
/*
 * The output buffer and the JSON writer of the read-only commands (ctl/json.h).
 */
#include "ctl/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_MIN 4096

void ipk_out_init(struct ipk_outbuf *out, size_t max)
{
	*out = (struct ipk_outbuf){ .max = max };
}

void ipk_out_fini(struct ipk_outbuf *out)
{
	if (out->buf) {
		/* `show sa keys` puts key material here. */
		explicit_bzero(out->buf, out->cap);
		free(out->buf);
	}
	ipk_out_init(out, out->max);
}

void ipk_out_reset(struct ipk_outbuf *out)
{
	if (out->buf) {
		explicit_bzero(out->buf, out->cap);
		out->buf[0] = '\0';
	}
	out->len = 0;
	out->overflow = false;
}

/* Makes room for @len more bytes and the NUL. The old copy is wiped, not just freed. */
static bool reserve(struct ipk_outbuf *out, size_t len)
{
	size_t cap = out->cap ? out->cap : OUT_MIN;
	char *bigger;

	if (out->overflow || len > out->max - out->len) {
		out->overflow = true;
		return false;
	}
	if (out->len + len + 1 <= out->cap)
		return true;
	while (cap < out->len + len + 1)
		cap *= 2;
	bigger = malloc(cap);
	if (!bigger) {
		out->overflow = true;
		return false;
	}
	if (out->buf) {
		memcpy(bigger, out->buf, out->len);
		explicit_bzero(out->buf, out->cap);
		free(out->buf);
	}
	out->buf = bigger;
	out->cap = cap;
	return true;
}

void ipk_out_write(struct ipk_outbuf *out, const void *data, size_t len)
{
	if (!reserve(out, len))
		return;
	memcpy(out->buf + out->len, data, len);
	out->len += len;
	out->buf[out->len] = '\0';
}

void ipk_out_printf(struct ipk_outbuf *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(out, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(out->buf + out->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
}

const char *ipk_out_str(const struct ipk_outbuf *out)
{
	return out->buf ? out->buf : "";
}

/* RFC 8259 §7: quotation mark, reverse solidus and U+0000..U+001F must be escaped. */
void ipk_json_escape(struct ipk_outbuf *out, const char *s)
{
	static const char short_form[] = { ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
					   ['\r'] = 'r', ['\t'] = 't' };
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run = p;

	ipk_out_write(out, "\"", 1);
	for (; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		ipk_out_write(out, run, (size_t)(p - run));
		run = p + 1;
		if (*p == '"' || *p == '\\')
			ipk_out_printf(out, "\\%c", *p);
		else if (*p < sizeof(short_form) && short_form[*p])
			ipk_out_printf(out, "\\%c", short_form[*p]);
		else
			ipk_out_printf(out, "\\u%04x", *p);
	}
	ipk_out_write(out, run, (size_t)(p - run));
	ipk_out_write(out, "\"", 1);
}

void ipk_json_init(struct ipk_json *j, struct ipk_outbuf *out)
{
	*j = (struct ipk_json){ .out = out };
}

/* The comma and the key in front of a value. */
static void lead(struct ipk_json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->has_items[j->depth - 1])
			ipk_out_write(j->out, ",", 1);
		j->has_items[j->depth - 1] = true;
	}
	if (key) {
		ipk_json_escape(j->out, key);
		ipk_out_write(j->out, ":", 1);
	}
}

static void open_container(struct ipk_json *j, const char *key, char c)
{
	if (j->depth == IPK_JSON_DEPTH_MAX) {
		j->bad_nesting = true;
		return;
	}
	lead(j, key);
	ipk_out_write(j->out, &c, 1);
	j->has_items[j->depth++] = false;
}

static void close_container(struct ipk_json *j, char c)
{
	if (j->depth == 0) {
		j->bad_nesting = true;
		return;
	}
	j->depth--;
	ipk_out_write(j->out, &c, 1);
}

void ipk_json_obj_begin(struct ipk_json *j, const char *key)
{
	open_container(j, key, '{');
}

void ipk_json_obj_end(struct ipk_json *j)
{
	close_container(j, '}');
}

void ipk_json_arr_begin(struct ipk_json *j, const char *key)
{
	open_container(j, key, '[');
}

void ipk_json_arr_end(struct ipk_json *j)
{
	close_container(j, ']');
}

void ipk_json_str(struct ipk_json *j, const char *key, const char *value)
{
	lead(j, key);
	ipk_json_escape(j->out, value);
}

void ipk_json_u64(struct ipk_json *j, const char *key, uint64_t value)
{
	lead(j, key);
	ipk_out_printf(j->out, "%" PRIu64, value);
}

void ipk_json_i64(struct ipk_json *j, const char *key, int64_t value)
{
	lead(j, key);
	ipk_out_printf(j->out, "%" PRId64, value);
}

void ipk_json_bool(struct ipk_json *j, const char *key, bool value)
{
	lead(j, key);
	ipk_out_printf(j->out, "%s", value ? "true" : "false");
}

int ipk_json_finish(struct ipk_json *j)
{
	if (j->bad_nesting || j->depth != 0)
		return -EINVAL;
	ipk_out_write(j->out, "\n", 1);
	return 0;
}
