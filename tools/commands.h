/* SPDX-License-Identifier: BSD-2-Clause */
/* Subcommands of the `ipseck` program, one file each. Each returns the exit status. */
#ifndef IPK_TOOLS_COMMANDS_H
#define IPK_TOOLS_COMMANDS_H

int ipseck_cmd_pcap(int argc, char **argv);
int ipseck_cmd_demo(int argc, char **argv);
int ipseck_cmd_gen(int argc, char **argv);
int ipseck_cmd_probe(int argc, char **argv);

#endif
