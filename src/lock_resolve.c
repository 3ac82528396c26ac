/*
 * A lock from the index and back: resolving a project into a lock, and
 * checking that the index still holds exactly what a lock names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "lock.h"
#include "plan.h"
#include "project.h"
#include "req.h"
#include "solve.h"
#include "state.h"
#include "tree.h"
#include "util.h"

/* First line of `tool --version`, or NULL. */
static char *tool_identity(const char *tool)
{
	char *argv[] = {(char *)tool, "--version", NULL};
	struct stitch_buf b = STITCH_BUF_INIT;
	char *s = NULL;

	if (stitch_run_capture(argv, &b, 4096) == 0 && b.len) {
		b.buf[strcspn(b.buf, "\n")] = '\0';
		s = xstrdup(b.buf);
	}
	stitch_buf_release(&b);
	return s;
}

char *stitch_lock_path(const struct stitch_project *p)
{
	return xasprintf("%s/stitch.lock", p->dir);
}

/* The project's requirements: its depends, then the target's platform. */
static const char **project_reqs(const struct stitch_project *p, const struct stitch_target *t,
                                 size_t *n)
{
	const char **reqs = xcalloc(p->n_depends + 2, sizeof(char *));

	bool have = false;

	for (size_t i = 0; i < p->n_depends; i++) {
		reqs[i] = p->depends[i];
		have |= strcmp(p->depends[i], t->platform_pkg) == 0;
	}
	*n = p->n_depends;
	if (!have)
		reqs[(*n)++] = t->platform_pkg;
	return reqs;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the chosen packages that v's depends are satisfied by, sorted. */
static char **depends_of(const struct stitch_version *v, const struct stitch_version *const *sol,
                         size_t n_sol, size_t *n_out)
{
	char **out = xcalloc(n_sol + 1, sizeof(char *));
	size_t n = 0;

	for (size_t k = 0; k < v->n_depends; k++) {
		struct stitch_req *r;
		if (stitch_req_parse(v->depends[k], &r, NULL) != 0)
			continue;
		for (size_t j = 0; j < n_sol; j++) {
			bool dup = false;
			if (sol[j] == v ||
			    !stitch_req_matches(r, sol[j]->pkg->name, sol[j]->version))
				continue;
			for (size_t d = 0; d < n; d++)
				dup |= strcmp(out[d], sol[j]->pkg->name) == 0;
			if (!dup)
				out[n++] = xstrdup(sol[j]->pkg->name);
		}
		stitch_req_free(r);
	}
	qsort(out, n, sizeof(char *), cmp_str);
	*n_out = n;
	return out;
}

/* A pin's path as the lock writes it: relative to the project when inside it. */
static char *pin_path_for_lock(const struct stitch_project *p, const char *path)
{
	size_t n = strlen(p->dir);

	if (strncmp(path, p->dir, n) == 0 && path[n] == '/')
		return xstrdup(path + n + 1);
	return xstrdup(path);
}

static int cmp_lock_pkg(const void *a, const void *b)
{
	return strcmp(((const struct stitch_lock_pkg *)a)->name,
	              ((const struct stitch_lock_pkg *)b)->name);
}

/* Keep what the lock (else the switch) has, as cargo and opam do. */
static struct stitch_solve_installed *preferred(const struct stitch_lock *prefer,
                                                const struct stitch_installed *inst, size_t n_inst,
                                                size_t *n_pref)
{
	struct stitch_solve_installed *pref =
	    xcalloc((prefer ? prefer->n_pkgs : 0) + n_inst + 1, sizeof(*pref));

	*n_pref = 0;
	if (prefer)
		for (size_t i = 0; i < prefer->n_pkgs; i++)
			pref[(*n_pref)++] = (struct stitch_solve_installed){
			    prefer->pkgs[i].name, prefer->pkgs[i].version};
	else
		for (size_t i = 0; i < n_inst; i++)
			pref[(*n_pref)++] =
			    (struct stitch_solve_installed){inst[i].name, inst[i].version};
	return pref;
}

/* A pinned package is locked by its tree hash (scanned now) and its path. */
static int lock_pin(struct stitch_state *st, const struct stitch_project *p,
                    const struct stitch_pin *pin, struct stitch_lock_pkg *lp,
                    struct stitch_err *err)
{
	struct stitch_tree_scan scan = {0};
	bool txn = stitch_state_begin(st, NULL) == 0;
	int rc;

	lp->pin_path = pin_path_for_lock(p, pin->path);
	if ((rc = stitch_tree_scan(st, pin->name, pin->path, &scan, err)) != 0) {
		if (txn)
			stitch_state_rollback(st, NULL);
		return rc;
	}
	if (txn)
		stitch_state_commit(st, NULL);
	lp->pin_tree = xstrdup(scan.tree_hash);
	stitch_tree_scan_release(&scan);
	return 0;
}

/* The repository of a locked release, once in out->repos. */
static void lock_repo(struct stitch_lock *out, const struct stitch_repo *repo)
{
	for (size_t k = 0; k < out->n_repos; k++)
		if (strcmp(out->repos[k].name, repo->name) == 0)
			return;
	out->repos[out->n_repos].name = xstrdup(repo->name);
	out->repos[out->n_repos++].sha256 = xstrdup(repo->content_sha256);
}

/* Add the chosen version v to the lock: a release, or a pin of this switch. */
static int lock_add_pkg(struct stitch_state *st, const struct stitch_project *p,
                        const struct stitch_version *v, const struct stitch_solution *sol,
                        const struct stitch_pin *pins, size_t n_pins, struct stitch_lock *out,
                        struct stitch_err *err)
{
	struct stitch_lock_pkg *lp = &out->pkgs[out->n_pkgs++];
	const struct stitch_pin *pin = NULL;
	char recipe[65];

	for (size_t k = 0; k < n_pins; k++)
		if (strcmp(pins[k].name, v->pkg->name) == 0)
			pin = &pins[k];
	stitch_recipe_hash(v, recipe);
	lp->name = xstrdup(v->pkg->name);
	lp->version = xstrdup(v->version);
	lp->recipe = xstrdup(recipe);
	lp->depends = depends_of(v, sol->chosen, sol->n, &lp->n_depends);
	if (pin)
		return lock_pin(st, p, pin, lp, err);
	lp->url = xstrdup(v->url);
	lp->sha256 = v->sha256 ? xstrdup(v->sha256) : NULL;
	lp->repository = xstrdup(v->pkg->repo->name);
	lock_repo(out, v->pkg->repo);
	return 0;
}

static void sort_repos(struct stitch_lock *l)
{
	for (size_t i = 1; i < l->n_repos; i++)
		for (size_t k = i; k > 0 && strcmp(l->repos[k - 1].name, l->repos[k].name) > 0;
		     k--) {
			struct stitch_lock_repo tmp = l->repos[k];
			l->repos[k] = l->repos[k - 1];
			l->repos[k - 1] = tmp;
		}
}

int stitch_lock_compute(const struct stitch_index *idx, struct stitch_state *st,
                        const struct stitch_project *p, const struct stitch_target *t,
                        const struct stitch_lock *prefer, bool upgrade, struct stitch_lock *out,
                        struct stitch_buf *why, struct stitch_err *err)
{
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_pin *pins = NULL;
	struct stitch_installed *inst = NULL;
	size_t n_pins = 0, n_inst = 0, n_reqs, n_pref;
	struct stitch_solve_pin *sp;
	struct stitch_solve_installed *pref;
	const char **reqs = project_reqs(p, t, &n_reqs);
	struct stitch_solve_request req;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (st) {
		stitch_state_pin_list(st, &pins, &n_pins, NULL);
		stitch_state_list_packages(st, &inst, &n_inst, NULL);
	}
	sp = xcalloc(n_pins + 1, sizeof(*sp));
	for (size_t i = 0; i < n_pins; i++)
		sp[i] = (struct stitch_solve_pin){pins[i].name, pins[i].version, pins[i].path};
	pref = preferred(prefer, inst, n_inst, &n_pref);
	req = (struct stitch_solve_request){n_reqs, reqs, n_pins, sp, n_pref, pref, upgrade};
	if ((rc = stitch_solve(idx, &req, &sol, why, err)) != 0)
		goto out;
	out->project = xstrdup(p->name);
	out->target = xstrdup(t->name);
	out->requires = xcalloc(n_reqs + 1, sizeof(char *));
	for (size_t i = 0; i < n_reqs; i++)
	out->requires[out->n_requires++] = xstrdup(reqs[i]);
	out->cc = tool_identity("cc");
	out->ld = tool_identity("ld");
	out->pkgs = xcalloc(sol.n + 1, sizeof(*out->pkgs));
	out->repos = xcalloc(sol.n + 1, sizeof(*out->repos));
	for (size_t i = 0; i < sol.n && rc == 0; i++)
		rc = lock_add_pkg(st, p, sol.chosen[i], &sol, pins, n_pins, out, err);
	if (rc)
		goto out;
	qsort(out->pkgs, out->n_pkgs, sizeof(*out->pkgs), cmp_lock_pkg);
	sort_repos(out);
out:
	if (rc)
		stitch_lock_release(out);
	stitch_solution_release(&sol);
	stitch_pins_free(pins, n_pins);
	stitch_installed_free(inst, n_inst);
	free(sp);
	free(pref);
	free(reqs);
	return rc;
}

/* The lock must be for this project as it is now. */
static int check_lock_current(const struct stitch_lock *l, const struct stitch_target *t,
                              const char **reqs, size_t n_reqs, const char *path,
                              struct stitch_err *err)
{
	bool same = l->n_requires == n_reqs;

	if (strcmp(l->target, t->name) != 0)
		return stitch_error(err, STITCH_E_CONFLICT,
		                    "%s is for target '%s', not '%s'; run 'stitch lock'", path,
		                    l->target, t->name);
	for (size_t i = 0; same && i < n_reqs; i++)
		same = strcmp(l->requires[i], reqs[i]) == 0;
	if (!same)
		return stitch_error(
		    err, STITCH_E_CONFLICT,
		    "%s is stale: unikernel.json's depends changed since it was written; "
		    "run 'stitch lock'",
		    path);
	return 0;
}

/* A locked release must still be in the index with the same checksum and recipe. */
static int check_locked_release(const struct stitch_lock_pkg *lp, const struct stitch_version *ver,
                                const char *path, struct stitch_err *err)
{
	char recipe[65];

	if (!ver->sha256 || !lp->sha256 || strcmp(ver->sha256, lp->sha256) != 0)
		return stitch_error(err, STITCH_E_CHECKSUM,
		                    "%s: %s %s: checksum differs: the lock has %s, "
		                    "repository '%s' has %s",
		                    path, lp->name, lp->version, lp->sha256 ? lp->sha256 : "none",
		                    ver->pkg->repo->name, ver->sha256 ? ver->sha256 : "none");
	stitch_recipe_hash(ver, recipe);
	if (strcmp(recipe, lp->recipe) != 0)
		return stitch_error(err, STITCH_E_CONFLICT,
		                    "%s: %s %s: its recipe (build or install commands) in "
		                    "repository '%s' differs from the locked one",
		                    path, lp->name, lp->version, ver->pkg->repo->name);
	return 0;
}

/* The index's version for a locked package, or an error saying why it cannot be used. */
static int locked_version(const struct stitch_index *idx, const struct stitch_lock_pkg *lp,
                          const struct stitch_pin *pins, size_t n_pins, bool allow_pins,
                          const char *path, const struct stitch_version **out,
                          struct stitch_err *err)
{
	const struct stitch_pkg *pkg = stitch_index_find(idx, lp->name);
	const struct stitch_version *ver = pkg ? stitch_pkg_find_version(pkg, lp->version) : NULL;
	bool pinned = false;
	int rc;

	for (size_t k = 0; k < n_pins; k++)
		pinned |= strcmp(pins[k].name, lp->name) == 0;
	if (lp->pin_path && !allow_pins)
		return stitch_error(err, STITCH_E_CONFLICT,
		                    "%s: %s %s is locked as a path pin (%s); a locked build "
		                    "uses releases only (re-lock without the pin, or pass "
		                    "--allow-pins)",
		                    path, lp->name, lp->version, lp->pin_path);
	if (lp->pin_path && !pinned)
		return stitch_error(err, STITCH_E_CONFLICT,
		                    "%s: %s %s is locked as a pin of %s, but this switch has "
		                    "no such pin; run 'stitch pin add %s %s'",
		                    path, lp->name, lp->version, lp->pin_path, lp->name,
		                    lp->pin_path);
	if (!ver) {
		struct stitch_buf have = STITCH_BUF_INIT;
		for (size_t k = 0; pkg && k < pkg->n_versions && k < 8; k++)
			stitch_buf_addf(&have, "%s%s", k ? ", " : "", pkg->versions[k].version);
		rc = stitch_error(err, STITCH_E_NOTFOUND,
		                  "%s: %s %s is not in any repository (%s%s)", path, lp->name,
		                  lp->version, pkg ? "they have " : "no package of that name",
		                  have.buf);
		stitch_buf_release(&have);
		return rc;
	}
	if (!lp->pin_path && !pinned && (rc = check_locked_release(lp, ver, path, err)) != 0)
		return rc;
	*out = ver;
	return 0;
}

/* Whole: every requirement of the project and of each package is locked. */
static int check_lock_whole(const struct stitch_lock *l, const struct stitch_version **v,
                            const char **reqs, size_t n_reqs, const char *path,
                            struct stitch_err *err)
{
	for (size_t i = 0; i <= l->n_pkgs; i++) {
		size_t nd = i < l->n_pkgs ? v[i]->n_depends : n_reqs;
		for (size_t k = 0; k < nd; k++) {
			const char *rs = i < l->n_pkgs ? v[i]->depends[k] : reqs[k];
			struct stitch_req *r;
			bool ok = false;
			if (stitch_req_parse(rs, &r, NULL) != 0)
				continue;
			for (size_t j = 0; j < l->n_pkgs && !ok; j++)
				ok = stitch_req_matches(r, v[j]->pkg->name, v[j]->version);
			stitch_req_free(r);
			if (!ok)
				return stitch_error(
				    err, STITCH_E_CONFLICT,
				    "%s: %s needs '%s', which no locked package satisfies; "
				    "run 'stitch lock'",
				    path, i < l->n_pkgs ? v[i]->pkg->name : "the project", rs);
		}
	}
	return 0;
}

int stitch_lock_versions(const struct stitch_index *idx, struct stitch_state *st,
                         const struct stitch_project *p, const struct stitch_target *t,
                         const struct stitch_lock *l, bool allow_pins,
                         const struct stitch_version ***out, size_t *n_out, struct stitch_err *err)
{
	const struct stitch_version **v = xcalloc(l->n_pkgs + 1, sizeof(*v));
	const char *path = "stitch.lock";
	struct stitch_pin *pins = NULL;
	size_t n_pins = 0, n_reqs;
	const char **reqs = project_reqs(p, t, &n_reqs);
	int rc;

	*out = NULL;
	*n_out = 0;
	if ((rc = check_lock_current(l, t, reqs, n_reqs, path, err)) != 0)
		goto out;
	if (st)
		stitch_state_pin_list(st, &pins, &n_pins, NULL);
	if (n_pins > 0 && !allow_pins) {
		rc = stitch_error(err, STITCH_E_CONFLICT,
		                  "%s is pinned to %s; a locked build uses the locked releases "
		                  "(run 'stitch pin remove %s', or pass --allow-pins)",
		                  pins[0].name, pins[0].path, pins[0].name);
		goto out;
	}
	for (size_t i = 0; i < l->n_pkgs && rc == 0; i++)
		rc = locked_version(idx, &l->pkgs[i], pins, n_pins, allow_pins, path, &v[i], err);
	if (rc == 0)
		rc = check_lock_whole(l, v, reqs, n_reqs, path, err);
	if (rc == 0) {
		*out = v;
		*n_out = l->n_pkgs;
		v = NULL;
	}
out:
	free(v);
	free(reqs);
	stitch_pins_free(pins, n_pins);
	return rc;
}
