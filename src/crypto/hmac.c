// SPDX-License-Identifier: BSD-2-Clause
/*
 * HMAC over one reusable EVP_MAC_CTX: keyed once, re-initialised per message with the
 * key it already holds.
 */
#include "crypto/hmac.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/compiler.h"

_Static_assert(IPK_HMAC_MAX_LEN == EVP_MAX_MD_SIZE, "IPK_HMAC_MAX_LEN follows libcrypto");

/*
 * OpenSSL 3.0 releases without the fix for openssl/openssl#17811 accept EVP_MAC_init()
 * with no key but do not restart the MAC, so every ICV after the first would be wrong and
 * no peer would accept our packets. Two MACs of one message, the second after a restart,
 * must agree.
 */
static bool restart_works(struct ipk_hmac *h)
{
	static const uint8_t msg[] = "RFC 2104 section 4";
	struct ipk_span in = { msg, sizeof(msg) };
	uint8_t first[IPK_HMAC_MAX_LEN], second[IPK_HMAC_MAX_LEN];

	return ipk_hmac_compute(h, &in, 1, first, h->mac_len) == 0 &&
	       ipk_hmac_compute(h, &in, 1, second, h->mac_len) == 0 &&
	       memcmp(first, second, h->mac_len) == 0;
}

int ipk_hmac_init(struct ipk_hmac *h, const char *digest, const uint8_t *key, size_t key_len)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;

	memset(h, 0, sizeof(*h));
	mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
	if (!mac)
		return -EIO;
	h->ctx = EVP_MAC_CTX_new(mac);
	/* The context holds its own reference to the fetched MAC. */
	EVP_MAC_free(mac);
	if (!h->ctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(h->ctx, key, key_len, params))
		goto err_free_ctx;
	h->mac_len = EVP_MAC_CTX_get_mac_size(h->ctx);
	if (h->mac_len == 0 || h->mac_len > IPK_HMAC_MAX_LEN)
		goto err_free_ctx;
	if (!restart_works(h)) {
		ipk_hmac_fini(h);
		return -ENOTSUP;
	}
	return 0;

err_free_ctx:
	ipk_hmac_fini(h);
	return -EIO;
}

void ipk_hmac_fini(struct ipk_hmac *h)
{
	EVP_MAC_CTX_free(h->ctx);
	h->ctx = NULL;
	h->mac_len = 0;
}

int ipk_hmac_compute(struct ipk_hmac *h, const struct ipk_span *in, size_t n_in, uint8_t *out,
		     size_t out_len)
{
	uint8_t full[IPK_HMAC_MAX_LEN];
	size_t full_len;

	if (unlikely(out_len == 0 || out_len > h->mac_len))
		return -EINVAL;
	/* A NULL key restarts the MAC with the key set at init (OpenSSL 3 HMAC provider):
	 * no allocation and no rekeying per packet. */
	if (unlikely(!EVP_MAC_init(h->ctx, NULL, 0, NULL)))
		goto err;
	for (size_t i = 0; i < n_in; i++)
		if (in[i].len && unlikely(!EVP_MAC_update(h->ctx, in[i].p, in[i].len)))
			goto err;
	if (unlikely(!EVP_MAC_final(h->ctx, full, &full_len, sizeof(full))))
		goto err;
	memcpy(out, full, out_len);
	return 0;

err:
	ERR_clear_error();
	return -EIO;
}
