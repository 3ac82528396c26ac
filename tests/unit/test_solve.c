/*
 * Unit tests for src/solve.c: a seeded property test against a brute-force
 * oracle (solve_model.h), plus the API's error paths.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "solve.h"
#include "solve_model.h"
#include "test.h"

static char dir[] = "/tmp/stitch-test-solve.XXXXXX";

static unsigned xrng(void *st, unsigned n)
{
	uint64_t *s = st;

	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return n ? (unsigned)(*s % n) : 0;
}

static struct stitch_index *load(const char *path)
{
	struct stitch_repo_spec spec = {"model", path, 0, NULL};
	struct stitch_index *idx = NULL;
	struct stitch_err err = STITCH_ERR_INIT;

	if (stitch_index_open(&idx, &spec, 1, NULL, &err) != 0)
		printf("# loading %s: %s\n", path, err.msg);
	return idx;
}

static void dump_case(const char *path, const struct mb_case *c)
{
	char line[512];
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		printf("#   %s", line);
	if (f)
		fclose(f);
	for (int r = 0; r < c->n_roots; r++)
		printf("#   root: %s\n", c->roots[r]);
	for (int i = 0; i < c->n_pins; i++)
		printf("#   pin: %s=%s\n", c->pins[i].name, c->pins[i].version);
	for (int i = 0; i < c->n_inst; i++)
		printf("#   installed: %s=%s\n", c->inst[i].name, c->inst[i].version);
	printf("#   upgrade: %d\n", c->upgrade);
}

static int n_sat, n_unsat;

/* One random problem: the solver agrees with brute force.  Returns 0 if ok. */
static int one_case(uint64_t seed)
{
	uint64_t st = seed * 0x9E3779B97F4A7C15ULL + 1;
	struct mb_case c;
	char path[sizeof(dir) + 32];
	struct stitch_index *idx;
	struct stitch_solution sol = STITCH_SOLUTION_INIT, again = STITCH_SOLUTION_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	int best[16], n_best = 0, got[16], bad = 0, rc;
	bool exists;

	mb_generate(&c, xrng, &st);
	snprintf(path, sizeof(path), "%s/case.json", dir);
	if (mb_write(&c, path) != 0 || !(idx = load(path)))
		return 1;
	struct stitch_solve_request rq = mb_request(&c);
	exists = mb_brute(idx, &rq, best, &n_best);
	rc = stitch_solve(idx, &rq, &sol, &why, &err);
	if (exists != (rc == 0)) {
		printf("# seed %llu: brute force says %s, solver returned %d (%s)\n",
		       (unsigned long long)seed, exists ? "solvable" : "unsolvable", rc, err.msg);
		bad = 1;
	} else if (rc == 0) {
		struct mb_choice ch;
		mb_from_solution(idx, &sol, &ch);
		if (!mb_valid(&ch, &rq)) {
			printf("# seed %llu: the solution is not valid\n",
			       (unsigned long long)seed);
			bad = 1;
		} else if (mb_objective(&ch, &rq, got) != n_best ||
		           memcmp(got, best, (size_t)n_best * sizeof(int)) != 0) {
			printf("# seed %llu: not the preferred solution:",
			       (unsigned long long)seed);
			for (int k = 0; k < n_best; k++)
				printf(" %d/%d", got[k], best[k]);
			printf(" (got/best)\n");
			bad = 1;
		}
		/* Deterministic: the same answer again. */
		if (stitch_solve(idx, &rq, &again, NULL, NULL) != 0 || again.n != sol.n ||
		    memcmp(again.chosen, sol.chosen, sol.n * sizeof(*sol.chosen)) != 0) {
			printf("# seed %llu: a second run differs\n", (unsigned long long)seed);
			bad = 1;
		}
		n_sat++;
	} else {
		if (rc != STITCH_E_UNSAT || why.len == 0 || !strstr(why.buf, "so ")) {
			printf("# seed %llu: no explanation (rc %d)\n", (unsigned long long)seed,
			       rc);
			bad = 1;
		}
		n_unsat++;
	}
	if (bad) {
		dump_case(path, &c);
		for (size_t i = 0; i < sol.n; i++)
			printf("#   chosen: %s %s\n", sol.chosen[i]->pkg->name,
			       sol.chosen[i]->version);
		if (why.len)
			printf("#   why:\n%s", why.buf);
	}
	stitch_solution_release(&sol);
	stitch_solution_release(&again);
	stitch_buf_release(&why);
	stitch_index_free(idx);
	unlink(path);
	return bad;
}

static void test_property_brute_force(void)
{
	int failures = 0;
	const char *env = getenv("SOLVE_CASES");
	int n = env ? (int)strtol(env, NULL, 10) : 600;

	n_sat = n_unsat = 0;

	for (int i = 0; i < n && failures < 5; i++)
		failures += one_case((uint64_t)i + 1);
	printf("# %d random problems: %d solvable, %d not\n", n, n_sat, n_unsat);
	CHECK_INT(failures, 0);
	CHECK(n_sat > n / 5);
	CHECK(n_unsat > n / 20);
}

static struct stitch_index *load_text(const char *json)
{
	char path[sizeof(dir) + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fixed.json", dir);
	f = fopen(path, "w");
	fputs(json, f);
	fclose(f);
	return load(path);
}

static const char fixed_index[] =
    "{\"format\": 1, \"name\": \"fixed\", \"packages\": {"
    "\"http\": {\"name\": \"http\", \"versions\": {"
    "  \"1.0\": {\"source\": {\"url\": \"a\"}, \"depends\": [\"tcp\"]},"
    "  \"2.0\": {\"source\": {\"url\": \"a\"}, \"depends\": [\"tcp {>= 1.1}\"]}}},"
    "\"tcp\": {\"name\": \"tcp\", \"versions\": {"
    "  \"1.0\": {\"source\": {\"url\": \"a\"}}, \"1.1\": {\"source\": {\"url\": \"a\"}}}}}}";

/* A package with no versions, in an index with no versions at all. */
static void test_no_versions(void)
{
	struct stitch_index *idx = load_text("{\"format\": 1, \"name\": \"empty\", \"packages\": {"
	                                     "\"a\": {\"name\": \"a\", \"versions\": {}}}}");
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	const char *roots[] = {"a"};
	struct stitch_solve_request rq = {.n_roots = 1, .roots = roots};

	CHECK(idx != NULL);
	if (!idx)
		return;
	CHECK_INT(stitch_solve(idx, &rq, &sol, &why, &err), STITCH_E_UNSAT);
	CHECK(strstr(why.buf, "you asked for 'a' (package 'a' has no versions)") != NULL);
	stitch_buf_release(&why);
	stitch_err_clear(&err);
	stitch_index_free(idx);
}

static void test_errors(void)
{
	struct stitch_index *idx = load_text(fixed_index);
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	const char *bad_root[] = {"http {>= }"}, *ok_root[] = {"http"};
	struct stitch_solve_pin pin = {"tcp", "7.0", "./tcp"}, pin2 = {"nosuch", "1", NULL};
	struct stitch_solve_request rq = {.n_roots = 1, .roots = bad_root};

	CHECK(idx != NULL);
	if (!idx)
		return;
	CHECK_INT(stitch_solve(idx, &rq, &sol, NULL, &err), STITCH_E_PARSE);
	CHECK(strstr(err.cause, "^") != NULL);
	rq.roots = ok_root;
	rq.n_pins = 1;
	rq.pins = &pin;
	CHECK_INT(stitch_solve(idx, &rq, &sol, NULL, &err), STITCH_E_NOTFOUND);
	CHECK(strstr(err.msg, "7.0") != NULL);
	rq.pins = &pin2;
	CHECK_INT(stitch_solve(idx, &rq, &sol, NULL, &err), STITCH_E_NOTFOUND);
	stitch_index_free(idx);
}

static void test_pin_explanation(void)
{
	struct stitch_index *idx = load_text(fixed_index);
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	const char *roots[] = {"http {>= 2}"};
	struct stitch_solve_pin pin = {"tcp", "1.0", "./tcp"};
	struct stitch_solve_request rq = {.n_roots = 1, .roots = roots, .n_pins = 1, .pins = &pin};

	if (!idx)
		return;
	CHECK_INT(stitch_solve(idx, &rq, &sol, &why, &err), STITCH_E_UNSAT);
	CHECK_STR(why.buf, "you asked for 'http {>= 2}'\n"
	                   "tcp is pinned to 1.0 (./tcp)\n"
	                   "http 2.0 depends on tcp >= 1.1\n"
	                   "so the root requirement 'http {>= 2}' cannot be satisfied\n"
	                   "candidate versions of http: 2.0, 1.0\n"
	                   "candidate versions of tcp: 1.1, 1.0\n"
	                   "hint: tcp is pinned to 1.0 (./tcp); pin another version of tcp or "
	                   "remove the pin\n");
	CHECK_STR(err.msg, "no solution: the root requirement 'http {>= 2}' cannot be satisfied");
	stitch_buf_release(&why);
	/* Without the pin: the newest http, and its tcp. */
	rq.n_pins = 0;
	CHECK_INT(stitch_solve(idx, &rq, &sol, NULL, &err), 0);
	CHECK_INT(sol.n, 2);
	if (sol.n == 2) {
		CHECK_STR(sol.chosen[0]->version, "2.0");
		CHECK_STR(sol.chosen[1]->pkg->name, "tcp");
		CHECK_STR(sol.chosen[1]->version, "1.1");
	}
	stitch_solution_release(&sol);
	stitch_index_free(idx);
}

/*
 * A large problem: 2,500 packages of 12 versions, each version with its own
 * ranges on eight lower packages, ranges that some pairs of dependents
 * cannot both have, and from the seventh version on a conflict, so that
 * the search meets conflicts and the solver's arrays grow past what it
 * reserves and into their own mappings.  All-oldest is a solution.  The
 * answer must be complete and valid: every dependency of a chosen version
 * met by a chosen version, no conflict matched.
 */
#define BIG_PKGS 2500
#define BIG_VERS 12

static const struct stitch_version *chosen_of(const struct stitch_solution *sol, const char *name)
{
	size_t lo = 0, hi = sol->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(sol->chosen[mid]->pkg->name, name);
		if (c == 0)
			return sol->chosen[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool met(const struct stitch_solution *sol, const char *req)
{
	struct stitch_req *r;
	struct stitch_err err = STITCH_ERR_INIT;
	bool ok = false;

	if (stitch_req_parse(req, &r, &err) != 0)
		return false;
	for (size_t a = 0; a < r->n_alts && !ok; a++) {
		const struct stitch_version *v = chosen_of(sol, r->alts[a].name);
		ok = v && stitch_vformula_eval(r->alts[a].formula, v->version);
	}
	stitch_req_free(r);
	return ok;
}

static void test_large_problem(void)
{
	char path[sizeof(dir) + 32];
	struct stitch_index *idx;
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_err err = STITCH_ERR_INIT;
	const char *root[] = {"q2499"};
	struct stitch_solve_request rq = {.n_roots = 1, .roots = root};
	int bad = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/large.json", dir);
	f = fopen(path, "w");
	fputs("{\"format\": 1, \"name\": \"large\", \"packages\": {", f);
	for (int i = 0; i < BIG_PKGS; i++) {
		fprintf(f, "%s\"q%d\": {\"name\": \"q%d\", \"versions\": {", i ? "," : "", i, i);
		for (int k = 0; k < BIG_VERS; k++) {
			fprintf(f, "%s\"1.%d\": {\"source\": {\"url\": \"a\"}, \"depends\": [",
			        k ? "," : "", k);
			for (int d = 1; d <= 8 && i - d >= 0; d++) {
				/* Ranges two dependents cannot both have. */
				int off = (i * 7 + d * 3) % 5 - 2;
				int lo = k - 3 + off < 0 ? 0 : k - 3 + off;
				int hi = k + off < lo             ? lo
				         : k + off > BIG_VERS - 1 ? BIG_VERS - 1
				                                  : k + off;
				fprintf(f, "%s\"q%d {>= 1.%d & <= 1.%d}\"", d > 1 ? ", " : "",
				        i - d, lo, hi);
			}
			fputs("]", f);
			if (k >= 6 && i >= 2)
				fprintf(f, ", \"conflicts\": [\"q%d {= 1.%d}\"]", i - 2,
				        (k + i) % BIG_VERS);
			fputs("}", f);
		}
		fputs("}}", f);
	}
	fputs("}}\n", f);
	fclose(f);
	idx = load(path);
	CHECK(idx != NULL);
	if (!idx)
		return;
	CHECK_INT(stitch_solve(idx, &rq, &sol, NULL, &err), 0);
	CHECK(chosen_of(&sol, "q2499") != NULL);
	for (size_t i = 0; i < sol.n && !bad; i++) {
		const struct stitch_version *v = sol.chosen[i];
		for (size_t k = 0; k < v->n_depends; k++)
			if (!met(&sol, v->depends[k]))
				printf("# %s %s: '%s' is not met\n", v->pkg->name, v->version,
				       v->depends[k]),
				    bad = 1;
		for (size_t k = 0; k < v->n_conflicts; k++)
			if (met(&sol, v->conflicts[k]))
				printf("# %s %s: conflict '%s' is matched\n", v->pkg->name,
				       v->version, v->conflicts[k]),
				    bad = 1;
	}
	CHECK_INT(bad, 0);
	printf("# %zu packages chosen, %zu decisions, %zu conflicts, %zu variables\n", sol.n,
	       (size_t)sol.stats.decisions, (size_t)sol.stats.conflicts,
	       (size_t)sol.stats.variables);
	CHECK(sol.stats.conflicts > 0);
	stitch_solution_release(&sol);
	stitch_index_free(idx);
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_errors);
	RUN(test_no_versions);
	RUN(test_pin_explanation);
	RUN(test_property_brute_force);
	RUN(test_large_problem);
	char path[sizeof(dir) + 32];
	snprintf(path, sizeof(path), "%s/fixed.json", dir);
	unlink(path);
	rmdir(dir);
	return test_summary();
}
