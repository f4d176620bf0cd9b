/*
 * batch.c - the syncer's dedup window (batch.h): a hash map from (provider, bucket, key) to
 * an entry holding the last op and the list of messages it covers.
 *
 * Layout: entries live in one array (indices, not pointers, so the array may grow). Each
 * (provider, bucket) has a *group* entry (key NULL) that owns the provider and bucket strings
 * and links the object entries of that bucket; a bucket op marks the group as a bucket
 * resync and splices the messages of its object entries into it (each object entry is
 * folded at most once, so adds stay O(1) amortized). Message lists are singly linked through
 * a node array, so splicing is O(1).
 * Ownership: entries own their strings (group: "provider\0bucket\0" in one allocation,
 * object entry: its key); batch_reset() frees them and keeps the arrays.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

#define NONE ((size_t)-1)

struct entry {
        const char *provider, *bucket; /* group: into own; object entry: into its group's */
        char *own;                     /* group: "provider\0bucket\0"; object entry: key */
        uint64_t hash;
        size_t group;             /* index of the group entry (itself for a group) */
        size_t head, tail, nmsgs; /* message list (node indices) */
        size_t next_obj;          /* group: first object entry; object: next one */
        enum msg_op op;
        unsigned char is_group;
        unsigned char bucket_op; /* group: a bucket op was seen */
        unsigned char subsumed;  /* object entry: folded into its group's bucket op */
};

struct node {
        void *msg;
        size_t next;
};

struct batch {
        struct entry *ents;
        size_t nents, capents;
        struct node *nodes;
        size_t nnodes, capnodes;
        size_t *slots; /* entry index + 1; 0 is empty */
        size_t capslots;
        struct batch_item *items;
        size_t capitems;
        void **msgs;
        size_t capmsgs;
};

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ULL;
        }
        return h;
}

static uint64_t key_hash(const char *provider, const char *bucket, const char *key)
{
        uint64_t h = 14695981039346656037ULL;

        h = fnv(h, provider, strlen(provider) + 1);
        h = fnv(h, bucket, strlen(bucket) + 1);
        if (key)
                h = fnv(fnv(h, "k", 1), key, strlen(key));
        else
                h = fnv(h, "b", 1);
        return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t elsz)
{
        size_t n = *cap ? *cap : 64;
        void *np;

        if (need <= *cap)
                return JB_OK;
        while (n < need) {
                if (n > SIZE_MAX / 2 / elsz)
                        return JB_ENOMEM;
                n *= 2;
        }
        np = realloc(*p, n * elsz);
        if (!np)
                return JB_ENOMEM;
        *p = np;
        *cap = n;
        return JB_OK;
}

struct batch *batch_new(void)
{
        return calloc(1, sizeof(struct batch));
}

void batch_reset(struct batch *b)
{
        size_t i;

        if (!b)
                return;
        for (i = 0; i < b->nents; i++)
                free(b->ents[i].own);
        b->nents = 0;
        b->nnodes = 0;
        if (b->slots)
                memset(b->slots, 0, b->capslots * sizeof(*b->slots));
}

void batch_free(struct batch *b)
{
        if (!b)
                return;
        batch_reset(b);
        free(b->ents);
        free(b->nodes);
        free(b->slots);
        free(b->items);
        free(b->msgs);
        free(b);
}

size_t batch_events(const struct batch *b)
{
        return b->nnodes;
}

static int entry_is(const struct entry *e, uint64_t h, const char *provider, const char *bucket,
                    const char *key)
{
        if (e->hash != h || e->is_group != (key == NULL))
                return 0;
        if (strcmp(e->provider, provider) != 0 || strcmp(e->bucket, bucket) != 0)
                return 0;
        return key ? strcmp(e->own, key) == 0 : 1;
}

static size_t lookup(const struct batch *b, uint64_t h, const char *provider, const char *bucket,
                     const char *key)
{
        size_t mask, i;

        if (!b->capslots)
                return NONE;
        mask = b->capslots - 1;
        for (i = (size_t)h & mask; b->slots[i]; i = (i + 1) & mask)
                if (entry_is(&b->ents[b->slots[i] - 1], h, provider, bucket, key))
                        return b->slots[i] - 1;
        return NONE;
}

static void slot_put(struct batch *b, size_t idx)
{
        size_t mask = b->capslots - 1, i;

        for (i = (size_t)b->ents[idx].hash & mask; b->slots[i]; i = (i + 1) & mask)
                ;
        b->slots[i] = idx + 1;
}

/* Room for one more entry in the array and the table (load factor at most 1/2). */
static int reserve_entry(struct batch *b)
{
        size_t i, n;
        size_t *ns;

        if (grow((void **)&b->ents, &b->capents, b->nents + 1, sizeof(*b->ents)))
                return JB_ENOMEM;
        if ((b->nents + 1) * 2 <= b->capslots)
                return JB_OK;
        n = b->capslots ? b->capslots * 2 : 256;
        ns = calloc(n, sizeof(*ns));
        if (!ns)
                return JB_ENOMEM;
        free(b->slots);
        b->slots = ns;
        b->capslots = n;
        for (i = 0; i < b->nents; i++)
                slot_put(b, i);
        return JB_OK;
}

static size_t new_entry(struct batch *b, uint64_t h, char *own, size_t group)
{
        size_t idx = b->nents++;
        struct entry *e = &b->ents[idx];

        memset(e, 0, sizeof(*e));
        e->own = own;
        e->hash = h;
        e->group = group == NONE ? idx : group;
        e->head = e->tail = NONE;
        e->next_obj = NONE;
        slot_put(b, idx);
        return idx;
}

static size_t get_group(struct batch *b, const char *provider, const char *bucket)
{
        uint64_t h = key_hash(provider, bucket, NULL);
        size_t idx = lookup(b, h, provider, bucket, NULL), lp, lb;
        struct entry *e;
        char *own;

        if (idx != NONE)
                return idx;
        if (reserve_entry(b))
                return NONE;
        lp = strlen(provider);
        lb = strlen(bucket);
        own = malloc(lp + lb + 2);
        if (!own)
                return NONE;
        memcpy(own, provider, lp + 1);
        memcpy(own + lp + 1, bucket, lb + 1);
        idx = new_entry(b, h, own, NONE);
        e = &b->ents[idx];
        e->provider = own;
        e->bucket = own + lp + 1;
        e->is_group = 1;
        e->op = MSG_OP_BUCKET;
        return idx;
}

static void push_msg(struct batch *b, struct entry *e, void *msg)
{
        size_t n = b->nnodes++;

        b->nodes[n].msg = msg;
        b->nodes[n].next = NONE;
        if (e->tail == NONE)
                e->head = n;
        else
                b->nodes[e->tail].next = n;
        e->tail = n;
        e->nmsgs++;
}

/* Move every message of src to the end of dst. */
static void splice(struct batch *b, struct entry *dst, struct entry *src)
{
        if (src->head == NONE)
                return;
        if (dst->tail == NONE)
                dst->head = src->head;
        else
                b->nodes[dst->tail].next = src->head;
        dst->tail = src->tail;
        dst->nmsgs += src->nmsgs;
        src->head = src->tail = NONE;
        src->nmsgs = 0;
}

int batch_add(struct batch *b, const char *provider, const char *bucket, const char *key, enum msg_op op,
              void *msg)
{
        size_t g, o;
        struct entry *ge;
        uint64_t h;

        if (!provider || !bucket)
                return JB_EINPUT;
        if (op != MSG_OP_PUT && op != MSG_OP_DELETE && op != MSG_OP_BUCKET)
                return JB_EINPUT;
        if (op != MSG_OP_BUCKET && !key)
                return JB_EINPUT;
        if (grow((void **)&b->nodes, &b->capnodes, b->nnodes + 1, sizeof(*b->nodes)))
                return JB_ENOMEM;
        /* A group without messages nor bucket op yields no item: harmless if we fail below. */
        g = get_group(b, provider, bucket);
        if (g == NONE)
                return JB_ENOMEM;
        if (op == MSG_OP_BUCKET) {
                ge = &b->ents[g];
                if (!ge->bucket_op) {
                        for (o = ge->next_obj; o != NONE; o = b->ents[o].next_obj) {
                                splice(b, ge, &b->ents[o]);
                                b->ents[o].subsumed = 1;
                        }
                        ge->next_obj = NONE;
                        ge->bucket_op = 1;
                }
                push_msg(b, ge, msg);
                return JB_OK;
        }
        if (b->ents[g].bucket_op) {
                push_msg(b, &b->ents[g], msg);
                return JB_OK;
        }
        h = key_hash(provider, bucket, key);
        o = lookup(b, h, provider, bucket, key);
        if (o == NONE) {
                char *own;

                if (reserve_entry(b))
                        return JB_ENOMEM;
                own = strdup(key);
                if (!own)
                        return JB_ENOMEM;
                o = new_entry(b, h, own, g);
                ge = &b->ents[g];
                b->ents[o].provider = ge->provider;
                b->ents[o].bucket = ge->bucket;
                b->ents[o].next_obj = ge->next_obj;
                ge->next_obj = o;
        }
        b->ents[o].op = op;
        push_msg(b, &b->ents[o], msg);
        return JB_OK;
}

int batch_finish(struct batch *b, struct batch_item **items, size_t *n)
{
        size_t i, ni = 0, nm = 0, k;

        *items = NULL;
        *n = 0;
        for (i = 0; i < b->nents; i++) {
                const struct entry *e = &b->ents[i];

                if (e->is_group ? e->bucket_op : !e->subsumed)
                        ni++;
        }
        if (grow((void **)&b->items, &b->capitems, ni, sizeof(*b->items)) ||
            grow((void **)&b->msgs, &b->capmsgs, b->nnodes, sizeof(*b->msgs)))
                return JB_ENOMEM;
        ni = 0;
        for (i = 0; i < b->nents; i++) {
                const struct entry *e = &b->ents[i];
                struct batch_item *it;

                if (!(e->is_group ? e->bucket_op : !e->subsumed))
                        continue;
                it = &b->items[ni++];
                it->provider = e->provider;
                it->bucket = e->bucket;
                it->key = e->is_group ? NULL : e->own;
                it->op = e->op;
                it->msgs = b->msgs + nm;
                it->nmsgs = 0;
                for (k = e->head; k != NONE; k = b->nodes[k].next)
                        b->msgs[nm + it->nmsgs++] = b->nodes[k].msg;
                nm += it->nmsgs;
        }
        *items = ni ? b->items : NULL;
        *n = ni;
        return JB_OK;
}
