/*
 * The scheduler on its own (src/sched.c): dependency order, running at
 * most max_jobs children at once, skipping what depends on a failure, and
 * an error for nodes that can never start.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched.h"
#include "test.h"

struct trace {
	int order[16]; /* nodes in the order they settled */
	size_t n;
	int running, max_running;
	int fail; /* this node's child exits 1; -1: none */
	int skipped[16];
	bool child[16]; /* run as a child process, else settled at once */
};

static enum stitch_sched_state on_start(void *data, size_t i, int slot_free, pid_t *pid)
{
	struct trace *t = data;

	if (!t->child[i]) {
		t->order[t->n++] = (int)i;
		return STITCH_SCHED_DONE;
	}
	if (!slot_free)
		return STITCH_SCHED_WAITING;
	*pid = fork();
	if (*pid == 0) {
		usleep(20000);
		_exit((int)i == t->fail ? 1 : 0);
	}
	if (++t->running > t->max_running)
		t->max_running = t->running;
	return STITCH_SCHED_RUNNING;
}

static enum stitch_sched_state on_finish(void *data, size_t i, int status)
{
	struct trace *t = data;

	t->running--;
	t->order[t->n++] = (int)i;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? STITCH_SCHED_DONE
	                                                     : STITCH_SCHED_FAILED;
}

static void on_skip(void *data, size_t i, size_t dep)
{
	struct trace *t = data;

	t->skipped[i] = (int)dep + 1;
}

static const struct stitch_sched_ops ops = {on_start, on_finish, on_skip};

static int place(const struct trace *t, int node)
{
	for (size_t k = 0; k < t->n; k++)
		if (t->order[k] == node)
			return (int)k;
	return -1;
}

/* 0 <- 1 <- 3, 0 <- 2 <- 3: a diamond, every node a child process. */
static void test_diamond_in_order(void)
{
	size_t d1[] = {0}, d2[] = {0}, d3[] = {1, 2};
	struct stitch_sched_node nodes[] = {{NULL, 0}, {d1, 1}, {d2, 1}, {d3, 2}};
	size_t order[] = {0, 1, 2, 3};
	enum stitch_sched_state st[4];
	struct trace t = {.fail = -1, .child = {true, true, true, true}};
	struct stitch_err err = STITCH_ERR_INIT;

	CHECK_INT(stitch_sched_run(nodes, 4, order, 2, &ops, &t, st, &err), 0);
	CHECK_INT((int)t.n, 4);
	CHECK(place(&t, 0) < place(&t, 1) && place(&t, 0) < place(&t, 2));
	CHECK(place(&t, 1) < place(&t, 3) && place(&t, 2) < place(&t, 3));
	CHECK_INT(t.max_running, 2); /* 1 and 2 ran at once */
	for (int i = 0; i < 4; i++)
		CHECK_INT(st[i], STITCH_SCHED_DONE);
}

/* Four independent children and one slot: never two at once. */
static void test_slots_respected(void)
{
	struct stitch_sched_node nodes[4] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
	size_t order[] = {0, 1, 2, 3};
	enum stitch_sched_state st[4];
	struct trace t = {.fail = -1, .child = {true, true, true, true}};
	struct stitch_err err = STITCH_ERR_INIT;

	CHECK_INT(stitch_sched_run(nodes, 4, order, 1, &ops, &t, st, &err), 0);
	CHECK_INT(t.max_running, 1);
	CHECK_INT((int)t.n, 4);
}

/* 0 fails: 1 (needs 0) and 2 (needs 1) are skipped, 3 runs anyway. */
static void test_failure_skips_dependents(void)
{
	size_t d1[] = {0}, d2[] = {1};
	struct stitch_sched_node nodes[] = {{NULL, 0}, {d1, 1}, {d2, 1}, {NULL, 0}};
	size_t order[] = {0, 1, 2, 3};
	enum stitch_sched_state st[4];
	struct trace t = {.fail = 0, .child = {true, false, false, false}};
	struct stitch_err err = STITCH_ERR_INIT;

	CHECK_INT(stitch_sched_run(nodes, 4, order, 2, &ops, &t, st, &err), 0);
	CHECK_INT(st[0], STITCH_SCHED_FAILED);
	CHECK_INT(st[1], STITCH_SCHED_SKIPPED);
	CHECK_INT(st[2], STITCH_SCHED_SKIPPED);
	CHECK_INT(st[3], STITCH_SCHED_DONE);
	CHECK_INT(t.skipped[1], 1); /* because of node 0 */
	CHECK_INT(t.skipped[2], 2); /* because of node 1 */
}

/* Two nodes waiting for each other never start: an internal error, not silence. */
static void test_cycle_is_an_error(void)
{
	size_t d0[] = {1}, d1[] = {0};
	struct stitch_sched_node nodes[] = {{d0, 1}, {d1, 1}, {NULL, 0}};
	size_t order[] = {0, 1, 2};
	enum stitch_sched_state st[3];
	struct trace t = {.fail = -1};
	struct stitch_err err = STITCH_ERR_INIT;

	CHECK_INT(stitch_sched_run(nodes, 3, order, 2, &ops, &t, st, &err), STITCH_E_INTERNAL);
	CHECK(strstr(err.msg, "2 of 3 nodes can never start") != NULL);
	CHECK_INT(st[2], STITCH_SCHED_DONE);
}

int main(void)
{
	RUN(test_diamond_in_order);
	RUN(test_slots_respected);
	RUN(test_failure_skips_dependents);
	RUN(test_cycle_is_an_error);
	return test_summary();
}
