/*
 * The dependency graph of a set of packages, for `stitch tree` and `stitch
 * why`: each node a package at one version (or the unikernel project, which
 * has none), each edge from a package to one it depends on, labelled with
 * the requirement that made it, as the index (or unikernel.json) writes it.
 *
 * Two sources: the packages installed in a switch (their recorded depends,
 * each labelled with the requirement of the installed version in the
 * index), or a project's resolved set (its depends and the target's
 * platform, solved as `stitch build` would, preferring what the project's
 * switch has installed and honouring its pins), rooted at the project.
 *
 * Everything in a graph belongs to it and is freed by stitch_graph_release.
 */
#ifndef STITCH_GRAPH_H
#define STITCH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "index.h"
#include "project.h"
#include "state.h"
#include "util.h"

struct stitch_target;

struct stitch_graph_edge {
	size_t from, to; /* node indices: from depends on to */
	/*
	 * The requirement of from that to satisfies, as written; NULL when
	 * the index no longer has from's version to say (a switch's package
	 * whose version left the index).
	 */
	char *req;
};

struct stitch_graph_node {
	char *name;
	char *version; /* NULL for the project */
	bool pinned;
	bool project; /* the unikernel project itself */
	size_t n_deps;
	size_t *deps; /* edges leaving it, by the name of their target */
	size_t n_rdeps;
	size_t *rdeps; /* edges reaching it, by the name of their source */
};

struct stitch_graph {
	size_t n_nodes;
	struct stitch_graph_node *nodes; /* the project first, then packages by name */
	size_t n_edges;
	struct stitch_graph_edge *edges;
	/*
	 * Where a whole tree starts: the project; else every package that no
	 * other needs, by name, then (only in a cycle no root reaches) the
	 * first package of each such cycle.
	 */
	size_t n_roots;
	size_t *roots;
};

#define STITCH_GRAPH_INIT                 \
	{                                 \
		0, NULL, 0, NULL, 0, NULL \
	}

/*
 * The packages installed in st.  idx (may be NULL) labels the edges.
 * Errors are those of stitch_state_list_packages.
 */
int stitch_graph_from_switch(struct stitch_graph *g, struct stitch_state *st,
                             const struct stitch_index *idx, struct stitch_err *err);

/*
 * Project p's resolved set for target t, solved against idx with st's
 * pins and installed versions as preferences (st may be NULL: a project
 * whose switch does not exist yet).  The solver's errors: STITCH_E_UNSAT
 * with the explanation appended to why (may be NULL), STITCH_E_PARSE for a
 * malformed requirement of the project, and so on (solve.h).
 */
int stitch_graph_from_project(struct stitch_graph *g, const struct stitch_index *idx,
                              struct stitch_state *st, const struct stitch_project *p,
                              const struct stitch_target *t, struct stitch_buf *why,
                              struct stitch_err *err);

/* The node called name (the project's name finds the project), or -1. */
long stitch_graph_find(const struct stitch_graph *g, const char *name);

/*
 * Mark in seen[] (n_nodes entries, set by the caller to false) every node
 * reachable from node `from` along edges (reverse: against them), from
 * included.
 */
void stitch_graph_reach(const struct stitch_graph *g, size_t from, bool reverse, bool *seen);

void stitch_graph_release(struct stitch_graph *g);

#endif
