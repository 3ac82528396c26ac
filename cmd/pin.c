/*
 * stitch pin add PKG [DIR] | pin remove PKG | pin list, and stitch source
 * PKG [DIR], each with --json: work on a library from a local checkout.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "cmd.h"
#include "fetch.h"
#include "op.h"
#include "project.h"
#include "req.h"
#include "solve.h"
#include "state.h"
#include "suggest.h"
#include "surprise.h"
#include "tree.h"
#include "util.h"
#include "version.h"

/* Every command here takes --json and nothing else. */
static const struct option json_opts[] = {{"json", no_argument, NULL, 'J'}, {0}};

static int on_opt(int val, const char *arg, void *data)
{
	bool *json = data;

	(void)arg;
	if (val != 'J')
		return EXIT_USAGE;
	*json = true;
	return EXIT_OK;
}

/* {"event": "source", "action": "unpacked", "name", "version", "path"} */
static void print_unpacked(bool json, const char *name, const char *version, const char *path)
{
	if (json)
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "source", "action",
		                         "unpacked", "name", name, "version", version, "path",
		                         path));
	else
		printf("unpacked %s %s into %s\n", name, version, path);
}

/* The project's switch is made on first use, as stitch build does. */
static int open_for_pins(struct stitch_ctx *ctx, bool readonly)
{
	struct stitch_err err = STITCH_ERR_INIT;
	char *dir = cmd_switch_dir(ctx), *proj = NULL;
	size_t len = strlen(dir);

	if (len > 8 && strcmp(dir + len - 8, "/_stitch") == 0 && access(dir, F_OK) != 0 &&
	    stitch_project_find(".", &proj, NULL) == 0) {
		if (stitch_switch_init(dir, &err) != 0) {
			free(dir);
			free(proj);
			return cmd_fail(&err);
		}
	}
	free(proj);
	free(dir);
	return cmd_open_switch(ctx, readonly);
}

/* Roots that describe the switch: the project's depends, then what is installed. */
static const char **switch_roots(struct stitch_ctx *ctx, struct stitch_project *proj,
                                 bool *has_proj, const char *extra, struct stitch_installed **inst,
                                 size_t *n_inst, size_t *n)
{
	const char **roots;
	char *dir = NULL;

	*has_proj =
	    stitch_project_find(".", &dir, NULL) == 0 && stitch_project_load(dir, proj, NULL) == 0;
	free(dir);
	*inst = NULL;
	*n_inst = 0;
	stitch_state_list_packages(ctx->sw->st, inst, n_inst, NULL);
	roots = xcalloc((*has_proj ? proj->n_depends : 0) + *n_inst + 2, sizeof(char *));
	*n = 0;
	if (*has_proj)
		for (size_t i = 0; i < proj->n_depends; i++)
			roots[(*n)++] = proj->depends[i];
	for (size_t i = 0; i < *n_inst; i++)
		if (stitch_index_find(ctx->index, (*inst)[i].name))
			roots[(*n)++] = (*inst)[i].name;
	if (extra)
		roots[(*n)++] = extra;
	return roots;
}

/*
 * The packages installed by name that sol would take to a lower version
 * (the pinned one among them: its checkout says which version it is, the
 * user did not), asked about through ask.  EXIT_ERROR when the answer is no.
 */
static int confirm_pin(struct cmd_ask *ask, const struct stitch_solution *sol,
                       const struct stitch_installed *inst, size_t n_inst)
{
	struct stitch_event *evs = xcalloc(n_inst + 1, sizeof(*evs));
	size_t n = 0;
	bool yes;

	for (size_t i = 0; i < n_inst; i++)
		for (size_t k = 0; k < sol->n; k++) {
			const struct stitch_version *v = sol->chosen[k];
			if (strcmp(v->pkg->name, inst[i].name) != 0 ||
			    !stitch_surprise_is(&inst[i], v->version, NULL))
				continue;
			evs[n] = (struct stitch_event){.kind = STITCH_EV_PLAN,
			                               .name = inst[i].name,
			                               .version = v->version,
			                               .old_version = inst[i].version,
			                               .action = STITCH_ACTION_BUILD,
			                               .change = STITCH_CHANGE_DOWNGRADE};
			evs[n].cause =
			    (struct stitch_cause){STITCH_CAUSE_VERSION, inst[i].version, 0, NULL};
			n++;
		}
	yes = cmd_ask_confirm(ask, evs, n);
	free(evs);
	return yes ? EXIT_OK : EXIT_ERROR;
}

/*
 * Solve for the switch with the pins it has plus (name, version, path);
 * version NULL asks which version name would get.  Prints the explanation
 * when nothing fits.  With ask, a solution that downgrades a package
 * installed by name is asked about first (confirm_pin).
 */
static int check_resolution(struct stitch_ctx *ctx, bool json, const char *name,
                            const char **version, const char *path, struct cmd_ask *ask)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_project proj;
	struct stitch_installed *inst;
	struct stitch_pin *pins = NULL;
	struct stitch_solve_pin *sp;
	struct stitch_solve_installed *si;
	size_t n_inst, n_roots, n_pins = 0, k = 0;
	bool has_proj;
	const char **roots = switch_roots(ctx, &proj, &has_proj, name, &inst, &n_inst, &n_roots);
	int rc;

	stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
	sp = xcalloc(n_pins + 2, sizeof(*sp));
	for (size_t i = 0; i < n_pins; i++)
		if (strcmp(pins[i].name, name) != 0)
			sp[k++] =
			    (struct stitch_solve_pin){pins[i].name, pins[i].version, pins[i].path};
	if (*version)
		sp[k++] = (struct stitch_solve_pin){name, *version, path};
	si = xcalloc(n_inst + 1, sizeof(*si));
	for (size_t i = 0; i < n_inst; i++)
		si[i] = (struct stitch_solve_installed){inst[i].name, inst[i].version};
	{
		struct stitch_solve_request req = {n_roots, roots, k, sp, n_inst, si, false};
		rc = stitch_solve(ctx->index, &req, &sol, &why, &err);
	}
	if (rc == STITCH_E_UNSAT)
		stitch_error_wrap(&err, "pinning %s %s breaks the resolution", name,
		                  *version ? *version : "");
	if (rc) {
		rc = cmd_fail_solve_json(ctx, json, &err, &why);
	} else if (ask) {
		rc = confirm_pin(ask, &sol, inst, n_inst);
	} else if (!*version) {
		for (size_t i = 0; i < sol.n; i++)
			if (strcmp(sol.chosen[i]->pkg->name, name) == 0)
				*version = sol.chosen[i]->version; /* lives in the index */
	}
	stitch_solution_release(&sol);
	stitch_buf_release(&why);
	free(sp);
	free(si);
	free(roots);
	stitch_pins_free(pins, n_pins);
	stitch_installed_free(inst, n_inst);
	if (has_proj)
		stitch_project_release(&proj);
	return rc;
}

/* Fetch the release source of v and unpack it into dir. */
static int unpack_release(struct stitch_ctx *ctx, const struct stitch_version *v, const char *dir)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_fetch_item it = {0};
	struct stitch_fetch_opts fo = {0};
	char *cache = cmd_source_cache_dir(ctx), *url, *label;
	int rc;

	if (!strncmp(v->url, "http://", 7) || !strncmp(v->url, "https://", 8) ||
	    !strncmp(v->url, "file://", 7))
		url = xstrdup(v->url);
	else
		url = xasprintf("%s/%s", v->pkg->repo->root, v->url);
	label = xasprintf("%s %s", v->pkg->name, v->version);
	it.url = url;
	it.sha256 = v->sha256;
	it.label = label;
	fo.cache_dir = cache;
	rc = stitch_fetch_all(&it, 1, &fo, &err);
	if (rc == 0)
		rc = stitch_archive_unpack(it.path, dir, &err);
	stitch_fetch_item_release(&it);
	free(cache);
	free(url);
	free(label);
	return rc ? cmd_fail(&err) : EXIT_OK;
}

/*
 * Load the pin overlays; when DIR was given and holds a stitch.json, that
 * checkout overlays name and says its version.  Sets *pkg to name's package.
 */
static int load_overlays(struct stitch_ctx *ctx, const char *name, const char *dir, bool dir_given,
                         const struct stitch_pkg **pkg, const char **version)
{
	char *manifest = xasprintf("%s/stitch.json", dir);
	int rc;

	if (dir_given && access(manifest, R_OK) == 0) {
		/* The checkout says which version it is, and how it builds. */
		char *real = realpath(dir, NULL);
		rc = cmd_load_pin_overlays(ctx, name, real);
		free(real);
		if (rc == EXIT_OK) {
			*pkg = stitch_index_find(ctx->index, name);
			if (!*pkg || (*pkg)->n_versions != 1)
				rc = cmd_error(
				    "%s: expected a package object with exactly one version",
				    manifest);
			else
				*version = (*pkg)->versions[0].version;
		}
	} else if ((rc = cmd_load_pin_overlays(ctx, NULL, NULL)) == EXIT_OK) {
		*pkg = stitch_index_find(ctx->index, name);
	}
	free(manifest);
	return rc;
}

/* When the checkout does not say: the installed version, else what a resolution picks. */
static int choose_version(struct stitch_ctx *ctx, bool json, const char *name,
                          const struct stitch_pkg *pkg, const char **version)
{
	struct stitch_installed in;
	int rc;

	if (!*version && stitch_state_get_package(ctx->sw->st, name, &in, NULL) == 0) {
		const struct stitch_version *v = stitch_pkg_find_version(pkg, in.version);
		*version = v ? v->version : NULL;
		stitch_installed_release(&in);
	}
	if (!*version && (rc = check_resolution(ctx, json, name, version, NULL, NULL)) != EXIT_OK)
		return rc;
	if (!*version)
		return cmd_error("cannot tell which version of '%s' to pin", name);
	return EXIT_OK;
}

/* Without DIR the release is unpacked into ./PKG, which must not be there yet. */
static int unpack_for_pin(struct stitch_ctx *ctx, bool json, const char *name,
                          const struct stitch_pkg *pkg, const char *version, const char *dir)
{
	int rc;

	if (access(dir, F_OK) == 0)
		return cmd_error("'%s' already exists; pass it as DIR to pin it as it is", dir);
	if ((rc = unpack_release(ctx, stitch_pkg_find_version(pkg, version), dir)) != EXIT_OK)
		return rc;
	if (json)
		print_unpacked(true, name, version, dir);
	else
		printf("unpacked %s %s into ./%s\n", name, version, dir);
	return EXIT_OK;
}

/* The pin with its tree hash, and its entry in the history, in one transaction. */
static int put_pin_logged(struct stitch_ctx *ctx, const struct stitch_pin *pin,
                          struct stitch_err *err)
{
	struct stitch_change ch = {STITCH_CHANGE_PIN, pin->name, NULL, pin->version};
	struct stitch_history h = {0};
	char summary[64];
	int rc;

	snprintf(summary, sizeof(summary), "pin: 1 change");
	h.command = ctx->command_line;
	h.summary = summary;
	h.changes = &ch;
	h.n_changes = 1;
	if ((rc = stitch_state_begin(ctx->sw->st, err)) != 0)
		return rc;
	rc = stitch_state_pin_put(ctx->sw->st, pin, err);
	if (rc == 0)
		rc = stitch_state_history_append(ctx->sw->st, &h, NULL, err);
	if (rc == 0)
		return stitch_state_commit(ctx->sw->st, err);
	stitch_state_rollback(ctx->sw->st, NULL);
	return rc;
}

/* The scan fills the pin's stat cache: the pin goes in first, its tree hash after. */
static int record_pin(struct stitch_ctx *ctx, bool json, const char *name, const char *version,
                      const char *abs)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_tree_scan scan;
	struct stitch_pin pin = {(char *)name, (char *)version, (char *)abs, NULL, 0};

	if (stitch_state_pin_put(ctx->sw->st, &pin, &err) != 0 ||
	    stitch_tree_scan(ctx->sw->st, name, abs, &scan, &err) != 0)
		return cmd_fail(&err);
	pin.tree_hash = scan.tree_hash;
	if (put_pin_logged(ctx, &pin, &err) != 0) {
		stitch_tree_scan_release(&scan);
		return cmd_fail(&err);
	}
	if (json) {
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "event", "pin", "action",
		                         "added", "name", name, "version", version, "path", abs,
		                         "files", (int)scan.n_files));
	} else {
		printf("pinned %s %s to %s (%zu files)\n", name, version, abs, scan.n_files);
		printf("next: edit it, then 'stitch build'\n");
	}
	stitch_tree_scan_release(&scan);
	return EXIT_OK;
}

static int pin_add(struct stitch_ctx *ctx, int argc, char **argv)
{
	struct stitch_err err = STITCH_ERR_INIT;
	const struct stitch_pkg *pkg;
	const char *version = NULL;
	bool json = false;
	char **ops, *dir = NULL, *abs = NULL;
	struct cmd_ask ask;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, json_opts, on_opt, &json, &ops, &n_ops)) !=
	    EXIT_OK)
		return rc;
	if (n_ops < 1 || n_ops > 2) {
		free(ops);
		return cmd_usage_error(ctx, "pin add takes PKG and optionally DIR");
	}
	if (stitch_index_need(ctx->index, ops[0], &pkg, &err) != 0) {
		rc = cmd_fail(&err);
		goto out;
	}
	if ((rc = open_for_pins(ctx, false)) != EXIT_OK)
		goto out;
	dir = xstrdup(n_ops == 2 ? ops[1] : ops[0]);
	if ((rc = load_overlays(ctx, ops[0], dir, n_ops == 2, &pkg, &version)) != EXIT_OK ||
	    (rc = choose_version(ctx, json, ops[0], pkg, &version)) != EXIT_OK)
		goto out;
	if (n_ops == 1 && (rc = unpack_for_pin(ctx, json, ops[0], pkg, version, dir)) != EXIT_OK)
		goto out;
	if (!(abs = realpath(dir, NULL))) {
		rc = cmd_error("cannot pin '%s' to '%s': %s", ops[0], dir, strerror(errno));
		goto out;
	}
	cmd_ask_init(&ask, ctx, "pin add", json, NULL);
	if ((rc = check_resolution(ctx, json, ops[0], &version, abs, &ask)) == EXIT_OK)
		rc = record_pin(ctx, json, ops[0], version, abs);
out:
	free(abs);
	free(dir);
	free(ops);
	return rc;
}

/*
 * No pin named `name`, but the package is installed: a pin remove killed
 * between forgetting the pin and going back to the release (its pinned
 * build is still installed), or one that finished.  Either way this one
 * goes on to make sure the release is installed; a name neither pinned nor
 * installed is an error.
 */
static bool unpinned_before(struct stitch_ctx *ctx, const char *name)
{
	struct stitch_installed in;

	if (stitch_state_get_package(ctx->sw->st, name, &in, NULL) != 0)
		return false;
	if (in.pinned)
		fprintf(stderr,
		        "note: '%s' is no longer pinned but its pinned build is installed: going "
		        "back to the release\n",
		        name);
	else
		fprintf(stderr, "note: '%s' is not pinned: its release is installed\n", name);
	stitch_installed_release(&in);
	return true;
}

/* What pin remove says once the plan back to the release is confirmed. */
struct unpin_ask {
	struct cmd_ask ask;
	const char *name;
	const struct stitch_pin *pin; /* as it was; NULL when there was none */
	bool said;
};

/* Say, once, that the pin went (before the operation's own lines). */
static void say_unpinned(struct unpin_ask *u)
{
	if (u->said || !u->pin)
		return;
	u->said = true;
	if (u->ask.json)
		cmd_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "event", "pin", "action",
		                         "removed", "name", u->name, "version", u->pin->version,
		                         "path", u->pin->path));
	else
		printf("unpinned %s; going back to the release\n", u->name);
}

/* The confirm callback of pin remove: ask, then say the pin went. */
static bool confirm_unpin(void *data, const struct stitch_event *changes, size_t n)
{
	struct unpin_ask *u = data;

	if (!cmd_ask_confirm(&u->ask, changes, n))
		return false;
	say_unpinned(u);
	return true;
}

static int pin_remove(struct stitch_ctx *ctx, int argc, char **argv)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	struct cmd_op op;
	struct stitch_change unpin;
	struct stitch_pin *pins = NULL;
	struct unpin_ask u = {0};
	const char *version = NULL, *path = NULL;
	bool json = false;
	size_t n_pins = 0;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, json_opts, on_opt, &json, &ops, &n_ops)) !=
	    EXIT_OK)
		return rc;
	if (n_ops != 1) {
		free(ops);
		return cmd_usage_error(ctx, "pin remove takes one package name");
	}
	if ((rc = open_for_pins(ctx, false)) != EXIT_OK)
		goto out;
	/* What the pin was, for the event; the state forgets it below. */
	stitch_state_pin_list(ctx->sw->st, &pins, &n_pins, NULL);
	for (size_t i = 0; i < n_pins; i++)
		if (!strcmp(pins[i].name, ops[0])) {
			version = pins[i].version;
			path = pins[i].path;
			u.pin = &pins[i];
		}
	if (stitch_state_pin_remove(ctx->sw->st, ops[0], &err) != 0 &&
	    !(err.code == STITCH_E_NOTFOUND && unpinned_before(ctx, ops[0]))) {
		rc = cmd_fail(&err);
		goto out;
	}
	if ((rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		goto out;
	/* Back to the release: from the artifact cache when it holds that build. */
	cmd_op_init(ctx, &op, json, false, 0);
	cmd_ask_init(&u.ask, ctx, "pin remove", json, NULL);
	u.name = ops[0];
	op.oo.confirm = confirm_unpin;
	op.oo.confirm_data = &u;
	/* Back to the release is what it asks for, even to an older version. */
	op.oo.on_purpose = (const char *const *)ops;
	op.oo.n_on_purpose = 1;
	if (path) {
		/* The history entry of the operation says the pin went first. */
		unpin = (struct stitch_change){STITCH_CHANGE_UNPIN, ops[0], (char *)version, NULL};
		op.oo.pre_changes = &unpin;
		op.oo.n_pre_changes = 1;
	}
	rc = stitch_op_install(ctx->sw, ctx->index, NULL, 0, &op.oo, &why, &err);
	if (rc == STITCH_E_DECLINED) {
		/* Nothing changed: the pin is as it was. */
		rc = u.pin && stitch_state_pin_put(ctx->sw->st, u.pin, &err) != 0 ? cmd_fail(&err)
		                                                                  : EXIT_ERROR;
	} else if (rc) {
		say_unpinned(&u);
		rc = cmd_fail_solve_json(ctx, json, &err, &why);
	}
	cmd_op_release(&op);
	stitch_buf_release(&why);
out:
	stitch_pins_free(pins, n_pins);
	free(ops);
	return rc;
}

static int pin_list(struct stitch_ctx *ctx, int argc, char **argv)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_pin *pins = NULL;
	size_t n = 0;
	bool json = false;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, json_opts, on_opt, &json, &ops, &n_ops)) !=
	    EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "pin list takes no arguments");
	if ((rc = open_for_pins(ctx, false)) != EXIT_OK)
		return rc;
	if (stitch_state_pin_list(ctx->sw->st, &pins, &n, &err) != 0)
		return cmd_fail(&err);
	for (size_t i = 0; i < n; i++) {
		struct stitch_tree_scan scan;
		enum stitch_pin_state state = STITCH_PIN_MISSING;
		const char *text = "missing";
		if (access(pins[i].path, F_OK) == 0) {
			if (stitch_tree_scan(ctx->sw->st, pins[i].name, pins[i].path, &scan,
			                     &err) != 0) {
				stitch_pins_free(pins, n);
				return cmd_fail(&err);
			}
			bool same =
			    pins[i].tree_hash && strcmp(scan.tree_hash, pins[i].tree_hash) == 0;
			state = same ? STITCH_PIN_UNCHANGED : STITCH_PIN_CHANGED;
			text = same ? "unchanged since pinned" : "changed since pinned";
			stitch_tree_scan_release(&scan);
		}
		if (json)
			cmd_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "pin",
			                         "name", pins[i].name, "version", pins[i].version,
			                         "path", pins[i].path, "state",
			                         cmd_pin_word(state)));
		else
			printf("%-20s %-10s %s (%s)\n", pins[i].name, pins[i].version, pins[i].path,
			       text);
	}
	if (!n)
		fprintf(stderr, "no pins in '%s'\n", ctx->sw->dir);
	stitch_pins_free(pins, n);
	return EXIT_OK;
}

int cmd_pin(int argc, char **argv, struct stitch_ctx *ctx)
{
	if (argc < 2)
		return cmd_usage_error(ctx, "pin needs a subcommand: add, remove or list");
	if (!strcmp(argv[1], "add"))
		return pin_add(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove"))
		return pin_remove(ctx, argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return pin_list(ctx, argc - 1, argv + 1);
	return cmd_usage_error(ctx, "unknown pin subcommand '%s'", argv[1]);
}

/*
 * stitch source unpacks into a new directory only: into one that exists
 * (even empty) the tree would mix with what is there.  dir is the DIR
 * given, or NULL for ./name.
 */
static int source_dir_free(const char *name, const char *dir)
{
	struct stat st;

	if (lstat(dir ? dir : name, &st) != 0)
		return EXIT_OK;
	if (dir) {
		cmd_error("'%s' already exists", dir);
		fprintf(stderr,
		        "hint: name a directory that does not exist yet: 'stitch source %s "
		        "DIR'\n",
		        name);
	} else {
		cmd_error("'./%s' already exists", name);
		fprintf(stderr, "hint: unpack it elsewhere with 'stitch source %s DIR'\n", name);
	}
	return EXIT_ERROR;
}

int cmd_source(int argc, char **argv, struct stitch_ctx *ctx)
{
	struct stitch_err err = STITCH_ERR_INIT;
	const struct stitch_pkg *pkg;
	const struct stitch_version *v = NULL;
	bool json = false;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, json_opts, on_opt, &json, &ops, &n_ops)) !=
	    EXIT_OK)
		return rc;
	if (n_ops < 1 || n_ops > 2) {
		free(ops);
		return cmd_usage_error(ctx, "source takes PKG[=VERSION] and optionally DIR");
	}
	{
		char *eq = strchr(ops[0], '=');
		if (eq)
			*eq = '\0';
		if (stitch_index_need(ctx->index, ops[0], &pkg, &err) != 0) {
			free(ops);
			return cmd_fail(&err);
		}
		if (pkg->n_versions)
			v = eq ? stitch_pkg_find_version(pkg, eq + 1) : &pkg->versions[0];
		if (!v) {
			rc = cmd_error("no package '%s'%s%s in the repositories in use", ops[0],
			               eq ? " version " : "", eq ? eq + 1 : "");
			free(ops);
			return rc;
		}
	}
	if ((rc = source_dir_free(v->pkg->name, n_ops == 2 ? ops[1] : NULL)) != EXIT_OK) {
		free(ops);
		return rc;
	}
	rc = unpack_release(ctx, v, n_ops == 2 ? ops[1] : ops[0]);
	if (rc == EXIT_OK)
		print_unpacked(json, v->pkg->name, v->version, n_ops == 2 ? ops[1] : ops[0]);
	free(ops);
	return rc;
}
