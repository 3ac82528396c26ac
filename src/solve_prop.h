/*
 * Propagation: what the assignment implies, through the clauses' watched
 * literals, "at most one version" and the ranges needed on each package;
 * a version that becomes true is expanded (its requirements made clauses)
 * on the way.  Above solve_undo.h, solve_rules.h, solve_store.h,
 * solve_order.h and solve_pool.h.
 */
#ifndef STITCH_SOLVE_PROP_H
#define STITCH_SOLVE_PROP_H

#include <stdbool.h>

struct solver;
struct spkg;

/*
 * Propagate until nothing is left or a conflict: returns the conflicting
 * clause id, or -1 (also when s->fail is set).  Open dependencies met on
 * the way go on s->heap.
 */
int solve_propagate(struct solver *s);

/*
 * The versions of p still open that every range needed on it now (a true
 * AUX_DEP on p alone) allows, as a bit set into s->need.
 */
void solve_need_mask(struct solver *s, struct spkg *p);

/* solve_need_mask, and the ids of those ranges into s->rs, first (if >= 0) first. */
void solve_need_set(struct solver *s, struct spkg *p, int first);

/*
 * No open version of p is allowed by the ranges s->rs (the first true or
 * unassigned, the others true): derive the incompatibility of a few of
 * them, "these ranges are not all needed (unless one of these versions,
 * all false now, is chosen)", and add it as a learned clause.  When every
 * literal is false, first takes back the assignment to where it implies
 * its literal (or is still in conflict).  Returns a conflicting clause id
 * or -1; sets *done when a clause was added.
 */
int solve_derive_ranges(struct solver *s, const struct spkg *p, bool *done);

#endif
