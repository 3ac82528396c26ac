/*
 * The order in which the resolver decides open dependencies (see
 * solve_order.h): dependents before their dependencies.
 *
 * Before the search, the packages reachable from the roots, the installed
 * packages and the pins through any version's depends (every alternative)
 * are ranked: the strongly connected components of that graph in
 * topological order (a package comes before everything it may depend on),
 * the members of a cycle in the order a depth-first search from the roots
 * meets them.  Deciding the open dependency whose package has the lowest
 * rank means that when a package's version is chosen, every package that
 * could still require it has been decided already, so all the ranges that
 * will ever constrain it are known and the newest version they all allow
 * is taken at once, instead of a version that a dependent decided later
 * rules out (one conflict, and one learned clause, per version).
 *
 * This only orders decisions: the clauses do not depend on it, so any
 * mistake here (a requirement string the quick scan misreads) costs time,
 * never correctness.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "solve_order.h"
#include "solve_pool.h"
#include "solve_types.h"

/* Start loading the memory at p into the cache: only a hint. */
#ifdef __GNUC__
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* The bytes that end a name in a requirement string. */
static const bool name_stop[256] = {
    ['\0'] = true, [' '] = true, ['\t'] = true, ['{'] = true, ['|'] = true,
};

/* A 32-bit hash of x (Fibonacci hashing: the high bits of a product). */
static uint32_t mix(uint64_t x)
{
	return (uint32_t)((x * 0x9e3779b97f4a7c15u) >> 32);
}

/*
 * What the listing of one package's successors has met: requirement
 * strings, by address, and names, by content.  A name is keyed by its
 * first bytes only, so that one met before is recognized by comparing it,
 * without scanning it to its end first.  Entries of an older generation
 * are free, so starting the next package costs nothing.
 */
struct seen_ent {
	const char *s;
	size_t len; /* of the name; 0 for a requirement string */
	uint32_t hash; /* mix of the string's address or of the name's key */
	uint32_t gen;
};

struct seen_set {
	struct seen_ent *e;
	size_t mask, n;
	uint32_t gen;
};

static void seen_next(struct seen_set *set)
{
	if (!set->e) {
		set->mask = 63;
		set->e = xcalloc(set->mask + 1, sizeof(*set->e));
	}
	set->gen++;
	set->n = 0;
}

/* The free slot for hash, after the entries that share its chain. */
static struct seen_ent *seen_free(const struct seen_set *set, uint32_t hash)
{
	size_t j = hash & set->mask;

	while (set->e[j].gen == set->gen)
		j = (j + 1) & set->mask;
	return &set->e[j];
}

static void seen_grow(struct seen_set *set)
{
	struct seen_set old = *set;

	set->mask = 2 * old.mask + 1;
	set->e = xcalloc(set->mask + 1, sizeof(*set->e));
	for (size_t j = 0; j <= old.mask; j++)
		if (old.e[j].gen == old.gen)
			*seen_free(set, old.e[j].hash) = old.e[j];
	free(old.e);
}

/* Count the entry just added, keeping the table at most half full. */
static void seen_count(struct seen_set *set)
{
	if (2 * ++set->n > set->mask + 1)
		seen_grow(set);
}

/* Add an entry; the caller knows it is not there. */
static void seen_put(struct seen_set *set, const char *s, size_t len, uint32_t hash)
{
	*seen_free(set, hash) = (struct seen_ent){s, len, hash, set->gen};
	seen_count(set);
}

/* Has the set met the requirement string s (by address)?  Adds it if not. */
static bool seen_str(struct seen_set *set, const char *s)
{
	struct seen_ent *e = set->e;
	size_t mask = set->mask, j;
	uint32_t h = mix((uintptr_t)s), gen = set->gen;

	for (j = h & mask; e[j].gen == gen; j = (j + 1) & mask)
		if (e[j].s == s && e[j].len == 0)
			return true;
	e[j] = (struct seen_ent){s, 0, h, gen};
	seen_count(set);
	return false;
}

/*
 * The length of the name at s if the set has met it, else 0.  hash is the
 * mix of its key (see take_name).
 */
static size_t seen_name(const struct seen_set *set, const char *s, uint32_t hash)
{
	const struct seen_ent *e = set->e;
	size_t mask = set->mask;

	for (size_t j = hash & mask; e[j].gen == set->gen; j = (j + 1) & mask)
		if (e[j].hash == hash && e[j].len && strncmp(e[j].s, s, e[j].len) == 0 &&
		    name_stop[(unsigned char)s[e[j].len]])
			return e[j].len;
	return 0;
}

/* What listing a package's successors needs, kept from one to the next. */
struct lister {
	struct solver *s;
	const struct stitch_index *idx;
	const struct name_tab *tab;
	struct seen_set seen;
	const char **fresh; /* the package's requirement strings not met before */
	uint32_t *fresh_alt; /* and their compiled forms (stitch_version.reqs) */
	size_t cap_fresh;
	unsigned *pushed; /* per visible package: gen when pushed for this one */
	unsigned gen;
};

/* Push visible package v on out, once per package listed. */
static void push_vis(struct lister *l, int v, struct ivec *out)
{
	if (v >= 0 && l->pushed[v] != l->gen) {
		l->pushed[v] = l->gen;
		ivec_push(out, v);
	}
}

/*
 * Push the packages a compiled requirement (first alternative a) names,
 * through vis (solve_repo_vis).  False, pushing nothing, when one of them
 * is hidden by another repository.
 */
static bool take_compiled(struct lister *l, const int *vis, const struct stitch_req_alt *a,
                          struct ivec *out)
{
	for (const struct stitch_req_alt *x = a;; x++) {
		if (vis[x->pkg] < 0)
			return false;
		if (x->last)
			break;
	}
	for (;; a++) {
		push_vis(l, vis[a->pkg], out);
		if (a->last)
			return true;
	}
}

/*
 * The name at s, which is not empty: push the package it names on out
 * (its visible index) unless the package's names met it.  Returns the end
 * of the name.
 */
static const char *take_name(struct lister *l, const char *s, struct ivec *out)
{
	uint32_t key = (uint32_t)(unsigned char)s[0] << 8, h = SOLVE_FNV_OFFSET;
	size_t len;
	int v;

	/* The first two bytes key it, the second only when it is in the name. */
	if (!name_stop[(unsigned char)s[1]])
		key |= (unsigned char)s[1];
	len = seen_name(&l->seen, s, mix(key));
	if (len)
		return s + len;
	/* A new name: its end and its hash (solve_names_find) in one pass. */
	for (; !name_stop[(unsigned char)s[len]]; len++)
		h = (h ^ (unsigned char)s[len]) * SOLVE_FNV_PRIME;
	seen_put(&l->seen, s, len, mix(key));
	v = solve_names_find(l->tab, s, len, h);
	push_vis(l, v, out);
	return s + len;
}

/*
 * The packages a requirement string names that the package's names have
 * not met, pushed on out.  The string is in canonical form when it comes
 * from an index; a string this misreads only makes the order worse.
 */
static void scan_names(struct lister *l, const char *s, struct ivec *out)
{
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!name_stop[(unsigned char)*s])
			s = take_name(l, s, out);
		/* Skip to the next '|' outside braces and quotes, if any. */
		if (!*s || !strchr(s, '|'))
			return;
		bool brace = false;
		while ((s = strpbrk(s, "\"{}|")) && (*s != '|' || brace)) {
			if (*s == '"' && !(s = strchr(s + 1, '"')))
				return;
			if (*s == '{' || *s == '}')
				brace = *s == '{';
			s++;
		}
		if (!s)
			return;
		s++;
	}
}

/*
 * Push on out the packages p's versions may depend on (every
 * alternative), each once, in the order they are first named.
 *
 * Versions mostly repeat their requirements, and the index keeps one copy
 * of each string, so a requirement met before is skipped by its address
 * without reading it; one that only changed its versions names a package
 * met before, which is not looked up again.  Without that sharing (an
 * index built by hand), equal strings are only read more than once.  Each
 * name is looked up once and visible packages have distinct names, so no
 * package is pushed twice.
 *
 * The records are scattered in memory and each step reads what the one
 * before found, so a step is taken for all the versions before the next:
 * the requirement lists, then the strings, are fetched together instead
 * of one after another.
 */
static void successors(struct lister *l, const struct stitch_pkg *p, struct ivec *out)
{
	size_t n_fresh = 0;
	const int *vis = p->repo && p->repo->req_alts ? solve_repo_vis(l->s, p->repo) : NULL;

	/* Compiled with the repository: the same list, when all are seen. */
	if (vis && p->succ) {
		size_t start = out->n, i;
		for (i = 0; i < p->n_succ && vis[p->succ[i]] >= 0; i++)
			ivec_push(out, vis[p->succ[i]]);
		if (i == p->n_succ)
			return;
		out->n = start;
	}

	for (size_t v = 0; v < p->n_versions; v++)
		PREFETCH(p->versions[v].depends);
	seen_next(&l->seen);
	l->gen++;
	for (size_t v = 0; v < p->n_versions; v++) {
		const struct stitch_version *ver = &p->versions[v];
		if (n_fresh + ver->n_depends > l->cap_fresh) {
			size_t cap = l->cap_fresh;
			XGROW(l->fresh, l->cap_fresh, n_fresh + ver->n_depends);
			XGROW(l->fresh_alt, cap, n_fresh + ver->n_depends);
		}
		for (size_t d = 0; d < ver->n_depends; d++) {
			if (seen_str(&l->seen, ver->depends[d]))
				continue;
			l->fresh_alt[n_fresh] = vis && ver->reqs ? ver->reqs[d] : STITCH_REQ_NONE;
			l->fresh[n_fresh++] = ver->depends[d];
			if (l->fresh_alt[n_fresh - 1] == STITCH_REQ_NONE)
				PREFETCH(ver->depends[d]);
		}
	}
	for (size_t i = 0; i < n_fresh; i++)
		if (l->fresh_alt[i] == STITCH_REQ_NONE ||
		    !take_compiled(l, vis, p->repo->req_alts + l->fresh_alt[i], out))
			scan_names(l, l->fresh[i], out);
}

struct frame {
	int node;
	int next; /* next successor to look at, counting down */
};

/* Tarjan's strongly connected components, without recursion. */
struct tarjan {
	const struct stitch_index *idx;
	struct lister lister;
	int *pre; /* per visible package: 0 unvisited, else 1 + preorder */
	int *low;
	int *adj_off, *adj_n; /* its successors in adj */
	bool *on; /* on stk */
	struct ivec adj, stk;
	struct ivec order; /* the components' members, one component after another */
	struct ivec comp_end; /* where each component ends in order */
	struct frame *fr;
	size_t n_fr, cap_fr;
	int counter;
};

static void tarjan_push(struct tarjan *t, int u)
{
	XGROW(t->fr, t->cap_fr, t->n_fr + 1);
	t->fr[t->n_fr++] = (struct frame){u, -1};
}

/* First visit of u: number it and list its successors, without repeats. */
static void tarjan_visit(struct tarjan *t, struct frame *f, int u)
{
	t->pre[u] = t->low[u] = ++t->counter;
	ivec_push(&t->stk, u);
	t->on[u] = true;
	t->adj_off[u] = (int)t->adj.n;
	successors(&t->lister, t->idx->visible[u], &t->adj);
	t->adj_n[u] = (int)t->adj.n - t->adj_off[u];
	f->next = t->adj_n[u];
}

/* u is finished: its parent learns its low, and a component root pops it. */
static void tarjan_finish(struct tarjan *t, int u)
{
	t->n_fr--;
	if (t->n_fr) {
		int parent = t->fr[t->n_fr - 1].node;
		if (t->low[u] < t->low[parent])
			t->low[parent] = t->low[u];
	}
	if (t->low[u] == t->pre[u]) {
		/* A component: pop it, keeping preorder within. */
		size_t at = t->stk.n;
		do
			at--;
		while (t->stk.a[at] != u);
		for (size_t i = at; i < t->stk.n; i++) {
			t->on[t->stk.a[i]] = false;
			ivec_push(&t->order, t->stk.a[i]);
		}
		ivec_push(&t->comp_end, (int)t->order.n);
		t->stk.n = at;
	}
}

/* The depth-first search from st, which is not visited yet. */
static void tarjan_from(struct tarjan *t, int st)
{
	tarjan_push(t, st);
	while (t->n_fr) {
		struct frame *f = &t->fr[t->n_fr - 1];
		int u = f->node;
		bool pushed = false;
		if (f->next < 0)
			tarjan_visit(t, f, u);
		/* Successors last to first: the first dependency leads. */
		while (f->next > 0) {
			int w = t->adj.a[t->adj_off[u] + --f->next];
			if (!t->pre[w]) {
				tarjan_push(t, w);
				pushed = true;
				break;
			}
			if (t->on[w] && t->pre[w] < t->low[u])
				t->low[u] = t->pre[w];
		}
		if (!pushed)
			tarjan_finish(t, u);
	}
}

static void tarjan_release(struct tarjan *t)
{
	free(t->pre);
	free(t->low);
	free(t->adj_off);
	free(t->adj_n);
	free(t->on);
	free(t->adj.a);
	free(t->lister.seen.e);
	free(t->lister.fresh);
	free(t->lister.fresh_alt);
	free(t->lister.pushed);
	free(t->stk.a);
	free(t->order.a);
	free(t->comp_end.a);
	free(t->fr);
}

void solve_order_rank(struct solver *s, const int *starts, size_t n_starts)
{
	const struct stitch_index *idx = s->idx;
	size_t nv = idx->n_visible;
	struct tarjan t = {.idx = idx, .lister = {.s = s, .idx = idx, .tab = &s->vtab}};
	int rank = 0;

	t.pre = xcalloc(nv + 1, sizeof(int));
	t.low = xcalloc(nv + 1, sizeof(int));
	t.adj_off = xcalloc(nv + 1, sizeof(int));
	t.adj_n = xcalloc(nv + 1, sizeof(int));
	t.on = xcalloc(nv + 1, sizeof(bool));
	solve_names_init(&s->vtab, idx);
	t.lister.pushed = xcalloc(nv + 1, sizeof(*t.lister.pushed));

	s->vrank = xcalloc(nv + 1, sizeof(int));
	for (size_t i = 0; i < nv; i++)
		s->vrank[i] = -1;

	/*
	 * Later starts first: the depth-first search finishes them first,
	 * so in reverse finishing order the first root's packages lead.
	 */
	for (size_t k = n_starts; k-- > 0;)
		if (starts[k] >= 0 && !t.pre[starts[k]])
			tarjan_from(&t, starts[k]);

	/*
	 * Components come out dependencies first: rank them in reverse, each
	 * one's members in the order the search met them.
	 */
	for (size_t c = t.comp_end.n; c-- > 0;) {
		int b = c ? t.comp_end.a[c - 1] : 0, e = t.comp_end.a[c];
		for (int i = b; i < e; i++)
			s->vrank[t.order.a[i]] = rank++;
	}
	tarjan_release(&t);
}

/* ------------------------------------------------------------------ heap */

void solve_heap_push(struct solver *s, int aux)
{
	if (s->auxs[aux].in_heap)
		return;
	s->auxs[aux].in_heap = true;
	kheap_push(&s->heap, KHEAP_KEY(s->auxs[aux].key, aux));
}

void solve_heap_pop(struct solver *s)
{
	s->auxs[KHEAP_ID(kheap_pop(&s->heap))].in_heap = false;
}
