/*
 * cli.h - entry points of jibe's subcommands, called by main.c with argv[0] = the command.
 * Each returns the process exit code.
 */
#ifndef CLI_H
#define CLI_H

int events_main(int argc, char **argv); /* consumer/events_cli.c */
int check_config_main(int argc, char **argv); /* common/cfg_cli.c */
int run_main(int argc, char **argv);          /* common/run.c */

struct cfg;
struct aa_opts;
/* The Access Anywhere client options a configuration gives (strings borrowed from cfg). */
void run_aa_opts(const struct cfg *cfg, struct aa_opts *o);

#endif
