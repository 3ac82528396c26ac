/*
 * stitch show PKG [--json]: the package, its homepage, its versions, and
 * which one is installed (marked in the list too).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "state.h"
#include "suggest.h"
#include "util.h"
#include "version.h"

static int json_opt(int val, const char *arg, void *data)
{
	(void)arg;
	if (val != 'j')
		return EXIT_USAGE;
	*(bool *)data = true;
	return EXIT_OK;
}

static json_t *str_array(const char *const *items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

/*
 * The version of name installed in the switch in use (malloc'd), or NULL
 * when it is not installed or there is no switch.  Opened read-only and
 * closed at once: show changes nothing.
 */
static char *installed_version(struct stitch_ctx *ctx, const char *name)
{
	struct stitch_installed inst = {0};
	struct stitch_switch *sw = NULL;
	char *dir = cmd_switch_dir(ctx), *version = NULL;

	if (stitch_switch_open(&sw, dir, true, NULL, NULL, NULL) == 0 &&
	    stitch_state_get_package(sw->st, name, &inst, NULL) == 0) {
		version = inst.version;
		inst.version = NULL;
		stitch_installed_release(&inst);
	}
	stitch_switch_close(sw);
	free(dir);
	return version;
}

static void print_json(const struct stitch_pkg *p, const char *installed)
{
	json_t *o = json_object(), *vs = json_array();
	char *text;

	json_object_set_new(o, "name", json_string(p->name));
	json_object_set_new(o, "repository", json_string(p->repo->name));
	if (p->synopsis)
		json_object_set_new(o, "synopsis", json_string(p->synopsis));
	if (p->license)
		json_object_set_new(o, "license", json_string(p->license));
	if (p->homepage)
		json_object_set_new(o, "homepage", json_string(p->homepage));
	json_object_set_new(o, "installed", installed ? json_string(installed) : json_null());
	for (size_t i = 0; i < p->n_versions; i++) {
		const struct stitch_version *v = &p->versions[i];
		json_t *src = json_pack("{s:s}", "url", v->url);
		if (v->sha256)
			json_object_set_new(src, "sha256", json_string(v->sha256));
		json_array_append_new(
		    vs, json_pack("{s:s, s:b, s:o, s:o, s:o}", "version", v->version, "installed",
		                  installed && stitch_version_cmp(v->version, installed) == 0,
		                  "source", src, "depends", str_array(v->depends, v->n_depends),
		                  "conflicts", str_array(v->conflicts, v->n_conflicts)));
	}
	json_object_set_new(o, "versions", vs);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(text);
	free(text);
	json_decref(o);
}

static void print_list(const char *label, const char *const *items, size_t n)
{
	if (!n)
		return;
	printf("    %-10s ", label);
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", items[i]);
	putchar('\n');
}

static void print_text(const struct stitch_index *idx, const struct stitch_pkg *p,
                       const char *installed)
{
	printf("%s\n", p->name);
	if (p->synopsis)
		printf("  synopsis:   %s\n", p->synopsis);
	if (p->license)
		printf("  license:    %s\n", p->license);
	if (p->homepage)
		printf("  homepage:   %s\n", p->homepage);
	printf("  repository: %s\n", p->repo->name);
	/* Overlays: say which lower repositories this package hides. */
	for (size_t i = 0; i < idx->n_repos; i++) {
		const struct stitch_repo *r = idx->repos[i];
		size_t lo = 0, hi = r->n_pkgs;
		if (r == p->repo)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(r->pkgs[mid].name, p->name);
			if (c == 0) {
				printf("  hides:      %s in '%s' (lower priority)\n", p->name,
				       r->name);
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	printf("  installed:  %s\n", installed ? installed : "no");
	printf("  versions:   %zu\n", p->n_versions);
	for (size_t i = 0; i < p->n_versions; i++) {
		const struct stitch_version *v = &p->versions[i];
		if (installed && stitch_version_cmp(v->version, installed) == 0)
			printf("  %s (installed)\n", v->version);
		else
			printf("  %s\n", v->version);
		print_list("depends:", v->depends, v->n_depends);
		print_list("conflicts:", v->conflicts, v->n_conflicts);
	}
}

int cmd_show(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {0}};
	struct stitch_err err = STITCH_ERR_INIT;
	const struct stitch_pkg *p;
	char *installed;
	bool json = false;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, json_opt, &json, &ops, &n_ops)) != EXIT_OK)
		return rc;
	if (n_ops != 1) {
		free(ops);
		return cmd_usage_error(ctx, "show takes one package name");
	}
	if (stitch_index_need(ctx->index, ops[0], &p, &err) != 0) {
		rc = cmd_fail(&err);
		if (!err.cause[0])
			fprintf(stderr, "hint: try 'stitch search %s'\n", ops[0]);
		free(ops);
		return rc;
	}
	installed = installed_version(ctx, p->name);
	if (json)
		print_json(p, installed);
	else
		print_text(ctx->index, p, installed);
	free(installed);
	free(ops);
	return EXIT_OK;
}
