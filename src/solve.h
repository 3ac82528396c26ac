/*
 * The resolver (index format, section 5): choose at most one version of
 * each package so that every chosen version's depends hold, no chosen
 * version's conflicts match, and every pin is honoured; or explain why no
 * such choice exists.
 *
 * It is a conflict-driven clause-learning solver.  Each (package, version)
 * is a boolean; "at most one version per package" is a native constraint;
 * every distinct requirement string of a package is one extra boolean that
 * stands for "a version of the package that has this requirement is
 * chosen", so what it learns is about version ranges ("http >= 2.0 cannot
 * be chosen"), as PubGrub's incompatibilities are.  Clauses are made lazily:
 * a version's requirements are parsed (once per distinct string) and turned
 * into clauses only when the version is first chosen during the search, so
 * only what is reachable from the roots is ever touched.  Every conflict
 * yields a learned clause, so no failure is repeated.
 *
 * Preferences (section 5) are met exactly by the order of decisions:
 * installed versions first (each other version of an installed package is
 * decided "not chosen", newest first), then each root requirement in order
 * gets its best candidate (alternatives in order, newest version first),
 * then open dependencies, each decided only after every package that may
 * depend on it (a dependents-first order computed before the search), taking
 * the newest version that every known range on it allows.  With a fixed decision order and clauses that are all
 * implied by the problem, the first solution found is the lexicographic
 * best for that order, which makes the result deterministic and the roots'
 * versions as new as any solution allows.
 */
#ifndef STITCH_SOLVE_H
#define STITCH_SOLVE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "index.h"
#include "util.h"

/* A package held at one version, and where that comes from (for messages). */
struct stitch_solve_pin {
	const char *name;
	const char *version;
	const char *origin; /* e.g. the pinned source tree "./tcp"; may be NULL */
};

/* A package of the current switch. */
struct stitch_solve_installed {
	const char *name;
	const char *version;
};

struct stitch_solve_request {
	size_t n_roots;
	const char *const *roots; /* requirement strings, in order of preference */
	size_t n_pins;
	const struct stitch_solve_pin *pins;
	size_t n_installed;
	const struct stitch_solve_installed *installed;
	bool upgrade; /* ignore installed versions as a preference */
};

struct stitch_solve_stats {
	unsigned long decisions;
	unsigned long conflicts;
	unsigned long propagations;
	size_t packages; /* packages touched */
	size_t variables;
	size_t clauses; /* including learned */
};

/*
 * The chosen versions, sorted by package name; the pointers belong to the
 * index given to stitch_solve.
 */
struct stitch_solution {
	size_t n;
	const struct stitch_version **chosen;
	struct stitch_solve_stats stats;
};

#define STITCH_SOLUTION_INIT             \
	{                                \
		0, NULL,                 \
		{                        \
			0, 0, 0, 0, 0, 0 \
		}                        \
	}

/*
 * Resolve req against idx.  On success returns 0 and fills *out (release it
 * with stitch_solution_release).  Errors:
 *   STITCH_E_PARSE     a root requirement is malformed; err->msg and
 *                      err->cause are those of stitch_req_parse (with caret)
 *   STITCH_E_USAGE     a pin or installed entry is malformed or repeated
 *   STITCH_E_NOTFOUND  a pinned package, or its pinned version, is not in
 *                      the index
 *   STITCH_E_INDEX     a requirement string in the index does not parse
 *   STITCH_E_UNSAT     no choice satisfies the request: err->msg is a
 *                      one-line summary, and when why is not NULL the full
 *                      explanation is appended to it: one fact a line, each
 *                      following from the lines before; then, for each
 *                      package whose versions a fact restricts (a range, a
 *                      pin), in the order first named, a line
 *                      STITCH_SOLVE_CANDIDATES "NAME: V, V, ..." listing
 *                      the versions that exist, newest first (the first 10,
 *                      then ", ... (N in all)"); then "hint:" lines
 * out->stats is filled in every case that reaches the search.
 */
/* How an explanation's line listing a package's versions starts. */
#define STITCH_SOLVE_CANDIDATES "candidate versions of "

int stitch_solve(const struct stitch_index *idx, const struct stitch_solve_request *req,
                 struct stitch_solution *out, struct stitch_buf *why, struct stitch_err *err);

void stitch_solution_release(struct stitch_solution *sol);

#endif
