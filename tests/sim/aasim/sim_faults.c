/*
 * sim_faults.c - faults injected into /api/rpc.php and uploader requests (latency, HTTP
 * 500/429 rates, token lifetime, slow download bodies, refresh timing and stuck refreshes,
 * download error headers and cut bodies, hostile getFile answers, XML uploader answers,
 * one-element lists as objects, syncOnProviderEvent switched off or refusing keys, padded
 * answers, resync faults: resets, HTML, empty, 429, 500 answers to the resync calls) and
 * the request counters that /sim/stats reports. Callers hold sim.lock. Owns nothing
 * beyond struct sim's fields.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

void faults_reset(struct faults *f)
{
        f->latency_ms = 0;
        f->e500 = f->e429 = 0;
        f->slow_bps = 0;
        f->refresh_ms = f->refresh_quiet_ms = -1;
        f->refresh_stuck = false;
        f->single_object = false;
        f->dl_err_rate = f->dl_cut_rate = 0;
        f->dl_err_http = 200;
        f->dl_err_legacy = false;
        f->uploader_xml = false;
        f->sync_event_off = false;
        f->answer_pad = 0;
        f->answer_pad_fn[0] = '\0';
        f->sync_refuse_prefix[0] = '\0';
        f->hostile_rate = 0;
        f->hostile_kinds = 0;
        f->sync_fault = SYNC_FAULT_NONE;
        f->sync_fault_rate = 1;
        f->sync_retry_after_s = 1;
        f->rng = 0x853c49e6748fea9bULL;
}

int64_t sim_refresh_ms(const struct sim *s)
{
        return s->f.refresh_ms >= 0 ? s->f.refresh_ms : s->cfg_refresh_ms;
}

int64_t sim_refresh_quiet_ms(const struct sim *s)
{
        return s->f.refresh_quiet_ms >= 0 ? s->f.refresh_quiet_ms : s->cfg_refresh_quiet_ms;
}

bool sim_single_object(const struct sim *s)
{
        return s->f.single_object || s->cfg_single_object;
}

bool sim_sync_event_on(const struct sim *s)
{
        return !s->f.sync_event_off && s->cfg_sync_event;
}

/* splitmix64: small, seedable, good enough for fault rates. */
static double rnd01(struct faults *f)
{
        uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        return (double)(z >> 11) / 9007199254740992.0;
}

int faults_pick(struct sim *s)
{
        double r;

        if (s->f.e500 <= 0 && s->f.e429 <= 0)
                return 0;
        r = rnd01(&s->f);
        if (r < s->f.e500) {
                s->http_errors_injected++;
                return 500;
        }
        if (r < s->f.e500 + s->f.e429) {
                s->http_errors_injected++;
                return 429;
        }
        return 0;
}

bool faults_roll(struct sim *s, double rate)
{
        if (rate <= 0)
                return false;
        if (rate >= 1)
                return true;
        return rnd01(&s->f) < rate;
}

static int get_rate(const struct form *f, const char *k, double *out, char *errstr, size_t errsz)
{
        const char *v = form_get(f, k);
        char *end;
        double d;

        if (!v)
                return JB_OK;
        d = strtod(v, &end);
        if (!*v || *end || !isfinite(d) || d < 0 || d > 1)
                return jb_seterr(JB_EINPUT, errstr, errsz, "%s must be a number from 0 to 1", k);
        *out = d;
        return JB_OK;
}

static int get_count(const struct form *f, const char *k, int64_t *out, char *errstr, size_t errsz)
{
        const char *v = form_get(f, k);
        int64_t x;

        if (!v)
                return JB_OK;
        if (sim_parse_i64(v, &x) || x < 0)
                return jb_seterr(JB_EINPUT, errstr, errsz, "%s must be a whole number >= 0", k);
        *out = x;
        return JB_OK;
}

static int get_flag(const struct form *f, const char *k, bool *out, char *errstr, size_t errsz)
{
        const char *v = form_get(f, k);

        if (!v)
                return JB_OK;
        if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
                return jb_seterr(JB_EINPUT, errstr, errsz, "%s must be 0 or 1", k);
        *out = v[0] == '1';
        return JB_OK;
}

/* ---- hostile getFile answers (test faults: answers that are not the file) ---- */

const char *const dl_hostile_names[DLH_NKINDS] = {"none",    "html",  "redirect",
                                                  "json404", "short", "size"};

/* "html,short": the kinds as a bit set; "" or "none": none. */
static int get_hostile(const struct form *f, unsigned *out, char *errstr, size_t errsz)
{
        const char *v = form_get(f, "download_hostile"), *p;
        unsigned set = 0;
        int k;

        if (!v)
                return JB_OK;
        for (p = v; *p;) {
                size_t n = strcspn(p, ",");

                for (k = 0; k < DLH_NKINDS; k++)
                        if (strlen(dl_hostile_names[k]) == n && !strncmp(p, dl_hostile_names[k], n))
                                break;
                if (k == DLH_NKINDS)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "download_hostile must be a comma list of html, redirect, "
                                         "json404, short, size (or none)");
                if (k != DLH_NONE)
                        set |= 1u << k;
                p += n;
                if (*p == ',')
                        p++;
        }
        *out = set;
        return JB_OK;
}

int faults_hostile_pick(struct sim *s, bool *alt)
{
        unsigned i;
        int k;

        *alt = false;
        if (!s->f.hostile_kinds || !faults_roll(s, s->f.hostile_rate))
                return DLH_NONE;
        for (i = 0; i < DLH_NKINDS; i++) {
                k = (int)((s->hostile_next + i) % DLH_NKINDS);
                if (s->f.hostile_kinds & (1u << k))
                        break;
        }
        s->hostile_next = (unsigned)k + 1;
        s->hostile_injected[k]++;
        *alt = (s->hostile_injected[k] & 1) == 0; /* every second one of a kind */
        return k;
}

static void hostile_json(const struct sim *s, struct jw *w, bool counts)
{
        int k;

        jw_obj(w);
        for (k = 1; k < DLH_NKINDS; k++)
                jw_kint(w, dl_hostile_names[k],
                        counts ? s->hostile_injected[k] : (int64_t)((s->f.hostile_kinds >> k) & 1));
        jw_end_obj(w);
}

/* ---- resync faults (syncOnProviderEvent and cloud refreshes) ---- */

static const char *const sync_fault_names[] = {"none", "reset", "html",  "empty",
                                               "e429", "e500",  "refuse"};

static int get_sync_fault(const struct form *f, int *out, char *errstr, size_t errsz)
{
        const char *v = form_get(f, "sync_fault");
        size_t i;

        if (!v)
                return JB_OK;
        for (i = 0; i < sizeof(sync_fault_names) / sizeof(sync_fault_names[0]); i++)
                if (!strcmp(v, sync_fault_names[i])) {
                        *out = (int)i;
                        return JB_OK;
                }
        return jb_seterr(JB_EINPUT, errstr, errsz,
                         "sync_fault must be none, reset, html, empty, e429, e500 or refuse");
}

/* A folder of a CloudTrail log tree (AWSLogs on its path, or in it): the scanner's. */
static bool log_tree(const struct sim *s, const char *fi_id)
{
        const struct node *n = fi_id ? model_by_sid(&s->m, fi_id) : NULL;

        if (n && model_child(&s->m, n, "AWSLogs"))
                return true;
        for (; n; n = n->parent)
                if (!strcmp(n->name, "AWSLogs"))
                        return true;
        return false;
}

int faults_sync_pick(struct sim *s, const struct form *f)
{
        const char *fn = form_get(f, "function");
        const char *rf = form_get(f, "refresh"), *rt = form_get(f, "refreshtoken");
        bool resync;

        if (s->f.sync_fault == SYNC_FAULT_NONE || !fn)
                return SYNC_FAULT_NONE;
        resync = !strcasecmp(fn, "syncOnProviderEvent") ||
                 (!strcasecmp(fn, "getFolderContents") && ((rf && !strcmp(rf, "y")) || (rt && *rt)) &&
                  !log_tree(s, form_get(f, "fi_pid")));
        if (!resync || !faults_roll(s, s->f.sync_fault_rate))
                return SYNC_FAULT_NONE;
        s->sync_faults_injected++;
        return s->f.sync_fault;
}

static int sync_faults_set(struct faults *nf, const struct form *f, char *errstr, size_t errsz)
{
        int rc = get_sync_fault(f, &nf->sync_fault, errstr, errsz);

        if (!rc)
                rc = get_rate(f, "sync_fault_rate", &nf->sync_fault_rate, errstr, errsz);
        if (!rc)
                rc = get_count(f, "sync_retry_after_s", &nf->sync_retry_after_s, errstr, errsz);
        return rc;
}

static void sync_faults_json(const struct sim *s, struct jw *w)
{
        jw_kstr(w, "sync_fault", sync_fault_names[s->f.sync_fault]);
        jw_key(w, "sync_fault_rate");
        jw_num(w, s->f.sync_fault_rate);
        jw_kint(w, "sync_retry_after_s", s->f.sync_retry_after_s);
}

/* ---- setting and showing faults ---- */

int faults_set(struct sim *s, const struct form *f, char *errstr, size_t errsz)
{
        struct faults nf = s->f;
        double life = s->token_lifetime_s;
        const char *v;
        char *end;
        int64_t seed = -1;
        int rc;

        if (form_get(f, "clear"))
                faults_reset(&nf);
        rc = get_count(f, "latency_ms", &nf.latency_ms, errstr, errsz);
        if (!rc)
                rc = get_rate(f, "error500_rate", &nf.e500, errstr, errsz);
        if (!rc)
                rc = get_rate(f, "error429_rate", &nf.e429, errstr, errsz);
        if (!rc)
                rc = get_count(f, "slow_body_bps", &nf.slow_bps, errstr, errsz);
        if (!rc)
                rc = get_count(f, "seed", &seed, errstr, errsz);
        if (!rc)
                rc = get_count(f, "refresh_ms", &nf.refresh_ms, errstr, errsz);
        if (!rc)
                rc = get_count(f, "refresh_quiet_ms", &nf.refresh_quiet_ms, errstr, errsz);
        if (!rc)
                rc = get_flag(f, "refresh_stuck", &nf.refresh_stuck, errstr, errsz);
        if (!rc)
                rc = get_flag(f, "single_object", &nf.single_object, errstr, errsz);
        if (!rc)
                rc = get_rate(f, "download_error_rate", &nf.dl_err_rate, errstr, errsz);
        if (!rc)
                rc = get_count(f, "download_error_http", &nf.dl_err_http, errstr, errsz);
        if (!rc && (nf.dl_err_http < 200 || nf.dl_err_http > 599))
                rc = jb_seterr(JB_EINPUT, errstr, errsz,
                               "download_error_http must be an HTTP status from 200 to 599");
        if (!rc)
                rc = get_flag(f, "download_error_legacy", &nf.dl_err_legacy, errstr, errsz);
        if (!rc)
                rc = get_rate(f, "download_cut_rate", &nf.dl_cut_rate, errstr, errsz);
        if (!rc)
                rc = get_flag(f, "uploader_xml", &nf.uploader_xml, errstr, errsz);
        if (!rc)
                rc = get_flag(f, "sync_event_off", &nf.sync_event_off, errstr, errsz);
        if (!rc)
                rc = get_count(f, "answer_pad_bytes", &nf.answer_pad, errstr, errsz);
        if (!rc && nf.answer_pad > 200 * 1024 * 1024)
                rc = jb_seterr(JB_EINPUT, errstr, errsz, "answer_pad_bytes must be at most 209715200");
        v = form_get(f, "answer_pad_function");
        if (!rc && v) {
                if (strlen(v) >= sizeof(nf.answer_pad_fn))
                        rc = jb_seterr(JB_EINPUT, errstr, errsz, "answer_pad_function is too long");
                else
                        snprintf(nf.answer_pad_fn, sizeof(nf.answer_pad_fn), "%s", v);
        }
        if (!rc)
                rc = get_hostile(f, &nf.hostile_kinds, errstr, errsz);
        if (!rc)
                rc = get_rate(f, "download_hostile_rate", &nf.hostile_rate, errstr, errsz);
        if (!rc)
                rc = sync_faults_set(&nf, f, errstr, errsz);
        if (rc)
                return rc;
        v = form_get(f, "sync_refuse_prefix");
        if (v) {
                if (strlen(v) >= sizeof(nf.sync_refuse_prefix))
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "sync_refuse_prefix must be shorter than %zu bytes",
                                         sizeof(nf.sync_refuse_prefix));
                snprintf(nf.sync_refuse_prefix, sizeof(nf.sync_refuse_prefix), "%s", v);
        }
        if (nf.e500 + nf.e429 > 1)
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "error500_rate + error429_rate must not exceed 1");
        v = form_get(f, "token_lifetime_s");
        if (v) {
                life = strtod(v, &end);
                if (!*v || *end || !isfinite(life) || life < 0)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "token_lifetime_s must be a number of seconds >= 0");
        }
        if (seed >= 0)
                nf.rng = (uint64_t)seed;
        s->f = nf;
        s->token_lifetime_s = life;
        return JB_OK;
}

void faults_json(const struct sim *s, struct jw *w)
{
        jw_obj(w);
        jw_kint(w, "latency_ms", s->f.latency_ms);
        jw_key(w, "error500_rate");
        jw_num(w, s->f.e500);
        jw_key(w, "error429_rate");
        jw_num(w, s->f.e429);
        jw_key(w, "token_lifetime_s");
        jw_num(w, s->token_lifetime_s);
        jw_kint(w, "slow_body_bps", s->f.slow_bps);
        jw_kint(w, "refresh_ms", sim_refresh_ms(s));
        jw_kint(w, "refresh_quiet_ms", sim_refresh_quiet_ms(s));
        jw_kint(w, "refresh_stuck", s->f.refresh_stuck);
        jw_kint(w, "single_object", sim_single_object(s));
        jw_key(w, "download_error_rate");
        jw_num(w, s->f.dl_err_rate);
        jw_kint(w, "download_error_http", s->f.dl_err_http);
        jw_kint(w, "download_error_legacy", s->f.dl_err_legacy);
        jw_key(w, "download_cut_rate");
        jw_num(w, s->f.dl_cut_rate);
        jw_kint(w, "uploader_xml", s->f.uploader_xml);
        jw_kint(w, "sync_event_off", !sim_sync_event_on(s));
        jw_kint(w, "answer_pad_bytes", s->f.answer_pad);
        jw_kstr(w, "answer_pad_function", s->f.answer_pad_fn);
        jw_kstr(w, "sync_refuse_prefix", s->f.sync_refuse_prefix);
        jw_key(w, "download_hostile");
        hostile_json(s, w, false);
        jw_key(w, "download_hostile_rate");
        jw_num(w, s->f.hostile_rate);
        sync_faults_json(s, w);
        jw_end_obj(w);
}

static void map_json(struct jw *w, const char *name, const struct smap *m)
{
        size_t i;
        struct smap_ent *e;

        jw_key(w, name);
        jw_obj(w);
        for (i = 0; i < m->nbuckets; i++)
                for (e = m->tab[i]; e; e = e->next)
                        jw_kint(w, e->key, e->n);
        jw_end_obj(w);
}

void stats_json(const struct sim *s, struct jw *w)
{
        jw_obj(w);
        map_json(w, "calls", &s->calls);
        map_json(w, "sync", &s->syncs);
        map_json(w, "sync_buckets", &s->sync_buckets);
        map_json(w, "downloads", &s->downloads);
        map_json(w, "refreshes", &s->refresh_done);
        jw_kint(w, "refresh_started", s->refresh_started);
        jw_kint(w, "refresh_pending", (int64_t)s->refreshes.count);
        jw_kint(w, "http_errors_injected", s->http_errors_injected);
        jw_kint(w, "download_errors_injected", s->dl_errors_injected);
        jw_kint(w, "download_cuts_injected", s->dl_cuts_injected);
        {
                int64_t all = 0;
                int k;

                for (k = 1; k < DLH_NKINDS; k++)
                        all += s->hostile_injected[k];
                jw_kint(w, "download_hostile_injected", all);
                jw_key(w, "download_hostile");
                hostile_json(s, w, true);
        }
        jw_kint(w, "sync_faults_injected", s->sync_faults_injected);
        jw_kint(w, "sessions", (int64_t)s->tokens.count);
        jw_kint(w, "index_nodes", (int64_t)s->m.icount);
        jw_end_obj(w);
}

void stats_reset(struct sim *s)
{
        smap_clear(&s->calls, NULL);
        smap_clear(&s->syncs, NULL);
        smap_clear(&s->sync_buckets, NULL);
        smap_clear(&s->downloads, NULL);
        smap_clear(&s->refresh_done, NULL);
        s->http_errors_injected = 0;
        s->refresh_started = s->dl_errors_injected = s->dl_cuts_injected = 0;
        memset(s->hostile_injected, 0, sizeof(s->hostile_injected));
        s->sync_faults_injected = 0;
}
