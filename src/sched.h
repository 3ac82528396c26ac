/*
 * A small scheduler: nodes with dependencies, run in dependency order,
 * independent ones at once, each node either settled at once (kept,
 * unpacked) or run as a child process in one of max_jobs slots.  It knows
 * nothing of packages; op.c gives it the work through struct stitch_sched_ops.
 */
#ifndef STITCH_SCHED_H
#define STITCH_SCHED_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

enum stitch_sched_state {
	STITCH_SCHED_WAITING, /* for its dependencies, or for a free slot */
	STITCH_SCHED_RUNNING, /* its child process runs */
	STITCH_SCHED_DONE,
	STITCH_SCHED_FAILED,
	STITCH_SCHED_SKIPPED, /* a dependency failed or was skipped */
};

struct stitch_sched_node {
	const size_t *deps; /* indices of the nodes it waits for */
	size_t n_deps;
};

struct stitch_sched_ops {
	/*
	 * Node i's dependencies are done.  Settle it now (return DONE or
	 * FAILED), start its child process (set *pid, return RUNNING; only
	 * when slot_free), or return WAITING to be asked again once a slot
	 * frees.
	 */
	enum stitch_sched_state (*start)(void *data, size_t i, int slot_free, pid_t *pid);
	/* Node i's child ended with wait status; return DONE or FAILED. */
	enum stitch_sched_state (*finish)(void *data, size_t i, int status);
	/* Node i will not run: its dependency dep failed or was skipped. */
	void (*skip)(void *data, size_t i, size_t dep);
};

/*
 * Run n nodes, visited in order (a topological order: dependencies first)
 * whenever nothing is running that could unblock another.  state[n] is
 * filled with each node's end state.  Returns 0 once every node settled;
 * STITCH_E_INTERNAL when nodes are left that can never start (a cycle the
 * caller let through), naming how many.
 */
int stitch_sched_run(const struct stitch_sched_node *nodes, size_t n, const size_t *order,
                     int max_jobs, const struct stitch_sched_ops *ops, void *data,
                     enum stitch_sched_state *state, struct stitch_err *err);

#endif
