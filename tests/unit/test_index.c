/*
 * Unit tests of the index: both shapes, overlays, lookups, and the compiled
 * cache, which must give exactly what the source gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"
#include "req.h"
#include "solve.h"
#include "test.h"
#include "util.h"

static char tmpdir[] = "/tmp/stitch-test-index.XXXXXX";

static char *path_in(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static void write_file(const char *rel, const char *text)
{
	char *p = path_in(rel);
	char *slash = strrchr(p, '/');
	FILE *f;

	*slash = '\0';
	mkdir(p, 0755);
	*slash = '/';
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	free(p);
}

/* write_file, and make the file old enough that its stamp is trusted. */
static void write_aged(const char *rel, const char *text)
{
	char *p = path_in(rel);
	char *cmd = xasprintf("touch -d '1 hour ago' %s", p);

	write_file(rel, text);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	free(p);
}

static struct stitch_index *open_one(const char *rel, const char *cache, struct stitch_err *err)
{
	char *loc = path_in(rel);
	struct stitch_repo_spec spec = {"r", loc, 0, NULL};
	struct stitch_index *idx = NULL;

	stitch_index_open(&idx, &spec, 1, cache, err);
	free(loc);
	return idx;
}

static void test_directory_shape(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_index *idx;
	const struct stitch_pkg *p;

	write_file("d/repo.json", "{\"format\": 1, \"name\": \"dee\"}");
	write_file(
	    "d/packages/tcp.json",
	    "{\"name\": \"tcp\", \"synopsis\": \"TCP\", \"versions\": {"
	    "\"1.0\": {\"source\": {\"url\": \"a.tgz\"}, \"depends\": [\"ipv4{>=1}\"]},"
	    "\"1.10\": {\"source\": {\"url\": \"c.tgz\"}, \"build\": [[\"make\", \"-j%{jobs}%\"]]},"
	    "\"1.9\": {\"source\": {\"url\": \"b.tgz\", \"sha256\": "
	    "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}}}}");
	write_file("d/packages/ipv4.json", "{\"name\": \"ipv4\", \"versions\": {}}");
	write_file("d/packages/README", "not a package");
	idx = open_one("d", NULL, &err);
	CHECK(idx != NULL);
	if (!idx)
		return;
	CHECK_INT(idx->n_visible, 2);
	CHECK_STR(idx->visible[0]->name, "ipv4");
	CHECK_STR(idx->repos[0]->doc_name, "dee");
	p = stitch_index_find(idx, "tcp");
	CHECK(p != NULL);
	CHECK(stitch_index_find(idx, "udp") == NULL);
	if (p) {
		CHECK_INT(p->n_versions, 3);
		CHECK_STR(p->versions[0].version, "1.10");
		CHECK_STR(p->versions[1].version, "1.9");
		CHECK_STR(p->versions[2].version, "1.0");
		CHECK_STR(p->versions[2].depends[0], "ipv4 {>= 1}");
		CHECK(p->versions[0].sha256 == NULL);
		CHECK_STR(p->versions[1].sha256,
		          "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
		CHECK_INT(p->versions[0].build.n, 1);
		CHECK_INT(p->versions[0].build.cmds[0].argc, 2);
		CHECK_STR(p->versions[0].build.cmds[0].argv[1], "-j%{jobs}%");
		CHECK(p->versions[0].pkg == p);
		CHECK_STR(p->synopsis, "TCP");
		CHECK(p->license == NULL);
		CHECK(stitch_pkg_find_version(p, "1.9") == &p->versions[1]);
		CHECK(stitch_pkg_find_version(p, "1.09") == &p->versions[1]);
		CHECK(stitch_pkg_find_version(p, "2.0") == NULL);
	}
	stitch_index_free(idx);
}

static void test_error_codes(void)
{
	struct stitch_err err = STITCH_ERR_INIT;

	write_file("e1.json", "{\"format\": 1, \"name\": \"x\", \"packages\": {\"a\": }}");
	CHECK(open_one("e1.json", NULL, &err) == NULL);
	CHECK_INT(err.code, STITCH_E_PARSE);
	CHECK(strstr(err.msg, "e1.json:1:46: invalid JSON") != NULL);
	write_file("e2.json",
	           "{\"format\": 1, \"name\": \"x\", \"packages\": {\"a\": {\"name\": \"a\"}}}");
	/* A malformed package is left out with a warning; the rest loads. */
	{
		struct stitch_index *idx = open_one("e2.json", NULL, &err);
		CHECK(idx != NULL);
		if (idx) {
			CHECK(stitch_index_find(idx, "a") == NULL);
			CHECK_INT(idx->repos[0]->n_warnings, 1);
			CHECK(strstr(stitch_repo_next_warning(idx->repos[0], NULL),
			             "e2.json:1:46: package 'a': field 'versions': missing") !=
			      NULL);
			CHECK(stitch_repo_next_warning(idx->repos[0], idx->repos[0]->warnings) ==
			      NULL);
			stitch_index_free(idx);
		}
	}
	CHECK(open_one("nope.json", NULL, &err) == NULL);
	CHECK_INT(err.code, STITCH_E_NOTFOUND);
}

static void test_overlay(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *lo = path_in("lo.json"), *hi = path_in("hi.json"), *tie = path_in("tie.json");
	struct stitch_repo_spec specs[3] = {
	    {"lo", lo, 1, NULL}, {"hi", hi, 5, NULL}, {"tie", tie, 1, NULL}};
	struct stitch_index *idx = NULL;
	const struct stitch_pkg *p;

	write_file("lo.json",
	           "{\"format\": 1, \"name\": \"lo\", \"packages\": {"
	           "\"a\": {\"name\": \"a\", \"synopsis\": \"lo\", \"versions\": {"
	           "\"1\": {\"source\": {\"url\": \"u\"}}, \"2\": {\"source\": {\"url\": \"u\"}}}},"
	           "\"b\": {\"name\": \"b\", \"synopsis\": \"lo\", \"versions\": {}},"
	           "\"c\": {\"name\": \"c\", \"synopsis\": \"lo\", \"versions\": {}}}}");
	write_file("hi.json", "{\"format\": 1, \"name\": \"hi\", \"packages\": {"
	                      "\"a\": {\"name\": \"a\", \"synopsis\": \"hi\", \"versions\": {"
	                      "\"1\": {\"source\": {\"url\": \"u\"}}}}}}");
	write_file("tie.json",
	           "{\"format\": 1, \"name\": \"tie\", \"packages\": {"
	           "\"b\": {\"name\": \"b\", \"synopsis\": \"tie\", \"versions\": {}}}}");
	CHECK_INT(stitch_index_open(&idx, specs, 3, NULL, &err), 0);
	if (!idx)
		goto out;
	CHECK_STR(idx->repos[0]->name, "hi");
	CHECK_STR(idx->repos[1]->name, "lo");
	CHECK_STR(idx->repos[2]->name, "tie");
	CHECK_INT(idx->n_visible, 3);
	p = stitch_index_find(idx, "a");
	/* The higher repository hides every version of the lower one's package. */
	CHECK(p && strcmp(p->synopsis, "hi") == 0 && p->n_versions == 1);
	/* Equal priorities: the one given first wins. */
	p = stitch_index_find(idx, "b");
	CHECK(p && strcmp(p->synopsis, "lo") == 0);
	p = stitch_index_find(idx, "c");
	CHECK(p && strcmp(p->repo->name, "lo") == 0);
	stitch_index_free(idx);
out:
	free(lo);
	free(hi);
	free(tie);
}

/* Deep comparison of two loads of one repository. */
static int same_repo(const struct stitch_repo *a, const struct stitch_repo *b)
{
	if (a->n_pkgs != b->n_pkgs || strcmp(a->doc_name, b->doc_name))
		return 0;
	for (size_t i = 0; i < a->n_pkgs; i++) {
		const struct stitch_pkg *p = &a->pkgs[i], *q = &b->pkgs[i];
		if (strcmp(p->name, q->name) || p->n_versions != q->n_versions ||
		    (!p->synopsis) != (!q->synopsis) ||
		    (p->synopsis && strcmp(p->synopsis, q->synopsis)))
			return 0;
		for (size_t k = 0; k < p->n_versions; k++) {
			const struct stitch_version *v = &p->versions[k], *w = &q->versions[k];
			if (strcmp(v->version, w->version) || strcmp(v->url, w->url) ||
			    v->n_depends != w->n_depends || v->n_conflicts != w->n_conflicts ||
			    v->build.n != w->build.n || v->install.n != w->install.n)
				return 0;
			for (size_t j = 0; j < v->n_depends; j++)
				if (strcmp(v->depends[j], w->depends[j]))
					return 0;
			for (size_t j = 0; j < v->build.n; j++)
				for (size_t m = 0; m < v->build.cmds[j].argc; m++)
					if (strcmp(v->build.cmds[j].argv[m],
					           w->build.cmds[j].argv[m]))
						return 0;
		}
	}
	return 1;
}

/*
 * Every compiled requirement of repo names, alternative by alternative, the
 * packages its string names, and exactly the versions its formula matches;
 * one left uncompiled names a package the repository lacks, or one of more
 * than 64 versions.  Returns the number of compiled ones, or -1.
 */
static int check_compiled(const struct stitch_repo *repo)
{
	int n = 0;

	for (size_t i = 0; i < repo->n_pkgs; i++) {
		for (size_t k = 0; k < repo->pkgs[i].n_versions; k++) {
			const struct stitch_version *v = &repo->pkgs[i].versions[k];
			if (!v->reqs)
				return -1;
			for (size_t j = 0; j < v->n_depends + v->n_conflicts; j++) {
				const char *str = j < v->n_depends ? v->depends[j]
				                                   : v->conflicts[j - v->n_depends];
				struct stitch_req *r;
				struct stitch_err err = STITCH_ERR_INIT;
				bool ok = true, compilable = true;
				if (stitch_req_parse(str, &r, &err) != 0)
					return -1;
				for (size_t a = 0; a < r->n_alts; a++) {
					const struct stitch_pkg *p = NULL;
					for (size_t q = 0; q < repo->n_pkgs; q++)
						if (strcmp(repo->pkgs[q].name, r->alts[a].name) ==
						    0)
							p = &repo->pkgs[q];
					compilable = compilable && p && p->n_versions <= 64;
					if (v->reqs[j] == STITCH_REQ_NONE)
						continue;
					const struct stitch_req_alt *x =
					    &repo->req_alts[v->reqs[j] + a];
					ok = ok && p && x->pkg == (uint32_t)(p - repo->pkgs) &&
					     x->last == (a + 1 == r->n_alts);
					for (size_t m = 0; ok && m < p->n_versions; m++)
						ok = ((x->mask >> m) & 1) ==
						     stitch_vformula_eval(r->alts[a].formula,
						                          p->versions[m].version);
				}
				stitch_req_free(r);
				/* And the versions whose same list holds the same string. */
				for (size_t m = 0; m < repo->pkgs[i].n_versions; m++) {
					const struct stitch_version *w = &repo->pkgs[i].versions[m];
					bool has = false;
					for (size_t x = 0; j < v->n_depends && x < w->n_depends;
					     x++)
						has = has || strcmp(w->depends[x], str) == 0;
					for (size_t x = 0; j >= v->n_depends && x < w->n_conflicts;
					     x++)
						has = has || strcmp(w->conflicts[x], str) == 0;
					if (repo->pkgs[i].n_versions <= 64)
						ok = ok && ((v->req_members[j] >> m) & 1) == has;
				}
				if (!ok || compilable != (v->reqs[j] != STITCH_REQ_NONE)) {
					printf("# '%s': compiled wrongly\n", str);
					return -1;
				}
				n += compilable;
			}
		}
	}
	return n;
}

/*
 * Each package's compiled successors are the packages its versions'
 * depends name, each once, in the order first named; none when one of
 * those is not compiled.  Returns 0, or -1.
 */
static int check_succ(const struct stitch_repo *repo)
{
	for (size_t i = 0; i < repo->n_pkgs; i++) {
		const struct stitch_pkg *p = &repo->pkgs[i];
		uint32_t want[256];
		size_t n = 0;
		bool all = true;
		for (size_t k = 0; k < p->n_versions; k++) {
			const struct stitch_version *v = &p->versions[k];
			for (size_t j = 0; j < v->n_depends; j++) {
				struct stitch_req *r;
				struct stitch_err err = STITCH_ERR_INIT;
				all = all && v->reqs[j] != STITCH_REQ_NONE;
				if (stitch_req_parse(v->depends[j], &r, &err) != 0)
					return -1;
				for (size_t a = 0; a < r->n_alts; a++) {
					for (size_t q = 0; q < repo->n_pkgs; q++) {
						size_t m = 0;
						if (strcmp(repo->pkgs[q].name, r->alts[a].name) !=
						    0)
							continue;
						while (m < n && want[m] != q)
							m++;
						if (m == n && n < 256)
							want[n++] = (uint32_t)q;
					}
				}
				stitch_req_free(r);
			}
		}
		if (all != (p->succ != NULL) ||
		    (p->succ && (p->n_succ != n || memcmp(p->succ, want, n * sizeof(*want))))) {
			printf("# package '%s': compiled successors wrong\n", p->name);
			return -1;
		}
	}
	return 0;
}

/* Requirements are compiled with their repository, and kept in the cache. */
static void test_compiled_reqs(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf doc = STITCH_BUF_INIT;
	char *cache = path_in("creq-cache");
	struct stitch_index *a, *b;

	stitch_buf_adds(&doc, "{\"format\": 1, \"name\": \"c\", \"packages\": {"
	                      "\"big\": {\"name\": \"big\", \"versions\": {");
	for (int i = 0; i < 70; i++)
		stitch_buf_addf(&doc, "%s\"1.%d\": {\"source\": {\"url\": \"u\"}}", i ? "," : "",
		                i);
	stitch_buf_adds(
	    &doc,
	    "}}, \"lib\": {\"name\": \"lib\", \"versions\": {"
	    "\"1.0~rc1\": {\"source\": {\"url\": \"u\"}},"
	    "\"1.0\": {\"source\": {\"url\": \"u\"}}, \"1.2.3\": {\"source\": {\"url\": \"u\"}},"
	    "\"2.0+x\": {\"source\": {\"url\": \"u\"}}, \"10\": {\"source\": {\"url\": \"u\"}}}},"
	    "\"app\": {\"name\": \"app\", \"versions\": {\"1\": {\"source\": {\"url\": \"u\"},"
	    "\"depends\": [\"lib {>= 1.0 & < 10}\", \"lib {!(= 1.2.3) | = 10}\", \"lib\","
	    "\"lib {< 1} | app {> 0}\", \"gone {>= 1}\", \"lib | gone\", \"big {>= 1.5}\"],"
	    "\"conflicts\": [\"lib {= 2.0+x}\"]}}}}}");
	write_aged("creq.json", doc.buf);
	stitch_buf_release(&doc);
	a = open_one("creq.json", cache, &err);
	b = open_one("creq.json", cache, &err);
	CHECK(a && b);
	if (a && b) {
		CHECK(b->repos[0]->from_cache);
		/* Five: not those naming "gone", nor the one with 70 versions. */
		CHECK_INT(check_compiled(a->repos[0]), 5);
		CHECK_INT(check_compiled(b->repos[0]), 5);
		CHECK_INT(check_succ(a->repos[0]), 0);
		CHECK_INT(check_succ(b->repos[0]), 0);
		/* app names "gone": no successors compiled; lib names none. */
		CHECK(stitch_index_find(b, "app")->succ == NULL);
		CHECK(stitch_index_find(b, "lib")->succ != NULL);
	}
	stitch_index_free(a);
	stitch_index_free(b);
	free(cache);
}

/*
 * A requirement compiled against a package that another repository hides
 * is read again against the package that is seen: the versions differ.
 */
static void test_compiled_reqs_overlay(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *base = path_in("base.json"), *over = path_in("over.json");
	struct stitch_repo_spec specs[2] = {{"base", base, 1, NULL}, {"over", over, 5, NULL}};
	struct stitch_index *idx = NULL;
	static const char *const roots[] = {"app"};
	struct stitch_solve_request rq = {.n_roots = 1, .roots = roots};
	struct stitch_solution sol = {0};
	struct stitch_buf why = STITCH_BUF_INIT;

	write_file("base.json",
	           "{\"format\": 1, \"name\": \"base\", \"packages\": {"
	           "\"app\": {\"name\": \"app\", \"versions\": {\"1\": {\"source\": {\"url\": "
	           "\"u\"}, \"depends\": [\"lib {>= 2}\"]}}},"
	           "\"lib\": {\"name\": \"lib\", \"versions\": {\"1\": {\"source\": {\"url\": "
	           "\"u\"}}, \"2\": {\"source\": {\"url\": \"u\"}}, \"3\": {\"source\": "
	           "{\"url\": \"u\"}}}}}}");
	/*
	 * In base, "lib {>= 2}" is lib's first two versions; here those are
	 * 1.5 and 1, and none is 2 or newer.
	 */
	write_file("over.json",
	           "{\"format\": 1, \"name\": \"over\", \"packages\": {"
	           "\"lib\": {\"name\": \"lib\", \"versions\": {\"1\": {\"source\": {\"url\": "
	           "\"u\"}}, \"1.5\": {\"source\": {\"url\": \"u\"}}}}}}");
	CHECK_INT(stitch_index_open(&idx, specs, 2, NULL, &err), 0);
	if (idx) {
		CHECK_INT(stitch_solve(idx, &rq, &sol, &why, &err), STITCH_E_UNSAT);
		CHECK_INT(sol.n, 0);
		stitch_solution_release(&sol);
	}
	stitch_buf_release(&why);
	stitch_index_free(idx);
	free(base);
	free(over);
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Property: for random repositories, the cache gives what the source gives. */
static void test_cache_roundtrip(void)
{
	char *cache = path_in("cache");

	for (int round = 0; round < 40; round++) {
		struct stitch_err err = STITCH_ERR_INIT;
		struct stitch_buf doc = STITCH_BUF_INIT;
		struct stitch_index *a, *b;
		unsigned n = 1 + rnd(30);

		stitch_buf_adds(&doc, "{\"format\": 1, \"name\": \"rand\", \"packages\": {");
		for (unsigned i = 0; i < n; i++) {
			unsigned nv = rnd(5);
			stitch_buf_addf(&doc, "%s\"p%u\": {\"name\": \"p%u\"%s, \"versions\": {",
			                i ? "," : "", i, i, rnd(2) ? ", \"synopsis\": \"s\"" : "");
			for (unsigned k = 0; k < nv; k++) {
				stitch_buf_addf(
				    &doc, "%s\"%u.%u\": {\"source\": {\"url\": \"p%u-%u.tgz\"}",
				    k ? "," : "", rnd(3), k, i, k);
				stitch_buf_addf(
				    &doc,
				    ", \"depends\": [\"p%u {>= %u}\", \"p%u | p%u\", "
				    "\"p%u {!(= %u.1) | < 1}\"], \"conflicts\": [\"%c%u\"]",
				    rnd(n), rnd(4), rnd(n), rnd(n), rnd(n), rnd(3),
				    rnd(2) ? 'p' : 'q', rnd(n));
				if (rnd(2))
					stitch_buf_addf(
					    &doc, ", \"build\": [[\"make\", \"-j%u\"], [\"x\"]]",
					    rnd(9));
				stitch_buf_adds(&doc, "}");
			}
			stitch_buf_adds(&doc, "}}");
		}
		stitch_buf_adds(&doc, "}}");
		write_aged("rand.json", doc.buf);
		stitch_buf_release(&doc);
		a = open_one("rand.json", cache, &err);
		b = open_one("rand.json", cache, &err);
		CHECK(a && b);
		if (a && b) {
			CHECK(!a->repos[0]->from_cache);
			CHECK(b->repos[0]->from_cache);
			CHECK(same_repo(a->repos[0], b->repos[0]));
			CHECK(check_compiled(a->repos[0]) >= 0);
			CHECK(check_compiled(b->repos[0]) >= 0);
			CHECK_INT(check_succ(a->repos[0]), 0);
			CHECK_INT(check_succ(b->repos[0]), 0);
		}
		stitch_index_free(a);
		stitch_index_free(b);
	}
	free(cache);
}

/* A pinned checkout's package is what the user asked for: a problem in it is an error. */
static void test_overlay_strict(void)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_index *idx;
	char *pin = path_in("pin/stitch.json"), *dir = path_in("pin");

	write_file("o.json", "{\"format\": 1, \"name\": \"o\", \"packages\": {}}");
	write_file("pin/stitch.json", "{\"name\": \"tcp\", \"versions\": {\"1.0\": {\n"
	                              "  \"depends\": [\"ipv4 {>=\"]}}}");
	idx = open_one("o.json", NULL, &err);
	CHECK(idx != NULL);
	if (idx) {
		CHECK_INT(stitch_index_overlay(idx, "tcp", pin, dir, &err), STITCH_E_INDEX);
		CHECK(strstr(err.msg, "stitch.json:2:15: package 'tcp', version '1.0': field "
		                      "'depends': item 0: invalid requirement") != NULL);
		CHECK(stitch_index_find(idx, "tcp") == NULL);
		stitch_index_free(idx);
	}
	free(pin);
	free(dir);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_directory_shape);
	RUN(test_error_codes);
	RUN(test_overlay);
	RUN(test_overlay_strict);
	RUN(test_cache_roundtrip);
	RUN(test_compiled_reqs);
	RUN(test_compiled_reqs_overlay);
	{
		char *cmd = xasprintf("rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return 1;
		free(cmd);
	}
	return test_summary();
}
