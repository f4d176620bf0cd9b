/*
 * err.c - names of jibe's error codes and the errstr helper.
 */
#include <stdarg.h>
#include <stdio.h>

#include "jb.h"

const char *jb_strerror(int rc)
{
        switch (rc) {
        case JB_OK:
                return "ok";
        case JB_EINPUT:
                return "bad input";
        case JB_ELIMIT:
                return "over limit";
        case JB_ETRANSIENT:
                return "temporary failure";
        case JB_EFATAL:
                return "fatal";
        case JB_ENOMEM:
                return "out of memory";
        case JB_EIO:
                return "i/o error";
        case JB_ENOTFOUND:
                return "not found";
        case JB_ENOTSUP:
                return "not supported";
        default:
                return "unknown error";
        }
}

int jb_seterr(int rc, char *errstr, size_t errsz, const char *fmt, ...)
{
        va_list ap;

        if (errstr && errsz) {
                va_start(ap, fmt);
                vsnprintf(errstr, errsz, fmt, ap);
                va_end(ap);
        }
        return rc;
}
