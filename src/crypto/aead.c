// SPDX-License-Identifier: BSD-2-Clause
/*
 * AEAD back ends: AES-GCM ESP (RFC 4106), ChaCha20-Poly1305 ESP (RFC 7634) and AES-GMAC
 * ESP (RFC 4543, integrity only), over one reusable EVP_CIPHER_CTX each.
 */
#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/compiler.h"

int ipk_aead_init(struct ipk_aead *a, const char *cipher, const uint8_t *key, size_t key_len,
		  const uint8_t *salt, bool encrypt)
{
	EVP_CIPHER *evp;
	int rc = -EIO;

	memset(a, 0, sizeof(*a));
	evp = EVP_CIPHER_fetch(NULL, cipher, NULL);
	if (!evp)
		return -EIO;
	if ((size_t)EVP_CIPHER_get_key_length(evp) != key_len) {
		rc = -EINVAL;
		goto err_free_cipher;
	}
	a->ctx = EVP_CIPHER_CTX_new();
	if (!a->ctx) {
		rc = -ENOMEM;
		goto err_free_cipher;
	}
	/* Key now, nonce per packet: the key schedule (and for GCM the hash key H) is
	 * computed once here, never on the packet path. */
	if (!EVP_CipherInit_ex2(a->ctx, evp, key, NULL, encrypt ? 1 : 0, NULL))
		goto err_free_ctx;
	if (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN, IPK_AEAD_NONCE_LEN, NULL) <= 0)
		goto err_free_ctx;
	memcpy(a->nonce, salt, IPK_AEAD_SALT_LEN);
	EVP_CIPHER_free(evp);
	return 0;

err_free_ctx:
	EVP_CIPHER_CTX_free(a->ctx);
	a->ctx = NULL;
err_free_cipher:
	EVP_CIPHER_free(evp);
	return rc;
}

void ipk_aead_fini(struct ipk_aead *a)
{
	EVP_CIPHER_CTX_free(a->ctx);
	a->ctx = NULL;
	OPENSSL_cleanse(a->nonce, sizeof(a->nonce));
}

/* Loads the nonce for this message and feeds the AAD. Only the IV is set: passing no
 * cipher and no key keeps the key schedule and the direction (-1). */
static int aead_start(struct ipk_aead *a, const uint8_t *iv, const struct ipk_span *aad,
		      size_t n_aad)
{
	int outl;

	memcpy(a->nonce + IPK_AEAD_SALT_LEN, iv, IPK_AEAD_IV_LEN);
	if (!EVP_CipherInit_ex2(a->ctx, NULL, NULL, a->nonce, -1, NULL))
		return -EIO;
	for (size_t i = 0; i < n_aad; i++) {
		if (unlikely(aad[i].len > INT_MAX))
			return -EINVAL;
		if (aad[i].len && !EVP_CipherUpdate(a->ctx, NULL, &outl, aad[i].p, (int)aad[i].len))
			return -EIO;
	}
	return 0;
}

/* OPENSSL_cleanse(), which the compiler cannot drop, minus the call for GMAC's empty
 * buffer. */
static void wipe(uint8_t *buf, size_t len)
{
	if (len)
		OPENSSL_cleanse(buf, len);
}

/* Error path of the packet path: drop libcrypto's queued reason (the caller counts the
 * failure) so that the thread's error queue does not fill with stale entries. */
static int aead_fail(int rc)
{
	ERR_clear_error();
	return rc;
}

int ipk_aead_seal(struct ipk_aead *a, const uint8_t *iv, const struct ipk_span *aad,
		  size_t n_aad, uint8_t *buf, size_t len, uint8_t *tag)
{
	uint8_t none[IPK_AEAD_TAG_LEN];
	int outl, rc;

	if (unlikely(len > INT_MAX))
		return -EINVAL;
	rc = aead_start(a, iv, aad, n_aad);
	if (unlikely(rc))
		return aead_fail(rc);
	/* Stream modes: Update writes all @len bytes and Final writes none. */
	if (len && unlikely(!EVP_EncryptUpdate(a->ctx, buf, &outl, buf, (int)len)))
		return aead_fail(-EIO);
	if (unlikely(!EVP_EncryptFinal_ex(a->ctx, none, &outl)))
		return aead_fail(-EIO);
	if (unlikely(EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, IPK_AEAD_TAG_LEN,
					 tag) <= 0))
		return aead_fail(-EIO);
	return 0;
}

int ipk_aead_open(struct ipk_aead *a, const uint8_t *iv, const struct ipk_span *aad,
		  size_t n_aad, uint8_t *buf, size_t len, const uint8_t *tag)
{
	uint8_t none[IPK_AEAD_TAG_LEN];
	int outl, rc;

	if (unlikely(len > INT_MAX))
		return -EINVAL;
	rc = aead_start(a, iv, aad, n_aad);
	if (unlikely(rc))
		return aead_fail(rc);
	/* Set after the nonce so that re-initialisation cannot forget it. */
	if (unlikely(EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, IPK_AEAD_TAG_LEN,
					 (void *)tag) <= 0))
		return aead_fail(-EIO);
	if (len && unlikely(!EVP_DecryptUpdate(a->ctx, buf, &outl, buf, (int)len))) {
		wipe(buf, len);
		return aead_fail(-EIO);
	}
	/* Final compares the tags in constant time. RFC 4303 §3.4.4.1: a packet that fails
	 * is dropped, and no byte of its unauthenticated plaintext may survive. */
	if (unlikely(EVP_DecryptFinal_ex(a->ctx, none, &outl) <= 0)) {
		wipe(buf, len);
		return aead_fail(-EBADMSG);
	}
	return 0;
}

static int aead_init(void *priv, const struct ipk_alg *alg, const struct ipk_alg_evp *evp,
		     bool encrypt, const uint8_t *enc_key, const uint8_t *auth_key)
{
	/* RFC 4106 §8.1, RFC 4543 §6, RFC 7634 §4: the keying material is key || salt. */
	return ipk_aead_init(priv, evp->cipher, enc_key, alg->enc_key_len,
			     enc_key + alg->enc_key_len, encrypt);
}

static void aead_destroy(void *priv)
{
	ipk_aead_fini(priv);
}

/* RFC 4106 §3.1, RFC 4543 §3.1, RFC 7634 §2: the IV only has to be unique per key, and a
 * counter is the suggested way. The sequence number never repeats within an SA (RFC 4303
 * §3.3.3 forbids cycling), so the IV is the 64-bit sequence number, big endian. */
static int aead_make_iv(void *priv, uint64_t seq, uint8_t *iv)
{
	ipk_crypto_put_be64(iv, seq);
	return 0;
}

/* Packet: SPI | seq | IV | plaintext (encrypted) | ICV; AAD = SPI || [seq_hi ||] seq_lo. */
static int aead_seal(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn)
{
	uint8_t hdr[IPK_CRYPTO_AAD_MAX];
	struct ipk_span aad = { hdr, ipk_crypto_esp_aad(hdr, esp, seq, esn) };
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN, *buf = iv + IPK_AEAD_IV_LEN;

	return ipk_aead_seal(priv, iv, &aad, 1, buf, plain_len, buf + plain_len);
}

static int aead_open(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn)
{
	uint8_t hdr[IPK_CRYPTO_AAD_MAX];
	struct ipk_span aad = { hdr, ipk_crypto_esp_aad(hdr, esp, seq, esn) };
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN, *buf = iv + IPK_AEAD_IV_LEN;

	return ipk_aead_open(priv, iv, &aad, 1, buf, ct_len, buf + ct_len);
}

const struct ipk_crypto_ops ipk_aead_ops = {
	.name = "aead",
	.priv_size = sizeof(struct ipk_aead),
	.init = aead_init,
	.destroy = aead_destroy,
	.make_iv = aead_make_iv,
	.seal = aead_seal,
	.open = aead_open,
};

/*
 * ENCR_NULL_AUTH_AES_GMAC (RFC 4543 §3.2, §5): nothing is encrypted; the AAD is the whole
 * packet before the ICV, SPI || [seq_hi ||] seq_lo || IV || payload || trailer, and the
 * ICV is the GCM tag over it with empty plaintext.
 */
static int gmac_seal(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn)
{
	uint8_t hdr[IPK_CRYPTO_AAD_MAX];
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN;
	struct ipk_span aad[2] = {
		{ hdr, ipk_crypto_esp_aad(hdr, esp, seq, esn) },
		{ iv, IPK_AEAD_IV_LEN + plain_len },
	};

	return ipk_aead_seal(priv, iv, aad, 2, NULL, 0, iv + IPK_AEAD_IV_LEN + plain_len);
}

/* Nothing to decrypt, so a mismatch leaves the packet as it came. */
static int gmac_open(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn)
{
	uint8_t hdr[IPK_CRYPTO_AAD_MAX];
	uint8_t *iv = esp + IPK_CRYPTO_ESP_HDR_LEN;
	struct ipk_span aad[2] = {
		{ hdr, ipk_crypto_esp_aad(hdr, esp, seq, esn) },
		{ iv, IPK_AEAD_IV_LEN + ct_len },
	};

	return ipk_aead_open(priv, iv, aad, 2, NULL, 0, iv + IPK_AEAD_IV_LEN + ct_len);
}

const struct ipk_crypto_ops ipk_gmac_ops = {
	.name = "gmac",
	.priv_size = sizeof(struct ipk_aead),
	.init = aead_init,
	.destroy = aead_destroy,
	.make_iv = aead_make_iv,
	.seal = gmac_seal,
	.open = gmac_open,
};
