/*
 * Private to the resolver (solve*.c): the solver's state, as data.  Each
 * layer's functions are declared in its own header (solve_pool.h up to
 * solve_explain.h); this one only has the types and the accessors every
 * layer reads them with.
 *
 * Variables are (package, version) pairs and "aux" variables, one per
 * distinct requirement string of a package: aux(p, R) is true when a
 * version of p whose depends (or conflicts) contain R is chosen.  A literal
 * is 2 * var + (1 when negated).
 */
#ifndef STITCH_SOLVE_TYPES_H
#define STITCH_SOLVE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "req.h"
#include "solve.h"
#include "solve_pool.h"
#include "util.h"

#define LIT(var, neg) (2 * (var) + ((neg) ? 1 : 0))
#define LIT_VAR(l) ((l) >> 1)
#define LIT_NEG(l) ((l)&1)

/* Reasons: a clause id (>= 0), none (a decision), or "at most one version". */
#define REASON_NONE (-1)
#define REASON_AMO(var) (-(var)-2) /* var: the chosen version that excludes */
#define REASON_IS_AMO(r) ((r) <= -2)
#define REASON_AMO_VAR(r) (-(r)-2)

/*
 * A watch list: the ids of the clauses that watch a literal.  Most hold
 * one or two: those are kept in the list itself (cap at most WL_INLINE),
 * next to its count; longer ones in the watch chunks (solve_store.c).
 */
#define WL_INLINE 2

struct wlist {
	int n, cap;
	union {
		int in[WL_INLINE];
		int *ext;
	} u;
};

static inline int *wl_ids(struct wlist *w)
{
	return w->cap > WL_INLINE ? w->u.ext : w->u.in;
}

enum svar_kind { SVAR_VERSION, SVAR_AUX, SVAR_KEEP };

struct svar {
	unsigned char kind; /* enum svar_kind */
	bool expanded; /* SVAR_VERSION: its requirements are clauses */
	bool undo; /* scratch for undo() */
	int tpos; /* its place in the trail, while assigned */
	int stamp; /* which assignment: tells live edges from old ones */
	int child; /* its first edge in s->edges, or -1 */
	int level;
	int reason;
	int pkg; /* spkg id */
	int idx; /* SVAR_VERSION: version index (newest first); SVAR_AUX: aux id */
	int dep_off, n_dep; /* SVAR_VERSION, once expanded: its AUX_DEP ids in s->pool */
	/* SVAR_KEEP ("keep the installed version"): unused */
};

/* A package the search has touched (possibly absent from the index). */
struct spkg {
	const char *name;
	const struct stitch_pkg *pkg; /* NULL when no repository has it */
	int var0; /* version i is variable var0 + i */
	int n; /* number of versions */
	int pin; /* pinned version index, or -1 */
	int pin_no; /* index into the request's pins, or -1 */
	int inst; /* installed version index, or -1 */
	int keep; /* its SVAR_KEEP variable, or -1 */
	struct ivec ranges; /* AUX_DEP ids whose candidates are all versions of this */
	struct ivec incoming; /* AUX_DEP ids with a candidate version of this */
	struct ivec auxs; /* its own AUX_DEP and AUX_CONF ids (see solve_rules.c) */
	/* (these three grow with list_push, never with ivec_push) */
	bool dirty; /* in s->dirty */
	bool root; /* a root requirement has a version of it */
	int open_off; /* its versions not false, as a bit set in s->bits */
	int n_true; /* its versions true (more than one only before a conflict) */
	int rank; /* decision order of its open dependencies (solve_order.c) */
	int key_off; /* its versions' strings and keys in s->vstrs, s->vkeys, or -1 */
	bool rmask_ok; /* rmask holds: see solve_need_mask() (solve_prop.c) */
	uint64_t rmask; /* up to 64 versions: those every true range on it allows */
};

enum aux_kind { AUX_DEP, AUX_CONF };

struct saux {
	int pkg;
	int kind; /* enum aux_kind */
	int var;
	const char *str; /* the requirement string, index-owned */
	int cand_off, n_cand; /* AUX_DEP: candidate literals in preference order */
	int key; /* AUX_DEP: the lowest rank of its candidates' packages */
	int dep_cl; /* AUX_DEP: its CL_DEP clause */
	int single; /* AUX_DEP: the spkg id when all candidates are its versions, else -1 */
	int mask_off; /* single: candidate versions as a bit set in s->bits */
	/*
	 * Versions that have the requirement whose "version implies aux"
	 * clause is not made yet: it is made when the version is expanded,
	 * or when aux becomes false (then it rules the version out).
	 */
	uint64_t lazy;
	bool in_heap;
};

enum clause_kind {
	CL_ROOT, /* info: root number */
	CL_DEP, /* info: aux id; not aux or one of the candidates */
	CL_CONF, /* info: aux id; not aux or not a matched version */
	CL_AUXBIN, /* info: aux id; not member or aux */
	CL_PIN, /* info: spkg id; not a version other than the pinned one */
	CL_AMO, /* two versions of one package (made only for conflicts) */
	CL_KEEP, /* info: spkg id; not keep or not another version */
	CL_LEARNED, /* info: learn id */
};

struct sclause {
	int off, n; /* literals in s->lits */
	int kind;
	int info;
};

/* How a learned clause was derived: for explanations. */
struct slearn {
	int clause;
	int ante_off, n_ante; /* conflict clause then reasons (clause ids or AMO reasons) */
	int zero_off, n_zero; /* variables false at level 0 that were resolved away */
};

struct htab_ent {
	uint64_t hash;
	const char *key;
	int extra;
	int val;
};

struct htab {
	struct htab_ent *e;
	size_t cap, n;
};

/* A comparison of a version formula, placed among one package's versions. */
struct scut {
	const struct stitch_vformula *node;
	int lo, hi; /* versions [0, lo) are newer than node's, [lo, hi) equal */
};

/*
 * An edge of the implication graph: var, assigned with this stamp, has a
 * reason (or, for a decision, a dependency that asked for it) that names
 * the variable whose list holds the edge.
 */
struct sedge {
	int var, stamp, next;
};

#define TRAIL_HOLE (-1) /* a literal undo() took out of the trail */

struct solver {
	const struct stitch_index *idx;
	const struct stitch_solve_request *rq;
	struct stitch_err *err;
	int fail; /* a STITCH_E_* met while expanding */
	/*
	 * The levels of the decisions on installed packages and roots: a
	 * conflict there backjumps, as the preferences of section 5 rank
	 * those decisions before all others (see undo()).
	 */
	int root_level;
	bool root_decision; /* decide() returned a decision on them */

	char *arena; /* the big arrays' first places (see solve_place_arena()) */
	size_t arena_len;
	struct svar *vars;
	size_t n_vars, cap_vars;
	signed char *val; /* per variable: -1 unassigned, 0 false, 1 true */
	size_t cap_val;
	struct wlist *watches; /* per literal; the lists are in wchunks (solve_store.c) */
	size_t cap_watches;
	struct wchunk *wchunks;
	struct spkg *pkgs;
	size_t n_pkgs, cap_pkgs;
	struct saux *auxs;
	size_t n_auxs, cap_auxs;
	struct sclause *cls;
	size_t n_cls, cap_cls;
	int *lits;
	size_t n_lits, cap_lits;
	struct slearn *learns;
	size_t n_learns, cap_learns;
	struct ivec pool; /* aux members and candidates, learn derivations */

	int *trail;
	size_t n_trail, cap_trail, qhead;
	size_t n_holes; /* TRAIL_HOLE entries in the trail */
	struct sedge *edges;
	size_t n_edges, cap_edges;
	int stamp;
	int *lim; /* trail size at the start of each level */
	size_t n_lim, cap_lim;
	/*
	 * Open dependencies: every true AUX_DEP with no true candidate is in
	 * this heap (keyed by saux.key, then id), and entries that are no
	 * longer open are dropped when they reach the top.
	 */
	struct kheap heap; /* KHEAP_KEY(saux.key, aux id) */
	int *vrank; /* per visible package of the index: its rank, or -1 */
	struct name_tab vtab; /* built by the ranking, kept for touch */
	struct ivec rs; /* scratch for pick_dep */
	struct ivec an[5]; /* scratch for analyze() */
	struct ivec dirty; /* packages whose needed ranges changed (see solve_prop.c) */
	uint64_t *bits; /* version bit sets (see saux.mask_off) */
	size_t n_bits, cap_bits;
	uint64_t *need; /* scratch bit set */
	size_t cap_need;
	struct ivec undone; /* scratch for backjump: packages whose version was unassigned */
	struct ivec uvars; /* scratch for undo(): the variables it unassigned */
	struct kheap uheap; /* scratch for undo(): variables to look at, by trail place */
	struct kheap aheap; /* scratch for analyze(): the same, last first */
	struct ivec pend; /* scratch for undo(): literal, reason pairs to imply */
	struct ivec units; /* one-literal clauses met above level 0 (see solve_search.c) */
	struct scut *cuts; /* scratch for req_candidates */
	size_t n_cuts, cap_cuts;
	uint64_t *vkeys; /* see spkg.key_off */
	const char **vstrs;
	size_t n_vkeys, cap_vkeys, cap_vstrs;

	struct htab names; /* package name -> spkg id, for names no repository has */
	int *vis_pkg; /* visible package index -> spkg id, or -1 */
	int **repo_vis; /* per repository of the index: see solve_repo_vis() */
	const struct stitch_repo *last_repo; /* solve_repo_vis()'s last answer */
	const int *last_vis;

	size_t n_roots;
	struct stitch_req **root_reqs;
	int *root_cl; /* clause id per root */
	int *root_cand_off, *root_n_cand;
	int *inst_pkgs; /* spkg ids of installed goals, by name */
	size_t n_inst;

	int *mark; /* per variable scratch for building clauses */
	size_t cap_mark;
	/* Per variable, scratch for conflict analysis: seen. */
	unsigned char *seen;
	size_t cap_seen;
	struct ivec tmp, tmp2;

	struct stitch_solve_stats stats;
};

static inline int lit_value(const struct solver *s, int lit)
{
	int v = s->val[LIT_VAR(lit)];
	return v < 0 ? -1 : (v ^ LIT_NEG(lit));
}

/* Version bit sets (see spkg.open_off, saux.mask_off): words for p's versions. */
static inline size_t nwords(const struct spkg *p)
{
	return ((size_t)p->n + 63) / 64;
}

static inline void bit_set(uint64_t *b, int i)
{
	b[i / 64] |= (uint64_t)1 << (i % 64);
}

static inline bool bit_get(const uint64_t *b, int i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

/* Queue package pid for range propagation (see struct solver, dirty). */
static inline void mark_dirty(struct solver *s, int pid)
{
	if (!s->pkgs[pid].dirty) {
		s->pkgs[pid].dirty = true;
		ivec_push(&s->dirty, pid);
	}
}

#endif
