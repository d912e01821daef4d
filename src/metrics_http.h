/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The /metrics HTTP server: a thread of its own with one poll loop over the
 * listening socket and every client, all non-blocking, so that no client
 * (slow, idle, or never reading its answer) holds up the daemon's main loop
 * (ruleset watchdog, signals) or another client's scrape. Each connection
 * has a whole-request deadline and a whole-exchange deadline; at most
 * METRICS_HTTP_CONNS are open, and past that the one that has been sending
 * its request longest, if for METRICS_HTTP_GRACE_MS, makes room for a new
 * one (the rest wait in the listen backlog). */
#ifndef RSTWATCH_METRICS_HTTP_H
#define RSTWATCH_METRICS_HTTP_H

#include "metrics.h"

/* Well below a service's usual 1024 descriptors. */
#define METRICS_HTTP_CONNS 256
#define METRICS_HTTP_REQUEST_MAX 8192   /* request line and headers */
#define METRICS_HTTP_GRACE_MS 100       /* a request's own time before it may be evicted */
#define METRICS_HTTP_REQUEST_MS 2000    /* accept to the end of the headers */
#define METRICS_HTTP_EXCHANGE_MS 10000  /* accept to the last byte of the answer */

struct metrics_http;

/* Listen on "ADDR:PORT" ("[::1]:9100", "127.0.0.1:9100", ":9100") and serve
 * GET /metrics (render's text; anything else 404) from a new thread.
 * render runs on that thread. NULL + errno (EINVAL: a bad address). */
struct metrics_http *metrics_http_start(const char *addrport, metrics_render_cb render,
					void *arg);

/* Stop the thread, close every connection and the socket. */
void metrics_http_stop(struct metrics_http *h);

#endif
