/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Crypto back-end kinds (internal to src/crypto; the contract for everyone else is
 * crypto/alg.h).
 *
 * Each enum ipk_alg_kind has one const struct ipk_crypto_ops. ipk_crypto_create() picks
 * it once from the algorithm's kind (STYLE §2), allocates the context header plus
 * priv_size private bytes, and from then on each packet costs one indirect call and no
 * branch on configuration. Key lengths are validated from the algorithm table in alg.c
 * before init runs, so the ops have no parse step: init only builds EVP state.
 *
 * Threads: a context belongs to one crypto unit (one thread); nothing here is shared.
 */
#ifndef IPK_CRYPTO_OPS_H
#define IPK_CRYPTO_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/alg.h"

/* SPI(4) || sequence number(4): what precedes the IV in every ESP packet (RFC 4303 §2). */
#define IPK_CRYPTO_ESP_HDR_LEN 8
/* SPI || seq_hi || seq_lo: the longest AAD / ICV header (ESN, RFC 4106 §5). */
#define IPK_CRYPTO_AAD_MAX 12

/* A run of bytes; AAD and MAC inputs are lists of these (the ESN high half is not next to
 * the rest of the packet). */
struct ipk_span {
	const uint8_t *p;
	size_t len;
};

/* libcrypto names of one algorithm's primitives (see evp_names in alg.c). */
struct ipk_alg_evp {
	const char *cipher; /* payload cipher, or the GMAC cipher; NULL for NULL encryption */
	const char *ecb;    /* same block cipher in ECB mode, to make CBC IVs; else NULL */
	const char *digest; /* HMAC digest; NULL for AEAD and no integrity */
};

struct ipk_crypto_ops {
	const char *name;
	size_t priv_size;
	/* Builds EVP state in @priv (zeroed by the caller). @enc_key is enc_key_len + salt_len
	 * bytes, @auth_key auth_key_len bytes, both already checked. On failure the caller
	 * still calls destroy. Returns 0, -ENOMEM or -EIO. */
	int (*init)(void *priv, const struct ipk_alg *alg, const struct ipk_alg_evp *evp,
		    bool encrypt, const uint8_t *enc_key, const uint8_t *auth_key);
	/* Frees the EVP state (which wipes its key schedules); safe on a partial init. */
	void (*destroy)(void *priv);
	/* Writes the iv_len-byte IV for sequence number @seq. Encrypt contexts only. */
	int (*make_iv)(void *priv, uint64_t seq, uint8_t *iv);
	/* ipk_crypto_seal() with the IV already in the packet. Encrypt contexts only. */
	int (*seal)(void *priv, uint8_t *esp, size_t plain_len, uint64_t seq, bool esn);
	/* ipk_crypto_open(). Decrypt contexts only. */
	int (*open)(void *priv, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn);
};

/* The kinds, one per enum ipk_alg_kind (aead.c, cbc_hmac.c). */
extern const struct ipk_crypto_ops ipk_aead_ops;      /* IPK_ALG_AEAD */
extern const struct ipk_crypto_ops ipk_gmac_ops;      /* IPK_ALG_GMAC */
extern const struct ipk_crypto_ops ipk_cbc_hmac_ops;  /* IPK_ALG_CBC_HMAC */
extern const struct ipk_crypto_ops ipk_null_hmac_ops; /* IPK_ALG_NULL_HMAC */
extern const struct ipk_crypto_ops ipk_cbc_none_ops;  /* IPK_ALG_CBC_NONE */

static inline void ipk_crypto_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void ipk_crypto_put_be64(uint8_t *p, uint64_t v)
{
	ipk_crypto_put_be32(p, (uint32_t)(v >> 32));
	ipk_crypto_put_be32(p + 4, (uint32_t)v);
}

/*
 * The header part of the AAD: SPI || seq_lo as sent, or with ESN SPI || seq_hi || seq_lo
 * (RFC 4106 §5, RFC 4543 §5, RFC 7634 §2.1). seq_lo is taken from the packet (what the
 * peer authenticated), seq_hi from @seq (never sent, RFC 4303 §2.2.1). Returns the length.
 */
static inline size_t ipk_crypto_esp_aad(uint8_t aad[IPK_CRYPTO_AAD_MAX], const uint8_t *esp,
					uint64_t seq, bool esn)
{
	memcpy(aad, esp, 4);
	if (!esn) {
		memcpy(aad + 4, esp + 4, 4);
		return 8;
	}
	ipk_crypto_put_be32(aad + 4, (uint32_t)(seq >> 32));
	memcpy(aad + 8, esp + 4, 4);
	return 12;
}

#endif
