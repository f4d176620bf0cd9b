/*
 * metrics.h - the process's Prometheus metrics: one registry of counters, gauges and
 * histograms, the stages' counters (stage.h) as last seen by the supervisor, the health and
 * readiness of the process, and their text exposition (format 0.0.4).
 *
 * Owns: every instrument jibe exports, declared once in metrics.c's table (name with its
 * unit, type, help, label names, histogram buckets), so the README's list and the code agree.
 * Does not: serve HTTP (metrics_http.h) or decide what is counted (the modules that know).
 * Cost: nothing is recorded until metrics_enable() (metrics.listen set); then one update is a
 * short lock of that instrument and a search among its few label sets. Call sites record per
 * log file, per call or per batch, never per CloudTrail record.
 * Labels: at most two per instrument, each value from a bounded set (stage, provider, source
 * bucket, Access Anywhere function, result, topic, partition; never object keys or file
 * names). An instrument keeps at most METRICS_SERIES_MAX label sets; updates of further ones
 * are dropped and counted in jibe_metrics_dropped_updates_total. Values longer than
 * METRICS_LABEL_MAX are cut.
 * Threads: every function is safe from any thread. The strings passed are copied.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "stage.h"

#define METRICS_SERIES_MAX 64
#define METRICS_LABEL_MAX 64
#define METRICS_STAGES_MAX 8
#define METRICS_BUCKETS_MAX 16
#define METRICS_READY_INTERVALS 3 /* Access Anywhere failing this many intervals: not ready */

enum metric_id {
        M_AA_CALLS,             /* counter {function, result}: HTTP exchanges with Access Anywhere */
        M_AA_CALL_SECONDS,      /* histogram {function} */
        M_AA_RETRIES,           /* counter {function} */
        M_PARSE_FILE_BYTES,     /* histogram: compressed size of each log file read */
        M_PARSE_FILE_SECONDS,   /* histogram {result}: time to process one log file */
        M_PARSE_NEWEST_EVENT,   /* gauge: newest CloudTrail eventTime read, unix seconds */
        M_PARSE_DELIVERY_DELAY, /* gauge: newest file's delivery delay (listed - newest event) */
        M_SYNC_RESYNCS,         /* counter {method, result} */
        M_SYNC_LATENCY,         /* histogram {method}: file visible -> resync done */
        M_SYNC_NEWEST_APPLIED,  /* gauge: newest event time applied, unix seconds */
        M_SCAN_LAST_SUCCESS,    /* gauge {}: unix seconds of the last scan that completed */
        M_SCAN_NEWEST_FILE,     /* gauge {bucket}: unix seconds a new log file was last found */
        M_DIGEST_FILES,         /* gauge {bucket, verdict}: log files of the CloudTrail digests */
        M_DIGEST_GAPS,          /* gauge {bucket}: digests pointed at but gone */
        M_KAFKA_PRODUCED,       /* counter {topic} */
        M_KAFKA_CONSUMED,       /* counter {topic} */
        M_KAFKA_COMMITTED,      /* counter {topic}: offsets committed (messages) */
        M_KAFKA_LAG,            /* gauge {topic, partition}: messages behind the high watermark */
        M_KAFKA_INFLIGHT,       /* gauge {topic}: taken and not finished */
        M_NMETRICS
};

/* Turn recording on (metrics.listen is set) and note the process start time. */
void metrics_enable(void);
int metrics_enabled(void);

/* Counter: add v (>= 0). Gauge: set to v. Histogram: observe v. Label values a and b as
 * the instrument declares (NULL where it has fewer). Nothing when metrics are off. */
void metric_add(enum metric_id id, double v, const char *a, const char *b);
void metric_set(enum metric_id id, double v, const char *a, const char *b);
void metric_observe(enum metric_id id, double v, const char *a, const char *b);
/* Seconds since the epoch now, for gauges of times. */
double metrics_now(void);

/* The supervisor's copy of a stage's counters (taken on its own thread, as stage.h wants):
 * exported as jibe_<stage>_<name>_total (counter) or jibe_<stage>_<name> (gauge); a name
 * ending in _s becomes _seconds, _ms becomes _seconds with the value / 1000. */
void metrics_stage_counters(const char *stage, const struct jb_counters *c);
/* The transport's waiting messages: jibe_queue_depth{queue="files"|"events"}. */
void metrics_queue_depth(const char *queue, int64_t n);

/* Health. alive: the supervisor's view (0 once a stage or the transport failed). reason: a
 * one-line sentence, copied. */
void metrics_set_alive(int alive, const char *reason);
/* Readiness rules: interval_s is the scan interval; scanner: this process scans (its last
 * successful scan must be within METRICS_READY_INTERVALS intervals). */
void metrics_ready_setup(long interval_s, int scanner);
/* Every exchange with Access Anywhere: ok (an answer came), login (a sign-in succeeded). */
void metrics_aa_outcome(int ok, int login);
/* 1 (200) or 0 (503), with a one-line reason in out. */
int metrics_alive(char *out, size_t outsz);
int metrics_ready(char *out, size_t outsz);

/* Append the exposition of every instrument. JB_OK, JB_ENOMEM or JB_ELIMIT. */
int metrics_render(struct buf *out);

/* Tests: forget every value and turn recording off. */
void metrics_reset(void);

#endif
