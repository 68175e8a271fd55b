// SPDX-License-Identifier: BSD-2-Clause
/*
 *   sa add name NAME spi SPI dir in|out mode tunnel|transport src ADDR dst ADDR
 *          proposal ALG (key HEX | enc-key HEX auth-key HEX) [esn] [replay-window N]
 *          [encap udp [sport N] [dport N]] [ttl N] [seq N] [mtu N]
 *          [lifetime bytes N packets N seconds N] [soft-lifetime bytes N packets N seconds N]
 *   sa del name NAME
 *
 * Parse checks what one command can tell alone (ranges, key lengths for the algorithm,
 * address families, soft <= hard); check adds what needs the SAD and the batch (unique
 * name; unique SPI and destination among inbound SAs, RFC 4301 §4.1).
 */
#include "ctl/config_sa.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "proto/replay.h"
#include "sa/sad.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define NOTE_KEY_MAX (16 + IPK_NAME_MAX + IPK_ADDR_STRLEN)

struct sa_del {
	char name[IPK_NAME_MAX];
};

static const struct ipk_kw_choice dir_choices[] = {
	{ "in", IPK_DIR_IN },
	{ "out", IPK_DIR_OUT },
	{ NULL, 0 },
};

static const struct ipk_kw_choice mode_choices[] = {
	{ "tunnel", IPK_MODE_TUNNEL },
	{ "transport", IPK_MODE_TRANSPORT },
	{ NULL, 0 },
};

static const struct ipk_kw_choice encap_choices[] = {
	{ "udp", 1 },
	{ NULL, 0 },
};

#define P struct ipk_sa_params

/* Zero means "no limit" (struct ipk_lifetime). */
#define LIFETIME_KWS(WHICH)                                                                  \
	{                                                                                    \
		{ .name = "bytes", .type = IPK_KW_SIZE, IPK_KW_FIELD(P, WHICH.bytes),        \
		  .max = UINT64_MAX },                                                       \
		{ .name = "packets", .type = IPK_KW_NUM, IPK_KW_FIELD(P, WHICH.packets),     \
		  .max = UINT64_MAX },                                                       \
		{ .name = "seconds", .type = IPK_KW_NUM, IPK_KW_FIELD(P, WHICH.seconds),     \
		  .max = UINT64_MAX },                                                       \
		{ .name = NULL },                                                            \
	}

static const struct ipk_kw hard_kws[] = LIFETIME_KWS(hard);
static const struct ipk_kw soft_kws[] = LIFETIME_KWS(soft);

static const struct ipk_kw encap_kws[] = {
	{ .name = "sport", .type = IPK_KW_NUM, IPK_KW_FIELD(P, encap_sport), .min = 1,
	  .max = 65535 },
	{ .name = "dport", .type = IPK_KW_NUM, IPK_KW_FIELD(P, encap_dport), .min = 1,
	  .max = 65535 },
	{ .name = NULL },
};

static int set_proposal(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
			const char *word)
{
	struct ipk_sa_params *p = arg;
	const struct ipk_alg *alg = ipk_alg_find(word);
	char shown[64];

	if (!alg)
		return ipk_err_set(ps->err, -EINVAL,
				   "'%s': unknown algorithm '%s' (expected one of %s)", kw->name,
				   ipk_cmd_shown(word, shown, sizeof(shown)), ipk_alg_names());
	if (alg->insecure)
		return ipk_err_set(ps->err, -EINVAL,
				   "'%s': algorithm '%s' is insecure and refused (expected one of %s)",
				   kw->name, word, ipk_alg_names());
	p->alg = alg;
	return 0;
}

/* 0 turns replay protection off (struct ipk_sa_params); otherwise the replay module's
 * bounds. Outbound SAs accept and ignore it. */
static int set_window(struct ipk_cmd_parser *ps, const struct ipk_kw *kw, void *arg,
		      const char *word)
{
	struct ipk_sa_params *p = arg;
	uint64_t v;

	if (ipk_cmd_parse_u64(word, false, &v) ||
	    (v != 0 && (v < IPK_REPLAY_MIN || v > IPK_REPLAY_MAX)))
		return ipk_cmd_expected(ps, kw, word);
	p->replay_window = (uint32_t)v;
	return 0;
}

static const struct ipk_kw sa_add_kws[] = {
	{ .name = "name", .type = IPK_KW_NAME, .required = true, IPK_KW_FIELD(P, name) },
	{ .name = "spi", .type = IPK_KW_NUM, .required = true, IPK_KW_FIELD(P, spi), .min = 256,
	  .max = UINT32_MAX, .hint = " (0..255 are reserved, RFC 4303 §2.1)" },
	{ .name = "dir", .type = IPK_KW_ENUM, .required = true, IPK_KW_FIELD(P, dir),
	  .choices = dir_choices },
	{ .name = "mode", .type = IPK_KW_ENUM, .required = true, IPK_KW_FIELD(P, mode),
	  .choices = mode_choices },
	{ .name = "src", .type = IPK_KW_ADDR, .required = true, IPK_KW_FIELD(P, src) },
	{ .name = "dst", .type = IPK_KW_ADDR, .required = true, IPK_KW_FIELD(P, dst) },
	{ .name = "proposal", .type = IPK_KW_CUSTOM, .required = true, .set = set_proposal },
	{ .name = "key", .type = IPK_KW_HEX, .off = offsetof(P, enc_key),
	  .off2 = offsetof(P, enc_key_len), .max = IPK_KEY_MAX },
	{ .name = "enc-key", .type = IPK_KW_HEX, .off = offsetof(P, enc_key),
	  .off2 = offsetof(P, enc_key_len), .max = IPK_KEY_MAX },
	{ .name = "auth-key", .type = IPK_KW_HEX, .off = offsetof(P, auth_key),
	  .off2 = offsetof(P, auth_key_len), .max = IPK_KEY_MAX },
	{ .name = "esn", .type = IPK_KW_FLAG, IPK_KW_FIELD(P, esn) },
	{ .name = "replay-window", .type = IPK_KW_CUSTOM, .set = set_window,
	  .hint = "a number in " STR(IPK_REPLAY_MIN) ".." STR(IPK_REPLAY_MAX) },
	{ .name = "encap", .type = IPK_KW_BLOCK, IPK_KW_FIELD(P, encap_udp),
	  .choices = encap_choices, .sub = encap_kws },
	{ .name = "ttl", .type = IPK_KW_NUM, IPK_KW_FIELD(P, ttl), .min = 1, .max = 255 },
	{ .name = "seq", .type = IPK_KW_NUM, IPK_KW_FIELD(P, seq_start), .max = UINT64_MAX },
	{ .name = "mtu", .type = IPK_KW_NUM, IPK_KW_FIELD(P, mtu), .max = 65535,
	  .hint = " (0 = no limit; else 576..65535, 1280..65535 with IPv6 addresses)" },
	{ .name = "lifetime", .type = IPK_KW_BLOCK, .sub = hard_kws },
	{ .name = "soft-lifetime", .type = IPK_KW_BLOCK, .sub = soft_kws },
	{ .name = NULL },
};

static int check_families(struct ipk_cmd_parser *ps, const struct ipk_sa_params *p)
{
	if (p->src.family == p->dst.family)
		return 0;
	return ipk_cmd_fail(ps, "dst", "an IPv%u address while 'src' is IPv%u (both must be of "
			    "one family)", p->dst.family, p->src.family);
}

/* AEAD and GMAC take one `key` (cipher key || salt, RFC 4106 §8.1); the others take
 * `enc-key` (none for NULL encryption) and `auth-key`. */
static int check_keys(struct ipk_cmd_parser *ps, const struct ipk_sa_params *p)
{
	const struct ipk_alg *alg = p->alg;
	unsigned whole = alg->enc_key_len + alg->salt_len;
	char for_alg[48];

	snprintf(for_alg, sizeof(for_alg), "for %s", alg->name);

	if (alg->auth_key_len == 0) {
		if (ipk_cmd_given(ps, "enc-key") || ipk_cmd_given(ps, "auth-key"))
			return ipk_cmd_fail(ps, ipk_cmd_given(ps, "enc-key") ? "enc-key" : "auth-key",
					    "%s takes 'key' (cipher key and salt), not 'enc-key' "
					    "and 'auth-key'", alg->name);
		if (!ipk_cmd_given(ps, "key"))
			return ipk_cmd_missing(ps, "key", for_alg);
		if (p->enc_key_len != whole)
			return ipk_cmd_fail(ps, "key", "%s needs %u bytes (%u of key and %u of salt), "
					    "got %u", alg->name, whole, alg->enc_key_len,
					    alg->salt_len, p->enc_key_len);
		return 0;
	}
	if (ipk_cmd_given(ps, "key"))
		return ipk_cmd_fail(ps, "key", "%s takes %s'auth-key', not 'key'", alg->name,
				    whole ? "'enc-key' and " : "");
	if (!whole && ipk_cmd_given(ps, "enc-key"))
		return ipk_cmd_fail(ps, "enc-key", "%s has no cipher key", alg->name);
	if (whole && !ipk_cmd_given(ps, "enc-key"))
		return ipk_cmd_missing(ps, "enc-key", for_alg);
	if (!ipk_cmd_given(ps, "auth-key"))
		return ipk_cmd_missing(ps, "auth-key", for_alg);
	if (p->enc_key_len != whole)
		return ipk_cmd_fail(ps, "enc-key", "%s needs %u bytes, got %u", alg->name, whole,
				    p->enc_key_len);
	if (p->auth_key_len != alg->auth_key_len)
		return ipk_cmd_fail(ps, "auth-key", "%s needs %u bytes, got %u", alg->name,
				    alg->auth_key_len, p->auth_key_len);
	return 0;
}

static int soft_above_hard(struct ipk_cmd_parser *ps, const char *what, uint64_t soft,
			   uint64_t hard)
{
	if (!soft || !hard || soft <= hard)
		return 0;
	return ipk_cmd_fail(ps, "soft-lifetime", "%s %" PRIu64 " above the hard lifetime's %" PRIu64,
			    what, soft, hard);
}

static int check_lifetimes(struct ipk_cmd_parser *ps, const struct ipk_sa_params *p)
{
	int ret;

	ret = soft_above_hard(ps, "bytes", p->soft.bytes, p->hard.bytes);
	if (!ret)
		ret = soft_above_hard(ps, "packets", p->soft.packets, p->hard.packets);
	if (!ret)
		ret = soft_above_hard(ps, "seconds", p->soft.seconds, p->hard.seconds);
	return ret;
}

/* RFC 791: 576 bytes reach any IPv4 host; RFC 8200 §5: every IPv6 link takes 1280. */
static int check_mtu(struct ipk_cmd_parser *ps, const struct ipk_sa_params *p)
{
	uint32_t min = p->dst.family == 6 ? 1280 : 576;

	if (p->mtu == 0 || p->mtu >= min)
		return 0;
	return ipk_cmd_fail(ps, "mtu", "%" PRIu32 " below %" PRIu32 ", the least an IPv%u path "
			    "carries (0 = no limit)", p->mtu, min, p->dst.family);
}

static int sa_add_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct ipk_sa_params *p = arg;
	int ret;

	ipk_sa_params_init(p);
	ret = ipk_cmd_parse_keywords(ps, p);
	if (!ret)
		ret = check_families(ps, p);
	if (!ret)
		ret = check_keys(ps, p);
	if (!ret)
		ret = check_lifetimes(ps, p);
	if (!ret)
		ret = check_mtu(ps, p);
	/* Without ESN the counter is 32 bits (RFC 4303 §2.2). */
	if (!ret && !p->esn && p->seq_start > UINT32_MAX)
		ret = ipk_cmd_fail(ps, "seq", "%" PRIu64 " needs 'esn' (sequence numbers are 32 bits "
				   "without it)", p->seq_start);
	return ret;
}

static void name_key(char *buf, const char *name)
{
	snprintf(buf, NOTE_KEY_MAX, "sa:%s", name);
}

static void spi_key(char *buf, const struct ipk_sa_params *p)
{
	char addr[IPK_ADDR_STRLEN];

	snprintf(buf, NOTE_KEY_MAX, "spi:%08" PRIx32 ":%s", p->spi, ipk_addr_str(&p->dst, addr));
}

const struct ipk_sa_params *ipk_config_sa_lookup(const struct ipk_cmd_batch *b,
						 const char *name)
{
	char key[NOTE_KEY_MAX];
	const struct ipk_cmd_note *note;
	const struct ipk_sa *sa;

	name_key(key, name);
	note = ipk_cmd_note_find(b, key);
	if (note)
		return note->present ? note->data : NULL;
	sa = b->ctx->sad ? ipk_sad_find(b->ctx->sad, name) : NULL;
	return sa ? &sa->params : NULL;
}

/* The inbound SA that already uses @p's SPI and destination, or NULL. */
static const struct ipk_sa_params *spi_owner(const struct ipk_cmd_batch *b,
					     const struct ipk_sa_params *p)
{
	char key[NOTE_KEY_MAX];
	const struct ipk_cmd_note *note;
	const struct ipk_sa *sa;

	spi_key(key, p);
	note = ipk_cmd_note_find(b, key);
	if (note)
		return note->present ? note->data : NULL;
	sa = ipk_sad_lookup_in(b->ctx->sad, p->spi, &p->dst);
	if (sa && sa->params.dir == IPK_DIR_IN && ipk_addr_equal(&sa->params.dst, &p->dst))
		return &sa->params;
	return NULL;
}

/* Records that the batch leaves @p present or absent. */
static int note_sa(struct ipk_cmd_batch *b, const struct ipk_sa_params *p, bool present)
{
	char key[NOTE_KEY_MAX];
	int ret;

	name_key(key, p->name);
	ret = ipk_cmd_note_set(b, key, present, present ? p : NULL);
	if (ret || p->dir != IPK_DIR_IN)
		return ret;
	spi_key(key, p);
	return ipk_cmd_note_set(b, key, present, present ? p : NULL);
}

static bool touched(const struct ipk_cmd_batch *b, const struct ipk_sa_params *p)
{
	char key[NOTE_KEY_MAX];

	name_key(key, p->name);
	if (ipk_cmd_note_find(b, key))
		return true;
	spi_key(key, p);
	return p->dir == IPK_DIR_IN && ipk_cmd_note_find(b, key);
}

static int sa_add_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct ipk_sa_params *p = arg, *other;
	int ret;

	if (!b->ctx->sad)
		return ipk_err_set(err, -EINVAL, "sa add: no SAD to add to");
	if (ipk_config_sa_lookup(b, p->name))
		return ipk_err_set(err, -EEXIST, "sa add: sa '%s' already exists", p->name);
	other = p->dir == IPK_DIR_IN ? spi_owner(b, p) : NULL;
	if (other)
		return ipk_err_set(err, -EEXIST, "sa add: spi 0x%" PRIx32 " is already used by "
				   "inbound sa '%s' with the same destination", p->spi, other->name);
	/* The SAD's own check would see what this batch deleted as still there; once the
	 * batch touched this name or SPI, the checks above replace its uniqueness tests. */
	if (touched(b, p))
		ret = ipk_sa_params_check(p, err);
	else
		ret = ipk_sad_check_add(b->ctx->sad, p, err);
	return ret ? ret : note_sa(b, p, true);
}

static int sa_add_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	return ipk_sad_add(ctx->sad, arg, err);
}

static const struct ipk_kw sa_del_kws[] = {
	{ .name = "name", .type = IPK_KW_NAME, .required = true,
	  IPK_KW_FIELD(struct sa_del, name) },
	{ .name = NULL },
};

static int sa_del_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return ipk_cmd_parse_keywords(ps, arg);
}

static int sa_del_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct sa_del *c = arg;
	const struct ipk_sa_params *p = ipk_config_sa_lookup(b, c->name);

	if (!p)
		return ipk_err_set(err, -ENOENT, "sa del: sa '%s' does not exist", c->name);
	return note_sa(b, p, false);
}

static int sa_del_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	const struct sa_del *c = arg;

	return ipk_sad_del(ctx->sad, c->name, err);
}

const struct ipk_cmd_def ipk_config_sa_add = {
	.words = { "sa", "add" },
	.kws = sa_add_kws,
	.arg_size = sizeof(struct ipk_sa_params),
	.parse = sa_add_parse,
	.check = sa_add_check,
	.apply = sa_add_apply,
	.moves_sas = true,
};

const struct ipk_cmd_def ipk_config_sa_del = {
	.words = { "sa", "del" },
	.kws = sa_del_kws,
	.arg_size = sizeof(struct sa_del),
	.parse = sa_del_parse,
	.check = sa_del_check,
	.apply = sa_del_apply,
	.moves_sas = true,
};
