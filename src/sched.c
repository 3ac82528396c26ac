/* The scheduler of sched.h. */
#include "sched.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "util.h"

struct run {
	const struct stitch_sched_node *nodes;
	size_t n;
	const size_t *order;
	int max_jobs;
	const struct stitch_sched_ops *ops;
	void *data;
	enum stitch_sched_state *state;
	pid_t *pid; /* of each running node */
	size_t running, left;
};

/* Can node i start?  When a dependency failed, skip it (and say so). */
static bool ready(struct run *r, size_t i)
{
	const struct stitch_sched_node *nd = &r->nodes[i];
	bool all_done = true;

	for (size_t d = 0; d < nd->n_deps; d++) {
		enum stitch_sched_state s = r->state[nd->deps[d]];
		if (s == STITCH_SCHED_FAILED || s == STITCH_SCHED_SKIPPED) {
			r->state[i] = STITCH_SCHED_SKIPPED;
			r->left--;
			r->ops->skip(r->data, i, nd->deps[d]);
			return false;
		}
		all_done &= s == STITCH_SCHED_DONE;
	}
	return all_done;
}

/* One pass over the waiting nodes; true when any of them moved. */
static bool start_ready(struct run *r)
{
	bool moved = false;

	for (size_t k = 0; k < r->n; k++) {
		size_t i = r->order[k];
		enum stitch_sched_state s;
		pid_t pid = -1;

		if (r->state[i] != STITCH_SCHED_WAITING)
			continue;
		if (!ready(r, i)) {
			moved |= r->state[i] == STITCH_SCHED_SKIPPED;
			continue;
		}
		s = r->ops->start(r->data, i, r->running < (size_t)r->max_jobs, &pid);
		if (s == STITCH_SCHED_WAITING)
			continue;
		r->state[i] = s;
		moved = true;
		if (s == STITCH_SCHED_RUNNING) {
			r->pid[i] = pid;
			r->running++;
		} else {
			r->left--;
		}
	}
	return moved;
}

/* Wait for one of our children and settle its node. */
static void reap(struct run *r)
{
	int status;
	pid_t pid = waitpid(-1, &status, 0);
	size_t i = 0;

	if (pid < 0)
		return; /* EINTR: the loop asks again */
	while (i < r->n && !(r->state[i] == STITCH_SCHED_RUNNING && r->pid[i] == pid))
		i++;
	if (i == r->n)
		return; /* not one of ours */
	r->running--;
	r->left--;
	r->state[i] = r->ops->finish(r->data, i, status);
}

int stitch_sched_run(const struct stitch_sched_node *nodes, size_t n, const size_t *order,
                     int max_jobs, const struct stitch_sched_ops *ops, void *data,
                     enum stitch_sched_state *state, struct stitch_err *err)
{
	struct run r = {nodes, n,    order, max_jobs > 0 ? max_jobs : 1,
	                ops,   data, state, xcalloc(n + 1, sizeof(pid_t)),
	                0,     n};

	for (size_t i = 0; i < n; i++)
		state[i] = STITCH_SCHED_WAITING;
	while (r.left) {
		if (start_ready(&r))
			continue;
		if (!r.running)
			break;
		reap(&r);
	}
	free(r.pid);
	if (r.left)
		return stitch_error(err, STITCH_E_INTERNAL,
		                    "%zu of %zu nodes can never start: they wait for each other",
		                    r.left, n);
	return 0;
}
