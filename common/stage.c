/*
 * stage.c - the counter list of stage.h.
 */
#include <string.h>

#include "jb.h"
#include "stage.h"

void jb_counters_add(struct jb_counters *l, const char *name, enum jb_metric_kind kind, int64_t value,
                     const char *help)
{
        if (l->n >= JB_COUNTERS_MAX)
                return;
        l->c[l->n].name = name;
        l->c[l->n].kind = kind;
        l->c[l->n].value = value;
        l->c[l->n].help = help;
        l->n++;
}

int jb_counters_get(const struct jb_counters *l, const char *name, int64_t *value)
{
        size_t i;

        for (i = 0; i < l->n; i++)
                if (!strcmp(l->c[i].name, name)) {
                        *value = l->c[i].value;
                        return JB_OK;
                }
        return JB_ENOTFOUND;
}
