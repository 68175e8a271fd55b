/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AEAD primitive (internal to src/crypto): one EVP_CIPHER_CTX for AES-GCM or
 * ChaCha20-Poly1305 with a fixed key and salt, sealing or opening one message per call.
 *
 * The AEAD kinds (ipk_aead_ops: RFC 4106, RFC 7634; ipk_gmac_ops: RFC 4543) frame ESP
 * packets around it; the unit tests drive it directly with vectors whose AAD is not an
 * ESP header (RFC 8439 §2.8.2, A.5; RFC 7634 Appendix B). The nonce is always
 * salt(4) || IV(8) (RFC 4106 §4, RFC 7634 §2, RFC 8439 §2.8 with a 32-bit constant).
 *
 * Threads: an instance belongs to one crypto context, hence one thread. No allocation
 * after ipk_aead_init().
 */
#ifndef IPK_CRYPTO_AEAD_H
#define IPK_CRYPTO_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "crypto/ops.h"

#define IPK_AEAD_SALT_LEN 4
#define IPK_AEAD_IV_LEN 8
#define IPK_AEAD_NONCE_LEN (IPK_AEAD_SALT_LEN + IPK_AEAD_IV_LEN)
#define IPK_AEAD_TAG_LEN 16

struct ipk_aead {
	EVP_CIPHER_CTX *ctx; /* key schedule set once, one direction */
	uint8_t nonce[IPK_AEAD_NONCE_LEN]; /* salt fixed at init || IV of the current call */
};

/* Fetches @cipher ("AES-128-GCM", "ChaCha20-Poly1305", ...), sets @key (@key_len must be
 * the cipher's key length) and keeps @salt (4 bytes) for a context that seals (@encrypt)
 * or opens. Control plane. Returns 0, -EINVAL (wrong key length), -ENOMEM or -EIO; on
 * failure @a holds nothing to free. */
int ipk_aead_init(struct ipk_aead *a, const char *cipher, const uint8_t *key, size_t key_len,
		  const uint8_t *salt, bool encrypt);
/* Frees the EVP context (libcrypto wipes the key schedule) and wipes the salt. Safe on a
 * zeroed or failed instance. */
void ipk_aead_fini(struct ipk_aead *a);

/*
 * Encrypts @buf (@len bytes) in place with nonce salt || @iv (8 bytes), authenticating
 * the concatenation of the @n_aad spans of @aad first, and writes the 16-byte tag to @tag.
 * Encrypt instances only. Returns 0, -EINVAL (length over INT_MAX) or -EIO.
 */
int ipk_aead_seal(struct ipk_aead *a, const uint8_t *iv, const struct ipk_span *aad,
		  size_t n_aad, uint8_t *buf, size_t len, uint8_t *tag);
/*
 * Verifies @tag over @aad and @buf and decrypts @buf in place. libcrypto decrypts while it
 * authenticates, so on a mismatch the @len bytes it wrote are wiped: no unauthenticated
 * plaintext is ever left in @buf. Decrypt instances only. Returns 0, -EBADMSG (tag
 * mismatch; @buf zeroed), -EINVAL (length over INT_MAX) or -EIO.
 */
int ipk_aead_open(struct ipk_aead *a, const uint8_t *iv, const struct ipk_span *aad,
		  size_t n_aad, uint8_t *buf, size_t len, const uint8_t *tag);

#endif
