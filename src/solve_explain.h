/*
 * Explaining why the resolver found no solution (libsolv's problems.c).
 * Above solve_rules.h, solve_store.h and solve_pool.h: it reads the
 * search's record and calls nothing of the search itself.
 */
#ifndef STITCH_SOLVE_EXPLAIN_H
#define STITCH_SOLVE_EXPLAIN_H

#include "error.h"
#include "util.h"

struct solver;

/*
 * Write the explanation of the final conflict (clause confl, everything
 * false at level 0, as solve_search leaves it) to why (may be NULL), and
 * set err to STITCH_E_UNSAT with a one-line summary.
 */
void solve_explain(struct solver *s, int confl, struct stitch_buf *why, struct stitch_err *err);

#endif
