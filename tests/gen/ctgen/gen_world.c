/*
 * gen_world.c - the simulated estate of jibe-ctgen: three AWS accounts (one in an account
 * trail, two in an organization trail), six (account, region) log streams, two Access
 * Anywhere providers, their buckets, buckets no provider manages, the people and programs
 * that call S3, and the S3 truth (in memory as key sets, on disk under DIR/truth/).
 *
 * The estate itself is fixed (tests can name its buckets); --seed only changes the objects and
 * the activity. A struct gen_world owns its key sets and root strings; gen_world_free()
 * releases them. Files written: DIR/sim.json, DIR/index.jsonl, DIR/ctgen/state.json and the
 * truth objects.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ctgen.h"
#include "state.h"

/* ---------- key sets ---------- */

static uint64_t key_hash(const char *k)
{
        return gen_hash(k, strlen(k), 0);
}

static void ks_rehash(struct gen_keyset *ks, size_t hcap)
{
        size_t i;

        free(ks->h);
        ks->hcap = hcap;
        ks->h = gen_xmalloc(hcap * sizeof(*ks->h));
        for (i = 0; i < hcap; i++)
                ks->h[i] = -1;
        for (i = 0; i < ks->n; i++) {
                size_t j = key_hash(ks->v[i].key) & (hcap - 1);

                while (ks->h[j] != -1)
                        j = (j + 1) & (hcap - 1);
                ks->h[j] = (int32_t)i;
        }
        ks->used = ks->n;
}

/* slot of key, or -1 */
static long ks_slot(const struct gen_keyset *ks, const char *key)
{
        size_t j;

        if (!ks->hcap)
                return -1;
        j = key_hash(key) & (ks->hcap - 1);
        while (ks->h[j] != -1) {
                if (ks->h[j] >= 0 && strcmp(ks->v[ks->h[j]].key, key) == 0)
                        return (long)j;
                j = (j + 1) & (ks->hcap - 1);
        }
        return -1;
}

int gen_ks_find(const struct gen_keyset *ks, const char *key)
{
        long s = ks_slot(ks, key);

        return s < 0 ? -1 : ks->h[s];
}

void gen_ks_put(struct gen_keyset *ks, const char *key, uint64_t size, int64_t mtime, uint32_t ver)
{
        int i = gen_ks_find(ks, key);
        size_t j;

        if (i >= 0) {
                ks->v[i].size = size;
                ks->v[i].mtime = mtime;
                ks->v[i].ver = ver;
                return;
        }
        if ((ks->used + 1) * 2 > ks->hcap)
                ks_rehash(ks, ks->hcap ? (ks->n * 4 > ks->hcap ? ks->hcap * 2 : ks->hcap) : 64);
        if (ks->n == ks->cap) {
                ks->cap = ks->cap ? ks->cap * 2 : 64;
                ks->v = gen_xrealloc(ks->v, ks->cap * sizeof(*ks->v));
        }
        ks->v[ks->n].key = gen_xstrdup(key);
        ks->v[ks->n].size = size;
        ks->v[ks->n].mtime = mtime;
        ks->v[ks->n].ver = ver;
        j = key_hash(key) & (ks->hcap - 1);
        while (ks->h[j] >= 0)
                j = (j + 1) & (ks->hcap - 1);
        if (ks->h[j] == -1)
                ks->used++;
        ks->h[j] = (int32_t)ks->n;
        ks->n++;
}

int gen_ks_del(struct gen_keyset *ks, const char *key)
{
        long s = ks_slot(ks, key);
        int i, last;

        if (s < 0)
                return 0;
        i = ks->h[s];
        ks->h[s] = -2; /* tombstone */
        free(ks->v[i].key);
        last = (int)ks->n - 1;
        if (i != last) {
                long ls = ks_slot(ks, ks->v[last].key);

                ks->v[i] = ks->v[last];
                ks->h[ls] = i;
        }
        ks->n--;
        return 1;
}

void gen_ks_copy(struct gen_keyset *dst, const struct gen_keyset *src)
{
        size_t i;

        for (i = 0; i < src->n; i++)
                gen_ks_put(dst, src->v[i].key, src->v[i].size, src->v[i].mtime, src->v[i].ver);
}

void gen_ks_free(struct gen_keyset *ks)
{
        size_t i;

        for (i = 0; i < ks->n; i++)
                free(ks->v[i].key);
        free(ks->v);
        free(ks->h);
        memset(ks, 0, sizeof(*ks));
}

/* ---------- the estate ---------- */

static const char *const agent_cli =
        "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0-18-amd64 exe/x86_64.debian.12 prompt/off "
        "command/s3.cp";
static const char *const agent_java =
        "[aws-sdk-java/1.12.661 Linux/5.10.209-198.858.amzn2.x86_64 "
        "OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS java/17.0.10 vendor/Amazon.com_Inc. "
        "cfg/retry-mode/standard]";
static const char *const agent_console =
        "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 "
        "Linux/5.10.217-182.855.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 "
        "java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard]";
static const char *const agent_rclone = "rclone/v1.60.1";
static const char *const agent_php = "aws-sdk-php/3.283.0 OS/Linux/5.15.0 lang/php#8.1.2 GuzzleHttp/7";

static void fake_id(char *out, size_t n, const char *prefix, uint64_t h)
{
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        size_t p = strlen(prefix), i;

        memcpy(out, prefix, p);
        for (i = p; i + 1 < n; i++) {
                h = gen_mix64(h + i);
                out[i] = al[h % 32];
        }
        out[n - 1] = '\0';
}

static int add_ident(struct gen_world *w, int kind, int acct, int self)
{
        struct gen_ident *id = &w->ident[w->nident];

        memset(id, 0, sizeof(*id));
        id->kind = kind;
        id->acct = acct;
        id->self = self;
        return w->nident++;
}

static void fill_person(struct gen_world *w, int idx, const char *type, const char *user,
                        const char *agent, int temp)
{
        struct gen_ident *id = &w->ident[idx];
        const char *a = w->acct[id->acct].id;
        uint64_t h = gen_hash(user, strlen(user), gen_hash(a, strlen(a), 0));

        snprintf(id->type, sizeof(id->type), "%s", type);
        snprintf(id->user, sizeof(id->user), "%s", user);
        id->agent = agent;
        if (strcmp(type, "AssumedRole") == 0) {
                char sess[24];

                snprintf(sess, sizeof(sess), "i-0%014llx", (unsigned long long)(h >> 8));
                fake_id(id->principal, 22, "AROA", h);
                id->principal[21] = '\0';
                snprintf(id->principal + strlen(id->principal),
                         sizeof(id->principal) - strlen(id->principal), ":%s", sess);
                snprintf(id->arn, sizeof(id->arn), "arn:aws:sts::%s:assumed-role/%s/%s", a, user, sess);
                snprintf(id->role_arn, sizeof(id->role_arn), "arn:aws:iam::%s:role/%s", a, user);
        } else {
                fake_id(id->principal, 22, "AIDA", h);
                snprintf(id->arn, sizeof(id->arn), "arn:aws:iam::%s:user/%s", a, user);
        }
        fake_id(id->akid, 21, temp ? "ASIA" : "AKIA", h ^ 0x5555);
}

void gen_world_setup(struct gen_world *w, const char *root, uint64_t seed)
{
        static const struct {
                const char *name;
                int prov, stream, log;
        } buckets[] = {
                {"prod-data", 0, 0, 0},       {"prod-media", 0, 1, 0},
                {"ct-logs", 0, 0, 1},         {"dr-archive", 1, 2, 0},
                {"team-share", 1, 4, 0},      {"assets.example.com", 1, 5, 0},
                {"legacy-exports", -1, 2, 0}, {"scratch-apse2", -1, 5, 0},
        };
        int i, p;

        memset(w, 0, sizeof(*w));
        w->seed = seed;
        if (root) {
                size_t n = strlen(root) + 64;

                w->root = gen_xstrdup(root);
                w->logdir = gen_xmalloc(n);
                snprintf(w->logdir, n, "%s/truth/ct-logs", root);
        }
        w->org = "o-4k7ud2xq9m";
        w->nacct = 3;
        w->acct[0] = (struct gen_account){"111122223333", 0};
        w->acct[1] = (struct gen_account){"444455556666", 1};
        w->acct[2] = (struct gen_account){"777788889999", 1};
        w->nstream = 6;
        w->stream[0] = (struct gen_stream){0, "us-east-1"};
        w->stream[1] = (struct gen_stream){0, "eu-west-1"};
        w->stream[2] = (struct gen_stream){1, "us-west-2"};
        w->stream[3] = (struct gen_stream){1, "us-east-1"};
        w->stream[4] = (struct gen_stream){2, "eu-west-1"};
        w->stream[5] = (struct gen_stream){2, "ap-southeast-2"};
        w->nprov = 2;
        w->prov[0] = (struct gen_provider){"101",
                                           "S3 Prod",
                                           "AKIAAASELFKEY0000001",
                                           "arn:aws:iam::111122223333:user/access-anywhere",
                                           "SMEStorage",
                                           "SMEStorage/2106.01 (Access Anywhere S3 connector)",
                                           0,
                                           0,
                                           0};
        w->prov[1] =
                (struct gen_provider){"102",
                                      "S3 DR",
                                      "AKIAAASELFKEY0000002",
                                      "arn:aws:iam::444455556666:user/access-anywhere-dr",
                                      "NasuniAA-S3/2",
                                      "aws-sdk-php/3.283.0 NasuniAA-S3/2 OS/Linux/5.15.0 lang/php#8.1.2",
                                      0,
                                      0,
                                      0};
        w->nbucket = (int)(sizeof(buckets) / sizeof(buckets[0]));
        for (i = 0; i < w->nbucket; i++) {
                w->bucket[i].name = buckets[i].name;
                w->bucket[i].prov = buckets[i].prov;
                w->bucket[i].stream = buckets[i].stream;
                w->bucket[i].log = buckets[i].log;
                if (buckets[i].log)
                        w->logbucket = i;
        }
        /* people and programs of each account */
        for (i = 0; i < w->nacct; i++) {
                fill_person(w, add_ident(w, GEN_ID_USER, i, -1), "IAMUser", "alice", agent_cli, 0);
                fill_person(w, add_ident(w, GEN_ID_ROLE, i, -1), "AssumedRole", "etl-writer", agent_java,
                            1);
                fill_person(w, add_ident(w, GEN_ID_CONSOLE, i, -1), "IAMUser", "bob", agent_console, 1);
                fill_person(w, add_ident(w, GEN_ID_USER, i, -1), "IAMUser", "backup-bot", agent_rclone,
                            0);
        }
        /* Access Anywhere itself, four ways of being recognised */
        for (p = 0; p < w->nprov; p++) {
                struct gen_provider *pr = &w->prov[p];
                int acct = p == 0 ? 0 : 1, k;

                k = add_ident(w, GEN_ID_SELF, acct, p); /* its key, ARN and agent */
                fill_person(w, k, "IAMUser", "access-anywhere", pr->agent_full, 0);
                snprintf(w->ident[k].arn, sizeof(w->ident[k].arn), "%s", pr->arn);
                snprintf(w->ident[k].akid, sizeof(w->ident[k].akid), "%s", pr->access_key);
                k = add_ident(w, GEN_ID_SELF, acct, p); /* only its agent */
                fill_person(w, k, "AssumedRole", "aa-sync", pr->agent_full, 1);
                k = add_ident(w, GEN_ID_SELF, acct, p); /* only its key */
                fill_person(w, k, "IAMUser", "storage-access-anywhere", agent_php, 0);
                snprintf(w->ident[k].akid, sizeof(w->ident[k].akid), "%s", pr->access_key);
                k = add_ident(w, GEN_ID_SELF, acct, p); /* only its ARN (session credentials) */
                fill_person(w, k, "IAMUser", "access-anywhere", agent_php, 1);
                snprintf(w->ident[k].arn, sizeof(w->ident[k].arn), "%s", pr->arn);
        }
}

void gen_world_free(struct gen_world *w)
{
        int i;

        for (i = 0; i < w->nbucket; i++) {
                gen_ks_free(&w->bucket[i].truth);
                gen_ks_free(&w->bucket[i].index);
        }
        free(w->root);
        free(w->logdir);
        w->root = w->logdir = NULL;
}

/* ---------- keys and content ---------- */

char *gen_new_key(struct gen_rng *r)
{
        /* Folder names never contain '.', file names always do: no key is ever a folder of
         * another key, so every key set maps onto a file tree. */
        static const char *const dirs[] = {
                "reports/2026",
                "reports/q3 summary",
                "media/photos",
                "media/raw+edited",
                "projects/alpha",
                "projects/100% done",
                "home/jdoe",
                "Shared Docs/Contracts",
                ("Donn\xc3\xa9"
                 "es/\xc3\xa9t\xc3\xa9"),
                "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xe8\xb3\x87\xe6\x96\x99",
                "backups/db",
                "logs/app/2026/11",
                "a",
                "deep/x/y/z/w/v",
                "pct%2Fliteral",
                "",
        };
        static const char *const stems[] = {
                "report",
                "photo",
                "IMG_",
                "invoice",
                "notes",
                "data",
                "r\xc3\xa9sum\xc3\xa9",
                "cv final",
                "plan+budget",
                "50% off",
                "\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf",
                "party \xf0\x9f\x8e\x89",
                "a&b=c",
                "x#y",
                "Q&A (draft)",
                "file name with  two spaces",
        };
        static const char *const exts[] = {".txt",    ".pdf",  ".jpg", ".csv", ".json",
                                           ".tar.gz", ".docx", ".mp4", ".bin", ".log"};
        char buf[1100];
        size_t n = 0;

        if (gen_rng_pm(r, 15)) {
                /* a long key: several long folder names, about 600 to 1000 bytes in all */
                static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing "
                                            "elit sed do eiusmod tempor incididunt ut labore ";
                int parts = 3 + (int)gen_rng_below(r, 3), i;

                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "long");
                for (i = 0; i < parts; i++) {
                        size_t len = 120 + gen_rng_below(r, 80), j;
                        size_t off = gen_rng_below(r, sizeof(words) - 1);

                        buf[n++] = '/';
                        for (j = 0; j < len; j++)
                                buf[n++] = words[(off + j) % (sizeof(words) - 1)];
                        if (buf[n - 1] == ' ')
                                buf[n - 1] = '_';
                }
                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "/end-%llu.txt",
                                      (unsigned long long)gen_rng_below(r, 100000));
                return gen_xstrdup(buf);
        }
        {
                const char *d = dirs[gen_rng_below(r, sizeof(dirs) / sizeof(dirs[0]))];
                const char *s = stems[gen_rng_below(r, sizeof(stems) / sizeof(stems[0]))];
                const char *e = exts[gen_rng_below(r, sizeof(exts) / sizeof(exts[0]))];

                snprintf(buf, sizeof(buf), "%s%s%s-%llu%s", d, *d ? "/" : "", s,
                         (unsigned long long)gen_rng_below(r, 5000), e);
        }
        return gen_xstrdup(buf);
}

char *gen_content(const struct gen_world *w, int bucket, const char *key, uint32_t ver, uint64_t size)
{
        static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789 ,.-\n";
        char *p = gen_xmalloc((size_t)size + 1);
        struct gen_rng r;
        uint64_t i, x = 0;
        int hn;

        gen_rng_seed(&r, gen_hash(key, strlen(key), w->seed), (uint64_t)bucket * 1000003u + ver);
        hn = snprintf(p, (size_t)size + 1, "ctgen object %s/%s version %u\n", w->bucket[bucket].name,
                      key, ver);
        i = hn < 0 ? 0 : ((uint64_t)hn > size ? size : (uint64_t)hn);
        for (; i < size; i++) {
                if ((i & 7) == 0)
                        x = gen_rng_next(&r);
                p[i] = al[(x & 0xff) % (sizeof(al) - 1)];
                x >>= 8;
        }
        return p;
}

int gen_truth_put(struct gen_world *w, int bucket, const char *key, uint32_t ver, uint64_t size,
                  int64_t mtime, char *errstr, size_t errsz)
{
        char dir[4096];
        char *c = gen_content(w, bucket, key, ver, size);
        int rc;

        snprintf(dir, sizeof(dir), "%s/truth/%s", w->root, w->bucket[bucket].name);
        rc = gen_write_file(dir, key, c, (size_t)size, mtime, NULL, errstr, errsz);
        free(c);
        return rc;
}

int gen_truth_del(struct gen_world *w, int bucket, const char *key, char *errstr, size_t errsz)
{
        char path[4200];
        size_t base;
        char *s;

        base = (size_t)snprintf(path, sizeof(path), "%s/truth/%s/", w->root, w->bucket[bucket].name);
        snprintf(path + base, sizeof(path) - base, "%s", key);
        if (unlink(path) != 0 && errno != ENOENT) {
                snprintf(errstr, errsz, "cannot remove %s: %s", path, strerror(errno));
                return -1;
        }
        /* S3 has no folders: remove the ones this delete emptied */
        while ((s = strrchr(path + base, '/')) != NULL) {
                *s = '\0';
                if (rmdir(path) != 0)
                        break;
        }
        return 0;
}

/* ---------- loading ---------- */

struct keylist {
        char **k;
        size_t n, cap;
};

static int scan_dir(const char *base, const char *rel, struct keylist *kl)
{
        char path[4200];
        DIR *d;
        struct dirent *de;

        snprintf(path, sizeof(path), "%s%s%s", base, *rel ? "/" : "", rel);
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : -1;
        while ((de = readdir(d)) != NULL) {
                char sub[4200];
                struct stat st;

                if (de->d_name[0] == '.' &&
                    (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]) ||
                     strncmp(de->d_name, ".tmp-", 5) == 0))
                        continue;
                snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
                if (snprintf(path, sizeof(path), "%s/%s", base, sub) >= (int)sizeof(path) ||
                    lstat(path, &st) != 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (scan_dir(base, sub, kl)) {
                                closedir(d);
                                return -1;
                        }
                } else if (S_ISREG(st.st_mode)) {
                        if (kl->n == kl->cap) {
                                kl->cap = kl->cap ? kl->cap * 2 : 256;
                                kl->k = gen_xrealloc(kl->k, kl->cap * sizeof(*kl->k));
                        }
                        kl->k[kl->n++] = gen_xstrdup(sub);
                }
        }
        closedir(d);
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int64_t jnum(const cJSON *o, const char *name, int64_t dflt)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

        return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static char *read_text(const char *path, size_t *len)
{
        FILE *fp = fopen(path, "rb");
        char *p = NULL;
        size_t n = 0, cap = 0, k;

        if (!fp)
                return NULL;
        do {
                if (cap - n < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        p = gen_xrealloc(p, cap);
                }
                k = fread(p + n, 1, cap - n - 1, fp);
                n += k;
        } while (k > 0);
        fclose(fp);
        p[n] = '\0';
        if (len)
                *len = n;
        return p;
}

int gen_world_load(struct gen_world *w, char *errstr, size_t errsz)
{
        char path[4200];
        char *txt;
        cJSON *st, *provs, *hist;
        int b, p;

        snprintf(path, sizeof(path), "%s/ctgen/state.json", w->root);
        txt = read_text(path, NULL);
        if (!txt) {
                snprintf(errstr, errsz, "%s: %s (run 'jibe-ctgen init --root %s' first)", path,
                         strerror(errno), w->root);
                return -1;
        }
        st = cJSON_Parse(txt);
        free(txt);
        if (!cJSON_IsObject(st)) {
                cJSON_Delete(st);
                snprintf(errstr, errsz, "%s is not valid JSON", path);
                return -1;
        }
        w->runs = (unsigned)jnum(st, "runs", 0);
        w->init_now = jnum(st, "init_now", 0);
        w->ver = (uint32_t)jnum(st, "ver", 0);
        hist = cJSON_GetObjectItemCaseSensitive(st, "history");
        if (cJSON_IsObject(hist)) {
                w->history_done = 1;
                w->hist_t0 = jnum(hist, "t0", 0);
                w->hist_t1 = jnum(hist, "t1", 0);
        }
        provs = cJSON_GetObjectItemCaseSensitive(st, "providers");
        for (p = 0; p < w->nprov; p++) {
                const cJSON *o = cJSON_GetObjectItemCaseSensitive(provs, w->prov[p].id);

                w->prov[p].sync_start = jnum(o, "start", 0);
                w->prov[p].sync_done = jnum(o, "done", 0);
                w->prov[p].sync_files = (long)jnum(o, "files", 0);
        }
        cJSON_Delete(st);

        for (b = 0; b < w->nbucket; b++) {
                struct keylist kl = {0};
                char base[4200];
                size_t i;

                if (w->bucket[b].log || w->bucket[b].prov < 0)
                        continue;
                snprintf(base, sizeof(base), "%s/truth/%s", w->root, w->bucket[b].name);
                if (scan_dir(base, "", &kl)) {
                        snprintf(errstr, errsz, "cannot read %s: %s", base, strerror(errno));
                        for (i = 0; i < kl.n; i++)
                                free(kl.k[i]);
                        free(kl.k);
                        return -1;
                }
                if (kl.n)
                        qsort(kl.k, kl.n, sizeof(*kl.k), cmp_str);
                for (i = 0; i < kl.n; i++) {
                        struct stat sb;

                        if (snprintf(path, sizeof(path), "%s/%s", base, kl.k[i]) < (int)sizeof(path) &&
                            stat(path, &sb) == 0)
                                gen_ks_put(&w->bucket[b].truth, kl.k[i], (uint64_t)sb.st_size,
                                           (int64_t)sb.st_mtime, 0);
                        free(kl.k[i]);
                }
                free(kl.k);
        }
        return 0;
}

int gen_world_save_state(struct gen_world *w, char *errstr, size_t errsz)
{
        char dir[4200];
        cJSON *st = cJSON_CreateObject(), *provs, *h;
        char *txt;
        int p, rc;

        cJSON_AddNumberToObject(st, "version", 1);
        cJSON_AddNumberToObject(st, "runs", w->runs);
        cJSON_AddNumberToObject(st, "init_now", (double)w->init_now);
        cJSON_AddNumberToObject(st, "ver", w->ver);
        if (w->history_done) {
                h = cJSON_AddObjectToObject(st, "history");
                cJSON_AddNumberToObject(h, "t0", (double)w->hist_t0);
                cJSON_AddNumberToObject(h, "t1", (double)w->hist_t1);
        }
        provs = cJSON_AddObjectToObject(st, "providers");
        for (p = 0; p < w->nprov; p++) {
                cJSON *o = cJSON_AddObjectToObject(provs, w->prov[p].id);

                cJSON_AddNumberToObject(o, "start", (double)w->prov[p].sync_start);
                cJSON_AddNumberToObject(o, "done", (double)w->prov[p].sync_done);
                cJSON_AddNumberToObject(o, "files", (double)w->prov[p].sync_files);
        }
        txt = cJSON_Print(st);
        cJSON_Delete(st);
        snprintf(dir, sizeof(dir), "%s/ctgen", w->root);
        rc = gen_write_file(dir, "state.json", txt, strlen(txt), -1, NULL, errstr, errsz);
        cJSON_free(txt);
        return rc;
}

int gen_world_write_simjson(struct gen_world *w, char *errstr, size_t errsz)
{
        cJSON *root = cJSON_CreateObject(), *users, *u, *provs, *tok;
        char *txt, t1[32], t2[32];
        int p, b, rc;

        cJSON_AddStringToObject(root, "sitetitle", "jibe simulator (jibe-ctgen)");
        cJSON_AddNumberToObject(root, "token_lifetime_s", 3600);
        users = cJSON_AddArrayToObject(root, "users");
        u = cJSON_CreateObject();
        cJSON_AddStringToObject(u, "login", "admin");
        cJSON_AddStringToObject(u, "password", "s3cret");
        cJSON_AddStringToObject(u, "userid", "1");
        tok = cJSON_AddArrayToObject(u, "authtokens");
        cJSON_AddItemToArray(tok, cJSON_CreateString("PERMANENT-TOKEN-1"));
        cJSON_AddItemToArray(users, u);
        provs = cJSON_AddArrayToObject(root, "providers");
        for (p = 0; p < w->nprov; p++) {
                struct gen_provider *pr = &w->prov[p];
                cJSON *o = cJSON_CreateObject(), *bl, *ls;

                cJSON_AddStringToObject(o, "id", pr->id);
                cJSON_AddStringToObject(o, "name", pr->name);
                cJSON_AddStringToObject(o, "access_key", pr->access_key);
                cJSON_AddStringToObject(o, "arn", pr->arn);
                cJSON_AddStringToObject(o, "user_agent", pr->agent);
                bl = cJSON_AddArrayToObject(o, "buckets");
                for (b = 0; b < w->nbucket; b++)
                        if (w->bucket[b].prov == p)
                                cJSON_AddItemToArray(bl, cJSON_CreateString(w->bucket[b].name));
                ls = cJSON_AddObjectToObject(o, "last_sync");
                gen_fmt_sim(pr->sync_start, t1);
                gen_fmt_sim(pr->sync_done, t2);
                cJSON_AddStringToObject(ls, "start", t1);
                cJSON_AddStringToObject(ls, "completed", t2);
                cJSON_AddNumberToObject(ls, "files", (double)pr->sync_files);
                cJSON_AddBoolToObject(ls, "task", 1);
                cJSON_AddItemToArray(provs, o);
        }
        txt = cJSON_Print(root);
        cJSON_Delete(root);
        rc = gen_write_file(w->root, "sim.json", txt, strlen(txt), -1, NULL, errstr, errsz);
        cJSON_free(txt);
        return rc;
}

static void index_line(struct gen_ob *o, const char *b, const struct gen_obj *ob)
{
        GEN_LIT(o, "{\"b\":");
        gen_ob_jstr(o, b);
        GEN_LIT(o, ",\"k\":");
        gen_ob_jstr(o, ob->key);
        GEN_LIT(o, ",\"s\":");
        gen_ob_u64(o, ob->size);
        GEN_LIT(o, ",\"m\":");
        gen_ob_u64(o, (uint64_t)ob->mtime);
        GEN_LIT(o, "}\n");
}

static int cmp_obj(const void *a, const void *b)
{
        return strcmp(((const struct gen_obj *)a)->key, ((const struct gen_obj *)b)->key);
}

int gen_world_write_index(struct gen_world *w, const struct gen_ob *logindex, char *errstr, size_t errsz)
{
        struct gen_ob o = {0};
        int b, rc;

        for (b = 0; b < w->nbucket; b++) {
                struct gen_keyset *ks = &w->bucket[b].index;
                struct gen_obj *v;
                size_t i;

                if (w->bucket[b].prov < 0 || !ks->n)
                        continue;
                v = gen_xmalloc(ks->n * sizeof(*v));
                memcpy(v, ks->v, ks->n * sizeof(*v));
                qsort(v, ks->n, sizeof(*v), cmp_obj);
                for (i = 0; i < ks->n; i++)
                        index_line(&o, w->bucket[b].name, &v[i]);
                free(v);
        }
        if (logindex && logindex->len)
                gen_ob_put(&o, logindex->p, logindex->len);
        rc = gen_write_file(w->root, "index.jsonl", o.p ? o.p : "", o.len, -1, NULL, errstr, errsz);
        gen_ob_free(&o);
        return rc;
}

/* ---------- init ---------- */

int gen_world_init_cmd(struct gen_world *w, int64_t now, char *errstr, size_t errsz)
{
        struct gen_rng r;
        char path[4200];
        struct stat sb;
        int b, p;

        snprintf(path, sizeof(path), "%s/sim.json", w->root);
        if (stat(path, &sb) == 0) {
                snprintf(errstr, errsz, "%s exists: the directory is already initialised", path);
                return -1;
        }
        snprintf(path, sizeof(path), "%s/ctgen", w->root);
        if (state_mkdirs(path)) {
                snprintf(errstr, errsz, "cannot create %s: %s", path, strerror(errno));
                return -1;
        }
        snprintf(path, sizeof(path), "%s/truth/%s", w->root, w->bucket[w->logbucket].name);
        if (state_mkdirs(path)) {
                snprintf(errstr, errsz, "cannot create %s: %s", path, strerror(errno));
                return -1;
        }
        gen_rng_seed(&r, w->seed, 1);
        w->init_now = now;
        for (b = 0; b < w->nbucket; b++) {
                int n, i;

                if (w->bucket[b].log || w->bucket[b].prov < 0)
                        continue;
                snprintf(path, sizeof(path), "%s/truth/%s", w->root, w->bucket[b].name);
                if (state_mkdirs(path)) {
                        snprintf(errstr, errsz, "cannot create %s: %s", path, strerror(errno));
                        return -1;
                }
                n = 30 + (int)gen_rng_below(&r, 50);
                for (i = 0; i < n; i++) {
                        char *k = gen_new_key(&r);
                        uint64_t size = gen_rng_pm(&r, 30) ? 0 : 1 + gen_rng_below(&r, 6000);
                        int64_t mt = now - 7200 - (int64_t)gen_rng_below(&r, 90 * 86400);

                        if (gen_ks_find(&w->bucket[b].truth, k) < 0) {
                                w->ver++;
                                gen_ks_put(&w->bucket[b].truth, k, size, mt, w->ver);
                                if (gen_truth_put(w, b, k, w->ver, size, mt, errstr, errsz)) {
                                        free(k);
                                        return -1;
                                }
                        }
                        free(k);
                }
        }
        for (p = 0; p < w->nprov; p++) {
                w->prov[p].sync_start = now - 3600;
                w->prov[p].sync_done = now - 3600 + 900;
                w->prov[p].sync_files = 0;
                for (b = 0; b < w->nbucket; b++)
                        if (w->bucket[b].prov == p)
                                w->prov[p].sync_files += (long)w->bucket[b].truth.n;
        }
        w->runs = 1;
        if (gen_world_write_simjson(w, errstr, errsz) || gen_world_save_state(w, errstr, errsz))
                return -1;
        return 0;
}
