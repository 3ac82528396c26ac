/* The dependency graph of a switch or of a project's resolved set. */
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "link.h"
#include "req.h"
#include "solve.h"

/* ---- building ---- */

struct builder {
	struct stitch_graph *g;
	size_t cap_nodes, cap_edges;
};

static size_t add_node(struct builder *b, const char *name, const char *version, bool pinned,
                       bool project)
{
	struct stitch_graph *g = b->g;
	struct stitch_graph_node *n;

	XGROW(g->nodes, b->cap_nodes, g->n_nodes + 1);
	n = &g->nodes[g->n_nodes];
	memset(n, 0, sizeof(*n));
	n->name = xstrdup(name);
	n->version = version ? xstrdup(version) : NULL;
	n->pinned = pinned;
	n->project = project;
	return g->n_nodes++;
}

/* One edge from -> to: a second requirement naming the same package adds none. */
static void add_edge(struct builder *b, size_t from, size_t to, const char *req)
{
	struct stitch_graph *g = b->g;

	for (size_t i = 0; i < g->n_edges; i++)
		if (g->edges[i].from == from && g->edges[i].to == to)
			return;
	XGROW(g->edges, b->cap_edges, g->n_edges + 1);
	g->edges[g->n_edges].from = from;
	g->edges[g->n_edges].to = to;
	g->edges[g->n_edges].req = req ? xstrdup(req) : NULL;
	g->n_edges++;
}

/* Sort edge indices by the node at their other end (node order is name order). */
static int cmp_edge(const void *a, const void *b, void *data)
{
	const struct stitch_graph *g = data;
	const struct stitch_graph_edge *x = &g->edges[*(const size_t *)a];
	const struct stitch_graph_edge *y = &g->edges[*(const size_t *)b];

	/* Edges of one list share one end, so the other end orders them. */
	size_t kx = x->from + x->to, ky = y->from + y->to;
	return kx < ky ? -1 : kx > ky;
}

/* Adjacency lists and roots, once every node and edge is in. */
static void finish(struct stitch_graph *g)
{
	bool *seen = xcalloc(g->n_nodes + 1, sizeof(bool));

	for (size_t i = 0; i < g->n_nodes; i++) {
		g->nodes[i].deps = xcalloc(g->n_edges + 1, sizeof(size_t));
		g->nodes[i].rdeps = xcalloc(g->n_edges + 1, sizeof(size_t));
	}
	for (size_t e = 0; e < g->n_edges; e++) {
		struct stitch_graph_node *from = &g->nodes[g->edges[e].from];
		struct stitch_graph_node *to = &g->nodes[g->edges[e].to];
		from->deps[from->n_deps++] = e;
		to->rdeps[to->n_rdeps++] = e;
	}
	for (size_t i = 0; i < g->n_nodes; i++) {
		struct stitch_graph_node *n = &g->nodes[i];
		qsort_r(n->deps, n->n_deps, sizeof(size_t), cmp_edge, g);
		qsort_r(n->rdeps, n->n_rdeps, sizeof(size_t), cmp_edge, g);
	}
	g->roots = xcalloc(g->n_nodes + 1, sizeof(size_t));
	if (g->n_nodes && g->nodes[0].project) {
		g->roots[g->n_roots++] = 0;
		free(seen);
		return;
	}
	for (size_t i = 0; i < g->n_nodes; i++)
		if (!g->nodes[i].n_rdeps) {
			g->roots[g->n_roots++] = i;
			stitch_graph_reach(g, i, false, seen);
		}
	/* A cycle that no root reaches still gets shown, from its first package. */
	for (size_t i = 0; i < g->n_nodes; i++)
		if (!seen[i]) {
			g->roots[g->n_roots++] = i;
			stitch_graph_reach(g, i, false, seen);
		}
	free(seen);
}

void stitch_graph_reach(const struct stitch_graph *g, size_t from, bool reverse, bool *seen)
{
	size_t *stack = xcalloc(g->n_nodes + 1, sizeof(size_t));
	size_t top = 0;

	if (seen[from]) {
		free(stack);
		return;
	}
	seen[from] = true;
	stack[top++] = from;
	while (top) {
		const struct stitch_graph_node *n = &g->nodes[stack[--top]];
		size_t m = reverse ? n->n_rdeps : n->n_deps;
		for (size_t k = 0; k < m; k++) {
			const struct stitch_graph_edge *e =
			    &g->edges[reverse ? n->rdeps[k] : n->deps[k]];
			size_t next = reverse ? e->from : e->to;
			if (!seen[next]) {
				seen[next] = true;
				stack[top++] = next;
			}
		}
	}
	free(stack);
}

static const char *node_name_at(const void *items, size_t i)
{
	return ((const struct stitch_graph_node *)items)[i].name;
}

long stitch_graph_find(const struct stitch_graph *g, const char *name)
{
	size_t off = g->n_nodes && g->nodes[0].project ? 1 : 0;
	long at = stitch_index_bsearch(g->nodes + off, g->n_nodes - off, node_name_at, name);

	if (at >= 0)
		return at + (long)off;
	return off && strcmp(g->nodes[0].name, name) == 0 ? 0 : -1;
}

void stitch_graph_release(struct stitch_graph *g)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		free(g->nodes[i].name);
		free(g->nodes[i].version);
		free(g->nodes[i].deps);
		free(g->nodes[i].rdeps);
	}
	for (size_t e = 0; e < g->n_edges; e++)
		free(g->edges[e].req);
	free(g->nodes);
	free(g->edges);
	free(g->roots);
	memset(g, 0, sizeof(*g));
}

/* ---- labels ---- */

/*
 * Among reqs, the first whose alternatives name `name` at `version`, else
 * the first that names `name` at all (a pin may hold a version outside
 * the range), else NULL.
 */
static const char *label_for(const char *const *reqs, size_t n, const char *name,
                             const char *version)
{
	const char *loose = NULL;

	for (size_t k = 0; k < n; k++) {
		struct stitch_req *r;
		bool match;
		if (stitch_req_parse(reqs[k], &r, NULL) != 0)
			continue;
		match = stitch_req_matches(r, name, version);
		for (size_t a = 0; !loose && a < r->n_alts; a++)
			if (strcmp(r->alts[a].name, name) == 0)
				loose = reqs[k];
		stitch_req_free(r);
		if (match)
			return reqs[k];
	}
	return loose;
}

static const struct stitch_version *index_version(const struct stitch_index *idx, const char *name,
                                                  const char *version)
{
	const struct stitch_pkg *p = idx ? stitch_index_find(idx, name) : NULL;

	return p ? stitch_pkg_find_version(p, version) : NULL;
}

/* ---- a switch ---- */

int stitch_graph_from_switch(struct stitch_graph *g, struct stitch_state *st,
                             const struct stitch_index *idx, struct stitch_err *err)
{
	struct builder b = {g, 0, 0};
	struct stitch_installed *inst = NULL;
	size_t n = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	if ((rc = stitch_state_list_packages(st, &inst, &n, err)) != 0)
		return rc;
	/* Sorted by name, as the nodes must be. */
	for (size_t i = 0; i < n; i++)
		add_node(&b, inst[i].name, inst[i].version, inst[i].pinned, false);
	for (size_t i = 0; i < n; i++) {
		const struct stitch_version *v = index_version(idx, inst[i].name, inst[i].version);
		for (size_t d = 0; d < inst[i].n_depends; d++) {
			long j = stitch_graph_find(g, inst[i].depends[d]);
			if (j < 0 || (size_t)j == i)
				continue;
			add_edge(
			    &b, i, (size_t)j,
			    v ? label_for(v->depends, v->n_depends, inst[j].name, inst[j].version)
			      : NULL);
		}
	}
	stitch_installed_free(inst, n);
	finish(g);
	return 0;
}

/* ---- a project ---- */

/* Edges from node `from` to the chosen packages its requirements name. */
static void link_reqs(struct builder *b, size_t from, const char *const *reqs, size_t n)
{
	struct stitch_graph *g = b->g;

	for (size_t k = 0; k < n; k++) {
		struct stitch_req *r;
		if (stitch_req_parse(reqs[k], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts; a++) {
			long j = stitch_graph_find(g, r->alts[a].name);
			if (j <= 0 || (size_t)j == from || g->nodes[j].project ||
			    !stitch_vformula_eval(r->alts[a].formula, g->nodes[j].version))
				continue;
			add_edge(b, from, (size_t)j, reqs[k]);
			break;
		}
		stitch_req_free(r);
	}
}

static int solve_project(const struct stitch_index *idx, const char *const *reqs, size_t n_reqs,
                         const struct stitch_pin *pins, size_t n_pins,
                         const struct stitch_installed *inst, size_t n_inst,
                         struct stitch_solution *sol, struct stitch_buf *why,
                         struct stitch_err *err)
{
	struct stitch_solve_pin *sp = xcalloc(n_pins + 1, sizeof(*sp));
	struct stitch_solve_installed *si = xcalloc(n_inst + 1, sizeof(*si));
	struct stitch_solve_request req;
	int rc;

	for (size_t i = 0; i < n_pins; i++)
		sp[i] = (struct stitch_solve_pin){pins[i].name, pins[i].version, pins[i].path};
	for (size_t i = 0; i < n_inst; i++)
		si[i] = (struct stitch_solve_installed){inst[i].name, inst[i].version};
	req = (struct stitch_solve_request){n_reqs, reqs, n_pins, sp, n_inst, si, false};
	rc = stitch_solve(idx, &req, sol, why, err);
	free(sp);
	free(si);
	return rc;
}

int stitch_graph_from_project(struct stitch_graph *g, const struct stitch_index *idx,
                              struct stitch_state *st, const struct stitch_project *p,
                              const struct stitch_target *t, struct stitch_buf *why,
                              struct stitch_err *err)
{
	struct builder b = {g, 0, 0};
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_pin *pins = NULL;
	struct stitch_installed *inst = NULL;
	size_t n_pins = 0, n_inst = 0, n_reqs = 0;
	const char **reqs = xcalloc(p->n_depends + 2, sizeof(char *));
	bool have_platform = false;
	int rc;

	memset(g, 0, sizeof(*g));
	/* What `stitch build` asks for: the depends, then the platform. */
	for (size_t i = 0; i < p->n_depends; i++) {
		reqs[n_reqs++] = p->depends[i];
		have_platform |= strcmp(p->depends[i], t->platform_pkg) == 0;
	}
	if (!have_platform)
		reqs[n_reqs++] = t->platform_pkg;
	if (st) {
		stitch_state_pin_list(st, &pins, &n_pins, NULL);
		stitch_state_list_packages(st, &inst, &n_inst, NULL);
	}
	rc = solve_project(idx, reqs, n_reqs, pins, n_pins, inst, n_inst, &sol, why, err);
	if (rc == 0) {
		add_node(&b, p->name, NULL, false, true);
		for (size_t i = 0; i < sol.n; i++) {
			bool pinned = false;
			for (size_t k = 0; k < n_pins; k++)
				pinned |= strcmp(pins[k].name, sol.chosen[i]->pkg->name) == 0;
			add_node(&b, sol.chosen[i]->pkg->name, sol.chosen[i]->version, pinned,
			         false);
		}
		link_reqs(&b, 0, reqs, n_reqs);
		for (size_t i = 0; i < sol.n; i++)
			link_reqs(&b, i + 1, sol.chosen[i]->depends, sol.chosen[i]->n_depends);
		finish(g);
	}
	stitch_solution_release(&sol);
	stitch_pins_free(pins, n_pins);
	stitch_installed_free(inst, n_inst);
	free(reqs);
	return rc;
}
