/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * HMAC primitive (internal to src/crypto): one EVP_MAC_CTX with a fixed key, computing
 * one MAC per call, full or truncated to its leftmost bytes (RFC 2104 §5).
 *
 * ESP uses the truncations HMAC-MD5-96 (RFC 2403), HMAC-SHA1-96 (RFC 2404) and
 * HMAC-SHA-256-128 (RFC 4868 §2.3); any digest libcrypto offers works, so the unit tests
 * also run the RFC 4868 SHA-384 and SHA-512 vectors through it.
 *
 * Threads: an instance belongs to one crypto context, hence one thread. No allocation
 * after ipk_hmac_init().
 */
#ifndef IPK_CRYPTO_HMAC_H
#define IPK_CRYPTO_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "crypto/ops.h"

/* Longest full HMAC output (SHA-512); equal to libcrypto's EVP_MAX_MD_SIZE. */
#define IPK_HMAC_MAX_LEN 64

struct ipk_hmac {
	EVP_MAC_CTX *ctx; /* holds the key; re-initialised per message without it */
	size_t mac_len;   /* full output length of the digest */
};

/* Fetches HMAC with @digest ("SHA256", "SHA1", "MD5", ...) and sets @key. Control plane.
 * Returns 0, -ENOMEM, -EIO (unknown digest) or -ENOTSUP (this libcrypto cannot restart a
 * MAC with its stored key); on failure @h holds nothing to free. */
int ipk_hmac_init(struct ipk_hmac *h, const char *digest, const uint8_t *key, size_t key_len);
/* Frees the context; libcrypto wipes the key it kept. Safe on a zeroed or failed @h. */
void ipk_hmac_fini(struct ipk_hmac *h);
/*
 * Computes the HMAC of the concatenation of the @n_in spans of @in and writes its first
 * @out_len bytes (1..mac_len) to @out. Returns 0, -EINVAL (@out_len out of range) or -EIO.
 */
int ipk_hmac_compute(struct ipk_hmac *h, const struct ipk_span *in, size_t n_in, uint8_t *out,
		     size_t out_len);

#endif
