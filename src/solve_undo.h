/*
 * Taking assignments back: the two ways the search leaves a conflict, and
 * the repairs that follow.  Above solve_store.h, solve_order.h and
 * solve_pool.h only.
 */
#ifndef STITCH_SOLVE_UNDO_H
#define STITCH_SOLVE_UNDO_H

#include <stddef.h>

struct solver;

/*
 * Unassign every literal above level, except those implied below their
 * place in the trail (they stay), and close the levels above it.
 * Dependencies that lost the version that met them are open again.
 */
void solve_backjump(struct solver *s, size_t level);

/*
 * Unassign variable x and every literal whose reason depends on it,
 * directly or not, and keep the rest of the trail, the decisions made
 * after x included: they did not lead to the conflict, and undoing them
 * only to make them again was most of the search's work (a decision that
 * no dependency that stays asks for, or that a newer version could now
 * replace, goes too).  What the clauses and "at most one version" then
 * imply is queued in s->pend for solve_imply_pending().
 */
void solve_undo(struct solver *s, int x);

/* Make the literals at positions a and b of clause cid its watches. */
void solve_rewatch(struct solver *s, int cid, int a, int b);

/*
 * Imply what solve_undo() queued, and bring the queued clauses (those it
 * touched, and those made in conflict) in line with the assignment.
 * Returns a conflicting clause id, or -1; what comes after a conflict
 * stays queued, so that nothing is lost before the next decision.
 */
int solve_imply_pending(struct solver *s);

#endif
