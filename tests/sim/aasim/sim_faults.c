/*
 * sim_faults.c - faults injected into /api/rpc.php and uploader requests (latency, HTTP
 * 500/429 rates, token lifetime, slow download bodies) and the request counters that
 * /sim/stats reports. Callers hold sim.lock. Owns nothing beyond struct sim's fields.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void faults_reset(struct faults *f)
{
        f->latency_ms = 0;
        f->e500 = f->e429 = 0;
        f->slow_bps = 0;
        f->rng = 0x853c49e6748fea9bULL;
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
        if (rc)
                return rc;
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
        jw_kint(w, "http_errors_injected", s->http_errors_injected);
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
        s->http_errors_injected = 0;
}
