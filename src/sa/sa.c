// SPDX-License-Identifier: BSD-2-Clause
#include "sa/sa.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "proto/replay.h"

void ipk_sa_params_init(struct ipk_sa_params *p)
{
	memset(p, 0, sizeof(*p));
	p->replay_window = IPK_REPLAY_DEFAULT;
	p->ttl = 64;
	p->encap_sport = IPK_NATT_PORT;
	p->encap_dport = IPK_NATT_PORT;
}

/* IPv4 routers take 576-byte datagrams (RFC 791), IPv6 links at least 1280 (RFC 8200 §5). */
static int check_mtu(const struct ipk_sa_params *p, struct ipk_err *err)
{
	uint32_t min = p->dst.family == 6 ? 1280 : 576;

	if (p->mtu == 0 || (p->mtu >= min && p->mtu <= 65535))
		return 0;
	return ipk_err_set(err, -EINVAL, "sa %s: mtu %u not in %u..65535 (IPv%u outer header)",
			   p->name, p->mtu, min, p->dst.family);
}

uint32_t ipk_sa_effective_mtu(const struct ipk_sa *sa)
{
	const struct ipk_sa_params *p = &sa->params;
	const struct ipk_alg *a = p->alg;
	uint32_t outer = p->encap_udp ? 8 : 0, fixed, block = a->block_size;

	if (!p->mtu)
		return 0;
	if (p->mode == IPK_MODE_TRANSPORT) {
		fixed = outer + 8 + a->iv_len + (block - 1u) + 2u + a->icv_len;
		return p->mtu > fixed ? p->mtu - fixed : 0;
	}
	outer += p->dst.family == 6 ? 40 : 20;
	/* Outer header, SPI and sequence number, IV, then the padded payload, then the ICV. */
	fixed = outer + 8 + a->iv_len + a->icv_len;
	if (p->mtu < fixed + block)
		return 0;
	return (p->mtu - fixed) / block * block - 2u;
}

static int check_keys(const struct ipk_sa_params *p, struct ipk_err *err)
{
	const struct ipk_alg *a = p->alg;
	unsigned enc = (unsigned)a->enc_key_len + a->salt_len;

	if (p->enc_key_len != enc)
		return ipk_err_set(err, -EINVAL, "sa %s: %s needs a %u-byte key%s, got %u bytes",
				   p->name, a->name, enc, a->salt_len ? " (key || 4-byte salt)" : "",
				   p->enc_key_len);
	if (p->auth_key_len != a->auth_key_len)
		return ipk_err_set(err, -EINVAL, "sa %s: %s needs a %u-byte auth key, got %u bytes",
				   p->name, a->name, a->auth_key_len, p->auth_key_len);
	return 0;
}

static int check_lifetimes(const struct ipk_sa_params *p, struct ipk_err *err)
{
	const uint64_t soft[3] = { p->soft.bytes, p->soft.packets, p->soft.seconds };
	const uint64_t hard[3] = { p->hard.bytes, p->hard.packets, p->hard.seconds };
	static const char *const what[3] = { "bytes", "packets", "seconds" };

	for (int i = 0; i < 3; i++)
		if (soft[i] && hard[i] && soft[i] > hard[i])
			return ipk_err_set(err, -EINVAL,
					   "sa %s: soft lifetime %s %llu above hard %llu", p->name,
					   what[i], (unsigned long long)soft[i],
					   (unsigned long long)hard[i]);
	return 0;
}

int ipk_sa_params_check(const struct ipk_sa_params *p, struct ipk_err *err)
{
	if (!p->name[0])
		return ipk_err_set(err, -EINVAL, "sa: missing name");
	/* RFC 4303 §2.1: SPI 0 is reserved for local use, 1..255 for IANA. */
	if (p->spi < 256)
		return ipk_err_set(err, -EINVAL, "sa %s: spi %u is reserved (use 256 or more)",
				   p->name, p->spi);
	if (!p->alg)
		return ipk_err_set(err, -EINVAL, "sa %s: missing proposal", p->name);
	if (!p->src.family || !p->dst.family)
		return ipk_err_set(err, -EINVAL, "sa %s: src and dst are required", p->name);
	if (p->src.family != p->dst.family)
		return ipk_err_set(err, -EINVAL, "sa %s: src and dst are of different families",
				   p->name);
	if (p->src.family != 4 && p->src.family != 6)
		return ipk_err_set(err, -EINVAL, "sa %s: bad address family", p->name);
	if (p->dir == IPK_DIR_IN && p->replay_window &&
	    (p->replay_window < IPK_REPLAY_MIN || p->replay_window > IPK_REPLAY_MAX))
		return ipk_err_set(err, -EINVAL, "sa %s: replay-window %u not in %u..%u",
				   p->name, p->replay_window, IPK_REPLAY_MIN, IPK_REPLAY_MAX);
	if (!p->esn && p->seq_start > UINT32_MAX)
		return ipk_err_set(err, -EINVAL, "sa %s: seq %llu needs esn", p->name,
				   (unsigned long long)p->seq_start);
	if (check_keys(p, err) || check_lifetimes(p, err) || check_mtu(p, err))
		return -EINVAL;
	return 0;
}

static void sa_free(struct ipk_sa *sa)
{
	for (uint32_t i = 0; i < sa->rt.n_crypto; i++)
		ipk_crypto_destroy(sa->rt.crypto[i]);
	ipk_replay_destroy(sa->rt.replay);
	OPENSSL_cleanse(&sa->params, sizeof(sa->params));
	free(sa);
}

static int sa_init_crypto(struct ipk_sa *sa, uint32_t n_workers, struct ipk_err *err)
{
	const struct ipk_sa_params *p = &sa->params;
	int rc;

	for (uint32_t i = 0; i < n_workers; i++) {
		rc = ipk_crypto_create(&sa->rt.crypto[i], p->alg, p->dir == IPK_DIR_OUT,
				       p->enc_key, p->enc_key_len, p->auth_key,
				       p->auth_key_len, err);
		if (rc)
			return rc;
		sa->rt.n_crypto = i + 1;
	}
	return 0;
}

int ipk_sa_create(struct ipk_sa **out, const struct ipk_sa_params *p, uint32_t n_workers,
		  struct ipk_err *err)
{
	struct ipk_sa *sa;
	int rc;

	rc = ipk_sa_params_check(p, err);
	if (rc)
		return rc;
	if (n_workers == 0 || n_workers > IPK_SA_MAX_WORKERS)
		return ipk_err_set(err, -EINVAL, "sa %s: %u crypto units not in 1..%u", p->name,
				   n_workers, IPK_SA_MAX_WORKERS);
	sa = aligned_alloc(IPK_CACHELINE, sizeof(*sa));
	if (!sa)
		return ipk_err_set(err, -ENOMEM, "sa %s: out of memory", p->name);
	memset(sa, 0, sizeof(*sa));
	sa->params = *p;
	sa->rt.spi = p->spi;
	sa->rt.alg = p->alg;
	sa->rt.dir = (uint8_t)p->dir;
	sa->rt.mode = (uint8_t)p->mode;
	sa->rt.esn = p->esn;
	sa->rt.encap_udp = p->encap_udp;
	atomic_init(&sa->rt.seq_out, p->seq_start);
	atomic_init(&sa->rt.refcnt, 1);
	sa->created_ns = ipk_clock_now_ns();
	rc = sa_init_crypto(sa, n_workers, err);
	if (!rc && p->dir == IPK_DIR_IN && p->replay_window) {
		rc = ipk_replay_create(&sa->rt.replay, p->replay_window, p->esn);
		if (rc)
			ipk_err_set(err, rc, "sa %s: cannot create replay window", p->name);
	}
	if (rc) {
		sa_free(sa);
		return rc;
	}
	*out = sa;
	return 0;
}

void ipk_sa_put(struct ipk_sa *sa)
{
	/* acq_rel: the last put must see every other holder's writes before freeing. */
	if (atomic_fetch_sub_explicit(&sa->rt.refcnt, 1, memory_order_acq_rel) == 1)
		sa_free(sa);
}

void ipk_sa_kill(struct ipk_sa *sa)
{
	atomic_store_explicit(&sa->rt.dead, true, memory_order_release);
}

/* Once per SA: the IKE daemon must install a new SA (RFC 4303 §3.3.3). */
static void raise_seq_exhausted(struct ipk_sa *sa)
{
	if (!atomic_exchange(&sa->seq_exhausted, true) && sa->event)
		sa->event(sa, true, sa->event_arg);
}

bool ipk_sa_next_seq(struct ipk_sa *sa, uint64_t *seq)
{
	const uint64_t last = sa->rt.esn ? UINT64_MAX : UINT32_MAX;
	uint64_t cur = atomic_load_explicit(&sa->rt.seq_out, memory_order_relaxed);

	do {
		if (cur >= last) {
			raise_seq_exhausted(sa);
			return false;
		}
	} while (!atomic_compare_exchange_weak_explicit(&sa->rt.seq_out, &cur, cur + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	*seq = cur + 1;
	return true;
}

static bool over(uint64_t value, uint64_t limit)
{
	return limit && value >= limit;
}

static void raise_soft(struct ipk_sa *sa)
{
	if (!atomic_exchange(&sa->rt.soft_expired, true) && sa->event)
		sa->event(sa, false, sa->event_arg);
}

static void raise_hard(struct ipk_sa *sa)
{
	if (!atomic_exchange(&sa->rt.dead, true) && sa->event)
		sa->event(sa, true, sa->event_arg);
}

bool ipk_sa_account(struct ipk_sa *sa, uint32_t inner_bytes)
{
	const struct ipk_sa_params *p = &sa->params;
	uint64_t pkts, bytes;

	pkts = atomic_fetch_add_explicit(&sa->stats.packets, 1, memory_order_relaxed) + 1;
	bytes = atomic_fetch_add_explicit(&sa->stats.bytes, inner_bytes, memory_order_relaxed) +
		inner_bytes;
	if (over(pkts, p->soft.packets) || over(bytes, p->soft.bytes))
		raise_soft(sa);
	if (over(pkts, p->hard.packets) || over(bytes, p->hard.bytes)) {
		raise_hard(sa);
		return false;
	}
	return true;
}

bool ipk_sa_usable(struct ipk_sa *sa)
{
	const struct ipk_sa_params *p = &sa->params;
	uint64_t age_s;

	if (atomic_load_explicit(&sa->rt.dead, memory_order_acquire))
		return false;
	if (!p->soft.seconds && !p->hard.seconds)
		return true;
	age_s = (ipk_clock_now_ns() - sa->created_ns) / IPK_NSEC_PER_SEC;
	if (over(age_s, p->soft.seconds))
		raise_soft(sa);
	if (over(age_s, p->hard.seconds)) {
		raise_hard(sa);
		return false;
	}
	return true;
}

const char *ipk_dir_name(enum ipk_dir dir)
{
	return dir == IPK_DIR_OUT ? "out" : "in";
}

const char *ipk_mode_name(enum ipk_mode mode)
{
	return mode == IPK_MODE_TRANSPORT ? "transport" : "tunnel";
}
