/*
 * A failed resolution as one "no-solution" JSON line on stdout, for
 * --json: the summary, the explanation's steps, the versions that exist of
 * each package whose versions the explanation restricts, and the hints.
 * The explanation itself is the library's (stitch_solve in solve.h): its
 * lines are steps, STITCH_SOLVE_CANDIDATES lines or "hint:" lines.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "solve.h"
#include "util.h"

/* Every version of the package named at the start of a candidates line. */
static void add_candidates(json_t *cands, const struct stitch_index *idx, const char *line,
                           size_t len)
{
	const char *name = line + strlen(STITCH_SOLVE_CANDIDATES);
	const char *colon = memchr(name, ':', len - (size_t)(name - line));
	char *key;
	const struct stitch_pkg *p;
	json_t *vs;

	if (!colon)
		return;
	key = xstrndup(name, (size_t)(colon - name));
	p = idx ? stitch_index_find(idx, key) : NULL;
	if (p) {
		vs = json_array();
		for (size_t i = 0; i < p->n_versions; i++)
			json_array_append_new(vs, json_string(p->versions[i].version));
		json_object_set_new(cands, key, vs);
	}
	free(key);
}

static void print_no_solution(const struct stitch_index *idx, const struct stitch_err *err,
                              const struct stitch_buf *why)
{
	json_t *steps = json_array(), *cands = json_object(), *hints = json_array();
	size_t pre = strlen(STITCH_SOLVE_CANDIDATES);

	for (const char *p = why->buf; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= pre && strncmp(p, STITCH_SOLVE_CANDIDATES, pre) == 0)
			add_candidates(cands, idx, p, n);
		else if (strncmp(p, "hint: ", 6) == 0 && n >= 6)
			json_array_append_new(hints, json_stringn(p + 6, n - 6));
		else if (n)
			json_array_append_new(steps, json_stringn(p, n));
		p += n + (nl ? 1 : 0);
	}
	cmd_print_json(json_pack("{s:s, s:s, s:o, s:o, s:o}", "event", "no-solution", "reason",
	                         err->msg, "steps", steps, "candidates", cands, "hints", hints));
}

int cmd_fail_solve_json(const struct stitch_ctx *ctx, bool json, const struct stitch_err *err,
                        const struct stitch_buf *why)
{
	if (json && err->code == STITCH_E_UNSAT)
		print_no_solution(ctx->index, err, why);
	return cmd_fail_solve(err, why);
}
