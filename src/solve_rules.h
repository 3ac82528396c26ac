/*
 * Making the resolver's clauses from the index (libsolv's rules): the
 * variables of each package the search touches, and for each requirement
 * string of a package one aux variable, "a version of the package that
 * has this requirement is chosen", with the clauses that tie it to the
 * versions that have it and to its candidates (see solve_types.h).
 * Above solve_store.h and solve_pool.h only.
 *
 * The functions that add clauses report a conflict by the first clause
 * made in conflict, or -1 (see solve_add_clause); a requirement string of
 * the index that does not parse sets s->fail to STITCH_E_INDEX, with
 * s->err.
 */
#ifndef STITCH_SOLVE_RULES_H
#define STITCH_SOLVE_RULES_H

#include <stdint.h>

#include "req.h"

struct solver;
struct ivec;

/* The spkg id for name, creating its variables on first use. */
int solve_touch(struct solver *s, const char *name);

/* The spkg id of a package the search touched, or -1. */
int solve_find_pkg(struct solver *s, const char *name);

/*
 * The literals of the versions r matches, alternatives in order and each
 * package's versions newest first, without repeats, appended to out.
 */
void solve_req_candidates(struct solver *s, const struct stitch_req *r, struct ivec *out);

/*
 * Turn the requirements of version var, which just became true or is
 * about to be decided, into clauses: the auxs of its requirement strings,
 * made on first use with the clauses of every version that has them.
 * Returns a conflicting clause id, or -1.
 */
int solve_expand(struct solver *s, int var);

/*
 * Version i of package pid has the requirement of aux id: add "it implies
 * aux", and set *confl to the clause if it is the first conflict.
 */
void solve_aux_member(struct solver *s, int pid, int i, int id, int *confl);

/* aux(pid, kind, str), or -1 when it was never made. */
int solve_find_aux(const struct solver *s, int pid, int kind, const char *str);

/* Which versions of its package have aux's requirement: set[i] = 0 or 1. */
void solve_aux_members(const struct solver *s, int aux, char *set);

#endif
