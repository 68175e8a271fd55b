/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The gateway's event log: what a keying daemon or an operator must learn about SAs.
 *
 *   kind            raised by                                        thread
 *   soft-expired    a soft lifetime crossed (sa/sa.h), rekey now      packet path or tick
 *   hard-expired    a hard lifetime crossed: the SA is dead           packet path or tick
 *   seq-exhausted   the outbound sequence number would wrap           packet path
 *                   (RFC 4303 §3.3.3: a new SA is needed)
 *   sa-added        an SA appeared in the SAD (a batch)               control
 *   sa-deleted      an SA left the SAD (a batch)                      control
 *
 * Packet threads never log, fork or allocate: ipk_gwevent_sa_event() (the SAD's event hook,
 * sa/sad.h) copies the event into a fixed pending ring under a short lock and rings an
 * eventfd. The control thread (ipseckd's main loop) wakes on that descriptor and calls
 * ipk_gwevent_process(), which moves the events into a bounded log of the
 * IPK_GWEVENT_LOG_MAX most recent (`ipseckctl show events`), logs each at notice level and
 * runs the event command, if one is set (`event-command PATH` or `ipseckd -e PATH`).
 *
 * The event command is executed directly (posix_spawn, no shell) with
 *   argv  PATH KIND SA SPI DIR          SPI as 0x%08x, DIR in|out
 *   env   IPSECK_EVENT IPSECK_SA IPSECK_SPI IPSECK_DIR IPSECK_TIME (Unix seconds)
 *         IPSECK_SEQ (the event's number) and PATH=/usr/sbin:/usr/bin:/sbin:/bin
 * and no other environment, signals at their defaults, unblocked. At most
 * IPK_GWEVENT_CHILDREN_MAX commands run at once; an event beyond that is logged but runs
 * no command (counted as "skipped"). Children are reaped by ipk_gwevent_process(); a
 * non-zero exit status is logged as a warning.
 *
 * Seconds lifetimes are only checked when a packet uses the SA (sa/sa.h), so an idle SA
 * would never expire; ipk_gwevent_tick(), called about once a second by the control
 * thread, checks every SA so that idle SAs raise their events on time too.
 *
 * Threads: ipk_gwevent_sa_event() from any thread; everything else from the control
 * thread only.
 */
#ifndef IPK_GW_GWEVENT_H
#define IPK_GW_GWEVENT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "sa/sa.h"

#define IPK_GWEVENT_LOG_MAX 256      /* most recent events kept for `show events` */
#define IPK_GWEVENT_PENDING_MAX 1024 /* raised by packet threads, not yet processed */
#define IPK_GWEVENT_CHILDREN_MAX 8   /* event commands running at once */
#define IPK_GWEVENT_TICK_MS 1000     /* seconds lifetimes of idle SAs */

/* X(enum suffix, name) */
#define IPK_GWEVENT_KINDS(X)                  \
	X(SOFT_EXPIRED, "soft-expired")       \
	X(HARD_EXPIRED, "hard-expired")       \
	X(SEQ_EXHAUSTED, "seq-exhausted")     \
	X(SA_ADDED, "sa-added")               \
	X(SA_DELETED, "sa-deleted")

enum ipk_gwevent_kind {
#define IPK_GWEVENT_ENUM(id, name) IPK_GWEVENT_##id,
	IPK_GWEVENT_KINDS(IPK_GWEVENT_ENUM)
#undef IPK_GWEVENT_ENUM
	IPK_GWEVENT_KIND_COUNT
};

struct ipk_gwevent_rec {
	uint64_t seq;     /* 1, 2, ... in the order processed */
	uint64_t time_ns; /* CLOCK_REALTIME when raised */
	char sa[IPK_NAME_MAX];
	uint32_t spi;
	uint8_t dir;      /* enum ipk_dir */
	uint8_t kind;     /* enum ipk_gwevent_kind */
};

/* What `show events` reports besides the records. */
struct ipk_gwevent_counts {
	uint64_t total;   /* events processed */
	uint64_t lost;    /* raised while the pending ring was full */
	uint64_t runs;    /* event commands started */
	uint64_t failed;  /* exited non-zero, killed, or could not start */
	uint64_t skipped; /* not started: IPK_GWEVENT_CHILDREN_MAX running */
	uint64_t running; /* started, not reaped yet */
};

struct ipk_gwevents;
struct ipk_sad;

/* Creates an empty log with no command. Returns 0, -ENOMEM or the eventfd's errno. */
int ipk_gwevent_create(struct ipk_gwevents **out);
/* Frees the log; commands still running are left to finish (reaped by init). NULL is
 * fine. */
void ipk_gwevent_destroy(struct ipk_gwevents *ev);

/* The SAD's event hook (ipk_sad_set_event, with @ev the struct ipk_gwevents *): soft
 * lifetime (@hard false), hard lifetime (@hard true, SA dead) or sequence numbers
 * exhausted (@hard true, SA not dead, sa->seq_exhausted set). Any thread; never blocks
 * for long, never allocates. */
void ipk_gwevent_sa_event(struct ipk_sa *sa, bool hard, void *ev);

/* Descriptor that becomes readable when events are pending (poll for POLLIN). */
int ipk_gwevent_fd(const struct ipk_gwevents *ev);
/* Logs and records pending events, starts their commands, reaps finished commands. */
void ipk_gwevent_process(struct ipk_gwevents *ev);
/* Milliseconds until ipk_gwevent_process() or ipk_gwevent_tick() should run again
 * (children to reap, the next tick), for poll(). */
int ipk_gwevent_next_timeout(const struct ipk_gwevents *ev);
/* Checks the seconds lifetimes of every SA of @sad when a tick is due (see above), then
 * processes what that raised. */
void ipk_gwevent_tick(struct ipk_gwevents *ev, struct ipk_sad *sad);
/* Records sa-added and sa-deleted for the difference between @sad and what the previous
 * call saw (call after every batch). Returns 0 or -ENOMEM (the SAD is seen again at the
 * next call). */
int ipk_gwevent_sync(struct ipk_gwevents *ev, const struct ipk_sad *sad);

/* Checks that @path is an absolute path of an executable regular file. Returns 0 or
 * -EINVAL with a message. */
int ipk_gwevent_check_command(const char *path, struct ipk_err *err);
/* Sets the event command (NULL or "" for none). Returns 0 or -EINVAL (see above). */
int ipk_gwevent_set_command(struct ipk_gwevents *ev, const char *path, struct ipk_err *err);
/* The event command, or "" when none is set. */
const char *ipk_gwevent_command(const struct ipk_gwevents *ev);

/* Copies the @max most recent records into @out, oldest first; returns how many. */
size_t ipk_gwevent_read(const struct ipk_gwevents *ev, struct ipk_gwevent_rec *out,
			size_t max);
void ipk_gwevent_counts(const struct ipk_gwevents *ev, struct ipk_gwevent_counts *c);
/* Rows of the command table (ctl/config.c):
 *   show events [count N]      the N most recent events (text, or JSON with -j)
 *   event-command PATH|none    the command run for every event (absolute path) */
struct ipk_cmd_def;
extern const struct ipk_cmd_def ipk_gwevent_show;
extern const struct ipk_cmd_def ipk_gwevent_command_def;

/* "soft-expired" for IPK_GWEVENT_SOFT_EXPIRED; "?" out of range. */
const char *ipk_gwevent_kind_name(enum ipk_gwevent_kind kind);

#endif
