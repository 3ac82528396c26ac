/*
 * Targets are data: share/targets.json, found beside the stitch binary (a
 * source tree), one level up (a sanitizer build), or in the data directory.
 */
#include "target.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#ifndef STITCH_DATADIR
#define STITCH_DATADIR "/usr/local/share/stitch"
#endif

static struct stitch_target *targets;
static size_t n_targets;
static char *loaded_from;

static char *words(json_t *a, const char *file, const char *name, const char *key,
                   struct stitch_err *err)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	size_t i;
	json_t *w;

	if (!a)
		return xstrdup("");
	if (!json_is_array(a)) {
		stitch_error(err, STITCH_E_PARSE,
		             "%s: target '%s': '%s' must be an array of strings", file, name, key);
		return NULL;
	}
	json_array_foreach(a, i, w)
	{
		if (!json_is_string(w)) {
			stitch_buf_release(&b);
			stitch_error(err, STITCH_E_PARSE,
			             "%s: target '%s': '%s'[%zu] is not a string", file, name, key,
			             i);
			return NULL;
		}
		stitch_buf_addf(&b, "%s%s", i ? " " : "", json_string_value(w));
	}
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

		if (!lf) {
			free(cf);
			json_decref(root);
			return -1;
		}
		if (strcmp(run, "process") != 0) {
			free(cf);
			free(lf);
			json_decref(root);
			return stitch_error(err, STITCH_E_PARSE,
			                    "%s: target '%s': unknown runner '%s' (known: process)",
			                    file, name, run);
		}
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

static char *find_file(void)
{
	char exe[PATH_MAX], *slash, *c;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *rel[] = {"share/targets.json", "../share/targets.json",
	                     "../share/stitch/targets.json"};

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			c = xasprintf("%s/%s", exe, rel[i]);
			if (access(c, R_OK) == 0)
				return c;
			free(c);
		}
	}
	return xasprintf("%s/targets.json", STITCH_DATADIR);
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
