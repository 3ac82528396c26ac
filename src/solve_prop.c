/*
 * Propagation (see solve_prop.h): the clauses' two watched literals, the
 * native "at most one version", expanding a version that becomes true,
 * and range propagation, which derives PubGrub-style incompatibilities of
 * ranges before a version is chosen.
 */
#include <stdlib.h>
#include <string.h>

#include "solve_order.h"
#include "solve_pool.h"
#include "solve_prop.h"
#include "solve_rules.h"
#include "solve_store.h"
#include "solve_types.h"
#include "solve_undo.h"

/*
 * Returns a conflicting clause id, or -1.  On a conflict the literal being
 * propagated goes back to the queue: solve_undo() may keep it, and the rest of
 * its watches must then still be looked at.
 */
static int propagate_clauses(struct solver *s)
{
	while (s->qhead < s->n_trail) {
		int lit = s->trail[s->qhead++], fl = lit ^ 1;
		if (lit == TRAIL_HOLE)
			continue;
		int var = LIT_VAR(lit);
		struct svar *sv = &s->vars[var];

		s->stats.propagations++;
		if (sv->kind == SVAR_AUX && !LIT_NEG(lit) && s->auxs[sv->idx].kind == AUX_DEP) {
			const struct saux *a = &s->auxs[sv->idx];
			solve_heap_push(s, sv->idx);
			if (a->single >= 0) {
				struct spkg *p = &s->pkgs[a->single];
				mark_dirty(s, a->single);
				if (p->rmask_ok && p->n <= 64)
					p->rmask &= s->bits[a->mask_off];
			}
		} else if (sv->kind == SVAR_VERSION && LIT_NEG(lit) && !REASON_IS_AMO(sv->reason)) {
			mark_dirty(s, sv->pkg);
		} else if (sv->kind == SVAR_AUX && LIT_NEG(lit) && s->auxs[sv->idx].lazy) {
			/* The versions that have it are ruled out: their clauses now. */
			struct saux *a = &s->auxs[sv->idx];
			int c = -1;
			while (a->lazy && c < 0) {
				int i = __builtin_ctzll(a->lazy);
				a->lazy &= a->lazy - 1;
				solve_aux_member(s, a->pkg, i, sv->idx, &c);
			}
			if (c >= 0) {
				s->qhead--;
				return c;
			}
		}
		if (sv->kind == SVAR_VERSION && !LIT_NEG(lit)) {
			const struct spkg *p = &s->pkgs[sv->pkg];
			for (int i = 0; i < p->n; i++) {
				int o = p->var0 + i;
				if (o == var)
					continue;
				if (s->val[o] == 1) {
					s->qhead--;
					return solve_amo_conflict(s, var, o);
				}
				if (s->val[o] < 0)
					enqueue(s, LIT(o, 1), REASON_AMO(var));
			}
			if (!s->vars[var].expanded) {
				int c = solve_expand(s, var);
				if (s->fail)
					return -1;
				if (c >= 0) {
					s->qhead--;
					return c;
				}
			}
		}

		struct wlist *ws = &s->watches[lit];
		int i = 0, j = 0, *wa = wl_ids(ws);
		(void)fl;
		for (; i < ws->n; i++) {
			int cid = wa[i];
			int *l = s->lits + s->cls[cid].off, n = s->cls[cid].n;
			if (l[0] == fl) {
				l[0] = l[1];
				l[1] = fl;
			}
			if (lit_value(s, l[0]) == 1) {
				wa[j++] = cid;
				continue;
			}
			int k;
			for (k = 2; k < n; k++) {
				if (lit_value(s, l[k]) != 0) {
					l[1] = l[k];
					l[k] = fl;
					watch_push(s, l[1] ^ 1, cid);
					break;
				}
			}
			if (k < n)
				continue;
			wa[j++] = cid;
			if (lit_value(s, l[0]) == 0) {
				while (++i < ws->n)
					wa[j++] = wa[i];
				ws->n = j;
				s->qhead--;
				return cid;
			}
			enqueue(s, l[0], cid);
		}
		ws->n = j;
	}
	return -1;
}

/*
 * Range propagation: for a package whose needed ranges changed, when no
 * open version fits them all, or a range not needed yet fits none of the
 * versions they allow, derive that (derive_ranges): the first is a
 * conflict, the second rules the range, and so the dependents' versions
 * that have it, out.  PubGrub learns the same incompatibilities, but only
 * after choosing a version and meeting the conflict.
 */
static int check_dirty(struct solver *s, bool *derived)
{
	while (s->dirty.n) {
		int pid = s->dirty.a[--s->dirty.n];
		struct spkg *p = &s->pkgs[pid];
		bool any = false, chosen = p->n_true > 0;
		size_t w = nwords(p);

		p->dirty = false;
		if (chosen || !p->ranges.n)
			continue;
		solve_need_mask(s, p);
		for (size_t j = 0; j < w && !any; j++)
			any = s->need[j] != 0;
		if (!any) {
			solve_need_set(s, p, -1);
			if (!s->rs.n)
				continue;
			return solve_derive_ranges(s, p, derived);
		}
		for (size_t k = 0; k < p->ranges.n; k++) {
			const struct saux *b = &s->auxs[p->ranges.a[k]];
			bool fits = false;
			if (s->val[b->var] != -1)
				continue;
			for (size_t j = 0; j < w && !fits; j++)
				fits = (s->need[j] & s->bits[b->mask_off + j]) != 0;
			if (fits)
				continue;
			/* need_set again: s->rs with b first. */
			solve_need_set(s, p, p->ranges.a[k]);
			int confl = solve_derive_ranges(s, p, derived);
			if (*derived) {
				/* The package may hold more: look again later. */
				mark_dirty(s, pid);
				return confl;
			}
			solve_need_mask(s, p);
		}
	}
	return -1;
}

int solve_propagate(struct solver *s)
{
	for (;;) {
		int confl = s->pend.n ? solve_imply_pending(s) : -1;
		if (confl >= 0)
			return confl;
		confl = propagate_clauses(s);
		bool derived = false;
		if (confl >= 0 || s->fail)
			return confl;
		confl = check_dirty(s, &derived);
		if (confl >= 0 || !derived)
			return confl;
	}
}

/*
 * Up to 64 versions, the ranges' part is kept in p->rmask: a range joins
 * it when its literal is propagated (propagate_clauses), and it is redone
 * after one is unassigned.  It is read with nothing left to propagate, so
 * it is never behind.
 */
void solve_need_mask(struct solver *s, struct spkg *p)
{
	size_t w = nwords(p);

	XGROW(s->need, s->cap_need, w + 1);
	if (w == 1) {
		if (!p->rmask_ok) {
			uint64_t m = ~(uint64_t)0;
			for (size_t k = 0; k < p->ranges.n; k++) {
				const struct saux *z = &s->auxs[p->ranges.a[k]];
				if (s->val[z->var] == 1)
					m &= s->bits[z->mask_off];
			}
			p->rmask = m;
			p->rmask_ok = true;
		}
		s->need[0] = s->bits[p->open_off] & p->rmask;
		return;
	}
	memcpy(s->need, s->bits + p->open_off, w * sizeof(uint64_t));
	for (size_t k = 0; k < p->ranges.n; k++) {
		const struct saux *z = &s->auxs[p->ranges.a[k]];
		if (s->val[z->var] == 1)
			for (size_t j = 0; j < w; j++)
				s->need[j] &= s->bits[z->mask_off + j];
	}
}

void solve_need_set(struct solver *s, struct spkg *p, int first)
{
	solve_need_mask(s, p);
	s->rs.n = 0;
	if (first >= 0)
		ivec_push(&s->rs, first);
	for (size_t k = 0; k < p->ranges.n; k++) {
		int id = p->ranges.a[k];
		if (id != first && s->val[s->auxs[id].var] == 1)
			ivec_push(&s->rs, id);
	}
}

/*
 * As PubGrub does, instead of trying each version in turn and learning
 * about one at a time.  The clause follows from the ranges' dependency
 * clauses and "at most one version", and is recorded as learned from them.
 */
/*
 * For solve_derive_ranges: the ranges of s->rs that together allow none of
 * p's open versions, taken greedily (a range joins when it rules out a
 * version still open), as "not range" literals into lits and their
 * dependency clauses into antes; then the versions they all allow (all
 * false) into lits.  Returns false when they leave a version open.
 */
static bool incompatible_ranges(struct solver *s, const struct spkg *p, struct ivec *lits,
                                struct ivec *antes)
{
	size_t w = nwords(p);
	uint64_t *in = xcalloc(2 * w + 1, sizeof(uint64_t)), *open = in + w;
	bool left = false;

	for (int i = 0; i < p->n; i++)
		if (s->val[p->var0 + i] != 0)
			bit_set(open, i);
	for (size_t k = 0; k < s->rs.n; k++) {
		const struct saux *z = &s->auxs[s->rs.a[k]];
		const uint64_t *m = s->bits + z->mask_off;
		bool cuts = k == 0;
		for (size_t j = 0; j < w && !cuts; j++)
			cuts = (in[j] & ~m[j] & open[j]) != 0;
		if (!cuts)
			continue;
		left = false;
		for (size_t j = 0; j < w; j++) {
			in[j] = k == 0 ? m[j] : in[j] & m[j];
			left = left || (in[j] & open[j]);
		}
		ivec_push(lits, LIT(z->var, 1));
		ivec_push(antes, z->dep_cl);
		if (!left)
			break;
	}
	for (int i = 0; i < p->n && !left; i++)
		if (bit_get(in, i))
			ivec_push(lits, LIT(p->var0 + i, 0));
	free(in);
	return !left;
}

int solve_derive_ranges(struct solver *s, const struct spkg *p, bool *done)
{
	struct ivec lits = {0}, antes = {0};
	int top = 0, n_top = 0, next = 0, lid, cid, confl = -1;
	bool unassigned = false;
	int top_var = -1;

	if (!incompatible_ranges(s, p, &lits, &antes)) {
		/* Not what the caller saw: nothing to derive. */
		free(lits.a);
		free(antes.a);
		return -1;
	}
	for (size_t i = 0; i < lits.n; i++) {
		int l = s->vars[LIT_VAR(lits.a[i])].level;
		if (lit_value(s, lits.a[i]) != 0) {
			unassigned = true;
			continue;
		}
		if (l > top) {
			next = top;
			top = l;
			n_top = 1;
			top_var = LIT_VAR(lits.a[i]);
		} else if (l == top) {
			n_top++;
		} else if (l > next) {
			next = l;
		}
	}
	/*
	 * All false: undo the one literal of the highest level, which the
	 * clause then implies; else the clause is a conflict to analyse.
	 */
	if (!unassigned && top <= s->root_level)
		solve_backjump(s, (size_t)(n_top == 1 && top > 0 ? top - 1 : top));
	else if (!unassigned && n_top == 1 && top > 0)
		solve_undo(s, top_var);

	lid = solve_learn(s, &antes, NULL);
	confl = solve_add_clause(s, lits.a, (int)lits.n, CL_LEARNED, lid, &cid);
	s->learns[lid].clause = cid;
	if (confl < 0)
		confl = solve_imply_pending(s);
	if (!unassigned)
		s->stats.conflicts++;
	*done = true;
	free(lits.a);
	free(antes.a);
	return confl;
}
