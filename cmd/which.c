/* stitch which WHAT [--json]: the installed package that owns a path, a header or a symbol. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "state.h"
#include "util.h"

static int json_opt(int val, const char *arg, void *data)
{
	(void)arg;
	if (val != 'J')
		return EXIT_USAGE;
	*(bool *)data = true;
	return EXIT_OK;
}

struct hit {
	char *package;
	char *file;
	const char *kind; /* "file", "header", "symbol" */
};

static void add_hit(struct hit **v, size_t *n, size_t *cap, const char *pkg, const char *file,
                    const char *kind)
{
	XGROW(*v, *cap, *n + 1);
	(*v)[*n].package = xstrdup(pkg);
	(*v)[*n].file = xstrdup(file);
	(*v)[*n].kind = kind;
	(*n)++;
}

static int lookup(struct stitch_ctx *ctx, const char *what, struct hit **hits, size_t *n,
                  struct stitch_err *err)
{
	struct stitch_state *st = ctx->sw->st;
	size_t cap = 0, len = strlen(ctx->sw->dir);
	const char *rel = what;
	int rc;

	/* A path: relative to the switch, or absolute inside it. */
	if (strncmp(what, ctx->sw->dir, len) == 0 && what[len] == '/')
		rel = what + len + 1;
	if (strchr(what, '/')) {
		char *owner = NULL;
		if ((rc = stitch_state_owner_of(st, rel, &owner, err)) != 0)
			return rc;
		if (owner)
			add_hit(hits, n, &cap, owner, rel, "file");
		free(owner);
	}
	if (!*n) {
		struct stitch_file *f = NULL;
		size_t nf = 0;
		if ((rc = stitch_state_find_file_by_name(st, what, &f, &nf, err)) != 0)
			return rc;
		for (size_t i = 0; i < nf; i++)
			add_hit(hits, n, &cap, f[i].package, f[i].path, "header");
		stitch_files_free(f, nf);
	}
	if (!*n && !strchr(what, '/')) {
		struct stitch_symbol *s = NULL;
		size_t ns = 0;
		if ((rc = stitch_state_find_symbol(st, what, &s, &ns, err)) != 0)
			return rc;
		for (size_t i = 0; i < ns; i++)
			add_hit(hits, n, &cap, s[i].package, s[i].file, "symbol");
		stitch_symbols_free(s, ns);
	}
	return 0;
}

int cmd_which(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'}, {0}};
	struct stitch_err err = STITCH_ERR_INIT;
	struct hit *hits = NULL;
	size_t n = 0;
	bool json = false;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, json_opt, &json, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 1) {
		free(ops);
		return cmd_usage_error(ctx, "which takes one path, header name or symbol");
	}
	if (lookup(ctx, ops[0], &hits, &n, &err) != 0) {
		free(ops);
		return cmd_fail(&err);
	}
	if (json) {
		json_t *arr = json_array();
		char *text;
		for (size_t i = 0; i < n; i++) {
			struct stitch_installed in;
			json_t *o = json_pack("{s:s, s:s, s:s}", "package", hits[i].package, "file",
			                      hits[i].file, "kind", hits[i].kind);
			if (stitch_state_get_package(ctx->sw->st, hits[i].package, &in, NULL) ==
			    0) {
				json_object_set_new(o, "version", json_string(in.version));
				stitch_installed_release(&in);
			}
			json_array_append_new(arr, o);
		}
		text = json_dumps(arr, JSON_INDENT(2));
		puts(text);
		free(text);
		json_decref(arr);
	} else {
		for (size_t i = 0; i < n; i++) {
			struct stitch_installed in;
			const char *ver = "";
			bool got =
			    stitch_state_get_package(ctx->sw->st, hits[i].package, &in, NULL) == 0;
			if (got)
				ver = in.version;
			printf("%s %s provides it (%s %s)\n", hits[i].package, ver, hits[i].kind,
			       hits[i].file);
			if (got)
				stitch_installed_release(&in);
		}
	}
	if (!n)
		fprintf(stderr, "no installed package provides '%s'\n", ops[0]);
	for (size_t i = 0; i < n; i++) {
		free(hits[i].package);
		free(hits[i].file);
	}
	free(hits);
	free(ops);
	return n ? EXIT_OK : EXIT_ERROR;
}
