/*
 * Small random resolver problems and a brute-force oracle, shared by
 * tests/unit/test_solve.c (seeded property test) and
 * tests/fuzz/fuzz_solve.c (problems drawn from the fuzzer's bytes).
 *
 * A problem has up to MB_PKGS packages p0..p4 (p5 is named but never
 * defined), each with up to MB_VERS versions; requirements mix
 * alternatives and formulas.  The oracle enumerates every choice of at most
 * one version per package.
 */
#ifndef STITCH_SOLVE_MODEL_H
#define STITCH_SOLVE_MODEL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "req.h"
#include "solve.h"
#include "version.h"

#define MB_PKGS 5
#define MB_VERS 4
#define MB_REQ 256

struct mb_ver {
	const char *ver;
	char deps[3][MB_REQ];
	int n_deps;
	char confs[2][MB_REQ];
	int n_confs;
};

struct mb_case {
	struct mb_ver v[MB_PKGS][MB_VERS];
	int n_vers[MB_PKGS];
	int npk;
	char roots[3][MB_REQ];
	const char *root_ptrs[3];
	int n_roots;
	struct stitch_solve_pin pins[2];
	int n_pins;
	struct stitch_solve_installed inst[2];
	int n_inst;
	int upgrade;
};

/* A source of small random numbers: rng(st, n) is in [0, n). */
typedef unsigned (*mb_rng)(void *st, unsigned n);

static const char *const mb_names[] = {"p0", "p1", "p2", "p3", "p4", "p5"};
static const char *const mb_pool[] = {"1", "1.5", "2~rc", "2", "3"};
#define MB_POOL 5

/* Append s to out (capacity cap), truncating. */
static inline void mb_cat(char *out, size_t cap, const char *s)
{
	size_t len = strlen(out), n = strlen(s);

	if (len + 1 >= cap)
		return;
	if (n > cap - len - 1)
		n = cap - len - 1;
	memcpy(out + len, s, n);
	out[len + n] = '\0';
}

static inline void mb_formula(char *out, size_t cap, mb_rng rng, void *st, int depth)
{
	static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">="};
	char a[MB_REQ] = "", b[MB_REQ] = "";

	out[0] = '\0';
	switch (depth < 2 ? rng(st, 6) : 0) {
	case 3:
		mb_formula(a, sizeof(a), rng, st, depth + 1);
		mb_formula(b, sizeof(b), rng, st, depth + 1);
		mb_cat(out, cap, "(");
		mb_cat(out, cap, a);
		mb_cat(out, cap, rng(st, 2) ? ") & (" : ") | (");
		mb_cat(out, cap, b);
		mb_cat(out, cap, ")");
		return;
	case 4:
		mb_formula(a, sizeof(a), rng, st, depth + 1);
		mb_cat(out, cap, "!(");
		mb_cat(out, cap, a);
		mb_cat(out, cap, ")");
		return;
	default:
		mb_cat(out, cap, ops[rng(st, 6)]);
		mb_cat(out, cap, " ");
		mb_cat(out, cap, mb_pool[rng(st, MB_POOL)]);
	}
}

static inline void mb_req(char *out, size_t cap, mb_rng rng, void *st, int npk)
{
	int n_alts = rng(st, 5) == 0 ? 2 : 1;

	out[0] = '\0';
	for (int i = 0; i < n_alts; i++) {
		char f[MB_REQ];
		const char *name = mb_names[rng(st, 12) == 0 ? 5 : rng(st, (unsigned)npk)];
		if (i)
			mb_cat(out, cap, " | ");
		mb_cat(out, cap, name);
		if (rng(st, 2)) {
			mb_formula(f, sizeof(f), rng, st, 0);
			mb_cat(out, cap, " {");
			mb_cat(out, cap, f);
			mb_cat(out, cap, "}");
		}
	}
}

static inline void mb_generate(struct mb_case *c, mb_rng rng, void *st)
{
	memset(c, 0, sizeof(*c));
	c->npk = 2 + (int)rng(st, MB_PKGS - 1);
	for (int p = 0; p < c->npk; p++) {
		int used[MB_POOL] = {0};
		c->n_vers[p] = (int)rng(st, MB_VERS + 1);
		for (int k = 0; k < c->n_vers[p]; k++) {
			struct mb_ver *v = &c->v[p][k];
			int pick = (int)rng(st, MB_POOL);
			while (used[pick])
				pick = (pick + 1) % MB_POOL;
			used[pick] = 1;
			v->ver = mb_pool[pick];
			v->n_deps = (int)rng(st, 3);
			for (int d = 0; d < v->n_deps; d++)
				mb_req(v->deps[d], MB_REQ, rng, st, c->npk);
			v->n_confs = rng(st, 4) == 0 ? 1 + (int)rng(st, 2) : 0;
			for (int d = 0; d < v->n_confs; d++)
				mb_req(v->confs[d], MB_REQ, rng, st, c->npk);
		}
	}
	c->n_roots = 1 + (int)rng(st, 3);
	for (int r = 0; r < c->n_roots; r++) {
		mb_req(c->roots[r], MB_REQ, rng, st, c->npk);
		c->root_ptrs[r] = c->roots[r];
	}
	for (int p = 0; p < c->npk; p++) {
		if (c->n_vers[p] && c->n_pins < 2 && rng(st, 6) == 0) {
			c->pins[c->n_pins].name = mb_names[p];
			c->pins[c->n_pins].version = c->v[p][rng(st, (unsigned)c->n_vers[p])].ver;
			c->pins[c->n_pins].origin = "./pinned";
			c->n_pins++;
		}
		if (c->n_vers[p] && c->n_inst < 2 && rng(st, 4) == 0) {
			c->inst[c->n_inst].name = mb_names[p];
			c->inst[c->n_inst].version = c->v[p][rng(st, (unsigned)c->n_vers[p])].ver;
			c->n_inst++;
		}
	}
	c->upgrade = rng(st, 4) == 0;
}

static inline void mb_json_strings(FILE *f, const char *key, char (*list)[MB_REQ], int n)
{
	if (!n)
		return;
	fprintf(f, ", \"%s\": [", key);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", list[i]);
	fputc(']', f);
}

static inline int mb_write(const struct mb_case *c, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs("{\"format\": 1, \"name\": \"model\", \"packages\": {", f);
	for (int p = 0; p < c->npk; p++) {
		fprintf(f, "%s\n \"%s\": {\"name\": \"%s\", \"versions\": {", p ? "," : "",
		        mb_names[p], mb_names[p]);
		for (int k = 0; k < c->n_vers[p]; k++) {
			const struct mb_ver *v = &c->v[p][k];
			fprintf(f, "%s\n  \"%s\": {\"source\": {\"url\": \"a.tar.gz\"}",
			        k ? "," : "", v->ver);
			mb_json_strings(f, "depends", (char(*)[MB_REQ])v->deps, v->n_deps);
			mb_json_strings(f, "conflicts", (char(*)[MB_REQ])v->confs, v->n_confs);
			fputc('}', f);
		}
		fputs("}}", f);
	}
	fputs("}}\n", f);
	return fclose(f);
}

/* The same index built in memory, without the JSON loader. */
struct mb_index {
	struct stitch_index idx;
	const struct stitch_pkg *visible[MB_PKGS];
	struct stitch_pkg pkgs[MB_PKGS];
	struct stitch_version vers[MB_PKGS][MB_VERS];
	const char *deps[MB_PKGS][MB_VERS][3];
	const char *confs[MB_PKGS][MB_VERS][2];
};

static inline int mb_cmp_ver_desc(const void *a, const void *b)
{
	return -stitch_version_cmp(((const struct mb_ver *)a)->ver,
	                           ((const struct mb_ver *)b)->ver);
}

static inline void mb_build(struct mb_case *c, struct mb_index *m)
{
	memset(m, 0, sizeof(*m));
	m->idx.n_visible = (size_t)c->npk;
	m->idx.visible = m->visible;
	for (int p = 0; p < c->npk; p++) {
		qsort(c->v[p], (size_t)c->n_vers[p], sizeof(c->v[p][0]), mb_cmp_ver_desc);
		m->pkgs[p].name = mb_names[p];
		m->pkgs[p].n_versions = (size_t)c->n_vers[p];
		m->pkgs[p].versions = m->vers[p];
		m->visible[p] = &m->pkgs[p];
		for (int k = 0; k < c->n_vers[p]; k++) {
			struct stitch_version *v = &m->vers[p][k];
			v->version = c->v[p][k].ver;
			v->pkg = &m->pkgs[p];
			for (int d = 0; d < c->v[p][k].n_deps; d++)
				m->deps[p][k][d] = c->v[p][k].deps[d];
			for (int d = 0; d < c->v[p][k].n_confs; d++)
				m->confs[p][k][d] = c->v[p][k].confs[d];
			v->n_depends = (size_t)c->v[p][k].n_deps;
			v->depends = m->deps[p][k];
			v->n_conflicts = (size_t)c->v[p][k].n_confs;
			v->conflicts = m->confs[p][k];
		}
	}
}

static inline struct stitch_solve_request mb_request(const struct mb_case *c)
{
	struct stitch_solve_request rq = {
	    .n_roots = (size_t)c->n_roots,
	    .roots = c->root_ptrs,
	    .n_pins = (size_t)c->n_pins,
	    .pins = c->pins,
	    .n_installed = (size_t)c->n_inst,
	    .installed = c->inst,
	    .upgrade = c->upgrade != 0,
	};
	return rq;
}

/* ------------------------------------------------------------- oracle */

/* A choice: for each visible package, a version index or -1. */
struct mb_choice {
	const struct stitch_index *idx;
	int pick[8];
};

static inline bool mb_holds(const struct mb_choice *ch, const char *req_str)
{
	struct stitch_req *r;
	struct stitch_err err = STITCH_ERR_INIT;
	bool ok = false;

	if (stitch_req_parse(req_str, &r, &err) != 0)
		return false;
	for (size_t i = 0; i < ch->idx->n_visible && !ok; i++) {
		const struct stitch_pkg *p = ch->idx->visible[i];
		if (ch->pick[i] >= 0)
			ok = stitch_req_matches(r, p->name, p->versions[ch->pick[i]].version);
	}
	stitch_req_free(r);
	return ok;
}

static inline bool mb_valid(const struct mb_choice *ch, const struct stitch_solve_request *rq)
{
	const struct stitch_index *idx = ch->idx;

	for (size_t i = 0; i < rq->n_roots; i++)
		if (!mb_holds(ch, rq->roots[i]))
			return false;
	for (size_t i = 0; i < idx->n_visible; i++) {
		const struct stitch_pkg *p = idx->visible[i];
		const struct stitch_version *v;
		if (ch->pick[i] < 0)
			continue;
		v = &p->versions[ch->pick[i]];
		for (size_t k = 0; k < rq->n_pins; k++)
			if (strcmp(rq->pins[k].name, p->name) == 0 &&
			    stitch_version_cmp(rq->pins[k].version, v->version) != 0)
				return false;
		for (size_t k = 0; k < v->n_depends; k++)
			if (!mb_holds(ch, v->depends[k]))
				return false;
		for (size_t k = 0; k < v->n_conflicts; k++)
			if (mb_holds(ch, v->conflicts[k]))
				return false;
	}
	return true;
}

/* The first index, in preference order, of a chosen candidate of req_str. */
static inline int mb_rank(const struct mb_choice *ch, const char *req_str)
{
	struct stitch_req *r;
	struct stitch_err err = STITCH_ERR_INIT;
	int rank = 0, best = INT_MAX;
	char seen[8][MB_VERS + 1];

	memset(seen, 0, sizeof(seen));
	if (stitch_req_parse(req_str, &r, &err) != 0)
		return INT_MAX;
	for (size_t a = 0; a < r->n_alts && best == INT_MAX; a++) {
		for (size_t i = 0; i < ch->idx->n_visible && best == INT_MAX; i++) {
			const struct stitch_pkg *p = ch->idx->visible[i];
			if (strcmp(p->name, r->alts[a].name) != 0)
				continue;
			for (size_t k = 0; k < p->n_versions; k++) {
				if (seen[i][k] || !stitch_vformula_eval(r->alts[a].formula,
				                                        p->versions[k].version))
					continue;
				seen[i][k] = 1;
				if (ch->pick[i] == (int)k) {
					best = rank;
					break;
				}
				rank++;
			}
		}
	}
	stitch_req_free(r);
	return best;
}

static inline int mb_cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct stitch_solve_installed *)a)->name,
	              ((const struct stitch_solve_installed *)b)->name);
}

/*
 * The objective of section 5 as a vector, smaller is better: for each
 * installed package (by name, unless upgrading) 0 when it keeps its
 * version or is left out, else 1; then each root's rank.
 */
static inline int mb_objective(const struct mb_choice *ch, const struct stitch_solve_request *rq,
                               int *out)
{
	struct stitch_solve_installed inst[4];
	int n = 0;

	memcpy(inst, rq->installed, rq->n_installed * sizeof(*inst));
	qsort(inst, rq->n_installed, sizeof(*inst), mb_cmp_names);
	for (size_t k = 0; k < rq->n_installed && !rq->upgrade; k++) {
		for (size_t i = 0; i < ch->idx->n_visible; i++) {
			const struct stitch_pkg *p = ch->idx->visible[i];
			if (strcmp(p->name, inst[k].name) != 0 ||
			    !stitch_pkg_find_version(p, inst[k].version))
				continue;
			out[n++] =
			    ch->pick[i] >= 0 && stitch_version_cmp(p->versions[ch->pick[i]].version,
			                                           inst[k].version) != 0;
		}
	}
	for (size_t r = 0; r < rq->n_roots; r++)
		out[n++] = mb_rank(ch, rq->roots[r]);
	return n;
}

/* Brute force: is there a solution, and the best objective (in best). */
static inline bool mb_brute(const struct stitch_index *idx, const struct stitch_solve_request *rq,
                            int *best, int *n_best)
{
	struct mb_choice ch = {.idx = idx};
	bool found = false;
	int obj[16];

	for (size_t i = 0; i < idx->n_visible; i++)
		ch.pick[i] = -1;
	for (;;) {
		if (mb_valid(&ch, rq)) {
			int n = mb_objective(&ch, rq, obj), c = 0;
			for (int k = 0; k < n && found && !c; k++)
				c = obj[k] < best[k] ? -1 : obj[k] > best[k];
			if (!found || c < 0) {
				memcpy(best, obj, (size_t)n * sizeof(int));
				*n_best = n;
			}
			found = true;
		}
		size_t i = 0;
		for (; i < idx->n_visible; i++) {
			if (++ch.pick[i] < (int)idx->visible[i]->n_versions)
				break;
			ch.pick[i] = -1;
		}
		if (i == idx->n_visible)
			break;
	}
	return found;
}

/* The solver's answer as a choice. */
static inline void mb_from_solution(const struct stitch_index *idx,
                                    const struct stitch_solution *sol, struct mb_choice *ch)
{
	ch->idx = idx;
	for (size_t i = 0; i < idx->n_visible; i++) {
		ch->pick[i] = -1;
		for (size_t k = 0; k < sol->n; k++)
			if (sol->chosen[k]->pkg == idx->visible[i])
				ch->pick[i] = (int)(sol->chosen[k] - idx->visible[i]->versions);
	}
}

#endif
