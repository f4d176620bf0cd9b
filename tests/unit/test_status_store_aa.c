/*
 * test_status_store_aa.c - the status store in an Access Anywhere folder
 * (common/status_store_aa.c, status_store.c) against the real simulator (jibe-aa-sim via
 * $AASIM, tests/unit/tu_sim.h): the folder and its missing parents are made inside the
 * bucket, a second put replaces the first (one file, the second content), list() hands over
 * every instance's document and a *.json that is not JSON as it is, names with '/' or
 * control characters are refused, and folders outside a bucket are refused before any call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aa.h"
#include "buf.h"
#include "status_store.h"
#include "tu.h"
#include "tu_sim.h"

#define T_TOKEN "PERMANENT-TOKEN-1"
#define T_PROVNAME "S3 Prod"
#define T_BUCKET "ops-bucket"
#define T_FOLDER "/" T_PROVNAME "/" T_BUCKET "/jibe/status"

static char *t_root;
static struct tu_sim t_sim = {-1, 0, ""};

static void t_opts(struct aa_opts *o)
{
        aa_opts_init(o);
        o->endpoint = t_sim.endpoint;
        o->authtoken = T_TOKEN;
        o->max_retries = 3;
        o->backoff_base_ms = 5;
        o->backoff_max_ms = 50;
        o->timeout_ms = 20000;
}

static struct status_store *t_store(const char *folder)
{
        struct aa_opts o;
        char err[512];
        struct status_store *ss;

        t_opts(&o);
        ss = status_store_aa_new(&o, folder, err, sizeof(err));
        if (!ss)
                fail_msg("status_store_aa_new %s: %s", folder, err);
        return ss;
}

static struct aa_client *t_client(void)
{
        struct aa_opts o;
        struct aa_client *aa = NULL;
        char err[512];

        t_opts(&o);
        if (aa_client_new(&o, &aa, err, sizeof(err)))
                fail_msg("aa_client_new: %s", err);
        return aa;
}

static void t_put(struct status_store *ss, const char *instance, const char *doc)
{
        char err[512];
        int rc = ss->ops->put(ss, instance, doc, strlen(doc), err, sizeof(err));

        if (rc)
                fail_msg("put %s: %s (%s)", instance, err, jb_strerror(rc));
}

/* What list() handed over, in order. */
static void t_list(struct status_store *ss, struct tu_seen *s)
{
        char err[512];
        int rc;

        memset(s, 0, sizeof(*s));
        rc = ss->ops->list(ss, tu_collect, s, err, sizeof(err));
        if (rc)
                fail_msg("list: %s (%s)", err, jb_strerror(rc));
}

/* Items of the folder by name: how many carry name, and the fi_id of the folder. */
struct t_count {
        const char *name;
        int n, total;
};

static int t_count_item(void *opaque, const struct aa_item *it)
{
        struct t_count *c = opaque;

        c->total++;
        if (!strcmp(it->name, c->name))
                c->n++;
        return 0;
}

static char *t_folder_id(struct aa_client *aa, const char *path)
{
        struct aa_item it;
        char err[512], *id;
        int rc = aa_check_path(aa, path, "0", &it, err, sizeof(err));

        if (rc)
                fail_msg("check_path %s: %s (%s)", path, err, jb_strerror(rc));
        assert_int_equal(it.type, AA_FOLDER);
        id = strdup(it.fi_id);
        aa_item_clear(&it);
        return id;
}

/* ---------------------------------------------------------------- tests */

static void test_names_and_folders(void **state)
{
        char err[512];
        struct aa_opts o;

        (void)state;
        assert_int_equal(status_instance_check("east-1", err, sizeof(err)), JB_OK);
        assert_int_equal(status_instance_check("host.example.com", err, sizeof(err)), JB_OK);
        assert_int_equal(status_instance_check("a/b", err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "'/'"));
        assert_int_equal(status_instance_check("east\n1", err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "control character"));
        assert_int_equal(status_instance_check("", err, sizeof(err)), JB_EINPUT);

        assert_int_equal(status_folder_check("status.folder", T_FOLDER, err, sizeof(err)), JB_OK);
        assert_int_equal(status_folder_check("status.folder", "/" T_PROVNAME "/" T_BUCKET, err,
                                             sizeof(err)),
                         JB_OK);
        assert_int_equal(status_folder_check("status.folder", "/" T_PROVNAME, err, sizeof(err)),
                         JB_EINPUT);
        assert_non_null(strstr(err, "not inside a bucket"));
        assert_non_null(strstr(err, "status.folder"));
        assert_int_equal(status_folder_check("status.folder", "/", err, sizeof(err)), JB_EINPUT);
        assert_int_equal(status_folder_check("status.folder", "S3 Prod/ops", err, sizeof(err)),
                         JB_EINPUT);
        assert_int_equal(status_folder_check("status.folder", "/S3 Prod/ops/../x", err, sizeof(err)),
                         JB_EINPUT);

        t_opts(&o);
        assert_null(status_store_aa_new(&o, "/" T_PROVNAME, err, sizeof(err)));
        assert_non_null(strstr(err, "not inside a bucket"));
        status_store_free(NULL);
}

static void test_put_makes_folder_and_replaces(void **state)
{
        struct status_store *ss = t_store(T_FOLDER);
        struct aa_client *aa = t_client();
        struct t_count c = {"east-1.json", 0, 0};
        struct tu_seen seen;
        char err[512], *id;
        char truth[4096];
        FILE *fp;
        char body[256] = "";

        (void)state;
        /* The bucket has no jibe/ folder yet: put makes jibe/ and jibe/status/. */
        assert_int_equal(aa_check_path(aa, T_PROVNAME "/" T_BUCKET "/jibe", "0", NULL, err, sizeof(err)),
                         JB_ENOTFOUND);
        t_put(ss, "east-1", "{\"v\":1,\"n\":1}");
        t_put(ss, "east-1", "{\"v\":1,\"n\":2,\"second\":true}");
        id = t_folder_id(aa, T_PROVNAME "/" T_BUCKET "/jibe/status");
        assert_int_equal(aa_list(aa, id, 0, t_count_item, &c, err, sizeof(err)), JB_OK);
        assert_int_equal(c.n, 1); /* replaced, not a second file */
        assert_int_equal(c.total, 1);
        /* The S3 truth (what Access Anywhere wrote to the bucket) holds the second content. */
        snprintf(truth, sizeof(truth), "%s/truth/%s/jibe/status/east-1.json", t_root, T_BUCKET);
        fp = fopen(truth, "r");
        assert_non_null(fp);
        assert_non_null(fgets(body, sizeof(body), fp));
        fclose(fp);
        assert_string_equal(body, "{\"v\":1,\"n\":2,\"second\":true}");

        t_list(ss, &seen);
        assert_int_equal(seen.n, 1);
        assert_string_equal(seen.inst[0], "east-1");
        assert_string_equal(seen.doc[0], "{\"v\":1,\"n\":2,\"second\":true}");
        assert_string_equal(seen.where[0], "Access Anywhere " T_FOLDER "/east-1.json");
        free(id);
        aa_client_free(aa);
        status_store_free(ss);
}

static void test_two_instances_and_foreign_files(void **state)
{
        struct status_store *a = t_store(T_FOLDER "/two");
        struct status_store *b = t_store(T_FOLDER "/two");
        struct aa_client *aa = t_client();
        struct tu_seen seen;
        char err[512], *id;

        (void)state;
        t_put(a, "east-1", "{\"who\":\"east\"}");
        t_put(b, "west-2", "{\"who\":\"west\"}");
        t_put(a, "east-1", "{\"who\":\"east again\"}");
        /* Someone else's files: a .json that is no JSON is handed over as it is (the caller
         * reports it); a .txt is not a status file. */
        id = t_folder_id(aa, T_PROVNAME "/" T_BUCKET "/jibe/status/two");
        assert_int_equal(aa_upload(aa, id, "broken.json", "not json at all", 15, NULL, err, sizeof(err)),
                         JB_OK);
        assert_int_equal(aa_upload(aa, id, "notes.txt", "hello", 5, NULL, err, sizeof(err)), JB_OK);

        t_list(b, &seen);
        assert_int_equal(seen.n, 3);
        assert_non_null(tu_doc_of(&seen, "east-1"));
        assert_string_equal(tu_doc_of(&seen, "east-1"), "{\"who\":\"east again\"}");
        assert_string_equal(tu_doc_of(&seen, "west-2"), "{\"who\":\"west\"}");
        assert_string_equal(tu_doc_of(&seen, "broken"), "not json at all");
        assert_null(tu_doc_of(&seen, "notes"));
        free(id);
        aa_client_free(aa);
        status_store_free(a);
        status_store_free(b);
}

static void test_bad_names_refused(void **state)
{
        struct status_store *ss = t_store(T_FOLDER "/names");
        struct aa_client *aa = t_client();
        struct tu_seen seen;
        char err[512];

        (void)state;
        assert_int_equal(ss->ops->put(ss, "a/b", "{}", 2, err, sizeof(err)), JB_EINPUT);
        assert_non_null(strstr(err, "status.instance"));
        assert_int_equal(ss->ops->put(ss, "tab\there", "{}", 2, err, sizeof(err)), JB_EINPUT);
        assert_int_equal(ss->ops->put(ss, "", "{}", 2, err, sizeof(err)), JB_EINPUT);
        /* Nothing was uploaded, not even the folder's first file. */
        t_list(ss, &seen);
        assert_int_equal(seen.n, 0);
        aa_client_free(aa);
        status_store_free(ss);
}

/* Someone deleted the folder between two publications: the next put makes it again. */
static void test_folder_deleted_meanwhile(void **state)
{
        struct status_store *ss = t_store(T_FOLDER "/gone");
        struct aa_client *aa = t_client();
        struct tu_seen seen;
        char err[512], *id;

        (void)state;
        t_put(ss, "east-1", "{\"n\":1}");
        id = t_folder_id(aa, T_PROVNAME "/" T_BUCKET "/jibe/status/gone");
        assert_int_equal(aa_rmdir(aa, id, err, sizeof(err)), JB_OK);
        free(id);
        t_put(ss, "east-1", "{\"n\":2}");
        t_list(ss, &seen);
        assert_int_equal(seen.n, 1);
        assert_string_equal(seen.doc[0], "{\"n\":2}");
        aa_client_free(aa);
        status_store_free(ss);
}

static void test_missing_bucket(void **state)
{
        struct status_store *ss = t_store("/" T_PROVNAME "/no-such-bucket/jibe");
        struct status_store *sp = t_store("/No Such Provider/" T_BUCKET "/jibe");
        char err[512];

        (void)state;
        assert_int_equal(ss->ops->put(ss, "east-1", "{}", 2, err, sizeof(err)), JB_ENOTFOUND);
        assert_non_null(strstr(err, "bucket \"no-such-bucket\""));
        assert_int_equal(sp->ops->put(sp, "east-1", "{}", 2, err, sizeof(err)), JB_ENOTFOUND);
        assert_non_null(strstr(err, "provider \"No Such Provider\""));
        status_store_free(ss);
        status_store_free(sp);
}

static void test_folder_find_without_make(void **state)
{
        struct aa_client *aa = t_client();
        struct aa_item it;
        char err[512];

        (void)state;
        assert_int_equal(status_folder_find(aa, "/" T_PROVNAME "/" T_BUCKET "/not/made", 0, &it, err,
                                            sizeof(err)),
                         JB_ENOTFOUND);
        assert_int_equal(status_folder_find(aa, "/" T_PROVNAME "/" T_BUCKET "/made/now", 1, &it, err,
                                            sizeof(err)),
                         JB_OK);
        assert_int_equal(it.type, AA_FOLDER);
        aa_item_clear(&it);
        assert_int_equal(status_folder_find(aa, "/" T_PROVNAME "/" T_BUCKET "/made/now/", 0, NULL, err,
                                            sizeof(err)),
                         JB_OK);
        aa_client_free(aa);
}

/* ---------------------------------------------------------------- setup */

static int t_sim_stop(void **state)
{
        (void)state;
        tu_sim_stop(&t_sim);
        if (t_root) {
                tu_rmrf(t_root);
                free(t_root);
                t_root = NULL;
        }
        aa_global_cleanup();
        return 0;
}

static int t_sim_start(void **state)
{
        static const char sim[] =
                "{\"sitetitle\":\"jibe unit\",\"token_lifetime_s\":3600,\n"
                " \"users\":[{\"login\":\"admin\",\"password\":\"pw\",\"userid\":\"1\","
                "\"authtokens\":[\"" T_TOKEN "\"]}],\n"
                " \"providers\":[{\"id\":\"101\",\"name\":\"" T_PROVNAME "\","
                "\"buckets\":[\"" T_BUCKET "\",\"prod-data\"]}]}\n";
        char path[4096];

        (void)state;
        assert_int_equal(aa_global_init(), JB_OK);
        t_root = tu_tmpdir();
        assert_non_null(t_root);
        snprintf(path, sizeof(path), "%s/sim.json", t_root);
        assert_int_equal(tu_write_atomic(path, sim, strlen(sim)), 0);
        snprintf(path, sizeof(path), "%s/truth/%s/readme.txt", t_root, T_BUCKET);
        assert_int_equal(tu_write_atomic(path, "ops\n", 4), 0);
        snprintf(path, sizeof(path), "%s/truth/prod-data/x.txt", t_root);
        assert_int_equal(tu_write_atomic(path, "x\n", 2), 0);
        if (tu_sim_start(&t_sim, t_root) != 0) {
                t_sim_stop(state);
                return -1;
        }
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_and_folders),
                cmocka_unit_test(test_put_makes_folder_and_replaces),
                cmocka_unit_test(test_two_instances_and_foreign_files),
                cmocka_unit_test(test_bad_names_refused),
                cmocka_unit_test(test_folder_deleted_meanwhile),
                cmocka_unit_test(test_missing_bucket),
                cmocka_unit_test(test_folder_find_without_make),
        };

        return cmocka_run_group_tests_name("status_store_aa", tests, t_sim_start, t_sim_stop);
}
