/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process_* metrics Prometheus client libraries export for every
 * process (client_golang's process collector): CPU time, memory, file
 * descriptors, start time, read from /proc/self on each scrape. */
#ifndef RSTWATCH_PROCESS_METRICS_H
#define RSTWATCH_PROCESS_METRICS_H

#include <stdio.h>

/* Writes the families it could read; one it cannot (no /proc) is left out,
 * as the client libraries do. */
void process_metrics_render(FILE *out);

#endif
