/*
 * sim_inspect.c - the /sim/... endpoints of jibe-aa-sim, for tests and developers (never
 * subject to faults): stats, diff (truth vs index), faults, reset, fullsync, index
 * snapshot/restore. See README.md for the answers. Takes sim.lock per request; refreshes
 * that are due are applied first (as at the start of every rpc).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static void answer(struct rpc_result *r, int http, const char *status, const char *msg)
{
        jw_free(&r->out);
        jw_init(&r->out, 1u << 16);
        jw_obj(&r->out);
        jw_kstr(&r->out, "status", status);
        jw_kstr(&r->out, "statusmessage", msg);
        jw_end_obj(&r->out);
        r->http = http;
        r->status = status;
}

static bool is(const char *method, const char *want)
{
        return strcmp(method, want) == 0;
}

static void do_fullsync(struct sim *s, const struct form *args, struct rpc_result *r)
{
        const char *id = form_get(args, "provider");
        struct prov *p;
        struct recon_stats st;
        struct task *tk;
        size_t i;
        int64_t t0, files = 0;
        char msg[200];

        pthread_mutex_lock(&s->lock);
        p = model_prov(&s->m, id);
        if (!p) {
                pthread_mutex_unlock(&s->lock);
                answer(r, 404, "not_found", "no provider with that id (use ?provider=ID)");
                return;
        }
        t0 = (int64_t)time(NULL);
        for (i = 0; i < p->nbuckets; i++) {
                memset(&st, 0, sizeof(st));
                if (model_reconcile(&s->m, p->buckets[i].node, true, &st) != JB_OK) {
                        pthread_mutex_unlock(&s->lock);
                        answer(r, 500, "error_background", "out of memory");
                        return;
                }
                files += st.files;
        }
        tk = sim_add_task(s, p, NULL);
        if (!tk) {
                pthread_mutex_unlock(&s->lock);
                answer(r, 500, "error_background", "out of memory");
                return;
        }
        snprintf(tk->callback, sizeof(tk->callback), "ReSync");
        sim_fmt_time(t0, tk->added);
        sim_fmt_time((int64_t)time(NULL), tk->completed);
        tk->files = files;
        snprintf(msg, sizeof(msg), "provider %s re-indexed: %lld files (task %s)", p->id,
                 (long long)files, tk->id);
        pthread_mutex_unlock(&s->lock);
        answer(r, 200, "ok", msg);
}

void sim_inspect(struct sim *s, const char *method, const char *url, const struct form *args,
                 const char *body, size_t bodylen, struct rpc_result *r)
{
        struct form f;
        const char **excl = NULL;
        const char *only;
        size_t i, nexcl = 0;
        char err[300];
        int rc;

        r->http = 200;
        r->status = "ok";
        pthread_mutex_lock(&s->lock);
        sim_apply_refreshes(s);
        pthread_mutex_unlock(&s->lock);
        if (strcmp(url, "/sim/stats") == 0 && is(method, "GET")) {
                pthread_mutex_lock(&s->lock);
                stats_json(s, &r->out);
                pthread_mutex_unlock(&s->lock);
        } else if (strcmp(url, "/sim/diff") == 0 && is(method, "GET")) {
                excl = calloc(args->n + 1, sizeof(*excl));
                if (!excl) {
                        answer(r, 500, "error_background", "out of memory");
                        return;
                }
                for (i = 0; i < args->n; i++)
                        if (strcmp(args->k[i], "exclude") == 0)
                                excl[nexcl++] = args->v[i];
                only = form_get(args, "bucket");
                pthread_mutex_lock(&s->lock);
                if (only && *only && !model_bucket(&s->m, only)) {
                        pthread_mutex_unlock(&s->lock);
                        free(excl);
                        answer(r, 404, "not_found", "no such bucket in sim.json");
                        return;
                }
                rc = model_diff(&s->m, only && *only ? only : NULL, excl, nexcl, &r->out);
                pthread_mutex_unlock(&s->lock);
                free(excl);
                if (rc)
                        answer(r, 500, "error_background", "out of memory");
        } else if (strcmp(url, "/sim/faults") == 0 && (is(method, "GET") || is(method, "POST"))) {
                form_init(&f);
                rc = JB_OK;
                for (i = 0; !rc && i < args->n; i++)
                        rc = form_add(&f, args->k[i], args->v[i]);
                if (!rc && body && bodylen)
                        rc = form_parse(&f, body, bodylen);
                if (rc) {
                        form_free(&f);
                        answer(r, 500, "error_background", "out of memory");
                        return;
                }
                pthread_mutex_lock(&s->lock);
                rc = is(method, "POST") ? faults_set(s, &f, err, sizeof(err)) : JB_OK;
                if (!rc)
                        faults_json(s, &r->out);
                pthread_mutex_unlock(&s->lock);
                form_free(&f);
                if (rc)
                        answer(r, 400, "bad_request", err);
        } else if (strcmp(url, "/sim/reset") == 0 && is(method, "POST")) {
                pthread_mutex_lock(&s->lock);
                stats_reset(s);
                if (form_get(args, "faults"))
                        faults_reset(&s->f);
                pthread_mutex_unlock(&s->lock);
                answer(r, 200, "ok", "counters cleared");
        } else if (strcmp(url, "/sim/fullsync") == 0 && is(method, "POST")) {
                do_fullsync(s, args, r);
        } else if (strcmp(url, "/sim/index") == 0 && is(method, "GET")) {
                pthread_mutex_lock(&s->lock);
                rc = model_dump_index(&s->m, &r->out.b);
                pthread_mutex_unlock(&s->lock);
                if (rc)
                        answer(r, 500, "error_background", "index too large or out of memory");
                else
                        r->ctype = "application/x-ndjson";
        } else if (strcmp(url, "/sim/index") == 0 && is(method, "POST")) {
                pthread_mutex_lock(&s->lock);
                rc = model_load_index(&s->m, body ? body : "", body ? bodylen : 0, err, sizeof(err));
                pthread_mutex_unlock(&s->lock);
                if (rc)
                        answer(r, 400, "bad_request", err);
                else
                        answer(r, 200, "ok", "index replaced");
        } else if (strcmp(url, "/sim/stats") == 0 || strcmp(url, "/sim/diff") == 0 ||
                   strcmp(url, "/sim/faults") == 0 || strcmp(url, "/sim/reset") == 0 ||
                   strcmp(url, "/sim/fullsync") == 0 || strcmp(url, "/sim/index") == 0) {
                answer(r, 405, "bad_request", "method not allowed here");
        } else {
                answer(r, 404, "not_found", "unknown /sim/ endpoint");
        }
}
