/*
 * The resolver's search (see solve_search.h): the conflict-driven loop,
 * 1UIP conflict analysis with learning, and the decisions that encode the
 * preferences of section 5 (see solve.h).  After a conflict above the
 * roots' levels only the literal to flip and what depends on it are undone
 * (solve_undo()): the decisions made since, on other packages, stay.
 */
#include <stdint.h>
#include <stdlib.h>

#include "solve_order.h"
#include "solve_pool.h"
#include "solve_prop.h"
#include "solve_rules.h"
#include "solve_search.h"
#include "solve_store.h"
#include "solve_types.h"
#include "solve_undo.h"

/* -------------------------------------------------------------- analysis */

/*
 * With literals implied below the current level, a conflict may lie below
 * it: its level goes into *level.  When only one literal of the clause is
 * at that level, the clause is an implication missed there: undo that
 * literal (see solve_undo()) and imply the clause's, and look at any conflict
 * that brings.  Returns -1 when no conflict is left, or a conflict to
 * analyse at *level, which has two literals there (or is at level 0).
 */
static int conflict_level(struct solver *s, int confl, int *level)
{
	while (confl >= 0) {
		const struct sclause *c = &s->cls[confl];
		int top = 0, n_top = 0, at = 0, next = 0, at_next = 0;

		for (int i = 0; i < c->n; i++) {
			int lv = s->vars[LIT_VAR(s->lits[c->off + i])].level;
			if (lv > top) {
				next = top, at_next = at;
				top = lv, at = i, n_top = 1;
			} else if (lv == top) {
				n_top++;
			} else if (lv >= next) {
				next = lv, at_next = i;
			}
		}
		*level = top;
		if (n_top > 1 || top == 0)
			return confl;
		if (top <= s->root_level)
			solve_backjump(s, (size_t)top - 1);
		else
			solve_undo(s, LIT_VAR(s->lits[c->off + at]));
		if (c->n > 1)
			solve_rewatch(s, confl, at, at_next);
		enqueue(s, s->lits[s->cls[confl].off], confl);
		confl = solve_imply_pending(s);
	}
	return -1;
}

/*
 * Resolve confl, a conflict at level cur, with the reasons of its literals
 * at that level, last assigned first, until one is left (the first UIP):
 * learnt gets the clause, the UIP's literal first (negated); antes the
 * clauses resolved with, zeros the variables false at level 0 resolved
 * away, and seen every variable looked at (s->seen set for each).
 */
static void resolve_to_uip(struct solver *s, int confl, int cur, struct ivec *learnt,
                           struct ivec *antes, struct ivec *zeros, struct ivec *rl,
                           struct ivec *seen)
{
	int path = 0, reason = confl, pvar = -1;

	/*
	 * The literals seen at level cur are taken from the last assigned
	 * back, by their place in the trail: from a heap rather than by
	 * walking the trail, which the levels that solve_undo() kept fill.
	 */
	s->aheap.n = 0;
	ivec_push(learnt, 0);
	for (;;) {
		ivec_push(antes, reason);
		solve_reason_lits(s, pvar, reason, rl);
		for (size_t i = 0; i < rl->n; i++) {
			int v = LIT_VAR(rl->a[i]);
			if (v == pvar || s->seen[v])
				continue;
			s->seen[v] = 1;
			ivec_push(seen, v);
			if (s->vars[v].level == 0) {
				ivec_push(zeros, v);
			} else if (s->vars[v].level == cur) {
				path++;
				kheap_push(&s->aheap, KHEAP_KEY(INT32_MAX - s->vars[v].tpos, v));
			} else {
				ivec_push(learnt, rl->a[i]);
			}
		}
		pvar = KHEAP_ID(kheap_pop(&s->aheap));
		if (--path == 0)
			break;
		reason = s->vars[pvar].reason;
	}
	learnt->a[0] = s->trail[s->vars[pvar].tpos] ^ 1;
}

/*
 * Drop "p is w" literals of learnt when "p is not v" is in it: that is
 * resolution with "at most one version" (recorded in antes), and it reads
 * better.
 */
static void drop_amo_literals(struct solver *s, struct ivec *learnt, struct ivec *antes)
{
	size_t j = 1;

	for (size_t i = 1; i < learnt->n; i++)
		if (s->vars[LIT_VAR(learnt->a[i])].kind == SVAR_VERSION && LIT_NEG(learnt->a[i]))
			s->mark[LIT_VAR(learnt->a[i])] = 1;
	if (s->vars[LIT_VAR(learnt->a[0])].kind == SVAR_VERSION && LIT_NEG(learnt->a[0]))
		s->mark[LIT_VAR(learnt->a[0])] = 1;
	for (size_t i = 1; i < learnt->n; i++) {
		int l = learnt->a[i], v = LIT_VAR(l);
		bool drop = false;
		if (s->vars[v].kind == SVAR_VERSION && !LIT_NEG(l)) {
			const struct spkg *p = &s->pkgs[s->vars[v].pkg];
			for (int k = 0; k < p->n && !drop; k++)
				drop = p->var0 + k != v && s->mark[p->var0 + k];
		}
		if (drop)
			ivec_push(antes, REASON_AMO(v));
		else
			learnt->a[j++] = l;
	}
	for (size_t i = 0; i < learnt->n; i++)
		s->mark[LIT_VAR(learnt->a[i])] = 0;
	learnt->n = j;
}

/*
 * 1UIP analysis of confl, a conflict at level cur.  Learns a clause
 * (recording the clauses it was resolved from, for explanations), undoes
 * the first UIP (see solve_undo()) and asserts the clause.
 */
static int analyze(struct solver *s, int confl, int cur)
{
	/* Scratch kept in the solver: one conflict after another reuses it. */
	struct ivec learnt = s->an[0], antes = s->an[1], zeros = s->an[2], rl = s->an[3],
	            seen = s->an[4];
	int bj = 0, lid, cid;

	learnt.n = antes.n = zeros.n = rl.n = seen.n = 0;
	resolve_to_uip(s, confl, cur, &learnt, &antes, &zeros, &rl, &seen);
	drop_amo_literals(s, &learnt, &antes);
	for (size_t i = 0; i < seen.n; i++)
		s->seen[seen.a[i]] = 0;

	/* The literal of the highest level second: it is watched. */
	for (size_t i = 1; i < learnt.n; i++) {
		if (s->vars[LIT_VAR(learnt.a[i])].level > bj) {
			int t = learnt.a[1];
			bj = s->vars[LIT_VAR(learnt.a[i])].level;
			learnt.a[1] = learnt.a[i];
			learnt.a[i] = t;
		}
	}
	lid = solve_learn(s, &antes, &zeros);

	/*
	 * Undo the first UIP and what depends on it, no more: the decisions
	 * made since have nothing to do with the conflict.  The learned
	 * clause's literal is then implied at level bj.  A conflict among
	 * the roots' decisions backjumps (see struct solver, root_level).
	 */
	if (cur <= s->root_level)
		solve_backjump(s, (size_t)cur - 1);
	else
		solve_undo(s, LIT_VAR(learnt.a[0]));
	confl = solve_add_clause(s, learnt.a, (int)learnt.n, CL_LEARNED, lid, &cid);
	if (confl < 0)
		confl = solve_imply_pending(s);
	s->learns[lid].clause = cid;
	s->an[0] = learnt;
	s->an[1] = antes;
	s->an[2] = zeros;
	s->an[3] = rl;
	s->an[4] = seen;
	return confl;
}

/* ------------------------------------------------------------- decisions */

/* The first literal of cands that is not false, if it is unassigned. */
static int pick(const struct solver *s, const int *cands, int n, bool *done)
{
	for (int i = 0; i < n; i++) {
		int v = lit_value(s, cands[i]);
		if (v == 1)
			break;
		if (v < 0) {
			*done = false;
			return cands[i];
		}
	}
	*done = true;
	return -1;
}

/*
 * For an open dependency, the first candidate that every range needed on
 * its package allows (PubGrub decides the newest version allowed by all
 * the constraints on a package); else the plain first choice.  When that
 * dependency is a range and no version fits, derives why instead (see
 * derive_ranges): then returns -1 with *derived set.
 */
static int pick_dep(struct solver *s, int aux, int first, bool *derived, int *confl)
{
	const struct saux *a = &s->auxs[aux];
	struct spkg *p;

	if (a->single < 0) {
		/* Alternatives: the first that fits the ranges on its package. */
		int last = -1;
		for (int i = 0; i < a->n_cand; i++) {
			int lit = s->pool.a[a->cand_off + i], pid = s->vars[LIT_VAR(lit)].pkg;
			if (lit_value(s, lit) != -1)
				continue;
			if (pid != last)
				solve_need_mask(s, &s->pkgs[pid]);
			last = pid;
			if (bit_get(s->need, s->vars[LIT_VAR(lit)].idx))
				return lit;
		}
		return first;
	}
	p = &s->pkgs[a->single];
	solve_need_mask(s, p);
	for (int i = 0; i < a->n_cand; i++) {
		int lit = s->pool.a[a->cand_off + i];
		if (lit_value(s, lit) == -1 && bit_get(s->need, s->vars[LIT_VAR(lit)].idx))
			return lit;
	}
	solve_need_set(s, p, aux);
	*confl = solve_derive_ranges(s, p, derived);
	return *derived ? -1 : first;
}

/*
 * Before version var is decided: when one of its dependencies is a range
 * that no open version allowed by the ranges already needed on that
 * package fits, derive so (which rules var out) instead of deciding var
 * and meeting the conflict later.  Returns as derive_ranges.
 */
static int check_ranges(struct solver *s, int var, bool *derived)
{
	const struct svar *v = &s->vars[var];

	for (int d = 0; d < v->n_dep; d++) {
		int id = s->pool.a[v->dep_off + d];
		const struct saux *b = &s->auxs[id];
		struct spkg *p;
		bool fits = false;
		if (b->single < 0 || s->val[b->var] != -1)
			continue;
		p = &s->pkgs[b->single];
		solve_need_mask(s, p);
		for (size_t j = 0; j < nwords(p) && !fits; j++)
			fits = (s->need[j] & s->bits[b->mask_off + j]) != 0;
		if (fits)
			continue;
		solve_need_set(s, p, id);
		int confl = solve_derive_ranges(s, p, derived);
		if (*derived)
			return confl;
	}
	return -1;
}

/*
 * The next decision literal, or -1 when every goal is met; or -1 with
 * *derived set when it derived a clause instead (*confl: see pick_dep).
 */
static int decide(struct solver *s, bool *derived, int *confl)
{
	bool done;
	int lit;

	s->root_decision = true;
	for (size_t g = 0; g < s->n_inst; g++) {
		int k = s->pkgs[s->inst_pkgs[g]].keep;
		if (s->val[k] < 0)
			return LIT(k, 0);
	}
	for (size_t r = 0; r < s->n_roots; r++) {
		lit = pick(s, s->pool.a + s->root_cand_off[r], s->root_n_cand[r], &done);
		if (!done)
			return lit;
	}
	s->root_decision = false;
	while (s->heap.n) {
		int top = KHEAP_ID(s->heap.a[0]);
		const struct saux *a = &s->auxs[top];
		if (s->val[a->var] == 1) {
			lit = pick(s, s->pool.a + a->cand_off, a->n_cand, &done);
			if (!done)
				return pick_dep(s, top, lit, derived, confl);
		}
		solve_heap_pop(s);
	}
	return -1;
}

/*
 * One-literal clauses met during the search hold from level 0 on: imply
 * those that a backjump unassigned, or that another conflict went before.
 * Returns a conflicting one, or -1.
 */
static int assert_units(struct solver *s)
{
	size_t j = 0;
	int confl = -1;

	for (size_t i = 0; i < s->units.n; i++) {
		int u = s->units.a[i], l = s->lits[s->cls[u].off];
		if (confl < 0 && lit_value(s, l) < 0)
			enqueue(s, l, u);
		else if (confl < 0 && lit_value(s, l) == 0)
			confl = u;
		if (lit_value(s, l) != 1 || s->vars[LIT_VAR(l)].level != 0)
			s->units.a[j++] = u;
	}
	s->units.n = j;
	return confl;
}

/* Decide lit: a new level. */
static void make_decision(struct solver *s, int lit)
{
	s->stats.decisions++;
	XGROW(s->lim, s->cap_lim, s->n_lim + 1);
	s->lim[s->n_lim++] = (int)s->n_trail;
	enqueue(s, lit, REASON_NONE);
	if (s->root_decision)
		s->root_level = (int)s->n_lim;
	if (s->vars[LIT_VAR(lit)].kind == SVAR_VERSION) {
		/*
		 * The dependencies that ask for it or limit it, and the
		 * newer versions ruled out, which it was chosen over
		 * (see solve_undo()).
		 */
		const struct spkg *p = &s->pkgs[s->vars[LIT_VAR(lit)].pkg];
		for (size_t k = 0; k < p->incoming.n; k++) {
			int av = s->auxs[p->incoming.a[k]].var;
			if (s->val[av] == 1)
				add_edge(s, av, LIT_VAR(lit));
		}
		for (int i = 0; i < s->vars[LIT_VAR(lit)].idx; i++)
			if (s->val[p->var0 + i] == 0)
				add_edge(s, p->var0 + i, LIT_VAR(lit));
	}
}

int solve_search(struct solver *s, int confl, int *final)
{
	for (;;) {
		if (confl < 0 && s->units.n)
			confl = assert_units(s);
		if (confl < 0)
			confl = solve_propagate(s);
		if (s->fail)
			return s->fail;
		if (confl >= 0) {
			int level;
			s->stats.conflicts++;
			confl = conflict_level(s, confl, &level);
			if (confl < 0)
				continue;
			if (level == 0) {
				solve_backjump(s, 0);
				*final = confl;
				return STITCH_E_UNSAT;
			}
			confl = analyze(s, confl, level);
			continue;
		}
		bool derived = false;
		int lit = decide(s, &derived, &confl);
		if (derived)
			continue;
		if (lit < 0)
			return 0;
		/*
		 * Turn a version's requirements into clauses before choosing it:
		 * if they cannot hold with what is chosen, propagation rules the
		 * version out and no conflict (and no backjump) is needed, as
		 * PubGrub does not decide a version whose dependencies are
		 * already violated.
		 */
		if (!LIT_NEG(lit) && s->vars[LIT_VAR(lit)].kind == SVAR_VERSION &&
		    !s->vars[LIT_VAR(lit)].expanded) {
			confl = solve_expand(s, LIT_VAR(lit));
			continue;
		}
		if (!LIT_NEG(lit) && s->vars[LIT_VAR(lit)].kind == SVAR_VERSION) {
			confl = check_ranges(s, LIT_VAR(lit), &derived);
			if (derived)
				continue;
		}
		make_decision(s, lit);
	}
}
