/*
 * cfg_secret.c - the configuration's secrets (see cfg_impl.h): the Access Anywhere password
 * and token and the Slack webhook address, each given exactly one way (written in the file, a _file of mode 0600 or an
 * _env variable), credentials_json filling the gaps, the permission checks on secret files,
 * and which kafka.rdkafka properties are secret.
 *
 * Ownership: what it reads goes into struct cfg (freed and wiped by cfg_clear()); every
 * temporary copy of a secret is wiped (explicit_bzero) before it is freed. Error messages
 * name the setting, the file and the line, never the secret.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "cfg_impl.h"
#include "kconf.h"
#include "log.h"

#define CFG_SECRET_FILE_MAX (64u * 1024) /* a password file or credentials_json */

/* Read a small file whole; the size limit keeps a wrong path (a device, a log) harmless. */
static int read_small(struct cfg_ctx *x, const config_setting_t *s, const char *name, const char *path,
                      char **out, size_t *len, mode_t *mode)
{
        struct stat st;
        ssize_t n;
        size_t got = 0;
        char *p;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return cfg_ctx_err(x, JB_EINPUT, s, name, "cannot read %s: %s", path, strerror(errno));
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return cfg_ctx_err(x, JB_EINPUT, s, name, "%s is not a regular file", path);
        }
        if (st.st_size > (off_t)CFG_SECRET_FILE_MAX) {
                close(fd);
                return cfg_ctx_err(x, JB_EINPUT, s, name,
                                   "%s is larger than %u bytes: is it the right file?", path,
                                   CFG_SECRET_FILE_MAX);
        }
        p = malloc((size_t)st.st_size + 1);
        if (!p) {
                close(fd);
                return cfg_ctx_err(x, JB_ENOMEM, s, name, "out of memory");
        }
        while (got < (size_t)st.st_size && (n = read(fd, p + got, (size_t)st.st_size - got)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        explicit_bzero(p, got);
                        free(p);
                        close(fd);
                        return cfg_ctx_err(x, JB_EINPUT, s, name, "cannot read %s: %s", path,
                                           strerror(errno));
                }
                got += (size_t)n;
        }
        close(fd);
        p[got] = '\0';
        *out = p;
        *len = got;
        *mode = st.st_mode;
        return JB_OK;
}

static int note_mode(struct cfg_ctx *x, const char *name, const char *path, mode_t mode)
{
        if (!(mode & (S_IRGRP | S_IROTH)))
                return JB_OK;
        return cfg_add(x->cfg, CFG_WARN,
                       "%s: %s holds a secret and can be read by %s (mode %04o): run 'chmod 600 %s'",
                       name, path, (mode & S_IROTH) ? "every user" : "its group",
                       (unsigned)(mode & 07777), path);
}

/* First line of a secret file, without its line end. */
static int read_secret_file(struct cfg_ctx *x, const config_setting_t *s, const char *name,
                            const char *path, char **out)
{
        char *p;
        size_t len, n;
        mode_t mode;
        int rc = read_small(x, s, name, path, &p, &len, &mode);

        if (rc)
                return rc;
        n = strcspn(p, "\n");
        if (n && p[n - 1] == '\r')
                n--;
        if (n == 0 || memchr(p, '\0', n)) {
                explicit_bzero(p, len);
                free(p);
                return cfg_ctx_err(x, JB_EINPUT, s, name, "the first line of %s is empty", path);
        }
        *out = strndup(p, n);
        explicit_bzero(p, len);
        free(p);
        if (!*out)
                return cfg_ctx_err(x, JB_ENOMEM, s, name, "out of memory");
        return note_mode(x, name, path, mode);
}

static int read_secret_env(struct cfg_ctx *x, const config_setting_t *s, const char *name,
                           const char *var, char **out)
{
        const char *v;
        size_t i;

        for (i = 0; var[i]; i++)
                if (!(isalpha((unsigned char)var[i]) || var[i] == '_' ||
                      (i && isdigit((unsigned char)var[i]))))
                        return cfg_ctx_err(x, JB_EINPUT, s, name,
                                           "\"%s\" is not an environment variable name", var);
        if (!i)
                return cfg_ctx_err(x, JB_EINPUT, s, name,
                                   "is empty: give the name of an environment variable");
        v = getenv(var);
        if (!v || !*v)
                return cfg_ctx_err(x, JB_EINPUT, s, name, "the environment variable %s is %s", var,
                                   v ? "empty" : "not set");
        *out = strdup(v);
        if (!*out)
                return cfg_ctx_err(x, JB_ENOMEM, s, name, "out of memory");
        return JB_OK;
}

/*
 * One secret given exactly one way: base ("access_anywhere.password") in the file, base_file
 * or base_env. Fills *dst (already holding the inline value) and *from.
 */
static int resolve_secret(struct cfg_ctx *x, const char *base, char **dst, const char **from)
{
        char nfile[64], nenv[64];
        int io = cfg_find_opt(base), ifl, ie, count;
        const config_setting_t *si, *sf, *se;

        snprintf(nfile, sizeof(nfile), "%s_file", base);
        snprintf(nenv, sizeof(nenv), "%s_env", base);
        ifl = cfg_find_opt(nfile);
        ie = cfg_find_opt(nenv);
        si = x->set[io];
        sf = x->set[ifl];
        se = x->set[ie];
        count = !!si + !!sf + !!se;
        if (count > 1) {
                const config_setting_t *ss[3] = {si, sf, se}, *a = NULL, *b = NULL;
                const char *nn[3] = {base, nfile, nenv}, *an = NULL, *bn = NULL;
                int k;

                for (k = 0; k < 3; k++) { /* a, b: the two that come first in the file */
                        if (!ss[k])
                                continue;
                        if (!a || config_setting_source_line(ss[k]) < config_setting_source_line(a)) {
                                b = a;
                                bn = an;
                                a = ss[k];
                                an = nn[k];
                        } else if (!b ||
                                   config_setting_source_line(ss[k]) < config_setting_source_line(b)) {
                                b = ss[k];
                                bn = nn[k];
                        }
                }
                return cfg_ctx_err(x, JB_EINPUT, b, bn,
                                   "%s is also given by %s (line %u): give the %s one way only",
                                   cfg_leaf(bn), cfg_leaf(an), config_setting_source_line(a),
                                   cfg_leaf(base));
        }
        if (si) {
                *from = cfg_leaf(cfg_opts[io].name);
                return cfg_add(
                        x->cfg, CFG_WARN,
                        "%s is written in %s, which is often readable by others and copied around: "
                        "prefer %s_file (a file of mode 0600) or %s_env",
                        base, x->path, cfg_leaf(base), cfg_leaf(base));
        }
        if (sf) {
                *from = cfg_leaf(cfg_opts[ifl].name);
                return read_secret_file(x, sf, nfile, *(char **)cfg_fld(x->cfg, cfg_opts[ifl].off), dst);
        }
        if (se) {
                *from = cfg_leaf(cfg_opts[ie].name);
                return read_secret_env(x, se, nenv, *(char **)cfg_fld(x->cfg, cfg_opts[ie].off), dst);
        }
        return JB_OK;
}

/* A string member of the credentials JSON: NULL when absent or empty; -1 when not a string. */
static int json_str(const cJSON *o, const char *k, const char **out)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        *out = NULL;
        if (!v || cJSON_IsNull(v))
                return 0;
        if (!cJSON_IsString(v))
                return -1;
        if (v->valuestring && *v->valuestring)
                *out = v->valuestring;
        return 0;
}

static int load_credentials_json(struct cfg_ctx *x)
{
        static const char *const keys[] = {"endpoint", "login", "password"};
        const char *name = "access_anywhere.credentials_json";
        const config_setting_t *s = x->set[cfg_find_opt(name)];
        const char *path = x->cfg->aa_credentials_json, *val[3];
        struct cfg *c = x->cfg;
        char *text, **dst[3];
        size_t len, i;
        mode_t mode;
        cJSON *j;
        int rc;

        if (!s)
                return JB_OK;
        rc = read_small(x, s, name, path, &text, &len, &mode);
        if (rc)
                return rc;
        j = cJSON_ParseWithLength(text, len);
        explicit_bzero(text, len);
        free(text);
        if (!j || !cJSON_IsObject(j)) {
                cJSON_Delete(j);
                return cfg_ctx_err(
                        x, JB_EINPUT, s, name,
                        "%s is not a JSON object like {\"endpoint\": \"https://...\", \"login\": \"...\", "
                        "\"password\": \"...\"}",
                        path);
        }
        for (i = 0; i < 3; i++) {
                if (json_str(j, keys[i], &val[i]) != 0) {
                        cJSON_Delete(j);
                        return cfg_ctx_err(x, JB_EINPUT, s, name, "%s: \"%s\" must be a string", path,
                                           keys[i]);
                }
        }
        dst[0] = c->aa_endpoint ? NULL : &c->aa_endpoint;
        dst[1] = c->aa_login ? NULL : &c->aa_login;
        dst[2] = c->aa_password_from ? NULL : &c->aa_password;
        rc = JB_OK;
        for (i = 0; i < 3 && rc == JB_OK; i++) {
                if (!dst[i] || !val[i])
                        continue;
                *dst[i] = strdup(val[i]);
                if (!*dst[i])
                        rc = cfg_ctx_err(x, JB_ENOMEM, s, name, "out of memory");
                else if (i == 2)
                        c->aa_password_from = "credentials_json";
        }
        if (val[2]) {
                explicit_bzero(cJSON_GetObjectItemCaseSensitive(j, "password")->valuestring,
                               strlen(val[2]));
                if (rc == JB_OK && dst[2])
                        rc = note_mode(x, name, path, mode);
        }
        cJSON_Delete(j);
        return rc;
}

int cfg_secrets_resolve(struct cfg_ctx *x)
{
        struct cfg *cfg = x->cfg;
        int rc;

        rc = resolve_secret(x, "access_anywhere.password", &cfg->aa_password, &cfg->aa_password_from);
        if (!rc)
                rc = resolve_secret(x, "access_anywhere.authtoken", &cfg->aa_authtoken,
                                    &cfg->aa_authtoken_from);
        if (!rc)
                rc = load_credentials_json(x);
        if (!rc)
                rc = resolve_secret(x, "alerts.slack_webhook", &cfg->alert_webhook,
                                    &cfg->alert_webhook_from);
        return rc;
}

void cfg_secrets_register(const struct cfg *cfg)
{
        log_add_secret(cfg->aa_password);
        log_add_secret(cfg->aa_authtoken);
        log_add_secret(cfg->alert_webhook);
        kconf_register_secrets((const char *const *)cfg->kafka_rdkafka, cfg->n_kafka_rdkafka);
}
