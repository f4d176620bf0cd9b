/*
 * status_store.c - what both status store backends share (status_store.h): freeing a store,
 * the rules of instance names and status folders, and finding (or making) a folder of
 * Access Anywhere by its path.
 * Owns nothing: every function works on what it is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status_store.h"

#define SF_NAME_MAX 1024 /* one name of a folder path */

void status_store_free(struct status_store *ss)
{
        if (ss)
                ss->ops->destroy(ss);
}

int status_instance_check(const char *instance, char *errstr, size_t errsz)
{
        const unsigned char *p;
        size_t n;

        if (!instance || !*instance)
                return jb_seterr(
                        JB_EINPUT, errstr, errsz,
                        "the instance name is empty: set status.instance to a name such as \"east-1\"");
        n = strlen(instance);
        if (n > STATUS_INSTANCE_MAX)
                return jb_seterr(
                        JB_EINPUT, errstr, errsz,
                        "the instance name \"%.40s...\" is %zu bytes long (at most %u): set a shorter "
                        "status.instance",
                        instance, n, STATUS_INSTANCE_MAX);
        for (p = (const unsigned char *)instance; *p; p++)
                if (*p == '/' || *p < 0x20 || *p == 0x7f)
                        return jb_seterr(
                                JB_EINPUT, errstr, errsz,
                                "the instance name \"%.*s\" has %s at byte %zu: it becomes a file name, "
                                "so set status.instance to a name without '/' or control characters",
                                (int)(p - (const unsigned char *)instance), instance,
                                *p == '/' ? "a '/'" : "a control character",
                                (size_t)(p - (const unsigned char *)instance) + 1);
        return JB_OK;
}

/* The next name of a '/'-separated path (empty names skipped): its length, 0 at the end. */
static size_t sf_next(const char **p)
{
        while (**p == '/')
                (*p)++;
        return strcspn(*p, "/");
}

int status_folder_check(const char *what, const char *folder, char *errstr, size_t errsz)
{
        const char *p = folder;
        size_t n, names = 0;

        if (!folder || *folder != '/')
                return jb_seterr(
                        JB_EINPUT, errstr, errsz,
                        "%s: \"%s\" is not an Access Anywhere path: write "
                        "\"/<provider>/<bucket>/<folder>\", e.g. \"/S3 Prod/ops-bucket/jibe/status\"",
                        what, folder ? folder : "");
        while ((n = sf_next(&p)) != 0) {
                if (n >= SF_NAME_MAX)
                        return jb_seterr(JB_EINPUT, errstr, errsz,
                                         "%s: a name in \"%.80s...\" is too long", what, folder);
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return jb_seterr(
                                JB_EINPUT, errstr, errsz,
                                "%s: \"%s\" has a '.' or '..' name: write the folder's path without them",
                                what, folder);
                names++;
                p += n;
        }
        if (names < 2)
                return jb_seterr(
                        JB_EINPUT, errstr, errsz,
                        "%s: \"%s\" is not inside a bucket: Access Anywhere keeps files only in "
                        "buckets, so write \"/<provider>/<bucket>/<folder>\", e.g. "
                        "\"/S3 Prod/ops-bucket/jibe/status\"",
                        what, folder);
        return JB_OK;
}

/* The folder path without its leading '/' and with one '/' between names, into out. */
static int sf_clean(const char *folder, char *out, size_t outsz)
{
        const char *p = folder;
        size_t n, len = 0;

        out[0] = '\0';
        while ((n = sf_next(&p)) != 0) {
                if (len + n + 2 > outsz)
                        return JB_EINPUT;
                if (len)
                        out[len++] = '/';
                memcpy(out + len, p, n);
                len += n;
                out[len] = '\0';
                p += n;
        }
        return JB_OK;
}

int status_folder_find(struct aa_client *aa, const char *folder, int make, struct aa_item *out,
                       char *errstr, size_t errsz)
{
        char path[4096], name[SF_NAME_MAX], pid[512] = "0";
        const char *p;
        struct aa_item it;
        size_t n, depth = 0;
        int rc;

        if (out)
                memset(out, 0, sizeof(*out));
        if ((rc = status_folder_check("folder", folder, errstr, errsz)) != JB_OK)
                return rc;
        if (sf_clean(folder, path, sizeof(path)))
                return jb_seterr(JB_EINPUT, errstr, errsz, "the folder path %.80s... is too long",
                                 folder);
        /* Most of the time the folder is there: one call. */
        rc = aa_check_path(aa, path, "0", &it, errstr, errsz);
        if (rc != JB_ENOTFOUND) {
                if (!rc && it.type != AA_FOLDER) {
                        aa_item_clear(&it);
                        return jb_seterr(
                                JB_EINPUT, errstr, errsz,
                                "%s is a file in Access Anywhere, not a folder: choose another path",
                                folder);
                }
                if (!rc && out)
                        *out = it;
                else
                        aa_item_clear(&it);
                return rc;
        }
        /* Walk down from the root, making what is missing below the bucket. */
        p = path;
        memset(&it, 0, sizeof(it));
        while ((n = sf_next(&p)) != 0) {
                memcpy(name, p, n);
                name[n] = '\0';
                p += n;
                aa_item_clear(&it);
                rc = aa_check_path(aa, name, pid, &it, errstr, errsz);
                if (rc == JB_ENOTFOUND && depth < 2) {
                        return jb_seterr(
                                JB_ENOTFOUND, errstr, errsz,
                                "Access Anywhere has no %s \"%s\" (for %s): the folder must be inside "
                                "an existing bucket",
                                depth ? "bucket" : "provider", name, folder);
                } else if (rc == JB_ENOTFOUND && !make) {
                        return jb_seterr(JB_ENOTFOUND, errstr, errsz,
                                         "%s does not exist in Access Anywhere", folder);
                } else if (rc == JB_ENOTFOUND) {
                        rc = aa_mkdir(aa, pid, name, &it, errstr, errsz);
                        if (rc && rc != JB_ETRANSIENT && rc != JB_EFATAL) {
                                /* Another instance may have made it meanwhile. */
                                char e2[256];

                                aa_item_clear(&it);
                                if (aa_check_path(aa, name, pid, &it, e2, sizeof(e2)) == JB_OK)
                                        rc = JB_OK;
                        }
                        if (rc) {
                                char why[512];

                                snprintf(why, sizeof(why), "%s", errstr ? errstr : "");
                                return jb_seterr(rc, errstr, errsz,
                                                 "cannot make the folder %s in Access Anywhere: %s",
                                                 folder, why);
                        }
                } else if (rc) {
                        return rc;
                }
                if (it.type != AA_FOLDER) {
                        aa_item_clear(&it);
                        return jb_seterr(
                                JB_EINPUT, errstr, errsz,
                                "\"%s\" in %s is a file in Access Anywhere, not a folder: choose another path",
                                name, folder);
                }
                if (snprintf(pid, sizeof(pid), "%s", it.fi_id) >= (int)sizeof(pid)) {
                        aa_item_clear(&it);
                        return jb_seterr(JB_EINPUT, errstr, errsz, "a folder id is too long");
                }
                depth++;
        }
        if (out)
                *out = it;
        else
                aa_item_clear(&it);
        return JB_OK;
}
