/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Splits configuration text into commands and words.
 *
 * Rules (as a shell reads them, minus quoting):
 *   - a command is one line; words are separated by spaces or tabs ("\r\n" ends a line too);
 *   - `#` at the start of a word starts a comment that runs to the end of the physical line
 *     ("a#b" is one word);
 *   - a backslash as the last character of a line, before any comment (trailing blanks
 *     allowed), continues the command on the next line. A backslash anywhere else, or on
 *     the last line of the input, is an error. A comment line inside a continued command
 *     ends the command, as in a shell.
 * Each word remembers its physical line, so an error in a continued command names the
 * line the word is on.
 *
 * Threads: control plane; a lexer belongs to one caller.
 */
#ifndef IPK_CTL_LEXER_H
#define IPK_CTL_LEXER_H

#include <stddef.h>

#include "core/err.h"

#define IPK_LEX_WORDS_MAX 96

struct ipk_lex {
	const char *pos;   /* next input character */
	unsigned lineno;   /* physical line of @pos, from 1 */
	unsigned err_line; /* where the last error is */
	char *buf;         /* word storage: every word, NUL-terminated */
	char *out;         /* next free byte of @buf */
	size_t size;
};

/* One command: its words, in order, and the physical line of each. */
struct ipk_lex_line {
	unsigned n;
	const char *word[IPK_LEX_WORDS_MAX];
	unsigned lineno[IPK_LEX_WORDS_MAX];
};

/* Prepares to read @text, which must outlive the lexer. Words stay valid until
 * ipk_lex_fini(). Returns 0 or -ENOMEM. */
int ipk_lex_init(struct ipk_lex *lx, const char *text);
/* Wipes the word storage (it may hold keys) and frees it. */
void ipk_lex_fini(struct ipk_lex *lx);

/* Reads the next non-empty command into @line. Returns 1, 0 at the end of the input, or
 * -EINVAL with a message in @err and the line in lx->err_line. */
int ipk_lex_next(struct ipk_lex *lx, struct ipk_lex_line *line, struct ipk_err *err);

#endif
