/*
 * Requirements compiled with their repository (see stitch_version.reqs):
 * each requirement string of a depends or conflicts list, parsed once when
 * the repository is compiled, becomes the packages it names and the
 * versions of each that it matches, so that the resolver neither parses a
 * requirement nor compares a version for it.
 */
#include <stdlib.h>
#include <string.h>

#include "index_flat.h"
#include "req.h"
#include "version.h"

/* Requirement strings already compiled: string offset -> first alt. */
struct memo {
	uint32_t *off; /* offset + 1; 0 = empty */
	uint32_t *alt;
	size_t mask;
};

static uint32_t *memo_slot(struct memo *m, uint32_t off, bool *found)
{
	size_t j = ((uint64_t)off * 0x9e3779b97f4a7c15u >> 32) & m->mask;

	while (m->off[j] && m->off[j] != off + 1)
		j = (j + 1) & m->mask;
	*found = m->off[j] != 0;
	m->off[j] = off + 1;
	return &m->alt[j];
}

static const char *builder_pkg_name(const void *builder, size_t i)
{
	const struct flat_builder *b = builder;

	return b->strings.buf + b->pkgs[i].name;
}

/* The package called name in b (sorted by name), or -1. */
static long find_pkg(const struct flat_builder *b, const char *name)
{
	return stitch_index_bsearch(b, b->n_pkgs, builder_pkg_name, name);
}

/*
 * Compile the requirement at string offset off: its first alt, or
 * STITCH_REQ_NONE when it names a package of another repository (or none),
 * or one with more than 64 versions.  vs and keys: every version's string
 * and stitch_version_key, by version index.
 */
static uint32_t compile(struct flat_builder *b, uint32_t off, const char *const *vs,
                        const uint64_t *keys)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_req *r;
	size_t first = b->n_alts;

	/* The strings were parsed and printed when they were added. */
	if (stitch_req_parse(b->strings.buf + off, &r, &err) != 0) {
		stitch_err_clear(&err);
		return STITCH_REQ_NONE;
	}
	for (size_t i = 0; i < r->n_alts; i++) {
		long k = find_pkg(b, r->alts[i].name);
		const struct flat_pkg *p = k >= 0 ? &b->pkgs[k] : NULL;
		if (!p || p->n_versions > 64) {
			b->n_alts = first;
			stitch_req_free(r);
			return STITCH_REQ_NONE;
		}
		XGROW(b->alts, b->cap_alts, b->n_alts + 1);
		b->alts[b->n_alts++] = (struct stitch_req_alt){
		    .pkg = (uint32_t)k,
		    .last = i + 1 == r->n_alts,
		    .mask = stitch_vformula_mask(r->alts[i].formula, vs + p->first_version,
		                                 keys + p->first_version, (int)p->n_versions),
		};
	}
	stitch_req_free(r);
	return (uint32_t)first;
}

/*
 * members for the versions of p: for each entry, the versions whose same
 * list holds the same string (strings are interned: same offset).
 */
static void compile_members(struct flat_builder *b, const struct flat_pkg *p)
{
	const struct flat_version *vs;

	/* (No versions at all: b->versions may be NULL.) */
	if (p->n_versions == 0 || p->n_versions > 64)
		return;
	vs = b->versions + p->first_version;
	for (uint32_t i = 0; i < p->n_versions; i++) {
		for (uint32_t k = 0; k < vs[i].depends.n + vs[i].conflicts.n; k++) {
			bool dep = k < vs[i].depends.n;
			uint32_t off = dep ? b->refs[vs[i].depends.first + k]
			                   : b->refs[vs[i].conflicts.first + k - vs[i].depends.n];
			uint64_t m = 0;
			for (uint32_t j = 0; j < p->n_versions; j++) {
				struct flat_list l = dep ? vs[j].depends : vs[j].conflicts;
				for (uint32_t x = 0; x < l.n; x++)
					if (b->refs[l.first + x] == off)
						m |= (uint64_t)1 << j;
			}
			b->members[vs[i].reqs + k] = m;
		}
	}
}

/* p's succ (stitch_pkg.succ); mark: per package, the last p that pushed it. */
static void compile_succ(struct flat_builder *b, struct flat_pkg *p, uint32_t *mark)
{
	uint32_t self = (uint32_t)(p - b->pkgs) + 1;

	p->succ.first = (uint32_t)b->n_succ;
	p->succ.n = 0;
	for (uint32_t i = 0; i < p->n_versions; i++) {
		const struct flat_version *fv = &b->versions[p->first_version + i];
		for (uint32_t k = 0; k < fv->depends.n; k++) {
			uint32_t a = b->reqs[fv->reqs + k];
			if (a == STITCH_REQ_NONE) {
				b->n_succ = p->succ.first;
				p->succ = (struct flat_list){FLAT_NONE, 0};
				return;
			}
			for (;; a++) {
				if (mark[b->alts[a].pkg] != self) {
					mark[b->alts[a].pkg] = self;
					XGROW(b->succ, b->cap_succ, b->n_succ + 1);
					b->succ[b->n_succ++] = b->alts[a].pkg;
					p->succ.n++;
				}
				if (b->alts[a].last)
					break;
			}
		}
	}
}

void flat_compile_reqs(struct flat_builder *b)
{
	struct memo m;
	size_t n = 0, cap = 16;
	const char **vs = xcalloc(b->n_versions + 1, sizeof(*vs));
	uint64_t *keys = xcalloc(b->n_versions + 1, sizeof(*keys));

	free(b->reqs);
	free(b->members);
	free(b->succ);
	b->succ = NULL;
	b->n_succ = b->cap_succ = 0;
	b->reqs = NULL;
	b->n_reqs = b->n_alts = 0;
	for (size_t i = 0; i < b->n_versions; i++) {
		n += b->versions[i].depends.n + b->versions[i].conflicts.n;
		vs[i] = b->strings.buf + b->versions[i].version;
		keys[i] = stitch_version_key(vs[i]);
	}
	while (cap < 2 * n)
		cap *= 2;
	m.off = xcalloc(cap, sizeof(*m.off));
	m.alt = xcalloc(cap, sizeof(*m.alt));
	m.mask = cap - 1;
	b->reqs = xcalloc(n + 1, sizeof(*b->reqs));
	b->members = xcalloc(n + 1, sizeof(*b->members));
	for (size_t i = 0; i < b->n_versions; i++) {
		struct flat_version *fv = &b->versions[i];
		fv->reqs = (uint32_t)b->n_reqs;
		for (uint32_t k = 0; k < fv->depends.n + fv->conflicts.n; k++) {
			uint32_t off = k < fv->depends.n
			                   ? b->refs[fv->depends.first + k]
			                   : b->refs[fv->conflicts.first + k - fv->depends.n];
			bool found;
			uint32_t *slot = memo_slot(&m, off, &found);
			if (!found)
				*slot = compile(b, off, vs, keys);
			b->reqs[b->n_reqs++] = *slot;
		}
	}
	/* The successor lists point into succ even when all are empty. */
	XGROW(b->succ, b->cap_succ, 1);
	uint32_t *mark = xcalloc(b->n_pkgs + 1, sizeof(*mark));
	for (size_t i = 0; i < b->n_pkgs; i++) {
		compile_members(b, &b->pkgs[i]);
		compile_succ(b, &b->pkgs[i], mark);
	}
	free(mark);
	free(m.off);
	free(m.alt);
	free(vs);
	free(keys);
}
