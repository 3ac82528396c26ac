/*
 * The order in which the resolver decides open dependencies (see
 * solve_int.h): dependents before their dependencies.
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

#include "solve_int.h"

/* The visible package named by the len bytes at name, or -1. */
static int vis_find(const struct stitch_index *idx, const char *name, size_t len)
{
	size_t lo = 0, hi = idx->n_visible;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = idx->visible[mid]->name;
		int c = strncmp(m, name, len);
		if (c == 0 && m[len] != '\0')
			c = 1;
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int solve_vis_find(const struct stitch_index *idx, const char *name)
{
	return vis_find(idx, name, strlen(name));
}

static int tab_find(const struct name_tab *t, const struct stitch_index *idx, const char *name,
                    size_t len);

int solve_vis_lookup(const struct solver *s, const char *name)
{
	if (!s->vtab.slot)
		return solve_vis_find(s->idx, name);
	return tab_find(&s->vtab, s->idx, name, strlen(name));
}

void solve_vis_release(struct solver *s)
{
	free(s->vtab.slot);
	free(s->vtab.hash);
	s->vtab.slot = s->vtab.hash = NULL;
}

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void tab_init(struct name_tab *t, const struct stitch_index *idx)
{
	size_t cap = 64;

	while (cap < 2 * idx->n_visible + 2)
		cap *= 2;
	t->slot = xcalloc(cap, sizeof(uint32_t));
	t->hash = xcalloc(idx->n_visible + 1, sizeof(uint32_t));
	t->mask = cap - 1;
	for (size_t i = 0; i < idx->n_visible; i++) {
		const char *n = idx->visible[i]->name;
		uint32_t h = hash_name(n, strlen(n));
		size_t j = h & t->mask;
		while (t->slot[j])
			j = (j + 1) & t->mask;
		t->slot[j] = (uint32_t)i + 1;
		t->hash[i] = h;
	}
}

static int tab_find(const struct name_tab *t, const struct stitch_index *idx, const char *name,
                    size_t len)
{
	uint32_t h = hash_name(name, len);

	for (size_t j = h & t->mask; t->slot[j]; j = (j + 1) & t->mask) {
		uint32_t i = t->slot[j] - 1;
		const char *m;
		if (t->hash[i] != h)
			continue;
		m = idx->visible[i]->name;
		if (strncmp(m, name, len) == 0 && m[len] == '\0')
			return (int)i;
	}
	return -1;
}

static bool name_end(char c)
{
	return c == '\0' || c == ' ' || c == '\t' || c == '{' || c == '|';
}

/*
 * The packages a requirement string names, pushed on out (visible
 * indices).  The string is in canonical form when it comes from an index;
 * a string this misreads only makes the order worse.
 */
static void scan_names(const struct stitch_index *idx, const struct name_tab *t, const char *s,
                       struct ivec *out)
{
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		const char *n = s;
		while (!name_end(*s))
			s++;
		if (s > n) {
			int v = tab_find(t, idx, n, (size_t)(s - n));
			if (v >= 0)
				ivec_push(out, v);
		}
		/* Skip to the next '|' outside braces and quotes, if any. */
		if (!strchr(s, '|'))
			return;
		bool brace = false, quote = false;
		for (; *s; s++) {
			if (quote) {
				if (*s == '"')
					quote = false;
			} else if (*s == '"') {
				quote = true;
			} else if (*s == '{') {
				brace = true;
			} else if (*s == '}') {
				brace = false;
			} else if (*s == '|' && !brace) {
				break;
			}
		}
		if (!*s)
			return;
		s++;
	}
}

/*
 * Are the names in the requirement str all in ver's depends (the version
 * looked at just before)?  Then they need not be looked up again.  The
 * index keeps one copy of each string, so a requirement that did not
 * change is the same pointer; one that only changed its versions names
 * the same package.
 */
static bool seen_before(const struct stitch_version *ver, const char *str)
{
	size_t len = 0;

	for (size_t i = 0; i < ver->n_depends; i++)
		if (ver->depends[i] == str)
			return true;
	while (!name_end(str[len]))
		len++;
	if (len == 0 || strchr(str + len, '|'))
		return false;
	for (size_t i = 0; i < ver->n_depends; i++) {
		const char *d = ver->depends[i];
		if (strncmp(d, str, len) == 0 && name_end(d[len]))
			return true;
	}
	return false;
}

struct frame {
	int node;
	int next; /* next successor to look at, counting down */
};

/*
 * Rank the visible packages reachable from the names in starts (visible
 * indices, in order of preference): s->vrank[i] is the rank of visible
 * package i, or -1 when it is not reachable.
 */
void solve_order_rank(struct solver *s, const int *starts, size_t n_starts)
{
	const struct stitch_index *idx = s->idx;
	size_t nv = idx->n_visible;
	int *pre = xcalloc(nv + 1, sizeof(int)); /* 0 unvisited, else 1 + preorder */
	int *low = xcalloc(nv + 1, sizeof(int));
	int *adj_off = xcalloc(nv + 1, sizeof(int));
	int *adj_n = xcalloc(nv + 1, sizeof(int));
	int *stamp = xcalloc(nv + 1, sizeof(int));
	bool *on = xcalloc(nv + 1, sizeof(bool));
	struct ivec adj = {0}, names = {0}, stk = {0}, order = {0}, comp_end = {0};
	struct frame *fr = NULL;
	size_t n_fr = 0, cap_fr = 0;
	int counter = 0;
	struct name_tab *tab = &s->vtab;

	tab_init(tab, idx);

	s->vrank = xcalloc(nv + 1, sizeof(int));
	for (size_t i = 0; i < nv; i++)
		s->vrank[i] = -1;

	/*
	 * Later starts first: the depth-first search finishes them first,
	 * so in reverse finishing order the first root's packages lead.
	 */
	for (size_t k = n_starts; k-- > 0;) {
		int st = starts[k];
		if (st < 0 || pre[st])
			continue;
		XGROW(fr, cap_fr, n_fr + 1);
		fr[n_fr++] = (struct frame){st, -1};
		while (n_fr) {
			struct frame *f = &fr[n_fr - 1];
			int u = f->node;
			if (f->next < 0) {
				/* First visit: its successors, without repeats. */
				const struct stitch_pkg *p = idx->visible[u];
				pre[u] = low[u] = ++counter;
				ivec_push(&stk, u);
				on[u] = true;
				adj_off[u] = (int)adj.n;
				for (size_t v = 0; v < p->n_versions; v++) {
					const struct stitch_version *ver = &p->versions[v];
					for (size_t d = 0; d < ver->n_depends; d++) {
						if (v > 0 && seen_before(&p->versions[v - 1],
						                         ver->depends[d]))
							continue;
						names.n = 0;
						scan_names(idx, tab, ver->depends[d], &names);
						for (size_t j = 0; j < names.n; j++) {
							int w = names.a[j];
							if (stamp[w] == u + 1)
								continue;
							stamp[w] = u + 1;
							ivec_push(&adj, w);
						}
					}
				}
				adj_n[u] = (int)adj.n - adj_off[u];
				f->next = adj_n[u];
			}
			/* Successors last to first: the first dependency leads. */
			bool pushed = false;
			while (f->next > 0) {
				int w = adj.a[adj_off[u] + --f->next];
				if (!pre[w]) {
					XGROW(fr, cap_fr, n_fr + 1);
					fr[n_fr++] = (struct frame){w, -1};
					pushed = true;
					break;
				}
				if (on[w] && pre[w] < low[u])
					low[u] = pre[w];
			}
			if (pushed)
				continue;
			/* u is finished. */
			n_fr--;
			if (n_fr) {
				int parent = fr[n_fr - 1].node;
				if (low[u] < low[parent])
					low[parent] = low[u];
			}
			if (low[u] == pre[u]) {
				/* A component: pop it, keeping preorder within. */
				size_t at = stk.n;
				do
					at--;
				while (stk.a[at] != u);
				for (size_t i = at; i < stk.n; i++) {
					on[stk.a[i]] = false;
					ivec_push(&order, stk.a[i]);
				}
				ivec_push(&comp_end, (int)order.n);
				stk.n = at;
			}
		}
	}

	/*
	 * Components come out dependencies first: rank them in reverse, each
	 * one's members in the order the search met them.
	 */
	{
		int rank = 0;
		for (size_t c = comp_end.n; c-- > 0;) {
			int b = c ? comp_end.a[c - 1] : 0, e = comp_end.a[c];
			for (int i = b; i < e; i++)
				s->vrank[order.a[i]] = rank++;
		}
	}

	free(pre);
	free(low);
	free(adj_off);
	free(adj_n);
	free(stamp);
	free(on);
	free(adj.a);
	free(names.a);
	free(stk.a);
	free(order.a);
	free(comp_end.a);
	free(fr);
}

/* ------------------------------------------------------------------ heap */

static bool heap_less(const struct solver *s, int a, int b)
{
	const struct saux *x = &s->auxs[a], *y = &s->auxs[b];
	return x->key != y->key ? x->key < y->key : a < b;
}

void solve_heap_push(struct solver *s, int aux)
{
	struct ivec *h = &s->heap;
	size_t i;

	if (s->auxs[aux].in_heap)
		return;
	s->auxs[aux].in_heap = true;
	ivec_push(h, aux);
	i = h->n - 1;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_less(s, aux, h->a[parent]))
			break;
		h->a[i] = h->a[parent];
		i = parent;
	}
	h->a[i] = aux;
}

void solve_heap_pop(struct solver *s)
{
	struct ivec *h = &s->heap;
	int last;
	size_t i = 0;

	s->auxs[h->a[0]].in_heap = false;
	last = h->a[--h->n];
	if (!h->n)
		return;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && heap_less(s, h->a[c + 1], h->a[c]))
			c++;
		if (!heap_less(s, h->a[c], last))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	h->a[i] = last;
}
