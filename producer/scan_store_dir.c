/*
 * scan_store_dir.c - the scanner's memory in the local state directory (see scan_store.h).
 * Owns the file format of scan/<hash>; a damaged file is an error that names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan_store.h"

#define SCAN_HEADER "jibe-scan 1\t"
#define SCAN_STATE_MAX (256U << 20)

struct scan_store_dir {
        struct scan_store ss;
        struct state *st;
};

static void state_name(const char *path, char *out, size_t outsz)
{
        snprintf(out, outsz, "scan/%016llx", (unsigned long long)sset_hash(path));
}

struct load_ctx {
        struct scan_store_dir *d;
        scan_store_fn fn;
        void *opaque;
        char *err;
        size_t errsz;
        int rc;
};

static int load_one(void *opaque, const char *name)
{
        struct load_ctx *lc = opaque;
        struct state *st = lc->d->st;
        char rel[64], *line, *nl, *path;
        size_t names = 0;
        struct buf b;
        int rc;

        snprintf(rel, sizeof(rel), "scan/%s", name);
        buf_init(&b, SCAN_STATE_MAX);
        rc = state_read(st, rel, &b, lc->err, lc->errsz);
        if (rc)
                goto out;
        if (b.len < strlen(SCAN_HEADER) || memcmp(b.p, SCAN_HEADER, strlen(SCAN_HEADER)) != 0 ||
            !(nl = strchr(b.p, '\n'))) {
                rc = jb_seterr(JB_EINPUT, lc->err, lc->errsz,
                               "state file %s/%s is damaged (no \"jibe-scan 1\" header): remove it to "
                               "rescan its folder (its files will be resynced once more)",
                               state_path(st), rel);
                goto out;
        }
        *nl = '\0';
        path = b.p + strlen(SCAN_HEADER);
        for (line = nl + 1; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                if (!nl) {
                        /* a write is atomic: a last line without newline means damage */
                        rc = jb_seterr(JB_EINPUT, lc->err, lc->errsz,
                                       "state file %s/%s is damaged (last line cut): remove it to "
                                       "rescan its folder",
                                       state_path(st), rel);
                        break;
                }
                *nl = '\0';
                if (!*line)
                        continue;
                names++;
                if ((rc = lc->fn(lc->opaque, path, line)) != 0)
                        break;
        }
        if (!rc && !names)
                rc = lc->fn(lc->opaque, path, NULL); /* a folder with no file yet */
out:
        buf_clear(&b);
        return lc->rc = rc;
}

static int dir_load(struct scan_store *ss, scan_store_fn fn, void *opaque, char *errstr, size_t errsz)
{
        struct scan_store_dir *d = (struct scan_store_dir *)ss;
        struct load_ctx lc = {d, fn, opaque, errstr, errsz, JB_OK};
        int rc = state_list(d->st, "scan", load_one, &lc, errstr, errsz);

        return rc ? rc : lc.rc;
}

static int dir_save(struct scan_store *ss, const char *folder, const struct sset *done,
                    const struct sset *added, char *errstr, size_t errsz)
{
        struct scan_store_dir *d = (struct scan_store_dir *)ss;
        const struct sset_ent *e;
        char rel[64];
        struct buf b;
        size_t i = 0;
        int rc;

        (void)added; /* the whole folder is rewritten */
        buf_init(&b, SCAN_STATE_MAX);
        rc = buf_printf(&b, SCAN_HEADER "%s\n", folder);
        while (!rc && (i = sset_next(done, i, &e)) != 0)
                rc = buf_printf(&b, "%s\n", e->s);
        state_name(folder, rel, sizeof(rel));
        if (!rc)
                rc = state_write(d->st, rel, b.p, b.len, errstr, errsz);
        else
                jb_seterr(rc, errstr, errsz, "the list of processed files of %s is too large", folder);
        buf_clear(&b);
        return rc;
}

static int dir_forget(struct scan_store *ss, const char *folder, const struct sset *done, char *errstr,
                      size_t errsz)
{
        struct scan_store_dir *d = (struct scan_store_dir *)ss;
        char rel[64];

        (void)done;
        state_name(folder, rel, sizeof(rel));
        return state_remove(d->st, rel, errstr, errsz);
}

static void dir_destroy(struct scan_store *ss)
{
        free(ss);
}

static const struct scan_store_ops dir_ops = {dir_load, dir_save, dir_forget, dir_destroy};

struct scan_store *scan_store_dir_new(struct state *st)
{
        struct scan_store_dir *d = calloc(1, sizeof(*d));

        if (!d)
                return NULL;
        d->ss.ops = &dir_ops;
        d->st = st;
        return &d->ss;
}

void scan_store_free(struct scan_store *ss)
{
        if (ss)
                ss->ops->destroy(ss);
}
