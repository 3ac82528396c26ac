/*
 * libFuzzer target for the resolver: the input's bytes draw a small index
 * and request (tests/unit/solve_model.h), built in memory (the JSON loader
 * has its own fuzzer); the solver must agree with
 * brute force on whether a solution exists, any solution must satisfy every
 * depends, conflict and pin, its root versions must be the preferred ones,
 * and a failure must come with an explanation.  The same index loaded from
 * JSON, where the repository compiles the requirements, must give the same
 * search and answer.  Aborts on any violation.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../unit/solve_model.h"

struct bytes {
	const uint8_t *p;
	size_t n;
};

static unsigned byte_rng(void *st, unsigned n)
{
	struct bytes *b = st;
	unsigned x = 0;

	if (b->n) {
		x = *b->p++;
		b->n--;
	}
	return n ? x % n : 0;
}

/* The case written as a repository and loaded: same result, same search. */
static void same_when_loaded(const struct mb_case *c, const struct stitch_solve_request *rq, int rc,
                             const struct stitch_solution *sol)
{
	static char path[64];
	struct stitch_repo_spec spec = {"model", path, 0, NULL};
	struct stitch_index *idx = NULL;
	struct stitch_solution again = STITCH_SOLUTION_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	int rc2;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/stitch-fuzz-solve-%ld.json", (long)getpid());
	if (mb_write(c, path) != 0 || stitch_index_open(&idx, &spec, 1, NULL, &err) != 0) {
		fprintf(stderr, "cannot load the case: %s\n", err.msg);
		abort();
	}
	rc2 = stitch_solve(idx, rq, &again, NULL, &err);
	if (rc2 != rc || again.n != sol->n || again.stats.decisions != sol->stats.decisions ||
	    again.stats.conflicts != sol->stats.conflicts) {
		fprintf(stderr,
		        "loaded: rc %d, %zu packages, %lu decisions; in memory: %d, %zu, %lu\n",
		        rc2, again.n, again.stats.decisions, rc, sol->n, sol->stats.decisions);
		abort();
	}
	for (size_t i = 0; i < sol->n; i++)
		if (strcmp(again.chosen[i]->pkg->name, sol->chosen[i]->pkg->name) != 0 ||
		    strcmp(again.chosen[i]->version, sol->chosen[i]->version) != 0)
			abort();
	stitch_solution_release(&again);
	stitch_index_free(idx);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytes b = {data, size};
	struct mb_case c;
	static struct mb_index m;
	const struct stitch_index *idx = &m.idx;
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	int best[16], n_best = 0, got[16], rc;
	bool exists;

	mb_generate(&c, byte_rng, &b);
	mb_build(&c, &m);
	struct stitch_solve_request rq = mb_request(&c);
	exists = mb_brute(idx, &rq, best, &n_best);
	rc = stitch_solve(idx, &rq, &sol, &why, &err);
	if (exists != (rc == 0)) {
		fprintf(stderr, "brute force: %d, solver: %d (%s)\n", exists, rc, err.msg);
		abort();
	}
	if (rc == 0) {
		struct mb_choice ch;
		mb_from_solution(idx, &sol, &ch);
		if (!mb_valid(&ch, &rq))
			abort();
		if (mb_objective(&ch, &rq, got) != n_best ||
		    memcmp(got, best, (size_t)n_best * sizeof(int)) != 0)
			abort();
	} else if (rc != STITCH_E_UNSAT || !strstr(why.buf, "so ")) {
		abort();
	}
	same_when_loaded(&c, &rq, rc, &sol);
	stitch_solution_release(&sol);
	stitch_buf_release(&why);
	return 0;
}
