/*
 * The flat form's builder (index_flat.h): interning strings, sorting the
 * packages and the view over what was built.  The parsers (index_json.c)
 * fill it; the requirement tables come from index_reqs.c.
 */
#include <stdlib.h>
#include <string.h>

#include "index_flat.h"

void flat_builder_init(struct flat_builder *b)
{
	memset(b, 0, sizeof(*b));
	stitch_buf_init(&b->strings);
	stitch_buf_init(&b->warnings);
	b->doc_name = FLAT_NONE;
}

void flat_builder_release(struct flat_builder *b)
{
	stitch_buf_release(&b->strings);
	stitch_buf_release(&b->warnings);
	free(b->hash);
	free(b->pkgs);
	free(b->versions);
	free(b->cmds);
	free(b->refs);
	free(b->reqs);
	free(b->members);
	free(b->succ);
	free(b->alts);
	flat_builder_init(b);
}

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void rehash(struct flat_builder *b, size_t cap)
{
	uint32_t *old = b->hash;
	size_t old_cap = b->hash_cap;

	b->hash = xcalloc(cap, sizeof(uint32_t));
	b->hash_cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		uint32_t off;
		size_t j;
		if (!old[i])
			continue;
		off = old[i] - 1;
		j = hash_bytes(b->strings.buf + off, strlen(b->strings.buf + off)) & (cap - 1);
		while (b->hash[j])
			j = (j + 1) & (cap - 1);
		b->hash[j] = old[i];
	}
	free(old);
}

uint32_t flat_intern(struct flat_builder *b, const char *s, size_t len)
{
	size_t j;
	uint32_t off;

	if (2 * (b->hash_used + 1) > b->hash_cap)
		rehash(b, b->hash_cap ? 2 * b->hash_cap : 1024);
	j = hash_bytes(s, len) & (b->hash_cap - 1);
	while (b->hash[j]) {
		const char *t = b->strings.buf + b->hash[j] - 1;
		/* strncmp stops at t's end, so a shorter t is never read past. */
		if (strncmp(t, s, len) == 0 && t[len] == '\0')
			return b->hash[j] - 1;
		j = (j + 1) & (b->hash_cap - 1);
	}
	off = (uint32_t)b->strings.len;
	stitch_buf_add(&b->strings, s, len);
	stitch_buf_addch(&b->strings, '\0');
	b->hash[j] = off + 1;
	b->hash_used++;
	return off;
}

static int cmp_pkg_name(const void *a, const void *b, void *base)
{
	const char *s = base;
	return strcmp(s + ((const struct flat_pkg *)a)->name,
	              s + ((const struct flat_pkg *)b)->name);
}

void flat_builder_finish(struct flat_builder *b)
{
	if (b->n_pkgs > 1)
		qsort_r(b->pkgs, b->n_pkgs, sizeof(*b->pkgs), cmp_pkg_name, b->strings.buf);
	flat_compile_reqs(b);
}

void flat_builder_view(const struct flat_builder *b, struct flat_view *v)
{
	v->doc_name = b->doc_name;
	v->n_pkgs = (uint32_t)b->n_pkgs;
	v->n_versions = (uint32_t)b->n_versions;
	v->n_cmds = (uint32_t)b->n_cmds;
	v->n_refs = (uint32_t)b->n_refs;
	v->strings_len = b->strings.len;
	v->pkgs = b->pkgs;
	v->versions = b->versions;
	v->cmds = b->cmds;
	v->refs = b->refs;
	v->n_reqs = (uint32_t)b->n_reqs;
	v->reqs = b->reqs;
	v->members = b->members;
	v->n_succ = (uint32_t)b->n_succ;
	v->succ = b->succ;
	v->n_alts = (uint32_t)b->n_alts;
	v->alts = b->alts;
	v->strings = b->strings.buf;
	v->warnings_len = b->warnings.len;
	v->warnings = b->warnings.buf;
}
