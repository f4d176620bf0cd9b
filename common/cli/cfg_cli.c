/*
 * cfg_cli.c - `jibe check-config`: load and validate a configuration file, print the warnings
 * (settings that weaken security) and notes an administrator should read, and on request the
 * effective values (--dump, secrets as "***") or a commented example file (--example). Owns nothing beyond one struct cfg per run.
 *
 * Exit codes: 0 the file is valid (or --example), 1 it is not, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cfg.h"
#include "cli.h"
#include "log.h"

static void usage(FILE *fp)
{
        fprintf(fp, "usage: jibe check-config [-c FILE] [--dump]\n"
                    "       jibe check-config --example\n\n"
                    "Checks a jibe configuration file: every mistake is reported with its file, line and\n"
                    "setting. Settings that work but weaken security (a password written in the file, a\n"
                    "password file others can read, http:// allowed, TLS checks turned off) are printed as\n"
                    "warnings, and every start of jibe logs them again; other advice (such as an old setting\n"
                    "name that still works, and what to write instead) is printed as notes.\n\n"
                    "  -c, --config FILE  the file to check (default %s)\n"
                    "  --dump             also print the values jibe will use; secrets show as \"***\"\n"
                    "  --example          print a commented configuration with every setting and its default\n"
                    "  -h, --help         this text\n\n"
                    "exit codes: 0 valid, 1 not valid, 2 usage error\n",
                    CFG_DEFAULT_PATH);
}

int check_config_main(int argc, char **argv)
{
        const char *path = CFG_DEFAULT_PATH;
        struct cfg cfg;
        char err[1024];
        int dump = 0, i, rc;
        size_t k;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];

                if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage(stdout);
                        return 0;
                } else if (!strcmp(a, "--dump")) {
                        dump = 1;
                } else if (!strcmp(a, "--example")) {
                        cfg_example(stdout);
                        return fflush(stdout) == 0 ? 0 : 1;
                } else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
                        if (i + 1 >= argc) {
                                fprintf(stderr, "jibe check-config: %s needs a file name\n", a);
                                return 2;
                        }
                        path = argv[++i];
                } else if (!strncmp(a, "--config=", 9)) {
                        path = a + 9;
                } else {
                        fprintf(stderr, "jibe check-config: unknown option '%s'\n", a);
                        usage(stderr);
                        return 2;
                }
        }
        rc = cfg_load(&cfg, path, err, sizeof(err));
        if (rc != JB_OK) {
                fprintf(stderr, "jibe check-config: %s\n", err);
                return 1;
        }
        printf("configuration OK: %s\n", path);
        for (k = 0; k < cfg.n_warnings; k++)
                printf("warning: %s\n", cfg.warnings[k]);
        for (k = 0; k < cfg.n_notes; k++)
                printf("note: %s\n", cfg.notes[k]);
        if (dump) {
                printf("\n");
                cfg_dump(&cfg, stdout);
        }
        cfg_clear(&cfg);
        log_close();
        return fflush(stdout) == 0 ? 0 : 1;
}
