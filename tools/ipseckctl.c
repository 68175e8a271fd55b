// SPDX-License-Identifier: BSD-2-Clause
/*
 * ipseckctl: sends one command or one batch to ipseckd over its control socket and prints
 * the answer.
 *
 *   ipseckctl [-s SOCKET] [-j] COMMAND WORDS...   the words, joined, as one command
 *   ipseckctl [-s SOCKET] [-j] -f FILE|-          a whole batch (all or nothing)
 *
 * Exit status: 0 when the daemon answered OK (its output on stdout), 1 when it answered
 * ERR (the message on stderr), 2 when it could not be asked (usage, unreadable file,
 * no daemon, broken connection).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/cmd.h"
#include "ctl/socket.h"

#define EXIT_ERR_REPLY 1
#define EXIT_NO_ANSWER 2
#define REPLY_WAIT_MS 60000 /* between reads: a large batch takes the daemon a while */

/* The commands come from the language's own table, so the list cannot go stale. */
static void usage(FILE *f)
{
	const struct ipk_cmd_def *const *defs;
	char name[64];
	size_t n;

	fprintf(f, "usage: ipseckctl [-s SOCKET] [-j] COMMAND WORDS...\n"
		   "       ipseckctl [-s SOCKET] [-j] -f FILE|-\n"
		   "  -s SOCKET  control socket (default %s)\n"
		   "  -j         JSON output\n"
		   "  -f FILE    send FILE (- for standard input) as one batch\n"
		   "commands:",
		IPK_CTLSOCK_PATH);
	defs = ipk_config_commands(&n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s %s", i ? "," : "", ipk_cmd_name(defs[i], name, sizeof(name)));
	fprintf(f, "\n");
}

/* The words as one line; a newline inside one would start a second command. */
static char *join_words(int n, char **words)
{
	size_t len = 1;
	char *line;

	for (int i = 0; i < n; i++) {
		if (strchr(words[i], '\n')) {
			fprintf(stderr, "ipseckctl: a word holds a newline; use -f for batches\n");
			return NULL;
		}
		len += strlen(words[i]) + 1;
	}
	line = calloc(1, len);
	if (!line) {
		fprintf(stderr, "ipseckctl: out of memory\n");
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(line, " ");
		strcat(line, words[i]);
	}
	return line;
}

/* Reads all of @path ("-": standard input), at most IPK_CTLSOCK_REQUEST_MAX bytes. */
static char *read_batch(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *buf;

	if (!f) {
		fprintf(stderr, "ipseckctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	/* Unbuffered: stdio's buffer would keep a copy of the keys, freed without a wipe. */
	setvbuf(f, NULL, _IONBF, 0);
	buf = malloc(IPK_CTLSOCK_REQUEST_MAX + 1u);
	if (buf) {
		*len = fread(buf, 1, IPK_CTLSOCK_REQUEST_MAX + 1u, f);
		if (ferror(f) || *len > IPK_CTLSOCK_REQUEST_MAX || memchr(buf, '\0', *len)) {
			fprintf(stderr, "ipseckctl: %s: %s\n", path,
				ferror(f) ? "read error" :
				*len > IPK_CTLSOCK_REQUEST_MAX ? "too large for one request" :
				"NUL byte in a text file");
			explicit_bzero(buf, IPK_CTLSOCK_REQUEST_MAX + 1u);
			free(buf);
			buf = NULL;
		}
	} else {
		fprintf(stderr, "ipseckctl: out of memory\n");
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

static int ask(const char *path, bool json, const char *text, size_t len)
{
	struct ipk_ctlmsg_hdr hdr;
	struct ipk_err err;
	char *reply = NULL;
	size_t reply_len;
	int fd, ret, sent;

	ret = ipk_ctlsock_connect(path, &fd, &err);
	if (ret) {
		fprintf(stderr, "ipseckctl: %s (is ipseckd running?)\n", err.msg);
		return EXIT_NO_ANSWER;
	}
	sent = ipk_ctlsock_send(fd, IPK_CTLMSG_EXEC, json ? IPK_CTLMSG_JSON : 0, text, len);
	/* Even when sending failed: a server that refuses a peer says why, then hangs up,
	 * possibly before the request is out. */
	ret = ipk_ctlsock_recv(fd, REPLY_WAIT_MS, &hdr, &reply, &reply_len,
			       IPK_CTLSOCK_REPLY_MAX);
	close(fd);
	if (ret) {
		ret = sent ? sent : ret;
		fprintf(stderr, "ipseckctl: %s: no answer: %s\n", path,
			ret == -EPIPE ? "connection closed" : strerror(-ret));
		return EXIT_NO_ANSWER;
	}
	switch (hdr.type) {
	case IPK_CTLMSG_OK:
		fwrite(reply, 1, reply_len, stdout);
		ret = fflush(stdout) == 0 ? 0 : EXIT_NO_ANSWER;
		break;
	case IPK_CTLMSG_ERR:
		fprintf(stderr, "%s\n", reply);
		ret = EXIT_ERR_REPLY;
		break;
	default:
		fprintf(stderr, "ipseckctl: %s: unexpected reply type %u\n", path, hdr.type);
		ret = EXIT_NO_ANSWER;
		break;
	}
	explicit_bzero(reply, reply_len); /* `show sa keys` */
	free(reply);
	return ret;
}

int main(int argc, char **argv)
{
	const char *path = IPK_CTLSOCK_PATH, *file = NULL;
	bool json = false;
	char *text;
	size_t len;
	int c, ret;

	while ((c = getopt(argc, argv, "+s:jf:h")) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_NO_ANSWER;
		}
	}
	if ((file != NULL) == (optind < argc)) {
		usage(stderr);
		return EXIT_NO_ANSWER;
	}
	text = file ? read_batch(file, &len) : join_words(argc - optind, argv + optind);
	if (!text)
		return EXIT_NO_ANSWER;
	if (!file)
		len = strlen(text);
	ret = ask(path, json, text, len);
	explicit_bzero(text, len);
	free(text);
	return ret;
}
