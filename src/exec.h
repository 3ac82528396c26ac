/*
 * Running a plan (plan.h) on a switch: what op.c hands over once the plan
 * is made.  The executor fetches every source the plan needs at once, then
 * runs the packages through the scheduler (sched.h): kept, unpacked from
 * the artifact cache, or built in a child process and committed, each
 * decided again once its dependencies have settled.
 */
#ifndef STITCH_EXEC_H
#define STITCH_EXEC_H

#include <stdbool.h>

#include "error.h"
#include "event.h"
#include "op.h"
#include "plan.h"
#include "state.h"
#include "switch.h"

struct stitch_job;

struct stitch_exec {
	struct stitch_switch *sw;
	const struct stitch_op_opts *o;
	struct stitch_plan plan; /* owned */
	struct stitch_job *jobs; /* per plan item, while it runs */
	struct stitch_change *changes; /* for the history, in the order they happened */
	size_t n_changes, cap_changes;
	struct stitch_err first; /* the first failure; the operation goes on around it */
	int sandbox; /* 0: not tried yet, 1: builds can be sandboxed, -1: they cannot */
};

/*
 * Run x->plan.  Every package that can be installed is, each one whole;
 * returns 0, or the code of the first failure (in x->first) after the rest
 * went on around it.
 */
int stitch_exec_run(struct stitch_exec *x, struct stitch_err *err);
void stitch_exec_release(struct stitch_exec *x);

/* Report ev, or an event of kind k about plan item it, to the caller. */
void stitch_exec_emit_ev(const struct stitch_exec *x, struct stitch_event *ev);
void stitch_exec_emit(const struct stitch_exec *x, enum stitch_event_kind k,
                      const struct stitch_plan_item *it, double secs, const struct stitch_err *err);
/* Record it's change for the history. */
void stitch_exec_add_change(struct stitch_exec *x, const struct stitch_plan_item *it);
void stitch_exec_note_failure(struct stitch_exec *x, const struct stitch_err *err);
/* Say once, about it, that the shared cache cannot be reached; true if so. */
bool stitch_exec_report_remote(const struct stitch_exec *x, const struct stitch_plan_item *it);
/*
 * Where a package of the switch whose metadata directory is meta
 * (stitch_state_dir) is built: a pin's persistent mirror
 * (meta/build/pin-NAME), else meta/build/NAME-VERSION.  Malloc'd.
 */
char *stitch_build_tree(const char *meta, const char *name, const char *version, bool pinned);
/* v's source as a URL: absolute, or resolved against its repository. */
char *stitch_exec_source_url(const struct stitch_version *v);
/* Whether v comes from a remote (http or https) repository. */
bool stitch_exec_remote_source(const struct stitch_version *v);

#endif
