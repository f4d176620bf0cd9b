/*
 * fuzz_aa_answer.c - the client's reading of Access Anywhere answers (aa.c, through
 * aa_answer_probe()): status and error mapping, the one-element-list shapes, items, tasks,
 * numbers and times, the uploader's XML.
 *
 * Input: byte 0 = mode (RPC, login, download, uploader), byte 1 = HTTP status (from a table
 * of the ones servers send), then the answer body. Property: no crash, no undefined
 * behaviour, no leak; an answer is either accepted or refused with a jibe error code.
 */
#include "aa.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const long status[] = {200, 200, 200, 201, 204, 301, 302, 400, 401, 403,
                                      404, 408, 429, 500, 502, 503, 504, 0,   100, 299};
        int rc;

        if (size < 2)
                return 0;
        rc = aa_answer_probe(data + 2, size - 2, status[data[1] % (sizeof(status) / sizeof(status[0]))],
                             data[0]);
        FUZZ_CHECK(rc <= 3); /* JB_OK, a jb_err (negative) or a retry/expired/not-the-file outcome */
        return 0;
}
