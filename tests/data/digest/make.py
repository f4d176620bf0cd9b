#!/usr/bin/env python3
"""make.py - write the digest fixtures of tests/data/digest/ (test_ct_digest, fuzz seeds).

    python3 tests/data/digest/make.py      rewrite them (deterministic: gzip mtime 0)

A chain of one account trail in us-east-1 (first, second, an empty hour, a backfill digest)
and one organization-trail digest; the SHA-256 values are of small made-up log files, so the
reconcile tests can hash the same bytes.
"""
import gzip
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ACCT = "111122223333"
BUCKET = "trail-bucket"
FOLDER = "AWSLogs/%s/CloudTrail-Digest/us-east-1/2026/11/29/" % ACCT


def log_key(stamp, tag):
    return "AWSLogs/%s/CloudTrail/us-east-1/2026/11/29/%s_CloudTrail_us-east-1_%s_%s.json.gz" % (
        ACCT, ACCT, stamp, tag)


def log_bytes(tag):
    """The made-up content of a log file; test_ct_digest.c hashes the same text."""
    return ('{"Records":[{"eventID":"%s"}]}' % tag).encode()


def digest_name(stamp, backfill=False):
    return FOLDER + "%s_CloudTrail-Digest_us-east-1_main-trail_us-east-1_%s%s.json.gz" % (
        ACCT, stamp, "_backfill" if backfill else "")


def digest(start, end, name, prev, files):
    d = {
        "awsAccountId": ACCT,
        "digestStartTime": start,
        "digestEndTime": end,
        "digestS3Bucket": BUCKET,
        "digestS3Object": name,
        "digestPublicKeyFingerprint": "0123456789abcdef0123456789abcdef",
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": end,
        "oldestEventTime": start,
        "previousDigestS3Bucket": BUCKET if prev else None,
        "previousDigestS3Object": prev,
        "previousDigestHashValue": hashlib.sha256(prev.encode()).hexdigest() if prev else None,
        "previousDigestHashAlgorithm": "SHA-256" if prev else None,
        "previousDigestSignature": "00" * 8 if prev else None,
        "logFiles": [{
            "s3Bucket": BUCKET,
            "s3Object": log_key(stamp, tag),
            "hashValue": hashlib.sha256(log_bytes(tag)).hexdigest(),
            "hashAlgorithm": "SHA-256",
            "newestEventTime": end,
            "oldestEventTime": start,
        } for stamp, tag in files],
    }
    return d


def write(fname, d):
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(gzip.compress(json.dumps(d, indent=1).encode(), mtime=0))


first = digest_name("20261129T010000Z")
second = digest_name("20261129T020000Z")
third = digest_name("20261129T030000Z")
write("first.json.gz", digest("2026-11-29T00:00:00Z", "2026-11-29T01:00:00Z", first, None,
                              [("20261129T0005Z", "A000000000000001"),
                               ("20261129T0010Z", "A000000000000002"),
                               ("20261129T0015Z", "A000000000000003")]))
write("second.json.gz", digest("2026-11-29T01:00:00Z", "2026-11-29T02:00:00Z", second, first,
                               [("20261129T0105Z", "B000000000000001"),
                                ("20261129T0110Z", "B000000000000002")]))
write("empty_hour.json.gz", digest("2026-11-29T02:00:00Z", "2026-11-29T03:00:00Z", third, second, []))
write("backfill.json.gz", digest("2026-11-29T00:00:00Z", "2026-11-29T01:00:00Z",
                                 digest_name("20261129T010000Z", True), None,
                                 [("20261129T0055Z", "C000000000000001")]))
org = digest("2026-11-29T00:00:00Z", "2026-11-29T01:00:00Z",
             "AWSLogs/o-exampleorg1/%s/CloudTrail-Digest/eu-west-1/2026/11/29/"
             "%s_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20261129T010000Z.json.gz" % (ACCT, ACCT),
             None, [("20261129T0005Z", "D000000000000001")])
write("org.json.gz", org)
