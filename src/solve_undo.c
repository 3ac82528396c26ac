/*
 * Taking assignments back (see solve_undo.h): backjumping, and undoing one
 * literal with what depends on it while the rest of the trail stays, then
 * repairing the watches and implying what that leaves queued.
 */
#include <stdlib.h>
#include <string.h>

#include "solve_order.h"
#include "solve_pool.h"
#include "solve_store.h"
#include "solve_types.h"
#include "solve_undo.h"

static void unassign(struct solver *s, struct svar *v)
{
	if (v->kind == SVAR_VERSION && s->val[v - s->vars] == 1) {
		ivec_push(&s->undone, v->pkg);
		s->pkgs[v->pkg].n_true--;
	} else if (v->kind == SVAR_VERSION) {
		const struct spkg *p = &s->pkgs[v->pkg];
		s->bits[p->open_off + v->idx / 64] |= (uint64_t)1 << (v->idx % 64);
	} else if (v->kind == SVAR_AUX && s->val[v - s->vars] == 1 && s->auxs[v->idx].single >= 0) {
		/* A range needed no more: see solve_need_mask(). */
		s->pkgs[s->auxs[v->idx].single].rmask_ok = false;
	}
	s->val[v - s->vars] = -1;
	v->reason = REASON_NONE;
	v->level = -1;
}

/* Dependencies that stay but lost the version that met them are open. */
static void reopen_undone(struct solver *s)
{
	for (size_t i = 0; i < s->undone.n; i++) {
		const struct spkg *p = &s->pkgs[s->undone.a[i]];
		for (size_t k = 0; k < p->incoming.n; k++)
			if (s->val[s->auxs[p->incoming.a[k]].var] == 1)
				solve_heap_push(s, p->incoming.a[k]);
	}
	s->undone.n = 0;
	for (size_t i = 0; i < s->dirty.n; i++)
		s->pkgs[s->dirty.a[i]].dirty = false;
	s->dirty.n = 0;
}

/*
 * Close the trail's holes from position start on, and move the level starts
 * (s->lim) and the propagation queue's head with what they point at.
 */
static void compact_trail(struct solver *s, size_t start)
{
	size_t lv = 0, j = start, qhead = s->qhead;

	/* The first level that starts at start or later: lim is sorted. */
	for (size_t hi = s->n_lim; lv < hi;) {
		size_t mid = lv + (hi - lv) / 2;
		if ((size_t)s->lim[mid] < start)
			lv = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = start; i < s->n_trail; i++) {
		int lit = s->trail[i];
		if (i == s->qhead)
			qhead = j;
		while (lv < s->n_lim && (size_t)s->lim[lv] == i)
			s->lim[lv++] = (int)j;
		if (lit == TRAIL_HOLE) {
			s->n_holes--;
			continue;
		}
		s->vars[LIT_VAR(lit)].tpos = (int)j;
		s->trail[j++] = lit;
	}
	while (lv < s->n_lim)
		s->lim[lv++] = (int)j;
	if (s->qhead >= s->n_trail)
		qhead = j;
	s->qhead = qhead;
	s->n_trail = j;
}

void solve_backjump(struct solver *s, size_t level)
{
	size_t start, j;

	if (s->n_lim <= level)
		return;
	s->undone.n = 0;
	start = j = (size_t)s->lim[level];
	for (size_t i = start; i < s->n_trail; i++) {
		int lit = s->trail[i];
		struct svar *v;
		if (lit == TRAIL_HOLE) {
			s->n_holes--;
			continue;
		}
		v = &s->vars[LIT_VAR(lit)];
		if (v->level <= (int)level) {
			/* Implied below its place in the trail: it stays. */
			v->tpos = (int)j;
			s->trail[j++] = lit;
			continue;
		}
		unassign(s, v);
	}
	s->n_trail = j;
	/*
	 * What stays past start was propagated while literals now gone were
	 * assigned: propagate it again so that the watches are right.
	 */
	if (s->qhead > start)
		s->qhead = start;
	s->n_lim = level;
	if (s->root_level > (int)level)
		s->root_level = (int)level;
	reopen_undone(s);
}

/* solve_undo()'s queue: variables by their place in the trail, first first. */
static void uheap_push(struct solver *s, int var)
{
	kheap_push(&s->uheap, KHEAP_KEY(s->vars[var].tpos, var));
}

static int uheap_pop(struct solver *s)
{
	return KHEAP_ID(kheap_pop(&s->uheap));
}

/* Take clause cid off the watch list of literal lit, keeping the others' order. */
static void unwatch(struct solver *s, int lit, int cid)
{
	struct wlist *ws = &s->watches[lit];
	int *wa = wl_ids(ws);

	for (int i = 0; i < ws->n; i++) {
		if (wa[i] == cid) {
			memmove(wa + i, wa + i + 1, (size_t)(ws->n - i - 1) * sizeof(int));
			ws->n--;
			break;
		}
	}
}

/* Move clause cid's watch from position at (a false literal) to position k. */
static void move_watch(struct solver *s, int cid, int at, int k)
{
	int *l = s->lits + s->cls[cid].off, t;

	unwatch(s, l[at] ^ 1, cid);
	t = l[at], l[at] = l[k], l[k] = t;
	watch_push(s, l[at] ^ 1, cid);
}

/*
 * During solve_undo(): does decision var (a version) still stand?  Not when no
 * dependency that stays needs it (the one that asked for it is being
 * undone), nor when a newer version could now be taken, because a range
 * on its package or what ruled that version out is being undone: the
 * newest version that fits is what a decision takes, and the roots' must
 * stay the newest (section 5).
 */
static bool still_wanted(const struct solver *s, int var)
{
	const struct svar *v = &s->vars[var];
	const struct spkg *p = &s->pkgs[v->pkg];
	bool asked = p->root, shaped = false;

	for (size_t k = 0; k < p->incoming.n; k++) {
		const struct saux *a = &s->auxs[p->incoming.a[k]];
		const struct svar *av = &s->vars[a->var];
		if (av->undo) {
			shaped = true;
			continue;
		}
		if (s->val[a->var] != 1 || asked)
			continue;
		if (a->single >= 0) {
			asked = bit_get(s->bits + a->mask_off, v->idx);
			continue;
		}
		for (int i = 0; i < a->n_cand && !asked; i++)
			asked = LIT_VAR(s->pool.a[a->cand_off + i]) == var;
	}
	if (!asked)
		return false;
	/*
	 * A newer version that was ruled out when var was decided, and is
	 * being undone, may be taken now; with a range being undone, any
	 * newer version that is not ruled out may.
	 */
	for (int i = 0; i < v->idx; i++) {
		const struct svar *w = &s->vars[p->var0 + i];
		bool fits =
		    w->undo ||
		    (shaped && (s->val[p->var0 + i] != 0 ||
		                (REASON_IS_AMO(w->reason) && REASON_AMO_VAR(w->reason) == var)));
		for (size_t k = 0; k < p->ranges.n && fits; k++) {
			const struct saux *a = &s->auxs[p->ranges.a[k]];
			if (s->val[a->var] == 1 && !s->vars[a->var].undo)
				fits = bit_get(s->bits + a->mask_off, i);
		}
		if (fits)
			return false;
	}
	return true;
}

/*
 * Variable var was just unassigned by solve_undo(): queue in s->pend what
 * "at most one version" implies about it again, and the clauses that now
 * imply a literal or are in conflict; move the watches of the others off
 * false literals.
 */
static void queue_after_undo(struct solver *s, int var)
{
	const struct svar *v = &s->vars[var];

	if (v->kind == SVAR_VERSION && s->pkgs[v->pkg].n_true > 0) {
		const struct spkg *p = &s->pkgs[v->pkg];
		for (int i = 0; i < p->n; i++) {
			if (s->val[p->var0 + i] == 1) {
				ivec_push(&s->pend, LIT(var, 1));
				ivec_push(&s->pend, REASON_AMO(p->var0 + i));
				break;
			}
		}
	}
	for (int neg = 0; neg < 2; neg++) {
		int lit = LIT(var, neg);
		struct wlist *ws = &s->watches[lit ^ 1];
		const int *wa = wl_ids(ws);
		for (int i = 0; i < ws->n; i++) {
			int cid = wa[i], *l = s->lits + s->cls[cid].off, n = s->cls[cid].n;
			int at = l[0] == lit ? 1 : 0, k;
			if (lit_value(s, l[at]) != 0)
				continue;
			for (k = 2; k < n && lit_value(s, l[k]) == 0; k++)
				;
			if (k < n) {
				move_watch(s, cid, at, k);
				continue;
			}
			ivec_push(&s->pend, lit);
			ivec_push(&s->pend, cid);
		}
	}
}

/*
 * Unassign variable x and every literal whose reason depends on it,
 * directly or not, and keep the rest of the trail, the decisions made
 * after x included: they did not lead to the conflict, and undoing them
 * only to make them again was most of the search's work.  The watches of
 * the clauses that watched an unassigned variable next to a false literal
 * are moved, and what such a clause, or "at most one version", now
 * implies is queued in s->pend, to be implied by solve_imply_pending().
 */
void solve_undo(struct solver *s, int x)
{
	s->undone.n = 0;
	s->uvars.n = 0;
	s->uheap.n = 0;
	s->vars[x].undo = true;
	uheap_push(s, x);
	/*
	 * In trail order, so that a decision is looked at after everything
	 * before it that is undone: the dependencies that asked for it are.
	 */
	while (s->uheap.n) {
		int var = uheap_pop(s);
		struct svar *v = &s->vars[var];
		if (var != x && v->reason == REASON_NONE && v->kind == SVAR_VERSION &&
		    still_wanted(s, var)) {
			v->undo = false;
			continue;
		}
		for (int e = v->child; e >= 0; e = s->edges[e].next) {
			struct svar *c = &s->vars[s->edges[e].var];
			if (c->stamp == s->edges[e].stamp && s->val[s->edges[e].var] >= 0 &&
			    !c->undo) {
				c->undo = true;
				uheap_push(s, s->edges[e].var);
			}
		}
		/* The versions "at most one version" ruled out because of it. */
		if (v->kind == SVAR_VERSION && s->val[var] == 1) {
			const struct spkg *p = &s->pkgs[v->pkg];
			for (int i = 0; i < p->n; i++) {
				struct svar *c = &s->vars[p->var0 + i];
				if (c->reason == REASON_AMO(var) && s->val[p->var0 + i] == 0 &&
				    !c->undo) {
					c->undo = true;
					uheap_push(s, p->var0 + i);
				}
			}
		}
		s->trail[v->tpos] = TRAIL_HOLE;
		s->n_holes++;
		ivec_push(&s->uvars, var);
		unassign(s, v);
	}
	if (s->n_holes > 4096 && 2 * s->n_holes > s->n_trail)
		compact_trail(s, s->n_lim ? (size_t)s->lim[0] : 0);

	for (size_t u = 0; u < s->uvars.n; u++)
		s->vars[s->uvars.a[u]].undo = false;
	for (size_t u = 0; u < s->uvars.n; u++)
		queue_after_undo(s, s->uvars.a[u]);
	reopen_undone(s);
}

void solve_rewatch(struct solver *s, int cid, int a, int b)
{
	int *l = s->lits + s->cls[cid].off, t;

	unwatch(s, l[0] ^ 1, cid);
	unwatch(s, l[1] ^ 1, cid);
	t = l[0], l[0] = l[a], l[a] = t;
	if (b == 0)
		b = a;
	t = l[1], l[1] = l[b], l[b] = t;
	watch_push(s, l[0] ^ 1, cid);
	watch_push(s, l[1] ^ 1, cid);
}

/*
 * Bring clause cid in line with the assignment as it is now, after solve_undo()
 * unassigned some of its literals or after it was made in conflict: watch
 * two literals that are not false (or the one, and the false literal of
 * the highest level), and imply the one when it is alone.  Returns cid
 * when every literal is false, else -1.
 */
static int repair(struct solver *s, int cid)
{
	int *l = s->lits + s->cls[cid].off, n = s->cls[cid].n, a = -1, b = -1, hi = -1;

	for (int k = 0; k < n; k++) {
		int v = lit_value(s, l[k]);
		if (v == 0) {
			if (hi < 0 || s->vars[LIT_VAR(l[k])].level > s->vars[LIT_VAR(l[hi])].level)
				hi = k;
		} else if (a < 0 || (v == 1 && lit_value(s, l[a]) != 1)) {
			b = a;
			a = k;
		} else if (b < 0) {
			b = k;
		}
	}
	if (a < 0)
		return cid;
	if (n == 1) {
		if (lit_value(s, l[0]) < 0)
			enqueue(s, l[0], cid);
		return -1;
	}
	bool alone = b < 0;
	if (alone)
		b = hi;
	if (!((a == 0 && b == 1) || (a == 1 && b == 0)))
		solve_rewatch(s, cid, a, b);
	else if (a == 1) {
		int t = l[0];
		l[0] = l[1];
		l[1] = t;
	}
	if (alone && lit_value(s, l[0]) < 0)
		enqueue(s, l[0], cid);
	return -1;
}

/*
 * Imply what solve_undo() queued and repair the clauses it queued (see repair()),
 * and the clauses that were made in conflict.  Returns a conflicting clause
 * id, or -1; what comes after a conflict stays queued, so that nothing is
 * lost before the next decision.
 */
int solve_imply_pending(struct solver *s)
{
	size_t i;
	int confl = -1;

	for (i = 0; i < s->pend.n && confl < 0; i += 2) {
		int lit = s->pend.a[i], r = s->pend.a[i + 1];
		if (!REASON_IS_AMO(r)) {
			confl = repair(s, r);
			continue;
		}
		if (s->val[REASON_AMO_VAR(r)] != 1 || lit_value(s, lit) == 1)
			continue;
		if (lit_value(s, lit) < 0)
			enqueue(s, lit, r);
		else
			confl = solve_amo_conflict(s, LIT_VAR(lit), REASON_AMO_VAR(r));
	}
	if (i) {
		memmove(s->pend.a, s->pend.a + i, (s->pend.n - i) * sizeof(int));
		s->pend.n -= i;
	}
	return confl;
}
