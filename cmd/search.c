/* stitch search [TERM] [--json]: without TERM, every package. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "util.h"

static int json_opt(int val, const char *arg, void *data)
{
	(void)arg;
	if (val != 'j')
		return EXIT_USAGE;
	*(bool *)data = true;
	return EXIT_OK;
}

int cmd_search(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
	const struct stitch_index *idx = ctx->index;
	json_t *arr = NULL;
	const char *term;
	bool json = false;
	size_t hits = 0;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, json_opt, &json, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops > 1) {
		free(ops);
		return cmd_usage_error(ctx, "search takes at most one TERM");
	}
	term = n_ops ? ops[0] : "";
	if (json)
		arr = json_array();
	for (size_t i = 0; i < idx->n_visible; i++) {
		const struct stitch_pkg *p = idx->visible[i];
		const char *latest = p->n_versions ? p->versions[0].version : NULL;
		if (!strcasestr(p->name, term) && !(p->synopsis && strcasestr(p->synopsis, term)))
			continue;
		hits++;
		if (json) {
			json_t *o = json_pack("{s:s, s:s?, s:s}", "name", p->name, "version",
			                      latest, "repository", p->repo->name);
			if (p->synopsis)
				json_object_set_new(o, "synopsis", json_string(p->synopsis));
			json_array_append_new(arr, o);
		} else {
			printf("%-24s %-12s %s\n", p->name, latest ? latest : "-",
			       p->synopsis ? p->synopsis : "");
		}
	}
	if (json) {
		char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(text);
		free(text);
		json_decref(arr);
	}
	if (!hits && !json && *term)
		fprintf(stderr, "no package matches '%s'\n", term);
	else if (!hits && !json)
		fprintf(stderr, "no package in the repositories in use\n");
	free(ops);
	return hits ? EXIT_OK : EXIT_ERROR;
}
