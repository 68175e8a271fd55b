// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipseckd: the gateway daemon (docs/man/ipseckd.8).
 *
 *   ipseckd -f gateway.conf [-F] [-v] [-s SOCKET] [-p PIDFILE] [-e COMMAND]
 *
 * Builds the gateway from the file as one all-or-nothing batch (gw/gwctl.h), starts its I/O
 * threads, serves the control socket on the main thread, and on SIGINT/SIGTERM stops the
 * receive threads, drains the engine, closes the ports and destroys the SAD (keys wiped).
 * Nothing reloads implicitly: SIGHUP is logged and ignored; changes go through ipseckctl.
 *
 * Without -F it forks before any thread exists (threads do not survive fork); the parent
 * waits until the child is ready or failed, so that start-up errors reach the terminal
 * and the exit status, then the child writes its pidfile and logs to syslog.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "ctl/config.h"
#include "ctl/show.h"
#include "ctl/socket.h"
#include "gw/gateway.h"
#include "gw/gwctl.h"
#include "gw/gwevent.h"
#include "gw/gwstats.h"

#define PIDFILE_DEFAULT "/run/ipseck/ipseckd.pid"

struct options {
	const char *config;
	const char *socket;
	const char *pidfile;
	const char *event_command;
	bool foreground;
	int verbose;
};

struct daemon {
	struct options opt;
	char socket_path[PATH_MAX];
	char config_path[PATH_MAX];
	char pid_path[PATH_MAX];
	int ready_fd;  /* write end of the pipe the parent waits on; -1 in the foreground */
	int sig_fd;
	struct ipk_gateway *gw;
	struct ipk_ctlsock *ctl;
	struct ipk_stats_provider ctl_stats;
	struct ipk_gwstats gw_stats;
	bool pidfile_written;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ipseckd -f FILE [-F] [-v] [-s SOCKET] [-p PIDFILE] [-e COMMAND]\n"
		   "  -f FILE     configuration (ipseck.conf(5)), applied as one batch\n"
		   "  -F          stay in the foreground, log to stderr\n"
		   "  -v          more logging (debug messages)\n"
		   "  -s SOCKET   control socket (default %s)\n"
		   "  -p PIDFILE  pidfile when daemonized (default %s)\n"
		   "  -e COMMAND  run COMMAND (absolute path) for every SA event\n"
		   "              (ipseck.conf(5) event-command; this wins over the file)\n",
		IPK_CTLSOCK_PATH, PIDFILE_DEFAULT);
}

static int parse_options(int argc, char **argv, struct options *opt)
{
	int c;

	*opt = (struct options){ .socket = IPK_CTLSOCK_PATH, .pidfile = PIDFILE_DEFAULT };
	while ((c = getopt(argc, argv, "f:Fvs:p:e:h")) != -1) {
		switch (c) {
		case 'f':
			opt->config = optarg;
			break;
		case 'F':
			opt->foreground = true;
			break;
		case 'v':
			opt->verbose++;
			break;
		case 's':
			opt->socket = optarg;
			break;
		case 'p':
			opt->pidfile = optarg;
			break;
		case 'e':
			opt->event_command = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!opt->config || optind != argc) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* @path made absolute, since the daemon changes to "/". */
static int absolute(const char *path, char *out, size_t size)
{
	char cwd[PATH_MAX];

	if (path[0] == '/')
		return snprintf(out, size, "%s", path) < (int)size ? 0 : -ENAMETOOLONG;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	return snprintf(out, size, "%s/%s", cwd, path) < (int)size ? 0 : -ENAMETOOLONG;
}

/* Creates the directory holding @path (mode 0700) when it is missing: /run/ipseck is
 * gone after every boot. One level only; a missing parent is the operator's to make. */
static void make_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		log_warn("ipseckd: mkdir %s", dir);
}

/* Forks; the parent exits with the status the child reports through the pipe (0 ready, 1
 * failed, or 1 when the child dies before saying). */
static int detach_begin(struct daemon *d)
{
	int fds[2];
	pid_t pid;
	char status = 1;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	d->ready_fd = fds[1];
	if (setsid() < 0)
		return -errno;
	return 0;
}

static int write_pidfile(struct daemon *d)
{
	char buf[32];
	int fd, n;

	make_parent_dir(d->pid_path);
	fd = open(d->pid_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	close(fd);
	d->pidfile_written = true;
	return 0;
}

/* The child is ready: pidfile, stdio to /dev/null, logs to syslog, parent released. */
static int detach_finish(struct daemon *d)
{
	int ret = write_pidfile(d), null;
	char ok = 0;

	if (ret) {
		log_warnx("ipseckd: cannot write %s: %s", d->pid_path, strerror(-ret));
		return ret;
	}
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	ipk_log_to_syslog("ipseckd");
	if (write(d->ready_fd, &ok, 1) != 1)
		log_warnx("ipseckd: the parent process is gone");
	close(d->ready_fd);
	d->ready_fd = -1;
	return 0;
}

/* Blocks the signals the main loop reads from a signalfd; every thread created afterwards
 * inherits the mask, so they are delivered to the main thread's descriptor only. */
static int signals_init(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -EINVAL;
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sig_fd < 0 ? -errno : 0;
}

static int control_open(struct daemon *d)
{
	struct ipk_err err;
	int ret;

	make_parent_dir(d->socket_path);
	ret = ipk_ctlsock_open(d->socket_path, &d->ctl, &err);
	if (ret) {
		log_warnx("ipseckd: %s", err.msg);
		return ret;
	}
	d->ctl_stats = (struct ipk_stats_provider){ .name = "ctlsock",
						    .emit = ipk_ctlsock_emit_stats,
						    .arg = d->ctl };
	ret = ipk_stats_register(&d->ctl_stats);
	if (!ret)
		ret = ipk_gwstats_register(&d->gw_stats, d->gw);
	if (ret)
		log_warnx("ipseckd: cannot register the stats sections: %s", strerror(-ret));
	return ret;
}

static int start(struct daemon *d)
{
	struct ipk_err err;
	int ret;

	ret = ipk_gwctl_load(d->config_path, &d->gw, &err);
	if (ret) {
		log_warnx("%s", err.msg);
		return ret;
	}
	if (d->opt.event_command) {
		ret = ipk_gwevent_set_command(ipk_gateway_events(d->gw), d->opt.event_command,
					      &err);
		if (ret) {
			log_warnx("ipseckd: -e: %s", err.msg);
			return ret;
		}
	}
	ret = control_open(d);
	if (ret)
		return ret;
	ret = ipk_gateway_start(d->gw, &err);
	if (ret) {
		log_warnx("%s", err.msg);
		return ret;
	}
	log_info("ipseckd: running with %u interfaces, control socket %s",
		 ipk_gateway_n_ports(d->gw), d->socket_path);
	return 0;
}

/* Reads pending signals; returns true when one asks to stop. */
static bool stop_requested(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("ipseckd: SIGHUP ignored: nothing reloads implicitly; change the "
				 "running gateway with ipseckctl");
			continue;
		}
		log_info("ipseckd: signal %u, shutting down", si.ssi_signo);
		return true;
	}
	return false;
}

/* The sooner of two poll timeouts, -1 meaning none. */
static int sooner(int a_ms, int b_ms)
{
	if (a_ms < 0)
		return b_ms;
	return b_ms < 0 || a_ms < b_ms ? a_ms : b_ms;
}

/* SA events raised by the packet threads (gw/gwevent.h), and the once-a-second check of
 * idle SAs' seconds lifetimes. */
static void serve_events(struct daemon *d)
{
	struct ipk_config_ctx ctx;

	ipk_gateway_config_ctx(d->gw, &ctx);
	ipk_gwevent_tick(ipk_gateway_events(d->gw), ctx.sad);
}

static int serve(struct daemon *d)
{
	struct ipk_gwevents *ev = ipk_gateway_events(d->gw);
	struct pollfd pfd[3] = {
		{ .fd = d->sig_fd, .events = POLLIN },
		{ .fd = ipk_ctlsock_fd(d->ctl), .events = POLLIN },
		{ .fd = ipk_gwevent_fd(ev), .events = POLLIN },
	};

	for (;;) {
		int wait_ms = sooner(ipk_ctlsock_next_timeout(d->ctl),
				     ipk_gwevent_next_timeout(ev));

		serve_events(d);
		if (poll(pfd, 3, wait_ms) < 0 && errno != EINTR) {
			log_warn("ipseckd: poll");
			return -EIO;
		}
		if ((pfd[0].revents & POLLIN) && stop_requested(d))
			return 0;
		if (ipk_ctlsock_handle(d->ctl, 0, ipk_gwctl_handler, d->gw) < 0) {
			log_warnx("ipseckd: the control socket failed");
			return -EIO;
		}
	}
}

static void shutdown_all(struct daemon *d)
{
	ipk_gwstats_unregister(&d->gw_stats);
	if (d->ctl) {
		ipk_stats_unregister(&d->ctl_stats);
		ipk_ctlsock_close(d->ctl);
	}
	/* Receive threads stop, the engine drains, ports close, keys are wiped. */
	ipk_gateway_destroy(d->gw);
	if (d->pidfile_written)
		unlink(d->pid_path);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	log_info("ipseckd: stopped");
}

int main(int argc, char **argv)
{
	struct daemon d = { .ready_fd = -1, .sig_fd = -1 };
	int ret;

	if (parse_options(argc, argv, &d.opt))
		return 2;
	ipk_log_set_level(d.opt.verbose ? IPK_LOG_DEBUG : IPK_LOG_INFO);
	if (absolute(d.opt.config, d.config_path, sizeof(d.config_path)) ||
	    absolute(d.opt.socket, d.socket_path, sizeof(d.socket_path)) ||
	    absolute(d.opt.pidfile, d.pid_path, sizeof(d.pid_path)))
		fatalx("ipseckd: path too long");
	if (!d.opt.foreground && detach_begin(&d))
		fatal("ipseckd: cannot daemonize");
	if (!d.opt.foreground && chdir("/") < 0)
		fatal("ipseckd: chdir /");
	ret = signals_init(&d);
	if (!ret)
		ret = start(&d);
	if (!ret && !d.opt.foreground)
		ret = detach_finish(&d);
	if (!ret)
		ret = serve(&d);
	shutdown_all(&d);
	return ret ? 1 : 0;
}
