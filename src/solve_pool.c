/*
 * The resolver's containers and its view of the index's names (see
 * solve_pool.h).
 */
#include <stdlib.h>
#include <string.h>

#include "solve_pool.h"
#include "solve_types.h"
#include "util.h"

/* Start loading the memory at p into the cache: only a hint. */
#ifdef __GNUC__
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

void ivec_grow(struct ivec *v)
{
	XGROW(v->a, v->cap, v->n + 1);
}

/* ------------------------------------------------------------------ heap */

/* Put key at place i or above it, moving greater keys down. */
static void sift_up(struct kheap *h, size_t i, uint64_t key)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->a[parent] <= key)
			break;
		h->a[i] = h->a[parent];
		i = parent;
	}
	h->a[i] = key;
}

void kheap_push(struct kheap *h, uint64_t key)
{
	XGROW(h->a, h->cap, h->n + 1);
	sift_up(h, h->n++, key);
}

uint64_t kheap_pop(struct kheap *h)
{
	uint64_t top = h->a[0], last = h->a[--h->n];
	size_t i = 0, n = h->n;

	if (!n)
		return top;
	/*
	 * The hole goes down to a leaf along the lesser children, and the
	 * last key comes up from there: it mostly belongs near the bottom,
	 * so that is about half the comparisons of sifting it down.
	 */
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && h->a[c + 1] < h->a[c])
			c++;
		h->a[i] = h->a[c];
	}
	sift_up(h, i, last);
	return top;
}

/* ----------------------------------------------------------------- names */

static uint32_t hash_name(const char *s, size_t len)
{
	uint32_t h = SOLVE_FNV_OFFSET;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * SOLVE_FNV_PRIME;
	return h;
}

void solve_names_init(struct name_tab *t, const struct stitch_index *idx)
{
	size_t cap = 64;

	while (cap < 2 * idx->n_visible + 2)
		cap *= 2;
	t->slot = xcalloc(cap, sizeof(*t->slot));
	t->name = xcalloc(idx->n_visible + 1, sizeof(*t->name));
	t->mask = cap - 1;
	for (size_t i = 0; i < idx->n_visible; i++) {
		const char *n = idx->visible[i]->name;
		uint32_t h = hash_name(n, strlen(n));
		size_t j = h & t->mask;
		/* The names are scattered: start loading those a little ahead. */
		if (i + 16 < idx->n_visible)
			PREFETCH(idx->visible[i + 16]->name);
		while (t->slot[j].vis)
			j = (j + 1) & t->mask;
		t->slot[j] = (struct name_slot){(uint32_t)i + 1, h};
		t->name[i] = n;
	}
}

void solve_names_release(struct name_tab *t)
{
	free(t->slot);
	free(t->name);
	t->slot = NULL;
	t->name = NULL;
}

int solve_names_find(const struct name_tab *t, const char *name, size_t len, uint32_t h)
{
	for (size_t j = h & t->mask; t->slot[j].vis; j = (j + 1) & t->mask) {
		const char *m;
		if (t->slot[j].hash != h)
			continue;
		m = t->name[t->slot[j].vis - 1];
		if (strncmp(m, name, len) == 0 && m[len] == '\0')
			return (int)t->slot[j].vis - 1;
	}
	return -1;
}

int solve_vis_lookup(const struct solver *s, const char *name)
{
	size_t len = strlen(name);

	if (!s->vtab.slot)
		return (int)stitch_index_find_at(s->idx, name);
	return solve_names_find(&s->vtab, name, len, hash_name(name, len));
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
