/*
 * The resolver's clause store (see solve_store.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "solve_pool.h"
#include "solve_store.h"
#include "solve_types.h"
#include "util.h"

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

/* Is p in the arena (see solve_place_arena())? */
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

/* What it adds is zeroed: a mapping is, and malloc'd memory is cleared. */
void *solve_big_grow(const struct solver *s, void *arr, size_t *cap, size_t need, size_t size)
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

int *solve_watch_block(struct solver *s, size_t n)
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

void solve_list_push(struct solver *s, struct ivec *v, int x)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 4;
		int *a = solve_watch_block(s, cap);
		if (v->n)
			memcpy(a, v->a, v->n * sizeof(int));
		v->a = a;
		v->cap = cap;
	}
	v->a[v->n++] = x;
}

/* ------------------------------------------------------------- variables */

/*
 * Room for n variables in the arrays kept per variable or literal, which
 * must start zeroed: fresh zeroed memory when they grow, so that pages
 * are only touched when used.
 */
void solve_reserve_vars(struct solver *s, size_t n)
{
	BIG_GROW(s, s->vars, s->cap_vars, n);
	BIG_GROW(s, s->val, s->cap_val, n);
	BIG_GROW(s, s->watches, s->cap_watches, 2 * n);
	BIG_GROW(s, s->mark, s->cap_mark, n);
	BIG_GROW(s, s->seen, s->cap_seen, n);
}

int solve_new_vars(struct solver *s, int n, int kind, int pkg)
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
		solve_reserve_vars(s, 2 * s->n_vars);
	return v;
}

int solve_new_var(struct solver *s, int kind, int pkg, int idx)
{
	int v = solve_new_vars(s, 1, kind, pkg);

	s->vars[v].idx = idx;
	return v;
}

/* --------------------------------------------------------------- clauses */

/*
 * A clause made in conflict: returned to the caller, and queued to be
 * looked at again (solve_imply_pending()), since a caller that meets two takes
 * the first, and solve_undo() may leave the other as it was.
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
 * at l: watch them, and report a conflict or imply the first as
 * solve_add_clause.
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

/* No loops for two literals. */
int solve_add_clause2(struct solver *s, int a, int b, int kind, int info, int *id_out)
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

int solve_add_clause(struct solver *s, const int *lits, int n, int kind, int info, int *id_out)
{
	int id = (int)s->n_cls, *l;

	if (n == 2)
		return solve_add_clause2(s, lits[0], lits[1], kind, info, id_out);
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

int solve_amo_conflict(struct solver *s, int a, int b)
{
	int lits[2] = {LIT(a, 1), LIT(b, 1)}, id;

	solve_add_clause(s, lits, 2, CL_AMO, 0, &id);
	return id;
}

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

/*
 * For a large problem (n versions reached), the big arrays start side by
 * side in one mapping, each with room for what a search over n versions
 * makes.  Fresh memory is costly here (each huge page is cleared when first
 * touched, and on a virtual machine first touched by the host too), and
 * one mapping per array leaves most of a huge page unused at the end of
 * each; side by side, the used parts share them.  An array that outgrows
 * its place moves to a mapping of its own (solve_big_grow).
 */
#define ARENA_MIN ((size_t)4 << 20)

void solve_place_arena(struct solver *s, size_t n)
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

int solve_learn(struct solver *s, const struct ivec *antes, const struct ivec *zeros)
{
	int lid = (int)s->n_learns;
	struct slearn *L;

	XGROW(s->learns, s->cap_learns, s->n_learns + 1);
	L = &s->learns[s->n_learns++];
	L->ante_off = (int)s->pool.n;
	L->n_ante = (int)antes->n;
	for (size_t i = 0; i < antes->n; i++)
		ivec_push(&s->pool, antes->a[i]);
	L->zero_off = (int)s->pool.n;
	L->n_zero = zeros ? (int)zeros->n : 0;
	for (size_t i = 0; zeros && i < zeros->n; i++)
		ivec_push(&s->pool, zeros->a[i]);
	return lid;
}

void solve_store_release(struct solver *s)
{
	while (s->wchunks) {
		struct wchunk *next = s->wchunks->next;
		free(s->wchunks);
		s->wchunks = next;
	}
	big_free(s, s->watches, s->cap_watches, sizeof(*s->watches));
	big_free(s, s->vars, s->cap_vars, sizeof(*s->vars));
	big_free(s, s->val, s->cap_val, sizeof(*s->val));
	big_free(s, s->auxs, s->cap_auxs, sizeof(*s->auxs));
	big_free(s, s->cls, s->cap_cls, sizeof(*s->cls));
	big_free(s, s->lits, s->cap_lits, sizeof(*s->lits));
	big_free(s, s->trail, s->cap_trail, sizeof(*s->trail));
	big_free(s, s->mark, s->cap_mark, sizeof(*s->mark));
	big_free(s, s->seen, s->cap_seen, sizeof(*s->seen));
	big_free(s, s->edges, s->cap_edges, sizeof(*s->edges));
	if (s->arena)
		munmap(s->arena, s->arena_len);
	free(s->learns);
	free(s->pool.a);
}
