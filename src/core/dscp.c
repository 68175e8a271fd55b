// SPDX-License-Identifier: BSD-2-Clause
/*
 * DSCP names. The code points:
 *   be, df  0              default forwarding (RFC 2474 §4.1)
 *   le      1              lower effort (RFC 8622)
 *   csN     8N, N 0..7     class selectors (RFC 2474 §4.2.2)
 *   afXY    8X + 2Y        assured forwarding, class X 1..4, drop precedence Y 1..3
 *                          (RFC 2597 §6)
 *   va      44             voice admit (RFC 5865)
 *   ef      46             expedited forwarding (RFC 3246)
 * Names are case-insensitive ("EF" as often written in RFCs); numbers are 0..63 decimal.
 */
#include "core/dscp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/compiler.h"

#define DSCP_MAX 63

static const struct {
	const char *name;
	uint8_t dscp;
} fixed_names[] = {
	{ "be", 0 }, { "df", 0 }, { "le", 1 }, { "va", 44 }, { "ef", 46 },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "0".."63": one or two decimal digits, nothing else (no sign, no spaces, no hex). */
static int parse_number(const char *text, uint8_t *dscp)
{
	size_t len = strlen(text);
	unsigned v = 0;

	if (len == 0 || len > 2)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(text[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(text[i] - '0');
	}
	if (v > DSCP_MAX)
		return -EINVAL;
	*dscp = (uint8_t)v;
	return 0;
}

/* "cs0".."cs7" and "af11".."af43". */
static int parse_class(const char *text, uint8_t *dscp)
{
	if (strncasecmp(text, "cs", 2) == 0 && strlen(text) == 3 && text[2] >= '0' &&
	    text[2] <= '7') {
		*dscp = (uint8_t)(8 * (text[2] - '0'));
		return 0;
	}
	if (strncasecmp(text, "af", 2) == 0 && strlen(text) == 4 && text[2] >= '1' &&
	    text[2] <= '4' && text[3] >= '1' && text[3] <= '3') {
		*dscp = (uint8_t)(8 * (text[2] - '0') + 2 * (text[3] - '0'));
		return 0;
	}
	return -EINVAL;
}

int ipk_dscp_parse(const char *text, uint8_t *dscp)
{
	if (!text)
		return -EINVAL;
	for (size_t i = 0; i < IPK_ARRAY_SIZE(fixed_names); i++) {
		if (strcasecmp(text, fixed_names[i].name) == 0) {
			*dscp = fixed_names[i].dscp;
			return 0;
		}
	}
	if (is_digit(text[0]))
		return parse_number(text, dscp);
	return parse_class(text, dscp);
}

const char *ipk_dscp_str(uint8_t dscp, char *buf)
{
	unsigned x = dscp / 8, y = (dscp % 8) / 2;

	if (dscp == 0)
		strcpy(buf, "be");
	else if (dscp == 1)
		strcpy(buf, "le");
	else if (dscp == 44)
		strcpy(buf, "va");
	else if (dscp == 46)
		strcpy(buf, "ef");
	else if (dscp <= DSCP_MAX && dscp % 8 == 0)
		snprintf(buf, 8, "cs%u", x);
	else if (x >= 1 && x <= 4 && dscp % 2 == 0 && y >= 1 && y <= 3)
		snprintf(buf, 8, "af%u%u", x, y);
	else
		snprintf(buf, 8, "%u", dscp);
	return buf;
}
