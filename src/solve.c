/*
 * The resolver's search: lazy clause generation, propagation with two
 * watched literals plus a native "at most one version" constraint, 1UIP
 * conflict analysis with learning, and the decision order that encodes the
 * preferences of section 5 (see solve.h).  After a conflict only the
 * literal to flip and what depends on it are undone (undo()): the
 * decisions made since, on other packages, stay.  Explanations are in
 * solve_explain.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "solve.h"
#include "solve_int.h"
#include "version.h"

/* search(): its answer did not hold; search again, without undo() */
#define SEARCH_AGAIN (-2)

/* ------------------------------------------------------------ containers */

void ivec_grow(struct ivec *v)
{
	XGROW(v->a, v->cap, v->n + 1);
}

/*
 * The big arrays (variables, watch lists, clauses, the implication graph)
 * reach megabytes.  Past BIG_MIN bytes each lives in its own mapping
 * (stitch_map_huge: huge pages for the larger ones); below that, malloc.
 */
#define BIG_MIN ((size_t)1 << 20)
#define BIG_ALIGN STITCH_HUGE_ALIGN

static size_t big_len(size_t bytes)
{
	return (bytes + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1);
}

/* Is p in the arena (see place_arena())? */
static bool in_arena(const struct solver *s, const void *p)
{
	return s->arena && (const char *)p >= s->arena && (const char *)p < s->arena + s->arena_len;
}

static void big_free(const struct solver *s, void *arr, size_t cap, size_t size)
{
	if (in_arena(s, arr))
		return;
	if (cap * size >= BIG_MIN)
		munmap(arr, big_len(cap * size));
	else
		free(arr);
}

/*
 * XGROW for a big array; what it adds past the old capacity is zeroed
 * (a mapping is, and malloc'd memory is cleared).
 */
static void *big_grow(const struct solver *s, void *arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64, old = *cap * size;
	void *a;

	if (need <= *cap)
		return arr;
	while (n < need)
		n *= 2;
	/* An array that outgrows its place in the arena moves to a mapping. */
	if (n * size < BIG_MIN && !in_arena(s, arr)) {
		a = xrealloc(arr, n * size);
		memset((char *)a + old, 0, n * size - old);
		*cap = n;
		return a;
	}
	a = stitch_map_huge(big_len(n * size), false);
	if (old)
		memcpy(a, arr, old);
	big_free(s, arr, *cap, size);
	*cap = big_len(n * size) / size;
	return a;
}

#define BIG_GROW(s, arr, cap, need) \
	((need) <= (cap) ? (void)0  \
	                 : (void)((arr) = big_grow((s), (arr), &(cap), (need), sizeof(*(arr)))))

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

/*
 * Watch lists (one per literal) live in chunks freed together: a list that
 * grows moves to a block twice its size and leaves the old block behind,
 * at most doubling their memory, instead of a malloc, reallocs and a free
 * for each of them.
 */
#define WATCH_CHUNK 65536

struct wchunk {
	struct wchunk *next;
	size_t used, cap;
	int a[];
};

static int *watch_block(struct solver *s, size_t n)
{
	struct wchunk *c = s->wchunks;

	if (!c || c->cap - c->used < n) {
		size_t cap = n > WATCH_CHUNK ? n : WATCH_CHUNK;
		c = xmalloc(sizeof(*c) + cap * sizeof(int));
		c->next = s->wchunks;
		c->used = 0;
		c->cap = cap;
		s->wchunks = c;
	}
	c->used += n;
	return c->a + c->used - n;
}

/*
 * Push x on a package's list (struct spkg: ranges, incoming, auxs), whose
 * blocks come from the watch chunks too: thousands of short lists, freed
 * with the chunks.
 */
static void list_push(struct solver *s, struct ivec *v, int x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 4;
		int *a = watch_block(s, cap);
		if (v->n)
			memcpy(a, v->a, v->n * sizeof(int));
		v->a = a;
		v->cap = cap;
	}
	v->a[v->n++] = x;
}

/* Clause cid watches literal lit (it is looked at when lit becomes true). */
static void watch_push(struct solver *s, int lit, int cid)
{
	struct wlist *w = &s->watches[lit];

	if (w->cap <= WL_INLINE && w->n < WL_INLINE) {
		w->cap = WL_INLINE;
		w->u.in[w->n++] = cid;
		return;
	}
	if (w->n == w->cap) {
		int cap = 2 * w->cap, *a = watch_block(s, (size_t)cap);
		memcpy(a, wl_ids(w), (size_t)w->n * sizeof(int));
		w->u.ext = a;
		w->cap = cap;
	}
	w->u.ext[w->n++] = cid;
}

/* ------------------------------------------------------------- variables */

/*
 * Room for n variables in the arrays kept per variable or literal, which
 * must start zeroed: fresh zeroed memory when they grow, so that pages
 * are only touched when used.
 */
static void reserve_vars(struct solver *s, size_t n)
{
	BIG_GROW(s, s->vars, s->cap_vars, n);
	BIG_GROW(s, s->val, s->cap_val, n);
	BIG_GROW(s, s->watches, s->cap_watches, 2 * n);
	BIG_GROW(s, s->mark, s->cap_mark, n);
	BIG_GROW(s, s->seen, s->cap_seen, n);
}

/* n new variables of package pkg, numbered 0 to n - 1; returns the first. */
static int new_vars(struct solver *s, int n, int kind, int pkg)
{
	int v = (int)s->n_vars;

	BIG_GROW(s, s->vars, s->cap_vars, s->n_vars + (size_t)n);
	BIG_GROW(s, s->val, s->cap_val, s->n_vars + (size_t)n);
	memset(s->val + v, -1, (size_t)n);
	for (int i = 0; i < n; i++)
		s->vars[v + i] = (struct svar){.kind = (unsigned char)kind,
		                               .level = -1,
		                               .reason = REASON_NONE,
		                               .pkg = pkg,
		                               .idx = i};
	s->n_vars += (size_t)n;
	if (s->n_vars > s->cap_mark || s->n_vars > s->cap_seen || 2 * s->n_vars > s->cap_watches)
		reserve_vars(s, 2 * s->n_vars);
	return v;
}

static int new_var(struct solver *s, int kind, int pkg, int idx)
{
	int v = new_vars(s, 1, kind, pkg);

	s->vars[v].idx = idx;
	return v;
}

/* An edge from variable from to var (see struct sedge). */
static inline __attribute__((always_inline)) void add_edge(struct solver *s, int from, int var)
{
	if (s->n_edges == s->cap_edges)
		BIG_GROW(s, s->edges, s->cap_edges, s->n_edges + 1);
	s->edges[s->n_edges] = (struct sedge){var, s->vars[var].stamp, s->vars[from].child};
	s->vars[from].child = (int)s->n_edges++;
}

/*
 * Assign lit.  The level of an implied literal is the highest level among
 * the other literals of its reason, which may be below the current level:
 * the trail is then out of level order (chronological backtracking, Nadel
 * and Ryvchin 2018, Möhle and Biere 2019), and backjump() keeps such
 * literals.  Each literal of the reason gets an edge to it, for undo().
 */
static inline __attribute__((always_inline)) void enqueue(struct solver *s, int lit, int reason)
{
	int var = LIT_VAR(lit), lv = 0;
	struct svar *v = &s->vars[var];

	v->stamp = ++s->stamp;
	v->child = -1;
	if (reason == REASON_NONE) {
		lv = (int)s->n_lim;
	} else if (REASON_IS_AMO(reason)) {
		/* No edge: undo() finds these by their reason (see there). */
		lv = s->vars[REASON_AMO_VAR(reason)].level;
	} else {
		const struct sclause *c = &s->cls[reason];
		for (int i = 0; i < c->n; i++) {
			int l = s->lits[c->off + i], u = LIT_VAR(l), ul = s->vars[u].level;
			if (u == var)
				continue;
			if (ul > lv)
				lv = ul;
			add_edge(s, u, var);
		}
	}
	v->level = lv;
	s->val[var] = (signed char)!LIT_NEG(lit);
	if (v->kind == SVAR_VERSION) {
		struct spkg *p = &s->pkgs[v->pkg];
		if (s->val[var])
			p->n_true++;
		else
			s->bits[p->open_off + v->idx / 64] &= ~((uint64_t)1 << (v->idx % 64));
	}
	v->reason = reason;
	if (s->n_trail == s->cap_trail)
		BIG_GROW(s, s->trail, s->cap_trail, s->n_trail + 1);
	v->tpos = (int)s->n_trail;
	s->trail[s->n_trail++] = lit;
}

/* --------------------------------------------------------------- clauses */

/*
 * Add a clause during the search.  Literals are assigned at levels no
 * higher than the current one, and any false literal at the current level
 * is the one that made the clause appear, so choosing as watches the
 * non-false literals first and then the false ones of the highest level
 * keeps the watch invariant after any backjump.  Returns the clause id if
 * it is in conflict, else -1 (a unit clause is propagated at once).
 */
/*
 * A clause made in conflict: returned to the caller, and queued to be
 * looked at again (imply_pending()), since a caller that meets two takes
 * the first, and undo() may leave the other as it was.
 */
static int in_conflict(struct solver *s, int id)
{
	ivec_push(&s->pend, s->lits[s->cls[id].off]);
	ivec_push(&s->pend, id);
	return id;
}

/*
 * How good a watch literal l makes: true first, then unassigned, then
 * false ones by level, highest first.
 */
static int watch_rank(const struct solver *s, int l)
{
	int v = lit_value(s, l);

	return v == 0 ? s->vars[LIT_VAR(l)].level : (1 << 30) + (v == 1);
}

/*
 * Clause id of two literals or more, its best two watch candidates first
 * at l: watch them, and report a conflict or imply the first as add_clause.
 */
static int watch_new(struct solver *s, int id, const int *l)
{
	watch_push(s, l[0] ^ 1, id);
	watch_push(s, l[1] ^ 1, id);
	if (lit_value(s, l[0]) == 0)
		return in_conflict(s, id);
	if (lit_value(s, l[0]) < 0 && lit_value(s, l[1]) == 0)
		enqueue(s, l[0], id);
	return -1;
}

/* add_clause for two literals, the most common: no loops. */
static int add_clause2(struct solver *s, int a, int b, int kind, int info, int *id_out)
{
	int id = (int)s->n_cls, *l, ra, rb;

	BIG_GROW(s, s->cls, s->cap_cls, s->n_cls + 1);
	BIG_GROW(s, s->lits, s->cap_lits, s->n_lits + 3);
	s->cls[id] = (struct sclause){.off = (int)s->n_lits, .n = 2, .kind = kind, .info = info};
	l = s->lits + s->n_lits;
	s->n_lits += 2;
	s->n_cls++;
	if (id_out)
		*id_out = id;
	ra = watch_rank(s, a);
	rb = watch_rank(s, b);
	if (rb > ra) {
		int t = a;
		a = b;
		b = t;
	}
	l[0] = a;
	l[1] = b;
	return watch_new(s, id, l);
}

static int add_clause(struct solver *s, const int *lits, int n, int kind, int info, int *id_out)
{
	int id = (int)s->n_cls, *l;

	if (n == 2)
		return add_clause2(s, lits[0], lits[1], kind, info, id_out);
	BIG_GROW(s, s->cls, s->cap_cls, s->n_cls + 1);
	BIG_GROW(s, s->lits, s->cap_lits, s->n_lits + (size_t)n + 1);
	s->cls[id] = (struct sclause){.off = (int)s->n_lits, .n = n, .kind = kind, .info = info};
	for (int i = 0; i < n; i++)
		s->lits[s->n_lits + (size_t)i] = lits[i];
	s->n_lits += (size_t)n;
	s->n_cls++;
	if (id_out)
		*id_out = id;
	l = s->lits + s->cls[id].off;
	/*
	 * Watch two literals that are not false, the first two found: any
	 * two keep the watch invariant.  With fewer, bring the two best
	 * candidates to the front.
	 */
	if (n > 2) {
		int a = 0, b;
		while (a < n && lit_value(s, l[a]) == 0)
			a++;
		for (b = a + 1; b < n && lit_value(s, l[b]) == 0; b++)
			;
		if (b < n) {
			int t = l[0];
			l[0] = l[a], l[a] = t;
			t = l[1];
			l[1] = l[b], l[b] = t;
			return watch_new(s, id, l);
		}
	}
	for (int w = 0; w < 2 && w < n; w++) {
		int best = w, rb = watch_rank(s, l[w]);
		for (int i = w + 1; i < n; i++) {
			int ri = watch_rank(s, l[i]);
			if (ri > rb) {
				best = i;
				rb = ri;
			}
		}
		int t = l[w];
		l[w] = l[best];
		l[best] = t;
	}
	if (n == 0)
		return id;
	if (n == 1) {
		/* A fact found during the search: implied at level 0. */
		if (s->n_lim > 0)
			ivec_push(&s->units, id);
		if (lit_value(s, l[0]) == 0)
			return in_conflict(s, id);
		if (lit_value(s, l[0]) < 0)
			enqueue(s, l[0], id);
		return -1;
	}
	return watch_new(s, id, l);
}

/* ------------------------------------------------------------- packages */

/* ------------------------------------------------------------ bit sets */

static size_t nwords(const struct spkg *p)
{
	return ((size_t)p->n + 63) / 64;
}

static void bit_set(uint64_t *b, int i)
{
	b[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool bit_get(const uint64_t *b, int i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

static void mark_dirty(struct solver *s, int pid)
{
	if (!s->pkgs[pid].dirty) {
		s->pkgs[pid].dirty = true;
		ivec_push(&s->dirty, pid);
	}
}

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
	new_vars(s, p->n, SVAR_VERSION, id);
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

/* The spkg for name, creating its variables on first use. */
static int touch(struct solver *s, const char *name)
{
	return touch_pkg(s, solve_vis_lookup(s, name), name);
}

const int *solve_repo_vis(struct solver *s, const struct stitch_repo *repo)
{
	size_t r = 0;

	/* Mostly the same repository as the call before. */
	if (repo && repo == s->last_repo)
		return s->last_vis;
	while (r < s->idx->n_repos && s->idx->repos[r] != repo)
		r++;
	if (r == s->idx->n_repos)
		return NULL;
	if (!s->repo_vis)
		s->repo_vis = xcalloc(s->idx->n_repos, sizeof(*s->repo_vis));
	if (!s->repo_vis[r]) {
		int *m = xmalloc((repo->n_pkgs + 1) * sizeof(int));
		for (size_t i = 0; i < repo->n_pkgs; i++)
			m[i] = -1;
		for (size_t v = 0; v < s->idx->n_visible; v++)
			if (s->idx->visible[v]->repo == repo)
				m[s->idx->visible[v] - repo->pkgs] = (int)v;
		s->repo_vis[r] = m;
	}
	s->last_repo = repo;
	s->last_vis = s->repo_vis[r];
	return s->repo_vis[r];
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

/*
 * The literals of the versions r matches, alternatives in order and each
 * package's versions newest first, without repeats, appended to out.
 */
static void req_candidates(struct solver *s, const struct stitch_req *r, struct ivec *out)
{
	size_t start = out->n;

	for (size_t a = 0; a < r->n_alts; a++) {
		int pid = touch(s, r->alts[a].name);
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

/* Version i of package pid has the requirement of aux id: "it implies aux". */
static void aux_member(struct solver *s, int pid, int i, int id, int *confl)
{
	note_conflict(add_clause2(s, LIT(s->pkgs[pid].var0 + i, 1), LIT(s->auxs[id].var, 0),
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
	list_push(s, &s->pkgs[pid].ranges, id);
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

	note_conflict(add_clause(s, s->tmp.a, (int)s->tmp.n, CL_DEP, id, &cl), confl);
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
	list_push(s, &c->incoming, id);
	*add_range(s, id, cp) = alt->mask;
	dep_clause(s, id, confl);
	return true;
}

/*
 * Create aux(pkg, kind, str) with its clauses (see expand()); compiled is
 * str's compiled form (stitch_version.reqs), or STITCH_REQ_NONE, and
 * members the versions that have it (stitch_version.req_members), or
 * MEMBERS_UNKNOWN.
 */
static int make_aux(struct solver *s, int pid, int kind, const char *str, uint32_t compiled,
                    uint64_t members, int self, int *confl)
{
	struct stitch_req *r = NULL;
	struct saux *a;
	int id, var, lits[2];

	if (!compiled_usable(s, pid, compiled) && stitch_req_parse(str, &r, s->err) != 0) {
		const struct spkg *p = &s->pkgs[pid];
		s->fail = stitch_error_wrap(s->err, "package '%s': %s", p->name,
		                            kind == AUX_DEP ? "depends" : "conflicts");
		s->err->code = STITCH_E_INDEX;
		s->fail = STITCH_E_INDEX;
		return -1;
	}
	id = (int)s->n_auxs;
	var = new_var(s, SVAR_AUX, pid, id);
	BIG_GROW(s, s->auxs, s->cap_auxs, s->n_auxs + 1);
	a = &s->auxs[id];
	*a = (struct saux){.pkg = pid, .kind = kind, .var = var, .str = str};
	s->n_auxs++;
	list_push(s, &s->pkgs[pid].auxs, id);

	/*
	 * "A version with this requirement implies aux", for each of them:
	 * the versions that have it, looked up when the index did not
	 * compile them (as a set of bits up to 64 versions, so that both
	 * ways search alike; past that, each clause now).
	 */
	if (members == MEMBERS_UNKNOWN) {
		bool interned = s->pkgs[pid].pkg->repo != NULL;
		members = 0;
		for (int i = 0; i < s->pkgs[pid].n; i++) {
			const struct stitch_version *v = &s->pkgs[pid].pkg->versions[i];
			if (!(kind == AUX_DEP
			          ? has_string(v->depends, v->n_depends, str, interned)
			          : has_string(v->conflicts, v->n_conflicts, str, interned)))
				continue;
			if (s->pkgs[pid].n > 64)
				aux_member(s, pid, i, id, confl);
			else
				members |= (uint64_t)1 << i;
		}
	}
	/*
	 * Only bits of its versions, whatever the compiled cache holds.  The
	 * expanded version's clause now, the others' when they are needed
	 * (see saux.lazy).
	 */
	if (s->pkgs[pid].n <= 64) {
		if (s->pkgs[pid].n < 64)
			members &= ((uint64_t)1 << s->pkgs[pid].n) - 1;
		if (members >> self & 1)
			aux_member(s, pid, self, id, confl);
		s->auxs[id].lazy = members & ~((uint64_t)1 << self);
	}

	if (!r && kind == AUX_DEP)
		if (range_aux(s, id, compiled, confl))
			return id;
	s->tmp.n = 0;
	ivec_push(&s->tmp, LIT(var, 1));
	if (r) {
		req_candidates(s, r, &s->tmp);
		/* Explanations parse it again: few are needed, and memory costs. */
		stitch_req_free(r);
	} else {
		compiled_candidates(s, pid, compiled, &s->tmp);
	}
	a = &s->auxs[id];
	a->cand_off = (int)s->pool.n;
	a->n_cand = (int)s->tmp.n - 1;
	XGROW(s->pool.a, s->pool.cap, s->pool.n + s->tmp.n);
	memcpy(s->pool.a + s->pool.n, s->tmp.a + 1, (s->tmp.n - 1) * sizeof(int));
	s->pool.n += s->tmp.n - 1;
	if (kind == AUX_DEP) {
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
				list_push(s, &cp->incoming, id);
		}
		a->single = -1;
		if (one >= 0) {
			uint64_t *mask = add_range(s, id, one);
			for (int i = 0; i < a->n_cand; i++)
				bit_set(mask, LIT_VAR(s->tmp.a[i + 1]) - s->pkgs[one].var0);
		}
		dep_clause(s, id, confl);
	} else {
		a->single = -1;
		for (int i = 0; i < a->n_cand; i++) {
			lits[0] = LIT(var, 1);
			lits[1] = s->pool.a[a->cand_off + i] ^ 1;
			note_conflict(add_clause(s, lits, 2, CL_CONF, id, NULL), confl);
		}
	}
	return id;
}

/*
 * aux(pid, kind, str), or -1.  A package has a few: a list by package is
 * cheaper than a table over all of them, and a requirement string that
 * several versions share is mostly the same pointer.
 */
static int find_aux(const struct solver *s, int pid, int kind, const char *str)
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

/*
 * Turn the requirements of a version that just became true, or is about to
 * be decided, into clauses: the auxs of its requirement strings, made on
 * first use with the clauses of every version that has them.
 */
static int expand(struct solver *s, int var)
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
		int id = find_aux(s, pid, kind, str);
		if (id < 0) {
			id = make_aux(s, pid, kind, str, v->reqs ? v->reqs[i] : STITCH_REQ_NONE,
			              v->req_members && s->pkgs[pid].n <= 64 ? v->req_members[i]
			                                                     : MEMBERS_UNKNOWN,
			              self, &confl);
		} else if (self < 64 && (s->auxs[id].lazy >> self & 1)) {
			s->auxs[id].lazy &= ~((uint64_t)1 << self);
			aux_member(s, pid, self, id, &confl);
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

/* ----------------------------------------------------------- propagation */

static size_t nwords(const struct spkg *p);
static void need_mask(struct solver *s, struct spkg *p);
static void need_set(struct solver *s, struct spkg *p, int first);
static int derive_ranges(struct solver *s, const struct spkg *p, bool *done);

static int amo_conflict(struct solver *s, int a, int b)
{
	int lits[2] = {LIT(a, 1), LIT(b, 1)}, id;

	add_clause(s, lits, 2, CL_AMO, 0, &id);
	return id;
}

/*
 * Returns a conflicting clause id, or -1.  On a conflict the literal being
 * propagated goes back to the queue: undo() may keep it, and the rest of
 * its watches must then still be looked at.
 */
static int propagate_clauses(struct solver *s)
{
	while (s->qhead < s->n_trail) {
		int lit = s->trail[s->qhead++], fl = lit ^ 1;
		if (lit == TRAIL_HOLE)
			continue;
		int var = LIT_VAR(lit);
		struct svar *sv = &s->vars[var];

		s->stats.propagations++;
		if (sv->kind == SVAR_AUX && !LIT_NEG(lit) && s->auxs[sv->idx].kind == AUX_DEP) {
			const struct saux *a = &s->auxs[sv->idx];
			solve_heap_push(s, sv->idx);
			if (a->single >= 0) {
				struct spkg *p = &s->pkgs[a->single];
				mark_dirty(s, a->single);
				if (p->rmask_ok && p->n <= 64)
					p->rmask &= s->bits[a->mask_off];
			}
		} else if (sv->kind == SVAR_VERSION && LIT_NEG(lit) && !REASON_IS_AMO(sv->reason)) {
			mark_dirty(s, sv->pkg);
		} else if (sv->kind == SVAR_AUX && LIT_NEG(lit) && s->auxs[sv->idx].lazy) {
			/* The versions that have it are ruled out: their clauses now. */
			struct saux *a = &s->auxs[sv->idx];
			int c = -1;
			while (a->lazy && c < 0) {
				int i = __builtin_ctzll(a->lazy);
				a->lazy &= a->lazy - 1;
				aux_member(s, a->pkg, i, sv->idx, &c);
			}
			if (c >= 0) {
				s->qhead--;
				return c;
			}
		}
		if (sv->kind == SVAR_VERSION && !LIT_NEG(lit)) {
			const struct spkg *p = &s->pkgs[sv->pkg];
			for (int i = 0; i < p->n; i++) {
				int o = p->var0 + i;
				if (o == var)
					continue;
				if (s->val[o] == 1) {
					s->qhead--;
					return amo_conflict(s, var, o);
				}
				if (s->val[o] < 0)
					enqueue(s, LIT(o, 1), REASON_AMO(var));
			}
			if (!s->vars[var].expanded) {
				int c = expand(s, var);
				if (s->fail)
					return -1;
				if (c >= 0) {
					s->qhead--;
					return c;
				}
			}
		}

		struct wlist *ws = &s->watches[lit];
		int i = 0, j = 0, *wa = wl_ids(ws);
		(void)fl;
		for (; i < ws->n; i++) {
			int cid = wa[i];
			int *l = s->lits + s->cls[cid].off, n = s->cls[cid].n;
			if (l[0] == fl) {
				l[0] = l[1];
				l[1] = fl;
			}
			if (lit_value(s, l[0]) == 1) {
				wa[j++] = cid;
				continue;
			}
			int k;
			for (k = 2; k < n; k++) {
				if (lit_value(s, l[k]) != 0) {
					l[1] = l[k];
					l[k] = fl;
					watch_push(s, l[1] ^ 1, cid);
					break;
				}
			}
			if (k < n)
				continue;
			wa[j++] = cid;
			if (lit_value(s, l[0]) == 0) {
				while (++i < ws->n)
					wa[j++] = wa[i];
				ws->n = j;
				s->qhead--;
				return cid;
			}
			enqueue(s, l[0], cid);
		}
		ws->n = j;
	}
	return -1;
}

/*
 * Range propagation: for a package whose needed ranges changed, when no
 * open version fits them all, or a range not needed yet fits none of the
 * versions they allow, derive that (derive_ranges): the first is a
 * conflict, the second rules the range, and so the dependents' versions
 * that have it, out.  PubGrub learns the same incompatibilities, but only
 * after choosing a version and meeting the conflict.
 */
static int check_dirty(struct solver *s, bool *derived)
{
	while (s->dirty.n) {
		int pid = s->dirty.a[--s->dirty.n];
		struct spkg *p = &s->pkgs[pid];
		bool any = false, chosen = p->n_true > 0;
		size_t w = nwords(p);

		p->dirty = false;
		if (chosen || !p->ranges.n)
			continue;
		need_mask(s, p);
		for (size_t j = 0; j < w && !any; j++)
			any = s->need[j] != 0;
		if (!any) {
			need_set(s, p, -1);
			if (!s->rs.n)
				continue;
			return derive_ranges(s, p, derived);
		}
		for (size_t k = 0; k < p->ranges.n; k++) {
			const struct saux *b = &s->auxs[p->ranges.a[k]];
			bool fits = false;
			if (s->val[b->var] != -1)
				continue;
			for (size_t j = 0; j < w && !fits; j++)
				fits = (s->need[j] & s->bits[b->mask_off + j]) != 0;
			if (fits)
				continue;
			/* need_set again: s->rs with b first. */
			need_set(s, p, p->ranges.a[k]);
			int confl = derive_ranges(s, p, derived);
			if (*derived) {
				/* The package may hold more: look again later. */
				mark_dirty(s, pid);
				return confl;
			}
			need_mask(s, p);
		}
	}
	return -1;
}

static int imply_pending(struct solver *s);

static int propagate(struct solver *s)
{
	for (;;) {
		int confl = s->pend.n ? imply_pending(s) : -1;
		if (confl >= 0)
			return confl;
		confl = propagate_clauses(s);
		bool derived = false;
		if (confl >= 0 || s->fail)
			return confl;
		confl = check_dirty(s, &derived);
		if (confl >= 0 || !derived)
			return confl;
	}
}

/* -------------------------------------------------------------- analysis */

void solve_reason_lits(const struct solver *s, int var, int reason, struct ivec *out)
{
	out->n = 0;
	if (REASON_IS_AMO(reason)) {
		ivec_push(out, LIT(var, 1));
		ivec_push(out, LIT(REASON_AMO_VAR(reason), 1));
	} else if (reason >= 0) {
		const struct sclause *c = &s->cls[reason];
		for (int i = 0; i < c->n; i++)
			ivec_push(out, s->lits[c->off + i]);
	}
}

static void unassign(struct solver *s, struct svar *v)
{
	if (v->kind == SVAR_VERSION && s->val[v - s->vars] == 1) {
		ivec_push(&s->undone, v->pkg);
		s->pkgs[v->pkg].n_true--;
	} else if (v->kind == SVAR_VERSION) {
		const struct spkg *p = &s->pkgs[v->pkg];
		s->bits[p->open_off + v->idx / 64] |= (uint64_t)1 << (v->idx % 64);
	} else if (v->kind == SVAR_AUX && s->val[v - s->vars] == 1 && s->auxs[v->idx].single >= 0) {
		/* A range needed no more: see need_mask(). */
		s->pkgs[s->auxs[v->idx].single].rmask_ok = false;
	}
	s->val[v - s->vars] = -1;
	v->reason = REASON_NONE;
	v->level = -1;
}

/* Dependencies that stay but lost the version that met them are open. */
static void reopen_undone(struct solver *s)
{
	for (size_t i = 0; i < s->undone.n; i++) {
		const struct spkg *p = &s->pkgs[s->undone.a[i]];
		for (size_t k = 0; k < p->incoming.n; k++)
			if (s->val[s->auxs[p->incoming.a[k]].var] == 1)
				solve_heap_push(s, p->incoming.a[k]);
	}
	s->undone.n = 0;
	for (size_t i = 0; i < s->dirty.n; i++)
		s->pkgs[s->dirty.a[i]].dirty = false;
	s->dirty.n = 0;
}

/*
 * Close the trail's holes from position start on, and move the level starts
 * (s->lim) and the propagation queue's head with what they point at.
 */
static void compact_trail(struct solver *s, size_t start)
{
	size_t lv = 0, j = start, qhead = s->qhead;

	/* The first level that starts at start or later: lim is sorted. */
	for (size_t hi = s->n_lim; lv < hi;) {
		size_t mid = lv + (hi - lv) / 2;
		if ((size_t)s->lim[mid] < start)
			lv = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = start; i < s->n_trail; i++) {
		int lit = s->trail[i];
		if (i == s->qhead)
			qhead = j;
		while (lv < s->n_lim && (size_t)s->lim[lv] == i)
			s->lim[lv++] = (int)j;
		if (lit == TRAIL_HOLE) {
			s->n_holes--;
			continue;
		}
		s->vars[LIT_VAR(lit)].tpos = (int)j;
		s->trail[j++] = lit;
	}
	while (lv < s->n_lim)
		s->lim[lv++] = (int)j;
	if (s->qhead >= s->n_trail)
		qhead = j;
	s->qhead = qhead;
	s->n_trail = j;
}

static void backjump(struct solver *s, size_t level)
{
	size_t start, j;

	if (s->n_lim <= level)
		return;
	s->undone.n = 0;
	start = j = (size_t)s->lim[level];
	for (size_t i = start; i < s->n_trail; i++) {
		int lit = s->trail[i];
		struct svar *v;
		if (lit == TRAIL_HOLE) {
			s->n_holes--;
			continue;
		}
		v = &s->vars[LIT_VAR(lit)];
		if (v->level <= (int)level) {
			/* Implied below its place in the trail: it stays. */
			v->tpos = (int)j;
			s->trail[j++] = lit;
			continue;
		}
		unassign(s, v);
	}
	s->n_trail = j;
	/*
	 * What stays past start was propagated while literals now gone were
	 * assigned: propagate it again so that the watches are right.
	 */
	if (s->qhead > start)
		s->qhead = start;
	s->n_lim = level;
	if (s->root_level > (int)level)
		s->root_level = (int)level;
	reopen_undone(s);
}

/* undo()'s queue: variables by their place in the trail, first first. */
static void uheap_push(struct solver *s, int var)
{
	kheap_push(&s->uheap, KHEAP_KEY(s->vars[var].tpos, var));
}

static int uheap_pop(struct solver *s)
{
	return KHEAP_ID(kheap_pop(&s->uheap));
}

/* Move clause cid's watch from position at (a false literal) to position k. */
static void move_watch(struct solver *s, int cid, int at, int k)
{
	int *l = s->lits + s->cls[cid].off, t;
	struct wlist *ws = &s->watches[l[at] ^ 1];
	int *wa = wl_ids(ws);

	for (int i = 0; i < ws->n; i++) {
		if (wa[i] == cid) {
			memmove(wa + i, wa + i + 1, (size_t)(ws->n - i - 1) * sizeof(int));
			ws->n--;
			break;
		}
	}
	t = l[at], l[at] = l[k], l[k] = t;
	watch_push(s, l[at] ^ 1, cid);
}

/*
 * During undo(): does decision var (a version) still stand?  Not when no
 * dependency that stays needs it (the one that asked for it is being
 * undone), nor when a newer version could now be taken, because a range
 * on its package or what ruled that version out is being undone: the
 * newest version that fits is what a decision takes, and the roots' must
 * stay the newest (section 5).
 */
static bool still_wanted(const struct solver *s, int var)
{
	const struct svar *v = &s->vars[var];
	const struct spkg *p = &s->pkgs[v->pkg];
	bool asked = p->root, shaped = false;

	for (size_t k = 0; k < p->incoming.n; k++) {
		const struct saux *a = &s->auxs[p->incoming.a[k]];
		const struct svar *av = &s->vars[a->var];
		if (av->undo) {
			shaped = true;
			continue;
		}
		if (s->val[a->var] != 1 || asked)
			continue;
		if (a->single >= 0) {
			asked = bit_get(s->bits + a->mask_off, v->idx);
			continue;
		}
		for (int i = 0; i < a->n_cand && !asked; i++)
			asked = LIT_VAR(s->pool.a[a->cand_off + i]) == var;
	}
	if (!asked)
		return false;
	/*
	 * A newer version that was ruled out when var was decided, and is
	 * being undone, may be taken now; with a range being undone, any
	 * newer version that is not ruled out may.
	 */
	for (int i = 0; i < v->idx; i++) {
		const struct svar *w = &s->vars[p->var0 + i];
		bool fits =
		    w->undo ||
		    (shaped && (s->val[p->var0 + i] != 0 ||
		                (REASON_IS_AMO(w->reason) && REASON_AMO_VAR(w->reason) == var)));
		for (size_t k = 0; k < p->ranges.n && fits; k++) {
			const struct saux *a = &s->auxs[p->ranges.a[k]];
			if (s->val[a->var] == 1 && !s->vars[a->var].undo)
				fits = bit_get(s->bits + a->mask_off, i);
		}
		if (fits)
			return false;
	}
	return true;
}

/*
 * Unassign variable x and every literal whose reason depends on it,
 * directly or not, and keep the rest of the trail, the decisions made
 * after x included: they did not lead to the conflict, and undoing them
 * only to make them again was most of the search's work.  The watches of
 * the clauses that watched an unassigned variable next to a false literal
 * are moved, and what such a clause, or "at most one version", now
 * implies is queued in s->pend, to be implied by imply_pending().
 */
static void undo(struct solver *s, int x)
{
	s->undone.n = 0;
	s->uvars.n = 0;
	s->uheap.n = 0;
	s->vars[x].undo = true;
	uheap_push(s, x);
	/*
	 * In trail order, so that a decision is looked at after everything
	 * before it that is undone: the dependencies that asked for it are.
	 */
	while (s->uheap.n) {
		int var = uheap_pop(s);
		struct svar *v = &s->vars[var];
		if (var != x && v->reason == REASON_NONE && v->kind == SVAR_VERSION &&
		    still_wanted(s, var)) {
			v->undo = false;
			continue;
		}
		for (int e = v->child; e >= 0; e = s->edges[e].next) {
			struct svar *c = &s->vars[s->edges[e].var];
			if (c->stamp == s->edges[e].stamp && s->val[s->edges[e].var] >= 0 &&
			    !c->undo) {
				c->undo = true;
				uheap_push(s, s->edges[e].var);
			}
		}
		/* The versions "at most one version" ruled out because of it. */
		if (v->kind == SVAR_VERSION && s->val[var] == 1) {
			const struct spkg *p = &s->pkgs[v->pkg];
			for (int i = 0; i < p->n; i++) {
				struct svar *c = &s->vars[p->var0 + i];
				if (c->reason == REASON_AMO(var) && s->val[p->var0 + i] == 0 &&
				    !c->undo) {
					c->undo = true;
					uheap_push(s, p->var0 + i);
				}
			}
		}
		s->trail[v->tpos] = TRAIL_HOLE;
		s->n_holes++;
		ivec_push(&s->uvars, var);
		unassign(s, v);
	}
	if (s->n_holes > 4096 && 2 * s->n_holes > s->n_trail)
		compact_trail(s, s->n_lim ? (size_t)s->lim[0] : 0);

	for (size_t u = 0; u < s->uvars.n; u++)
		s->vars[s->uvars.a[u]].undo = false;
	for (size_t u = 0; u < s->uvars.n; u++) {
		int var = s->uvars.a[u];
		const struct svar *v = &s->vars[var];
		if (v->kind == SVAR_VERSION && s->pkgs[v->pkg].n_true > 0) {
			const struct spkg *p = &s->pkgs[v->pkg];
			for (int i = 0; i < p->n; i++) {
				if (s->val[p->var0 + i] == 1) {
					ivec_push(&s->pend, LIT(var, 1));
					ivec_push(&s->pend, REASON_AMO(p->var0 + i));
					break;
				}
			}
		}
		for (int neg = 0; neg < 2; neg++) {
			int lit = LIT(var, neg);
			struct wlist *ws = &s->watches[lit ^ 1];
			const int *wa = wl_ids(ws);
			for (int i = 0; i < ws->n; i++) {
				int cid = wa[i], *l = s->lits + s->cls[cid].off, n = s->cls[cid].n;
				int at = l[0] == lit ? 1 : 0, k;
				if (lit_value(s, l[at]) != 0)
					continue;
				for (k = 2; k < n && lit_value(s, l[k]) == 0; k++)
					;
				if (k < n) {
					move_watch(s, cid, at, k);
					continue;
				}
				ivec_push(&s->pend, lit);
				ivec_push(&s->pend, cid);
			}
		}
	}
	reopen_undone(s);
}

/* Make the literals at positions a and b of clause cid its watches. */
static void rewatch(struct solver *s, int cid, int a, int b)
{
	int *l = s->lits + s->cls[cid].off, t;

	for (int w = 0; w < 2; w++) {
		struct wlist *ws = &s->watches[l[w] ^ 1];
		int *wa = wl_ids(ws);
		for (int i = 0; i < ws->n; i++) {
			if (wa[i] == cid) {
				memmove(wa + i, wa + i + 1, (size_t)(ws->n - i - 1) * sizeof(int));
				ws->n--;
				break;
			}
		}
	}
	t = l[0], l[0] = l[a], l[a] = t;
	if (b == 0)
		b = a;
	t = l[1], l[1] = l[b], l[b] = t;
	watch_push(s, l[0] ^ 1, cid);
	watch_push(s, l[1] ^ 1, cid);
}

/*
 * Bring clause cid in line with the assignment as it is now, after undo()
 * unassigned some of its literals or after it was made in conflict: watch
 * two literals that are not false (or the one, and the false literal of
 * the highest level), and imply the one when it is alone.  Returns cid
 * when every literal is false, else -1.
 */
static int repair(struct solver *s, int cid)
{
	int *l = s->lits + s->cls[cid].off, n = s->cls[cid].n, a = -1, b = -1, hi = -1;

	for (int k = 0; k < n; k++) {
		int v = lit_value(s, l[k]);
		if (v == 0) {
			if (hi < 0 || s->vars[LIT_VAR(l[k])].level > s->vars[LIT_VAR(l[hi])].level)
				hi = k;
		} else if (a < 0 || (v == 1 && lit_value(s, l[a]) != 1)) {
			b = a;
			a = k;
		} else if (b < 0) {
			b = k;
		}
	}
	if (a < 0)
		return cid;
	if (n == 1) {
		if (lit_value(s, l[0]) < 0)
			enqueue(s, l[0], cid);
		return -1;
	}
	bool alone = b < 0;
	if (alone)
		b = hi;
	if (!((a == 0 && b == 1) || (a == 1 && b == 0)))
		rewatch(s, cid, a, b);
	else if (a == 1) {
		int t = l[0];
		l[0] = l[1];
		l[1] = t;
	}
	if (alone && lit_value(s, l[0]) < 0)
		enqueue(s, l[0], cid);
	return -1;
}

/*
 * Imply what undo() queued and repair the clauses it queued (see repair()),
 * and the clauses that were made in conflict.  Returns a conflicting clause
 * id, or -1; what comes after a conflict stays queued, so that nothing is
 * lost before the next decision.
 */
static int imply_pending(struct solver *s)
{
	size_t i;
	int confl = -1;

	for (i = 0; i < s->pend.n && confl < 0; i += 2) {
		int lit = s->pend.a[i], r = s->pend.a[i + 1];
		if (!REASON_IS_AMO(r)) {
			confl = repair(s, r);
			continue;
		}
		if (s->val[REASON_AMO_VAR(r)] != 1 || lit_value(s, lit) == 1)
			continue;
		if (lit_value(s, lit) < 0)
			enqueue(s, lit, r);
		else
			confl = amo_conflict(s, LIT_VAR(lit), REASON_AMO_VAR(r));
	}
	if (i) {
		memmove(s->pend.a, s->pend.a + i, (s->pend.n - i) * sizeof(int));
		s->pend.n -= i;
	}
	return confl;
}

/*
 * With literals implied below the current level, a conflict may lie below
 * it: its level goes into *level.  When only one literal of the clause is
 * at that level, the clause is an implication missed there: undo that
 * literal (see undo()) and imply the clause's, and look at any conflict
 * that brings.  Returns -1 when no conflict is left, or a conflict to
 * analyse at *level, which has two literals there (or is at level 0).
 */
static int conflict_level(struct solver *s, int confl, int *level)
{
	while (confl >= 0) {
		const struct sclause *c = &s->cls[confl];
		int top = 0, n_top = 0, at = 0, next = 0, at_next = 0;

		for (int i = 0; i < c->n; i++) {
			int lv = s->vars[LIT_VAR(s->lits[c->off + i])].level;
			if (lv > top) {
				next = top, at_next = at;
				top = lv, at = i, n_top = 1;
			} else if (lv == top) {
				n_top++;
			} else if (lv >= next) {
				next = lv, at_next = i;
			}
		}
		*level = top;
		if (n_top > 1 || top == 0)
			return confl;
		if (s->safe || top <= s->root_level)
			backjump(s, (size_t)top - 1);
		else
			undo(s, LIT_VAR(s->lits[c->off + at]));
		if (c->n > 1)
			rewatch(s, confl, at, at_next);
		enqueue(s, s->lits[s->cls[confl].off], confl);
		confl = imply_pending(s);
	}
	return -1;
}

/*
 * 1UIP analysis of confl, a conflict at level cur.  Learns a clause
 * (recording the clauses it was resolved from, for explanations), undoes
 * the first UIP (see undo()) and asserts the clause.
 */
static int analyze(struct solver *s, int confl, int cur)
{
	/* Scratch kept in the solver: one conflict after another reuses it. */
	struct ivec learnt = s->an[0], antes = s->an[1], zeros = s->an[2], rl = s->an[3],
	            seen = s->an[4];
	int path = 0, reason = confl, pvar = -1;
	int bj = 0, lid, cid;
	struct slearn *L;

	/*
	 * The literals seen at level cur are taken from the last assigned
	 * back, by their place in the trail: from a heap rather than by
	 * walking the trail, which the levels that undo() kept fill.
	 */
	learnt.n = antes.n = zeros.n = rl.n = seen.n = 0;
	s->aheap.n = 0;
	ivec_push(&learnt, 0);
	for (;;) {
		ivec_push(&antes, reason);
		solve_reason_lits(s, pvar, reason, &rl);
		for (size_t i = 0; i < rl.n; i++) {
			int v = LIT_VAR(rl.a[i]);
			if (v == pvar || s->seen[v])
				continue;
			s->seen[v] = 1;
			ivec_push(&seen, v);
			if (s->vars[v].level == 0) {
				ivec_push(&zeros, v);
			} else if (s->vars[v].level == cur) {
				path++;
				kheap_push(&s->aheap, KHEAP_KEY(INT32_MAX - s->vars[v].tpos, v));
			} else {
				ivec_push(&learnt, rl.a[i]);
			}
		}
		pvar = KHEAP_ID(kheap_pop(&s->aheap));
		if (--path == 0)
			break;
		reason = s->vars[pvar].reason;
	}
	learnt.a[0] = s->trail[s->vars[pvar].tpos] ^ 1;

	/*
	 * Drop "p is w" literals when "p is not v" is in the clause: that is
	 * resolution with "at most one version", and it reads better.
	 */
	for (size_t i = 1; i < learnt.n; i++)
		if (s->vars[LIT_VAR(learnt.a[i])].kind == SVAR_VERSION && LIT_NEG(learnt.a[i]))
			s->mark[LIT_VAR(learnt.a[i])] = 1;
	if (s->vars[LIT_VAR(learnt.a[0])].kind == SVAR_VERSION && LIT_NEG(learnt.a[0]))
		s->mark[LIT_VAR(learnt.a[0])] = 1;
	{
		size_t j = 1;
		for (size_t i = 1; i < learnt.n; i++) {
			int l = learnt.a[i], v = LIT_VAR(l);
			bool drop = false;
			if (s->vars[v].kind == SVAR_VERSION && !LIT_NEG(l)) {
				const struct spkg *p = &s->pkgs[s->vars[v].pkg];
				for (int k = 0; k < p->n && !drop; k++)
					drop = p->var0 + k != v && s->mark[p->var0 + k];
			}
			if (drop)
				ivec_push(&antes, REASON_AMO(v));
			else
				learnt.a[j++] = l;
		}
		for (size_t i = 0; i < learnt.n; i++)
			s->mark[LIT_VAR(learnt.a[i])] = 0;
		learnt.n = j;
	}
	for (size_t i = 0; i < seen.n; i++)
		s->seen[seen.a[i]] = 0;

	for (size_t i = 1; i < learnt.n; i++) {
		if (s->vars[LIT_VAR(learnt.a[i])].level > bj) {
			int t = learnt.a[1];
			bj = s->vars[LIT_VAR(learnt.a[i])].level;
			learnt.a[1] = learnt.a[i];
			learnt.a[i] = t;
		}
	}

	lid = (int)s->n_learns;
	XGROW(s->learns, s->cap_learns, s->n_learns + 1);
	L = &s->learns[s->n_learns++];
	L->ante_off = (int)s->pool.n;
	L->n_ante = (int)antes.n;
	for (size_t i = 0; i < antes.n; i++)
		ivec_push(&s->pool, antes.a[i]);
	L->zero_off = (int)s->pool.n;
	L->n_zero = (int)zeros.n;
	for (size_t i = 0; i < zeros.n; i++)
		ivec_push(&s->pool, zeros.a[i]);

	/*
	 * Undo the first UIP and what depends on it, no more: the decisions
	 * made since have nothing to do with the conflict.  The learned
	 * clause's literal is then implied at level bj.
	 */
	if (s->safe || cur <= s->root_level)
		backjump(s, (size_t)cur - 1);
	else
		undo(s, LIT_VAR(learnt.a[0]));
	confl = add_clause(s, learnt.a, (int)learnt.n, CL_LEARNED, lid, &cid);
	if (confl < 0)
		confl = imply_pending(s);
	s->learns[lid].clause = cid;
	s->an[0] = learnt;
	s->an[1] = antes;
	s->an[2] = zeros;
	s->an[3] = rl;
	s->an[4] = seen;
	return confl;
}

/* ------------------------------------------------------------- decisions */

/* The first literal of cands that is not false, if it is unassigned. */
static int pick(const struct solver *s, const int *cands, int n, bool *done)
{
	for (int i = 0; i < n; i++) {
		int v = lit_value(s, cands[i]);
		if (v == 1)
			break;
		if (v < 0) {
			*done = false;
			return cands[i];
		}
	}
	*done = true;
	return -1;
}

/*
 * The versions of p still open that every range needed on it now (a true
 * AUX_DEP on p alone) allows, into s->need.  Up to 64 versions, the ranges'
 * part is kept in p->rmask: a range joins it when its literal is propagated
 * (propagate_clauses), and it is redone after one is unassigned.  It is
 * read with nothing left to propagate, so it is never behind.
 */
static void need_mask(struct solver *s, struct spkg *p)
{
	size_t w = nwords(p);

	XGROW(s->need, s->cap_need, w + 1);
	if (w == 1) {
		if (!p->rmask_ok) {
			uint64_t m = ~(uint64_t)0;
			for (size_t k = 0; k < p->ranges.n; k++) {
				const struct saux *z = &s->auxs[p->ranges.a[k]];
				if (s->val[z->var] == 1)
					m &= s->bits[z->mask_off];
			}
			p->rmask = m;
			p->rmask_ok = true;
		}
		s->need[0] = s->bits[p->open_off] & p->rmask;
		return;
	}
	memcpy(s->need, s->bits + p->open_off, w * sizeof(uint64_t));
	for (size_t k = 0; k < p->ranges.n; k++) {
		const struct saux *z = &s->auxs[p->ranges.a[k]];
		if (s->val[z->var] == 1)
			for (size_t j = 0; j < w; j++)
				s->need[j] &= s->bits[z->mask_off + j];
	}
}

/*
 * need_mask, and for derive_ranges the ids of those ranges, after first,
 * into s->rs.
 */
static void need_set(struct solver *s, struct spkg *p, int first)
{
	need_mask(s, p);
	s->rs.n = 0;
	if (first >= 0)
		ivec_push(&s->rs, first);
	for (size_t k = 0; k < p->ranges.n; k++) {
		int id = p->ranges.a[k];
		if (id != first && s->val[s->auxs[id].var] == 1)
			ivec_push(&s->rs, id);
	}
}

/*
 * No open version of p is allowed by the ranges s->rs (the first true or
 * unassigned, the others true): derive the incompatibility of a few of
 * them, "these ranges are not all needed (unless one of these versions,
 * all false now, is chosen)", as PubGrub does, instead of trying each
 * version in turn and learning about one at a time.  The clause follows
 * from the ranges' dependency clauses and "at most one version", and is
 * recorded as learned from those.  When every literal is false, backjumps
 * to where it is asserting (or still in conflict).  Returns a conflicting
 * clause id or -1; sets *done when a clause was added.
 */
static int derive_ranges(struct solver *s, const struct spkg *p, bool *done)
{
	size_t w = nwords(p);
	uint64_t *in = xcalloc(2 * w + 1, sizeof(uint64_t)), *open = in + w;
	struct ivec lits = {0}, antes = {0};
	int top = 0, n_top = 0, next = 0, lid, cid, confl = -1;
	bool left = false, unassigned = false;
	int top_var = -1;
	struct slearn *L;

	for (int i = 0; i < p->n; i++)
		if (s->val[p->var0 + i] != 0)
			bit_set(open, i);
	/* Greedily: a range joins when it rules out a version still open. */
	for (size_t k = 0; k < s->rs.n; k++) {
		const struct saux *z = &s->auxs[s->rs.a[k]];
		const uint64_t *m = s->bits + z->mask_off;
		bool cuts = k == 0;
		for (size_t j = 0; j < w && !cuts; j++)
			cuts = (in[j] & ~m[j] & open[j]) != 0;
		if (!cuts)
			continue;
		left = false;
		for (size_t j = 0; j < w; j++) {
			in[j] = k == 0 ? m[j] : in[j] & m[j];
			left = left || (in[j] & open[j]);
		}
		ivec_push(&lits, LIT(z->var, 1));
		ivec_push(&antes, z->dep_cl);
		if (!left)
			break;
	}
	if (left) {
		/* Not what the caller saw: nothing to derive. */
		free(in);
		free(lits.a);
		free(antes.a);
		return -1;
	}
	for (int i = 0; i < p->n; i++)
		if (bit_get(in, i))
			ivec_push(&lits, LIT(p->var0 + i, 0));
	free(in);

	for (size_t i = 0; i < lits.n; i++) {
		int l = s->vars[LIT_VAR(lits.a[i])].level;
		if (lit_value(s, lits.a[i]) != 0) {
			unassigned = true;
			continue;
		}
		if (l > top) {
			next = top;
			top = l;
			n_top = 1;
			top_var = LIT_VAR(lits.a[i]);
		} else if (l == top) {
			n_top++;
		} else if (l > next) {
			next = l;
		}
	}
	/*
	 * All false: undo the one literal of the highest level, which the
	 * clause then implies; else the clause is a conflict to analyse.
	 */
	if (!unassigned && (s->safe || top <= s->root_level))
		backjump(s, (size_t)(n_top == 1 && top > 0 ? top - 1 : top));
	else if (!unassigned && n_top == 1 && top > 0)
		undo(s, top_var);

	lid = (int)s->n_learns;
	XGROW(s->learns, s->cap_learns, s->n_learns + 1);
	L = &s->learns[s->n_learns++];
	L->ante_off = (int)s->pool.n;
	L->n_ante = (int)antes.n;
	for (size_t i = 0; i < antes.n; i++)
		ivec_push(&s->pool, antes.a[i]);
	L->zero_off = (int)s->pool.n;
	L->n_zero = 0;
	confl = add_clause(s, lits.a, (int)lits.n, CL_LEARNED, lid, &cid);
	s->learns[lid].clause = cid;
	if (confl < 0)
		confl = imply_pending(s);
	if (!unassigned)
		s->stats.conflicts++;
	*done = true;
	free(lits.a);
	free(antes.a);
	return confl;
}

/*
 * For an open dependency, the first candidate that every range needed on
 * its package allows (PubGrub decides the newest version allowed by all
 * the constraints on a package); else the plain first choice.  When that
 * dependency is a range and no version fits, derives why instead (see
 * derive_ranges): then returns -1 with *derived set.
 */
static int pick_dep(struct solver *s, int aux, int first, bool *derived, int *confl)
{
	const struct saux *a = &s->auxs[aux];
	struct spkg *p;

	if (a->single < 0) {
		/* Alternatives: the first that fits the ranges on its package. */
		int last = -1;
		for (int i = 0; i < a->n_cand; i++) {
			int lit = s->pool.a[a->cand_off + i], pid = s->vars[LIT_VAR(lit)].pkg;
			if (lit_value(s, lit) != -1)
				continue;
			if (pid != last)
				need_mask(s, &s->pkgs[pid]);
			last = pid;
			if (bit_get(s->need, s->vars[LIT_VAR(lit)].idx))
				return lit;
		}
		return first;
	}
	p = &s->pkgs[a->single];
	need_mask(s, p);
	for (int i = 0; i < a->n_cand; i++) {
		int lit = s->pool.a[a->cand_off + i];
		if (lit_value(s, lit) == -1 && bit_get(s->need, s->vars[LIT_VAR(lit)].idx))
			return lit;
	}
	need_set(s, p, aux);
	*confl = derive_ranges(s, p, derived);
	return *derived ? -1 : first;
}

/*
 * Before version var is decided: when one of its dependencies is a range
 * that no open version allowed by the ranges already needed on that
 * package fits, derive so (which rules var out) instead of deciding var
 * and meeting the conflict later.  Returns as derive_ranges.
 */
static int check_ranges(struct solver *s, int var, bool *derived)
{
	const struct svar *v = &s->vars[var];

	for (int d = 0; d < v->n_dep; d++) {
		int id = s->pool.a[v->dep_off + d];
		const struct saux *b = &s->auxs[id];
		struct spkg *p;
		bool fits = false;
		if (b->single < 0 || s->val[b->var] != -1)
			continue;
		p = &s->pkgs[b->single];
		need_mask(s, p);
		for (size_t j = 0; j < nwords(p) && !fits; j++)
			fits = (s->need[j] & s->bits[b->mask_off + j]) != 0;
		if (fits)
			continue;
		need_set(s, p, id);
		int confl = derive_ranges(s, p, derived);
		if (*derived)
			return confl;
	}
	return -1;
}

/*
 * The next decision literal, or -1 when every goal is met; or -1 with
 * *derived set when it derived a clause instead (*confl: see pick_dep).
 */
static int decide(struct solver *s, bool *derived, int *confl)
{
	bool done;
	int lit;

	s->root_decision = true;
	for (size_t g = 0; g < s->n_inst; g++) {
		int k = s->pkgs[s->inst_pkgs[g]].keep;
		if (s->val[k] < 0)
			return LIT(k, 0);
	}
	for (size_t r = 0; r < s->n_roots; r++) {
		lit = pick(s, s->pool.a + s->root_cand_off[r], s->root_n_cand[r], &done);
		if (!done)
			return lit;
	}
	s->root_decision = false;
	while (s->heap.n) {
		int top = KHEAP_ID(s->heap.a[0]);
		const struct saux *a = &s->auxs[top];
		if (s->val[a->var] == 1) {
			lit = pick(s, s->pool.a + a->cand_off, a->n_cand, &done);
			if (!done)
				return pick_dep(s, top, lit, derived, confl);
		}
		solve_heap_pop(s);
	}
	return -1;
}

/* ----------------------------------------------------------------- setup */

static int cmp_inst(const void *a, const void *b, void *sv)
{
	const struct solver *s = sv;
	return strcmp(s->pkgs[*(const int *)a].name, s->pkgs[*(const int *)b].name);
}

static int setup_pins(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;

	for (size_t i = 0; i < rq->n_pins; i++) {
		const struct stitch_solve_pin *pin = &rq->pins[i];
		const struct stitch_version *v;
		struct spkg *p;
		int pid;

		if (!pin->name || !stitch_name_valid(pin->name, strlen(pin->name)) ||
		    !pin->version || !stitch_version_valid(pin->version, strlen(pin->version)))
			return stitch_error(s->err, STITCH_E_USAGE, "invalid pin '%s=%s'",
			                    pin->name ? pin->name : "",
			                    pin->version ? pin->version : "");
		pid = touch(s, pin->name);
		p = &s->pkgs[pid];
		if (!p->pkg)
			return stitch_error(
			    s->err, STITCH_E_NOTFOUND,
			    "cannot pin '%s': no repository has a package of that name", pin->name);
		v = stitch_pkg_find_version(p->pkg, pin->version);
		if (!v) {
			stitch_error(s->err, STITCH_E_NOTFOUND,
			             "cannot pin '%s' to %s%s%s%s: no such version in the index",
			             pin->name, pin->version, pin->origin ? " (" : "",
			             pin->origin ? pin->origin : "", pin->origin ? ")" : "");
			struct stitch_buf b = STITCH_BUF_INIT;
			for (int k = 0; k < p->n && k < 10; k++)
				stitch_buf_addf(&b, "%s%s", k ? ", " : "",
				                p->pkg->versions[k].version);
			if (p->n > 10)
				stitch_buf_adds(&b, ", ...");
			stitch_error_cause(s->err, "known versions of '%s': %s", pin->name,
			                   p->n ? b.buf : "none");
			stitch_buf_release(&b);
			return STITCH_E_NOTFOUND;
		}
		if (p->pin >= 0 && p->pin != (int)(v - p->pkg->versions))
			return stitch_error(s->err, STITCH_E_USAGE,
			                    "'%s' is pinned twice, to %s and to %s", pin->name,
			                    p->pkg->versions[p->pin].version, pin->version);
		p->pin = (int)(v - p->pkg->versions);
		p->pin_no = (int)i;
	}
	for (size_t i = 0; i < s->n_pkgs; i++) {
		const struct spkg *p = &s->pkgs[i];
		for (int k = 0; p->pin >= 0 && k < p->n; k++) {
			int lit = LIT(p->var0 + k, 1);
			if (k != p->pin && lit_value(s, lit) < 0)
				add_clause(s, &lit, 1, CL_PIN, (int)i, NULL);
		}
	}
	return 0;
}

static int setup_installed(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;

	s->inst_pkgs = xcalloc(rq->n_installed + 1, sizeof(int));
	for (size_t i = 0; i < rq->n_installed; i++) {
		const struct stitch_solve_installed *in = &rq->installed[i];
		const struct stitch_version *v;
		struct spkg *p;

		if (!in->name || !stitch_name_valid(in->name, strlen(in->name)) || !in->version ||
		    !stitch_version_valid(in->version, strlen(in->version)))
			return stitch_error(
			    s->err, STITCH_E_USAGE, "invalid installed package '%s=%s'",
			    in->name ? in->name : "", in->version ? in->version : "");
		int pid = touch(s, in->name);

		p = &s->pkgs[pid];
		if (p->inst >= 0)
			return stitch_error(s->err, STITCH_E_USAGE,
			                    "'%s' is listed as installed twice", in->name);
		v = p->pkg ? stitch_pkg_find_version(p->pkg, in->version) : NULL;
		/* A version the index no longer has cannot be kept: no preference. */
		if (!v || rq->upgrade)
			continue;
		p->inst = (int)(v - p->pkg->versions);
		s->inst_pkgs[s->n_inst++] = pid;
	}
	/*
	 * "Keep p's installed version (or leave p out)" is one variable, so
	 * that the search decides it in one step and, when it must fail,
	 * falls back on the root preferences rather than on some order
	 * among the other versions.
	 */
	for (size_t g = 0; g < s->n_inst; g++) {
		int pid = s->inst_pkgs[g], k = new_var(s, SVAR_KEEP, pid, 0);
		const struct spkg *p = &s->pkgs[pid];
		s->pkgs[pid].keep = k;
		for (int i = 0; i < p->n; i++) {
			int lits[2] = {LIT(k, 1), LIT(p->var0 + i, 1)};
			if (i != p->inst)
				add_clause(s, lits, 2, CL_KEEP, pid, NULL);
		}
	}
	qsort_r(s->inst_pkgs, s->n_inst, sizeof(int), cmp_inst, s);
	return 0;
}

static int setup_roots(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;

	s->n_roots = rq->n_roots;
	s->root_reqs = xcalloc(rq->n_roots + 1, sizeof(*s->root_reqs));
	s->root_cl = xcalloc(rq->n_roots + 1, sizeof(int));
	s->root_cand_off = xcalloc(rq->n_roots + 1, sizeof(int));
	s->root_n_cand = xcalloc(rq->n_roots + 1, sizeof(int));
	for (size_t i = 0; i < rq->n_roots; i++)
		if (stitch_req_parse(rq->roots[i], &s->root_reqs[i], s->err) != 0)
			return STITCH_E_PARSE;
	return 0;
}

/*
 * For a large problem (n versions reached), the big arrays start side by
 * side in one mapping, each with room for what a search over n versions
 * makes.  Fresh memory is costly here (each huge page is cleared when first
 * touched, and on a virtual machine first touched by the host too), and
 * one mapping per array leaves most of a huge page unused at the end of
 * each; side by side, the used parts share them.  An array that outgrows
 * its place moves to a mapping of its own (big_grow).
 */
#define ARENA_MIN ((size_t)4 << 20)

static void place_arena(struct solver *s, size_t n)
{
	size_t nv = n + n / 2 + 64, at = 0, len = 0;

	for (int pass = 0; pass < 2; pass++) {
		at = 0;
#define ARENA_SLOT(arr, capf, want)                                           \
	do {                                                                  \
		size_t bytes_ = ((want) * sizeof(*(arr)) + 63) & ~(size_t)63; \
		if (pass == 1 && !(arr)) {                                    \
			(arr) = (void *)(s->arena + at);                      \
			(capf) = (want);                                      \
		}                                                             \
		at += bytes_;                                                 \
	} while (0)
		if (pass == 1) {
			if (len < ARENA_MIN)
				return;
			s->arena_len = big_len(len);
			s->arena = stitch_map_huge(s->arena_len, false);
		}
		ARENA_SLOT(s->vars, s->cap_vars, nv);
		ARENA_SLOT(s->val, s->cap_val, nv);
		ARENA_SLOT(s->mark, s->cap_mark, nv);
		ARENA_SLOT(s->seen, s->cap_seen, nv);
		ARENA_SLOT(s->watches, s->cap_watches, 2 * nv);
		ARENA_SLOT(s->auxs, s->cap_auxs, n / 2 + 64);
		ARENA_SLOT(s->cls, s->cap_cls, 2 * n + 64);
		ARENA_SLOT(s->lits, s->cap_lits, 6 * n + 256);
		ARENA_SLOT(s->edges, s->cap_edges, 4 * n + 64);
		ARENA_SLOT(s->trail, s->cap_trail, 3 * n + 64);
#undef ARENA_SLOT
		len = at;
	}
}

/* Rank the packages for the decision order (solve_order.c). */
static void setup_order(struct solver *s)
{
	const struct stitch_solve_request *rq = s->rq;
	struct ivec st = {0};

	for (size_t i = 0; i < s->n_roots; i++)
		for (size_t a = 0; a < s->root_reqs[i]->n_alts; a++)
			ivec_push(&st, solve_vis_find(s->idx, s->root_reqs[i]->alts[a].name));
	for (size_t i = 0; i < rq->n_installed; i++)
		if (rq->installed[i].name)
			ivec_push(&st, solve_vis_find(s->idx, rq->installed[i].name));
	for (size_t i = 0; i < rq->n_pins; i++)
		if (rq->pins[i].name)
			ivec_push(&st, solve_vis_find(s->idx, rq->pins[i].name));
	solve_order_rank(s, st.a, st.n);
	free(st.a);
	/* Versions of the packages reached, and about one aux for each two. */
	size_t n = 0, n_pkgs = 0;
	for (size_t i = 0; i < s->idx->n_visible; i++) {
		if (s->vrank[i] >= 0) {
			n += s->idx->visible[i]->n_versions;
			n_pkgs++;
		}
	}
	XGROW(s->pkgs, s->cap_pkgs, n_pkgs + 16);
	place_arena(s, n);
	reserve_vars(s, n + n / 2 + 64);
	/*
	 * And room for what a search over them makes: reserved memory is only
	 * faulted in where it is used, while growing copies.
	 */
	BIG_GROW(s, s->cls, s->cap_cls, 2 * n + 64);
	BIG_GROW(s, s->lits, s->cap_lits, 6 * n + 256);
	BIG_GROW(s, s->edges, s->cap_edges, 4 * n + 64);
	BIG_GROW(s, s->auxs, s->cap_auxs, n / 2 + 64);
	BIG_GROW(s, s->trail, s->cap_trail, 3 * n + 64);
	XGROW(s->pool.a, s->pool.cap, 4 * n + 64);
}

/* Root clauses go in after the pins so that they see the pins' units. */
static int add_root_clauses(struct solver *s)
{
	int confl = -1;

	for (size_t i = 0; i < s->n_roots; i++) {
		s->tmp.n = 0;
		req_candidates(s, s->root_reqs[i], &s->tmp);
		s->root_cand_off[i] = (int)s->pool.n;
		s->root_n_cand[i] = (int)s->tmp.n;
		for (size_t k = 0; k < s->tmp.n; k++) {
			ivec_push(&s->pool, s->tmp.a[k]);
			s->pkgs[s->vars[LIT_VAR(s->tmp.a[k])].pkg].root = true;
		}
		s->tmp.n = 0;
		for (int k = 0; k < s->root_n_cand[i]; k++)
			ivec_push(&s->tmp, s->pool.a[s->root_cand_off[i] + k]);
		note_conflict(
		    add_clause(s, s->tmp.a, (int)s->tmp.n, CL_ROOT, (int)i, &s->root_cl[i]),
		    &confl);
	}
	return confl;
}

static void solver_free(struct solver *s)
{
	while (s->wchunks) {
		struct wchunk *next = s->wchunks->next;
		free(s->wchunks);
		s->wchunks = next;
	}
	big_free(s, s->watches, s->cap_watches, sizeof(*s->watches));
	big_free(s, s->vars, s->cap_vars, sizeof(*s->vars));
	big_free(s, s->val, s->cap_val, sizeof(*s->val));
	for (size_t i = 0; i < s->n_pkgs; i++)
		if (!s->pkgs[i].pkg)
			free((char *)s->pkgs[i].name);
	free(s->pkgs);
	big_free(s, s->auxs, s->cap_auxs, sizeof(*s->auxs));
	big_free(s, s->cls, s->cap_cls, sizeof(*s->cls));
	big_free(s, s->lits, s->cap_lits, sizeof(*s->lits));
	free(s->learns);
	free(s->pool.a);
	big_free(s, s->trail, s->cap_trail, sizeof(*s->trail));
	free(s->lim);
	free(s->names.e);
	free(s->vis_pkg);
	for (size_t i = 0; i < s->n_roots; i++)
		stitch_req_free(s->root_reqs[i]);
	free(s->root_reqs);
	free(s->root_cl);
	free(s->root_cand_off);
	free(s->root_n_cand);
	free(s->inst_pkgs);
	big_free(s, s->mark, s->cap_mark, sizeof(*s->mark));
	big_free(s, s->seen, s->cap_seen, sizeof(*s->seen));
	free(s->tmp.a);
	free(s->heap.a);
	free(s->vrank);
	solve_vis_release(s);
	free(s->undone.a);
	free(s->uvars.a);
	free(s->uheap.a);
	free(s->aheap.a);
	big_free(s, s->edges, s->cap_edges, sizeof(*s->edges));
	if (s->arena)
		munmap(s->arena, s->arena_len);
	free(s->pend.a);
	free(s->rs.a);
	free(s->dirty.a);
	free(s->bits);
	free(s->need);
	free(s->tmp2.a);
	free(s->units.a);
	free(s->cuts);
	free(s->vkeys);
	free(s->vstrs);
	for (int i = 0; i < 5; i++)
		free(s->an[i].a);
	for (size_t r = 0; s->repo_vis && r < s->idx->n_repos; r++)
		free(s->repo_vis[r]);
	free(s->repo_vis);
}

/*
 * Version var, when true and not met yet, is needed: mark it and queue it.
 * Returns whether it is true.
 */
static bool need(struct solver *s, int var, struct ivec *q)
{
	if (s->val[var] != 1)
		return false;
	if (!s->mark[var]) {
		s->mark[var] = 1;
		ivec_push(q, var);
	}
	return true;
}

/*
 * The chosen versions: those the roots need, through the versions that
 * meet each dependency.  A decision that undo() kept after the dependency
 * that asked for it was undone, and was not asked for again, is left out:
 * nothing needs it, and any set of versions closed under the
 * dependencies of its members is a solution.
 *
 * The set is checked before it is given (each version's dependencies met
 * within it, which collecting sees, none of its conflicts matched, pins
 * kept), so that a mistake in the search costs a second search (see
 * stitch_solve), never a wrong answer.
 */
static bool collect(struct solver *s, struct stitch_solution *out)
{
	bool ok = true;
	struct ivec q = {0};

	for (size_t r = 0; r < s->n_roots; r++)
		for (int k = 0; k < s->root_n_cand[r]; k++)
			need(s, LIT_VAR(s->pool.a[s->root_cand_off[r] + k]), &q);
	for (size_t i = 0; i < q.n; i++) {
		const struct svar *v = &s->vars[q.a[i]];
		const struct spkg *p = &s->pkgs[v->pkg];
		if ((p->pin >= 0 && p->pin != v->idx) ||
		    v->n_dep != (int)p->pkg->versions[v->idx].n_depends)
			ok = false;
		for (int d = 0; d < v->n_dep; d++) {
			const struct saux *a = &s->auxs[s->pool.a[v->dep_off + d]];
			bool met = false;
			for (int k = 0; k < a->n_cand; k++)
				met |= need(s, LIT_VAR(s->pool.a[a->cand_off + k]), &q);
			ok = ok && met;
		}
	}
	for (size_t i = 0; i < q.n && ok; i++) {
		const struct svar *v = &s->vars[q.a[i]];
		const struct stitch_version *ver = &s->pkgs[v->pkg].pkg->versions[v->idx];
		for (size_t c = 0; c < ver->n_conflicts && ok; c++) {
			int id = find_aux(s, v->pkg, AUX_CONF, ver->conflicts[c]);
			ok = id >= 0;
			for (int k = 0; ok && k < s->auxs[id].n_cand; k++)
				ok = !s->mark[LIT_VAR(s->pool.a[s->auxs[id].cand_off + k])];
		}
	}
	/* By name: the visible packages are sorted by name. */
	out->chosen = xcalloc(q.n + 1, sizeof(*out->chosen));
	out->n = 0;
	for (size_t vis = 0; vis < s->idx->n_visible && s->vis_pkg; vis++) {
		const struct spkg *p = s->vis_pkg[vis] >= 0 ? &s->pkgs[s->vis_pkg[vis]] : NULL;
		for (int i = 0; p && i < p->n; i++) {
			if (s->mark[p->var0 + i]) {
				out->chosen[out->n++] = &p->pkg->versions[i];
				s->mark[p->var0 + i] = 0;
			}
		}
	}
	free(q.a);
	return ok;
}

/*
 * One-literal clauses met during the search hold from level 0 on: imply
 * those that a backjump unassigned, or that another conflict went before.
 * Returns a conflicting one, or -1.
 */
static int assert_units(struct solver *s)
{
	size_t j = 0;
	int confl = -1;

	for (size_t i = 0; i < s->units.n; i++) {
		int u = s->units.a[i], l = s->lits[s->cls[u].off];
		if (confl < 0 && lit_value(s, l) < 0)
			enqueue(s, l, u);
		else if (confl < 0 && lit_value(s, l) == 0)
			confl = u;
		if (lit_value(s, l) != 1 || s->vars[LIT_VAR(l)].level != 0)
			s->units.a[j++] = u;
	}
	s->units.n = j;
	return confl;
}

static int search(struct solver *s, int confl, struct stitch_solution *out, struct stitch_buf *why)
{
	for (;;) {
		if (confl < 0 && s->units.n)
			confl = assert_units(s);
		if (confl < 0)
			confl = propagate(s);
		if (s->fail)
			return s->fail;
		if (confl >= 0) {
			int level;
			s->stats.conflicts++;
			confl = conflict_level(s, confl, &level);
			if (confl < 0)
				continue;
			if (level == 0) {
				backjump(s, 0);
				solve_explain(s, confl, why, s->err);
				return STITCH_E_UNSAT;
			}
			confl = analyze(s, confl, level);
			continue;
		}
		bool derived = false;
		int lit = decide(s, &derived, &confl);
		if (derived)
			continue;
		if (lit < 0)
			return collect(s, out) ? 0 : SEARCH_AGAIN;
		/*
		 * Turn a version's requirements into clauses before choosing it:
		 * if they cannot hold with what is chosen, propagation rules the
		 * version out and no conflict (and no backjump) is needed, as
		 * PubGrub does not decide a version whose dependencies are
		 * already violated.
		 */
		if (!LIT_NEG(lit) && s->vars[LIT_VAR(lit)].kind == SVAR_VERSION &&
		    !s->vars[LIT_VAR(lit)].expanded) {
			confl = expand(s, LIT_VAR(lit));
			continue;
		}
		if (!LIT_NEG(lit) && s->vars[LIT_VAR(lit)].kind == SVAR_VERSION) {
			confl = check_ranges(s, LIT_VAR(lit), &derived);
			if (derived)
				continue;
		}
		s->stats.decisions++;
		XGROW(s->lim, s->cap_lim, s->n_lim + 1);
		s->lim[s->n_lim++] = (int)s->n_trail;
		enqueue(s, lit, REASON_NONE);
		if (s->root_decision)
			s->root_level = (int)s->n_lim;
		if (s->vars[LIT_VAR(lit)].kind == SVAR_VERSION) {
			/*
			 * The dependencies that ask for it or limit it, and the
			 * newer versions ruled out, which it was chosen over
			 * (see undo()).
			 */
			const struct spkg *p = &s->pkgs[s->vars[LIT_VAR(lit)].pkg];
			for (size_t k = 0; k < p->incoming.n; k++) {
				int av = s->auxs[p->incoming.a[k]].var;
				if (s->val[av] == 1)
					add_edge(s, av, LIT_VAR(lit));
			}
			for (int i = 0; i < s->vars[LIT_VAR(lit)].idx; i++)
				if (s->val[p->var0 + i] == 0)
					add_edge(s, p->var0 + i, LIT_VAR(lit));
		}
	}
}

static int solve_once(const struct stitch_index *idx, const struct stitch_solve_request *req,
                      struct stitch_solution *out, struct stitch_buf *why, struct stitch_err *err,
                      bool safe)
{
	struct solver s;
	struct stitch_err local = STITCH_ERR_INIT;
	int rc, confl;

	memset(&s, 0, sizeof(s));
	memset(out, 0, sizeof(*out));
	s.idx = idx;
	s.rq = req;
	s.err = err ? err : &local;
	s.safe = safe;
	rc = setup_roots(&s);
	if (rc == 0)
		setup_order(&s);
	if (rc == 0)
		rc = setup_pins(&s);
	if (rc == 0)
		rc = setup_installed(&s);
	if (rc == 0) {
		confl = add_root_clauses(&s);
		rc = search(&s, confl, out, why);
	}
	s.stats.packages = s.n_pkgs;
	s.stats.variables = s.n_vars;
	s.stats.clauses = s.n_cls;
	out->stats = s.stats;
	solver_free(&s);
	return rc;
}

int stitch_solve(const struct stitch_index *idx, const struct stitch_solve_request *req,
                 struct stitch_solution *out, struct stitch_buf *why, struct stitch_err *err)
{
	/*
	 * For tests: STITCH_SOLVE_SAFE=1 always takes the plain search, =retry
	 * takes it after the first as if that one's answer had not held, and
	 * =fast never takes it: an answer that does not hold is an error.
	 */
	const char *env = getenv("STITCH_SOLVE_SAFE");
	bool safe = env && strcmp(env, "1") == 0;
	int rc = solve_once(idx, req, out, why, err, safe);

	if (rc == 0 && env && strcmp(env, "retry") == 0)
		rc = SEARCH_AGAIN;
	if (rc == SEARCH_AGAIN && !(env && strcmp(env, "fast") == 0)) {
		/*
		 * The search that keeps decisions across conflicts gave an
		 * answer that does not hold: a bug, which must not reach the
		 * user.  The plain search, which undoes every level above the
		 * conflict, answers instead.
		 */
		stitch_solution_release(out);
		rc = solve_once(idx, req, out, why, err, true);
	}
	if (rc == SEARCH_AGAIN) {
		struct stitch_err local = STITCH_ERR_INIT;
		stitch_solution_release(out);
		rc = stitch_error(err ? err : &local, STITCH_E_UNSAT,
		                  "the resolver's answer does not hold: "
		                  "please report this index and request");
		stitch_err_clear(&local);
	}
	return rc;
}

void stitch_solution_release(struct stitch_solution *sol)
{
	free(sol->chosen);
	sol->chosen = NULL;
	sol->n = 0;
}
