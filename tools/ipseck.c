// SPDX-License-Identifier: BSD-2-Clause
/* `ipseck SUBCOMMAND ...`: the offline and experiment front end of ipseck. */
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "pcap", ipseck_cmd_pcap, "run a capture through SPD/SAD/ESP (offline mode)" },
	{ "demo", ipseck_cmd_demo, "the paper's Tables I and II in an in-process testbed" },
	{ "gen", ipseck_cmd_gen, "traffic generator: UDP in ESP (or plain) over a raw socket" },
	{ "probe", ipseck_cmd_probe, "ICMP probes, plain or in ESP: RTT, loss, per-probe series" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ipseck COMMAND [ARGS]\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "ipseck: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
