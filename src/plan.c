/*
 * The plan as a value: see plan.h.  Nothing here reads a file, starts a
 * process or asks the network; what needs those (scanning a pin's tree,
 * hashing a local source, asking the artifact cache) comes in through
 * struct stitch_plan_in.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifact.h"
#include "req.h"
#include "util.h"
#include "version.h"

static struct stitch_cause cause(enum stitch_cause_kind kind, const char *subject, size_t count)
{
	struct stitch_cause c = {kind, subject, count, NULL};
	return c;
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct stitch_plan_item *)a)->name,
	              ((const struct stitch_plan_item *)b)->name);
}

static int cmp_key(const void *key, const void *item)
{
	return strcmp(key, ((const struct stitch_plan_item *)item)->name);
}

struct stitch_plan_item *stitch_plan_find(const struct stitch_plan *p, const char *name)
{
	if (!p->n)
		return NULL;
	return bsearch(name, p->items, p->n, sizeof(*p->items), cmp_key);
}

static const struct stitch_installed *find_inst(const struct stitch_installed *v, size_t n,
                                                const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static void hash_cmds(struct stitch_buf *b, const char *what, const struct stitch_cmdlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		stitch_buf_addf(b, "%s", what);
		for (size_t k = 0; k < l->cmds[i].argc; k++)
			stitch_buf_addf(b, " %zu:%s", strlen(l->cmds[i].argv[k]),
			                l->cmds[i].argv[k]);
		stitch_buf_addch(b, '\n');
	}
}

void stitch_recipe_hash(const struct stitch_version *v, char out[65])
{
	struct stitch_buf b = STITCH_BUF_INIT;

	hash_cmds(&b, "build", &v->build);
	hash_cmds(&b, "install", &v->install);
	stitch_sha256_hex(b.buf, b.len, out);
	stitch_buf_release(&b);
}

/* Edges: each requirement's alternatives that name a chosen package it accepts. */
static int link_deps(struct stitch_plan *p, struct stitch_err *err)
{
	for (size_t i = 0; i < p->n; i++) {
		struct stitch_plan_item *it = &p->items[i];
		size_t cap = 0;
		for (size_t k = 0; k < it->v->n_depends; k++) {
			struct stitch_req *r;
			if (stitch_req_parse(it->v->depends[k], &r, err) != 0)
				return err->code;
			for (size_t a = 0; a < r->n_alts; a++) {
				struct stitch_plan_item *dep = stitch_plan_find(p, r->alts[a].name);
				size_t j = dep ? (size_t)(dep - p->items) : 0;
				bool dup = false;
				if (!dep || j == i ||
				    !stitch_vformula_eval(r->alts[a].formula, dep->version))
					continue;
				for (size_t d = 0; d < it->n_deps; d++)
					dup |= it->deps[d] == j;
				if (dup)
					continue;
				XGROW(it->deps, cap, it->n_deps + 1);
				it->deps[it->n_deps++] = j;
			}
			stitch_req_free(r);
		}
		/* By name, so that build inputs list dependencies in one order. */
		for (size_t a = 1; a < it->n_deps; a++)
			for (size_t b = a; b > 0 && it->deps[b - 1] > it->deps[b]; b--) {
				size_t t = it->deps[b];
				it->deps[b] = it->deps[b - 1];
				it->deps[b - 1] = t;
			}
	}
	return 0;
}

struct topo {
	struct stitch_plan *p;
	char *mark; /* 0 new, 1 on the current path, 2 placed */
	size_t *path; /* the current path, to name a cycle */
	size_t n_path, n_order;
};

static int visit(struct topo *t, size_t i, struct stitch_err *err)
{
	struct stitch_plan_item *it = &t->p->items[i];

	if (t->mark[i] == 2)
		return 0;
	if (t->mark[i] == 1) {
		struct stitch_buf b = STITCH_BUF_INIT;
		size_t k = t->n_path;
		while (k > 0 && t->path[k - 1] != i)
			k--;
		for (k = k ? k - 1 : 0; k < t->n_path; k++)
			stitch_buf_addf(&b, "%s -> ", t->p->items[t->path[k]].name);
		stitch_buf_adds(&b, it->name);
		stitch_error(err, STITCH_E_CONFLICT, "dependency cycle: %s", b.buf);
		stitch_error_cause(err, "hint: one of these packages must stop depending on the "
		                        "next; nothing in a cycle can be built first");
		stitch_buf_release(&b);
		return STITCH_E_CONFLICT;
	}
	t->mark[i] = 1;
	t->path[t->n_path++] = i;
	for (size_t d = 0; d < it->n_deps; d++)
		if (visit(t, it->deps[d], err) != 0)
			return err->code;
	t->n_path--;
	t->mark[i] = 2;
	t->p->order[t->n_order++] = i;
	return 0;
}

static int sort_topo(struct stitch_plan *p, struct stitch_err *err)
{
	struct topo t = {p, xcalloc(p->n + 1, 1), xcalloc(p->n + 1, sizeof(size_t)), 0, 0};
	int rc = 0;

	p->order = xcalloc(p->n + 1, sizeof(size_t));
	for (size_t i = 0; i < p->n && rc == 0; i++)
		rc = visit(&t, i, err);
	free(t.mark);
	free(t.path);
	return rc;
}

static void mark_requested(struct stitch_plan *p, const char *const *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct stitch_req *r;
		if (stitch_req_parse(reqs[i], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts; a++) {
			struct stitch_plan_item *it = stitch_plan_find(p, r->alts[a].name);
			if (it)
				it->requested = true;
		}
		stitch_req_free(r);
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->items[i].inst && p->items[i].inst->requested)
			p->items[i].requested = true;
}

void stitch_plan_inputs(const struct stitch_plan *p, size_t i, const char **names,
                        const char **ifaces, struct stitch_build_inputs *in)
{
	const struct stitch_plan_item *it = &p->items[i];

	for (size_t d = 0; d < it->n_deps; d++) {
		names[d] = p->items[it->deps[d]].name;
		ifaces[d] = p->items[it->deps[d]].interface_hash;
	}
	*in = (struct stitch_build_inputs){it->name,   it->version, it->source_sha256,
	                                   p->target,  p->cc_id,    it->recipe,
	                                   it->n_deps, names,       ifaces};
}

/*
 * The build hash of item i; when assume_installed, a dependency whose
 * interface is not known yet counts with its installed one (the hash the
 * item keeps if that dependency's interface does not change).  False when
 * an input is unknown.
 */
static bool hash_of(const struct stitch_plan *p, size_t i, bool assume_installed, char out[65])
{
	const struct stitch_plan_item *it = &p->items[i];
	const char **names = xcalloc(it->n_deps + 1, sizeof(char *));
	const char **ifaces = xcalloc(it->n_deps + 1, sizeof(char *));
	struct stitch_build_inputs in;
	bool known = it->source_sha256[0] != '\0';

	stitch_plan_inputs(p, i, names, ifaces, &in);
	for (size_t d = 0; known && d < it->n_deps; d++) {
		const struct stitch_plan_item *dep = &p->items[it->deps[d]];
		if (ifaces[d][0])
			continue;
		/* Dependents see interfaces, not versions: an upgrade may keep one. */
		if (assume_installed && dep->inst && dep->inst->interface_hash)
			ifaces[d] = dep->inst->interface_hash;
		else
			known = false;
	}
	if (known)
		stitch_build_inputs_hash(&in, out);
	free(names);
	free(ifaces);
	return known;
}

/* A dependency that will be rebuilt (or unpacked) and keeps its interface. */
static bool same_interface(const struct stitch_plan_item *dep)
{
	return dep->action != STITCH_ACTION_KEEP && dep->inst && dep->inst->interface_hash &&
	       dep->interface_hash[0] && !strcmp(dep->interface_hash, dep->inst->interface_hash);
}

/* A dependency's interface changed, or not: which of its files made the difference. */
static struct stitch_cause dep_cause(enum stitch_cause_kind kind,
                                     const struct stitch_plan_item *dep)
{
	const struct stitch_iface_change *ch = &dep->iface_change;
	struct stitch_cause c = cause(kind, dep->name, 0);

	if (ch->first[0]) {
		c.detail = ch->first;
		c.count = ch->n_changed ? ch->n_changed : ch->n_cosmetic;
	}
	return c;
}

/* Why item i is not kept: what changed in its own inputs, else in a dependency. */
static struct stitch_cause why_built(const struct stitch_plan *p, size_t i)
{
	const struct stitch_plan_item *it = &p->items[i];
	const struct stitch_installed *in = it->inst;

	if (!in)
		return cause(it->pin ? STITCH_CAUSE_PIN_FIRST : STITCH_CAUSE_NEW, NULL, 0);
	if (strcmp(it->version, in->version) != 0)
		return cause(STITCH_CAUSE_VERSION, in->version, 0);
	if (!!it->pin != !!in->pinned)
		return cause(it->pin ? STITCH_CAUSE_PIN_ADDED : STITCH_CAUSE_PIN_REMOVED, NULL, 0);
	if (it->scan && it->scan->n_changed)
		return cause(STITCH_CAUSE_FILES_CHANGED, it->scan->first_changed,
		             it->scan->n_changed);
	if (it->source_sha256[0] && in->source_sha256 &&
	    strcmp(it->source_sha256, in->source_sha256) != 0)
		return cause(it->pin ? STITCH_CAUSE_TREE_DIFFERS : STITCH_CAUSE_SOURCE_CHANGED,
		             NULL, 0);
	for (size_t d = 0; d < it->n_deps; d++) {
		const struct stitch_plan_item *dep = &p->items[it->deps[d]];
		if (dep->action != STITCH_ACTION_KEEP && !same_interface(dep))
			return dep_cause(STITCH_CAUSE_DEP_CHANGED, dep);
	}
	return cause(STITCH_CAUSE_RECIPE, NULL, 0);
}

/* Why a kept item is kept: a dependency rebuilt with the same interface, or nothing. */
static struct stitch_cause why_kept(const struct stitch_plan *p, size_t i)
{
	const struct stitch_plan_item *it = &p->items[i];

	for (size_t d = 0; d < it->n_deps; d++)
		if (same_interface(&p->items[it->deps[d]]))
			return dep_cause(STITCH_CAUSE_DEP_UNCHANGED, &p->items[it->deps[d]]);
	return cause(STITCH_CAUSE_UP_TO_DATE, NULL, 0);
}

/* The first dependency whose interface is not known yet. */
static const char *pending_dep(const struct stitch_plan *p, size_t i)
{
	const struct stitch_plan_item *it = &p->items[i];

	for (size_t d = 0; d < it->n_deps; d++)
		if (!p->items[it->deps[d]].interface_hash[0])
			return p->items[it->deps[d]].name;
	return NULL;
}

static void from_source(struct stitch_plan *p, size_t i)
{
	struct stitch_plan_item *it = &p->items[i];
	bool same = it->inst && !strcmp(it->version, it->inst->version);

	it->action = same ? STITCH_ACTION_REBUILD : STITCH_ACTION_BUILD;
	it->cause = why_built(p, i);
	it->fetch = !it->pin;
	it->interface_hash[0] = '\0';
}

void stitch_plan_build_instead(struct stitch_plan *p, size_t i)
{
	from_source(p, i);
}

void stitch_plan_decide(struct stitch_plan *p, size_t i)
{
	struct stitch_plan_item *it = &p->items[i];
	bool same = it->inst && !strcmp(it->version, it->inst->version);
	char hash[65];

	it->build_hash[0] = '\0';
	it->fetch = false;
	if (hash_of(p, i, false, hash)) {
		memcpy(it->build_hash, hash, 65);
		if (same && it->inst->build_hash && !strcmp(it->inst->build_hash, hash)) {
			it->action = STITCH_ACTION_KEEP;
			it->cause = why_kept(p, i);
			snprintf(it->interface_hash, 65, "%s",
			         it->inst->interface_hash ? it->inst->interface_hash : "");
			return;
		}
		/* A pin's build is work in progress: the cache never serves one. */
		if (!it->pin && p->cached && p->cached(p->cache_data, hash, it->interface_hash)) {
			it->action = STITCH_ACTION_CACHED;
			it->cause = why_built(p, i);
			return;
		}
		from_source(p, i);
		return;
	}
	/* A dependency is still to be built: kept if its interface stays. */
	if (same && it->inst->build_hash && hash_of(p, i, true, hash) &&
	    !strcmp(it->inst->build_hash, hash)) {
		it->action = STITCH_ACTION_KEEP;
		it->cause = cause(STITCH_CAUSE_DEP_PENDING, pending_dep(p, i), 0);
		it->interface_hash[0] = '\0';
		return;
	}
	from_source(p, i);
}

static int change_of(const struct stitch_plan_item *it)
{
	int c;

	if (!it->inst)
		return STITCH_CHANGE_INSTALL;
	c = stitch_version_cmp(it->version, it->inst->version);
	return c > 0 ? STITCH_CHANGE_UPGRADE : c < 0 ? STITCH_CHANGE_DOWNGRADE : STITCH_PLAN_KEEP;
}

static void fill_items(const struct stitch_plan_in *in, struct stitch_plan *p)
{
	p->n = in->n_chosen;
	p->items = xcalloc(p->n + 1, sizeof(*p->items));
	for (size_t i = 0; i < p->n; i++) {
		struct stitch_plan_item *it = &p->items[i];
		const struct stitch_version *v = in->chosen[i];
		it->v = v;
		it->name = v->pkg->name;
		it->version = v->version;
		it->inst = find_inst(in->installed, in->n_installed, it->name);
		it->old_version = it->inst ? it->inst->version : NULL;
		it->change = change_of(it);
		stitch_recipe_hash(v, it->recipe);
		if (in->source_sha256 && in->source_sha256[i])
			snprintf(it->source_sha256, 65, "%s", in->source_sha256[i]);
		else if (v->sha256)
			snprintf(it->source_sha256, 65, "%s", v->sha256);
	}
	qsort(p->items, p->n, sizeof(*p->items), cmp_item);
	for (size_t k = 0; k < in->n_pins; k++) {
		struct stitch_plan_item *it = stitch_plan_find(p, in->pins[k].name);
		if (!it)
			continue;
		it->pin = &in->pins[k];
		it->scan = in->scans ? &in->scans[k] : NULL;
		/* A pin's source is its working tree, as last scanned. */
		it->source_sha256[0] = '\0';
		if (it->scan && it->scan->tree_hash[0])
			memcpy(it->source_sha256, it->scan->tree_hash, 65);
	}
}

int stitch_plan_make(const struct stitch_plan_in *in, struct stitch_plan *out,
                     struct stitch_err *err)
{
	struct stitch_plan p = STITCH_PLAN_INIT;
	int rc;

	p.cc_id = xstrdup(in->cc_id ? in->cc_id : "");
	p.target = xstrdup(in->target ? in->target : "unix");
	p.cached = in->cached;
	p.cache_data = in->cache_data;
	fill_items(in, &p);
	mark_requested(&p, in->requested, in->n_requested);
	if ((rc = link_deps(&p, err)) != 0 || (rc = sort_topo(&p, err)) != 0) {
		stitch_plan_release(&p);
		return rc;
	}
	for (size_t k = 0; k < p.n; k++)
		stitch_plan_decide(&p, p.order[k]);
	*out = p;
	return 0;
}

/* Does installed package a depend on b (by the names it was built against)? */
static bool needs(const struct stitch_installed *a, const char *b)
{
	for (size_t d = 0; d < a->n_depends; d++)
		if (!strcmp(a->depends[d], b))
			return true;
	return false;
}

/* One package to remove, and the package it goes with (NULL: asked for). */
struct going {
	const char *name, *because;
};

static bool listed(const struct going *go, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(go[i].name, name))
			return true;
	return false;
}

/* names and, when recursive, everything that needs them; blockers otherwise. */
static int removal_set(const struct stitch_installed *inst, size_t n_inst, const char *const *names,
                       size_t n, bool recursive, struct going **go, size_t *n_go,
                       struct stitch_err *err)
{
	struct stitch_buf blockers = STITCH_BUF_INIT;
	size_t cap = 0;

	for (size_t i = 0; i < n; i++) {
		if (!find_inst(inst, n_inst, names[i]))
			return stitch_error(err, STITCH_E_NOTFOUND, "'%s' is not installed",
			                    names[i]);
		if (listed(*go, *n_go, names[i]))
			continue;
		XGROW(*go, cap, *n_go + 1);
		(*go)[(*n_go)++] = (struct going){names[i], NULL};
	}
	for (size_t i = 0; i < *n_go; i++)
		for (size_t k = 0; k < n_inst; k++) {
			if (!needs(&inst[k], (*go)[i].name) || listed(*go, *n_go, inst[k].name))
				continue;
			if (!recursive) {
				stitch_buf_addf(&blockers, "%s%s (needs %s)",
				                blockers.len ? ", " : "", inst[k].name,
				                (*go)[i].name);
				continue;
			}
			XGROW(*go, cap, *n_go + 1);
			(*go)[(*n_go)++] = (struct going){inst[k].name, (*go)[i].name};
		}
	if (blockers.len) {
		stitch_error(err, STITCH_E_CONFLICT, "cannot remove %s: still needed by %s",
		             n == 1 ? names[0] : "these packages", blockers.buf);
		stitch_error_cause(err,
		                   "hint: remove those too, or run 'stitch remove --recursive'");
		stitch_buf_release(&blockers);
		return STITCH_E_CONFLICT;
	}
	return 0;
}

/* Does an item not yet placed need item i? */
static bool needed_by_rest(const struct stitch_plan *p, const char *placed, size_t i)
{
	for (size_t k = 0; k < p->n; k++)
		if (!placed[k] && k != i && needs(p->items[k].inst, p->items[i].name))
			return true;
	return false;
}

int stitch_plan_remove(const struct stitch_installed *installed, size_t n_installed,
                       const char *const *names, size_t n, bool recursive, struct stitch_plan *out,
                       struct stitch_err *err)
{
	struct stitch_plan p = STITCH_PLAN_INIT;
	struct going *go = NULL;
	size_t n_go = 0;
	char *placed;
	int rc = removal_set(installed, n_installed, names, n, recursive, &go, &n_go, err);

	if (rc) {
		free(go);
		return rc;
	}
	p.n = n_go;
	p.items = xcalloc(n_go + 1, sizeof(*p.items));
	p.order = xcalloc(n_go + 1, sizeof(size_t));
	for (size_t i = 0; i < n_go; i++) {
		struct stitch_plan_item *it = &p.items[i];
		it->inst = find_inst(installed, n_installed, go[i].name);
		it->name = it->inst->name;
		it->version = it->inst->version;
		it->old_version = it->inst->version;
		it->change = STITCH_CHANGE_REMOVE;
		it->action = STITCH_ACTION_REMOVE;
		it->cause = go[i].because ? cause(STITCH_CAUSE_NEEDS_REMOVED, go[i].because, 0)
		                          : cause(STITCH_CAUSE_REQUESTED, NULL, 0);
	}
	free(go);
	qsort(p.items, p.n, sizeof(*p.items), cmp_item);
	/* Dependents first, so the switch never holds a package without what it needs. */
	placed = xcalloc(p.n + 1, 1);
	for (size_t k = 0; k < p.n; k++) {
		size_t i = 0;
		while (i < p.n && (placed[i] || needed_by_rest(&p, placed, i)))
			i++;
		if (i == p.n) { /* a cycle among them: the rest by name */
			i = 0;
			while (placed[i])
				i++;
		}
		placed[i] = 1;
		p.order[k] = i;
	}
	free(placed);
	*out = p;
	return 0;
}

void stitch_plan_count(const struct stitch_plan *p, size_t counts[STITCH_ACTION__COUNT])
{
	memset(counts, 0, STITCH_ACTION__COUNT * sizeof(size_t));
	for (size_t i = 0; i < p->n; i++)
		counts[p->items[i].action]++;
}

void stitch_plan_release(struct stitch_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].deps);
	free(p->items);
	free(p->order);
	free(p->cc_id);
	free(p->target);
	*p = (struct stitch_plan)STITCH_PLAN_INIT;
}
