/*
 * curl_tls.h - the transfer rules every HTTP client of jibe sets on a libcurl handle (the
 * Access Anywhere client, aa_http.c; the Slack sender, alert.c), so that they cannot drift
 * apart: the allowed protocols, TLS peer and host verification, the CA file, no redirects,
 * no signals, the connect timeout and jibe's User-Agent.
 *
 * The caller owns the handle; nothing is allocated. The strings must outlive the transfer.
 */
#ifndef CURL_TLS_H
#define CURL_TLS_H

#include <curl/curl.h>

struct curl_tls {
        const char *protocols;   /* "https", or "http,https" where plain HTTP is allowed */
        int insecure;            /* non-zero: TLS peer and host are not checked (warned at start) */
        const char *ca_file;     /* CA bundle to trust instead of the system's; NULL: system */
        long connect_timeout_ms; /* > 0 */
        const char *user_agent;  /* NULL: "jibe/<version>" */
};

/* Set them on h. CURLE_OK, or the first option libcurl refused. */
CURLcode curl_tls_set(CURL *h, const struct curl_tls *t);

#endif
