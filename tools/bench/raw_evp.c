// SPDX-License-Identifier: BSD-2-Clause
/* Raw libcrypto sealing, the reference of the ESP benchmark (see raw_evp.h). */
#include "tools/bench/raw_evp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define RAW_BUF 2304
#define RAW_PAYLOAD_OFF 128 /* 16-byte aligned, as ipseck's packet data is */
#define RAW_NONCE_LEN 12

/* libcrypto names per algorithm: cipher (NULL: none) and HMAC digest (NULL: none). */
static const struct {
	const char *cipher;
	const char *digest;
} names[IPK_ALG_COUNT] = {
    [IPK_ALG_AES128GCM16] = {"AES-128-GCM", NULL},
    [IPK_ALG_AES256GCM16] = {"AES-256-GCM", NULL},
    [IPK_ALG_CHACHA20POLY1305] = {"ChaCha20-Poly1305", NULL},
    [IPK_ALG_AES128_SHA256] = {"AES-128-CBC", "SHA256"},
    [IPK_ALG_AES256_SHA256] = {"AES-256-CBC", "SHA256"},
    [IPK_ALG_NULL_SHA256] = {NULL, "SHA256"},
    [IPK_ALG_DES3_MD5] = {"DES-EDE3-CBC", "MD5"},
    [IPK_ALG_DES3_SHA1] = {"DES-EDE3-CBC", "SHA1"},
    [IPK_ALG_AES128GMAC] = {"AES-128-GCM", NULL},
    [IPK_ALG_AES128_NONE] = {"AES-128-CBC", NULL},
};

struct bench_raw;
/* Seals the packet whose ESP header is at @esp and payload at @payload. */
typedef int (*seal_fn)(struct bench_raw *r, uint8_t *esp, uint8_t *payload);

struct bench_raw {
	const struct ipk_alg *alg;
	seal_fn seal;
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
	uint8_t nonce[RAW_NONCE_LEN]; /* salt || 8-byte counter (AEAD, GMAC) */
	uint64_t counter;
	uint32_t inner_len;
	uint32_t plain_len;
	uint8_t inner[RAW_BUF];
	uint8_t buf[RAW_BUF] __attribute__((aligned(64)));
};

static uint32_t padded_len(const struct ipk_alg *alg, uint32_t inner_len)
{
	uint32_t b = alg->block_size;

	return (inner_len + 2 + b - 1) / b * b;
}

static int setup_cipher(struct bench_raw *r, const char *name, const uint8_t *key)
{
	EVP_CIPHER *evp = EVP_CIPHER_fetch(NULL, name, NULL);
	int ok;

	if (!evp)
		return -EIO;
	r->cipher = EVP_CIPHER_CTX_new();
	ok = r->cipher && EVP_CipherInit_ex(r->cipher, evp, NULL, key, NULL, 1);
	if (ok && r->alg->kind == IPK_ALG_CBC_HMAC)
		ok = EVP_CIPHER_CTX_set_padding(r->cipher, 0);
	else if (ok)
		ok = EVP_CIPHER_CTX_ctrl(r->cipher, EVP_CTRL_AEAD_SET_IVLEN, RAW_NONCE_LEN, NULL) >
		     0;
	EVP_CIPHER_free(evp);
	return ok ? 0 : -EIO;
}

static int setup_mac(struct bench_raw *r, const char *digest, const uint8_t *key, size_t key_len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	OSSL_PARAM params[2];
	int ok;

	if (!mac)
		return -EIO;
	r->mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = r->mac && EVP_MAC_init(r->mac, key, key_len, params);
	return ok ? 0 : -EIO;
}

uint32_t bench_raw_plain_len(const struct bench_raw *r)
{
	return r->plain_len;
}

/* AES-GCM / ChaCha20-Poly1305 (RFC 4106 / 7634): AAD = SPI || seq, payload in place. */
static int seal_aead(struct bench_raw *r, uint8_t *esp, uint8_t *payload)
{
	int outl;

	memcpy(r->nonce + 4, &r->counter, 8);
	if (!EVP_CipherInit_ex(r->cipher, NULL, NULL, NULL, r->nonce, -1) ||
	    !EVP_CipherUpdate(r->cipher, NULL, &outl, esp, 8) ||
	    !EVP_CipherUpdate(r->cipher, payload, &outl, payload, (int)r->plain_len) ||
	    !EVP_CipherFinal_ex(r->cipher, payload + r->plain_len, &outl) ||
	    EVP_CIPHER_CTX_ctrl(r->cipher, EVP_CTRL_AEAD_GET_TAG, 16, payload + r->plain_len) <= 0)
		return -EIO;
	return 0;
}

/* RFC 4543: everything from the SPI to the end of the trailer is AAD, nothing encrypted. */
static int seal_gmac(struct bench_raw *r, uint8_t *esp, uint8_t *payload)
{
	int outl;

	memcpy(r->nonce + 4, &r->counter, 8);
	if (!EVP_CipherInit_ex(r->cipher, NULL, NULL, NULL, r->nonce, -1) ||
	    !EVP_CipherUpdate(r->cipher, NULL, &outl, esp, 16 + (int)r->plain_len) ||
	    !EVP_CipherFinal_ex(r->cipher, payload + r->plain_len, &outl) ||
	    EVP_CIPHER_CTX_ctrl(r->cipher, EVP_CTRL_AEAD_GET_TAG, 16, payload + r->plain_len) <= 0)
		return -EIO;
	return 0;
}

/* HMAC over @len bytes at @p, truncated into the ICV at @icv. */
static int mac(struct bench_raw *r, const uint8_t *p, size_t len, uint8_t *icv)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t full_len;

	if (!EVP_MAC_init(r->mac, NULL, 0, NULL) || !EVP_MAC_update(r->mac, p, len) ||
	    !EVP_MAC_final(r->mac, full, &full_len, sizeof(full)))
		return -EIO;
	memcpy(icv, full, r->alg->icv_len);
	return 0;
}

/* CBC (RFC 3602 / 2451) then HMAC over SPI || seq || IV || ciphertext. */
static int seal_cbc_hmac(struct bench_raw *r, uint8_t *esp, uint8_t *payload)
{
	int outl, finl;

	if (!EVP_CipherInit_ex(r->cipher, NULL, NULL, NULL, esp + 8, -1) ||
	    !EVP_CipherUpdate(r->cipher, payload, &outl, payload, (int)r->plain_len) ||
	    !EVP_CipherFinal_ex(r->cipher, payload + outl, &finl))
		return -EIO;
	return mac(r, esp, 8 + r->alg->iv_len + r->plain_len, payload + r->plain_len);
}

static int seal_null_hmac(struct bench_raw *r, uint8_t *esp, uint8_t *payload)
{
	return mac(r, esp, 8 + r->plain_len, payload + r->plain_len);
}

int bench_raw_run(void *arg, uint32_t n)
{
	struct bench_raw *r = arg;
	uint8_t *payload = r->buf + RAW_PAYLOAD_OFF;
	uint8_t *esp = payload - 8 - r->alg->iv_len;

	for (uint32_t i = 0; i < n; i++) {
		memcpy(payload, r->inner, r->inner_len);
		r->counter++;
		if (r->seal(r, esp, payload))
			return -EIO;
	}
	return 0;
}

/* Chosen once per algorithm, like ipseck's ops tables: no branch per packet. */
static seal_fn pick_seal(enum ipk_alg_kind kind)
{
	switch (kind) {
	case IPK_ALG_AEAD:
		return seal_aead;
	case IPK_ALG_GMAC:
		return seal_gmac;
	case IPK_ALG_CBC_HMAC:
		return seal_cbc_hmac;
	case IPK_ALG_NULL_HMAC:
		return seal_null_hmac;
	default:
		return NULL;
	}
}

int bench_raw_create(struct bench_raw **out, const struct ipk_alg *alg, const uint8_t *inner,
		     uint32_t inner_len)
{
	uint8_t key[64]; /* cipher key at 0 (up to 32), HMAC key at 32 */
	struct bench_raw *r;
	int rc = 0;

	if (inner_len + 64 > RAW_BUF - RAW_PAYLOAD_OFF || !pick_seal(alg->kind))
		return -EINVAL;
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->alg = alg;
	r->seal = pick_seal(alg->kind);
	r->inner_len = inner_len;
	r->plain_len = padded_len(alg, inner_len);
	memcpy(r->inner, inner, inner_len);
	if (RAND_bytes(key, sizeof(key)) != 1 || RAND_bytes(r->nonce, sizeof(r->nonce)) != 1)
		rc = -EIO;
	if (!rc && names[alg->id].cipher)
		rc = setup_cipher(r, names[alg->id].cipher, key);
	if (!rc && names[alg->id].digest)
		rc = setup_mac(r, names[alg->id].digest, key + 32, alg->auth_key_len);
	if (rc) {
		bench_raw_destroy(r);
		return rc;
	}
	*out = r;
	return 0;
}

void bench_raw_destroy(struct bench_raw *r)
{
	if (!r)
		return;
	EVP_CIPHER_CTX_free(r->cipher);
	EVP_MAC_CTX_free(r->mac);
	free(r);
}
