/*
 * The resolver's entry (see solve.h): check and set up the request (the
 * roots, pins and installed packages as variables and clauses), run the
 * search, and collect and check its answer or have the failure explained.
 *
 * The resolver is split by job, each file calling only those below it:
 *   solve.c          this entry
 *   solve_explain.c  explaining a failure
 *   solve_search.c   the search: conflicts, learning, decisions
 *   solve_prop.c     propagation, and range propagation
 *   solve_undo.c     taking assignments back
 *   solve_rules.c    making clauses from the index's packages and requirements
 *   solve_store.c    the clause store: memory, variables, trail, clauses
 *   solve_order.c    the decision order of open dependencies
 *   solve_pool.c     containers and the index's names
 * with the solver's state, as data, in solve_types.h.
 */
#include <stdlib.h>
#include <string.h>

#include "solve.h"
#include "solve_explain.h"
#include "solve_order.h"
#include "solve_pool.h"
#include "solve_rules.h"
#include "solve_search.h"
#include "solve_store.h"
#include "solve_types.h"
#include "version.h"

/* ----------------------------------------------------------------- setup */

static int cmp_inst(const void *a, const void *b, void *sv)
{
	const struct solver *s = sv;
	return strcmp(s->pkgs[*(const int *)a].name, s->pkgs[*(const int *)b].name);
}

static int setup_pins(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;

	for (size_t i = 0; i < rq->n_pins; i++) {
		const struct stitch_solve_pin *pin = &rq->pins[i];
		const struct stitch_version *v;
		struct spkg *p;
		int pid;

		if (!pin->name || !stitch_name_valid(pin->name, strlen(pin->name)) ||
		    !pin->version || !stitch_version_valid(pin->version, strlen(pin->version)))
			return stitch_error(s->err, STITCH_E_USAGE, "invalid pin '%s=%s'",
			                    pin->name ? pin->name : "",
			                    pin->version ? pin->version : "");
		pid = solve_touch(s, pin->name);
		p = &s->pkgs[pid];
		if (!p->pkg)
			return stitch_error(
			    s->err, STITCH_E_NOTFOUND,
			    "cannot pin '%s': no repository has a package of that name", pin->name);
		v = stitch_pkg_find_version(p->pkg, pin->version);
		if (!v) {
			stitch_error(s->err, STITCH_E_NOTFOUND,
			             "cannot pin '%s' to %s%s%s%s: no such version in the index",
			             pin->name, pin->version, pin->origin ? " (" : "",
			             pin->origin ? pin->origin : "", pin->origin ? ")" : "");
			struct stitch_buf b = STITCH_BUF_INIT;
			for (int k = 0; k < p->n && k < 10; k++)
				stitch_buf_addf(&b, "%s%s", k ? ", " : "",
				                p->pkg->versions[k].version);
			if (p->n > 10)
				stitch_buf_adds(&b, ", ...");
			stitch_error_cause(s->err, "known versions of '%s': %s", pin->name,
			                   p->n ? b.buf : "none");
			stitch_buf_release(&b);
			return STITCH_E_NOTFOUND;
		}
		if (p->pin >= 0 && p->pin != (int)(v - p->pkg->versions))
			return stitch_error(s->err, STITCH_E_USAGE,
			                    "'%s' is pinned twice, to %s and to %s", pin->name,
			                    p->pkg->versions[p->pin].version, pin->version);
		p->pin = (int)(v - p->pkg->versions);
		p->pin_no = (int)i;
	}
	for (size_t i = 0; i < s->n_pkgs; i++) {
		const struct spkg *p = &s->pkgs[i];
		for (int k = 0; p->pin >= 0 && k < p->n; k++) {
			int lit = LIT(p->var0 + k, 1);
			if (k != p->pin && lit_value(s, lit) < 0)
				solve_add_clause(s, &lit, 1, CL_PIN, (int)i, NULL);
		}
	}
	return 0;
}

static int setup_installed(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;

	s->inst_pkgs = xcalloc(rq->n_installed + 1, sizeof(int));
	for (size_t i = 0; i < rq->n_installed; i++) {
		const struct stitch_solve_installed *in = &rq->installed[i];
		const struct stitch_version *v;
		struct spkg *p;

		if (!in->name || !stitch_name_valid(in->name, strlen(in->name)) || !in->version ||
		    !stitch_version_valid(in->version, strlen(in->version)))
			return stitch_error(
			    s->err, STITCH_E_USAGE, "invalid installed package '%s=%s'",
			    in->name ? in->name : "", in->version ? in->version : "");
		int pid = solve_touch(s, in->name);

		p = &s->pkgs[pid];
		if (p->inst >= 0)
			return stitch_error(s->err, STITCH_E_USAGE,
			                    "'%s' is listed as installed twice", in->name);
		v = p->pkg ? stitch_pkg_find_version(p->pkg, in->version) : NULL;
		/* A version the index no longer has cannot be kept: no preference. */
		if (!v || rq->upgrade)
			continue;
		p->inst = (int)(v - p->pkg->versions);
		s->inst_pkgs[s->n_inst++] = pid;
	}
	/*
	 * "Keep p's installed version (or leave p out)" is one variable, so
	 * that the search decides it in one step and, when it must fail,
	 * falls back on the root preferences rather than on some order
	 * among the other versions.
	 */
	for (size_t g = 0; g < s->n_inst; g++) {
		int pid = s->inst_pkgs[g], k = solve_new_var(s, SVAR_KEEP, pid, 0);
		const struct spkg *p = &s->pkgs[pid];
		s->pkgs[pid].keep = k;
		for (int i = 0; i < p->n; i++) {
			int lits[2] = {LIT(k, 1), LIT(p->var0 + i, 1)};
			if (i != p->inst)
				solve_add_clause(s, lits, 2, CL_KEEP, pid, NULL);
		}
	}
	qsort_r(s->inst_pkgs, s->n_inst, sizeof(int), cmp_inst, s);
	return 0;
}

static int setup_roots(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;

	s->n_roots = rq->n_roots;
	s->root_reqs = xcalloc(rq->n_roots + 1, sizeof(*s->root_reqs));
	s->root_cl = xcalloc(rq->n_roots + 1, sizeof(int));
	s->root_cand_off = xcalloc(rq->n_roots + 1, sizeof(int));
	s->root_n_cand = xcalloc(rq->n_roots + 1, sizeof(int));
	for (size_t i = 0; i < rq->n_roots; i++)
		if (stitch_req_parse(rq->roots[i], &s->root_reqs[i], s->err) != 0)
			return STITCH_E_PARSE;
	return 0;
}

/* Rank the packages for the decision order (solve_order.c). */
static void setup_order(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;
	struct ivec st = {0};

	for (size_t i = 0; i < s->n_roots; i++)
		for (size_t a = 0; a < s->root_reqs[i]->n_alts; a++)
			ivec_push(&st,
			          (int)stitch_index_find_at(s->idx, s->root_reqs[i]->alts[a].name));
	for (size_t i = 0; i < rq->n_installed; i++)
		if (rq->installed[i].name)
			ivec_push(&st, (int)stitch_index_find_at(s->idx, rq->installed[i].name));
	for (size_t i = 0; i < rq->n_pins; i++)
		if (rq->pins[i].name)
			ivec_push(&st, (int)stitch_index_find_at(s->idx, rq->pins[i].name));
	solve_order_rank(s, st.a, st.n);
	free(st.a);
	/* Versions of the packages reached, and about one aux for each two. */
	size_t n = 0, n_pkgs = 0;
	for (size_t i = 0; i < s->idx->n_visible; i++) {
		if (s->vrank[i] >= 0) {
			n += s->idx->visible[i]->n_versions;
			n_pkgs++;
		}
	}
	XGROW(s->pkgs, s->cap_pkgs, n_pkgs + 16);
	solve_place_arena(s, n);
	solve_reserve_vars(s, n + n / 2 + 64);
	/*
	 * And room for what a search over them makes: reserved memory is only
	 * faulted in where it is used, while growing copies.
	 */
	BIG_GROW(s, s->cls, s->cap_cls, 2 * n + 64);
	BIG_GROW(s, s->lits, s->cap_lits, 6 * n + 256);
	BIG_GROW(s, s->edges, s->cap_edges, 4 * n + 64);
	BIG_GROW(s, s->auxs, s->cap_auxs, n / 2 + 64);
	BIG_GROW(s, s->trail, s->cap_trail, 3 * n + 64);
	XGROW(s->pool.a, s->pool.cap, 4 * n + 64);
}

/* Root clauses go in after the pins so that they see the pins' units. */
static int add_root_clauses(struct solver *s)
{
	int confl = -1;

	for (size_t i = 0; i < s->n_roots; i++) {
		s->tmp.n = 0;
		solve_req_candidates(s, s->root_reqs[i], &s->tmp);
		s->root_cand_off[i] = (int)s->pool.n;
		s->root_n_cand[i] = (int)s->tmp.n;
		for (size_t k = 0; k < s->tmp.n; k++) {
			ivec_push(&s->pool, s->tmp.a[k]);
			s->pkgs[s->vars[LIT_VAR(s->tmp.a[k])].pkg].root = true;
		}
		s->tmp.n = 0;
		for (int k = 0; k < s->root_n_cand[i]; k++)
			ivec_push(&s->tmp, s->pool.a[s->root_cand_off[i] + k]);
		int c =
		    solve_add_clause(s, s->tmp.a, (int)s->tmp.n, CL_ROOT, (int)i, &s->root_cl[i]);
		if (confl < 0)
			confl = c;
	}
	return confl;
}

static void solver_free(struct solver *s)
{
	for (size_t i = 0; i < s->n_pkgs; i++)
		if (!s->pkgs[i].pkg)
			free((char *)s->pkgs[i].name);
	free(s->pkgs);
	free(s->lim);
	free(s->names.e);
	free(s->vis_pkg);
	for (size_t i = 0; i < s->n_roots; i++)
		stitch_req_free(s->root_reqs[i]);
	free(s->root_reqs);
	free(s->root_cl);
	free(s->root_cand_off);
	free(s->root_n_cand);
	free(s->inst_pkgs);
	free(s->tmp.a);
	free(s->heap.a);
	free(s->vrank);
	solve_names_release(&s->vtab);
	free(s->undone.a);
	free(s->uvars.a);
	free(s->uheap.a);
	free(s->aheap.a);
	free(s->pend.a);
	free(s->rs.a);
	free(s->dirty.a);
	free(s->bits);
	free(s->need);
	free(s->tmp2.a);
	free(s->units.a);
	free(s->cuts);
	free(s->vkeys);
	free(s->vstrs);
	for (int i = 0; i < 5; i++)
		free(s->an[i].a);
	for (size_t r = 0; s->repo_vis && r < s->idx->n_repos; r++)
		free(s->repo_vis[r]);
	free(s->repo_vis);
	solve_store_release(s);
}

/*
 * Version var, when true and not met yet, is needed: mark it and queue it.
 * Returns whether it is true.
 */
static bool need(struct solver *s, int var, struct ivec *q)
{
	if (s->val[var] != 1)
		return false;
	if (!s->mark[var]) {
		s->mark[var] = 1;
		ivec_push(q, var);
	}
	return true;
}

/*
 * The chosen versions: those the roots need, through the versions that
 * meet each dependency.  A decision that solve_undo() kept after the dependency
 * that asked for it was undone, and was not asked for again, is left out:
 * nothing needs it, and any set of versions closed under the
 * dependencies of its members is a solution.
 *
 * The set is checked before it is given (each version's dependencies met
 * within it, which collecting sees, none of its conflicts matched, pins
 * kept), so that a mistake in the search is an error (see stitch_solve),
 * never a wrong answer.
 */
static bool collect(struct solver *s, struct stitch_solution *out)
{
	bool ok = true;
	struct ivec q = {0};

	for (size_t r = 0; r < s->n_roots; r++)
		for (int k = 0; k < s->root_n_cand[r]; k++)
			need(s, LIT_VAR(s->pool.a[s->root_cand_off[r] + k]), &q);
	for (size_t i = 0; i < q.n; i++) {
		const struct svar *v = &s->vars[q.a[i]];
		const struct spkg *p = &s->pkgs[v->pkg];
		if ((p->pin >= 0 && p->pin != v->idx) ||
		    v->n_dep != (int)p->pkg->versions[v->idx].n_depends)
			ok = false;
		for (int d = 0; d < v->n_dep; d++) {
			const struct saux *a = &s->auxs[s->pool.a[v->dep_off + d]];
			bool met = false;
			for (int k = 0; k < a->n_cand; k++)
				met |= need(s, LIT_VAR(s->pool.a[a->cand_off + k]), &q);
			ok = ok && met;
		}
	}
	for (size_t i = 0; i < q.n && ok; i++) {
		const struct svar *v = &s->vars[q.a[i]];
		const struct stitch_version *ver = &s->pkgs[v->pkg].pkg->versions[v->idx];
		for (size_t c = 0; c < ver->n_conflicts && ok; c++) {
			int id = solve_find_aux(s, v->pkg, AUX_CONF, ver->conflicts[c]);
			ok = id >= 0;
			for (int k = 0; ok && k < s->auxs[id].n_cand; k++)
				ok = !s->mark[LIT_VAR(s->pool.a[s->auxs[id].cand_off + k])];
		}
	}
	/* By name: the visible packages are sorted by name. */
	out->chosen = xcalloc(q.n + 1, sizeof(*out->chosen));
	out->n = 0;
	for (size_t vis = 0; vis < s->idx->n_visible && s->vis_pkg; vis++) {
		const struct spkg *p = s->vis_pkg[vis] >= 0 ? &s->pkgs[s->vis_pkg[vis]] : NULL;
		for (int i = 0; p && i < p->n; i++) {
			if (s->mark[p->var0 + i]) {
				out->chosen[out->n++] = &p->pkg->versions[i];
				s->mark[p->var0 + i] = 0;
			}
		}
	}
	free(q.a);
	return ok;
}

/*
 * The search's answer failed collect()'s check: a bug, which is reported
 * as one, never as a wrong answer nor as "no solution".
 */
static int answer_failed(struct stitch_solution *out, struct stitch_err *err)
{
	stitch_solution_release(out);
	return stitch_error(err, STITCH_E_INTERNAL,
	                    "the resolver's answer fails its own check: this is a bug in "
	                    "stitch's resolver; please report the index and the request");
}

int stitch_solve(const struct stitch_index *idx, const struct stitch_solve_request *req,
                 struct stitch_solution *out, struct stitch_buf *why, struct stitch_err *err)
{
	struct solver s;
	struct stitch_err local = STITCH_ERR_INIT;
	int rc, confl;

	memset(&s, 0, sizeof(s));
	memset(out, 0, sizeof(*out));
	s.idx = idx;
	s.rq = req;
	s.err = err ? err : &local;
	rc = setup_roots(&s);
	if (rc == 0)
		setup_order(&s);
	if (rc == 0)
		rc = setup_pins(&s);
	if (rc == 0)
		rc = setup_installed(&s);
	if (rc == 0) {
		confl = add_root_clauses(&s);
		rc = solve_search(&s, confl, &confl);
		if (rc == STITCH_E_UNSAT)
			solve_explain(&s, confl, why, s.err);
		else if (rc == 0 && !collect(&s, out))
			rc = answer_failed(out, s.err);
	}
	s.stats.packages = s.n_pkgs;
	s.stats.variables = s.n_vars;
	s.stats.clauses = s.n_cls;
	out->stats = s.stats;
	solver_free(&s);
	return rc;
}

void stitch_solution_release(struct stitch_solution *sol)
{
	free(sol->chosen);
	sol->chosen = NULL;
	sol->n = 0;
}
