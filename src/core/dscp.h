/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DSCP code points by name (RFC 2474, 2597, 3246, 4594): "ef" = 46, "af11".."af43",
 * "cs0".."cs7", "be" = 0, or a number 0..63. Used by the SPD selectors, the DSCP
 * classifier and the markers. Pure functions.
 */
#ifndef IPK_CORE_DSCP_H
#define IPK_CORE_DSCP_H

#include <stdint.h>

/* Returns 0 and the code point, or -EINVAL. */
int ipk_dscp_parse(const char *text, uint8_t *dscp);
/* "ef", "af21", "cs6", "be", or the number as text; @buf holds at least 8 bytes. */
const char *ipk_dscp_str(uint8_t dscp, char *buf);

#endif
