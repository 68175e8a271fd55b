// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/cmd.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "sa/sa.h"

#define LIST_MAX 200 /* room for a list of keywords or commands in a message */
#define NAME_MAX_TEXT 64
/* Longer words of hex digits are taken for keys (16 bytes and more are 32 digits or more;
 * a 64-bit number is at most 20 decimal or 18 hex characters). */
#define SHOWN_HEX_MAX 24

/* Appends @word to the ", "-separated list in @buf. */
static void list_add(char *buf, size_t size, const char *word)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? ", " : "", word);
}

const char *ipk_cmd_name(const struct ipk_cmd_def *def, char *buf, size_t size)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < IPK_CMD_WORDS_MAX && def->words[i]; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "%s%s", i ? " " : "", def->words[i]);
	}
	return buf;
}

const char *ipk_cmd_shown(const char *word, char *buf, size_t size)
{
	size_t len = strlen(word);

	if (len <= SHOWN_HEX_MAX || strspn(word, "0123456789abcdefABCDEFxX") != len)
		return word;
	snprintf(buf, size, "<%zu hex characters, not shown>", len);
	return buf;
}

static unsigned def_words(const struct ipk_cmd_def *def)
{
	unsigned n = 0;

	while (n < IPK_CMD_WORDS_MAX && def->words[n])
		n++;
	return n;
}

/* How many leading words of @line name @def's words, in order. */
static unsigned prefix_match(const struct ipk_cmd_def *def, const struct ipk_lex_line *line)
{
	unsigned n = 0;

	while (n < def_words(def) && n < line->n && strcmp(def->words[n], line->word[n]) == 0)
		n++;
	return n;
}

static int unknown_command(const struct ipk_cmd_def *const *defs, size_t n_defs,
			   const struct ipk_lex_line *line, unsigned depth, struct ipk_cmd_parser *ps,
			   struct ipk_err *err)
{
	char list[LIST_MAX] = "", name[NAME_MAX_TEXT], shown[NAME_MAX_TEXT];
	unsigned at = depth < line->n ? depth : line->n - 1;
	const char *word = ipk_cmd_shown(line->word[at], shown, sizeof(shown));

	for (size_t i = 0; i < n_defs; i++)
		if (prefix_match(defs[i], line) >= depth)
			list_add(list, sizeof(list), ipk_cmd_name(defs[i], name, sizeof(name)));
	ps->err_line = line->lineno[at];
	if (depth == line->n)
		return ipk_err_set(err, -EINVAL, "'%s': incomplete command (expected %s)", word,
				   list);
	return ipk_err_set(err, -EINVAL, "'%s': unknown command (expected %s)", word, list);
}

int ipk_cmd_lookup(const struct ipk_cmd_def *const *defs, size_t n_defs,
		   const struct ipk_lex_line *line, struct ipk_cmd_parser *ps,
		   struct ipk_err *err)
{
	unsigned best = 0;

	memset(ps, 0, sizeof(*ps));
	ps->line = line;
	ps->err = err;
	ps->err_line = line->lineno[0];
	/* The longest full match wins, so that "show" and "show sa" may both exist. */
	for (size_t i = 0; i < n_defs; i++) {
		unsigned n = prefix_match(defs[i], line);

		if (n == def_words(defs[i]) && (!ps->def || n > ps->pos)) {
			ps->def = defs[i];
			ps->pos = n;
		}
		if (n > best)
			best = n;
	}
	if (ps->def)
		return 0;
	return unknown_command(defs, n_defs, line, best, ps, err);
}

int ipk_cmd_parse_u64(const char *word, bool suffix, uint64_t *out)
{
	unsigned base = 10, shift = 0;
	const char *p = word;
	uint64_t v = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0')
		return -EINVAL;
	for (; *p; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return -EINVAL;
		v = v * base + d;
	}
	if (suffix && base == 10 && p != word && *p != '\0' && p[1] == '\0') {
		/* Binary multiples, as sizes are usually meant (1M = 1048576 bytes). */
		shift = *p == 'K' || *p == 'k' ? 10 : *p == 'M' || *p == 'm' ? 20 :
			*p == 'G' || *p == 'g' ? 30 : 0;
		if (shift)
			p++;
	}
	if (*p != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

bool ipk_cmd_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= IPK_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_';

		if (!ok)
			return false;
	}
	return true;
}

static void choice_list(char *buf, size_t size, const struct ipk_kw_choice *c)
{
	for (; c && c->name; c++)
		list_add(buf, size, c->name);
}

static void kw_list(char *buf, size_t size, const struct ipk_kw *kws)
{
	for (; kws && kws->name; kws++)
		list_add(buf, size, kws->name);
}

/* What @kw takes, as the end of the sentence "expected ...". */
static void expect_text(const struct ipk_kw *kw, char *buf, size_t size)
{
	char list[LIST_MAX] = "";
	unsigned long long lo = kw->min, hi = kw->max;

	switch (kw->type) {
	case IPK_KW_NUM:
		snprintf(buf, size, "a number in %llu..%llu%s", lo, hi, kw->hint ? kw->hint : "");
		break;
	case IPK_KW_SIZE:
		snprintf(buf, size, "a number, optionally with K, M or G (2^10, 2^20, 2^30)");
		break;
	case IPK_KW_NAME:
		snprintf(buf, size, "a name of 1..%d letters, digits, '.', '-' or '_'",
			 IPK_NAME_MAX - 1);
		break;
	case IPK_KW_ENUM:
		choice_list(list, sizeof(list), kw->choices);
		if (kw->max)
			snprintf(buf, size, "one of %s or a number in %llu..%llu", list, lo, hi);
		else
			snprintf(buf, size, "one of %s", list);
		break;
	case IPK_KW_ADDR:
		snprintf(buf, size, "an IPv4 or IPv6 address");
		break;
	case IPK_KW_PREFIX:
		snprintf(buf, size, "an IPv4 or IPv6 prefix such as 10.0.0.0/8, or any");
		break;
	case IPK_KW_RANGE:
		snprintf(buf, size, "a number or a range LOW-HIGH in %llu..%llu", lo, hi);
		break;
	case IPK_KW_HEX:
		snprintf(buf, size, "0x and an even number of hex digits (at most %llu bytes)", hi);
		break;
	case IPK_KW_BLOCK:
		if (kw->choices)
			choice_list(list, sizeof(list), kw->choices);
		else
			kw_list(list, sizeof(list), kw->sub);
		snprintf(buf, size, "one of %s", list);
		break;
	default:
		snprintf(buf, size, "%s", kw->hint ? kw->hint : "a value");
		break;
	}
}

int ipk_cmd_expected(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, const char *word)
{
	char what[LIST_MAX + 64], shown[NAME_MAX_TEXT];

	expect_text(kw, what, sizeof(what));
	if (!word)
		return ipk_err_set(ps->err, -EINVAL, "'%s': expected %s, got end of line",
				   kw->name, what);
	return ipk_err_set(ps->err, -EINVAL, "'%s': expected %s, got '%s'", kw->name, what,
			   ipk_cmd_shown(word, shown, sizeof(shown)));
}

static int kw_index(const struct ipk_kw *kws, const char *word)
{
	for (int i = 0; kws && kws[i].name; i++)
		if (strcmp(kws[i].name, word) == 0)
			return i;
	return -1;
}

bool ipk_cmd_given(const struct ipk_cmd_parser *ps, const char *name)
{
	int i = kw_index(ps->def->kws, name);

	return i >= 0 && ps->kw_line[i] != 0;
}

int ipk_cmd_fail(struct ipk_cmd_parser *ps, const char *name, const char *fmt, ...)
{
	int i = kw_index(ps->def->kws, name);
	char msg[IPK_ERR_MSG_MAX];
	va_list ap;

	ps->err_line = i >= 0 && ps->kw_line[i] ? ps->kw_line[i] : ps->line->lineno[0];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ipk_err_set(ps->err, -EINVAL, "'%s': %s", name, msg);
}

int ipk_cmd_missing(struct ipk_cmd_parser *ps, const char *name, const char *why)
{
	char cmd[NAME_MAX_TEXT];

	ps->err_line = ps->line->lineno[0];
	return ipk_err_set(ps->err, -EINVAL, "%s: missing '%s'%s%s",
			   ipk_cmd_name(ps->def, cmd, sizeof(cmd)), name, why[0] ? " " : "", why);
}

/* The next word, or NULL at the end of the command (the error then names the line of
 * the word before). */
static const char *next_word(struct ipk_cmd_parser *ps)
{
	if (ps->pos >= ps->line->n)
		return NULL;
	ps->err_line = ps->line->lineno[ps->pos];
	return ps->line->word[ps->pos++];
}

static const char *peek_word(const struct ipk_cmd_parser *ps)
{
	return ps->pos < ps->line->n ? ps->line->word[ps->pos] : NULL;
}

static void store_uint(void *field, uint8_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(field, &u8, 1);
		break;
	case 2:
		memcpy(field, &u16, 2);
		break;
	case 4:
		memcpy(field, &u32, 4);
		break;
	default:
		assert(size == 8);
		memcpy(field, &v, 8);
		break;
	}
}

static int parse_number(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
			const char *word)
{
	uint64_t v;

	if (ipk_cmd_parse_u64(word, kw->type == IPK_KW_SIZE, &v) || v < kw->min || v > kw->max)
		return ipk_cmd_expected(ps, kw, word);
	store_uint((char *)arg + kw->off, kw->size, v);
	return 0;
}

static int parse_enum(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
		      const char *word)
{
	uint64_t v;

	for (const struct ipk_kw_choice *c = kw->choices; c->name; c++) {
		if (strcmp(c->name, word) == 0) {
			store_uint((char *)arg + kw->off, kw->size, c->value);
			return 0;
		}
	}
	if (kw->max && !ipk_cmd_parse_u64(word, false, &v) && v >= kw->min && v <= kw->max) {
		store_uint((char *)arg + kw->off, kw->size, v);
		return 0;
	}
	return ipk_cmd_expected(ps, kw, word);
}

/* Host bits set is the likely mistake; name the prefix that was probably meant. */
static int bad_prefix(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, const char *word)
{
	char addr_text[IPK_ADDR_STRLEN], fixed[IPK_ADDR_STRLEN];
	const char *slash = strchr(word, '/');
	struct ipk_addr addr;
	uint64_t len;

	if (!slash || (size_t)(slash - word) >= sizeof(addr_text))
		return ipk_cmd_expected(ps, kw, word);
	memcpy(addr_text, word, (size_t)(slash - word));
	addr_text[slash - word] = '\0';
	if (ipk_addr_parse(addr_text, &addr) || ipk_cmd_parse_u64(slash + 1, false, &len) ||
	    len > ipk_addr_len(addr.family) * 8)
		return ipk_cmd_expected(ps, kw, word);
	for (unsigned bit = (unsigned)len; bit < ipk_addr_len(addr.family) * 8; bit++)
		addr.bytes[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return ipk_err_set(ps->err, -EINVAL, "'%s': host bits set in '%s' (did you mean %s/%u?)",
			   kw->name, word, ipk_addr_str(&addr, fixed), (unsigned)len);
}

static int parse_prefix(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
			const char *word)
{
	struct ipk_prefix prefix;

	memset(&prefix, 0, sizeof(prefix));
	if (strcmp(word, "any") != 0 && ipk_prefix_parse(word, &prefix))
		return bad_prefix(ps, kw, word);
	memcpy((char *)arg + kw->off, &prefix, sizeof(prefix));
	return 0;
}

static int parse_range(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
		       const char *word)
{
	char low_text[24];
	const char *dash = strchr(word, '-');
	uint64_t lo, hi;

	if (!dash) {
		if (ipk_cmd_parse_u64(word, false, &lo))
			return ipk_cmd_expected(ps, kw, word);
		hi = lo;
	} else {
		if ((size_t)(dash - word) >= sizeof(low_text))
			return ipk_cmd_expected(ps, kw, word);
		memcpy(low_text, word, (size_t)(dash - word));
		low_text[dash - word] = '\0';
		if (ipk_cmd_parse_u64(low_text, false, &lo) ||
		    ipk_cmd_parse_u64(dash + 1, false, &hi))
			return ipk_cmd_expected(ps, kw, word);
	}
	if (lo < kw->min || hi > kw->max)
		return ipk_cmd_expected(ps, kw, word);
	if (lo > hi)
		return ipk_err_set(ps->err, -EINVAL, "'%s': range %s is reversed (expected LOW-HIGH)",
				   kw->name, word);
	store_uint((char *)arg + kw->off, 2, lo);
	store_uint((char *)arg + kw->off2, 2, hi);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Key material: the message describes the word but never repeats it. */
static int parse_hex(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
		     const char *word)
{
	uint8_t *bytes = (uint8_t *)arg + kw->off;
	char what[LIST_MAX];
	size_t digits;

	expect_text(kw, what, sizeof(what));
	if (word[0] != '0' || (word[1] != 'x' && word[1] != 'X'))
		return ipk_err_set(ps->err, -EINVAL, "'%s': expected %s, got a word without 0x",
				   kw->name, what);
	digits = strlen(word) - 2;
	for (size_t i = 0; i < digits; i++)
		if (hex_digit(word[2 + i]) < 0)
			return ipk_err_set(ps->err, -EINVAL,
					   "'%s': expected %s, got a non-hex character at digit %zu",
					   kw->name, what, i + 1);
	if (digits == 0 || digits % 2 || digits / 2 > kw->max)
		return ipk_err_set(ps->err, -EINVAL, "'%s': expected %s, got %zu digits", kw->name,
				   what, digits);
	for (size_t i = 0; i < digits / 2; i++)
		bytes[i] = (uint8_t)(hex_digit(word[2 + 2 * i]) << 4 | hex_digit(word[3 + 2 * i]));
	store_uint((char *)arg + kw->off2, 1, digits / 2);
	return 0;
}

static int parse_value(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg);

/* "lifetime bytes 1M seconds 60", "encap udp dport 4501". */
static int parse_block(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg)
{
	uint32_t seen = 0;
	const char *word;
	int i, ret;

	if (kw->choices) {
		word = next_word(ps);
		ret = word ? parse_enum(ps, kw, arg, word) : ipk_cmd_expected(ps, kw, NULL);
		if (ret)
			return ret;
	}
	while ((word = peek_word(ps)) && (i = kw_index(kw->sub, word)) >= 0) {
		next_word(ps);
		if (seen & (1u << i))
			return ipk_err_set(ps->err, -EINVAL, "'%s': given twice in '%s'", word,
					   kw->name);
		seen |= 1u << i;
		ret = parse_value(ps, &kw->sub[i], arg);
		if (ret)
			return ret;
	}
	if (!kw->choices && !seen) {
		if (word)
			ps->err_line = ps->line->lineno[ps->pos];
		return ipk_cmd_expected(ps, kw, word);
	}
	return 0;
}

static int parse_value(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg)
{
	const char *word;

	if (kw->type == IPK_KW_FLAG) {
		*(bool *)((char *)arg + kw->off) = true;
		return 0;
	}
	if (kw->type == IPK_KW_BLOCK)
		return parse_block(ps, kw, arg);
	word = next_word(ps);
	if (!word)
		return ipk_cmd_expected(ps, kw, NULL);
	switch (kw->type) {
	case IPK_KW_NUM:
	case IPK_KW_SIZE:
		return parse_number(ps, kw, arg, word);
	case IPK_KW_NAME:
		if (!ipk_cmd_name_ok(word))
			return ipk_cmd_expected(ps, kw, word);
		strcpy((char *)arg + kw->off, word);
		return 0;
	case IPK_KW_ENUM:
		return parse_enum(ps, kw, arg, word);
	case IPK_KW_ADDR:
		if (ipk_addr_parse(word, (struct ipk_addr *)((char *)arg + kw->off)))
			return ipk_cmd_expected(ps, kw, word);
		return 0;
	case IPK_KW_PREFIX:
		return parse_prefix(ps, kw, arg, word);
	case IPK_KW_RANGE:
		return parse_range(ps, kw, arg, word);
	case IPK_KW_HEX:
		return parse_hex(ps, kw, arg, word);
	default:
		return kw->set(ps, kw, arg, word);
	}
}

static int unknown_keyword(struct ipk_cmd_parser *ps, const char *word)
{
	const struct ipk_kw *kws = ps->def->kws;
	char list[LIST_MAX] = "", name[NAME_MAX_TEXT], shown[NAME_MAX_TEXT];

	for (int i = 0; kws && kws[i].name; i++)
		if (!ps->kw_line[i])
			list_add(list, sizeof(list), kws[i].name);
	ipk_cmd_name(ps->def, name, sizeof(name));
	word = ipk_cmd_shown(word, shown, sizeof(shown));
	if (!list[0])
		return ipk_err_set(ps->err, -EINVAL, "'%s': unexpected word (%s takes no more)",
				   word, name);
	return ipk_err_set(ps->err, -EINVAL, "'%s': unknown keyword for %s (expected one of %s)",
			   word, name, list);
}

int ipk_cmd_parse_keywords(struct ipk_cmd_parser *ps, void *arg)
{
	const struct ipk_kw *kws = ps->def->kws;
	const char *word;
	int i, ret;

	while ((word = next_word(ps))) {
		i = kw_index(kws, word);
		if (i < 0)
			return unknown_keyword(ps, word);
		assert(i < IPK_CMD_KW_MAX);
		if (ps->kw_line[i])
			return ipk_err_set(ps->err, -EINVAL, "'%s': given twice in one command",
					   word);
		ps->kw_line[i] = ps->err_line;
		ret = parse_value(ps, &kws[i], arg);
		if (ret)
			return ret;
	}
	for (i = 0; kws && kws[i].name; i++)
		if (kws[i].required && !ps->kw_line[i])
			return ipk_cmd_missing(ps, kws[i].name, "");
	return 0;
}

static uint64_t key_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 0x100000001b3ull;
	return h;
}

int ipk_cmd_batch_init(struct ipk_cmd_batch *b, struct ipk_config_ctx *ctx, size_t hint)
{
	size_t n = 16;

	while (n < hint && n < ((size_t)1 << 24))
		n <<= 1;
	b->ctx = ctx;
	b->n_buckets = n;
	b->buckets = calloc(n, sizeof(*b->buckets));
	return b->buckets ? 0 : -ENOMEM;
}

void ipk_cmd_batch_fini(struct ipk_cmd_batch *b)
{
	for (size_t i = 0; b->buckets && i < b->n_buckets; i++) {
		struct ipk_cmd_note *note = b->buckets[i], *next;

		for (; note; note = next) {
			next = note->next;
			free(note);
		}
	}
	free(b->buckets);
	b->buckets = NULL;
}

static struct ipk_cmd_note **note_slot(const struct ipk_cmd_batch *b, const char *key)
{
	struct ipk_cmd_note **slot = &b->buckets[key_hash(key) & (b->n_buckets - 1)];

	while (*slot && strcmp((*slot)->key, key) != 0)
		slot = &(*slot)->next;
	return slot;
}

const struct ipk_cmd_note *ipk_cmd_note_find(const struct ipk_cmd_batch *b, const char *key)
{
	return *note_slot(b, key);
}

int ipk_cmd_note_set(struct ipk_cmd_batch *b, const char *key, bool present, const void *data)
{
	struct ipk_cmd_note **slot = note_slot(b, key);

	if (!*slot) {
		*slot = calloc(1, sizeof(**slot) + strlen(key) + 1);
		if (!*slot)
			return -ENOMEM;
		strcpy((*slot)->key, key);
	}
	(*slot)->present = present;
	(*slot)->data = data;
	return 0;
}
