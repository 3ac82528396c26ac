/*
 * The resolver's search (libsolv's solver.c): propagate, analyse each
 * conflict into a learned clause, and decide in the order that encodes
 * the preferences of section 5, until every goal is met or a conflict
 * holds at level 0.  Above solve_prop.h, solve_undo.h, solve_rules.h,
 * solve_store.h, solve_order.h and solve_pool.h.
 */
#ifndef STITCH_SOLVE_SEARCH_H
#define STITCH_SOLVE_SEARCH_H

struct solver;

/*
 * Search from the set-up problem, confl being a conflict its clauses met
 * (or -1).  Returns 0 when every goal is met (the true versions, from the
 * roots through the dependencies, are the answer), STITCH_E_UNSAT with the
 * conflict that holds at level 0 in *final (the search then rests at level
 * 0), or s->fail when a requirement of the index did not parse.
 */
int solve_search(struct solver *s, int confl, int *final);

#endif
