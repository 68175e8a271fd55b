/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ESP algorithms: the table of what ipseck offers, and the crypto contexts that seal and
 * open ESP packets with libcrypto (EVP).
 *
 * Names follow swanctl. Key layout of each (the `key`/`enc-key`/`auth-key` of `sa add`):
 *
 *   name               cipher           integrity           enc key        auth key  IV  ICV
 *   aes128gcm16        AES-128-GCM      (AEAD, RFC 4106)    16 + 4 salt    -          8  16
 *   aes256gcm16        AES-256-GCM      (AEAD, RFC 4106)    32 + 4 salt    -          8  16
 *   chacha20poly1305   ChaCha20         Poly1305 (RFC 7634) 32 + 4 salt    -          8  16
 *   aes128-sha256      AES-128-CBC      HMAC-SHA-256-128    16             32        16  16
 *   aes256-sha256      AES-256-CBC      HMAC-SHA-256-128    32             32        16  16
 *   null-sha256        NULL (RFC 2410)  HMAC-SHA-256-128    0              32         0  16
 *   3des-md5           3DES-CBC         HMAC-MD5-96         24             16         8  12
 *   3des-sha1          3DES-CBC         HMAC-SHA1-96        24             20         8  12
 *   aes128gmac         NULL             AES-128-GMAC (4543) 16 + 4 salt    -          8  16
 *   aes128             AES-128-CBC      none (insecure)     16             -         16   0
 *
 * AEAD keys are written key || salt, as RFC 4106 §8.1 / RFC 7634 §4 derive them ("key 0x"
 * followed by 32 hex digits of key then 8 of salt for aes128gcm16). `aes128` (encryption
 * without integrity) exists only to run the RFC 3602 sample packets; the configuration
 * language refuses algorithms marked insecure.
 *
 * IVs are never reused: AEAD IVs are the 64-bit sequence number (RFC 4106 §3.1 allows a
 * counter; sequence numbers never repeat within an SA). CBC IVs must be unpredictable
 * (RFC 3602 §3): they are the block cipher's encryption, under the SA's key, of the
 * sequence number (NIST SP 800-38A Appendix C, method 1).
 */
#ifndef IPK_CRYPTO_ALG_H
#define IPK_CRYPTO_ALG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum ipk_alg_kind {
	IPK_ALG_AEAD,     /* AES-GCM, ChaCha20-Poly1305: one pass, AAD = SPI || seq */
	IPK_ALG_CBC_HMAC, /* CBC cipher then HMAC over SPI || seq || IV || ciphertext */
	IPK_ALG_NULL_HMAC,/* no encryption, HMAC only */
	IPK_ALG_GMAC,     /* RFC 4543: no encryption, GMAC over everything */
	IPK_ALG_CBC_NONE, /* encryption only, test use */
};

/* X(id, name, kind, enc_key_len, salt_len, auth_key_len, iv_len, block_size, icv_len,
 *   insecure) -- block_size is the alignment the padded plaintext needs (4 at least,
 *   RFC 4303 §2.4). */
#define IPK_ALGS(X)                                                          \
	X(AES128GCM16, "aes128gcm16", IPK_ALG_AEAD, 16, 4, 0, 8, 4, 16, false)      \
	X(AES256GCM16, "aes256gcm16", IPK_ALG_AEAD, 32, 4, 0, 8, 4, 16, false)      \
	X(CHACHA20POLY1305, "chacha20poly1305", IPK_ALG_AEAD, 32, 4, 0, 8, 4, 16, false) \
	X(AES128_SHA256, "aes128-sha256", IPK_ALG_CBC_HMAC, 16, 0, 32, 16, 16, 16, false) \
	X(AES256_SHA256, "aes256-sha256", IPK_ALG_CBC_HMAC, 32, 0, 32, 16, 16, 16, false) \
	X(NULL_SHA256, "null-sha256", IPK_ALG_NULL_HMAC, 0, 0, 32, 0, 4, 16, false)  \
	X(DES3_MD5, "3des-md5", IPK_ALG_CBC_HMAC, 24, 0, 16, 8, 8, 12, false)        \
	X(DES3_SHA1, "3des-sha1", IPK_ALG_CBC_HMAC, 24, 0, 20, 8, 8, 12, false)      \
	X(AES128GMAC, "aes128gmac", IPK_ALG_GMAC, 16, 4, 0, 8, 4, 16, false)        \
	X(AES128_NONE, "aes128", IPK_ALG_CBC_NONE, 16, 0, 0, 16, 16, 0, true)

enum ipk_alg_id {
#define IPK_ALG_ENUM(id, ...) IPK_ALG_##id,
	IPK_ALGS(IPK_ALG_ENUM)
#undef IPK_ALG_ENUM
	IPK_ALG_COUNT
};

struct ipk_alg {
	enum ipk_alg_id id;
	const char *name;
	enum ipk_alg_kind kind;
	uint8_t enc_key_len;  /* cipher key bytes, without salt */
	uint8_t salt_len;     /* appended to the cipher key in configuration */
	uint8_t auth_key_len; /* HMAC key bytes (0 for AEAD) */
	uint8_t iv_len;       /* IV bytes carried in each packet */
	uint8_t block_size;   /* alignment of payload || padding || 2 */
	uint8_t icv_len;      /* ICV bytes at the end of each packet */
	bool insecure;        /* refused by the configuration language */
};

/* The table entry for @id. */
const struct ipk_alg *ipk_alg_get(enum ipk_alg_id id);
/* Looks a name up ("aes128gcm16"); NULL if unknown. */
const struct ipk_alg *ipk_alg_find(const char *name);
/* Comma-separated list of the secure algorithm names, for error messages. */
const char *ipk_alg_names(void);

/*
 * One crypto context: one SA, one direction, one thread. Holds the EVP contexts, created
 * once here and reused for every packet (never one per packet). Not thread-safe: each
 * crypto unit has its own.
 */
struct ipk_crypto;

/* Creates a context. @enc_key is key || salt (enc_key_len + salt_len bytes); @auth_key is
 * auth_key_len bytes (NULL/0 when the algorithm has none). Returns 0, -EINVAL (wrong key
 * length: message in @err) or -ENOMEM / -EIO (libcrypto failure). */
int ipk_crypto_create(struct ipk_crypto **out, const struct ipk_alg *alg, bool encrypt,
		      const uint8_t *enc_key, size_t enc_key_len, const uint8_t *auth_key,
		      size_t auth_key_len, struct ipk_err *err);
/* Wipes the key material (OPENSSL_cleanse) and frees the context. NULL is a no-op. */
void ipk_crypto_destroy(struct ipk_crypto *c);

/*
 * Seals one ESP packet in place. @esp points at the ESP header; the memory holds
 *   SPI(4) | seq(4) | IV(iv_len, written here) | plaintext (@plain_len bytes, already
 *   padded: payload || padding || pad length || next header) | room for icv_len bytes
 * @seq is the full 64-bit sequence number (the low 32 bits are already in the header);
 * with @esn its high 32 bits enter the AAD / ICV as RFC 4303 §2.2.1 and RFC 4106 §5 say.
 * The IV is derived from @seq (see above). Returns 0, -EIO, or -EINVAL (a CBC plaintext
 * that is not whole blocks, or a context created to open).
 */
int ipk_crypto_seal(struct ipk_crypto *c, uint8_t *esp, size_t plain_len, uint64_t seq,
		    bool esn);
/* As ipk_crypto_seal() with an explicit IV (iv_len bytes): known-answer tests only. */
int ipk_crypto_seal_iv(struct ipk_crypto *c, uint8_t *esp, size_t plain_len, uint64_t seq,
		       bool esn, const uint8_t *iv);
/*
 * Verifies the ICV (constant time) and decrypts in place. @esp points at the ESP header;
 * @ct_len is the number of bytes between the IV and the ICV. Nothing is decrypted unless
 * the ICV verified (AEAD decrypts while it verifies, so on a mismatch the bytes it
 * decrypted are wiped). Returns 0, -EBADMSG (ICV mismatch, or a CBC ciphertext that is
 * not whole blocks), -EIO, or -EINVAL (a context created to seal).
 */
int ipk_crypto_open(struct ipk_crypto *c, uint8_t *esp, size_t ct_len, uint64_t seq, bool esn);

#endif
