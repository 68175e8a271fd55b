// SPDX-License-Identifier: BSD-2-Clause
/*
 * Block-cipher back ends: CBC + HMAC (RFC 3602 / RFC 2451 with RFC 4868 / 2403 / 2404),
 * NULL + HMAC (RFC 2410) and CBC without integrity (test only). The kinds are in ops.h.
 *
 * ESP framing (RFC 4303 §2, §3.3.2): SPI | seq | IV | ciphertext | ICV, where the ICV is
 * the truncated HMAC of SPI || seq || IV || ciphertext, followed with ESN by the high 32
 * bits of the sequence number, which are authenticated but never sent (§2.2.1).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/compiler.h"
#include "crypto/hmac.h"
#include "crypto/ops.h"

/* Widest block (AES); 3DES has 8. */
#define CBC_BLOCK_MAX 16

struct cbc {
	EVP_CIPHER_CTX *ctx; /* CBC, one direction, padding off: ESP pads (RFC 4303 §2.4) */
	EVP_CIPHER_CTX *ecb; /* encrypt contexts only: enciphers sequence numbers into IVs */
	size_t block_len;
};

/* One instance serves all three kinds; each initialises only the parts it uses. */
struct cbc_hmac {
	struct cbc cbc;       /* unused by null-hmac */
	struct ipk_hmac hmac; /* unused by cbc-none */
	size_t iv_len;
	size_t icv_len;
};

static int cbc_fail(int rc)
{
	ERR_clear_error();
	return rc;
}

/* New context for @evp keyed with @key in direction @enc, padding off. */
static EVP_CIPHER_CTX *cbc_new_ctx(const EVP_CIPHER *evp, const uint8_t *key, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();

	if (!ctx)
		return NULL;
	if (!EVP_CipherInit_ex2(ctx, evp, key, NULL, enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0)) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void cbc_fini(struct cbc *c)
{
	EVP_CIPHER_CTX_free(c->ctx);
	EVP_CIPHER_CTX_free(c->ecb);
	c->ctx = NULL;
	c->ecb = NULL;
}

/* Keys @c for CBC in one direction and, when it encrypts, an ECB context with the same
 * key for the IVs. Returns 0 or -EIO (unknown cipher, libcrypto failure). */
static int cbc_init(struct cbc *c, const struct ipk_alg_evp *names, const uint8_t *key,
		    bool encrypt)
{
	EVP_CIPHER *cbc = EVP_CIPHER_fetch(NULL, names->cipher, NULL);
	EVP_CIPHER *ecb = encrypt ? EVP_CIPHER_fetch(NULL, names->ecb, NULL) : NULL;
	int rc = -EIO;

	if (!cbc || (encrypt && !ecb))
		goto out;
	c->block_len = (size_t)EVP_CIPHER_get_block_size(cbc);
	if (c->block_len < 8 || c->block_len > CBC_BLOCK_MAX)
		goto out;
	c->ctx = cbc_new_ctx(cbc, key, encrypt ? 1 : 0);
	if (!c->ctx || (encrypt && !(c->ecb = cbc_new_ctx(ecb, key, 1))))
		goto out;
	rc = 0;
out:
	EVP_CIPHER_free(cbc);
	EVP_CIPHER_free(ecb);
	return rc;
}

/*
 * CBC IVs must be unpredictable (RFC 3602 §3). NIST SP 800-38A Appendix C, method 1:
 * IV = CIPH_K(nonce) under the same key K as the payload. The nonce is the 64-bit sequence
 * number, big endian, right-aligned in a zero block: it never repeats within an SA (RFC
 * 4303 §3.3.3), so neither does the IV, and without K it cannot be predicted.
 */
static int cbc_make_iv(void *priv, uint64_t seq, uint8_t *iv)
{
	struct cbc *c = &((struct cbc_hmac *)priv)->cbc;
	uint8_t block[CBC_BLOCK_MAX] = { 0 };
	int outl;

	ipk_crypto_put_be64(block + c->block_len - 8, seq);
	if (unlikely(!EVP_EncryptUpdate(c->ecb, iv, &outl, block, (int)c->block_len) ||
		     (size_t)outl != c->block_len))
		return cbc_fail(-EIO);
	return 0;
}

/* Enciphers or deciphers (the context's direction) @buf in place with @iv. */
static int cbc_crypt(struct cbc *c, const uint8_t *iv, uint8_t *buf, size_t len)
{
	int outl, finl;

	if (unlikely(len % c->block_len || len > INT_MAX))
		return -EINVAL;
	/* No cipher and no key: keep the key schedule, load only the IV. */
	if (unlikely(!EVP_CipherInit_ex2(c->ctx, NULL, NULL, iv, -1, NULL)))
		return cbc_fail(-EIO);
	if (unlikely(!EVP_CipherUpdate(c->ctx, buf, &outl, buf, (int)len)))
		return cbc_fail(-EIO);
	if (unlikely(!EVP_CipherFinal_ex(c->ctx, buf + outl, &finl) ||
		     (size_t)outl + (size_t)finl != len))
		return cbc_fail(-EIO);
	return 0;
}

/* The ICV of the @covered bytes from @esp (SPI to the end of the ciphertext), written to
 * @icv. RFC 4303 §2.2.1, §3.3.2.2: with ESN the high-order 32 bits of the sequence number
 * are appended, for this computation only. */
static int esp_icv(struct cbc_hmac *p, const uint8_t *esp, size_t covered, uint64_t seq,
		   bool esn, uint8_t *icv)
{
	uint8_t seq_hi[4];
	struct ipk_span in[2] = { { esp, covered }, { seq_hi, esn ? sizeof(seq_hi) : 0 } };

	ipk_crypto_put_be32(seq_hi, (uint32_t)(seq >> 32));
	return ipk_hmac_compute(&p->hmac, in, 2, icv, p->icv_len);
}

/* Recomputes the ICV and compares it with the one after the @covered bytes.
 * CRYPTO_memcmp so that the time taken does not tell how many bytes matched. */
static int esp_icv_check(struct cbc_hmac *p, const uint8_t *esp, size_t covered, uint64_t seq,
			 bool esn)
{
	uint8_t icv[IPK_HMAC_MAX_LEN];
	int rc = esp_icv(p, esp, covered, seq, esn, icv);

	if (unlikely(rc))
		return rc;
	if (CRYPTO_memcmp(icv, esp + covered, p->icv_len) != 0)
		return -EBADMSG;
	return 0;
}

static void cbc_hmac_destroy(void *priv)
{
	struct cbc_hmac *p = priv;

	cbc_fini(&p->cbc);
	ipk_hmac_fini(&p->hmac);
}

static int cbc_hmac_init(void *priv, const struct ipk_alg *alg, const struct ipk_alg_evp *evp,
			 bool encrypt, const uint8_t *enc_key, const uint8_t *auth_key)
{
	struct cbc_hmac *p = priv;
	int rc;

	p->iv_len = alg->iv_len;
	p->icv_len = alg->icv_len;
	if (evp->cipher) {
		rc = cbc_init(&p->cbc, evp, enc_key, encrypt);
		if (rc)
			return rc;
		/* The IV is one cipher block (RFC 3602 §2.1, RFC 2451 §2.2). */
		if (p->cbc.block_len != p->iv_len)
			return -EIO;
	}
	if (evp->digest) {
		rc = ipk_hmac_init(&p->hmac, evp->digest, auth_key, alg->auth_key_len);
		if (rc)
			return rc;
		if (p->icv_len == 0 || p->icv_len > p->hmac.mac_len)
			return -EIO;
	}
	return 0;
}

static int cbc_hmac_seal(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn)
{
	struct cbc_hmac *p = priv;
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN, *buf = iv + p->iv_len;
	int rc = cbc_crypt(&p->cbc, iv, buf, plain_len);

	if (unlikely(rc))
		return rc;
	return esp_icv(p, esp, IPK_CRYPTO_ESP_HDR_LEN + p->iv_len + plain_len, seq, esn,
		       buf + plain_len);
}

/* RFC 4303 §3.4.4.1: the ICV is checked first, and only a packet that passes is
 * decrypted; a forged packet costs one HMAC and leaves the buffer as it came. */
static int cbc_hmac_open(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn)
{
	struct cbc_hmac *p = priv;
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN;
	int rc;

	/* RFC 4303 §2.4: the ciphertext is whole blocks; anything else is malformed. */
	if (unlikely(ct_len % p->cbc.block_len))
		return -EBADMSG;
	rc = esp_icv_check(p, esp, IPK_CRYPTO_ESP_HDR_LEN + p->iv_len + ct_len, seq, esn);
	if (rc)
		return rc;
	return cbc_crypt(&p->cbc, iv, iv + p->iv_len, ct_len);
}

const struct ipk_crypto_ops ipk_cbc_hmac_ops = {
	.name = "cbc-hmac",
	.priv_size = sizeof(struct cbc_hmac),
	.init = cbc_hmac_init,
	.destroy = cbc_hmac_destroy,
	.make_iv = cbc_make_iv,
	.seal = cbc_hmac_seal,
	.open = cbc_hmac_open,
};

/* ENCR_NULL (RFC 2410 §2): no IV, the payload travels in clear; only the ICV protects. */
static int null_make_iv(void *priv, uint64_t seq, uint8_t *iv)
{
	return 0;
}

static int null_hmac_seal(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn)
{
	size_t covered = IPK_CRYPTO_ESP_HDR_LEN + plain_len;

	return esp_icv(priv, esp, covered, seq, esn, esp + covered);
}

static int null_hmac_open(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn)
{
	return esp_icv_check(priv, esp, IPK_CRYPTO_ESP_HDR_LEN + ct_len, seq, esn);
}

const struct ipk_crypto_ops ipk_null_hmac_ops = {
	.name = "null-hmac",
	.priv_size = sizeof(struct cbc_hmac),
	.init = cbc_hmac_init,
	.destroy = cbc_hmac_destroy,
	.make_iv = null_make_iv,
	.seal = null_hmac_seal,
	.open = null_hmac_open,
};

/* Encryption without integrity: exists only to replay the RFC 3602 §4 sample packets
 * (Cases #5-#8); the configuration language refuses it. */
static int cbc_none_seal(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn)
{
	struct cbc_hmac *p = priv;
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN;

	return cbc_crypt(&p->cbc, iv, iv + p->iv_len, plain_len);
}

static int cbc_none_open(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn)
{
	struct cbc_hmac *p = priv;
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN;

	if (unlikely(ct_len % p->cbc.block_len))
		return -EBADMSG;
	return cbc_crypt(&p->cbc, iv, iv + p->iv_len, ct_len);
}

const struct ipk_crypto_ops ipk_cbc_none_ops = {
	.name = "cbc",
	.priv_size = sizeof(struct cbc_hmac),
	.init = cbc_hmac_init,
	.destroy = cbc_hmac_destroy,
	.make_iv = cbc_make_iv,
	.seal = cbc_none_seal,
	.open = cbc_none_open,
};
