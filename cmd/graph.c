/*
 * stitch tree [PKG] [--invert] [--dot] [--json], and stitch why PKG
 * (tree --invert PKG): the dependency graph of the switch's packages, or
 * in a project of its resolved set, rooted at the project.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "graph.h"
#include "link.h"
#include "project.h"
#include "util.h"

struct tree_opts {
	bool invert, dot, json;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct tree_opts *o = data;

	(void)arg;
	if (val == 'i')
		o->invert = true;
	else if (val == 'D')
		o->dot = true;
	else if (val == 'J')
		o->json = true;
	else
		return EXIT_USAGE;
	return EXIT_OK;
}

/* ---- text ---- */

static void print_node(const struct stitch_graph_node *n)
{
	fputs(n->name, stdout);
	if (n->version)
		printf(" %s", n->version);
	if (n->pinned)
		fputs(" (pinned)", stdout);
}

static void print_children(const struct stitch_graph *g, size_t at, bool invert, bool *expanded,
                           struct stitch_buf *prefix)
{
	const struct stitch_graph_node *n = &g->nodes[at];
	size_t m = invert ? n->n_rdeps : n->n_deps;

	for (size_t k = 0; k < m; k++) {
		const struct stitch_graph_edge *e = &g->edges[invert ? n->rdeps[k] : n->deps[k]];
		size_t next = invert ? e->from : e->to;
		const struct stitch_graph_node *c = &g->nodes[next];
		bool last = k + 1 == m, more = invert ? c->n_rdeps : c->n_deps;
		size_t keep = prefix->len;

		printf("%s%s", prefix->buf, last ? "\u2514\u2500\u2500 " : "\u251c\u2500\u2500 ");
		print_node(c);
		if (e->req)
			printf(" (%s)", e->req);
		if (expanded[next] && more) {
			fputs(" (*)\n", stdout);
			continue;
		}
		putchar('\n');
		expanded[next] = true;
		stitch_buf_adds(prefix, last ? "    " : "\u2502   ");
		print_children(g, next, invert, expanded, prefix);
		prefix->len = keep;
		prefix->buf[keep] = '\0';
	}
}

static void print_text(const struct stitch_graph *g, const size_t *roots, size_t n_roots,
                       bool invert)
{
	bool *expanded = xcalloc(g->n_nodes + 1, sizeof(bool));
	struct stitch_buf prefix = STITCH_BUF_INIT;

	for (size_t r = 0; r < n_roots; r++) {
		if (r)
			putchar('\n');
		print_node(&g->nodes[roots[r]]);
		putchar('\n');
		expanded[roots[r]] = true;
		stitch_buf_adds(&prefix, "");
		print_children(g, roots[r], invert, expanded, &prefix);
	}
	stitch_buf_release(&prefix);
	free(expanded);
}

/* ---- dot and json: the nodes shown, with the edges between them ---- */

static void dot_quote(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

static void print_dot(const struct stitch_graph *g, const bool *shown)
{
	puts("digraph stitch {");
	puts("\tnode [shape=box];");
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct stitch_graph_node *n = &g->nodes[i];
		if (!shown[i])
			continue;
		putchar('\t');
		dot_quote(n->name);
		if (n->version) {
			printf(" [label=\"%s\\n%s%s\"];\n", n->name, n->version,
			       n->pinned ? " (pinned)" : "");
		} else {
			puts(" [shape=doubleoctagon];");
		}
	}
	for (size_t e = 0; e < g->n_edges; e++) {
		const struct stitch_graph_edge *ed = &g->edges[e];
		if (!shown[ed->from] || !shown[ed->to])
			continue;
		putchar('\t');
		dot_quote(g->nodes[ed->from].name);
		fputs(" -> ", stdout);
		dot_quote(g->nodes[ed->to].name);
		if (ed->req) {
			fputs(" [label=", stdout);
			dot_quote(ed->req);
			putchar(']');
		}
		puts(";");
	}
	puts("}");
}

static json_t *edges_json(const struct stitch_graph *g, const size_t *v, size_t n, bool to,
                          const bool *shown)
{
	json_t *a = json_array();

	for (size_t k = 0; k < n; k++) {
		const struct stitch_graph_edge *e = &g->edges[v[k]];
		const struct stitch_graph_node *o = &g->nodes[to ? e->to : e->from];
		json_t *x;
		if (!shown[to ? e->to : e->from])
			continue;
		x = json_pack("{s:s}", "name", o->name);
		if (o->version)
			json_object_set_new(x, "version", json_string(o->version));
		json_object_set_new(x, "requirement", e->req ? json_string(e->req) : json_null());
		json_array_append_new(a, x);
	}
	return a;
}

static void print_json(const struct stitch_graph *g, const bool *shown, const size_t *roots,
                       size_t n_roots, const char *sw)
{
	json_t *doc = json_object(), *pk = json_array(), *rs = json_array();
	char *text;

	json_object_set_new(doc, "project",
	                    g->n_nodes && g->nodes[0].project ? json_string(g->nodes[0].name)
	                                                      : json_null());
	json_object_set_new(doc, "switch", sw ? json_string(sw) : json_null());
	for (size_t r = 0; r < n_roots; r++)
		json_array_append_new(rs, json_string(g->nodes[roots[r]].name));
	json_object_set_new(doc, "roots", rs);
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct stitch_graph_node *n = &g->nodes[i];
		if (!shown[i])
			continue;
		json_array_append_new(
		    pk, json_pack("{s:s, s:s?, s:b, s:b, s:o, s:o}", "name", n->name, "version",
		                  n->version, "project", n->project, "pinned", n->pinned, "depends",
		                  edges_json(g, n->deps, n->n_deps, true, shown), "needed_by",
		                  edges_json(g, n->rdeps, n->n_rdeps, false, shown)));
	}
	json_object_set_new(doc, "packages", pk);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(text);
	free(text);
	json_decref(doc);
}

/* ---- the graph ---- */

static int open_switch_ro(struct stitch_ctx *ctx)
{
	int rc = cmd_open_switch(ctx, true);

	return rc == EXIT_OK ? cmd_load_pin_overlays(ctx, NULL, NULL) : rc;
}

/* In a project (and without --switch): its resolved set; else the switch's packages. */
static int load_graph(struct stitch_ctx *ctx, bool json, struct stitch_graph *g, bool *is_project)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_project p;
	const struct stitch_target *t;
	char *dir = NULL;
	int rc;

	*is_project = !ctx->switch_arg && stitch_project_find(".", &dir, NULL) == 0;
	if (!*is_project) {
		if ((rc = open_switch_ro(ctx)) != EXIT_OK)
			return rc;
		if (stitch_graph_from_switch(g, ctx->sw->st, ctx->index, &err) != 0)
			return cmd_fail(&err);
		return EXIT_OK;
	}
	rc = stitch_project_load(dir, &p, &err);
	free(dir);
	if (rc != 0)
		return cmd_fail(&err);
	if (!(t = stitch_target_find(p.target, &err))) {
		stitch_project_release(&p);
		return cmd_fail(&err);
	}
	dir = xasprintf("%s/_stitch", p.dir);
	if (access(dir, F_OK) == 0) {
		ctx->switch_arg = dir; /* lives until exit */
		if ((rc = open_switch_ro(ctx)) != EXIT_OK) {
			stitch_project_release(&p);
			return rc;
		}
	} else {
		free(dir);
	}
	if (stitch_graph_from_project(g, ctx->index, ctx->sw ? ctx->sw->st : NULL, &p, t, &why,
	                              &err) != 0)
		rc = cmd_fail_solve_json(ctx, json, &err, &why);
	stitch_buf_release(&why);
	stitch_project_release(&p);
	return rc;
}

/* PKG is in the graph, or say why not. */
static int find_pkg(struct stitch_ctx *ctx, const struct stitch_graph *g, bool is_project,
                    const char *name, size_t *at)
{
	long i = stitch_graph_find(g, name);

	if (i >= 0) {
		*at = (size_t)i;
		return EXIT_OK;
	}
	if (!stitch_index_find(ctx->index, name)) {
		cmd_error("no package '%s' in the repositories in use", name);
		fprintf(stderr, "hint: try 'stitch search %s'\n", name);
		return EXIT_ERROR;
	}
	if (is_project)
		return cmd_error("package '%s' is not needed by the project '%s'", name,
		                 g->nodes[0].name);
	return cmd_error("package '%s' is not installed in '%s'", name, ctx->sw->dir);
}

static int tree(struct stitch_ctx *ctx, const struct tree_opts *o, const char *pkg)
{
	struct stitch_graph g = STITCH_GRAPH_INIT;
	bool is_project, *shown;
	size_t at = 0;
	int rc;

	if ((rc = load_graph(ctx, o->json, &g, &is_project)) != EXIT_OK)
		return rc;
	if (pkg && (rc = find_pkg(ctx, &g, is_project, pkg, &at)) != EXIT_OK) {
		stitch_graph_release(&g);
		return rc;
	}
	shown = xcalloc(g.n_nodes + 1, sizeof(bool));
	if (pkg)
		stitch_graph_reach(&g, at, o->invert, shown);
	else
		for (size_t i = 0; i < g.n_nodes; i++)
			shown[i] = true;
	if (o->dot)
		print_dot(&g, shown);
	else if (o->json)
		print_json(&g, shown, pkg ? &at : g.roots, pkg ? 1 : g.n_roots,
		           ctx->sw ? ctx->sw->dir : NULL);
	else
		print_text(&g, pkg ? &at : g.roots, pkg ? 1 : g.n_roots, o->invert);
	if (!o->dot && !o->json && !g.n_nodes)
		fprintf(stderr, "no package installed in '%s'\n", ctx->sw->dir);
	free(shown);
	stitch_graph_release(&g);
	return EXIT_OK;
}

static int parse(int argc, char **argv, struct stitch_ctx *ctx, struct tree_opts *o,
                 const char **pkg)
{
	static const struct option opts[] = {{"invert", no_argument, NULL, 'i'},
	                                     {"dot", no_argument, NULL, 'D'},
	                                     {"json", no_argument, NULL, 'J'},
	                                     {0}};
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	*pkg = n_ops ? ops[0] : NULL;
	free(ops);
	if (n_ops > 1)
		return cmd_usage_error(ctx, "%s takes at most one package", argv[0]);
	if (o->dot && o->json)
		return cmd_usage_error(ctx, "--dot and --json do not go together");
	if (o->invert && !*pkg)
		return cmd_usage_error(ctx, "%s needs the package whose dependents to show",
		                       o->invert && strcmp(argv[0], "why") == 0 ? "why"
		                                                                : "tree --invert");
	return EXIT_OK;
}

int cmd_tree(int argc, char **argv, struct stitch_ctx *ctx)
{
	struct tree_opts o = {0};
	const char *pkg;
	int rc = parse(argc, argv, ctx, &o, &pkg);

	return rc == EXIT_OK ? tree(ctx, &o, pkg) : rc;
}

int cmd_why(int argc, char **argv, struct stitch_ctx *ctx)
{
	struct tree_opts o = {.invert = true};
	const char *pkg;
	int rc = parse(argc, argv, ctx, &o, &pkg);

	return rc == EXIT_OK ? tree(ctx, &o, pkg) : rc;
}
