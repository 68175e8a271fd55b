// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/keyfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "ctl/lexer.h"

static bool is_key_word(const char *word)
{
	return strcmp(word, "key") == 0 || strcmp(word, "enc-key") == 0 ||
	       strcmp(word, "auth-key") == 0;
}

/* Reads the words as the configuration parser does, so that "# key ..." in a comment is not
 * key material. A file the lexer refuses is judged by the lines before the fault: the
 * batch fails anyway and names the line. */
static bool holds_keys(const char *text)
{
	struct ipk_lex_line *line = malloc(sizeof(*line));
	struct ipk_err ignored;
	struct ipk_lex lx;
	bool found = false;

	if (!line || ipk_lex_init(&lx, text)) {
		free(line);
		return false;
	}
	while (!found && ipk_lex_next(&lx, line, &ignored) == 1)
		for (unsigned i = 0; i < line->n && !found; i++)
			found = is_key_word(line->word[i]);
	ipk_lex_fini(&lx);
	free(line);
	return found;
}

bool ipk_keyfile_exposed(const char *path, mode_t mode, const char *text, char *msg,
			 size_t size)
{
	if (!(mode & (S_IRWXG | S_IRWXO)) || !holds_keys(text))
		return false;
	snprintf(msg, size,
		 "%s: holds keys but its mode %04o lets %s read or write it; run chmod 600 %s",
		 path, (unsigned)(mode & 07777),
		 (mode & S_IRWXO) ? "others" : "its group", path);
	return true;
}

void ipk_keyfile_warn(const char *path, const char *text)
{
	struct stat sb;
	char msg[2 * 4096 + 128];

	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return;
	if (ipk_keyfile_exposed(path, sb.st_mode, text, msg, sizeof(msg)))
		log_warnx("%s", msg);
}
