/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A configuration file that holds keys (`key`, `enc-key`, `auth-key`) must be readable by
 * its owner only. Like ssh with a private key, ipseck warns when such a file can be read
 * or written by its group or by others: whoever reads it can decrypt the traffic, whoever
 * writes it can replace the keys. It does not refuse the file (the operator may have
 * reasons, e.g. a read-only image), it says what to do: `chmod 600 FILE`.
 *
 * Threads: control plane (start-up).
 */
#ifndef IPK_CTL_KEYFILE_H
#define IPK_CTL_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* True when @text names key material as a word (a comment does not count) and @mode lets
 * group or others read or write it. Then @msg (of @size bytes) holds the warning, which
 * names @path and the mode in octal. */
bool ipk_keyfile_exposed(const char *path, mode_t mode, const char *text, char *msg,
			 size_t size);
/* Looks up @path's mode and logs the warning of ipk_keyfile_exposed() when it applies.
 * @text is the file's contents, already read by the caller. */
void ipk_keyfile_warn(const char *path, const char *text);

#endif
