/*
 * Targets are data: share/targets.json, found beside the stitch binary (a
 * source tree), one level up (a sanitizer build), or in the data directory.
 */
#include "target.h"

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index.h"
#include "req.h"
#include "util.h"

#ifndef STITCH_DATADIR
#define STITCH_DATADIR "/usr/local/share/stitch"
#endif

static struct stitch_target *targets;
static size_t n_targets;
static char *loaded_from;

void stitch_target_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/*
 * A NULL-terminated copy of an array of strings; NULL (err set) when it is
 * not one.  A missing array is an empty one, unless need_one.
 */
static char **argv_of(json_t *a, const char *file, const char *name, const char *key, bool need_one,
                      struct stitch_err *err)
{
	char **v;
	size_t i;
	json_t *w;

	if (!a && !need_one)
		return xcalloc(1, sizeof(char *));
	if (!json_is_array(a) || (need_one && json_array_size(a) == 0)) {
		stitch_error(err, STITCH_E_PARSE,
		             "%s: target '%s': '%s' must be a%s array of strings", file, name, key,
		             need_one ? " non-empty" : "n");
		return NULL;
	}
	v = xcalloc(json_array_size(a) + 1, sizeof(char *));
	json_array_foreach(a, i, w)
	{
		if (!json_is_string(w)) {
			stitch_target_argv_free(v);
			stitch_error(err, STITCH_E_PARSE,
			             "%s: target '%s': '%s'[%zu] is not a string", file, name, key,
			             i);
			return NULL;
		}
		v[i] = xstrdup(json_string_value(w));
	}
	return v;
}

/* The flags of key as one string of words: "" when there are none. */
static char *words(json_t *a, const char *file, const char *name, const char *key,
                   struct stitch_err *err)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char **v = argv_of(a, file, name, key, false, err);

	if (!v)
		return NULL;
	for (size_t i = 0; v[i]; i++)
		stitch_buf_addf(&b, "%s%s", i ? " " : "", v[i]);
	stitch_target_argv_free(v);
	return b.buf ? b.buf : xstrdup("");
}

static const char *field(json_t *o, const char *file, const char *name, const char *key,
                         struct stitch_err *err)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v)) {
		stitch_error(err, STITCH_E_PARSE, "%s: target '%s': '%s' must be a string", file,
		             name, key);
		return NULL;
	}
	return json_string_value(v);
}

static int parse(const char *file, struct stitch_err *err)
{
	json_error_t je;
	json_t *root = json_load_file(file, 0, &je), *o;
	const char *name;

	if (!root)
		return stitch_error(err, STITCH_E_PARSE, "%s:%d: %s", file, je.line, je.text);
	if (!json_is_object(root) || json_object_size(root) == 0) {
		json_decref(root);
		return stitch_error(err, STITCH_E_PARSE, "%s: must be an object of targets", file);
	}
	targets = xcalloc(json_object_size(root), sizeof(*targets));
	json_object_foreach(root, name, o)
	{
		struct stitch_target *t = &targets[n_targets];
		const char *plat = field(o, file, name, "platform", err);
		const char *suf = plat ? field(o, file, name, "suffix", err) : NULL;
		const char *run = suf ? field(o, file, name, "runner", err) : NULL;
		char *cf =
		    run ? words(json_object_get(o, "cflags"), file, name, "cflags", err) : NULL;
		char *lf =
		    cf ? words(json_object_get(o, "ldflags"), file, name, "ldflags", err) : NULL;
		char **cmd =
		    lf ? argv_of(json_object_get(o, "run"), file, name, "run", true, err) : NULL;

		if (!cmd) {
			free(cf);
			free(lf);
			json_decref(root);
			return -1;
		}
		if (json_object_get(o, "exit")) {
			const char *ex = field(o, file, name, "exit", err);
			if (!ex || strcmp(ex, "isa-debug-exit") != 0) {
				if (ex)
					stitch_error(err, STITCH_E_PARSE,
					             "%s: target '%s': unknown exit '%s' (known: "
					             "isa-debug-exit)",
					             file, name, ex);
				stitch_target_argv_free(cmd);
				free(cf);
				free(lf);
				json_decref(root);
				return -1;
			}
			t->debug_exit = true;
		}
		t->run = (const char *const *)cmd;
		t->name = xstrdup(name);
		t->platform_pkg = xstrdup(plat);
		t->suffix = xstrdup(suf);
		t->runner = xstrdup(run);
		t->cflags = cf;
		t->ldflags = lf;
		n_targets++;
	}
	json_decref(root);
	return 0;
}

size_t stitch_target_paths(char *paths[STITCH_TARGET_PATHS])
{
	char exe[PATH_MAX], *slash;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *rel[] = {"share/targets.json", "../share/targets.json",
	                     "../share/stitch/targets.json"};
	size_t n = 0;

	if (len > 0) {
		exe[len] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++)
			paths[n++] = xasprintf("%s/%s", exe, rel[i]);
	}
	paths[n++] = xasprintf("%s/targets.json", STITCH_DATADIR);
	return n;
}

/* The first of stitch_target_paths that can be read, else the last. */
static char *find_file(void)
{
	char *paths[STITCH_TARGET_PATHS], *found = NULL;
	size_t n = stitch_target_paths(paths);

	for (size_t i = 0; i < n; i++) {
		if (!found && (i == n - 1 || access(paths[i], R_OK) == 0))
			found = paths[i];
		else
			free(paths[i]);
	}
	return found;
}

const struct stitch_target *stitch_target_find(const char *name, struct stitch_err *err)
{
	struct stitch_buf known = STITCH_BUF_INIT;

	if (!loaded_from) {
		loaded_from = find_file();
		if (parse(loaded_from, err) != 0) {
			free(loaded_from);
			loaded_from = NULL;
			return NULL;
		}
	}
	for (size_t i = 0; i < n_targets; i++)
		if (strcmp(targets[i].name, name) == 0)
			return &targets[i];
	for (size_t i = 0; i < n_targets; i++)
		stitch_buf_addf(&known, "%s%s", i ? ", " : "", targets[i].name);
	stitch_error(err, STITCH_E_USAGE, "unknown target '%s' (known: %s)", name, known.buf);
	stitch_buf_release(&known);
	return NULL;
}

static bool is_platform(const char *name)
{
	for (size_t i = 0; i < n_targets; i++)
		if (strcmp(targets[i].platform_pkg, name) == 0)
			return true;
	return false;
}

/* word with every %{var}% of vars replaced (vars: name, value pairs, NULL-ended). */
static char *expand(const char *word, const char *const *vars)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	const char *p = word;

	while (*p) {
		bool done = false;
		for (const char *const *v = vars; *v && !done; v += 2) {
			size_t n = strlen(v[0]);
			if (strncmp(p, "%{", 2) == 0 && strncmp(p + 2, v[0], n) == 0 &&
			    strncmp(p + 2 + n, "}%", 2) == 0) {
				stitch_buf_adds(&b, v[1]);
				p += n + 4;
				done = true;
			}
		}
		if (!done)
			stitch_buf_add(&b, p++, 1);
	}
	return b.buf ? b.buf : xstrdup("");
}

char **stitch_target_argv(const struct stitch_target *t, const char *image, const char *tap,
                          char *const *args)
{
	struct stitch_buf line = STITCH_BUF_INIT;
	/* A VM runs on KVM where the user may open it, else under emulation. */
	const char *accel = access("/dev/kvm", R_OK | W_OK) == 0 ? "kvm" : "tcg";
	size_t n_args = 0, n_run = 0, k = 0;
	char **argv;

	for (; args && args[n_args]; n_args++)
		stitch_buf_addf(&line, "%s%s", n_args ? " " : "", args[n_args]);
	while (t->run[n_run])
		n_run++;
	argv = xcalloc(n_run + n_args + 1, sizeof(char *));
	for (size_t i = 0; i < n_run; i++) {
		const char *vars[] = {"image", image,     "tap",
		                      tap,     "cmdline", line.buf ? line.buf : "",
		                      "accel", accel,     NULL};
		if (strcmp(t->run[i], "%{args}%") == 0)
			for (size_t a = 0; a < n_args; a++)
				argv[k++] = xstrdup(args[a]);
		else
			argv[k++] = expand(t->run[i], vars);
	}
	stitch_buf_release(&line);
	return argv;
}

int stitch_target_exit_status(const struct stitch_target *t, int code)
{
	if (!t->debug_exit || code == 0 || code >= 128)
		return code; /* stopped, or killed by a signal */
	return code >= 3 && code % 2 ? (code - 3) / 2 : code;
}

bool stitch_target_other_platform(const struct stitch_target *t, const char *name)
{
	return is_platform(name) && strcmp(name, t->platform_pkg) != 0;
}

/* Does version v run on t?  *needs is the other platform it names, if not. */
static bool version_supports(const struct stitch_version *v, const struct stitch_target *t,
                             const char **needs)
{
	for (size_t i = 0; i < v->n_depends; i++) {
		struct stitch_req *r;
		bool platform = false, ours = false;

		if (stitch_req_parse(v->depends[i], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts; a++) {
			if (is_platform(r->alts[a].name)) {
				platform = true;
				if (!*needs || strcmp(r->alts[a].name, t->platform_pkg) != 0)
					*needs = v->depends[i];
			}
			ours |= strcmp(r->alts[a].name, t->platform_pkg) == 0;
		}
		stitch_req_free(r);
		if (platform && !ours)
			return false;
	}
	return true;
}

int stitch_target_check_depends(const struct stitch_target *t, const struct stitch_index *idx,
                                const char *const *reqs, size_t n_reqs, struct stitch_err *err)
{
	const char **seen = NULL;
	size_t n_seen = 0, cap = 0;
	int rc = 0;

	/* Every name reachable through any version: the walk is over names. */
	for (size_t i = 0; i < n_reqs; i++) {
		struct stitch_req *r;
		if (stitch_req_parse(reqs[i], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts; a++) {
			XGROW(seen, cap, n_seen + 1);
			seen[n_seen++] = xstrdup(r->alts[a].name);
		}
		stitch_req_free(r);
	}
	for (size_t k = 0; k < n_seen && rc == 0; k++) {
		const struct stitch_pkg *pkg = stitch_index_find(idx, seen[k]);
		const char *needs = NULL;
		bool any = false;
		bool dup = false;

		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(seen[j], seen[k]) == 0;
		if (dup || !pkg || is_platform(pkg->name))
			continue;
		for (size_t v = 0; v < pkg->n_versions; v++) {
			const struct stitch_version *ver = &pkg->versions[v];
			any |= version_supports(ver, t, &needs);
			for (size_t d = 0; d < ver->n_depends; d++) {
				struct stitch_req *r;
				if (stitch_req_parse(ver->depends[d], &r, NULL) != 0)
					continue;
				for (size_t a = 0; a < r->n_alts; a++) {
					XGROW(seen, cap, n_seen + 1);
					seen[n_seen++] = xstrdup(r->alts[a].name);
				}
				stitch_req_free(r);
			}
		}
		if (!any && pkg->n_versions > 0)
			rc = stitch_error(
			    err, STITCH_E_CONFLICT,
			    "package '%s' does not support target '%s': it depends on '%s'",
			    pkg->name, t->name, needs);
	}
	for (size_t k = 0; k < n_seen; k++)
		free((void *)seen[k]);
	free(seen);
	return rc;
}
