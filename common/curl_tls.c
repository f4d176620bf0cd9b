/* curl_tls.c - the transfer rules every HTTP client of jibe sets on a libcurl handle. */
#include "curl_tls.h"
#include "jb.h"

CURLcode curl_tls_set(CURL *h, const struct curl_tls *t)
{
        CURLcode cc = CURLE_OK;

#define TLS_SET(opt, val)                                                                               \
        do {                                                                                            \
                if (cc == CURLE_OK)                                                                     \
                        cc = curl_easy_setopt(h, opt, val);                                             \
        } while (0)
        TLS_SET(CURLOPT_NOSIGNAL, 1L);
        TLS_SET(CURLOPT_PROTOCOLS_STR, t->protocols);
        TLS_SET(CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
        TLS_SET(CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
        if (t->ca_file)
                TLS_SET(CURLOPT_CAINFO, t->ca_file);
        TLS_SET(CURLOPT_FOLLOWLOCATION, 0L);
        TLS_SET(CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
        TLS_SET(CURLOPT_USERAGENT, t->user_agent ? t->user_agent : "jibe/" JB_VERSION);
#undef TLS_SET
        return cc;
}
