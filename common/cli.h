/*
 * cli.h - entry points of jibe's subcommands, called by main.c with argv[0] = the command.
 * Each returns the process exit code.
 */
#ifndef CLI_H
#define CLI_H

int events_main(int argc, char **argv); /* consumer/events_cli.c */

#endif
