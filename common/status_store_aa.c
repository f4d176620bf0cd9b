/*
 * status_store_aa.c - the status store in an Access Anywhere folder (status.folder): one file
 * <instance>.json per instance (a status_store backend, see common/status_store.h).
 *
 * Owns: its own Access Anywhere client (one thread uses a store at a time), the folder's
 * fi_id once found or made, and the buffer of one download at a time.
 * put(): uploads the document under the instance's file name into the folder. Access
 * Anywhere replaces a file uploaded under a name that exists: rclone's Update uploads over
 * the existing object with no delete, and the Python client's doCompleteUpload "creates or
 * updates" the file record; the simulator does the same (PROTOCOL.md), so no delete is made.
 * list(): lists the folder (no cloud refresh: the files are jibe's own uploads, so the index
 * knows them), then downloads each *.json file (at most STATUS_DOC_MAX bytes) and hands it
 * over as it is. A folder that went away (deleted by someone) is found or made again once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aa.h"
#include "buf.h"
#include "log.h"
#include "status_store.h"

#define SA_SUFFIX ".json"

struct status_store_aa {
        struct status_store ss;
        struct aa_client *aa;
        char *folder; /* as configured, for messages */
        char *fi_id;  /* the folder, once found; NULL: look it up (again) */
};

/* One file of the folder worth downloading. */
struct sa_file {
        char *name, *fi_id;
        int64_t size;
};

struct sa_listing {
        struct sa_file *f;
        size_t n, cap;
        size_t oversized;
        char big[256]; /* the last file skipped for its size */
};

static int sa_folder(struct status_store_aa *s, char *errstr, size_t errsz)
{
        struct aa_item it;
        int rc;

        if (s->fi_id)
                return JB_OK;
        rc = status_folder_find(s->aa, s->folder, 1, &it, errstr, errsz);
        if (rc)
                return rc;
        s->fi_id = strdup(it.fi_id);
        aa_item_clear(&it);
        return s->fi_id ? JB_OK : jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
}

/* The folder is gone (JB_ENOTFOUND from a call on it): look it up again next time. */
static void sa_forget_folder(struct status_store_aa *s)
{
        free(s->fi_id);
        s->fi_id = NULL;
}

static int sa_put(struct status_store *ss, const char *instance, const void *doc, size_t n, char *errstr,
                  size_t errsz)
{
        struct status_store_aa *s = (struct status_store_aa *)ss;
        char name[STATUS_INSTANCE_MAX + sizeof(SA_SUFFIX)];
        int rc, tries;

        if ((rc = status_instance_check(instance, errstr, errsz)) != JB_OK)
                return rc;
        if (n > STATUS_DOC_MAX)
                return jb_seterr(JB_ELIMIT, errstr, errsz,
                                 "the status of %s is %zu bytes, over the %u the store accepts",
                                 instance, n, STATUS_DOC_MAX);
        snprintf(name, sizeof(name), "%s" SA_SUFFIX, instance);
        for (tries = 0; tries < 2; tries++) {
                if ((rc = sa_folder(s, errstr, errsz)) != JB_OK)
                        return rc;
                rc = aa_upload(s->aa, s->fi_id, name, doc, n, NULL, errstr, errsz);
                if (rc != JB_ENOTFOUND)
                        break;
                sa_forget_folder(s);
        }
        return rc;
}

static int sa_list_item(void *opaque, const struct aa_item *it)
{
        struct sa_listing *L = opaque;
        size_t nl = strlen(it->name), sl = strlen(SA_SUFFIX);
        struct sa_file *f;

        if (it->type != AA_FILE || nl <= sl || strcmp(it->name + nl - sl, SA_SUFFIX) != 0)
                return 0;
        if (it->size > (int64_t)STATUS_DOC_MAX) {
                L->oversized++;
                snprintf(L->big, sizeof(L->big), "%s, %lld bytes", it->name, (long long)it->size);
                return 0;
        }
        if (L->n == L->cap) {
                size_t cap = L->cap ? L->cap * 2 : 16;
                struct sa_file *nf = realloc(L->f, cap * sizeof(*nf));

                if (!nf)
                        return JB_ENOMEM;
                L->f = nf;
                L->cap = cap;
        }
        f = &L->f[L->n];
        f->name = strdup(it->name);
        f->fi_id = strdup(it->fi_id);
        f->size = it->size;
        if (!f->name || !f->fi_id) {
                free(f->name);
                free(f->fi_id);
                return JB_ENOMEM;
        }
        L->n++;
        return 0;
}

static void sa_listing_clear(struct sa_listing *L)
{
        size_t i;

        for (i = 0; i < L->n; i++) {
                free(L->f[i].name);
                free(L->f[i].fi_id);
        }
        free(L->f);
        memset(L, 0, sizeof(*L));
}

static int sa_sink(void *opaque, const void *p, size_t n)
{
        struct buf *b = opaque;

        return buf_append(b, p, n) == JB_OK ? JB_OK : JB_ELIMIT;
}

/* Download one listed file into b. A file replaced since the listing (its id gone, or its
 * size changed) is looked up again by its name once. JB_ENOTFOUND: it went away meanwhile. */
static int sa_fetch(struct status_store_aa *s, const struct sa_file *f, struct buf *b, char *errstr,
                    size_t errsz)
{
        struct aa_dl_want want = {f->size, 1};
        struct aa_item it;
        int rc;

        buf_reset(b);
        rc = aa_download_ex(s->aa, f->fi_id, &want, sa_sink, b, errstr, errsz);
        if (rc != JB_ENOTFOUND && rc != JB_ETRANSIENT)
                return rc;
        rc = aa_check_path(s->aa, f->name, s->fi_id, &it, errstr, errsz);
        if (rc)
                return rc;
        want.size = it.size;
        buf_reset(b);
        rc = it.size > (int64_t)STATUS_DOC_MAX
                     ? jb_seterr(JB_ELIMIT, errstr, errsz, "%s is %lld bytes", f->name,
                                 (long long)it.size)
                     : aa_download_ex(s->aa, it.fi_id, &want, sa_sink, b, errstr, errsz);
        aa_item_clear(&it);
        return rc;
}

static int sa_list(struct status_store *ss, status_store_fn fn, void *opaque, char *errstr, size_t errsz)
{
        struct status_store_aa *s = (struct status_store_aa *)ss;
        struct sa_listing L;
        struct buf b;
        char where[1400], instance[1024];
        size_t i, sl = strlen(SA_SUFFIX);
        int rc = JB_OK, tries;

        memset(&L, 0, sizeof(L));
        for (tries = 0; tries < 2; tries++) {
                if ((rc = sa_folder(s, errstr, errsz)) != JB_OK)
                        return rc;
                sa_listing_clear(&L);
                rc = aa_list(s->aa, s->fi_id, 0, sa_list_item, &L, errstr, errsz);
                if (rc != JB_ENOTFOUND)
                        break;
                sa_forget_folder(s);
        }
        if (rc) {
                sa_listing_clear(&L);
                return rc;
        }
        if (L.oversized)
                log_msg(LL_WARN, "status",
                        "%zu file(s) in the status folder %s are larger than a status document can be "
                        "(%u bytes) and were not read (%s): remove them",
                        L.oversized, s->folder, STATUS_DOC_MAX, L.big);
        buf_init(&b, STATUS_DOC_MAX);
        for (i = 0; !rc && i < L.n; i++) {
                rc = sa_fetch(s, &L.f[i], &b, errstr, errsz);
                if (rc == JB_ENOTFOUND) { /* deleted since the listing: not there any more */
                        rc = JB_OK;
                        continue;
                }
                if (rc == JB_ELIMIT) {
                        log_msg(LL_WARN, "status",
                                "%s/%s is larger than a status document can be (%u bytes) and was not read: "
                                "remove it",
                                s->folder, L.f[i].name, STATUS_DOC_MAX);
                        rc = JB_OK;
                        continue;
                }
                if (rc)
                        break;
                snprintf(instance, sizeof(instance), "%.*s", (int)(strlen(L.f[i].name) - sl),
                         L.f[i].name);
                snprintf(where, sizeof(where), "Access Anywhere %s/%s", s->folder, L.f[i].name);
                rc = fn(opaque, instance, b.len ? b.p : "", b.len, where);
        }
        buf_clear(&b);
        sa_listing_clear(&L);
        return rc;
}

static void sa_destroy(struct status_store *ss)
{
        struct status_store_aa *s = (struct status_store_aa *)ss;

        aa_client_free(s->aa);
        free(s->folder);
        free(s->fi_id);
        free(s);
}

static const struct status_store_ops sa_ops = {sa_put, sa_list, sa_destroy};

struct status_store *status_store_aa_new(const struct aa_opts *aa, const char *folder, char *errstr,
                                         size_t errsz)
{
        struct status_store_aa *s;

        if (status_folder_check("status.folder", folder, errstr, errsz) != JB_OK)
                return NULL;
        s = calloc(1, sizeof(*s));
        if (!s || !(s->folder = strdup(folder))) {
                free(s);
                jb_seterr(JB_ENOMEM, errstr, errsz, "out of memory");
                return NULL;
        }
        s->ss.ops = &sa_ops;
        if (aa_client_new(aa, &s->aa, errstr, errsz) != JB_OK) {
                sa_destroy(&s->ss);
                return NULL;
        }
        return &s->ss;
}
