#!/usr/bin/env python3
"""make.py - write the digest fixtures of tests/data/digest/ (test_ct_digest, fuzz seeds).

    python3 tests/data/digest/make.py      rewrite them (deterministic: gzip mtime 0)

A chain of one account trail in us-east-1 (first, second, an empty hour, a backfill digest)
and one organization-trail digest, plus the small made-up log files they list (logs/, gzip as
CloudTrail stores them). The hashes follow CloudTrail's rules, as the AWS CLI's validate-logs
checks them: a listed file's hashValue is the SHA-256 of its UNCOMPRESSED content (what
gunzip gives), and previousDigestHashValue the SHA-256 of the previous digest's uncompressed
JSON. Never of the gzip bytes: test_ct_digest checks both, and that the gzip bytes' hash
differs. The fuzz seeds gz-NAME and json2-NAME of tests/fuzz/corpus/ct_digest/ are written
from the same digests (fuzz_ct_digest.c's flag bytes in front).
"""
import gzip
import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "..", "fuzz", "corpus", "ct_digest")
ACCT = "111122223333"
BUCKET = "trail-bucket"
FOLDER = "AWSLogs/%s/CloudTrail-Digest/us-east-1/2026/11/29/" % ACCT


def log_key(stamp, tag):
    return "AWSLogs/%s/CloudTrail/us-east-1/2026/11/29/%s_CloudTrail_us-east-1_%s_%s.json.gz" % (
        ACCT, ACCT, stamp, tag)


def log_bytes(tag):
    """The made-up (uncompressed) content of a log file; test_ct_digest.c hashes the same text."""
    return ('{"Records":[{"eventID":"%s"}]}' % tag).encode()


def write_log(stamp, tag):
    """logs/<name>: the log file as CloudTrail stores it (gzip of log_bytes)."""
    os.makedirs(os.path.join(HERE, "logs"), exist_ok=True)
    with open(os.path.join(HERE, "logs", os.path.basename(log_key(stamp, tag))), "wb") as f:
        f.write(gzip.compress(log_bytes(tag), mtime=0))


def digest_name(stamp, backfill=False):
    return FOLDER + "%s_CloudTrail-Digest_us-east-1_main-trail_us-east-1_%s%s.json.gz" % (
        ACCT, stamp, "_backfill" if backfill else "")


def digest(start, end, name, prev, files):
    """prev: None, or (object, the previous digest's uncompressed JSON bytes)."""
    prev, prev_json = prev if prev else (None, None)
    for stamp, tag in files:
        write_log(stamp, tag)
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
        "previousDigestHashValue": hashlib.sha256(prev_json).hexdigest() if prev else None,
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
    """Write the digest (gzip of its JSON) and its fuzz seeds; return the uncompressed JSON."""
    body = json.dumps(d, indent=1).encode()
    gz = gzip.compress(body, mtime=0)
    with open(os.path.join(HERE, fname), "wb") as f:
        f.write(gz)
    stem = fname[:-len(".json.gz")]
    if os.path.isdir(SEEDS):
        with open(os.path.join(SEEDS, "gz-" + stem), "wb") as f:
            f.write(b"\x01\x00\x00" + gz)  # gzip as is, one feed seed, default ceiling
        with open(os.path.join(SEEDS, "json2-" + stem), "wb") as f:
            f.write(b"\x02\x07\x00" + body)  # JSON the harness gzips in two members
    return body


first = digest_name("20261129T010000Z")
second = digest_name("20261129T020000Z")
third = digest_name("20261129T030000Z")
first_json = write("first.json.gz", digest("2026-11-29T00:00:00Z", "2026-11-29T01:00:00Z", first, None,
                                           [("20261129T0005Z", "A000000000000001"),
                                            ("20261129T0010Z", "A000000000000002"),
                                            ("20261129T0015Z", "A000000000000003")]))
second_json = write("second.json.gz", digest("2026-11-29T01:00:00Z", "2026-11-29T02:00:00Z", second,
                                             (first, first_json),
                                             [("20261129T0105Z", "B000000000000001"),
                                              ("20261129T0110Z", "B000000000000002")]))
write("empty_hour.json.gz", digest("2026-11-29T02:00:00Z", "2026-11-29T03:00:00Z", third,
                                   (second, second_json), []))
write("backfill.json.gz", digest("2026-11-29T00:00:00Z", "2026-11-29T01:00:00Z",
                                 digest_name("20261129T010000Z", True), None,
                                 [("20261129T0055Z", "C000000000000001")]))
org = digest("2026-11-29T00:00:00Z", "2026-11-29T01:00:00Z",
             "AWSLogs/o-exampleorg1/%s/CloudTrail-Digest/eu-west-1/2026/11/29/"
             "%s_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20261129T010000Z.json.gz" % (ACCT, ACCT),
             None, [("20261129T0005Z", "D000000000000001")])
write("org.json.gz", org)
