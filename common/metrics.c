/*
 * metrics.c - the registry and exposition of metrics.h.
 *
 * Each instrument of the table has its own mutex and up to METRICS_SERIES_MAX label sets
 * (found by a linear search: an instrument has a handful). The stages' counters and the
 * health are kept under one more mutex. Rendering copies nothing twice: it walks the table
 * under each instrument's lock in turn.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jb.h"
#include "metrics.h"

enum mkind { MK_COUNTER, MK_GAUGE, MK_HISTOGRAM };

struct mdef {
        const char *name; /* with its unit; counters end in _total */
        enum mkind kind;
        const char *label[2];
        const double *buckets; /* histograms: upper bounds, ascending, ended by 0 */
        const char *help;
};

static const double b_call_s[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 0};
static const double b_file_s[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 0};
static const double b_latency_s[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 0};
static const double b_bytes[] = {1024,    4096,    16384,    65536,    262144,
                                 1048576, 4194304, 16777216, 67108864, 0};

/* clang-format off */
static const struct mdef mdefs[M_NMETRICS] = {
        [M_AA_CALLS] = {"jibe_aa_calls_total", MK_COUNTER, {"function", "result"}, NULL,
                "HTTP exchanges with Access Anywhere by API function and result (ok, retry, expired, error)."},
        [M_AA_CALL_SECONDS] = {"jibe_aa_call_duration_seconds", MK_HISTOGRAM, {"function", NULL}, b_call_s,
                "Duration of one HTTP exchange with Access Anywhere, by API function."},
        [M_AA_RETRIES] = {"jibe_aa_retries_total", MK_COUNTER, {"function", NULL}, NULL,
                "Exchanges with Access Anywhere tried again after a passing failure."},
        [M_PARSE_FILE_BYTES] = {"jibe_parse_file_size_bytes", MK_HISTOGRAM, {NULL, NULL}, b_bytes,
                "Compressed size of each CloudTrail log file the parser read."},
        [M_PARSE_FILE_SECONDS] = {"jibe_parse_file_duration_seconds", MK_HISTOGRAM, {"result", NULL}, b_file_s,
                "Time to download, read and classify one CloudTrail log file, by result (ok, quarantined, missing, retry)."},
        [M_PARSE_NEWEST_EVENT] = {"jibe_parse_newest_event_time_seconds", MK_GAUGE, {NULL, NULL}, NULL,
                "Newest CloudTrail eventTime read so far (unix time)."},
        [M_PARSE_DELIVERY_DELAY] = {"jibe_parse_delivery_delay_seconds", MK_GAUGE, {NULL, NULL}, NULL,
                "CloudTrail's delivery delay of the newest file read: when jibe listed it minus its newest event."},
        [M_SYNC_RESYNCS] = {"jibe_sync_resyncs_total", MK_COUNTER, {"method", "result"}, NULL,
                "Resync requests by method (event, bucket, refresh) and result (ok, retry, dead)."},
        [M_SYNC_LATENCY] = {"jibe_sync_latency_seconds", MK_HISTOGRAM, {"method", NULL}, b_latency_s,
                "From the log file becoming visible to jibe to the resync of its object done, per event."},
        [M_SYNC_NEWEST_APPLIED] = {"jibe_sync_newest_applied_event_time_seconds", MK_GAUGE, {NULL, NULL}, NULL,
                "Newest CloudTrail event time whose resync completed (unix time)."},
        [M_SCAN_LAST_SUCCESS] = {"jibe_scan_last_success_time_seconds", MK_GAUGE, {NULL, NULL}, NULL,
                "When the last scan completed without error (unix time); 0 before the first."},
        [M_SCAN_NEWEST_FILE] = {"jibe_scan_newest_file_time_seconds", MK_GAUGE, {"bucket", NULL}, NULL,
                "When the scanner last found a new CloudTrail log file in a source bucket (unix time)."},
        [M_DIGEST_FILES] = {"jibe_digest_files", MK_GAUGE, {"bucket", "verdict"}, NULL,
                "Log files the CloudTrail digests of the lookback window list, by verdict (ok, unverified, "
                "recovered, missing, tampered, pending)."},
        [M_DIGEST_GAPS] = {"jibe_digest_gaps", MK_GAUGE, {"bucket", NULL}, NULL,
                "CloudTrail digests that a later digest points at but that are gone (deleted or never "
                "delivered)."},
        [M_KAFKA_PRODUCED] = {"jibe_kafka_produced_total", MK_COUNTER, {"topic", NULL}, NULL,
                "Messages delivered to Kafka (acknowledged by the broker)."},
        [M_KAFKA_CONSUMED] = {"jibe_kafka_consumed_total", MK_COUNTER, {"topic", NULL}, NULL,
                "Messages taken from Kafka."},
        [M_KAFKA_COMMITTED] = {"jibe_kafka_committed_total", MK_COUNTER, {"topic", NULL}, NULL,
                "Messages whose offsets were stored for commit (their work done)."},
        [M_KAFKA_LAG] = {"jibe_kafka_consumer_lag_messages", MK_GAUGE, {"topic", "partition"}, NULL,
                "Messages between this consumer's position and the end of each partition it is assigned."},
        [M_KAFKA_INFLIGHT] = {"jibe_kafka_inflight_messages", MK_GAUGE, {"topic", NULL}, NULL,
                "Messages taken from Kafka and not finished yet."},
};
/* clang-format on */

struct series {
        char lv[2][METRICS_LABEL_MAX];
        double v; /* counter, gauge; histogram: sum */
        uint64_t count;
        uint64_t bucket[METRICS_BUCKETS_MAX]; /* not cumulative; rendered cumulative */
};

struct minst {
        pthread_mutex_t mu;
        size_t n;
        struct series s[METRICS_SERIES_MAX];
};

struct stage_copy {
        char name[32];
        struct jb_counters c;
};

static struct minst insts[M_NMETRICS];
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int enabled;
static atomic_llong dropped;

static pthread_mutex_t state_mu = PTHREAD_MUTEX_INITIALIZER; /* everything below */
static struct stage_copy stages[METRICS_STAGES_MAX];
static size_t nstages;
static int64_t qdepth[2] = {-1, -1}; /* files, events; -1: not known */
static double start_time;
static int alive = 1;
static char alive_reason[256] = "running";
static long ready_interval_s = 180;
static int ready_scanner;
static int logged_in;
static double aa_fail_since; /* 0: the last exchange succeeded */

static void init_locks(void)
{
        size_t i;

        for (i = 0; i < M_NMETRICS; i++)
                pthread_mutex_init(&insts[i].mu, NULL);
}

double metrics_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void metrics_enable(void)
{
        pthread_once(&once, init_locks);
        pthread_mutex_lock(&state_mu);
        if (start_time == 0)
                start_time = metrics_now();
        pthread_mutex_unlock(&state_mu);
        atomic_store_explicit(&enabled, 1, memory_order_release);
}

int metrics_enabled(void)
{
        return atomic_load_explicit(&enabled, memory_order_relaxed);
}

static void copy_label(char *dst, const char *src)
{
        size_t n = src ? strlen(src) : 0;

        if (n >= METRICS_LABEL_MAX)
                n = METRICS_LABEL_MAX - 1;
        memcpy(dst, src ? src : "", n);
        dst[n] = '\0';
}

static int label_eq(const char *stored, const char *v)
{
        size_t n = v ? strlen(v) : 0;

        if (n >= METRICS_LABEL_MAX)
                n = METRICS_LABEL_MAX - 1;
        return !strncmp(stored, v ? v : "", n) && stored[n] == '\0';
}

/* The series of (a, b) in m, created if there is room; NULL (counted) when full. Locked. */
static struct series *series_get(struct minst *m, const struct mdef *d, const char *a, const char *b)
{
        struct series *s;
        size_t i;

        if (!d->label[0])
                a = NULL;
        if (!d->label[1])
                b = NULL;
        for (i = 0; i < m->n; i++)
                if (label_eq(m->s[i].lv[0], a) && label_eq(m->s[i].lv[1], b))
                        return &m->s[i];
        if (m->n >= METRICS_SERIES_MAX) {
                atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
                return NULL;
        }
        s = &m->s[m->n++];
        memset(s, 0, sizeof(*s));
        copy_label(s->lv[0], a);
        copy_label(s->lv[1], b);
        return s;
}

static void update(enum metric_id id, int op, double v, const char *a, const char *b)
{
        const struct mdef *d;
        struct series *s;
        size_t i;

        if (!metrics_enabled() || (unsigned)id >= M_NMETRICS || isnan(v))
                return;
        d = &mdefs[id];
        pthread_mutex_lock(&insts[id].mu);
        s = series_get(&insts[id], d, a, b);
        if (s) {
                if (op == 0 && v > 0)
                        s->v += v;
                else if (op == 1)
                        s->v = v;
                else if (op == 2) {
                        s->v += v;
                        s->count++;
                        for (i = 0; d->buckets[i] != 0 && i < METRICS_BUCKETS_MAX; i++)
                                if (v <= d->buckets[i]) {
                                        s->bucket[i]++;
                                        break;
                                }
                }
        }
        pthread_mutex_unlock(&insts[id].mu);
}

void metric_add(enum metric_id id, double v, const char *a, const char *b)
{
        if ((unsigned)id < M_NMETRICS && mdefs[id].kind == MK_COUNTER)
                update(id, 0, v, a, b);
}

void metric_set(enum metric_id id, double v, const char *a, const char *b)
{
        if ((unsigned)id < M_NMETRICS && mdefs[id].kind == MK_GAUGE)
                update(id, 1, v, a, b);
}

void metric_observe(enum metric_id id, double v, const char *a, const char *b)
{
        if ((unsigned)id < M_NMETRICS && mdefs[id].kind == MK_HISTOGRAM)
                update(id, 2, v, a, b);
}

void metrics_stage_counters(const char *stage, const struct jb_counters *c)
{
        size_t i;

        if (!metrics_enabled() || !stage || !c)
                return;
        pthread_mutex_lock(&state_mu);
        for (i = 0; i < nstages; i++)
                if (!strcmp(stages[i].name, stage))
                        break;
        if (i == nstages && nstages < METRICS_STAGES_MAX) {
                snprintf(stages[i].name, sizeof(stages[i].name), "%s", stage);
                nstages++;
        }
        if (i < nstages)
                stages[i].c = *c;
        pthread_mutex_unlock(&state_mu);
}

void metrics_queue_depth(const char *queue, int64_t n)
{
        pthread_mutex_lock(&state_mu);
        if (!strcmp(queue, "files"))
                qdepth[0] = n;
        else if (!strcmp(queue, "events"))
                qdepth[1] = n;
        pthread_mutex_unlock(&state_mu);
}

void metrics_set_alive(int a, const char *reason)
{
        pthread_mutex_lock(&state_mu);
        alive = a;
        snprintf(alive_reason, sizeof(alive_reason), "%s", reason ? reason : "");
        pthread_mutex_unlock(&state_mu);
}

void metrics_ready_setup(long interval_s, int scanner)
{
        pthread_mutex_lock(&state_mu);
        ready_interval_s = interval_s > 0 ? interval_s : 1;
        ready_scanner = scanner;
        pthread_mutex_unlock(&state_mu);
}

void metrics_aa_outcome(int ok, int login)
{
        if (!metrics_enabled())
                return;
        pthread_mutex_lock(&state_mu);
        if (ok) {
                aa_fail_since = 0;
                if (login)
                        logged_in = 1;
        } else if (aa_fail_since == 0) {
                aa_fail_since = metrics_now();
        }
        pthread_mutex_unlock(&state_mu);
}

int metrics_alive(char *out, size_t outsz)
{
        int a;

        pthread_mutex_lock(&state_mu);
        a = alive;
        snprintf(out, outsz, "%s", alive_reason);
        pthread_mutex_unlock(&state_mu);
        return a;
}

static double last_scan(void)
{
        double v = 0;

        pthread_mutex_lock(&insts[M_SCAN_LAST_SUCCESS].mu);
        if (insts[M_SCAN_LAST_SUCCESS].n)
                v = insts[M_SCAN_LAST_SUCCESS].s[0].v;
        pthread_mutex_unlock(&insts[M_SCAN_LAST_SUCCESS].mu);
        return v;
}

int metrics_ready(char *out, size_t outsz)
{
        double now = metrics_now(), since, scan = 0, limit;
        int ok = 1;

        pthread_once(&once, init_locks);
        if (ready_scanner)
                scan = last_scan();
        pthread_mutex_lock(&state_mu);
        limit = (double)METRICS_READY_INTERVALS * (double)ready_interval_s;
        since = aa_fail_since;
        if (!alive) {
                ok = 0;
                snprintf(out, outsz, "not alive: %s", alive_reason);
        } else if (!logged_in) {
                ok = 0;
                snprintf(out, outsz, "not signed in to Access Anywhere yet");
        } else if (since != 0 && now - since >= limit) {
                ok = 0;
                snprintf(out, outsz,
                         "Access Anywhere has been failing for %.0f s (more than %d scan intervals)",
                         now - since, METRICS_READY_INTERVALS);
        } else if (ready_scanner && now - (scan > start_time ? scan : start_time) >= limit + 1) {
                ok = 0;
                snprintf(out, outsz, "no scan completed for %.0f s (more than %d scan intervals)%s",
                         now - (scan > start_time ? scan : start_time), METRICS_READY_INTERVALS,
                         since != 0 ? "; Access Anywhere is failing" : "");
        } else {
                snprintf(out, outsz, "ready");
        }
        pthread_mutex_unlock(&state_mu);
        return ok;
}

/* ---- exposition ------------------------------------------------------------------------ */

/* A label value with \, " and newline escaped. */
static int put_label(struct buf *out, const char *name, const char *v, int first)
{
        int rc = buf_printf(out, "%s%s=\"", first ? "" : ",", name);

        for (; !rc && *v; v++) {
                if (*v == '\\')
                        rc = buf_puts(out, "\\\\");
                else if (*v == '"')
                        rc = buf_puts(out, "\\\"");
                else if (*v == '\n')
                        rc = buf_puts(out, "\\n");
                else
                        rc = buf_append(out, v, 1);
        }
        return rc ? rc : buf_puts(out, "\"");
}

/* {a="x",b="y"} plus an optional le; nothing when there are no labels at all. */
static int put_labels(struct buf *out, const struct mdef *d, const struct series *s, const char *le)
{
        int rc = 0, first = 1, i;

        if (!d->label[0] && !le)
                return 0;
        rc = buf_puts(out, "{");
        for (i = 0; !rc && i < 2; i++)
                if (d->label[i]) {
                        rc = put_label(out, d->label[i], s->lv[i], first);
                        first = 0;
                }
        if (!rc && le)
                rc = put_label(out, "le", le, first);
        return rc ? rc : buf_puts(out, "}");
}

static int put_num(struct buf *out, double v)
{
        if (v == floor(v) && fabs(v) < 1e15)
                return buf_printf(out, " %.0f\n", v);
        return buf_printf(out, " %.17g\n", v);
}

static int render_inst(struct buf *out, enum metric_id id)
{
        const struct mdef *d = &mdefs[id];
        struct minst *m = &insts[id];
        static const char *const tn[] = {"counter", "gauge", "histogram"};
        const char *base = d->name;
        char le[32];
        size_t i, j;
        uint64_t cum;
        int rc;

        rc = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", base, d->help, base, tn[d->kind]);
        pthread_mutex_lock(&m->mu);
        for (i = 0; !rc && i < m->n; i++) {
                const struct series *s = &m->s[i];

                if (d->kind != MK_HISTOGRAM) {
                        rc = buf_puts(out, base);
                        if (!rc)
                                rc = put_labels(out, d, s, NULL);
                        if (!rc)
                                rc = put_num(out, s->v);
                        continue;
                }
                cum = 0;
                for (j = 0; !rc && d->buckets[j] != 0 && j < METRICS_BUCKETS_MAX; j++) {
                        cum += s->bucket[j];
                        snprintf(le, sizeof(le), "%g", d->buckets[j]);
                        rc = buf_printf(out, "%s_bucket", base);
                        if (!rc)
                                rc = put_labels(out, d, s, le);
                        if (!rc)
                                rc = put_num(out, (double)cum);
                }
                if (!rc)
                        rc = buf_printf(out, "%s_bucket", base);
                if (!rc)
                        rc = put_labels(out, d, s, "+Inf");
                if (!rc)
                        rc = put_num(out, (double)s->count);
                if (!rc)
                        rc = buf_printf(out, "%s_sum", base);
                if (!rc)
                        rc = put_labels(out, d, s, NULL);
                if (!rc)
                        rc = put_num(out, s->v);
                if (!rc)
                        rc = buf_printf(out, "%s_count", base);
                if (!rc)
                        rc = put_labels(out, d, s, NULL);
                if (!rc)
                        rc = put_num(out, (double)s->count);
        }
        pthread_mutex_unlock(&m->mu);
        return rc;
}

/* The exported name of a stage counter into name; the value divisor (1 or 1000) returned. */
static double stage_name(char *name, size_t sz, const char *stage, const struct jb_counter *c)
{
        size_t n = strlen(c->name);
        double div = 1;
        const char *unit = "";

        if (n > 3 && !strcmp(c->name + n - 3, "_ms")) {
                n -= 3;
                div = 1000;
                unit = "_seconds";
        } else if (n > 2 && !strcmp(c->name + n - 2, "_s")) {
                n -= 2;
                unit = "_seconds";
        }
        if (n > 64)
                n = 64;
        if (snprintf(name, sz, "jibe_%.31s_%.*s%s%s", stage, (int)n, c->name, unit,
                     c->kind == JB_COUNTER ? "_total" : "") >= (int)sz)
                name[sz - 1] = '\0';
        return div;
}

static int render_state(struct buf *out)
{
        static const char *const qn[] = {"files", "events"};
        char name[192];
        size_t i, j;
        double div;
        int rc;

        pthread_mutex_lock(&state_mu);
        rc = buf_printf(
                out,
                "# HELP jibe_build_info jibe's version (the value is always 1).\n"
                "# TYPE jibe_build_info gauge\njibe_build_info{version=\"%s\"} 1\n"
                "# HELP jibe_process_start_time_seconds When this process started (unix time).\n"
                "# TYPE jibe_process_start_time_seconds gauge\n"
                "jibe_process_start_time_seconds %.3f\n"
                "# HELP jibe_up_stages 1 while every stage runs, 0 once one failed (as /healthz).\n"
                "# TYPE jibe_up_stages gauge\njibe_up_stages %d\n"
                "# HELP jibe_metrics_dropped_updates_total Updates dropped: an instrument had "
                "too many label sets.\n"
                "# TYPE jibe_metrics_dropped_updates_total counter\n"
                "jibe_metrics_dropped_updates_total %lld\n",
                JB_VERSION, start_time, alive,
                (long long)atomic_load_explicit(&dropped, memory_order_relaxed));
        if (!rc && (qdepth[0] >= 0 || qdepth[1] >= 0))
                rc = buf_puts(out, "# HELP jibe_queue_depth Messages waiting in the transport's queues "
                                   "(embedded transport).\n# TYPE jibe_queue_depth gauge\n");
        for (i = 0; !rc && i < 2; i++)
                if (qdepth[i] >= 0)
                        rc = buf_printf(out, "jibe_queue_depth{queue=\"%s\"} %lld\n", qn[i],
                                        (long long)qdepth[i]);
        for (i = 0; !rc && i < nstages; i++)
                for (j = 0; !rc && j < stages[i].c.n; j++) {
                        const struct jb_counter *c = &stages[i].c.c[j];

                        div = stage_name(name, sizeof(name), stages[i].name, c);
                        rc = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s", name,
                                        c->help ? c->help : c->name, name,
                                        c->kind == JB_COUNTER ? "counter" : "gauge", name);
                        if (!rc)
                                rc = put_num(out, (double)c->value / div);
                }
        pthread_mutex_unlock(&state_mu);
        return rc;
}

int metrics_render(struct buf *out)
{
        size_t i;
        int rc;

        pthread_once(&once, init_locks);
        rc = render_state(out);
        for (i = 0; !rc && i < M_NMETRICS; i++)
                rc = render_inst(out, (enum metric_id)i);
        return rc;
}

void metrics_reset(void)
{
        size_t i;

        pthread_once(&once, init_locks);
        atomic_store(&enabled, 0);
        atomic_store(&dropped, 0);
        for (i = 0; i < M_NMETRICS; i++) {
                pthread_mutex_lock(&insts[i].mu);
                insts[i].n = 0;
                pthread_mutex_unlock(&insts[i].mu);
        }
        pthread_mutex_lock(&state_mu);
        nstages = 0;
        qdepth[0] = qdepth[1] = -1;
        start_time = 0;
        alive = 1;
        snprintf(alive_reason, sizeof(alive_reason), "running");
        ready_interval_s = 180;
        ready_scanner = 0;
        logged_in = 0;
        aa_fail_since = 0;
        pthread_mutex_unlock(&state_mu);
}
