// SPDX-License-Identifier: BSD-2-Clause
/* Tests for the gateway's I/O threads (src/gw/pump.c) over a real engine with bypass
 * policies both ways, and fake ports whose rx_burst serves prepared packets and whose
 * tx_burst records what leaves: which port each packet leaves by (a numbered table), order,
 * a port whose kernel queue stays full, non-IP frames passed or dropped, and the gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "core/compiler.h"
#include "core/pkt.h"
#include "ctl/config.h"
#include "engine/engine.h"
#include "gw/pump.h"
#include "sa/sad.h"
#include "sa/spd.h"

#define FAKE_MAX 1024
#define WAIT_MS 5000

struct fake {
	pthread_mutex_t lock;
	struct ipk_pkt *rx[FAKE_MAX];
	uint32_t rx_head, rx_n;
	uint32_t seq[FAKE_MAX]; /* sequence numbers of the packets sent, in order */
	uint32_t tx_n;
	bool busy;              /* tx_burst takes nothing */
};

static uint32_t fake_rx(struct ipk_io_port *port, struct ipk_pool *pool, struct ipk_pkt **pkts,
			uint32_t max, int timeout_ms)
{
	struct fake *f = ipk_io_priv(port);
	const struct timespec nap = { .tv_nsec = 200000 };
	uint32_t n = 0;

	pthread_mutex_lock(&f->lock);
	while (n < max && f->rx_head < f->rx_n)
		pkts[n++] = f->rx[f->rx_head++];
	pthread_mutex_unlock(&f->lock);
	if (!n)
		nanosleep(&nap, NULL);
	return n;
}

static uint32_t fake_tx(struct ipk_io_port *port, struct ipk_pkt **pkts, uint32_t n)
{
	struct fake *f = ipk_io_priv(port);

	if (f->busy)
		return 0;
	pthread_mutex_lock(&f->lock);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d = ipk_pkt_data(pkts[i]);

		if (f->tx_n < FAKE_MAX)
			f->seq[f->tx_n] = (uint32_t)d[28] << 8 | d[29];
		f->tx_n++;
		ipk_pkt_free(pkts[i]);
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

static uint32_t fake_fds(const struct ipk_io_port *port, int *fds, uint32_t max)
{
	return 0;
}

#define FAKE_OPS(kind) { .name = kind, .priv_size = sizeof(struct fake), .rx_burst = fake_rx, \
			 .tx_burst = fake_tx, .fds = fake_fds }
static const struct ipk_io_ops tun_ops = FAKE_OPS("tun");
static const struct ipk_io_ops esp_ops = FAKE_OPS("esp");
static const struct ipk_io_ops udp_ops = FAKE_OPS("udp");
static const struct ipk_io_ops wire_ops = FAKE_OPS("wire");

struct env {
	struct ipk_sad *sad;
	struct ipk_spd *spd;
	struct ipk_pool *pool;
	struct ipk_engine *engine;
	struct ipk_pump pump;
	struct ipk_pump_port pp[4];
	unsigned n_ports;
};

static struct fake *fake_of(struct ipk_pump_port *pp)
{
	return ipk_io_priv(pp->io);
}

static struct ipk_pump_port *add_port(struct env *e, const struct ipk_io_ops *ops,
				      enum ipk_gw_side side, bool non_ip_pass)
{
	struct ipk_pump_port *pp = &e->pp[e->n_ports];
	struct ipk_io_port *port = calloc(1, sizeof(*port) + sizeof(struct fake));

	assert_non_null(port);
	port->ops = ops;
	port->id = (uint8_t)e->n_ports++;
	pthread_mutex_init(&((struct fake *)ipk_io_priv(port))->lock, NULL);
	*pp = (struct ipk_pump_port){ .pump = &e->pump, .io = port, .side = side,
				      .non_ip_pass = non_ip_pass };
	ipk_pump_link(&e->pump, pp);
	return pp;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ipk_config_ctx ctx = { 0 };
	struct ipk_engine_config cfg;
	struct ipk_err err;

	assert_non_null(e);
	assert_int_equal(ipk_sad_create(&e->sad, 1), 0);
	assert_int_equal(ipk_spd_create(&e->spd), 0);
	ctx.sad = e->sad;
	ctx.spd = e->spd;
	assert_int_equal(ipk_config_apply(&ctx, "policy add name o dir out action bypass\n"
					  "policy add name i dir in action bypass\n", "t", &err), 0);
	assert_int_equal(ipk_pool_create(&e->pool, 4096, IPK_PKT_DEFAULT_ROOM), 0);
	ipk_engine_config_init(&cfg);
	cfg.n_units = 1;
	assert_int_equal(ipk_engine_create(&e->engine, &cfg, e->sad, e->spd, &err), 0);
	assert_int_equal(ipk_pump_init(&e->pump, e->engine, e->pool), 0);
	assert_int_equal(ipk_pump_tx_start(&e->pump), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	for (unsigned i = 0; i < e->n_ports; i++)
		ipk_pump_rx_join(&e->pp[i]);
	ipk_engine_stop(e->engine);
	ipk_pump_tx_stop(&e->pump);
	for (unsigned i = 0; i < e->n_ports; i++) {
		struct fake *f = fake_of(&e->pp[i]);

		while (f->rx_head < f->rx_n)
			ipk_pkt_free(f->rx[f->rx_head++]);
		pthread_mutex_destroy(&f->lock);
		free(e->pp[i].io);
	}
	ipk_engine_destroy(e->engine);
	ipk_pump_fini(&e->pump);
	ipk_spd_destroy(e->spd);
	ipk_sad_destroy(e->sad);
	ipk_pool_destroy(e->pool);
	free(e);
	return 0;
}

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* An IPv4 packet of @proto (UDP 17, ICMP 1) carrying @seq at bytes 28-29. */
static struct ipk_pkt *make_pkt(struct env *e, uint8_t proto, uint16_t seq, uint16_t flags)
{
	uint8_t b[64] = { 0x45, 0, 0, 64, 0, 0, 0x40, 0, 64, proto, 0, 0, 10, 1, 0, 2, 10, 2, 0, 2 };
	struct ipk_pkt *pkt;
	uint16_t c;

	b[20] = 0x13, b[21] = 0x88, b[22] = 0x17, b[23] = 0x70; /* ports 5000 -> 6000 */
	b[25] = 44;                                          /* UDP length */
	b[28] = (uint8_t)(seq >> 8), b[29] = (uint8_t)seq;
	c = csum(b, 20);
	b[10] = (uint8_t)(c >> 8), b[11] = (uint8_t)c;
	pkt = ipk_pkt_from_bytes(e->pool, b, sizeof(b));
	assert_non_null(pkt);
	pkt->meta.flags = flags;
	return pkt;
}

static void feed(struct env *e, struct ipk_pump_port *pp, uint8_t proto, uint32_t n,
		 uint16_t flags)
{
	struct fake *f = fake_of(pp);

	pthread_mutex_lock(&f->lock);
	for (uint32_t i = 0; i < n; i++)
		f->rx[f->rx_n++] = make_pkt(e, proto, (uint16_t)i, flags);
	pthread_mutex_unlock(&f->lock);
}

static uint32_t sent(struct ipk_pump_port *pp)
{
	struct fake *f = fake_of(pp);
	uint32_t n;

	pthread_mutex_lock(&f->lock);
	n = f->tx_n;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* Waits until @pp has sent @n packets; false after WAIT_MS. */
static bool wait_sent(struct ipk_pump_port *pp, uint32_t n)
{
	const struct timespec nap = { .tv_nsec = 1000000 };

	for (int i = 0; i < WAIT_MS && sent(pp) < n; i++)
		nanosleep(&nap, NULL);
	return sent(pp) == n;
}

static uint64_t drops(struct env *e, enum ipk_drop_reason r)
{
	return ipk_drop_read(&e->pump.drops, r);
}

/* Which port each packet leaves by. Ports: 0 tun (plain), 1 esp, 2 udp (protected). */
struct route_row {
	unsigned from;   /* port it arrives on */
	uint8_t proto;
	bool udp_port;   /* a udp port exists on the protected side */
	int to;          /* port index it leaves by; -1: dropped (unsupported) */
};

static const struct route_row route_rows[] = {
	/* 0 */ { 0, 17, true, 2 },  /* UDP to the protected side: the udp port */
	/* 1 */ { 0, 1, true, 1 },   /* anything else: the esp port */
	/* 2 */ { 0, 17, false, 1 }, /* no udp port: the first of the side */
	/* 3 */ { 1, 17, true, 0 },  /* inbound: the plain side */
	/* 4 */ { 2, 1, false, 0 },
};

static void test_route(void **state)
{
	for (size_t i = 0; i < IPK_ARRAY_SIZE(route_rows); i++) {
		const struct route_row *r = &route_rows[i];
		struct env *e;

		print_message("row %zu\n", i);
		setup((void **)&e);
		add_port(e, &tun_ops, IPK_GW_PLAIN, true);
		add_port(e, &esp_ops, IPK_GW_PROTECTED, true);
		add_port(e, &udp_ops, IPK_GW_PROTECTED, true);
		if (!r->udp_port)
			ipk_pump_unlink(&e->pump, &e->pp[2]);
		for (unsigned p = 0; p < 3; p++)
			assert_int_equal(ipk_pump_rx_start(&e->pp[p]), 0);
		feed(e, &e->pp[r->from], r->proto, 40, 0);
		assert_true(wait_sent(&e->pp[r->to], 40));
		for (unsigned p = 0; p < 3; p++)
			if ((int)p != r->to)
				assert_int_equal(sent(&e->pp[p]), 0);
		teardown((void **)&e);
	}
}

/* 1000 packets leave in the order they came, nothing dropped; with no port on the
 * destination side they are dropped and counted. */
static void test_order_and_no_port(void **state)
{
	struct env *e = *state;
	struct ipk_pump_port *plain = add_port(e, &tun_ops, IPK_GW_PLAIN, true);
	struct ipk_pump_port *prot = add_port(e, &esp_ops, IPK_GW_PROTECTED, true);
	struct fake *f = fake_of(prot);

	assert_int_equal(ipk_pump_rx_start(plain), 0);
	assert_int_equal(ipk_pump_rx_start(prot), 0);
	feed(e, plain, 17, 1000, 0);
	assert_true(wait_sent(prot, 1000));
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(f->seq[i], i);
	assert_int_equal(drops(e, IPK_DROP_UNSUPPORTED), 0);

	ipk_pump_unlink(&e->pump, plain);
	feed(e, prot, 17, 25, 0);
	for (int i = 0; i < WAIT_MS && drops(e, IPK_DROP_UNSUPPORTED) < 25; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	assert_int_equal(drops(e, IPK_DROP_UNSUPPORTED), 25);
	assert_int_equal(sent(plain), 0);
}

/* A port whose queue stays full: the packets are dropped as queue-full, none lost
 * uncounted. */
static void test_busy_port(void **state)
{
	struct env *e = *state;
	struct ipk_pump_port *plain = add_port(e, &tun_ops, IPK_GW_PLAIN, true);
	struct ipk_pump_port *prot = add_port(e, &esp_ops, IPK_GW_PROTECTED, true);

	fake_of(prot)->busy = true;
	assert_int_equal(ipk_pump_rx_start(plain), 0);
	feed(e, plain, 17, 64, 0);
	for (int i = 0; i < WAIT_MS && drops(e, IPK_DROP_QUEUE_FULL) < 64; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	assert_int_equal(drops(e, IPK_DROP_QUEUE_FULL), 64);
	assert_int_equal(sent(prot), 0);
}

/* Non-IP frames of wire ports bypass the engine: to the other side, or dropped. */
static void test_non_ip(void **state)
{
	struct env *e = *state;
	struct ipk_pump_port *a = add_port(e, &wire_ops, IPK_GW_PLAIN, true);
	struct ipk_pump_port *b = add_port(e, &wire_ops, IPK_GW_PROTECTED, false);
	struct ipk_engine_balance bal;

	assert_int_equal(ipk_pump_rx_start(a), 0);
	assert_int_equal(ipk_pump_rx_start(b), 0);
	feed(e, a, 0, 30, IPK_IO_F_NOT_IP);
	assert_true(wait_sent(b, 30));
	feed(e, b, 0, 20, IPK_IO_F_NOT_IP);
	for (int i = 0; i < WAIT_MS && drops(e, IPK_DROP_UNSUPPORTED) < 20; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	assert_int_equal(drops(e, IPK_DROP_UNSUPPORTED), 20);
	assert_int_equal(sent(a), 0);
	ipk_engine_balance(e->engine, &bal);
	assert_int_equal(bal.in, 0);
}

/* While the gate is closed nothing enters the engine; opened, everything does. */
static void test_gate(void **state)
{
	struct env *e = *state;
	struct ipk_pump_port *plain = add_port(e, &tun_ops, IPK_GW_PLAIN, true);
	struct ipk_pump_port *prot = add_port(e, &esp_ops, IPK_GW_PROTECTED, true);
	struct ipk_engine_balance bal;

	assert_int_equal(ipk_pump_rx_start(plain), 0);
	ipk_pump_gate_close(&e->pump);
	feed(e, plain, 17, 100, 0);
	nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	ipk_engine_balance(e->engine, &bal);
	assert_int_equal(bal.in, 0);
	assert_int_equal(sent(prot), 0);
	ipk_pump_gate_open(&e->pump);
	assert_true(wait_sent(prot, 100));
}

static int setup_one(void **state)
{
	return setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route),
		cmocka_unit_test_setup_teardown(test_order_and_no_port, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_busy_port, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_non_ip, setup_one, teardown),
		cmocka_unit_test_setup_teardown(test_gate, setup_one, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
