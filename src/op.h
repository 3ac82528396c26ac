/*
 * Operations on a switch: install, upgrade, remove.  Each resolves, makes
 * a plan (plan.h), then runs it: fetches, builds in dependency order
 * through the scheduler (sched.h) and commits package by package through
 * switch.h, reporting progress as typed events (event.h; the library
 * prints nothing).  A package is rebuilt when its build hash changes: its source,
 * its recipe, the target, the compiler, or the interface hash of a
 * dependency.  So a dependency whose headers did not change does not
 * rebuild its dependents.
 */
#ifndef STITCH_OP_H
#define STITCH_OP_H

#include <stdbool.h>
#include <stddef.h>

#include "artifact.h"
#include "error.h"
#include "event.h"
#include "index.h"
#include "solve.h"
#include "switch.h"
#include "util.h"

struct stitch_op_opts {
	const char *source_cache; /* <root>/cache/sources */
	int jobs; /* MAKEFLAGS=-jN for each build; 0: $STITCH_JOBS, else the processors */
	int fetch_parallel; /* 0: 8 */
	int parallel; /* packages built at once; 0: $STITCH_JOBS, else the processors */
	bool upgrade; /* prefer newest over installed */
	bool dry_run; /* plan only: PLAN events, nothing changes */
	const char *command_line; /* for the history */
	const struct stitch_solve_pin *pins; /* extra pins (tests, CI) */
	size_t n_pins;
	stitch_event_fn on_event;
	void *data;
	/* Should the persistent build tree of pinned package name start afresh? */
	bool (*clean)(void *data, const char *name);
	/*
	 * Locked: install exactly these versions, without resolving (they
	 * must be closed under their depends; the caller checked).
	 */
	const struct stitch_version *const *fixed;
	size_t n_fixed;
	/* Built packages are taken from and stored into this cache (may be NULL). */
	struct stitch_artifacts *artifacts;
	/* Say, for each package built, which input differs from the cached artifact. */
	bool explain;
	/* Build without bubblewrap (network still cut off): --no-sandbox. */
	bool no_sandbox;
	/*
	 * Leave a release's build tree after its build commits, for its tests
	 * (stitch_pkgtest_run without prepare); by default it is removed.
	 */
	bool keep_trees;
	/*
	 * Changes the command made before the operation (a pin removed): they
	 * come first in its history entry, which is written even when the
	 * operation itself changes nothing.
	 */
	const struct stitch_change *pre_changes;
	size_t n_pre_changes;
	/* When > 0, each command a build runs is also written there (stitch -v). */
	int command_fd;
	/*
	 * Install and remove call this once the plan is made, before anything
	 * changes (never with dry_run), with its surprising changes (surprise.h:
	 * downgrades and removals of packages installed by name that the
	 * command did not ask for) as PLAN events, n == 0 when there are none.
	 * False stops the operation with STITCH_E_DECLINED, nothing changed.
	 * NULL: go ahead.
	 */
	bool (*confirm)(void *data, const struct stitch_event *changes, size_t n);
	void *confirm_data;
	/* Packages the command changes on purpose whatever their version: no question. */
	const char *const *on_purpose;
	size_t n_on_purpose;
};

/*
 * Install reqs (requirement strings) into sw, keeping what is installed
 * (at its version unless opts->upgrade).  With no reqs and upgrade set this
 * is `stitch upgrade`.  On no solution returns STITCH_E_UNSAT with the
 * explanation in why.  On a failed build, packages already committed stay
 * installed (each one whole), the failed one and its dependents keep their
 * previous versions, and the error is the first failure's.
 */
int stitch_op_install(struct stitch_switch *sw, const struct stitch_index *idx,
                      const char *const *reqs, size_t n_reqs, const struct stitch_op_opts *opts,
                      struct stitch_buf *why, struct stitch_err *err);

/*
 * Remove packages.  Refused (STITCH_E_CONFLICT, naming them) when another
 * installed package needs one of them, unless recursive: then those go too.
 */
int stitch_op_remove(struct stitch_switch *sw, const struct stitch_index *idx,
                     const char *const *names, size_t n, bool recursive,
                     const struct stitch_op_opts *opts, struct stitch_err *err);

/*
 * What a switch is to become (stitch rollback): exactly these versions
 * installed (closed under their depends; the caller checked), exactly these
 * pins in force, and every other package removed.
 */
struct stitch_op_target {
	const struct stitch_version *const *versions;
	size_t n_versions;
	const char *const *requested; /* names of the packages asked for */
	size_t n_requested;
	const struct stitch_pin *pins;
	size_t n_pins;
};

/*
 * Bring sw to target as one operation with one history entry: the pins
 * first, then each package kept, taken from the artifact cache or built,
 * then the packages that are no longer wanted removed.  The plan events
 * come first (the removals last); with opts->dry_run nothing else happens.
 * A failed build is reported as in stitch_op_install and the removals are
 * then left out.
 */
int stitch_op_apply(struct stitch_switch *sw, const struct stitch_index *idx,
                    const struct stitch_op_target *target, const struct stitch_op_opts *opts,
                    struct stitch_err *err);

#endif
