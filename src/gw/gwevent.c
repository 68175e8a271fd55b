// SPDX-License-Identifier: BSD-2-Clause
/*
 * The gateway's event log (gw/gwevent.h): a pending ring the packet threads fill, the log
 * of recent events the control thread keeps, the event command, and the SAD snapshot that
 * turns batches into sa-added and sa-deleted events.
 */
#include "gw/gwevent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "ctl/cmd.h"
#include "ctl/config.h"
#include "ctl/json.h"
#include "gw/gateway.h"
#include "sa/sad.h"

#define ENV_MAX 8
#define ENV_LEN 64

/* What the previous sync saw of one SA. The pointer and creation time identify it (an
 * address may be reused by a later SA, never with the same creation time); the pointer is
 * never followed, the SA may be freed. */
struct snap {
	const struct ipk_sa *sa;
	uint64_t created_ns;
	char name[IPK_NAME_MAX];
	uint32_t spi;
	uint8_t dir;
};

struct snap_list {
	struct snap *v;
	size_t n, cap;
	bool failed;
};

struct ipk_gwevents {
	/* Packet threads -> control thread. */
	pthread_mutex_t lock;
	struct ipk_gwevent_rec pending[IPK_GWEVENT_PENDING_MAX];
	uint32_t n_pending;
	_Atomic uint64_t lost;
	int efd;
	/* Control thread only. */
	struct ipk_gwevent_rec log[IPK_GWEVENT_LOG_MAX];
	uint64_t total; /* also the number of the last event */
	char command[PATH_MAX];
	pid_t children[IPK_GWEVENT_CHILDREN_MAX];
	uint32_t n_children;
	uint64_t runs, failed, skipped;
	uint64_t next_tick_ns;
	struct snap_list snap;
};

static const char *const kind_names[] = {
#define IPK_GWEVENT_NAME(id, name) name,
	IPK_GWEVENT_KINDS(IPK_GWEVENT_NAME)
#undef IPK_GWEVENT_NAME
};

const char *ipk_gwevent_kind_name(enum ipk_gwevent_kind kind)
{
	return (unsigned)kind < IPK_GWEVENT_KIND_COUNT ? kind_names[kind] : "?";
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ipk_gwevent_create(struct ipk_gwevents **out)
{
	struct ipk_gwevents *ev = calloc(1, sizeof(*ev));
	int ret;

	if (!ev)
		return -ENOMEM;
	ev->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ev->efd < 0) {
		ret = -errno;
		free(ev);
		return ret;
	}
	ret = pthread_mutex_init(&ev->lock, NULL);
	if (ret) {
		close(ev->efd);
		free(ev);
		return -ret;
	}
	ev->next_tick_ns = clock_ns(CLOCK_MONOTONIC);
	*out = ev;
	return 0;
}

void ipk_gwevent_destroy(struct ipk_gwevents *ev)
{
	if (!ev)
		return;
	/* Reap what has finished; the rest are reparented to init when the daemon exits. */
	while (ev->n_children && waitpid(-1, NULL, WNOHANG) > 0)
		ev->n_children--;
	pthread_mutex_destroy(&ev->lock);
	close(ev->efd);
	free(ev->snap.v);
	free(ev);
}

int ipk_gwevent_fd(const struct ipk_gwevents *ev)
{
	return ev->efd;
}

static void fill(struct ipk_gwevent_rec *r, enum ipk_gwevent_kind kind, const char *name,
		 uint32_t spi, uint8_t dir)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = clock_ns(CLOCK_REALTIME);
	r->kind = (uint8_t)kind;
	r->spi = spi;
	r->dir = dir;
	memcpy(r->sa, name, sizeof(r->sa));
	r->sa[sizeof(r->sa) - 1] = '\0';
}

/* Which event a call of the SA's hook means (sa/sa.h): the hard-limit call is made after
 * the SA was marked dead; sequence exhaustion leaves it alive. */
static enum ipk_gwevent_kind sa_event_kind(const struct ipk_sa *sa, bool hard)
{
	if (!hard)
		return IPK_GWEVENT_SOFT_EXPIRED;
	if (atomic_load_explicit(&sa->seq_exhausted, memory_order_relaxed) &&
	    !atomic_load_explicit(&sa->rt.dead, memory_order_relaxed))
		return IPK_GWEVENT_SEQ_EXHAUSTED;
	return IPK_GWEVENT_HARD_EXPIRED;
}

void ipk_gwevent_sa_event(struct ipk_sa *sa, bool hard, void *arg)
{
	struct ipk_gwevents *ev = arg;
	const uint64_t one = 1;
	bool queued = false;

	pthread_mutex_lock(&ev->lock);
	if (ev->n_pending < IPK_GWEVENT_PENDING_MAX) {
		fill(&ev->pending[ev->n_pending++], sa_event_kind(sa, hard), sa->params.name,
		     sa->rt.spi, sa->rt.dir);
		queued = true;
	}
	pthread_mutex_unlock(&ev->lock);
	if (!queued) {
		atomic_fetch_add_explicit(&ev->lost, 1, memory_order_relaxed);
		return;
	}
	/* Cannot fail but on counter overflow (2^64 - 1 events unread). */
	if (write(ev->efd, &one, sizeof(one)) < 0)
		return;
}

/* --- the command ---------------------------------------------------------------- */

int ipk_gwevent_check_command(const char *path, struct ipk_err *err)
{
	struct stat sb;

	if (path[0] != '/')
		return ipk_err_set(err, -EINVAL, "event-command: '%s' is not an absolute path",
				   path);
	if (strlen(path) >= PATH_MAX)
		return ipk_err_set(err, -EINVAL, "event-command: path longer than %d bytes",
				   PATH_MAX - 1);
	if (stat(path, &sb) < 0)
		return ipk_err_set(err, -EINVAL, "event-command: %s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode) || access(path, X_OK) < 0)
		return ipk_err_set(err, -EINVAL, "event-command: %s is not an executable file",
				   path);
	return 0;
}

int ipk_gwevent_set_command(struct ipk_gwevents *ev, const char *path, struct ipk_err *err)
{
	int ret;

	if (!path || !path[0]) {
		ev->command[0] = '\0';
		return 0;
	}
	ret = ipk_gwevent_check_command(path, err);
	if (ret)
		return ret;
	snprintf(ev->command, sizeof(ev->command), "%s", path);
	log_info("event-command: %s", path);
	return 0;
}

const char *ipk_gwevent_command(const struct ipk_gwevents *ev)
{
	return ev->command;
}

static void build_env(const struct ipk_gwevent_rec *r, char env[][ENV_LEN], char **envp)
{
	snprintf(env[0], ENV_LEN, "IPSECK_EVENT=%s", ipk_gwevent_kind_name(r->kind));
	snprintf(env[1], ENV_LEN, "IPSECK_SA=%s", r->sa);
	snprintf(env[2], ENV_LEN, "IPSECK_SPI=0x%08" PRIx32, r->spi);
	snprintf(env[3], ENV_LEN, "IPSECK_DIR=%s", ipk_dir_name(r->dir));
	snprintf(env[4], ENV_LEN, "IPSECK_TIME=%" PRIu64, (uint64_t)(r->time_ns / 1000000000ull));
	snprintf(env[5], ENV_LEN, "IPSECK_SEQ=%" PRIu64, r->seq);
	snprintf(env[6], ENV_LEN, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	for (int i = 0; i < ENV_MAX - 1; i++)
		envp[i] = env[i];
	envp[ENV_MAX - 1] = NULL;
}

/* The daemon blocks SIGINT/SIGTERM/SIGHUP (read from a signalfd) and ignores SIGPIPE; the
 * command gets neither. */
static int spawn_attr(posix_spawnattr_t *attr)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_init(attr))
		return -ENOMEM;
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &all);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	return 0;
}

static void run_command(struct ipk_gwevents *ev, const struct ipk_gwevent_rec *r)
{
	char env[ENV_MAX][ENV_LEN], spi[16], *envp[ENV_MAX];
	char *argv[] = { ev->command, (char *)ipk_gwevent_kind_name(r->kind), (char *)r->sa,
			 spi, (char *)ipk_dir_name(r->dir), NULL };
	posix_spawnattr_t attr;
	pid_t pid;
	int rc;

	if (!ev->command[0])
		return;
	if (ev->n_children >= IPK_GWEVENT_CHILDREN_MAX) {
		ev->skipped++;
		log_warnx("event-command: %u commands still running; not run for event %" PRIu64,
			  ev->n_children, r->seq);
		return;
	}
	snprintf(spi, sizeof(spi), "0x%08" PRIx32, r->spi);
	build_env(r, env, envp);
	if (spawn_attr(&attr)) {
		ev->failed++;
		return;
	}
	rc = posix_spawn(&pid, ev->command, NULL, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	if (rc) {
		ev->failed++;
		log_warnx("event-command: cannot run %s: %s", ev->command, strerror(rc));
		return;
	}
	ev->children[ev->n_children++] = pid;
	ev->runs++;
}

static void forget_child(struct ipk_gwevents *ev, pid_t pid, int status)
{
	for (uint32_t i = 0; i < ev->n_children; i++) {
		if (ev->children[i] != pid)
			continue;
		ev->children[i] = ev->children[--ev->n_children];
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return;
		ev->failed++;
		if (WIFEXITED(status))
			log_warnx("event-command: %s (pid %ld) exited with status %d",
				  ev->command, (long)pid, WEXITSTATUS(status));
		else
			log_warnx("event-command: %s (pid %ld) killed by signal %d", ev->command,
				  (long)pid, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		return;
	}
}

static void reap(struct ipk_gwevents *ev)
{
	for (uint32_t i = 0; i < ev->n_children;) {
		int status;
		pid_t pid = waitpid(ev->children[i], &status, WNOHANG);

		if (pid == ev->children[i])
			forget_child(ev, pid, status);
		else if (pid < 0 && errno == ECHILD)
			ev->children[i] = ev->children[--ev->n_children];
		else
			i++;
	}
}

/* --- the log ---------------------------------------------------------------------- */

static void record(struct ipk_gwevents *ev, struct ipk_gwevent_rec *r)
{
	r->seq = ++ev->total;
	ev->log[(r->seq - 1) % IPK_GWEVENT_LOG_MAX] = *r;
	log_notice("event %" PRIu64 ": %s sa %s spi 0x%08" PRIx32 " dir %s", r->seq,
		   ipk_gwevent_kind_name(r->kind), r->sa, r->spi, ipk_dir_name(r->dir));
	run_command(ev, r);
}

void ipk_gwevent_process(struct ipk_gwevents *ev)
{
	struct ipk_gwevent_rec batch[64];
	uint64_t counter;
	uint32_t n;

	if (read(ev->efd, &counter, sizeof(counter)) < 0 && errno != EAGAIN)
		log_warn("gwevent: eventfd");
	do {
		pthread_mutex_lock(&ev->lock);
		n = ev->n_pending < 64 ? ev->n_pending : 64;
		memcpy(batch, ev->pending, n * sizeof(batch[0]));
		memmove(ev->pending, ev->pending + n, (ev->n_pending - n) * sizeof(batch[0]));
		ev->n_pending -= n;
		pthread_mutex_unlock(&ev->lock);
		for (uint32_t i = 0; i < n; i++)
			record(ev, &batch[i]);
	} while (n);
	reap(ev);
}

int ipk_gwevent_next_timeout(const struct ipk_gwevents *ev)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	int tick_ms;

	if (now >= ev->next_tick_ns)
		return 0;
	tick_ms = (int)((ev->next_tick_ns - now) / 1000000ull) + 1;
	/* Children are reaped by polling: there is no SIGCHLD handler in the daemon. */
	if (ev->n_children && tick_ms > 100)
		return 100;
	return tick_ms;
}

static void check_idle(struct ipk_sa *sa, void *arg)
{
	(void)arg;
	/* Raises the soft or hard event of a seconds lifetime that has passed. */
	ipk_sa_usable(sa);
}

void ipk_gwevent_tick(struct ipk_gwevents *ev, struct ipk_sad *sad)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	if (now >= ev->next_tick_ns) {
		ev->next_tick_ns = now + IPK_GWEVENT_TICK_MS * 1000000ull;
		if (sad)
			ipk_sad_foreach(sad, check_idle, NULL);
	}
	ipk_gwevent_process(ev);
}

size_t ipk_gwevent_read(const struct ipk_gwevents *ev, struct ipk_gwevent_rec *out, size_t max)
{
	uint64_t have = ev->total < IPK_GWEVENT_LOG_MAX ? ev->total : IPK_GWEVENT_LOG_MAX;
	uint64_t first;

	if (max > have)
		max = have;
	first = ev->total - max; /* number of the first record shown, minus one */
	for (size_t i = 0; i < max; i++)
		out[i] = ev->log[(first + i) % IPK_GWEVENT_LOG_MAX];
	return max;
}

void ipk_gwevent_counts(const struct ipk_gwevents *ev, struct ipk_gwevent_counts *c)
{
	c->total = ev->total;
	c->lost = atomic_load_explicit(&ev->lost, memory_order_relaxed);
	c->runs = ev->runs;
	c->failed = ev->failed;
	c->skipped = ev->skipped;
	c->running = ev->n_children;
}

/* --- sa-added, sa-deleted --------------------------------------------------------- */

static void snap_one(struct ipk_sa *sa, void *arg)
{
	struct snap_list *l = arg;
	struct snap *s;

	if (l->failed)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct snap *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->failed = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	s = &l->v[l->n++];
	s->sa = sa;
	s->created_ns = sa->created_ns;
	s->spi = sa->rt.spi;
	s->dir = sa->rt.dir;
	memcpy(s->name, sa->params.name, sizeof(s->name));
}

static bool same(const struct snap *a, const struct snap *b)
{
	return a->sa == b->sa && a->created_ns == b->created_ns &&
	       strcmp(a->name, b->name) == 0;
}

static void snap_event(struct ipk_gwevents *ev, const struct snap *s,
		       enum ipk_gwevent_kind kind)
{
	struct ipk_gwevent_rec r;

	fill(&r, kind, s->name, s->spi, s->dir);
	record(ev, &r);
}

int ipk_gwevent_sync(struct ipk_gwevents *ev, const struct ipk_sad *sad)
{
	struct snap_list now = { 0 };
	size_t i = 0, j = 0;

	ipk_sad_foreach(sad, snap_one, &now);
	if (now.failed) {
		free(now.v);
		return -ENOMEM;
	}
	/* The SAD keeps insertion order and deletion keeps the others' order, so the new
	 * list is the old one minus the deleted SAs plus the added ones at its end. */
	while (i < ev->snap.n) {
		if (j < now.n && same(&ev->snap.v[i], &now.v[j]))
			j++;
		else
			snap_event(ev, &ev->snap.v[i], IPK_GWEVENT_SA_DELETED);
		i++;
	}
	for (; j < now.n; j++)
		snap_event(ev, &now.v[j], IPK_GWEVENT_SA_ADDED);
	free(ev->snap.v);
	ev->snap = now;
	return 0;
}

/* --- commands: show events, event-command ------------------------------------------ */

struct show_events_arg {
	uint32_t count;
};

static const struct ipk_kw show_events_kws[] = {
	{ "count", IPK_KW_NUM, false, IPK_KW_FIELD(struct show_events_arg, count), 1,
	  IPK_GWEVENT_LOG_MAX },
	{ .name = NULL },
};

static int show_events_parse(struct ipk_cmd_parser *ps, void *arg)
{
	return ipk_cmd_parse_keywords(ps, arg);
}

/* "2026-11-26T13:10:00.123Z" */
static void iso_time(uint64_t ns, char *buf, size_t size)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns / 1000000ull % 1000));
}

static void events_text(struct ipk_outbuf *out, const struct ipk_gwevent_rec *r, size_t n,
			const struct ipk_gwevent_counts *c)
{
	char t[128];

	for (size_t i = 0; i < n; i++) {
		iso_time(r[i].time_ns, t, sizeof(t));
		ipk_out_printf(out, "%" PRIu64 " %s %s sa %s spi 0x%08" PRIx32 " dir %s\n",
			       r[i].seq, t, ipk_gwevent_kind_name(r[i].kind), r[i].sa, r[i].spi,
			       ipk_dir_name(r[i].dir));
	}
	ipk_out_printf(out, "events %" PRIu64 " lost %" PRIu64 " command-runs %" PRIu64
		       " command-failed %" PRIu64 " command-skipped %" PRIu64 "\n",
		       c->total, c->lost, c->runs, c->failed, c->skipped);
}

static void events_json(struct ipk_json *j, const struct ipk_gwevent_rec *r, size_t n,
			const struct ipk_gwevent_counts *c, const char *command)
{
	char t[128];

	ipk_json_obj_begin(j, NULL);
	ipk_json_arr_begin(j, "events");
	for (size_t i = 0; i < n; i++) {
		iso_time(r[i].time_ns, t, sizeof(t));
		ipk_json_obj_begin(j, NULL);
		ipk_json_u64(j, "seq", r[i].seq);
		ipk_json_str(j, "time", t);
		ipk_json_u64(j, "time_ns", r[i].time_ns);
		ipk_json_str(j, "kind", ipk_gwevent_kind_name(r[i].kind));
		ipk_json_str(j, "sa", r[i].sa);
		ipk_json_u64(j, "spi", r[i].spi);
		ipk_json_str(j, "dir", ipk_dir_name(r[i].dir));
		ipk_json_obj_end(j);
	}
	ipk_json_arr_end(j);
	ipk_json_u64(j, "total", c->total);
	ipk_json_u64(j, "lost", c->lost);
	ipk_json_str(j, "command", command);
	ipk_json_u64(j, "command_runs", c->runs);
	ipk_json_u64(j, "command_failed", c->failed);
	ipk_json_u64(j, "command_skipped", c->skipped);
	ipk_json_obj_end(j);
}

static int show_events_run(struct ipk_config_ctx *ctx, const void *arg, bool json,
			   struct ipk_outbuf *out, struct ipk_err *err)
{
	const struct show_events_arg *a = arg;
	struct ipk_gwevent_rec *recs;
	struct ipk_gwevent_counts c;
	struct ipk_gwevents *ev;
	struct ipk_json j;
	size_t n;
	int ret = 0;

	if (!ctx->gw)
		return ipk_err_set(err, -ENOENT, "show events: only ipseckd keeps events");
	ev = ipk_gateway_events(ctx->gw);
	/* Pick up what packet threads raised since the main loop last looked. */
	ipk_gwevent_process(ev);
	recs = malloc(IPK_GWEVENT_LOG_MAX * sizeof(*recs));
	if (!recs)
		return ipk_err_set(err, -ENOMEM, "show events: out of memory");
	n = ipk_gwevent_read(ev, recs, a->count ? a->count : IPK_GWEVENT_LOG_MAX);
	ipk_gwevent_counts(ev, &c);
	if (json) {
		ipk_json_init(&j, out);
		events_json(&j, recs, n, &c, ev->command);
		if (ipk_json_finish(&j))
			ret = ipk_err_set(err, -EINVAL, "show events: malformed JSON output");
	} else {
		events_text(out, recs, n, &c);
	}
	free(recs);
	return ret;
}

const struct ipk_cmd_def ipk_gwevent_show = {
	.words = { "show", "events" },
	.kws = show_events_kws,
	.arg_size = sizeof(struct show_events_arg),
	.parse = show_events_parse,
	.run = show_events_run,
};

struct event_command_arg {
	char path[PATH_MAX]; /* "" for none */
};

static const struct ipk_kw event_command_kws[] = {
	{ .name = NULL },
};

/* event-command PATH | none: one word, not a keyword and value. */
static int event_command_parse(struct ipk_cmd_parser *ps, void *arg)
{
	struct event_command_arg *c = arg;
	const struct ipk_lex_line *line = ps->line;
	const char *word;

	if (ps->pos >= line->n)
		return ipk_cmd_missing(ps, "PATH", "(an absolute path, or none)");
	word = line->word[ps->pos];
	ps->err_line = line->lineno[ps->pos];
	if (ps->pos + 1 != line->n) {
		ps->err_line = line->lineno[ps->pos + 1];
		return ipk_err_set(ps->err, -EINVAL, "event-command: one path expected, got '%s' "
				   "after it", line->word[ps->pos + 1]);
	}
	if (strcmp(word, "none") == 0)
		return 0;
	if (ipk_gwevent_check_command(word, ps->err))
		return -EINVAL;
	memcpy(c->path, word, strlen(word) + 1); /* shorter than PATH_MAX: checked */
	return 0;
}

static int event_command_check(struct ipk_cmd_batch *b, const void *arg, struct ipk_err *err)
{
	const struct event_command_arg *c = arg;

	if (!b->ctx->gw)
		return ipk_err_set(err, -EINVAL, "event-command: only ipseckd runs event commands");
	return c->path[0] ? ipk_gwevent_check_command(c->path, err) : 0;
}

static int event_command_apply(struct ipk_config_ctx *ctx, const void *arg, struct ipk_err *err)
{
	const struct event_command_arg *c = arg;

	return ipk_gwevent_set_command(ipk_gateway_events(ctx->gw), c->path, err);
}

const struct ipk_cmd_def ipk_gwevent_command_def = {
	.words = { "event-command" },
	.kws = event_command_kws,
	.arg_size = sizeof(struct event_command_arg),
	.parse = event_command_parse,
	.check = event_command_check,
	.apply = event_command_apply,
};
