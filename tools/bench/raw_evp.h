/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reference of the ESP benchmark: the same cryptographic work ipseck's encapsulation
 * does for one packet, written directly against libcrypto (EVP) with nothing around it.
 *
 * Per packet, on the same buffer each time (contexts and keys set up once):
 *   1. memcpy of the inner packet into the buffer (ipseck's side does the same copy);
 *   2. AEAD (AES-GCM, ChaCha20-Poly1305): EVP_CipherInit_ex with the 12-byte nonce, AAD
 *      update (SPI || seq, 8 bytes), in-place update over the padded payload, final, tag;
 *      GMAC: the same with SPI || seq || IV || payload as AAD and no plaintext;
 *      CBC + HMAC: EVP_CipherInit_ex with the IV, in-place CBC update + final over the
 *      padded payload, then EVP_MAC (HMAC) init/update/final over SPI || seq || IV ||
 *      ciphertext; NULL + HMAC: the HMAC only.
 * The payload length is what ipseck seals for that inner size: inner || padding || pad
 * length || next header, aligned to the algorithm's block. Not included: the CBC IV
 * ipseck derives per packet (one block cipher call, RFC 3602 §3), header building and
 * the ESP bookkeeping: they are exactly the overhead the ratio shows.
 */
#ifndef IPK_TOOLS_BENCH_RAW_EVP_H
#define IPK_TOOLS_BENCH_RAW_EVP_H

#include <stdint.h>

#include "crypto/alg.h"

struct bench_raw;

/* Sets up the contexts for @alg with random keys and copies @inner (@inner_len bytes).
 * Returns 0, -ENOMEM or -EIO (libcrypto refused the algorithm). */
int bench_raw_create(struct bench_raw **out, const struct ipk_alg *alg, const uint8_t *inner,
		     uint32_t inner_len);
void bench_raw_destroy(struct bench_raw *r);
/* Seals @n packets (a bench_loop run step). Returns 0 or -EIO. */
int bench_raw_run(void *arg, uint32_t n);
/* Bytes sealed per packet (the padded payload). */
uint32_t bench_raw_plain_len(const struct bench_raw *r);

#endif
