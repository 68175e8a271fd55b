/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The table machinery behind the configuration language (ctl/config.h).
 *
 * A command is a row of struct ipk_cmd_def: the words that name it ("sa", "add"), its
 * keyword table, the size of the struct its parse fills, and three functions:
 *   parse  words -> command struct; syntax and rules within one command. Touches nothing.
 *   check  against the state the earlier commands of the batch leave (struct ipk_cmd_batch
 *          notes what they added and deleted); records what this command changes.
 *   apply  changes the SAD/SPD/...; may fail only for lack of memory.
 * A keyword is a row of struct ipk_kw: its name, the kind of value it takes, whether it is
 * required, and where the value goes (an offset into the command struct, or a setter).
 * ipk_cmd_parse_keywords() walks a command's words with its table; parse functions call it
 * and then apply the rules that involve several keywords.
 *
 * Values:
 *   numbers   decimal or 0x hex, no sign; a size also takes K, M or G (2^10, 2^20, 2^30)
 *   names     1..IPK_NAME_MAX-1 of letters, digits, '.', '-', '_'
 *   keys      0x and an even number of hex digits
 *   prefixes  as ipk_prefix_parse(), host bits clear, or "any"
 *   ranges    N or LOW-HIGH
 *   blocks    a keyword followed by sub-keywords ("lifetime bytes 1M seconds 3600"), with
 *             an optional leading choice ("encap udp sport 4500"); the block ends at the
 *             first word that is not one of its sub-keywords.
 *
 * Messages are written without the "ORIGIN:LINE: " prefix; the driver (config.c) adds it,
 * with the line in struct ipk_cmd_parser.err_line.
 *
 * Threads: control plane only.
 */
#ifndef IPK_CTL_CMD_H
#define IPK_CTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/compiler.h"
#include "core/err.h"
#include "ctl/config.h"
#include "ctl/lexer.h"

#define IPK_CMD_WORDS_MAX 3 /* words naming a command, NULL-terminated below that */
#define IPK_CMD_KW_MAX 32   /* keywords in one table */

enum ipk_kw_type {
	IPK_KW_FLAG,   /* no value: sets a bool */
	IPK_KW_NUM,    /* a number in min..max, stored in a field of @size bytes */
	IPK_KW_SIZE,   /* as NUM, with an optional K/M/G suffix */
	IPK_KW_NAME,   /* char[IPK_NAME_MAX] */
	IPK_KW_ENUM,   /* one of @choices, stored as its value; a number in min..max too when
			* max > 0 */
	IPK_KW_ADDR,   /* struct ipk_addr */
	IPK_KW_PREFIX, /* struct ipk_prefix; "any" leaves family 0 */
	IPK_KW_RANGE,  /* two uint16_t (at @off and @off2), each in min..max, low <= high */
	IPK_KW_HEX,    /* bytes at @off, their count (uint8_t) at @off2, at most @max bytes */
	IPK_KW_BLOCK,  /* @choices (optional leading word), then sub-keywords from @sub */
	IPK_KW_CUSTOM, /* @set parses the word; @hint says what it expects */
};

struct ipk_kw_choice {
	const char *name; /* NULL ends the list */
	uint64_t value;
};

struct ipk_cmd_parser;

struct ipk_kw {
	const char *name; /* NULL ends the table */
	enum ipk_kw_type type;
	bool required;
	size_t off;
	size_t off2;
	uint8_t size;
	uint64_t min, max;
	const struct ipk_kw_choice *choices;
	const struct ipk_kw *sub;
	/* CUSTOM: parses @word into @arg; reports errors with ipk_cmd_expected(). */
	int (*set)(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
		   const char *word);
	const char *hint; /* CUSTOM: what is expected; NUM: a note after the range */
};

/* Row helpers: T is the command struct, F the field. */
#define IPK_KW_FIELD(T, F) .off = offsetof(T, F), .size = sizeof(((T *)0)->F)

struct ipk_cmd_batch;
struct ipk_outbuf;

struct ipk_cmd_def {
	const char *words[IPK_CMD_WORDS_MAX + 1];
	const struct ipk_kw *kws;
	size_t arg_size;
	/* Fills @arg (zeroed, arg_size bytes) from the words after the command's name. */
	int (*parse)(struct ipk_cmd_parser *ps, void *arg);
	/* Checks @arg against the batch's view and notes what it changes. Changes nothing
	 * else. Errors go to @err. */
	int (*check)(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err);
	/* Applies @arg. After check passed, fails only with -ENOMEM. */
	int (*apply)(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err);
	/* Read-only commands (show, stats) have no check or apply: they run alone, outside a
	 * batch (ctl/ctl.h), and write text, or JSON when @json, to @out (ctl/json.h). */
	int (*run)(struct ipk_config_ctx *ctx, const void *arg, bool json,
		   struct ipk_outbuf *out, struct ipk_err *err);
	/* Adds or deletes SAs or policies: after the batch, the policies' SA pointers are
	 * resolved again (ipk_spd_resolve). Other batches leave them alone, since the packet
	 * path reads them. */
	bool moves_sas;
	/* Safe while packets flow: the change is published to the packet path atomically
	 * (QoS chains: engine/hooks.h; crypto units: ipk_engine_set_units). A gateway runs a
	 * batch of such commands only without stalling traffic at all (gw/gwctl.c); SA and
	 * policy commands make it hold the packet scheduler, any other command makes it
	 * drain the engine (gw/gateway.h). */
	bool live;
	/* Waits for the packets in the engine to move on (replacing the crypto units lets
	 * the old ones finish theirs, which needs the packet scheduler to take their
	 * results): never applied while the scheduler is held, so a batch that also changes
	 * SAs or policies drains the engine instead (gw/gwctl.c). */
	bool waits_for_traffic;
};

/* Parsing one command. */
struct ipk_cmd_parser {
	const struct ipk_cmd_def *def;
	const struct ipk_lex_line *line;
	unsigned pos;                     /* next word */
	unsigned err_line;                /* physical line of the fault */
	unsigned kw_line[IPK_CMD_KW_MAX]; /* line of each keyword of def->kws given, or 0 */
	struct ipk_err *err;
};

/* The table of every command of the language (config.c): files, batches and the read-only
 * commands of the control socket share it. */
const struct ipk_cmd_def *const *ipk_config_commands(size_t *n);

/* Finds the command @line names; on success @ps is ready for def->parse. Returns 0 or
 * -EINVAL with the message in @err. */
int ipk_cmd_lookup(const struct ipk_cmd_def *const *defs, size_t n_defs,
		   const struct ipk_lex_line *line, struct ipk_cmd_parser *ps,
		   struct ipk_err *err);
/* Walks the remaining words with ps->def->kws, storing into @arg; then checks that every
 * required keyword was given. */
int ipk_cmd_parse_keywords(struct ipk_cmd_parser *ps, void *arg);

/* Writes the command's name ("sa add") into @buf; returns @buf. */
const char *ipk_cmd_name(const struct ipk_cmd_def *def, char *buf, size_t size);
/* @word, or a description of it when it looks like key material (a long word of hex
 * digits), so that a key written in the wrong place is not copied into a message. */
const char *ipk_cmd_shown(const char *word, char *buf, size_t size);
/* Was keyword @name given? */
bool ipk_cmd_given(const struct ipk_cmd_parser *ps, const char *name);
/* Writes "'NAME': <fmt>" with the line of keyword @name (or of the command when it was not
 * given) and returns -EINVAL. */
int ipk_cmd_fail(struct ipk_cmd_parser *ps, const char *name, const char *fmt, ...)
	IPK_PRINTF(3, 4);
/* Writes "sa add: missing 'NAME'" and @why (may be ""), at the command's first line, and
 * returns -EINVAL. */
int ipk_cmd_missing(struct ipk_cmd_parser *ps, const char *name, const char *why);
/* Writes "'KW': expected <what kw takes>, got 'WORD'" (or "got end of line" for a NULL
 * @word) at the current word's line and returns -EINVAL. */
int ipk_cmd_expected(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, const char *word);
/* Parses a number: decimal or 0x hex, with K/M/G when @suffix. Returns 0 or -EINVAL
 * (also on overflow). */
int ipk_cmd_parse_u64(const char *word, bool suffix, uint64_t *out);
/* True for a valid object name (see above). */
bool ipk_cmd_name_ok(const char *name);

/*
 * The batch's view during the check pass. Each check notes the objects its command adds
 * or deletes under a key of its choosing ("sa:gw-out"); later checks look the key up
 * first and fall back to the live SAD/SPD when no command of the batch touched it.
 */
struct ipk_cmd_note {
	struct ipk_cmd_note *next;
	bool present;     /* the object exists after the commands so far */
	const void *data; /* the command struct that added it, or NULL */
	char key[];
};

struct ipk_cmd_batch {
	struct ipk_config_ctx *ctx;
	struct ipk_cmd_note **buckets;
	size_t n_buckets; /* a power of two */
};

/* @hint: how many notes to expect (sizes the table). Returns 0 or -ENOMEM. */
int ipk_cmd_batch_init(struct ipk_cmd_batch *b, struct ipk_config_ctx *ctx, size_t hint);
void ipk_cmd_batch_fini(struct ipk_cmd_batch *b);
/* The note under @key, or NULL when no command of the batch touched it. */
const struct ipk_cmd_note *ipk_cmd_note_find(const struct ipk_cmd_batch *b, const char *key);
/* Records @key as present or absent. Returns 0 or -ENOMEM. */
int ipk_cmd_note_set(struct ipk_cmd_batch *b, const char *key, bool present,
		     const void *data);

#endif
