/*
 * The bottom layer of the resolver: growable arrays, a heap of keys, and
 * the solver's view of the index's names (which visible package a name or
 * a repository's package is).  It calls no other part of the resolver;
 * every other file of it may call this one.
 */
#ifndef STITCH_SOLVE_POOL_H
#define STITCH_SOLVE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"

struct solver;

struct ivec {
	int *a;
	size_t n, cap;
};

/* Room for one more element: exits on out of memory, as xrealloc. */
void ivec_grow(struct ivec *v);

static inline void ivec_push(struct ivec *v, int x)
{
	if (v->n == v->cap)
		ivec_grow(v);
	v->a[v->n++] = x;
}

/* A heap of keys, each (order << 32 | id): compared without a lookup. */
struct kheap {
	uint64_t *a;
	size_t n, cap;
};

#define KHEAP_KEY(order, id) ((uint64_t)(uint32_t)(order) << 32 | (uint32_t)(id))
#define KHEAP_ID(k) ((int)(uint32_t)(k))

/* Add a key; take the least out (the heap must not be empty). */
void kheap_push(struct kheap *h, uint64_t key);
uint64_t kheap_pop(struct kheap *h);

/* Names of the visible packages, hashed: built by the ranking, kept for touch. */
struct name_slot {
	uint32_t vis; /* 0 empty, else 1 + visible index */
	uint32_t hash; /* of its name, next to it: one cache miss per probe */
};

struct name_tab {
	struct name_slot *slot;
	const char **name; /* per visible index, without going through the package */
	size_t mask;
};

/* FNV-1a, the hash of the table: a caller that scans a name computes it on the way. */
#define SOLVE_FNV_OFFSET 2166136261u
#define SOLVE_FNV_PRIME 16777619u

/* Hash every visible package of idx into t (release with solve_names_release). */
void solve_names_init(struct name_tab *t, const struct stitch_index *idx);
void solve_names_release(struct name_tab *t);

/* The visible index of the len bytes at name, whose FNV-1a hash is h, or -1. */
int solve_names_find(const struct name_tab *t, const char *name, size_t len, uint32_t h);

/*
 * The index in idx->visible of the package called name, or -1: through
 * s->vtab once the ranking has built it, else by the index's own lookup.
 */
int solve_vis_lookup(const struct solver *s, const char *name);

/*
 * The visible index of each package of repo, or -1 where a repository of
 * higher priority hides it (made on first use, kept in s->repo_vis); NULL
 * when repo is not one of the index's.
 */
const int *solve_repo_vis(struct solver *s, const struct stitch_repo *repo);

#endif
