/*
 * The resolver's clause store (libsolv's rules, the storage half): the big
 * arrays and where they live, variables, the trail's assignments, clauses
 * with their two watched literals, and the record of how a learned clause
 * was derived.  Above solve_pool.h only: it knows nothing of packages,
 * requirements or the search's order.
 */
#ifndef STITCH_SOLVE_STORE_H
#define STITCH_SOLVE_STORE_H

#include <stddef.h>
#include <string.h>

#include "solve_types.h"

/*
 * XGROW for the big arrays (see solve_place_arena): what it adds past the
 * old capacity is zeroed.  Returns the array, maybe moved; *cap is updated.
 */
void *solve_big_grow(const struct solver *s, void *arr, size_t *cap, size_t need, size_t size);

#define BIG_GROW(s, arr, cap, need) \
	((need) <= (cap)            \
	     ? (void)0              \
	     : (void)((arr) = solve_big_grow((s), (arr), &(cap), (need), sizeof(*(arr)))))

/*
 * For a search over about n versions, place the big arrays side by side
 * in one mapping with room for what it makes (nothing for a small one).
 * Only before the arrays are first grown.
 */
void solve_place_arena(struct solver *s, size_t n);

/* Free the big arrays, the arena and the watch chunks. */
void solve_store_release(struct solver *s);

/* Room for n variables in the arrays kept per variable or literal. */
void solve_reserve_vars(struct solver *s, size_t n);

/* n new unassigned variables of package pkg, idx 0 to n - 1; returns the first. */
int solve_new_vars(struct solver *s, int n, int kind, int pkg);

/* One new variable; returns it. */
int solve_new_var(struct solver *s, int kind, int pkg, int idx);

/* n ints from the watch chunks, freed with the store. */
int *solve_watch_block(struct solver *s, size_t n);

/*
 * Push x on a package's list (struct spkg: ranges, incoming, auxs), whose
 * blocks come from the watch chunks too: thousands of short lists, freed
 * with the chunks.
 */
void solve_list_push(struct solver *s, struct ivec *v, int x);

/* Clause cid watches literal lit (it is looked at when lit becomes true). */
static inline void watch_push(struct solver *s, int lit, int cid)
{
	struct wlist *w = &s->watches[lit];

	if (w->cap <= WL_INLINE && w->n < WL_INLINE) {
		w->cap = WL_INLINE;
		w->u.in[w->n++] = cid;
		return;
	}
	if (w->n == w->cap) {
		int cap = 2 * w->cap, *a = solve_watch_block(s, (size_t)cap);
		memcpy(a, wl_ids(w), (size_t)w->n * sizeof(int));
		w->u.ext = a;
		w->cap = cap;
	}
	w->u.ext[w->n++] = cid;
}

/* An edge from variable from to var (see struct sedge). */
static inline __attribute__((always_inline)) void add_edge(struct solver *s, int from, int var)
{
	if (s->n_edges == s->cap_edges)
		BIG_GROW(s, s->edges, s->cap_edges, s->n_edges + 1);
	s->edges[s->n_edges] = (struct sedge){var, s->vars[var].stamp, s->vars[from].child};
	s->vars[from].child = (int)s->n_edges++;
}

/*
 * Assign lit, for reason (a clause id, REASON_AMO or REASON_NONE for a
 * decision, which opens no level: the caller does).  The level of an
 * implied literal is the highest level among the other literals of its
 * reason, which may be below the current level: the trail is then out of
 * level order (chronological backtracking, Nadel and Ryvchin 2018, Möhle
 * and Biere 2019), and solve_backjump() keeps such literals.  Each literal
 * of the reason gets an edge to it, for solve_undo().
 */
static inline __attribute__((always_inline)) void enqueue(struct solver *s, int lit, int reason)
{
	int var = LIT_VAR(lit), lv = 0;
	struct svar *v = &s->vars[var];

	v->stamp = ++s->stamp;
	v->child = -1;
	if (reason == REASON_NONE) {
		lv = (int)s->n_lim;
	} else if (REASON_IS_AMO(reason)) {
		/* No edge: solve_undo() finds these by their reason (see there). */
		lv = s->vars[REASON_AMO_VAR(reason)].level;
	} else {
		const struct sclause *c = &s->cls[reason];
		for (int i = 0; i < c->n; i++) {
			int l = s->lits[c->off + i], u = LIT_VAR(l), ul = s->vars[u].level;
			if (u == var)
				continue;
			if (ul > lv)
				lv = ul;
			add_edge(s, u, var);
		}
	}
	v->level = lv;
	s->val[var] = (signed char)!LIT_NEG(lit);
	if (v->kind == SVAR_VERSION) {
		struct spkg *p = &s->pkgs[v->pkg];
		if (s->val[var])
			p->n_true++;
		else
			s->bits[p->open_off + v->idx / 64] &= ~((uint64_t)1 << (v->idx % 64));
	}
	v->reason = reason;
	if (s->n_trail == s->cap_trail)
		BIG_GROW(s, s->trail, s->cap_trail, s->n_trail + 1);
	v->tpos = (int)s->n_trail;
	s->trail[s->n_trail++] = lit;
}

/*
 * Add a clause of n literals, of kind (enum clause_kind) with info, during
 * the search or before it; *id_out (may be NULL) gets its id.  Literals
 * are assigned at levels no higher than the current one, and any false
 * literal at the current level is the one that made the clause appear, so
 * choosing as watches the non-false literals first and then the false ones
 * of the highest level keeps the watch invariant after any backjump.
 * Returns the clause id if it is in conflict (then also queued in s->pend,
 * for solve_imply_pending), else -1: a clause with one literal left open
 * implies it at once, and a one-literal clause met above level 0 is kept
 * in s->units.
 */
int solve_add_clause(struct solver *s, const int *lits, int n, int kind, int info, int *id_out);

/* solve_add_clause for two literals, the most common. */
int solve_add_clause2(struct solver *s, int a, int b, int kind, int info, int *id_out);

/* Versions a and b of one package are both true: the CL_AMO clause that says so. */
int solve_amo_conflict(struct solver *s, int a, int b);

/* The literals of a reason (clause or AMO) of variable var into out. */
void solve_reason_lits(const struct solver *s, int var, int reason, struct ivec *out);

/*
 * Record how the learned clause about to be added was derived: the
 * clauses (or AMO reasons) antes, and the variables false at level 0
 * resolved away, zeros (may be NULL).  Returns its learn id: the clause's
 * info, and s->learns[id].clause is for the caller to set.
 */
int solve_learn(struct solver *s, const struct ivec *antes, const struct ivec *zeros);

#endif
