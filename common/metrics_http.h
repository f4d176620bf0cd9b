/*
 * metrics_http.h - the metrics endpoint of a long-running jibe process (metrics.listen):
 * GET /metrics (metrics.h's exposition, text format 0.0.4), GET /healthz and GET /readyz
 * (200 or 503 and a one-line reason). Any other path is 404, any other method 405.
 *
 * Owns: the listening socket and libmicrohttpd's one internal thread (select/poll loop, no
 * thread per connection), the limits that keep a misbehaving client from hurting the process
 * (METRICS_HTTP_CONNECTIONS at once, METRICS_HTTP_PER_IP per address, an idle connection is
 * closed after METRICS_HTTP_TIMEOUT_S, a request's headers get METRICS_HTTP_MEMORY bytes).
 * Does not: collect anything (metrics.c) or log (the caller does, with errstr).
 * Ownership: metrics_http_start() returns a server the caller ends with metrics_http_stop()
 * (NULL allowed); listen is copied.
 */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include <stddef.h>

#define METRICS_HTTP_CONNECTIONS 16
#define METRICS_HTTP_PER_IP 8
#define METRICS_HTTP_TIMEOUT_S 10
#define METRICS_HTTP_MEMORY (32 * 1024)
#define METRICS_HTTP_BODY_MAX (8 * 1024 * 1024)

struct metrics_http;

/* Split "host:port" ("[v6]:port"; an empty host: every address) and check it. JB_OK or
 * JB_EINPUT with errstr naming what is wrong. host gets the host without brackets. */
int metrics_http_parse_listen(const char *listen, char *host, size_t hostsz, unsigned *port,
                              char *errstr, size_t errsz);
/* Listen on listen and serve. JB_OK with *out, JB_EINPUT (unparseable address) or JB_EIO
 * (cannot bind: in use, not permitted; errstr says which). Also turns recording on. */
int metrics_http_start(const char *listen, struct metrics_http **out, char *errstr, size_t errsz);
/* The port it listens on (useful with port 0). */
unsigned metrics_http_port(const struct metrics_http *h);
/* Stop serving, close the socket, join the thread. */
void metrics_http_stop(struct metrics_http *h);

#endif
