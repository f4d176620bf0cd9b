/*
 * sim_model.c - the simulator's index (what listings show) and its S3 truth (files under
 * DIR/truth/<bucket>/), kept apart until something syncs them.
 *
 * The index is a tree of nodes: root (id 0) -> one folder per provider -> one per bucket
 * -> folders and files following the S3 keys. Two intrusive hash maps make lookups O(1):
 * (parent id, name) -> node and id -> node. Each folder keeps its children in an array
 * sorted lazily (folders first, then by name) when a listing needs it, so paging through a
 * folder costs O(page) after one sort, never O(all objects).
 * Ownership: the model owns every node; model_remove() frees a subtree, model_free() all.
 * Locking: callers hold sim.lock.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sim.h"

#define PATH_CAP (1u << 16)

/* ---------------------------------------------------------------- maps */

static uint64_t id_slot(uint64_t id)
{
        id ^= id >> 33;
        id *= 0xff51afd7ed558ccdULL;
        id ^= id >> 33;
        return id;
}

static int grow_maps(struct model *m)
{
        size_t nb, i;
        struct node **nt, *n, *nx;

        if (m->ccount >= m->cbuckets) {
                nb = m->cbuckets ? m->cbuckets * 2 : 1024;
                nt = calloc(nb, sizeof(*nt));
                if (!nt)
                        return JB_ENOMEM;
                for (i = 0; i < m->cbuckets; i++) {
                        for (n = m->ctab[i]; n; n = nx) {
                                nx = n->cnext;
                                n->cnext = nt[n->chash & (nb - 1)];
                                nt[n->chash & (nb - 1)] = n;
                        }
                }
                free(m->ctab);
                m->ctab = nt;
                m->cbuckets = nb;
        }
        if (m->icount >= m->ibuckets) {
                nb = m->ibuckets ? m->ibuckets * 2 : 1024;
                nt = calloc(nb, sizeof(*nt));
                if (!nt)
                        return JB_ENOMEM;
                for (i = 0; i < m->ibuckets; i++) {
                        for (n = m->itab[i]; n; n = nx) {
                                nx = n->inext;
                                n->inext = nt[id_slot(n->id) & (nb - 1)];
                                nt[id_slot(n->id) & (nb - 1)] = n;
                        }
                }
                free(m->itab);
                m->itab = nt;
                m->ibuckets = nb;
        }
        return JB_OK;
}

struct node *model_by_id(const struct model *m, uint64_t id)
{
        struct node *n;

        if (id == 0)
                return m->root;
        if (!m->ibuckets)
                return NULL;
        for (n = m->itab[id_slot(id) & (m->ibuckets - 1)]; n; n = n->inext)
                if (n->id == id)
                        return n;
        return NULL;
}

struct node *model_by_sid(const struct model *m, const char *sid)
{
        int64_t v;

        if (!sid || !*sid)
                return m->root;
        if (sim_parse_i64(sid, &v) || v < 0)
                return NULL;
        return model_by_id(m, (uint64_t)v);
}

struct node *model_child(const struct model *m, const struct node *dir, const char *name)
{
        uint64_t h;
        struct node *n;

        if (!m->cbuckets)
                return NULL;
        h = sim_hash(name, strlen(name), dir->id);
        for (n = m->ctab[h & (m->cbuckets - 1)]; n; n = n->cnext)
                if (n->chash == h && n->parent == dir && strcmp(n->name, name) == 0)
                        return n;
        return NULL;
}

struct node *model_add(struct model *m, struct node *dir, const char *name, enum node_type t)
{
        struct node *n, **nk;
        uint32_t nc;

        if (grow_maps(m))
                return NULL;
        if (dir->nkids == dir->capkids) {
                nc = dir->capkids ? dir->capkids * 2 : 4;
                nk = realloc(dir->kids, nc * sizeof(*nk));
                if (!nk)
                        return NULL;
                dir->kids = nk;
                dir->capkids = nc;
        }
        n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->name = strdup(name);
        if (!n->name) {
                free(n);
                return NULL;
        }
        n->type = t;
        n->id = m->next_id++;
        n->parent = dir;
        n->prov = dir->prov;
        n->bkt = dir->bkt;
        n->sorted = true;
        n->chash = sim_hash(name, strlen(name), dir->id);
        n->cnext = m->ctab[n->chash & (m->cbuckets - 1)];
        m->ctab[n->chash & (m->cbuckets - 1)] = n;
        m->ccount++;
        n->inext = m->itab[id_slot(n->id) & (m->ibuckets - 1)];
        m->itab[id_slot(n->id) & (m->ibuckets - 1)] = n;
        m->icount++;
        n->kidx = dir->nkids;
        dir->kids[dir->nkids++] = n;
        if (dir->nkids > 1)
                dir->sorted = false;
        if (t != N_FILE)
                dir->nsub++;
        return n;
}

static void unlink_maps(struct model *m, struct node *n)
{
        struct node **pp;

        for (pp = &m->ctab[n->chash & (m->cbuckets - 1)]; *pp; pp = &(*pp)->cnext) {
                if (*pp == n) {
                        *pp = n->cnext;
                        m->ccount--;
                        break;
                }
        }
        for (pp = &m->itab[id_slot(n->id) & (m->ibuckets - 1)]; *pp; pp = &(*pp)->inext) {
                if (*pp == n) {
                        *pp = n->inext;
                        m->icount--;
                        break;
                }
        }
}

static void free_node(struct node *n)
{
        free(n->name);
        free(n->ctype);
        free(n->kids);
        free(n);
}

void model_remove(struct model *m, struct node *n)
{
        struct node *p = n->parent, *last;

        while (n->nkids)
                model_remove(m, n->kids[n->nkids - 1]);
        unlink_maps(m, n);
        if (p) {
                last = p->kids[--p->nkids];
                if (last != n) {
                        p->kids[n->kidx] = last;
                        last->kidx = n->kidx;
                        p->sorted = false;
                }
                if (n->type != N_FILE)
                        p->nsub--;
        }
        free_node(n);
}

static int kid_cmp(const void *a, const void *b)
{
        const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
        int fx = x->type == N_FILE, fy = y->type == N_FILE;

        if (fx != fy)
                return fx - fy;
        return strcmp(x->name, y->name);
}

void model_sort_kids(struct node *dir)
{
        uint32_t i;

        if (dir->sorted || dir->nkids == 0) {
                dir->sorted = true;
                return;
        }
        qsort(dir->kids, dir->nkids, sizeof(*dir->kids), kid_cmp);
        for (i = 0; i < dir->nkids; i++)
                dir->kids[i]->kidx = i;
        dir->sorted = true;
}

/* ---------------------------------------------------------------- life cycle */

int model_init(struct model *m, const char *dir)
{
        memset(m, 0, sizeof(*m));
        m->dir = strdup(dir);
        m->root = calloc(1, sizeof(*m->root));
        if (!m->dir || !m->root)
                return JB_ENOMEM;
        m->root->name = strdup("");
        if (!m->root->name)
                return JB_ENOMEM;
        m->root->type = N_ROOT;
        m->root->sorted = true;
        m->next_id = 1;
        m->t0 = (int64_t)time(NULL);
        return grow_maps(m);
}

static void free_tree(struct node *n)
{
        uint32_t i;

        for (i = 0; i < n->nkids; i++)
                free_tree(n->kids[i]);
        free_node(n);
}

void model_free(struct model *m)
{
        size_t i, j;

        if (m->root)
                free_tree(m->root);
        free(m->ctab);
        free(m->itab);
        for (i = 0; i < m->nprovs; i++) {
                struct prov *p = &m->provs[i];

                for (j = 0; j < p->nbuckets; j++)
                        free(p->buckets[j].name);
                free(p->buckets);
                free(p->id);
                free(p->name);
                free(p->access_key);
                free(p->arn);
                free(p->user_agent);
        }
        free(m->provs);
        free(m->dir);
        memset(m, 0, sizeof(*m));
}

int model_add_providers(struct model *m)
{
        size_t i, j;
        struct node *pn, *bn;

        for (i = 0; i < m->nprovs; i++) {
                struct prov *p = &m->provs[i];

                pn = model_add(m, m->root, p->name, N_PROV);
                if (!pn)
                        return JB_ENOMEM;
                pn->prov = p;
                pn->mtime = m->t0;
                p->node = pn;
                for (j = 0; j < p->nbuckets; j++) {
                        bn = model_add(m, pn, p->buckets[j].name, N_BUCKET);
                        if (!bn)
                                return JB_ENOMEM;
                        bn->bkt = &p->buckets[j];
                        bn->mtime = m->t0;
                        p->buckets[j].node = bn;
                        p->buckets[j].prov = p;
                }
        }
        return JB_OK;
}

struct bucket *model_bucket(const struct model *m, const char *name)
{
        size_t i, j;

        for (i = 0; i < m->nprovs; i++)
                for (j = 0; j < m->provs[i].nbuckets; j++)
                        if (strcmp(m->provs[i].buckets[j].name, name) == 0)
                                return &m->provs[i].buckets[j];
        return NULL;
}

struct prov *model_prov(const struct model *m, const char *id)
{
        size_t i;

        for (i = 0; id && i < m->nprovs; i++)
                if (strcmp(m->provs[i].id, id) == 0)
                        return &m->provs[i];
        return NULL;
}

/* ---------------------------------------------------------------- paths */

int model_key(const struct node *n, struct buf *out)
{
        const struct node *stack[1024], *x;
        int depth = 0, rc = JB_OK;

        buf_reset(out);
        for (x = n; x && x->type != N_BUCKET; x = x->parent) {
                if (x->type != N_DIR && x->type != N_FILE)
                        return JB_EINPUT;
                if (depth == (int)(sizeof(stack) / sizeof(stack[0])))
                        return JB_ELIMIT;
                stack[depth++] = x;
        }
        if (!x)
                return JB_EINPUT;
        while (!rc && depth-- > 0) {
                rc = buf_puts(out, stack[depth]->name);
                if (!rc && depth > 0)
                        rc = buf_puts(out, "/");
        }
        if (!rc && !out->p)
                rc = buf_puts(out, "");
        return rc;
}

int model_truth_path(const struct model *m, const struct node *n, struct buf *out)
{
        struct buf key;
        int rc;

        if (!n->bkt)
                return JB_EINPUT;
        buf_init(&key, PATH_CAP);
        rc = model_key(n, &key);
        if (!rc) {
                buf_reset(out);
                rc = buf_printf(out, "%s/truth/%s%s%s", m->dir, n->bkt->name, key.len ? "/" : "",
                                key.len ? key.p : "");
        }
        buf_clear(&key);
        return rc;
}

static bool ignored_name(const char *name)
{
        return strncmp(name, ".tmp-", 5) == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* A key the truth directory can represent: no empty, "." or ".." segment, no leading
 * "/", at most one trailing "/", segments under 256 bytes. */
static bool key_valid(const char *key)
{
        const char *s = key, *e;
        size_t len;

        if (!*key || *key == '/' || strlen(key) > 4000)
                return false;
        while (*s) {
                e = strchr(s, '/');
                len = e ? (size_t)(e - s) : strlen(s);
                if (len == 0 || len > 255)
                        return false;
                if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                if (!e)
                        break;
                s = e + 1;
        }
        return true;
}

static bool key_ignored(const char *key)
{
        const char *s = key;

        for (;;) {
                if (strncmp(s, ".tmp-", 5) == 0)
                        return true;
                s = strchr(s, '/');
                if (!s)
                        return false;
                s++;
        }
}

/*
 * Find (create=true: create) the folders of key below the bucket node. Returns the folder
 * holding the last segment and sets *leaf to a malloc'd copy of it (NULL when the key ends
 * with "/", i.e. the key is a folder and the returned node is that folder). With
 * create=false a missing folder gives NULL.
 */
static struct node *key_parent(struct model *m, struct node *bn, const char *key, bool create,
                               int64_t mtime, char **leaf)
{
        char *k = strdup(key), *s, *e;
        struct node *cur = bn, *c;

        *leaf = NULL;
        if (!k)
                return NULL;
        s = k;
        while ((e = strchr(s, '/'))) {
                *e = '\0';
                c = model_child(m, cur, s);
                if (c && c->type == N_FILE) {
                        if (!create) {
                                free(k);
                                return NULL;
                        }
                        model_remove(m, c);
                        c = NULL;
                }
                if (!c) {
                        if (!create) {
                                free(k);
                                return NULL;
                        }
                        c = model_add(m, cur, s, N_DIR);
                        if (!c) {
                                free(k);
                                return NULL;
                        }
                        c->mtime = mtime;
                }
                cur = c;
                s = e + 1;
        }
        if (*s) {
                *leaf = strdup(s);
                if (!*leaf)
                        cur = NULL;
        }
        free(k);
        return cur;
}

/* Insert or update a file; *changed tells whether anything was new or different. */
static struct node *upsert_file(struct model *m, struct node *dir, const char *name, int64_t size,
                                int64_t mtime, bool *changed)
{
        struct node *c = model_child(m, dir, name);

        if (c && c->type != N_FILE) {
                model_remove(m, c);
                c = NULL;
        }
        if (!c) {
                c = model_add(m, dir, name, N_FILE);
                if (!c)
                        return NULL;
                *changed = true;
        } else if (c->size != size || c->mtime != mtime) {
                *changed = true;
        }
        c->size = size;
        c->mtime = mtime;
        return c;
}

/* ---------------------------------------------------------------- truth -> index */

static int recon_dir(struct model *m, struct node *dir, struct buf *path, bool recursive,
                     struct recon_stats *st)
{
        uint32_t gen = ++m->gen, i;
        size_t plen = path->len;
        DIR *d;
        struct dirent *de;
        struct stat sb;
        struct node *c;
        bool changed;
        int rc = JB_OK;

        d = opendir(path->p);
        while (d && (de = readdir(d)) != NULL) {
                if (ignored_name(de->d_name))
                        continue;
                path->len = plen;
                path->p[plen] = '\0';
                if (buf_printf(path, "/%s", de->d_name) != JB_OK)
                        continue; /* too long for a path: not representable */
                if (stat(path->p, &sb) != 0)
                        continue;
                c = model_child(m, dir, de->d_name);
                if (S_ISDIR(sb.st_mode)) {
                        if (c && c->type == N_FILE) {
                                model_remove(m, c);
                                st->removed++;
                                c = NULL;
                        }
                        if (!c) {
                                c = model_add(m, dir, de->d_name, N_DIR);
                                if (!c) {
                                        rc = JB_ENOMEM;
                                        break;
                                }
                                st->added++;
                        }
                        c->mtime = (int64_t)sb.st_mtime;
                        c->mark = gen;
                        if (recursive) {
                                rc = recon_dir(m, c, path, true, st);
                                if (rc)
                                        break;
                        }
                } else if (S_ISREG(sb.st_mode)) {
                        changed = false;
                        if (c && c->type != N_FILE) {
                                model_remove(m, c);
                                st->removed++;
                        }
                        c = upsert_file(m, dir, de->d_name, (int64_t)sb.st_size, (int64_t)sb.st_mtime,
                                        &changed);
                        if (!c) {
                                rc = JB_ENOMEM;
                                break;
                        }
                        c->mark = gen;
                        st->files++;
                        if (changed)
                                st->changed++;
                }
        }
        if (d)
                closedir(d);
        path->len = plen;
        path->p[plen] = '\0';
        if (rc)
                return rc;
        for (i = dir->nkids; i-- > 0;) {
                c = dir->kids[i];
                if (c->mark != gen) {
                        model_remove(m, c);
                        st->removed++;
                }
        }
        return JB_OK;
}

int model_reconcile(struct model *m, struct node *dir, bool recursive, struct recon_stats *st)
{
        struct buf path;
        int rc;

        if (dir->type != N_BUCKET && dir->type != N_DIR)
                return JB_EINPUT;
        buf_init(&path, PATH_CAP);
        rc = model_truth_path(m, dir, &path);
        if (!rc)
                rc = recon_dir(m, dir, &path, recursive, st);
        buf_clear(&path);
        return rc;
}

static bool truth_is_dir(const struct model *m, const struct node *n)
{
        struct buf path;
        struct stat sb;
        bool r = false;

        buf_init(&path, PATH_CAP);
        if (model_truth_path(m, n, &path) == JB_OK)
                r = stat(path.p, &sb) == 0 && S_ISDIR(sb.st_mode);
        buf_clear(&path);
        return r;
}

void model_prune(struct model *m, struct node *n)
{
        struct node *p;

        while (n && n->type == N_DIR && n->nkids == 0 && !truth_is_dir(m, n)) {
                p = n->parent;
                model_remove(m, n);
                n = p;
        }
}

int model_sync_key(struct model *m, struct bucket *b, const char *key, const char **result, char *errstr,
                   size_t errsz)
{
        struct buf path;
        struct stat sb;
        struct node *dir, *c;
        char *leaf = NULL;
        bool changed = false, isdir_key;
        int rc = JB_OK;
        size_t klen = strlen(key);

        *result = "unchanged";
        if (!key_valid(key))
                return jb_seterr(JB_EINPUT, errstr, errsz,
                                 "key '%s' cannot be stored in the simulator's truth", key);
        if (key_ignored(key))
                return JB_OK;
        isdir_key = key[klen - 1] == '/';
        buf_init(&path, PATH_CAP);
        if (buf_printf(&path, "%s/truth/%s/%.*s", m->dir, b->name, (int)(isdir_key ? klen - 1 : klen),
                       key) != JB_OK) {
                buf_clear(&path);
                return jb_seterr(JB_EINPUT, errstr, errsz, "key too long");
        }
        if (stat(path.p, &sb) == 0 && (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))) {
                if (S_ISREG(sb.st_mode) && !isdir_key) {
                        size_t before = m->icount;

                        dir = key_parent(m, b->node, key, true, (int64_t)sb.st_mtime, &leaf);
                        if (!dir || !leaf) {
                                rc = JB_ENOMEM;
                                goto out;
                        }
                        c = upsert_file(m, dir, leaf, (int64_t)sb.st_size, (int64_t)sb.st_mtime,
                                        &changed);
                        if (!c) {
                                rc = JB_ENOMEM;
                                goto out;
                        }
                        if (changed || m->icount != before)
                                *result = "updated";
                } else {
                        /* a folder: create it and its parents */
                        size_t before = m->icount;
                        char *k2 = NULL;

                        if (!isdir_key) {
                                k2 = malloc(klen + 2);
                                if (!k2) {
                                        rc = JB_ENOMEM;
                                        goto out;
                                }
                                memcpy(k2, key, klen);
                                k2[klen] = '/';
                                k2[klen + 1] = '\0';
                        }
                        dir = key_parent(m, b->node, k2 ? k2 : key, true, (int64_t)sb.st_mtime, &leaf);
                        free(k2);
                        if (!dir) {
                                rc = JB_ENOMEM;
                                goto out;
                        }
                        if (m->icount != before)
                                *result = "updated";
                }
        } else {
                dir = key_parent(m, b->node, key, false, 0, &leaf);
                if (!dir)
                        goto out;
                if (leaf) {
                        c = model_child(m, dir, leaf);
                        if (c && c->type == N_FILE) {
                                model_remove(m, c);
                                *result = "removed";
                                model_prune(m, dir);
                        } else if (c) {
                                size_t before = m->icount;

                                model_prune(m, c);
                                if (m->icount != before)
                                        *result = "removed";
                        }
                } else if (dir->type == N_DIR) {
                        size_t before = m->icount;

                        model_prune(m, dir);
                        if (m->icount != before)
                                *result = "removed";
                }
        }
out:
        free(leaf);
        buf_clear(&path);
        if (rc == JB_ENOMEM)
                jb_seterr(rc, errstr, errsz, "out of memory");
        return rc;
}

/* ---------------------------------------------------------------- index.jsonl */

struct irec {
        struct bucket *b;
        char *key;
        int64_t size, mtime;
};

static void clear_bucket(struct model *m, struct node *bn)
{
        while (bn->nkids)
                model_remove(m, bn->kids[bn->nkids - 1]);
}

int model_load_index(struct model *m, const char *text, size_t len, char *errstr, size_t errsz)
{
        struct irec *recs = NULL, *nr;
        size_t nrec = 0, cap = 0, i, j, line = 0, pos = 0, eol;
        cJSON *o, *jb, *jk, *js, *jm;
        struct node *dir;
        char *leaf;
        bool changed;
        int rc = JB_OK;

        while (pos < len) {
                for (eol = pos; eol < len && text[eol] != '\n'; eol++)
                        ;
                line++;
                for (j = pos; j < eol && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r'); j++)
                        ;
                if (j == eol) {
                        pos = eol + 1;
                        continue;
                }
                o = cJSON_ParseWithLength(text + pos, eol - pos);
                jb = cJSON_GetObjectItemCaseSensitive(o, "b");
                jk = cJSON_GetObjectItemCaseSensitive(o, "k");
                js = cJSON_GetObjectItemCaseSensitive(o, "s");
                jm = cJSON_GetObjectItemCaseSensitive(o, "m");
                if (!o || !cJSON_IsString(jb) || !cJSON_IsString(jk) || (js && !cJSON_IsNumber(js)) ||
                    (jm && !cJSON_IsNumber(jm))) {
                        cJSON_Delete(o);
                        rc = jb_seterr(
                                JB_EINPUT, errstr, errsz,
                                "index line %zu: expected {\"b\":bucket,\"k\":key,\"s\":size,\"m\":mtime}",
                                line);
                        goto out;
                }
                if (nrec == cap) {
                        cap = cap ? cap * 2 : 1024;
                        nr = realloc(recs, cap * sizeof(*recs));
                        if (!nr) {
                                cJSON_Delete(o);
                                rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                                goto out;
                        }
                        recs = nr;
                }
                recs[nrec].b = model_bucket(m, jb->valuestring);
                if (!recs[nrec].b || !key_valid(jk->valuestring)) {
                        rc = jb_seterr(JB_EINPUT, errstr, errsz, "index line %zu: %s '%s' %s", line,
                                       recs[nrec].b ? "key" : "bucket",
                                       recs[nrec].b ? jk->valuestring : jb->valuestring,
                                       recs[nrec].b ? "cannot be stored" : "is not in sim.json");
                        cJSON_Delete(o);
                        goto out;
                }
                recs[nrec].key = strdup(jk->valuestring);
                recs[nrec].size = js ? (int64_t)js->valuedouble : 0;
                recs[nrec].mtime = jm ? (int64_t)jm->valuedouble : 0;
                cJSON_Delete(o);
                if (!recs[nrec].key) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        goto out;
                }
                nrec++;
                pos = eol + 1;
        }
        for (i = 0; i < m->nprovs; i++)
                for (j = 0; j < m->provs[i].nbuckets; j++)
                        clear_bucket(m, m->provs[i].buckets[j].node);
        for (i = 0; i < nrec; i++) {
                if (key_ignored(recs[i].key))
                        continue;
                dir = key_parent(m, recs[i].b->node, recs[i].key, true, recs[i].mtime, &leaf);
                if (dir && leaf) {
                        changed = false;
                        if (!upsert_file(m, dir, leaf, recs[i].size, recs[i].mtime, &changed))
                                dir = NULL;
                }
                free(leaf);
                if (!dir) {
                        rc = jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                        goto out;
                }
        }
out:
        for (i = 0; i < nrec; i++)
                free(recs[i].key);
        free(recs);
        return rc;
}

static int dump_dir(struct node *dir, const char *bucket, struct buf *key, struct buf *out)
{
        size_t klen = key->len;
        uint32_t i;
        struct node *c;
        int rc = JB_OK;

        model_sort_kids(dir);
        for (i = 0; !rc && i < dir->nkids; i++) {
                c = dir->kids[i];
                key->len = klen;
                rc = buf_puts(key, c->name);
                if (rc)
                        break;
                if (c->type == N_FILE) {
                        rc = buf_puts(out, "{\"b\":");
                        if (!rc)
                                rc = buf_json_str(out, bucket, strlen(bucket));
                        if (!rc)
                                rc = buf_puts(out, ",\"k\":");
                        if (!rc)
                                rc = buf_json_str(out, key->p, key->len);
                        if (!rc)
                                rc = buf_printf(out, ",\"s\":%lld,\"m\":%lld}\n", (long long)c->size,
                                                (long long)c->mtime);
                } else {
                        rc = buf_puts(key, "/");
                        if (!rc && c->nkids == 0) {
                                rc = buf_puts(out, "{\"b\":");
                                if (!rc)
                                        rc = buf_json_str(out, bucket, strlen(bucket));
                                if (!rc)
                                        rc = buf_puts(out, ",\"k\":");
                                if (!rc)
                                        rc = buf_json_str(out, key->p, key->len);
                                if (!rc)
                                        rc = buf_printf(out, ",\"m\":%lld}\n", (long long)c->mtime);
                        }
                        if (!rc)
                                rc = dump_dir(c, bucket, key, out);
                }
        }
        key->len = klen;
        if (key->p)
                key->p[klen] = '\0';
        return rc;
}

int model_dump_index(struct model *m, struct buf *out)
{
        struct buf key;
        size_t i, j;
        int rc = JB_OK;

        buf_init(&key, PATH_CAP);
        rc = buf_puts(out, "");
        for (i = 0; !rc && i < m->nprovs; i++)
                for (j = 0; !rc && j < m->provs[i].nbuckets; j++) {
                        buf_reset(&key);
                        rc = dump_dir(m->provs[i].buckets[j].node, m->provs[i].buckets[j].name, &key,
                                      out);
                }
        buf_clear(&key);
        return rc;
}

/* ---------------------------------------------------------------- diff */

struct strlist {
        char **v;
        size_t n, cap;
        int err;
};

static void sl_add(struct strlist *l, const char *bucket, const char *key)
{
        char **nv, *s;
        size_t n;

        if (l->err)
                return;
        if (l->n == l->cap) {
                l->cap = l->cap ? l->cap * 2 : 64;
                nv = realloc(l->v, l->cap * sizeof(*nv));
                if (!nv) {
                        l->err = JB_ENOMEM;
                        return;
                }
                l->v = nv;
        }
        n = strlen(bucket) + strlen(key) + 2;
        s = malloc(n);
        if (!s) {
                l->err = JB_ENOMEM;
                return;
        }
        snprintf(s, n, "%s/%s", bucket, key);
        l->v[l->n++] = s;
}

static void sl_free(struct strlist *l)
{
        size_t i;

        for (i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

struct diffctx {
        struct model *m;
        const char *bucket;
        uint32_t gen;
        struct strlist missing, extra, stale;
};

/* Walk the truth directory path (key prefix in key) alongside index folder dir (or NULL). */
static void diff_truth(struct diffctx *dc, struct node *dir, struct buf *path, struct buf *key)
{
        size_t plen = path->len, klen = key->len;
        DIR *d = opendir(path->p);
        struct dirent *de;
        struct stat sb;
        struct node *c;

        while (d && (de = readdir(d)) != NULL) {
                if (ignored_name(de->d_name))
                        continue;
                path->len = plen;
                path->p[plen] = '\0';
                key->len = klen;
                if (key->p)
                        key->p[klen] = '\0';
                if (buf_printf(path, "/%s", de->d_name) || buf_puts(key, de->d_name))
                        continue;
                if (stat(path->p, &sb) != 0)
                        continue;
                c = dir ? model_child(dc->m, dir, de->d_name) : NULL;
                if (S_ISDIR(sb.st_mode)) {
                        if (buf_puts(key, "/"))
                                continue;
                        diff_truth(dc, c && c->type != N_FILE ? c : NULL, path, key);
                } else if (S_ISREG(sb.st_mode)) {
                        if (!c || c->type != N_FILE) {
                                sl_add(&dc->missing, dc->bucket, key->p);
                        } else {
                                c->mark = dc->gen;
                                if (c->size != (int64_t)sb.st_size || c->mtime != (int64_t)sb.st_mtime)
                                        sl_add(&dc->stale, dc->bucket, key->p);
                        }
                }
        }
        if (d)
                closedir(d);
        path->len = plen;
        path->p[plen] = '\0';
        key->len = klen;
        if (key->p)
                key->p[klen] = '\0';
}

static void diff_index(struct diffctx *dc, struct node *dir, struct buf *key)
{
        size_t klen = key->len;
        uint32_t i;
        struct node *c;

        for (i = 0; i < dir->nkids; i++) {
                c = dir->kids[i];
                key->len = klen;
                if (key->p)
                        key->p[klen] = '\0';
                if (buf_puts(key, c->name))
                        continue;
                if (c->type == N_FILE) {
                        if (c->mark != dc->gen)
                                sl_add(&dc->extra, dc->bucket, key->p);
                } else if (!buf_puts(key, "/")) {
                        diff_index(dc, c, key);
                }
        }
        key->len = klen;
        if (key->p)
                key->p[klen] = '\0';
}

static void emit_list(struct jw *w, const char *name, const char *nname, struct strlist *l)
{
        size_t i;

        if (l->n)
                qsort(l->v, l->n, sizeof(*l->v), str_cmp);
        jw_key(w, name);
        jw_arr(w);
        for (i = 0; i < l->n && i < 1000; i++)
                jw_str(w, l->v[i]);
        jw_end_arr(w);
        jw_kint(w, nname, (int64_t)l->n);
}

int model_diff(struct model *m, const char *only, const char *const *excl, size_t nexcl, struct jw *w)
{
        struct diffctx dc;
        struct buf path, key;
        size_t i, j, k;
        int rc;
        bool skip;

        memset(&dc, 0, sizeof(dc));
        dc.m = m;
        buf_init(&path, PATH_CAP);
        buf_init(&key, PATH_CAP);
        for (i = 0; i < m->nprovs; i++) {
                for (j = 0; j < m->provs[i].nbuckets; j++) {
                        struct bucket *b = &m->provs[i].buckets[j];

                        skip = only && strcmp(only, b->name) != 0;
                        for (k = 0; k < nexcl; k++)
                                if (strcmp(excl[k], b->name) == 0)
                                        skip = true;
                        if (skip)
                                continue;
                        dc.bucket = b->name;
                        dc.gen = ++m->gen;
                        buf_reset(&path);
                        buf_reset(&key);
                        if (buf_printf(&path, "%s/truth/%s", m->dir, b->name) || buf_puts(&key, ""))
                                continue;
                        diff_truth(&dc, b->node, &path, &key);
                        buf_reset(&key);
                        diff_index(&dc, b->node, &key);
                }
        }
        rc = dc.missing.err ? dc.missing.err : dc.extra.err ? dc.extra.err : dc.stale.err;
        if (!rc) {
                jw_obj(w);
                jw_kbool(w, "equal", dc.missing.n == 0 && dc.extra.n == 0 && dc.stale.n == 0);
                emit_list(w, "missing", "n_missing", &dc.missing);
                emit_list(w, "extra", "n_extra", &dc.extra);
                emit_list(w, "stale", "n_stale", &dc.stale);
                jw_end_obj(w);
        }
        sl_free(&dc.missing);
        sl_free(&dc.extra);
        sl_free(&dc.stale);
        buf_clear(&path);
        buf_clear(&key);
        return rc;
}

/* ---------------------------------------------------------------- items */

int64_t model_count_files(const struct node *n)
{
        int64_t c = 0;
        uint32_t i;

        if (n->type == N_FILE)
                return 1;
        for (i = 0; i < n->nkids; i++)
                c += model_count_files(n->kids[i]);
        return c;
}

void model_item_json(const struct model *m, struct node *n, struct jw *w)
{
        char t[20];
        int64_t mt = n->mtime ? n->mtime : m->t0;

        jw_obj(w);
        jw_kistr(w, "fi_id", (int64_t)n->id);
        if (n->parent)
                jw_kistr(w, "fi_pid", (int64_t)n->parent->id);
        else
                jw_kstr(w, "fi_pid", "");
        jw_kstr(w, "fi_name", n->name);
        jw_kstr(w, "fi_type", n->type == N_FILE ? "0" : "1");
        jw_kistr(w, "fi_size", n->type == N_FILE ? n->size : 0);
        sim_fmt_time(mt, t);
        jw_kstr(w, "fi_modified", t);
        sim_fmt_time(n->ltime ? n->ltime : mt, t);
        jw_kstr(w, "fi_localtime", t);
        jw_kstr(w, "fi_contenttype",
                n->type != N_FILE ? ""
                : n->ctype        ? n->ctype
                                  : sim_content_type(n->name));
        jw_kbool(w, "trash", false);
        if (n->type != N_FILE)
                jw_kint(w, "subfolders", n->nsub);
        if (n->prov) {
                jw_kstr(w, "fi_provider", n->prov->id);
                jw_kstr(w, "isbucket", n->type == N_BUCKET ? "y" : "n");
        }
        jw_end_obj(w);
}
