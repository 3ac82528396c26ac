/*
 * Packages' own tests from the command line: `stitch test PKG...`, and the
 * tests of what an operation rebuilt (`build --with-test`, `watch --test`).
 */
#include "pkgtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "libtest.h"
#include "state.h"
#include "util.h"

static struct stitch_pkgtest_opts test_opts(struct stitch_ctx *ctx, struct cmd_events *ce, int jobs)
{
	struct stitch_pkgtest_opts o = {0};

	o.source_cache = cmd_source_cache_dir(ctx);
	o.jobs = jobs;
	o.no_sandbox = ctx->no_sandbox || !cmd_sandbox_configured(ctx);
	o.on_event = cmd_print_event;
	o.data = ce;
	return o;
}

/* The recipe of name at version, as the index (with the pins' overlays) has it. */
static const struct stitch_version *recipe_of(const struct stitch_ctx *ctx, const char *name,
                                              const char *version)
{
	const struct stitch_pkg *pkg = stitch_index_find(ctx->index, name);

	return pkg ? stitch_pkg_find_version(pkg, version) : NULL;
}

/*
 * What to test for name: the pin's version and checkout, else the
 * installed version.  Prints why not and returns EXIT_ERROR when neither.
 */
static int find_target(struct stitch_ctx *ctx, const char *name, const struct stitch_version **v,
                       char **pin_path)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_installed inst;
	struct stitch_pin pin;
	char *version = NULL;

	*pin_path = NULL;
	if (stitch_state_pin_get(ctx->sw->st, name, &pin, NULL) == 0) {
		version = xstrdup(pin.version);
		*pin_path = xstrdup(pin.path);
		stitch_pin_release(&pin);
	} else if (stitch_state_get_package(ctx->sw->st, name, &inst, &err) == 0) {
		version = xstrdup(inst.version);
		stitch_installed_release(&inst);
	} else {
		if (err.code != STITCH_E_NOTFOUND)
			return cmd_fail(&err);
		cmd_error("'%s' is neither installed nor pinned in the switch '%s'", name,
		          ctx->sw->dir);
		fprintf(stderr,
		        "hint: its dependencies must be installed: run 'stitch install %s' "
		        "(in a project, 'stitch build')\n",
		        name);
		return EXIT_ERROR;
	}
	*v = recipe_of(ctx, name, version);
	if (!*v) {
		cmd_error("no repository lists '%s %s' any more: its recipe is unknown", name,
		          version);
		free(version);
		free(*pin_path);
		return EXIT_ERROR;
	}
	free(version);
	return EXIT_OK;
}

int cmd_test_packages(struct stitch_ctx *ctx, char **names, int n, bool json, int jobs)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct cmd_events ce = {.json = json};
	struct stitch_pkgtest_opts o;
	int rc, tested = 0;

	if ((rc = cmd_open_switch(ctx, false)) != EXIT_OK ||
	    (rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		return rc;
	o = test_opts(ctx, &ce, jobs);
	for (int i = 0; i < n && rc == EXIT_OK; i++) {
		const struct stitch_version *v = NULL;
		char *pin_path = NULL;
		if ((rc = find_target(ctx, names[i], &v, &pin_path)) != EXIT_OK)
			break;
		tested += v->test.n > 0;
		if (stitch_pkgtest_run(ctx->sw, v, pin_path, true, &o, &err) != 0)
			rc = cmd_fail(&err);
		free(pin_path);
	}
	free((char *)o.source_cache);
	if (rc == EXIT_OK && !tested)
		rc = cmd_error(
		    n == 1 ? "'%s' has no tests to run"
		           : "none of the packages named has tests to run (the first: '%s')",
		    names[0]);
	return rc;
}

/* ---- the tests of what an operation rebuilt ---- */

static void on_event(void *data, const struct stitch_event *ev)
{
	struct cmd_rebuilt *r = data;

	if (ev->kind == STITCH_EV_DONE && ev->action != STITCH_ACTION_REMOVE) {
		XGROW(r->names, r->cap, r->n + 1);
		XGROW(r->versions, r->cap_versions, r->n + 1);
		r->names[r->n] = xstrdup(ev->name);
		r->versions[r->n++] = xstrdup(ev->version);
	}
	cmd_print_event(r->ce, ev);
}

void cmd_rebuilt_init(struct cmd_rebuilt *r, struct cmd_op *op, enum cmd_with_test which)
{
	memset(r, 0, sizeof(*r));
	r->which = which;
	if (which == CMD_TEST_NONE)
		return;
	r->ce = &op->ce;
	op->oo.on_event = on_event;
	op->oo.data = r;
	op->oo.keep_trees = true;
}

/* A release's tree left for its tests goes once they no longer need it. */
static void drop_tree(struct stitch_ctx *ctx, size_t i, struct cmd_rebuilt *r)
{
	struct stitch_pin pin;
	char *work;

	if (stitch_state_pin_get(ctx->sw->st, r->names[i], &pin, NULL) == 0) {
		stitch_pin_release(&pin);
		return;
	}
	work = stitch_build_tree(stitch_state_dir(ctx->sw->st), r->names[i], r->versions[i], false);
	stitch_rm_rf(work);
	free(work);
}

bool cmd_rebuilt_pending(struct stitch_ctx *ctx, const struct cmd_rebuilt *r)
{
	if (r->which == CMD_TEST_REBUILT)
		return r->n > 0;
	for (size_t i = 0; r->which == CMD_TEST_PINNED && i < r->n; i++) {
		struct stitch_pin pin;
		if (stitch_state_pin_get(ctx->sw->st, r->names[i], &pin, NULL) == 0) {
			stitch_pin_release(&pin);
			return true;
		}
	}
	return false;
}

int cmd_rebuilt_test(struct stitch_ctx *ctx, struct cmd_rebuilt *r, int jobs)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_pkgtest_opts o;
	int rc = EXIT_OK;
	size_t i;

	if (r->which == CMD_TEST_NONE)
		return EXIT_OK;
	o = test_opts(ctx, r->ce, jobs);
	for (i = 0; i < r->n && rc == EXIT_OK; i++) {
		const struct stitch_version *v = recipe_of(ctx, r->names[i], r->versions[i]);
		struct stitch_pin pin;
		bool pinned = stitch_state_pin_get(ctx->sw->st, r->names[i], &pin, NULL) == 0;

		if (v && (pinned || r->which == CMD_TEST_REBUILT) &&
		    stitch_pkgtest_run(ctx->sw, v, pinned ? pin.path : NULL, false, &o, &err) != 0)
			rc = cmd_fail(&err);
		else if (!pinned)
			drop_tree(ctx, i, r);
		if (pinned)
			stitch_pin_release(&pin);
	}
	r->done = i;
	free((char *)o.source_cache);
	return rc;
}

void cmd_rebuilt_release(struct stitch_ctx *ctx, struct cmd_rebuilt *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (i >= r->done && ctx->sw)
			drop_tree(ctx, i, r);
		free(r->names[i]);
		free(r->versions[i]);
	}
	free(r->names);
	free(r->versions);
	memset(r, 0, sizeof(*r));
}

int cmd_with_test_parse(const char *arg, enum cmd_with_test *out)
{
	if (!arg || !strcmp(arg, "rebuilt"))
		*out = CMD_TEST_REBUILT;
	else if (!strcmp(arg, "pinned"))
		*out = CMD_TEST_PINNED;
	else
		return cmd_usage_error(NULL, "--with-test takes 'rebuilt' or 'pinned', not '%s'",
		                       arg);
	return EXIT_OK;
}
