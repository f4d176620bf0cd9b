/*
 * stage_opts.c - configuration -> stage options (see stage_opts.h).
 */
#include <stdlib.h>
#include <string.h>

#include "stage_opts.h"

static int scan_opts(const struct cfg *cfg, struct stage_opts *o)
{
        struct scanner_opts *s = &o->scan;
        size_t i;

        scanner_opts_init(s);
        s->interval_s = cfg->scan_interval_s;
        s->lookback_h = cfg->scan_lookback_h;
        s->parents_every = cfg->scan_parents_every;
        s->refresh_concurrency = cfg->scan_refresh_concurrency;
        s->sources = cfg->scan_sources;
        s->n_sources = cfg->n_scan_sources;
        s->digests = !cfg->digest_enabled || strcmp(cfg->digest_enabled, "off") != 0;
        s->digest_grace_s = cfg->digest_grace_min * 60;
        s->digest_max_bytes = cfg->digest_max_bytes;
        if (cfg->n_scan_prefixes) {
                o->prefixes = calloc(cfg->n_scan_prefixes, sizeof(*o->prefixes));
                if (!o->prefixes)
                        return JB_ENOMEM;
        }
        for (i = 0; i < cfg->n_scan_prefixes; i++) {
                o->prefixes[i].bucket = cfg->scan_prefixes[i].bucket;
                o->prefixes[i].prefix = cfg->scan_prefixes[i].prefix;
        }
        s->prefixes = o->prefixes;
        s->n_prefixes = cfg->n_scan_prefixes;
        return JB_OK;
}

static void parse_opts(const struct cfg *cfg, struct parser_opts *p)
{
        parser_opts_init(p);
        p->workers = cfg->parse_workers;
        p->max_decompressed = cfg->parse_max_decompressed;
        p->max_record = cfg->parse_max_record;
        p->provider_refresh_s = cfg->parse_provider_refresh_s;
        p->view.self_keys = cfg->self_keys;
        p->view.n_self_keys = cfg->n_self_keys;
        p->view.self_arns = cfg->self_arns;
        p->view.n_self_arns = cfg->n_self_arns;
        p->view.self_agents = cfg->self_agents;
        p->view.n_self_agents = cfg->n_self_agents;
        p->view.indexing_rate = cfg->parse_indexing_rate;
}

static void sync_opts(const struct cfg *cfg, struct syncer_opts *y)
{
        syncer_opts_init(y);
        y->window_ms = cfg->sync_window_ms;
        y->batch_max = cfg->sync_batch_max;
        y->concurrency = cfg->sync_concurrency;
        y->max_attempts = cfg->sync_max_attempts;
        y->backoff_base_ms = cfg->sync_backoff_base_ms;
        y->backoff_max_ms = cfg->sync_backoff_max_ms;
        y->method = cfg->sync_method;
        y->bucket_refresh_per_s = cfg->sync_bucket_refresh_per_s;
}

int stage_opts_from_cfg(const struct cfg *cfg, struct stage_opts *o, char *errstr, size_t errsz)
{
        memset(o, 0, sizeof(*o));
        parse_opts(cfg, &o->parse);
        sync_opts(cfg, &o->sync);
        if (scan_opts(cfg, o))
                return jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
        return JB_OK;
}

void stage_opts_clear(struct stage_opts *o)
{
        free(o->prefixes);
        o->prefixes = NULL;
        o->scan.prefixes = NULL;
        o->scan.n_prefixes = 0;
}
