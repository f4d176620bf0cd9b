/*
 * cfg_impl.h - private to common/cfg*.c: the option table's types and what the loader
 * (cfg.c), the secret resolution (cfg_secret.c) and the printing (cfg_print.c) share.
 * Nothing outside common/cfg*.c includes it; the public API is cfg.h.
 *
 * Ownership: the table (cfg_opts[], cfg_groups[], cfg_group_desc[]) is static data in
 * cfg.c; every string the loader puts in struct cfg is freed by cfg_clear().
 */
#ifndef CFG_IMPL_H
#define CFG_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libconfig.h>

#include "cfg.h"

enum cfg_type {
        CFGT_STR,      /* char * */
        CFGT_LONG,     /* long */
        CFGT_INT,      /* int */
        CFGT_SIZE,     /* uint64_t: integer or "512M" */
        CFGT_BOOL,     /* int 0/1 */
        CFGT_FLOAT,    /* double */
        CFGT_STRLIST,  /* char ** + size_t */
        CFGT_PREFIXES, /* struct cfg_prefix * + size_t */
};

#define CO_SECRET 0x1    /* shown as "***" */
#define CO_EX_ACTIVE 0x2 /* the example file sets the example value (else it is commented) */
#define CO_PATH 0x4      /* a file name: must not be empty */
#define CO_PROPS 0x8     /* list of "name=value" librdkafka properties; secret values as "***" */

struct cfg_opt {
        const char *name;
        enum cfg_type type;
        unsigned flags;
        size_t off;   /* offsetof(struct cfg, field) */
        size_t off_n; /* lists: the count field */
        const char *def_s;
        long long def_i, min_i, max_i;
        double def_f, min_f, max_f;
        const char *const *choices; /* CFGT_STR: allowed values, NULL-terminated */
        const char *example;        /* libconfig text for the example file (NULL: default) */
        const char *desc;
};
#define OFF(f) offsetof(struct cfg, f)

/* The option table (cfg.c), in the order options are printed within a group. */
extern const struct cfg_opt cfg_opts[];
extern const size_t cfg_nopts;
/* Groups in the order they are printed; the last one, "", is the top level. */
extern const char *const cfg_groups[];
extern const char *const cfg_group_desc[];
extern const size_t cfg_ngroups;

/*
 * An old option name that is still accepted: loading it sets the option it now is, with a
 * note (check-config prints it) saying what to write instead; giving both is an error.
 */
struct cfg_alias {
        const char *old;  /* "scanner.provider_refresh_s" */
        const char *name; /* the option in cfg_opts[]: "parser.provider_refresh_s" */
};
extern const struct cfg_alias cfg_aliases[];
extern const size_t cfg_naliases;

/* The field of c that option offset off designates. */
static inline void *cfg_fld(const struct cfg *c, size_t off)
{
        return (char *)(uintptr_t)c + off;
}

/* A list option's count field. */
static inline size_t *cfg_fld_n(const struct cfg *c, const struct cfg_opt *o)
{
        return (size_t *)cfg_fld(c, o->off_n);
}

/* "syncer.window_ms" -> "window_ms"; a top-level name is its own leaf. */
static inline const char *cfg_leaf(const char *name)
{
        const char *d = strchr(name, '.');

        return d ? d + 1 : name;
}

/* Index of the option called name in cfg_opts[], or -1. */
int cfg_find_opt(const char *name);
/* "4G" when v is an exact multiple of a unit, else the number. */
void cfg_fmt_size(char *out, size_t n, uint64_t v);
/* Which kafka.rdkafka entries are secret: kconf_prop_is_secret() (kconf.h), the one rule. */

/* ---- loading (cfg.c); used by cfg_secret.c ---- */

#define CFG_OPTS_MAX 96 /* at least the number of options (checked in cfg.c) */

/* One cfg_load() call: the file being read and where each option was set. */
struct cfg_ctx {
        struct cfg *cfg;
        const char *path;
        char *errstr;
        size_t errsz;
        config_setting_t *set[CFG_OPTS_MAX]; /* where each option was set; NULL: default */
        const char *set_as[CFG_OPTS_MAX];    /* the name it was set under (static text) */
        char *src_path;                      /* cached source text for check_int_literal() */
        char *src;
        /* cfg_check_all(): every mistake goes to on_err and loading goes on past it */
        void (*on_err)(void *opaque, const char *msg);
        void *on_err_opaque;
        int nerr;
};
/* In a cfg_check_all() run, rc (a mistake in the file) is reported already: go on. */
#define CFG_GO_ON(x, rc) ((x)->on_err && (rc) == JB_EINPUT)

/* "file:line: setting: message" into x->errstr (no line when s is NULL or has none); returns rc. */
int cfg_ctx_err(struct cfg_ctx *x, int rc, const config_setting_t *s, const char *name, const char *fmt,
                ...) JB_PRINTF(5, 6);
/* What cfg_add() adds a sentence to. */
enum cfg_said {
        CFG_NOTE, /* advice for check-config (cfg->notes) */
        CFG_WARN, /* a setting that weakens security (cfg->warnings): printed by check-config,
                   * logged at WARN at every start */
};
/* One formatted sentence to cfg->notes or cfg->warnings; JB_ENOMEM or JB_OK. */
int cfg_add(struct cfg *c, enum cfg_said list, const char *fmt, ...) JB_PRINTF(3, 4);

/* ---- secrets (cfg_secret.c) ---- */

/*
 * After the walk: the password and the token, each given one way at most (inline, _file or
 * _env; two ways is an error naming both lines), then credentials_json filling what is still
 * unset. Secret files others can read add a warning. Returns JB_OK or an error in x->errstr
 * (never the secret itself).
 */
int cfg_secrets_resolve(struct cfg_ctx *x);
/* Register every secret of a loaded cfg with log_add_secret() (password, token, secret
 * kafka.rdkafka values), so that no log line shows them. */
void cfg_secrets_register(const struct cfg *cfg);

#endif
