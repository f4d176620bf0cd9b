/*
 * cfg_print.c - printing from the option table (see cfg.h): cfg_dump(), the effective values
 * in libconfig syntax with every secret as "***", cfg_example(), the commented file that
 * deploy/jibe.cfg.example is, and cfg_man(), the manual page jibe.cfg(5) from the same
 * table (so the two cannot drift apart). Owns nothing; cfg_example() and cfg_man() build and
 * clear their own defaults.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_impl.h"
#include "kconf.h"

/* 1 when option o belongs to group g ("" = top level). */
static int in_group(const struct cfg_opt *o, const char *g)
{
        size_t n = strlen(g);

        if (!n)
                return strchr(o->name, '.') == NULL;
        return strncmp(o->name, g, n) == 0 && o->name[n] == '.';
}
static void put_string(FILE *fp, const char *s)
{
        fputc('"', fp);
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch == '"' || ch == '\\')
                        fprintf(fp, "\\%c", ch);
                else if (ch == '\n')
                        fputs("\\n", fp);
                else if (ch == '\t')
                        fputs("\\t", fp);
                else if (ch == '\r')
                        fputs("\\r", fp);
                else if (ch < 0x20 || ch == 0x7f)
                        fprintf(fp, "\\x%02x", ch);
                else
                        fputc(ch, fp);
        }
        fputc('"', fp);
}

static void put_size(FILE *fp, uint64_t v)
{
        char b[32];

        cfg_fmt_size(b, sizeof(b), v);
        if (strchr("KMGT", b[strlen(b) - 1]))
                fprintf(fp, "\"%s\"", b);
        else
                fprintf(fp, "%llu%s", (unsigned long long)v, v > INT32_MAX ? "L" : "");
}

static void put_float(FILE *fp, double v)
{
        char b[64];

        snprintf(b, sizeof(b), "%.10g", v);
        fputs(b, fp);
        if (!strpbrk(b, ".eEn"))
                fputs(".0", fp);
}

/* The value of o in c, in libconfig syntax; 0 when it is not set (nothing printed). */
static int put_value(FILE *fp, const struct cfg *c, const struct cfg_opt *o)
{
        size_t i, n;

        switch (o->type) {
        case CFGT_STR: {
                const char *s = *(char **)cfg_fld(c, o->off);

                if (!s)
                        return 0;
                if (o->flags & CO_SECRET)
                        fputs("\"***\"", fp);
                else
                        put_string(fp, s);
                return 1;
        }
        case CFGT_LONG:
                fprintf(fp, "%ld", *(long *)cfg_fld(c, o->off));
                return 1;
        case CFGT_INT:
                fprintf(fp, "%d", *(int *)cfg_fld(c, o->off));
                return 1;
        case CFGT_BOOL:
                fputs(*(int *)cfg_fld(c, o->off) ? "true" : "false", fp);
                return 1;
        case CFGT_SIZE:
                put_size(fp, *(uint64_t *)cfg_fld(c, o->off));
                return 1;
        case CFGT_FLOAT:
                put_float(fp, *(double *)cfg_fld(c, o->off));
                return 1;
        case CFGT_STRLIST: {
                char **v = *(char ***)cfg_fld(c, o->off);

                n = *cfg_fld_n(c, o);
                fputs("[", fp);
                for (i = 0; i < n; i++) {
                        fputs(i ? ", " : " ", fp);
                        if ((o->flags & CO_PROPS) && kconf_prop_is_secret(v[i]))
                                fprintf(fp, "\"%.*s=***\"", (int)strcspn(v[i], "="), v[i]);
                        else
                                put_string(fp, v[i]);
                }
                fputs(" ]", fp);
                return 1;
        }
        case CFGT_PREFIXES: {
                struct cfg_prefix *v = *(struct cfg_prefix **)cfg_fld(c, o->off);

                n = *cfg_fld_n(c, o);
                fputs("(", fp);
                for (i = 0; i < n; i++) {
                        fputs(i ? ", { bucket = " : " { bucket = ", fp);
                        put_string(fp, v[i].bucket);
                        fputs("; prefix = ", fp);
                        put_string(fp, v[i].prefix);
                        fputs("; }", fp);
                }
                fputs(" )", fp);
                return 1;
        }
        }
        return 0;
}

static void group_open(FILE *fp, const char *g, const char **indent)
{
        *indent = *g ? "        " : "";
        if (*g)
                fprintf(fp, "%s = {\n", g);
}

static void group_close(FILE *fp, const char *g)
{
        if (*g)
                fputs("};\n", fp);
}

void cfg_dump(const struct cfg *cfg, FILE *fp)
{
        size_t g, i;
        const char *ind;

        fprintf(fp, "# effective configuration%s%s (secrets shown as \"***\")\n",
                cfg->path ? " of " : "", cfg->path ? cfg->path : "");
        for (g = 0; g < cfg_ngroups; g++) {
                group_open(fp, cfg_groups[g], &ind);
                for (i = 0; i < cfg_nopts; i++) {
                        const struct cfg_opt *o = &cfg_opts[i];
                        const char *from = NULL;

                        if (!in_group(o, cfg_groups[g]))
                                continue;
                        if (o->off == OFF(aa_password))
                                from = cfg->aa_password_from;
                        else if (o->off == OFF(aa_authtoken))
                                from = cfg->aa_authtoken_from;
                        if (from && strcmp(from, cfg_leaf(o->name)) != 0) {
                                /* read from a file or the environment: shown, not settable twice */
                                fprintf(fp, "%s# %s = \"***\";  (from %s)\n", ind, cfg_leaf(o->name),
                                        from);
                                continue;
                        }
                        if (o->type == CFGT_STR && !*(char **)cfg_fld(cfg, o->off)) {
                                fprintf(fp, "%s# %s: not set\n", ind, cfg_leaf(o->name));
                                continue;
                        }
                        fprintf(fp, "%s%s = ", ind, cfg_leaf(o->name));
                        put_value(fp, cfg, o);
                        fputs(";\n", fp);
                }
                group_close(fp, cfg_groups[g]);
        }
}

/* "# " lines of at most width columns. */
static void put_comment(FILE *fp, const char *ind, const char *text, size_t width)
{
        const char *p = text;

        while (*p) {
                size_t n = strlen(p), cut = n;

                if (n > width) {
                        for (cut = width; cut > 0 && p[cut] != ' '; cut--)
                                ;
                        if (!cut)
                                cut = strcspn(p, " ");
                }
                fprintf(fp, "%s# %.*s\n", ind, (int)cut, p);
                p += cut;
                while (*p == ' ')
                        p++;
        }
}

/* "# Old name, still accepted: scanner.provider_refresh_s." for a renamed option. */
static void put_aliases(FILE *fp, const char *ind, const struct cfg_opt *o)
{
        size_t k;

        for (k = 0; k < cfg_naliases; k++)
                if (strcmp(cfg_aliases[k].name, o->name) == 0)
                        fprintf(fp, "%s# Old name, still accepted but deprecated: %s.\n", ind,
                                cfg_aliases[k].old);
}

/* "VALUE (MIN to MAX)." or "not set.": the default of o and its range. */
static void put_default_value(FILE *fp, const struct cfg *def, const struct cfg_opt *o)
{
        char lo[32], hi[32];

        switch (o->type) {
        case CFGT_STR:
                if (*(char **)cfg_fld(def, o->off))
                        put_value(fp, def, o);
                else
                        fputs("not set", fp);
                fputs(".\n", fp);
                return;
        case CFGT_LONG:
        case CFGT_INT:
                put_value(fp, def, o);
                fprintf(fp, " (%lld to %lld).\n", o->min_i, o->max_i);
                return;
        case CFGT_SIZE:
                cfg_fmt_size(lo, sizeof(lo), (uint64_t)o->min_i);
                cfg_fmt_size(hi, sizeof(hi), (uint64_t)o->max_i);
                put_value(fp, def, o);
                fprintf(fp, " (%s to %s; K, M, G, T are powers of 1024).\n", lo, hi);
                return;
        case CFGT_FLOAT:
                put_value(fp, def, o);
                fprintf(fp, " (%g to %g).\n", o->min_f, o->max_f);
                return;
        case CFGT_BOOL:
                put_value(fp, def, o);
                fputs(".\n", fp);
                return;
        case CFGT_STRLIST:
        case CFGT_PREFIXES:
                fputs("empty.\n", fp);
                return;
        }
}

void cfg_example(FILE *fp)
{
        struct cfg def;
        size_t g, i;
        const char *ind;

        cfg_init(&def);
        fputs("# jibe.cfg - configuration of jibe, which keeps Access Anywhere's index of Amazon S3\n"
              "# buckets in step with changes made directly through the S3 API, as found in CloudTrail logs.\n"
              "#\n"
              "# Syntax (libconfig): name = value; groups in { }, lists in [ ] or ( ), text in double\n"
              "# quotes, comments after #. Every setting below shows its default; the values that are not\n"
              "# defaults are examples to replace. A setting jibe does not know is an error, so that a typo\n"
              "# never goes unnoticed. Check this file, and see the values jibe will use, with\n"
              "#     jibe check-config -c /etc/jibe/jibe.cfg --dump\n"
              "# It names the file, line and setting of any mistake. Passwords are never printed.\n"
              "#\n"
              "# This file was generated by 'jibe check-config --example'.\n",
              fp);
        for (g = 0; g < cfg_ngroups; g++) {
                fputs("\n", fp);
                put_comment(fp, "", cfg_group_desc[g], 92);
                group_open(fp, cfg_groups[g], &ind);
                for (i = 0; i < cfg_nopts; i++) {
                        const struct cfg_opt *o = &cfg_opts[i];
                        int first = 1;

                        if (!in_group(o, cfg_groups[g]))
                                continue;
                        if (i && in_group(&cfg_opts[i - 1], cfg_groups[g]))
                                first = 0;
                        if (!first)
                                fputs("\n", fp);
                        put_comment(fp, ind, o->desc, 92);
                        put_aliases(fp, ind, o);
                        fprintf(fp, "%s# Default: ", ind);
                        put_default_value(fp, &def, o);
                        if (o->example && (o->flags & CO_EX_ACTIVE)) {
                                fprintf(fp, "%s%s = %s;\n", ind, cfg_leaf(o->name), o->example);
                        } else if (o->example) {
                                fprintf(fp, "%s# %s = %s;\n", ind, cfg_leaf(o->name), o->example);
                        } else {
                                fprintf(fp, "%s%s = ", ind, cfg_leaf(o->name));
                                put_value(fp, &def, o);
                                fputs(";\n", fp);
                        }
                }
                group_close(fp, cfg_groups[g]);
        }
        cfg_clear(&def);
}

/* text for roff: a backslash as \e, a dot or quote that would open a line escaped. */
static void man_text(FILE *fp, const char *s)
{
        int bol = 1;

        for (; *s; s++) {
                if (bol && (*s == '.' || *s == '\''))
                        fputs("\\&", fp);
                if (*s == '\\')
                        fputs("\\e", fp);
                else if (*s == '-')
                        fputs("\\-", fp);
                else
                        fputc(*s, fp);
                bol = *s == '\n';
        }
}

/* The default of o as man_text(). */
static void man_default(FILE *fp, const struct cfg *def, const struct cfg_opt *o)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);

        if (!m) {
                fputs("see jibe check\\-config \\-\\-example.", fp);
                return;
        }
        put_default_value(m, def, o);
        if (fclose(m) == 0 && buf) {
                buf[strcspn(buf, "\n")] = '\0';
                man_text(fp, buf);
        }
        free(buf);
}

void cfg_man(FILE *fp)
{
        struct cfg def;
        size_t g, i, k;

        cfg_init(&def);
        fputs(".\\\" jibe.cfg.5 - generated by 'jibe check-config --man' from the option table\n"
              ".\\\" of common/cfg.c, the same table as 'jibe check-config --example': do not edit.\n"
              ".TH JIBE.CFG 5 \"\" \"jibe " JB_VERSION "\" \"File formats\"\n"
              ".SH NAME\n"
              "jibe.cfg \\- configuration file of jibe\n"
              ".SH SYNOPSIS\n"
              ".I /etc/jibe/jibe.cfg\n"
              ".SH DESCRIPTION\n"
              "The configuration of\n"
              ".BR jibe (1),\n"
              "which keeps Access Anywhere's index of Amazon S3 buckets in step with changes made\n"
              "directly through the S3 API, as found in the buckets' CloudTrail logs.\n"
              ".PP\n"
              "The syntax is libconfig's: \\fIname\\fR = \\fIvalue\\fR; groups in { }, lists in\n"
              "[ ] or ( ), text in double quotes, comments after #. A setting jibe does not know is an\n"
              "error, so that a typo never goes unnoticed.\n"
              ".B jibe check\\-config \\-c /etc/jibe/jibe.cfg \\-\\-dump\n"
              "names the file, line and setting of any mistake and shows the values jibe will use\n"
              "(passwords as ***);\n"
              ".B jibe check\\-config \\-\\-example\n"
              "prints a commented file with every setting below.\n"
              ".PP\n"
              "Each setting is named here with its group, as in\n"
              ".BR scanner.interval_s ;\n"
              "in the file it is written inside its group:\n"
              ".B scanner = { interval_s = 60; };\n"
              "Sizes take K, M, G or T (powers of 1024).\n",
              fp);
        for (g = 0; g < cfg_ngroups; g++) {
                fprintf(fp, ".SH %s\n", *cfg_groups[g] ? cfg_groups[g] : "TOP-LEVEL SETTINGS");
                man_text(fp, cfg_group_desc[g]);
                fputs("\n", fp);
                for (i = 0; i < cfg_nopts; i++) {
                        const struct cfg_opt *o = &cfg_opts[i];

                        if (!in_group(o, cfg_groups[g]))
                                continue;
                        fputs(".TP\n.B ", fp);
                        man_text(fp, o->name);
                        fputs("\n", fp);
                        man_text(fp, o->desc);
                        fputs("\n.br\nDefault: ", fp);
                        man_default(fp, &def, o);
                        fputs("\n", fp);
                        if (o->example) {
                                fputs(".br\nExample: ", fp);
                                man_text(fp, o->example);
                                fputs("\n", fp);
                        }
                        for (k = 0; k < cfg_naliases; k++)
                                if (strcmp(cfg_aliases[k].name, o->name) == 0) {
                                        fputs(".br\nOld name, still accepted but deprecated: ", fp);
                                        man_text(fp, cfg_aliases[k].old);
                                        fputs(".\n", fp);
                                }
                }
        }
        fputs(".SH FILES\n"
              ".TP\n.I /etc/jibe/jibe.cfg\n"
              "the configuration the shipped systemd units read\n"
              ".TP\n.I /usr/share/doc/jibe/jibe.cfg.example\n"
              "every setting with its default, commented\n"
              ".SH SEE ALSO\n"
              ".BR jibe (1)\n",
              fp);
        cfg_clear(&def);
}
