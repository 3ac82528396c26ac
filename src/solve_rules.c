/*
 * Making the resolver's clauses from the index (see solve_rules.h): a
 * package's variables when the search first touches it, and a version's
 * requirements as aux variables and their clauses when it is expanded.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "solve_pool.h"
#include "solve_rules.h"
#include "solve_store.h"
#include "solve_types.h"
#include "util.h"
#include "version.h"

/* ----------------------------- names no repository has (struct htab) */

static uint64_t hash_str(const char *s, int extra)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(unsigned)extra;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

/* The slot for (key, extra): either holding it or empty (key NULL). */
static struct htab_ent *htab_slot(struct htab *t, const char *key, int extra, uint64_t h)
{
	size_t mask = t->cap - 1, i = (size_t)h & mask;

	for (;; i = (i + 1) & mask) {
		struct htab_ent *e = &t->e[i];
		if (!e->key || (e->hash == h && e->extra == extra &&
		                (e->key == key || strcmp(e->key, key) == 0)))
			return e;
	}
}

static int htab_get(struct htab *t, const char *key, int extra)
{
	struct htab_ent *e;

	if (!t->cap)
		return -1;
	e = htab_slot(t, key, extra, hash_str(key, extra));
	return e->key ? e->val : -1;
}

static void htab_put(struct htab *t, const char *key, int extra, int val)
{
	uint64_t h = hash_str(key, extra);
	struct htab_ent *e;

	if ((t->n + 1) * 2 > t->cap) {
		struct htab old = *t;
		t->cap = old.cap ? old.cap * 2 : 64;
		t->e = xcalloc(t->cap, sizeof(*t->e));
		t->n = 0;
		for (size_t i = 0; i < old.cap; i++) {
			if (old.e[i].key) {
				*htab_slot(t, old.e[i].key, old.e[i].extra, old.e[i].hash) =
				    old.e[i];
				t->n++;
			}
		}
		free(old.e);
	}
	e = htab_slot(t, key, extra, h);
	if (!e->key)
		t->n++;
	e->hash = h;
	e->key = key;
	e->extra = extra;
	e->val = val;
}

int solve_find_pkg(struct solver *s, const char *name)
{
	int vis = solve_vis_lookup(s, name);

	if (vis < 0)
		return htab_get(&s->names, name, 0);
	return s->vis_pkg ? s->vis_pkg[vis] : -1;
}

/* ------------------------------------------------------------- packages */

/*
 * The spkg of visible package vis (or, when vis < 0, of name, which no
 * repository has), creating its variables on first use.
 */
static int touch_pkg(struct solver *s, int vis, const char *name)
{
	int id;
	struct spkg *p;

	if (!s->vis_pkg) {
		s->vis_pkg = xmalloc((s->idx->n_visible + 1) * sizeof(int));
		memset(s->vis_pkg, 0xff, (s->idx->n_visible + 1) * sizeof(int));
	}
	id = vis >= 0 ? s->vis_pkg[vis] : htab_get(&s->names, name, 0);
	if (id >= 0)
		return id;
	id = (int)s->n_pkgs;
	XGROW(s->pkgs, s->cap_pkgs, s->n_pkgs + 1);
	p = &s->pkgs[id];
	p->pkg = vis >= 0 ? s->idx->visible[vis] : NULL;
	/* A name no repository has is kept: it may come from a parse freed since. */
	p->name = p->pkg ? p->pkg->name : xstrdup(name);
	p->n = p->pkg ? (int)p->pkg->n_versions : 0;
	p->var0 = (int)s->n_vars;
	p->pin = p->pin_no = p->inst = p->keep = p->key_off = -1;
	p->ranges = (struct ivec){0};
	p->auxs = (struct ivec){0};
	p->incoming = (struct ivec){0};
	p->dirty = false;
	p->root = false;
	p->rmask = ~(uint64_t)0;
	p->rmask_ok = true;
	/* Packages the ranking did not reach come last, in order of touch. */
	p->rank = vis >= 0 && s->vrank && s->vrank[vis] >= 0 ? s->vrank[vis]
	                                                     : (int)s->idx->n_visible + id;
	s->n_pkgs++;
	if (vis >= 0)
		s->vis_pkg[vis] = id;
	else
		htab_put(&s->names, p->name, 0, id);
	solve_new_vars(s, p->n, SVAR_VERSION, id);
	/* Its open versions (not false), kept by enqueue and backjump. */
	size_t w = nwords(p);
	p->open_off = (int)s->n_bits;
	p->n_true = 0;
	XGROW(s->bits, s->cap_bits, s->n_bits + w + 1);
	memset(s->bits + s->n_bits, 0, w * sizeof(uint64_t));
	for (int i = 0; i < p->n; i++)
		bit_set(s->bits + s->n_bits, i);
	s->n_bits += w;
	return id;
}

int solve_touch(struct solver *s, const char *name)
{
	return touch_pkg(s, solve_vis_lookup(s, name), name);
}

/*
 * p's version strings and sort keys (stitch_version_key), as arrays at
 * p->key_off in s->vstrs and s->vkeys, made on first use.
 */
static int pkg_versions(struct solver *s, struct spkg *p)
{
	if (p->key_off < 0) {
		p->key_off = (int)s->n_vkeys;
		XGROW(s->vkeys, s->cap_vkeys, s->n_vkeys + (size_t)p->n);
		XGROW(s->vstrs, s->cap_vstrs, s->n_vkeys + (size_t)p->n);
		for (int i = 0; i < p->n; i++) {
			s->vstrs[s->n_vkeys] = p->pkg->versions[i].version;
			s->vkeys[s->n_vkeys++] = stitch_version_key(p->pkg->versions[i].version);
		}
	}
	return p->key_off;
}

static void cut_of(struct solver *s, struct spkg *p, struct scut *c)
{
	int k = pkg_versions(s, p);

	stitch_version_cut(s->vstrs + k, s->vkeys + k, p->n, c->node->version,
	                   stitch_version_key(c->node->version), &c->lo, &c->hi);
}

/* The comparisons of f, with their cuts among p's versions, into s->cuts. */
static void collect_cuts(struct solver *s, struct spkg *p, const struct stitch_vformula *f)
{
	for (; f; f = f->kind == STITCH_VF_NOT ? NULL : f->right) {
		if (f->kind == STITCH_VF_CMP) {
			XGROW(s->cuts, s->cap_cuts, s->n_cuts + 1);
			s->cuts[s->n_cuts].node = f;
			cut_of(s, p, &s->cuts[s->n_cuts++]);
			return;
		}
		collect_cuts(s, p, f->left);
	}
}

/* stitch_vformula_eval for version i, with the cuts in s->cuts. */
static bool holds(const struct solver *s, const struct stitch_vformula *f, int i)
{
	while (f) {
		switch (f->kind) {
		case STITCH_VF_CMP:
			for (size_t k = 0; k < s->n_cuts; k++) {
				const struct scut *c = &s->cuts[k];
				if (c->node == f)
					return stitch_op_holds(f->op, i < c->lo   ? 1
					                              : i < c->hi ? 0
					                                          : -1);
			}
			return false;
		case STITCH_VF_NOT:
			return !holds(s, f->left, i);
		case STITCH_VF_AND:
			if (!holds(s, f->left, i))
				return false;
			break;
		case STITCH_VF_OR:
			if (holds(s, f->left, i))
				return true;
			break;
		}
		f = f->right;
	}
	return true;
}

void solve_req_candidates(struct solver *s, const struct stitch_req *r, struct ivec *out)
{
	size_t start = out->n;

	for (size_t a = 0; a < r->n_alts; a++) {
		int pid = solve_touch(s, r->alts[a].name);
		struct spkg *p = &s->pkgs[pid];
		const struct stitch_vformula *f = r->alts[a].formula;
		if (p->n <= 64) {
			int k = p->n ? pkg_versions(s, p) : 0;
			uint64_t m =
			    p->n ? stitch_vformula_mask(f, s->vstrs + k, s->vkeys + k, p->n) : 0;
			for (; m; m &= m - 1) {
				int var = p->var0 + __builtin_ctzll(m);
				if (!s->mark[var]) {
					s->mark[var] = 1;
					ivec_push(out, LIT(var, 0));
				}
			}
			continue;
		}
		s->n_cuts = 0;
		collect_cuts(s, p, f);
		for (int i = 0; i < p->n; i++) {
			int var = p->var0 + i;
			if (s->mark[var] || !holds(s, f, i))
				continue;
			s->mark[var] = 1;
			ivec_push(out, LIT(var, 0));
		}
	}
	for (size_t i = start; i < out->n; i++)
		s->mark[LIT_VAR(out->a[i])] = 0;
}

/*
 * Is str in list?  A repository keeps one copy of each string (index.h),
 * and a package's versions all come from one repository, so for a loaded
 * index comparing pointers is enough (interned); an index built by hand
 * is compared by content.
 */
static bool has_string(const char *const *list, size_t n, const char *str, bool interned)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == str)
			return true;
	for (size_t i = 0; i < n && !interned; i++)
		if (list[i][0] == str[0] && strcmp(list[i], str) == 0)
			return true;
	return false;
}

/* members for make_aux when the index did not compile them: look then. */
#define MEMBERS_UNKNOWN (~(uint64_t)0)

void solve_aux_members(const struct solver *s, int aux, char *set)
{
	const struct saux *a = &s->auxs[aux];
	const struct spkg *p = &s->pkgs[a->pkg];

	for (int i = 0; i < p->n; i++) {
		const struct stitch_version *v = &p->pkg->versions[i];
		set[i] =
		    a->kind == AUX_DEP
		        ? has_string(v->depends, v->n_depends, a->str, p->pkg->repo != NULL)
		        : has_string(v->conflicts, v->n_conflicts, a->str, p->pkg->repo != NULL);
	}
}

/*
 * Can the requirement the repository of package pid compiled at alt
 * (stitch_version.reqs) be used?  Not when a package it names is hidden
 * by another repository: it is parsed then.
 */
static bool compiled_usable(struct solver *s, int pid, uint32_t alt)
{
	const struct stitch_repo *repo = s->pkgs[pid].pkg->repo;
	const int *vis = alt == STITCH_REQ_NONE ? NULL : solve_repo_vis(s, repo);

	for (const struct stitch_req_alt *a = vis ? repo->req_alts + alt : NULL; a; a++) {
		if (vis[a->pkg] < 0)
			return false;
		if (a->last)
			return true;
	}
	return false;
}

/* req_candidates for that compiled requirement, without parsing it. */
static void compiled_candidates(struct solver *s, int pid, uint32_t alt, struct ivec *out)
{
	const struct stitch_repo *repo = s->pkgs[pid].pkg->repo;
	const int *vis = solve_repo_vis(s, repo);
	size_t start = out->n;

	for (const struct stitch_req_alt *a = repo->req_alts + alt;; a++) {
		int pid_a = touch_pkg(s, vis[a->pkg], NULL);
		const struct spkg *p = &s->pkgs[pid_a];
		for (uint64_t m = a->mask; m; m &= m - 1) {
			int var = p->var0 + __builtin_ctzll(m);
			if (!s->mark[var]) {
				s->mark[var] = 1;
				ivec_push(out, LIT(var, 0));
			}
		}
		if (a->last)
			break;
	}
	for (size_t i = start; i < out->n; i++)
		s->mark[LIT_VAR(out->a[i])] = 0;
}

static void note_conflict(int c, int *first)
{
	if (c >= 0 && *first < 0)
		*first = c;
}

void solve_aux_member(struct solver *s, int pid, int i, int id, int *confl)
{
	note_conflict(solve_add_clause2(s, LIT(s->pkgs[pid].var0 + i, 1), LIT(s->auxs[id].var, 0),
	                                CL_AUXBIN, id, NULL),
	              confl);
}

/*
 * Aux id is a range on package pid (saux.single): listed there, and given
 * a cleared version mask in s->bits, returned for the caller to fill.
 */
static uint64_t *add_range(struct solver *s, int id, int pid)
{
	size_t w = nwords(&s->pkgs[pid]);
	struct saux *a = &s->auxs[id];

	a->single = pid;
	a->mask_off = (int)s->n_bits;
	solve_list_push(s, &s->pkgs[pid].ranges, id);
	mark_dirty(s, pid);
	XGROW(s->bits, s->cap_bits, s->n_bits + w);
	memset(s->bits + s->n_bits, 0, w * sizeof(uint64_t));
	s->n_bits += w;
	return s->bits + a->mask_off;
}

/* The CL_DEP clause of aux id, from s->tmp: not aux, or a candidate. */
static void dep_clause(struct solver *s, int id, int *confl)
{
	int cl;

	note_conflict(solve_add_clause(s, s->tmp.a, (int)s->tmp.n, CL_DEP, id, &cl), confl);
	s->auxs[id].dep_cl = cl;
}

/*
 * make_aux for the common dependency: one compiled range on one package,
 * matching some of its versions.  Its candidates, key, range and mask come
 * straight from the compiled mask, not from each candidate's variable.
 * Returns false, having done nothing, for any other.
 */
static bool range_aux(struct solver *s, int id, uint32_t compiled, int *confl)
{
	const struct stitch_repo *repo = s->pkgs[s->auxs[id].pkg].pkg->repo;
	const struct stitch_req_alt *alt = repo->req_alts + compiled;
	uint64_t m = alt->mask;
	struct saux *a;
	struct spkg *c;
	int cp;

	if (!alt->last || !m)
		return false;
	cp = touch_pkg(s, solve_repo_vis(s, repo)[alt->pkg], NULL);
	c = &s->pkgs[cp];
	a = &s->auxs[id];
	s->tmp.n = 0;
	ivec_push(&s->tmp, LIT(a->var, 1));
	XGROW(s->pool.a, s->pool.cap, s->pool.n + 64);
	a->cand_off = (int)s->pool.n;
	for (; m; m &= m - 1) {
		int lit = LIT(c->var0 + __builtin_ctzll(m), 0);
		s->pool.a[s->pool.n++] = lit;
		ivec_push(&s->tmp, lit);
	}
	a->n_cand = (int)s->tmp.n - 1;
	a->key = c->rank;
	solve_list_push(s, &c->incoming, id);
	*add_range(s, id, cp) = alt->mask;
	dep_clause(s, id, confl);
	return true;
}

/*
 * "A version with this requirement implies aux id", for each version of
 * pid that has it (members, or MEMBERS_UNKNOWN when the index did not
 * compile them: looked up then, as a set of bits up to 64 versions, so
 * that both ways search alike; past that, each clause now).  The expanded
 * version self gets its clause now, the others when they are needed (see
 * saux.lazy).
 */
static void aux_implied_by(struct solver *s, int pid, int id, uint64_t members, int self,
                           int *confl)
{
	const struct saux *a = &s->auxs[id];

	if (members == MEMBERS_UNKNOWN) {
		bool interned = s->pkgs[pid].pkg->repo != NULL;
		members = 0;
		for (int i = 0; i < s->pkgs[pid].n; i++) {
			const struct stitch_version *v = &s->pkgs[pid].pkg->versions[i];
			if (!(a->kind == AUX_DEP
			          ? has_string(v->depends, v->n_depends, a->str, interned)
			          : has_string(v->conflicts, v->n_conflicts, a->str, interned)))
				continue;
			if (s->pkgs[pid].n > 64)
				solve_aux_member(s, pid, i, id, confl);
			else
				members |= (uint64_t)1 << i;
		}
	}
	/* Only bits of its versions, whatever the compiled cache holds. */
	if (s->pkgs[pid].n <= 64) {
		if (s->pkgs[pid].n < 64)
			members &= ((uint64_t)1 << s->pkgs[pid].n) - 1;
		if (members >> self & 1)
			solve_aux_member(s, pid, self, id, confl);
		s->auxs[id].lazy = members & ~((uint64_t)1 << self);
	}
}

/*
 * The candidates of aux id into s->pool (saux.cand_off, n_cand), from the
 * parsed requirement r, or when r is NULL from the compiled one; they are
 * left in s->tmp too, after "not aux".
 */
static void aux_candidates(struct solver *s, int id, struct stitch_req *r, uint32_t compiled)
{
	struct saux *a;

	s->tmp.n = 0;
	ivec_push(&s->tmp, LIT(s->auxs[id].var, 1));
	if (r)
		solve_req_candidates(s, r, &s->tmp);
	else
		compiled_candidates(s, s->auxs[id].pkg, compiled, &s->tmp);
	a = &s->auxs[id];
	a->cand_off = (int)s->pool.n;
	a->n_cand = (int)s->tmp.n - 1;
	XGROW(s->pool.a, s->pool.cap, s->pool.n + s->tmp.n);
	memcpy(s->pool.a + s->pool.n, s->tmp.a + 1, (s->tmp.n - 1) * sizeof(int));
	s->pool.n += s->tmp.n - 1;
}

/*
 * A dependency's candidates are known (aux_candidates): its key, the
 * packages it reaches, its range when they are all one package's, and its
 * CL_DEP clause.
 */
static void dep_aux_clauses(struct solver *s, int id, int *confl)
{
	struct saux *a = &s->auxs[id];
	int one = a->n_cand ? s->vars[LIT_VAR(s->tmp.a[1])].pkg : -1;

	a->key = INT_MAX;
	/* Candidates come package by package: look at each package once. */
	for (int i = 0, last = -1; i < a->n_cand; i++) {
		int cpid = s->vars[LIT_VAR(s->tmp.a[i + 1])].pkg;
		if (cpid == last)
			continue;
		struct spkg *cp = &s->pkgs[cpid];
		last = cpid;
		if (cpid != one)
			one = -1;
		if (cp->rank < a->key)
			a->key = cp->rank;
		if (!cp->incoming.n || cp->incoming.a[cp->incoming.n - 1] != id)
			solve_list_push(s, &cp->incoming, id);
	}
	a->single = -1;
	if (one >= 0) {
		uint64_t *mask = add_range(s, id, one);
		for (int i = 0; i < a->n_cand; i++)
			bit_set(mask, LIT_VAR(s->tmp.a[i + 1]) - s->pkgs[one].var0);
	}
	dep_clause(s, id, confl);
}

/* A conflict's candidates are known: "not aux or not that version", each. */
static void conf_aux_clauses(struct solver *s, int id, int *confl)
{
	const struct saux *a = &s->auxs[id];
	int lits[2];

	s->auxs[id].single = -1;
	for (int i = 0; i < a->n_cand; i++) {
		lits[0] = LIT(a->var, 1);
		lits[1] = s->pool.a[a->cand_off + i] ^ 1;
		note_conflict(solve_add_clause(s, lits, 2, CL_CONF, id, NULL), confl);
	}
}

/*
 * Create aux(pkg, kind, str) with its clauses (see solve_expand()); compiled is
 * str's compiled form (stitch_version.reqs), or STITCH_REQ_NONE, and
 * members the versions that have it (stitch_version.req_members), or
 * MEMBERS_UNKNOWN.
 */
static int make_aux(struct solver *s, int pid, int kind, const char *str, uint32_t compiled,
                    uint64_t members, int self, int *confl)
{
	struct stitch_req *r = NULL;
	int id, var;

	if (!compiled_usable(s, pid, compiled) && stitch_req_parse(str, &r, s->err) != 0) {
		const struct spkg *p = &s->pkgs[pid];
		s->fail = stitch_error_wrap(s->err, "package '%s': %s", p->name,
		                            kind == AUX_DEP ? "depends" : "conflicts");
		s->err->code = STITCH_E_INDEX;
		s->fail = STITCH_E_INDEX;
		return -1;
	}
	id = (int)s->n_auxs;
	var = solve_new_var(s, SVAR_AUX, pid, id);
	BIG_GROW(s, s->auxs, s->cap_auxs, s->n_auxs + 1);
	s->auxs[id] = (struct saux){.pkg = pid, .kind = kind, .var = var, .str = str};
	s->n_auxs++;
	solve_list_push(s, &s->pkgs[pid].auxs, id);
	aux_implied_by(s, pid, id, members, self, confl);

	if (!r && kind == AUX_DEP)
		if (range_aux(s, id, compiled, confl))
			return id;
	aux_candidates(s, id, r, compiled);
	/* Explanations parse it again: few are needed, and memory costs. */
	stitch_req_free(r);
	if (kind == AUX_DEP)
		dep_aux_clauses(s, id, confl);
	else
		conf_aux_clauses(s, id, confl);
	return id;
}

/*
 * A package has a few auxs: a list by package is cheaper than a table over
 * all of them, and a requirement string that several versions share is
 * mostly the same pointer.
 */
int solve_find_aux(const struct solver *s, int pid, int kind, const char *str)
{
	const struct ivec *l = &s->pkgs[pid].auxs;

	for (size_t i = 0; i < l->n; i++) {
		const struct saux *a = &s->auxs[l->a[i]];
		if (a->str == str && a->kind == kind)
			return l->a[i];
	}
	if (s->pkgs[pid].pkg->repo)
		return -1; /* interned: see has_string */
	for (size_t i = 0; i < l->n; i++) {
		const struct saux *a = &s->auxs[l->a[i]];
		if (a->kind == kind && strcmp(a->str, str) == 0)
			return l->a[i];
	}
	return -1;
}

int solve_expand(struct solver *s, int var)
{
	/* (not a pointer to it: making auxs may move the variables) */
	int pid = s->vars[var].pkg, self = s->vars[var].idx, confl = -1;
	const struct stitch_version *v = &s->pkgs[pid].pkg->versions[self];

	s->vars[var].expanded = true;
	s->tmp2.n = 0;
	for (size_t i = 0; i < v->n_depends + v->n_conflicts && !s->fail; i++) {
		bool dep = i < v->n_depends;
		const char *str = dep ? v->depends[i] : v->conflicts[i - v->n_depends];
		int kind = dep ? AUX_DEP : AUX_CONF;
		int id = solve_find_aux(s, pid, kind, str);
		if (id < 0) {
			id = make_aux(s, pid, kind, str, v->reqs ? v->reqs[i] : STITCH_REQ_NONE,
			              v->req_members && s->pkgs[pid].n <= 64 ? v->req_members[i]
			                                                     : MEMBERS_UNKNOWN,
			              self, &confl);
		} else if (self < 64 && (s->auxs[id].lazy >> self & 1)) {
			s->auxs[id].lazy &= ~((uint64_t)1 << self);
			solve_aux_member(s, pid, self, id, &confl);
		}
		if (id >= 0 && dep)
			ivec_push(&s->tmp2, id);
	}
	/* make_aux grows the pool: the list goes in after. */
	s->vars[var].dep_off = (int)s->pool.n;
	s->vars[var].n_dep = (int)s->tmp2.n;
	for (size_t i = 0; i < s->tmp2.n; i++)
		ivec_push(&s->pool, s->tmp2.a[i]);
	return confl;
}
