/*
 * cli.h - the command layer (common/cli/): entry points of jibe's subcommands, called by
 * main.c with argv[0] = the command. Each returns the process exit code.
 */
#ifndef CLI_H
#define CLI_H

int events_main(int argc, char **argv); /* events_cli.c */
int check_config_main(int argc, char **argv); /* cfg_cli.c */
int run_main(int argc, char **argv);          /* run.c */
int lag_main(int argc, char **argv);          /* kadmin_cli.c */
int replay_main(int argc, char **argv);       /* kadmin_cli.c */

int scan_main(int argc, char **argv);         /* stage_cli.c */
int parse_main(int argc, char **argv);
int sync_main(int argc, char **argv);
int topics_main(int argc, char **argv);
int redrive_main(int argc, char **argv);

#include <stdint.h>
#include <stdio.h>

struct cfg;
struct aa_opts;
/* ---- cli_common.c: shared by the long-running commands ---- */
/* The Access Anywhere client options a configuration gives (strings borrowed from cfg). */
void run_aa_opts(const struct cfg *cfg, struct aa_opts *o);
/* -c FILE (and one optional "--name value") from argv; NULL with *exitcode set when the
 * command must end (help: 0, usage error: 2). */
const char *run_config_arg(const char *cmd, int argc, char **argv, void (*usage_fn)(FILE *),
                           const char **extra_name, const char **extra_val, int *exitcode);
/* Load the configuration, open the log, install signal handlers, fill ao. 0 or 1 (said why). */
int run_setup(const char *cmd, const char *cfgpath, struct cfg *cfg, struct aa_opts *ao);
/* Sign in once: 1 (logged) when the credentials are refused; 0 otherwise. */
int run_check_login(const char *cmd, const struct aa_opts *ao);

/* ---- cli_common.c: shared by the commands that take times ---- */
/* ISO-8601 with a zone
 * (YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM)) -> ms since the epoch; a duration such as 45s, 30m,
 * 2h, 1d, 1w, 1h30m -> ms. 0, or -1 when s is not one. */
int cli_parse_datetime(const char *s, int64_t *ms);
int cli_parse_duration(const char *s, int64_t *ms);
/* ms since the epoch -> "YYYY-MM-DDTHH:MM:SSZ". */
void cli_fmt_utc(char *out, size_t n, int64_t ms);

#endif
