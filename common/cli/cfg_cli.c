/*
 * cfg_cli.c - `jibe check-config`: load and validate a configuration file, print the warnings
 * (settings that weaken security) and notes an administrator should read, and on request the
 * effective values (--dump, secrets as "***") or a commented example file (--example). Owns nothing beyond one struct cfg per run.
 *
 * Exit codes: 0 the file is valid (or --example), 1 it is not, 2 usage error.
 */
#include <stdio.h>

#include "cfg.h"
#include "cli.h"
#include "log.h"

static void usage(FILE *fp)
{
        fprintf(fp,
                "usage: jibe check-config [-c FILE] [--dump]\n"
                "       jibe check-config --example | --man\n\n"
                "Checks a jibe configuration file: every mistake is reported with its file, line and\n"
                "setting. Settings that work but weaken security (a password written in the file, a\n"
                "password file others can read, http:// allowed, TLS checks turned off) are printed as\n"
                "warnings, and every start of jibe logs them again; other advice (such as an old setting\n"
                "name that still works, and what to write instead) is printed as notes.\n\n"
                "  -c, --config FILE  the file to check (default %s)\n"
                "  --dump             also print the values jibe will use; secrets show as \"***\"\n"
                "  --example          print a commented configuration with every setting and its default\n"
                "  --man              print the manual page jibe.cfg(5), made from the same settings\n"
                "  -h, --help         this text\n"
                "  --version          print jibe's version\n\n"
                "exit codes: 0 valid, 1 not valid, 2 usage error\n",
                CFG_DEFAULT_PATH);
}

enum { OPT_DUMP = 0x200, OPT_EXAMPLE, OPT_MAN };

static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                     {"dump", no_argument, NULL, OPT_DUMP},
                                     {"example", no_argument, NULL, OPT_EXAMPLE},
                                     {"man", no_argument, NULL, OPT_MAN},
                                     CLI_OPTS_END};

/* Print what the loaded configuration says; 0 or 1 (stdout failed). */
static int report(const struct cfg *cfg, const char *path, int dump)
{
        size_t k;

        printf("configuration OK: %s\n", path);
        for (k = 0; k < cfg->n_warnings; k++)
                printf("warning: %s\n", cfg->warnings[k]);
        for (k = 0; k < cfg->n_notes; k++)
                printf("note: %s\n", cfg->notes[k]);
        if (dump) {
                printf("\n");
                cfg_dump(cfg, stdout);
        }
        return fflush(stdout) == 0 ? 0 : 1;
}

int check_config_main(int argc, char **argv)
{
        struct cli c = {"check-config", ":c:h", opts, usage, 0};
        const char *path = CFG_DEFAULT_PATH;
        struct cfg cfg;
        char err[1024];
        int dump = 0, example = 0, opt, rc;

        while ((opt = cli_next(&c, argc, argv)) > 0) {
                if (opt == 'c')
                        path = optarg;
                else if (opt == OPT_DUMP)
                        dump = 1;
                else
                        example = opt == OPT_MAN ? 2 : 1;
        }
        if ((rc = cli_finish(&c, opt, argc, argv)) >= 0)
                return rc;
        if (example) {
                if (example == 2)
                        cfg_man(stdout);
                else
                        cfg_example(stdout);
                return fflush(stdout) == 0 ? 0 : 1;
        }
        if (cfg_load(&cfg, path, err, sizeof(err)) != JB_OK) {
                fprintf(stderr, "jibe check-config: %s\n", err);
                return 1;
        }
        rc = report(&cfg, path, dump);
        cfg_clear(&cfg);
        log_close();
        return rc;
}
