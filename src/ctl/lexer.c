// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/lexer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int ipk_lex_init(struct ipk_lex *lx, const char *text)
{
	memset(lx, 0, sizeof(*lx));
	/* Every word is followed by a separator or the end, so the words and their NULs fit
	 * in the length of the text plus one. */
	lx->size = strlen(text) + 1;
	lx->buf = malloc(lx->size);
	if (!lx->buf)
		return -ENOMEM;
	lx->out = lx->buf;
	lx->pos = text;
	lx->lineno = 1;
	return 0;
}

void ipk_lex_fini(struct ipk_lex *lx)
{
	if (lx->buf) {
		explicit_bzero(lx->buf, lx->size);
		free(lx->buf);
	}
	lx->buf = NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool ends_word(char c)
{
	return is_blank(c) || c == '\n' || c == '\0';
}

/* True when only blanks follow @p up to the end of the physical line. */
static bool rest_blank(const char *p)
{
	while (is_blank(*p))
		p++;
	return *p == '\n' || *p == '\0';
}

/* A backslash at @lx->pos: a continuation if the rest of the line is blank. */
static int continuation(struct ipk_lex *lx, bool *continued, struct ipk_err *err)
{
	lx->err_line = lx->lineno; /* read only when an error is returned */
	if (!rest_blank(lx->pos + 1))
		return ipk_err_set(err, -EINVAL,
				   "'\\': a backslash continues a command only at the end of a line");
	lx->pos++;
	while (is_blank(*lx->pos))
		lx->pos++;
	if (*lx->pos == '\0' || lx->pos[1] == '\0')
		return ipk_err_set(err, -EINVAL,
				   "'\\': the command continues past the end of the input");
	*continued = true;
	return 0;
}

/* Copies one word into the storage; stops before a continuation backslash. */
static int read_word(struct ipk_lex *lx, struct ipk_lex_line *line, bool *continued,
		     struct ipk_err *err)
{
	char *start = lx->out;
	int ret = 0;

	if (line->n == IPK_LEX_WORDS_MAX) {
		lx->err_line = lx->lineno;
		return ipk_err_set(err, -EINVAL, "too many words in one command (at most %d)",
				   IPK_LEX_WORDS_MAX);
	}
	while (!ends_word(*lx->pos)) {
		if (*lx->pos == '\\') {
			ret = continuation(lx, continued, err);
			break;
		}
		*lx->out++ = *lx->pos++;
	}
	*lx->out++ = '\0';
	line->word[line->n] = start;
	line->lineno[line->n] = lx->lineno;
	line->n++;
	return ret;
}

int ipk_lex_next(struct ipk_lex *lx, struct ipk_lex_line *line, struct ipk_err *err)
{
	bool continued = false;
	int ret;

	line->n = 0;
	for (;;) {
		char c = *lx->pos;

		if (is_blank(c)) {
			lx->pos++;
		} else if (c == '\0') {
			return line->n > 0;
		} else if (c == '\n') {
			lx->pos++;
			lx->lineno++;
			if (!continued && line->n > 0)
				return 1;
			continued = false;
		} else if (c == '#') {
			while (*lx->pos != '\n' && *lx->pos != '\0')
				lx->pos++;
		} else if (c == '\\') {
			ret = continuation(lx, &continued, err);
			if (ret)
				return ret;
		} else {
			ret = read_word(lx, line, &continued, err);
			if (ret)
				return ret;
		}
	}
}
