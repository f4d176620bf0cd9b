/*
 * log.h - jibe's logger: levels, timestamps, one line per record, stderr or a file.
 *
 * log_msg() checks the level before formatting. Lines look like
 *   2026-11-29T18:20:12.345Z WARN  parser: file=... what happened, what to do
 * Secrets never reach a log line: log_redact() is the one place that blanks them, and the
 * values registered with log_add_secret() are replaced by "***" in every line, and so is the
 * user information of any address (user:password@ in a URL becomes ***@).
 * The log file is created mode 0640 whatever the umask.
 * With log_set_format(LOG_FMT_JSON) every line is one JSON object instead:
 *   {"time":"2026-11-29T18:20:12.345Z","level":"warn","module":"parser","msg":"file=... ...",
 *    "file":"..."}
 * where each "name=value" word of the message (name in [a-z_]) is also a string member of its
 * own (a name already present, or one of time/level/module/msg, is not repeated).
 * While the log goes to a file, every ERROR line is also written to standard error (as text),
 * so a fatal start-up error reaches the terminal or the journal that started jibe.
 * Thread-safe: one mutex around each write.
 */
#ifndef LOG_H
#define LOG_H

#include "jb.h"

enum log_level { LL_DEBUG = 0, LL_INFO, LL_WARN, LL_ERROR, LL_OFF };
enum log_format { LOG_FMT_TEXT = 0, LOG_FMT_JSON };

/* path NULL or "-": stderr. Returns JB_EIO (with errstr) when the file cannot be opened. */
int log_open(const char *path, enum log_level level, char *errstr, size_t errsz);
int log_reopen(void); /* after SIGHUP: reopen the same file (logrotate) */
void log_close(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_parse(const char *s, enum log_level *out); /* "debug".."error" */
void log_set_format(enum log_format fmt);
int log_format_parse(const char *s, enum log_format *out); /* "text", "json"; else JB_EINPUT */
/* Version of log_format = "json" lines: their member "v" (a collector can tell a change
 * of the line's members from a new jibe). */
#define LOG_JSON_VERSION 1
/* Register a secret (password, token) to be masked in every later line; copied. */
void log_add_secret(const char *secret);
/* The same redaction as every log line, in place, for text that leaves jibe another way
 * (a Slack alert): registered secrets and the user:password@ of addresses become ***. */
void log_scrub(char *text);
void log_msg(enum log_level level, const char *module, const char *fmt, ...) JB_PRINTF(3, 4);

#endif
