/*
 * "did you mean": the closest of a set of names to a mistyped one, by
 * edit distance with a threshold relative to the word's length, as git
 * and cargo suggest commands.
 */
#ifndef STITCH_SUGGEST_H
#define STITCH_SUGGEST_H

#include <stddef.h>

#include "error.h"
#include "index.h"

/*
 * The optimal string alignment distance between a and b (Damerau-
 * Levenshtein restricted to adjacent transpositions, each edited once):
 * insertions, deletions, substitutions and swaps of two neighbouring
 * bytes each cost 1.  "tpc" to "tcp" is 1, "instal" to "install" is 1.
 */
size_t stitch_edit_distance(const char *a, const char *b);

/*
 * Gathers candidates one at a time and keeps the closest to word:
 *
 *     struct stitch_suggest s;
 *     stitch_suggest_init(&s, word);
 *     for (...) stitch_suggest_consider(&s, name);
 *     if (s.best) ... "did you mean '%s'?", s.best
 *
 * A candidate equal to word ignoring case wins; otherwise one counts when
 * its distance is at most max(strlen(word), 3) / 3 (one edit up to five
 * bytes, two up to eight, ...).  Among equals the first considered stays.
 * best points at the candidate given, not a copy.
 */
struct stitch_suggest {
	const char *word;
	const char *best; /* NULL until a candidate is close enough */
	size_t best_dist;
};

void stitch_suggest_init(struct stitch_suggest *s, const char *word);
void stitch_suggest_consider(struct stitch_suggest *s, const char *cand);

/* The visible package of idx closest to name, or NULL (see above). */
const char *stitch_index_suggest(const struct stitch_index *idx, const char *name);

/*
 * The visible package called name in *pkg; else STITCH_E_NOTFOUND with
 * "no package 'NAME' in the repositories in use" and, when a package's
 * name is close, the cause "hint: did you mean 'NAME'?".  The one place
 * commands make that error.
 */
int stitch_index_need(const struct stitch_index *idx, const char *name,
                      const struct stitch_pkg **pkg, struct stitch_err *err);

#endif
