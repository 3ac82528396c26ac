/*
 * The resolver's decision order ("which dependency first", libsolv's
 * policy): the ranking of packages, dependents before their dependencies,
 * made once before the search, and the heap of open dependencies the
 * search decides from, lowest rank first.  Above solve_pool.h only.
 */
#ifndef STITCH_SOLVE_ORDER_H
#define STITCH_SOLVE_ORDER_H

#include <stddef.h>

struct solver;

/*
 * Rank the visible packages reachable from starts (visible indices, in
 * order of preference; -1 entries are skipped) through any version's
 * depends: s->vrank[i] is the rank of visible package i, or -1 when it is
 * not reachable.  Also builds s->vtab (solve_vis_lookup).
 */
void solve_order_rank(struct solver *s, const int *starts, size_t n_starts);

/* Put the open dependency aux on s->heap, unless it is there already. */
void solve_heap_push(struct solver *s, int aux);

/* Take the least key off s->heap (which must not be empty). */
void solve_heap_pop(struct solver *s);

#endif
