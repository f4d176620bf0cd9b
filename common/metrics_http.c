/*
 * metrics_http.c - libmicrohttpd serving metrics.h (see metrics_http.h).
 *
 * The socket is bound here, not by libmicrohttpd, so that an address in use or not permitted
 * is reported with its errno. One internal polling thread answers every connection: a scrape
 * renders into a buffer that libmicrohttpd frees after sending.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <microhttpd.h>

#include "jb.h"
#include "metrics.h"
#include "metrics_http.h"

struct metrics_http {
        struct MHD_Daemon *d;
        int fd;
        unsigned port;
};

int metrics_http_parse_listen(const char *listen, char *host, size_t hostsz, unsigned *port,
                              char *errstr, size_t errsz)
{
        const char *colon, *h = listen, *end;
        char *e;
        long p;
        size_t n;

        if (!listen || !*listen)
                return jb_seterr(JB_EINPUT, errstr, errsz, "metrics.listen is empty: write host:port");
        if (*listen == '[') {
                end = strchr(listen, ']');
                if (!end || end[1] != ':')
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "metrics.listen \"%s\": write an IPv6 address as [addr]:port",
                                         listen);
                h = listen + 1;
                n = (size_t)(end - h);
                colon = end + 1;
        } else {
                colon = strrchr(listen, ':');
                if (!colon)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "metrics.listen \"%s\" has no port: write host:port, e.g. "
                                         "127.0.0.1:9464",
                                         listen);
                n = (size_t)(colon - listen);
                if (memchr(listen, ':', n))
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "metrics.listen \"%s\": write an IPv6 address as [addr]:port",
                                         listen);
        }
        errno = 0;
        p = strtol(colon + 1, &e, 10);
        if (colon[1] == '\0' || *e || errno || p < 0 || p > 65535)
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "metrics.listen \"%s\": the port must be a number 0..65535", listen);
        if (n >= hostsz)
                return jb_seterr(JB_EINPUT, errstr, errsz, "metrics.listen \"%s\": the host is too long",
                                 listen);
        memcpy(host, h, n);
        host[n] = '\0';
        *port = (unsigned)p;
        return JB_OK;
}

static int bind_listen(const char *addr, int *fd_out, char *errstr, size_t errsz)
{
        struct addrinfo hints, *res = NULL, *ai;
        char host[256], ports[16];
        unsigned port;
        int fd = -1, rc, one = 1, err = 0;

        rc = metrics_http_parse_listen(addr, host, sizeof(host), &port, errstr, errsz);
        if (rc)
                return rc;
        snprintf(ports, sizeof(ports), "%u", port);
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        rc = getaddrinfo(*host ? host : NULL, ports, &hints, &res);
        if (rc)
                return jb_seterr(JB_EINPUT, errstr, errsz, "metrics.listen \"%s\": %s", addr,
                                 gai_strerror(rc));
        for (ai = res; ai; ai = ai->ai_next) {
                fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
                if (fd < 0) {
                        err = errno;
                        continue;
                }
                (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
                if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
                        break;
                err = errno;
                close(fd);
                fd = -1;
        }
        freeaddrinfo(res);
        if (fd < 0)
                return jb_seterr(JB_EIO, errstr, errsz, "cannot listen on metrics.listen \"%s\": %s%s",
                                 addr, strerror(err),
                                 err == EADDRINUSE ? " (another process uses this port: pick another)"
                                                   : "");
        *fd_out = fd;
        return JB_OK;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body,
                             size_t len)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        enum MHD_Result ret;

        if (!r) {
                free(body);
                return MHD_NO;
        }
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
                (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *line)
{
        size_t n = strlen(line);
        char *p = malloc(n + 2);

        if (!p)
                return MHD_NO;
        memcpy(p, line, n);
        p[n] = '\n';
        p[n + 1] = '\0';
        return reply(c, status, "text/plain; charset=utf-8", p, n + 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **ctx)
{
        char reason[512];
        struct buf b;

        (void)cls;
        (void)version;
        (void)upload;
        (void)upload_size;
        (void)ctx;
        /* Answered on the first call: none of these reads a body (one sent is not read). */
        if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
                return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET is served here");
        if (!strcmp(url, "/metrics")) {
                buf_init(&b, METRICS_HTTP_BODY_MAX);
                if (metrics_render(&b) != JB_OK) {
                        buf_clear(&b);
                        return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                          "metrics could not be rendered");
                }
                if (!b.p && buf_puts(&b, "") != JB_OK)
                        return MHD_NO;
                {
                        size_t len = b.len;

                        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                     buf_take(&b), len);
                }
        }
        if (!strcmp(url, "/healthz"))
                return metrics_alive(reason, sizeof(reason))
                               ? reply_text(c, MHD_HTTP_OK, reason)
                               : reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, reason);
        if (!strcmp(url, "/readyz"))
                return metrics_ready(reason, sizeof(reason))
                               ? reply_text(c, MHD_HTTP_OK, reason)
                               : reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, reason);
        return reply_text(c, MHD_HTTP_NOT_FOUND,
                          "not found: jibe serves /metrics, /healthz and /readyz");
}

/* Silences libmicrohttpd's own messages (a client's bad request is not jibe's news). */
static void mhd_quiet(void *cls, const char *fmt, va_list ap)
{
        (void)cls;
        (void)fmt;
        (void)ap;
}

int metrics_http_start(const char *listen, struct metrics_http **out, char *errstr, size_t errsz)
{
        struct metrics_http *h;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = -1, rc;

        *out = NULL;
        rc = bind_listen(listen, &fd, errstr, errsz);
        if (rc)
                return rc;
        h = calloc(1, sizeof(*h));
        if (!h) {
                close(fd);
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        }
        h->fd = fd;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
                h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                         : ((struct sockaddr_in *)&ss)->sin_port);
        metrics_enable();
        h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG, 0,
                                NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_quiet, NULL, MHD_OPTION_CONNECTION_LIMIT,
                                (unsigned)METRICS_HTTP_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                (unsigned)METRICS_HTTP_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
                                (unsigned)METRICS_HTTP_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                (size_t)METRICS_HTTP_MEMORY, MHD_OPTION_END);
        if (!h->d) {
                close(fd);
                free(h);
                return jb_seterr(JB_EIO, errstr, errsz,
                                 "cannot serve metrics on \"%s\": libmicrohttpd did not start", listen);
        }
        *out = h;
        return JB_OK;
}

unsigned metrics_http_port(const struct metrics_http *h)
{
        return h ? h->port : 0;
}

void metrics_http_stop(struct metrics_http *h)
{
        if (!h)
                return;
        MHD_stop_daemon(h->d); /* closes the listening socket too */
        free(h);
}
