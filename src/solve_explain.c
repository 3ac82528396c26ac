/*
 * Explaining why the resolver found no solution.
 *
 * The search ends with a conflict at level 0.  Resolving it with the
 * reasons of its literals, and those with theirs, derives the empty clause;
 * the clauses learned on the way were themselves derived from the
 * conflicts they came from.  That proof is printed PubGrub-style as blocks:
 * each block lists the facts it uses (a root requirement, a dependency, a
 * conflict, a pin), then "so <what follows>".  A block that uses an earlier
 * conclusion comes after it.  Bookkeeping clauses (at most one version per
 * package, "this version has that requirement") are resolved silently.
 */
#include <stdlib.h>
#include <string.h>

#include "solve.h"
#include "solve_explain.h"
#include "solve_pool.h"
#include "solve_rules.h"
#include "solve_store.h"
#include "solve_types.h"
#include "suggest.h"

struct block {
	int learn; /* learn id, or -1 for the final conflict */
	struct ivec facts; /* clause ids of facts, in order of use */
	struct ivec refs; /* learn ids of earlier conclusions used */
};

struct explainer {
	struct solver *s;
	struct stitch_buf *out;
	char *visited; /* per variable, for one block's cone */
	int *printed; /* per learn id: 0, or 1 + order printed */
	int n_printed;
	int last_printed; /* learn id of the block printed last, or -1 */
	struct ivec pins; /* spkg ids of pins used */
	struct ivec roots; /* root numbers used */
	struct ivec missing; /* spkg ids of packages no repository has */
	struct ivec cands; /* spkg ids whose versions a fact restricts, in order named */
	struct ivec rl;
	int *in_block; /* per clause id: the block serial that has it as a fact */
	int *ref_block; /* per learn id: the block serial that refers to it */
	int serial; /* of the block being built */
};

static void push_unique(struct ivec *v, int x)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->a[i] == x)
			return;
	ivec_push(v, x);
}

/* ---------------------------------------------------------- collecting */

static void add_reason(struct explainer *e, struct block *b, int reason)
{
	const struct sclause *c;

	if (reason < 0)
		return;
	c = &e->s->cls[reason];
	switch (c->kind) {
	case CL_LEARNED:
		/* A block can use hundreds: the serials keep this linear. */
		if (e->ref_block[c->info] != e->serial) {
			e->ref_block[c->info] = e->serial;
			ivec_push(&b->refs, c->info);
		}
		break;
	case CL_ROOT:
	case CL_DEP:
	case CL_CONF:
	case CL_PIN:
		if (e->in_block[reason] != e->serial) {
			e->in_block[reason] = e->serial;
			ivec_push(&b->facts, reason);
		}
		break;
	default:
		break;
	}
}

/* A line "so <var's value>" in a block's facts. */
#define MARK(var) (-(var)-2)
#define IS_MARK(x) ((x) <= -2)
#define MARK_VAR(x) (-(x)-2)

/*
 * The facts behind a variable assigned at level 0, those it rests on
 * first; a version or range ruled out by a dependency or a conflict gets
 * its own "so ... cannot be chosen" line.
 */
static void cone(struct explainer *e, struct block *b, int var)
{
	struct ivec lits = {0};
	const struct svar *v = &e->s->vars[var];
	int reason, kind;

	if (e->visited[var])
		return;
	e->visited[var] = 1;
	reason = v->reason;
	solve_reason_lits(e->s, var, reason, &lits);
	for (size_t i = 0; i < lits.n; i++)
		if (LIT_VAR(lits.a[i]) != var)
			cone(e, b, LIT_VAR(lits.a[i]));
	free(lits.a);
	add_reason(e, b, reason);
	kind = reason >= 0 ? e->s->cls[reason].kind : -1;
	if ((kind == CL_DEP || kind == CL_CONF) && e->s->val[var] == 0 && v->kind != SVAR_KEEP)
		ivec_push(&b->facts, MARK(var));
}

/* Background facts (level 0) first, then the resolution chain forwards. */
static void build_block(struct explainer *e, struct block *b, const int *antes, int n_ante,
                        const int *zeros, int n_zero)
{
	memset(e->visited, 0, e->s->n_vars);
	e->serial++;
	for (int i = 0; i < n_zero; i++)
		cone(e, b, zeros[i]);
	for (int i = n_ante; i-- > 0;)
		add_reason(e, b, antes[i]);
}

/* ----------------------------------------------------------- rendering */

/* "tcp 1.0.0", "tcp >= 1.1.0", "tcp <= 1.0.0", "http 2.0.0 | 2.1.0", "tcp (any version)" */
static void render_set(struct stitch_buf *o, const struct spkg *p, const char *in)
{
	int n = 0, first = -1, last = -1, shown = 0;

	for (int i = 0; i < p->n; i++) {
		if (!in[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		n++;
	}
	stitch_buf_adds(o, p->name);
	if (n == 0) {
		stitch_buf_adds(o, " (no version)");
	} else if (n == p->n) {
		stitch_buf_adds(o, n == 1 ? " " : " (any version)");
		if (n == 1)
			stitch_buf_adds(o, p->pkg->versions[0].version);
	} else if (n == 1) {
		stitch_buf_addf(o, " %s", p->pkg->versions[first].version);
	} else if (last - first + 1 == n && first == 0) {
		stitch_buf_addf(o, " >= %s", p->pkg->versions[last].version);
	} else if (last - first + 1 == n && last == p->n - 1) {
		stitch_buf_addf(o, " <= %s", p->pkg->versions[first].version);
	} else {
		for (int i = 0; i < p->n; i++) {
			if (!in[i])
				continue;
			if (shown == 6) {
				stitch_buf_addf(o, " | ... (%d versions)", n);
				break;
			}
			stitch_buf_addf(o, "%s%s", shown ? " | " : " ",
			                p->pkg->versions[i].version);
			shown++;
		}
	}
}

struct term {
	int pkg;
	bool positive; /* "p in set is chosen" (else: "p in set is needed") */
	char *set;
};

/* Group a clause's literals by package: the incompatibility it states. */
static size_t clause_terms(struct explainer *e, const int *lits, int n, struct term **out)
{
	struct solver *s = e->s;
	struct term *t = xcalloc((size_t)n + 1, sizeof(*t));
	size_t nt = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			const struct svar *v = &s->vars[LIT_VAR(lits[i])];
			const struct spkg *p = &s->pkgs[v->pkg];
			bool pos = LIT_NEG(lits[i]);
			size_t k;
			if (pos != (pass == 0) || v->kind == SVAR_KEEP)
				continue;
			for (k = 0; k < nt && t[k].pkg != v->pkg; k++)
				;
			if (k == nt) {
				t[nt].pkg = v->pkg;
				t[nt].positive = pos;
				t[nt].set = xcalloc((size_t)p->n + 1, 1);
				if (pos)
					memset(t[nt].set, 1, (size_t)p->n);
				nt++;
			}
			char *tmp = xcalloc((size_t)p->n + 1, 1);
			if (v->kind == SVAR_VERSION) {
				tmp[v->idx] = 1;
			} else {
				solve_aux_members(s, v->idx, tmp);
			}
			for (int j = 0; j < p->n; j++) {
				if (pos)
					t[k].set[j] &= tmp[j];
				else if (t[k].positive)
					t[k].set[j] &= !tmp[j];
				else
					t[k].set[j] |= tmp[j];
			}
			free(tmp);
		}
	}
	*out = t;
	return nt;
}

static void free_terms(struct term *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].set);
	free(t);
}

static void render_roots(struct explainer *e, struct stitch_buf *o, const struct ivec *roots)
{
	for (size_t i = 0; i < roots->n; i++) {
		if (i)
			stitch_buf_adds(o, i + 1 == roots->n ? " and " : ", ");
		stitch_buf_addch(o, '\'');
		stitch_req_print(e->s->root_reqs[roots->a[i]], o);
		stitch_buf_addch(o, '\'');
	}
}

/* What a clause says, as the conclusion of a block (without "so "). */
static void render_conclusion(struct explainer *e, struct stitch_buf *o, const int *lits, int n)
{
	struct term *t;
	size_t nt = clause_terms(e, lits, n, &t), np = 0, nn = 0, i;

	for (i = 0; i < nt; i++)
		np += t[i].positive;
	nn = nt - np;
	if (nt == 0) {
		if (e->roots.n == 1) {
			stitch_buf_adds(o, "the root requirement ");
			render_roots(e, o, &e->roots);
			stitch_buf_adds(o, " cannot be satisfied");
		} else if (e->roots.n > 1) {
			stitch_buf_adds(o, "the root requirements ");
			render_roots(e, o, &e->roots);
			stitch_buf_adds(o, " cannot be satisfied together");
		} else {
			stitch_buf_adds(o, "no set of package versions satisfies the request");
		}
		free_terms(t, nt);
		return;
	}
	size_t k = 0;
	for (i = 0; i < nt; i++) {
		if (!t[i].positive)
			continue;
		if (k++)
			stitch_buf_adds(o, k == np ? " and " : ", ");
		render_set(o, &e->s->pkgs[t[i].pkg], t[i].set);
	}
	if (np && !nn)
		stitch_buf_adds(o, np == 1 ? " cannot be chosen" : " cannot be chosen together");
	else if (np)
		stitch_buf_adds(o, np == 1 ? " needs " : " together need ");
	k = 0;
	for (i = 0; i < nt; i++) {
		if (t[i].positive)
			continue;
		if (k++)
			stitch_buf_adds(o, " or ");
		render_set(o, &e->s->pkgs[t[i].pkg], t[i].set);
	}
	if (!np)
		stitch_buf_adds(o, " must be chosen");
	free_terms(t, nt);
}

/* "tcp >= 1.1 or tcp-legacy" */
static void render_req(struct stitch_buf *o, const struct stitch_req *r)
{
	for (size_t i = 0; i < r->n_alts; i++) {
		if (i)
			stitch_buf_adds(o, " or ");
		stitch_buf_adds(o, r->alts[i].name);
		if (r->alts[i].formula) {
			stitch_buf_addch(o, ' ');
			stitch_vformula_print(r->alts[i].formula, o);
		}
	}
}

/*
 * The packages of r's alternatives that carry a version range, for the
 * "candidate versions" lines (cargo's "candidate versions found which
 * didn't match"): the versions that exist, next to the ranges that ruled
 * them out.  Packages no repository has get a hint instead.
 */
static void note_candidates(struct explainer *e, const struct stitch_req *r)
{
	for (size_t i = 0; i < r->n_alts; i++) {
		int pid = solve_find_pkg(e->s, r->alts[i].name);
		if (r->alts[i].formula && pid >= 0 && e->s->pkgs[pid].pkg && e->s->pkgs[pid].n)
			push_unique(&e->cands, pid);
	}
}

/* " (there is no package 'foo'; no version of bar matches >= 9)" */
static void render_unmatched(struct explainer *e, struct stitch_buf *o, const struct stitch_req *r,
                             int n_cand)
{
	struct solver *s = e->s;
	int n = 0;

	/* One alternative with candidates: it matches some version. */
	if (r->n_alts == 1 && n_cand > 0)
		return;
	for (size_t i = 0; i < r->n_alts; i++) {
		int pid = solve_find_pkg(s, r->alts[i].name);
		const struct spkg *p = pid >= 0 ? &s->pkgs[pid] : NULL;
		bool any = false;
		for (int k = 0; p && k < p->n && !any; k++)
			any = stitch_vformula_eval(r->alts[i].formula, p->pkg->versions[k].version);
		if (any)
			continue;
		stitch_buf_adds(o, n++ ? "; " : " (");
		if (!p || !p->pkg) {
			stitch_buf_addf(o, "there is no package '%s'", r->alts[i].name);
			if (pid >= 0)
				push_unique(&e->missing, pid);
		} else if (p->n == 0) {
			stitch_buf_addf(o, "package '%s' has no versions", p->name);
		} else {
			stitch_buf_addf(o, "no version of %s matches ", p->name);
			stitch_vformula_print(r->alts[i].formula, o);
		}
	}
	if (n)
		stitch_buf_addch(o, ')');
}

static void render_fact(struct explainer *e, struct stitch_buf *o, int cid)
{
	struct solver *s = e->s;
	const struct sclause *c = &s->cls[cid];
	const struct saux *a;
	const struct spkg *p;
	struct stitch_req *req;
	struct stitch_err err = STITCH_ERR_INIT;
	char *members;

	switch (c->kind) {
	case CL_ROOT:
		push_unique(&e->roots, c->info);
		stitch_buf_adds(o, "you asked for '");
		stitch_req_print(s->root_reqs[c->info], o);
		stitch_buf_addch(o, '\'');
		render_unmatched(e, o, s->root_reqs[c->info], s->root_n_cand[c->info]);
		note_candidates(e, s->root_reqs[c->info]);
		break;
	case CL_PIN:
		p = &s->pkgs[c->info];
		push_unique(&e->pins, c->info);
		push_unique(&e->cands, c->info);
		stitch_buf_addf(o, "%s is pinned to %s", p->name, p->pkg->versions[p->pin].version);
		if (s->rq->pins[p->pin_no].origin)
			stitch_buf_addf(o, " (%s)", s->rq->pins[p->pin_no].origin);
		break;
	case CL_DEP:
	case CL_CONF:
		a = &s->auxs[c->info];
		p = &s->pkgs[a->pkg];
		members = xcalloc((size_t)p->n + 1, 1);
		solve_aux_members(s, c->info, members);
		render_set(o, p, members);
		free(members);
		stitch_buf_adds(o, c->kind == CL_DEP ? " depends on " : " conflicts with ");
		/* It parsed when the aux was made: it parses again. */
		if (stitch_req_parse(a->str, &req, &err) == 0) {
			render_req(o, req);
			if (c->kind == CL_DEP)
				render_unmatched(e, o, req, a->n_cand);
			note_candidates(e, req);
			stitch_req_free(req);
		} else {
			stitch_buf_adds(o, a->str);
			stitch_err_clear(&err);
		}
		break;
	default:
		break;
	}
}

static void line(struct explainer *e, const char *prefix, const struct stitch_buf *text)
{
	stitch_buf_adds(e->out, prefix);
	stitch_buf_add(e->out, text->buf, text->len);
	stitch_buf_addch(e->out, '\n');
}

static void print_block(struct explainer *e, int learn);

static void print_refs_first(struct explainer *e, const struct block *b)
{
	for (size_t i = 0; i < b->refs.n; i++)
		if (!e->printed[b->refs.a[i]])
			print_block(e, b->refs.a[i]);
}

static void print_body(struct explainer *e, const struct block *b, const int *lits, int n,
                       struct stitch_buf *conclusion)
{
	struct stitch_buf t = STITCH_BUF_INIT;
	char *pinned = xcalloc(e->s->n_pkgs + 1, 1); /* pin lines printed */

	for (size_t i = 0; i < b->refs.n; i++) {
		const struct slearn *L = &e->s->learns[b->refs.a[i]];
		const struct sclause *c = &e->s->cls[L->clause];
		if (b->refs.a[i] == e->last_printed)
			continue;
		stitch_buf_reset(&t);
		stitch_buf_adds(&t, "as shown above, ");
		render_conclusion(e, &t, e->s->lits + c->off, c->n);
		line(e, "", &t);
	}
	for (size_t i = 0; i < b->facts.n; i++) {
		stitch_buf_reset(&t);
		if (IS_MARK(b->facts.a[i])) {
			int lit = LIT(MARK_VAR(b->facts.a[i]), 1);
			stitch_buf_adds(&t, "so ");
			render_conclusion(e, &t, &lit, 1);
		} else {
			render_fact(e, &t, b->facts.a[i]);
		}
		/* Several pinned-out versions give the same line once. */
		if (!IS_MARK(b->facts.a[i]) && e->s->cls[b->facts.a[i]].kind == CL_PIN) {
			int pid = e->s->cls[b->facts.a[i]].info;
			if (pinned[pid])
				continue;
			pinned[pid] = 1;
		}
		line(e, "", &t);
	}
	stitch_buf_reset(conclusion);
	render_conclusion(e, conclusion, lits, n);
	line(e, "so ", conclusion);
	stitch_buf_release(&t);
	free(pinned);
}

static void print_block(struct explainer *e, int learn)
{
	struct solver *s = e->s;
	const struct slearn *L = &s->learns[learn];
	const struct sclause *c = &s->cls[L->clause];
	struct block b = {.learn = learn};
	struct stitch_buf concl = STITCH_BUF_INIT;

	e->printed[learn] = -1; /* in progress: a proof is acyclic, but be safe */
	build_block(e, &b, s->pool.a + L->ante_off, L->n_ante, s->pool.a + L->zero_off, L->n_zero);
	print_refs_first(e, &b);
	print_body(e, &b, s->lits + c->off, c->n, &concl);
	e->printed[learn] = ++e->n_printed;
	e->last_printed = learn;
	free(b.facts.a);
	free(b.refs.a);
	stitch_buf_release(&concl);
}

/* At most this many versions a "candidate versions" line (--json has them all). */
#define CANDIDATES_SHOWN 10

/* "candidate versions of tcp: 1.1.0, 1.0.0", newest first. */
static void print_candidates(struct explainer *e)
{
	for (size_t i = 0; i < e->cands.n; i++) {
		const struct spkg *p = &e->s->pkgs[e->cands.a[i]];
		stitch_buf_addf(e->out, "%s%s:", STITCH_SOLVE_CANDIDATES, p->name);
		for (int k = 0; k < p->n && k < CANDIDATES_SHOWN; k++)
			stitch_buf_addf(e->out, "%s %s", k ? "," : "", p->pkg->versions[k].version);
		if (p->n > CANDIDATES_SHOWN)
			stitch_buf_addf(e->out, ", ... (%d in all)", p->n);
		stitch_buf_addch(e->out, '\n');
	}
}

static void print_hints(struct explainer *e)
{
	struct solver *s = e->s;

	for (size_t i = 0; i < e->pins.n; i++) {
		const struct spkg *p = &s->pkgs[e->pins.a[i]];
		const char *origin = s->rq->pins[p->pin_no].origin;
		stitch_buf_addf(
		    e->out,
		    "hint: %s is pinned to %s%s%s%s; pin another version of %s or remove "
		    "the pin\n",
		    p->name, p->pkg->versions[p->pin].version, origin ? " (" : "",
		    origin ? origin : "", origin ? ")" : "", p->name);
	}
	for (size_t i = 0; i < e->missing.n; i++) {
		const char *name = s->pkgs[e->missing.a[i]].name;
		const char *near = stitch_index_suggest(s->idx, name);
		if (near)
			stitch_buf_addf(e->out,
			                "hint: no repository has a package named '%s'; did you "
			                "mean '%s'?\n",
			                name, near);
		else
			stitch_buf_addf(e->out,
			                "hint: no repository has a package named '%s'; check the "
			                "name, or add a repository with 'stitch repo add'\n",
			                name);
	}
}

void solve_explain(struct solver *s, int confl, struct stitch_buf *why, struct stitch_err *err)
{
	struct stitch_buf local = STITCH_BUF_INIT, concl = STITCH_BUF_INIT;
	struct explainer e = {.s = s, .out = why ? why : &local, .last_printed = -1};
	struct block b = {.learn = -1};
	const struct sclause *c = &s->cls[confl];
	struct ivec zeros = {0};

	e.visited = xcalloc(s->n_vars + 1, 1);
	e.printed = xcalloc(s->n_learns + 1, sizeof(int));
	e.in_block = xcalloc(s->n_cls + 1, sizeof(int));
	e.ref_block = xcalloc(s->n_learns + 1, sizeof(int));
	for (int i = 0; i < c->n; i++)
		ivec_push(&zeros, LIT_VAR(s->lits[c->off + i]));
	build_block(&e, &b, &confl, 1, zeros.a, (int)zeros.n);
	print_refs_first(&e, &b);
	/* Render the facts first so the conclusion knows which roots it names. */
	{
		struct stitch_buf t = STITCH_BUF_INIT;
		for (size_t i = 0; i < b.facts.n; i++) {
			stitch_buf_reset(&t);
			if (!IS_MARK(b.facts.a[i]))
				render_fact(&e, &t, b.facts.a[i]);
		}
		stitch_buf_release(&t);
	}
	print_body(&e, &b, NULL, 0, &concl);
	print_candidates(&e);
	print_hints(&e);
	stitch_error(err, STITCH_E_UNSAT, "no solution: %s", concl.buf);

	free(b.facts.a);
	free(b.refs.a);
	free(zeros.a);
	free(e.visited);
	free(e.printed);
	free(e.in_block);
	free(e.ref_block);
	free(e.pins.a);
	free(e.roots.a);
	free(e.missing.a);
	free(e.cands.a);
	free(e.rl.a);
	stitch_buf_release(&local);
	stitch_buf_release(&concl);
}
