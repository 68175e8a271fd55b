// SPDX-License-Identifier: BSD-2-Clause
/*
 * The algorithm table (generated from IPK_ALGS), name lookup, and the crypto context
 * life cycle: validate the keys, pick the back-end kind once, then one indirect call per
 * packet.
 */
#include "crypto/alg.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "core/compiler.h"
#include "crypto/ops.h"

static const struct ipk_alg algs[] = {
#define IPK_ALG_ROW(id_, name_, kind_, ek, salt, ak, iv, bs, icv, insec)                   \
	{ .id = IPK_ALG_##id_, .name = name_, .kind = kind_, .enc_key_len = ek,             \
	  .salt_len = salt, .auth_key_len = ak, .iv_len = iv, .block_size = bs,             \
	  .icv_len = icv, .insecure = insec },
	IPK_ALGS(IPK_ALG_ROW)
#undef IPK_ALG_ROW
};

/* What each algorithm is in libcrypto's terms. Indexed by id, one row per IPK_ALGS row. */
static const struct ipk_alg_evp evp_names[] = {
	[IPK_ALG_AES128GCM16] = { "AES-128-GCM", NULL, NULL },
	[IPK_ALG_AES256GCM16] = { "AES-256-GCM", NULL, NULL },
	[IPK_ALG_CHACHA20POLY1305] = { "ChaCha20-Poly1305", NULL, NULL },
	[IPK_ALG_AES128_SHA256] = { "AES-128-CBC", "AES-128-ECB", "SHA256" },
	[IPK_ALG_AES256_SHA256] = { "AES-256-CBC", "AES-256-ECB", "SHA256" },
	[IPK_ALG_NULL_SHA256] = { NULL, NULL, "SHA256" },
	[IPK_ALG_DES3_MD5] = { "DES-EDE3-CBC", "DES-EDE3-ECB", "MD5" },
	[IPK_ALG_DES3_SHA1] = { "DES-EDE3-CBC", "DES-EDE3-ECB", "SHA1" },
	[IPK_ALG_AES128GMAC] = { "AES-128-GCM", NULL, NULL },
	[IPK_ALG_AES128_NONE] = { "AES-128-CBC", "AES-128-ECB", NULL },
};
_Static_assert(IPK_ARRAY_SIZE(evp_names) == IPK_ALG_COUNT,
	       "every IPK_ALGS row needs its libcrypto names");

/* The back end of each kind: the registry, so one grep finds them all (STYLE §2). */
static const struct ipk_crypto_ops *const kind_ops[] = {
	[IPK_ALG_AEAD] = &ipk_aead_ops,
	[IPK_ALG_CBC_HMAC] = &ipk_cbc_hmac_ops,
	[IPK_ALG_NULL_HMAC] = &ipk_null_hmac_ops,
	[IPK_ALG_GMAC] = &ipk_gmac_ops,
	[IPK_ALG_CBC_NONE] = &ipk_cbc_none_ops,
};
_Static_assert(IPK_ARRAY_SIZE(kind_ops) == IPK_ALG_CBC_NONE + 1, "every kind needs its ops");

struct ipk_crypto {
	const struct ipk_alg *alg;
	const struct ipk_crypto_ops *ops;
	/* The ops of this context's direction; the other direction's are refuse_*(). */
	int (*make_iv)(void *priv, uint64_t seq, uint8_t *iv);
	int (*seal)(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn);
	int (*open)(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn);
	max_align_t priv[]; /* ops->priv_size bytes */
};

const struct ipk_alg *ipk_alg_get(enum ipk_alg_id id)
{
	if ((unsigned)id >= IPK_ALG_COUNT)
		return NULL;
	return &algs[id];
}

const struct ipk_alg *ipk_alg_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < IPK_ARRAY_SIZE(algs); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/* Longest name plus ", ", times the number of rows: enough for any table. */
static char names_buf[IPK_ALG_COUNT * 32];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_build(void)
{
	size_t off = 0;

	for (size_t i = 0; i < IPK_ARRAY_SIZE(algs); i++) {
		if (algs[i].insecure)
			continue;
		off += (size_t)snprintf(names_buf + off, sizeof(names_buf) - off, "%s%s",
					off ? ", " : "", algs[i].name);
		if (off >= sizeof(names_buf))
			break;
	}
}

const char *ipk_alg_names(void)
{
	pthread_once(&names_once, names_build);
	return names_buf;
}

/* Human messages use the words of `sa add`: "key" for a single key (AEAD: key || salt),
 * "enc-key" and "auth-key" when there are two. */
static int check_enc_key(const struct ipk_alg *alg, const uint8_t *key, size_t len,
			 struct ipk_err *err)
{
	size_t want = (size_t)alg->enc_key_len + alg->salt_len;

	if (len == want && (key || !len))
		return 0;
	if (len == want)
		return ipk_err_set(err, -EINVAL, "%s: no key bytes given", alg->name);
	if (alg->salt_len)
		return ipk_err_set(err, -EINVAL,
				   "%s: key must be %zu bytes (%u key + %u salt), got %zu",
				   alg->name, want, alg->enc_key_len, alg->salt_len, len);
	if (!want)
		return ipk_err_set(err, -EINVAL, "%s: takes no enc-key, got %zu bytes", alg->name,
				   len);
	return ipk_err_set(err, -EINVAL, "%s: %s must be %zu bytes, got %zu", alg->name,
			   alg->auth_key_len ? "enc-key" : "key", want, len);
}

static int check_auth_key(const struct ipk_alg *alg, const uint8_t *key, size_t len,
			  struct ipk_err *err)
{
	if (len == alg->auth_key_len && (key || !len))
		return 0;
	if (len == alg->auth_key_len)
		return ipk_err_set(err, -EINVAL, "%s: no auth-key bytes given", alg->name);
	if (!alg->auth_key_len)
		return ipk_err_set(err, -EINVAL, "%s: takes no auth-key, got %zu bytes", alg->name,
				   len);
	return ipk_err_set(err, -EINVAL, "%s: auth-key must be %u bytes, got %zu", alg->name,
			   alg->auth_key_len, len);
}

static int refuse_make_iv(void *priv, uint64_t seq, uint8_t *iv)
{
	return -EINVAL;
}

static int refuse_seal(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn)
{
	return -EINVAL;
}

static int refuse_open(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn)
{
	return -EINVAL;
}

/* Turns a failed init into a message, with libcrypto's reason when it left one. */
static int init_error(const struct ipk_alg *alg, int rc, struct ipk_err *err)
{
	char reason[128] = "no reason given";
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (rc == -ENOMEM)
		return ipk_err_set(err, rc, "%s: out of memory", alg->name);
	if (rc == -ENOTSUP)
		return ipk_err_set(err, -EIO, "%s: libcrypto %s cannot restart HMAC with a stored "
				   "key (openssl/openssl#17811); upgrade OpenSSL", alg->name,
				   OpenSSL_version(OPENSSL_VERSION_STRING));
	return ipk_err_set(err, rc, "%s: libcrypto cannot set up the algorithm: %s", alg->name,
			   reason);
}

int ipk_crypto_create(struct ipk_crypto **out, const struct ipk_alg *alg, bool encrypt,
		      const uint8_t *enc_key, size_t enc_key_len, const uint8_t *auth_key,
		      size_t auth_key_len, struct ipk_err *err)
{
	const struct ipk_crypto_ops *ops;
	struct ipk_crypto *c;
	int rc;

	*out = NULL;
	if (!alg || !ipk_alg_get(alg->id))
		return ipk_err_set(err, -EINVAL, "crypto: unknown algorithm");
	alg = ipk_alg_get(alg->id);
	rc = check_enc_key(alg, enc_key, enc_key_len, err);
	if (!rc)
		rc = check_auth_key(alg, auth_key, auth_key_len, err);
	if (rc)
		return rc;
	ops = kind_ops[alg->kind];
	c = calloc(1, sizeof(*c) + ops->priv_size);
	if (!c)
		return ipk_err_set(err, -ENOMEM, "%s: out of memory", alg->name);
	c->alg = alg;
	c->ops = ops;
	c->make_iv = encrypt ? ops->make_iv : refuse_make_iv;
	c->seal = encrypt ? ops->seal : refuse_seal;
	c->open = encrypt ? refuse_open : ops->open;
	rc = ops->init(c->priv, alg, &evp_names[alg->id], encrypt, enc_key, auth_key);
	if (rc) {
		ipk_crypto_destroy(c);
		return init_error(alg, rc, err);
	}
	*out = c;
	return 0;
}

void ipk_crypto_destroy(struct ipk_crypto *c)
{
	size_t size;

	if (!c)
		return;
	size = sizeof(*c) + c->ops->priv_size;
	c->ops->destroy(c->priv);
	/* The EVP frees wiped their key schedules; this wipes what the back end kept
	 * itself (salt, last nonce) along with everything else. */
	OPENSSL_cleanse(c, size);
	free(c);
}

int ipk_crypto_seal(struct ipk_crypto *c, uint8_t *esp, size_t plain_len, uint64_t seq,
		    bool esn)
{
	int rc = c->make_iv(c->priv, seq, esp + IPK_CRYPTO_ESP_HDR_LEN);

	if (unlikely(rc))
		return rc;
	return c->seal(c->priv, esp, plain_len, seq, esn);
}

int ipk_crypto_seal_iv(struct ipk_crypto *c, uint8_t *esp, size_t plain_len, uint64_t seq,
		       bool esn, const uint8_t *iv)
{
	/* Test path only: refuse before touching the packet, as ipk_crypto_seal() does. */
	if (c->seal == refuse_seal)
		return -EINVAL;
	if (c->alg->iv_len)
		memcpy(esp + IPK_CRYPTO_ESP_HDR_LEN, iv, c->alg->iv_len);
	return c->seal(c->priv, esp, plain_len, seq, esn);
}

int ipk_crypto_open(struct ipk_crypto *c, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn)
{
	return c->open(c->priv, esp, ct_len, seq, esn);
}
