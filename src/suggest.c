/* "did you mean": see suggest.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "suggest.h"
#include "util.h"

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

size_t stitch_edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), d;
	/* Three rows of the (n+1) x (m+1) matrix: two back, one back, this one. */
	size_t *r0 = xcalloc(m + 1, sizeof(size_t)), *r1 = xcalloc(m + 1, sizeof(size_t));
	size_t *r2 = xcalloc(m + 1, sizeof(size_t));

	for (size_t j = 0; j <= m; j++)
		r1[j] = j;
	for (size_t i = 1; i <= n; i++) {
		r2[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			r2[j] = min3(r1[j] + 1, r2[j - 1] + 1, r1[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    r0[j - 2] + 1 < r2[j])
				r2[j] = r0[j - 2] + 1;
		}
		{
			size_t *t = r0;
			r0 = r1;
			r1 = r2;
			r2 = t;
		}
	}
	d = r1[m];
	free(r0);
	free(r1);
	free(r2);
	return d;
}

void stitch_suggest_init(struct stitch_suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->best_dist = 0;
}

void stitch_suggest_consider(struct stitch_suggest *s, const char *cand)
{
	size_t len = strlen(s->word), limit = (len > 3 ? len : 3) / 3, d;

	if (strcmp(cand, s->word) == 0)
		return; /* the word itself is no suggestion */
	if (strcasecmp(cand, s->word) == 0) {
		d = 0;
	} else {
		/* Lengths alone differ by more than the limit: no need to compare. */
		size_t cl = strlen(cand);
		if ((cl > len ? cl - len : len - cl) > limit)
			return;
		d = stitch_edit_distance(s->word, cand);
	}
	if (d <= limit && (!s->best || d < s->best_dist)) {
		s->best = cand;
		s->best_dist = d;
	}
}

const char *stitch_index_suggest(const struct stitch_index *idx, const char *name)
{
	struct stitch_suggest s;

	stitch_suggest_init(&s, name);
	for (size_t i = 0; idx && i < idx->n_visible; i++)
		stitch_suggest_consider(&s, idx->visible[i]->name);
	return s.best;
}

int stitch_index_need(const struct stitch_index *idx, const char *name,
                      const struct stitch_pkg **pkg, struct stitch_err *err)
{
	const char *near;

	*pkg = stitch_index_find(idx, name);
	if (*pkg)
		return 0;
	stitch_error(err, STITCH_E_NOTFOUND, "no package '%s' in the repositories in use", name);
	if ((near = stitch_index_suggest(idx, name)) != NULL)
		stitch_error_cause(err, "hint: did you mean '%s'?", near);
	return STITCH_E_NOTFOUND;
}
