/* stitch.lock (lock.h), read and written with jansson. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *stitch_lock_dump(const struct stitch_lock *l)
{
	json_t *o = json_object(), *a;
	char *text, *out;

	json_object_set_new(o, "lock_version", json_integer(STITCH_LOCK_VERSION));
	json_object_set_new(o, "project", json_string(l->project));
	json_object_set_new(o, "target", json_string(l->target));
	a = json_array();
	for (size_t i = 0; i < l->n_requires; i++)
		json_array_append_new(a, json_string(l->requires[i]));
	json_object_set_new(o, "requires", a);
	json_object_set_new(
	    o, "toolchain",
	    json_pack("{s:o, s:o}", "cc", str_or_null(l->cc), "ld", str_or_null(l->ld)));
	a = json_array();
	for (size_t i = 0; i < l->n_repos; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", l->repos[i].name, "sha256",
		                                   l->repos[i].sha256));
	json_object_set_new(o, "repositories", a);
	a = json_array();
	for (size_t i = 0; i < l->n_pkgs; i++) {
		const struct stitch_lock_pkg *p = &l->pkgs[i];
		json_t *po = json_pack("{s:s, s:s}", "name", p->name, "version", p->version), *d;
		if (p->pin_path)
			json_object_set_new(po, "pin",
			                    json_pack("{s:s, s:s}", "path", p->pin_path, "tree",
			                              p->pin_tree ? p->pin_tree : ""));
		else
			json_object_set_new(po, "source",
			                    json_pack("{s:s, s:o}", "url", p->url ? p->url : "",
			                              "sha256", str_or_null(p->sha256)));
		json_object_set_new(po, "recipe", json_string(p->recipe));
		json_object_set_new(po, "repository", str_or_null(p->repository));
		d = json_array();
		for (size_t k = 0; k < p->n_depends; k++)
			json_array_append_new(d, json_string(p->depends[k]));
		json_object_set_new(po, "depends", d);
		json_array_append_new(a, po);
	}
	json_object_set_new(o, "packages", a);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	out = xasprintf("%s\n", text);
	free(text);
	return out;
}

static int bad(struct stitch_err *err, const char *path, const char *what)
{
	return stitch_error(err, STITCH_E_PARSE, "%s: %s", path, what);
}

static char *opt_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

static int load_pkg(json_t *po, size_t i, const char *path, struct stitch_lock_pkg *p,
                    struct stitch_err *err)
{
	json_t *src = json_object_get(po, "source"), *pin = json_object_get(po, "pin");
	json_t *deps = json_object_get(po, "depends"), *d;
	size_t k;
	char what[96];

	p->name = opt_str(po, "name");
	p->version = opt_str(po, "version");
	p->recipe = opt_str(po, "recipe");
	p->repository = opt_str(po, "repository");
	snprintf(what, sizeof(what), "packages[%zu]", i);
	if (!p->name || !p->version || !p->recipe || !json_is_array(deps) ||
	    (!json_is_object(src) && !json_is_object(pin)))
		return stitch_error(err, STITCH_E_PARSE,
		                    "%s: %s: expected name, version, source or pin, recipe and "
		                    "depends",
		                    path, what);
	if (src) {
		p->url = opt_str(src, "url");
		p->sha256 = opt_str(src, "sha256");
		if (!p->url)
			return stitch_error(err, STITCH_E_PARSE, "%s: %s (%s): source without url",
			                    path, what, p->name);
	} else {
		p->pin_path = opt_str(pin, "path");
		p->pin_tree = opt_str(pin, "tree");
		if (!p->pin_path)
			return stitch_error(err, STITCH_E_PARSE, "%s: %s (%s): pin without path",
			                    path, what, p->name);
	}
	p->n_depends = json_array_size(deps);
	p->depends = xcalloc(p->n_depends + 1, sizeof(char *));
	json_array_foreach(deps, k, d)
	{
		if (!json_is_string(d))
			return stitch_error(err, STITCH_E_PARSE,
			                    "%s: %s (%s): depends must hold names", path, what,
			                    p->name);
		p->depends[k] = xstrdup(json_string_value(d));
	}
	return 0;
}

int stitch_lock_load(const char *path, struct stitch_lock *l, struct stitch_err *err)
{
	json_error_t jerr;
	json_t *o, *a, *v, *tc;
	size_t i;
	int rc = 0;

	memset(l, 0, sizeof(*l));
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		if (access(path, F_OK) != 0)
			return stitch_error(err, STITCH_E_NOTFOUND, "no lock at '%s'", path);
		return stitch_error(err, STITCH_E_PARSE, "%s:%d:%d: %s", path, jerr.line,
		                    jerr.column, jerr.text);
	}
	v = json_object_get(o, "lock_version");
	if (!json_is_integer(v)) {
		rc = bad(err, path, "field 'lock_version': expected an integer");
		goto out;
	}
	if (json_integer_value(v) > STITCH_LOCK_VERSION || json_integer_value(v) < 1) {
		rc =
		    stitch_error(err, STITCH_E_PARSE,
		                 "%s: lock_version %lld is not one this stitch reads (it reads %d)",
		                 path, (long long)json_integer_value(v), STITCH_LOCK_VERSION);
		goto out;
	}
	l->project = opt_str(o, "project");
	l->target = opt_str(o, "target");
	tc = json_object_get(o, "toolchain");
	l->cc = opt_str(tc, "cc");
	l->ld = opt_str(tc, "ld");
	if (!l->project || !l->target) {
		rc = bad(err, path, "fields 'project' and 'target': expected strings");
		goto out;
	}
	a = json_object_get(o, "requires");
	if (!json_is_array(a)) {
		rc = bad(err, path, "field 'requires': expected an array of strings");
		goto out;
	}
	l->requires = xcalloc(json_array_size(a) + 1, sizeof(char *));
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v)) {
			rc = bad(err, path, "field 'requires': expected an array of strings");
			goto out;
		}
		l->requires[l->n_requires++] = xstrdup(json_string_value(v));
	}
	a = json_object_get(o, "repositories");
	l->repos = xcalloc(json_array_size(a) + 1, sizeof(*l->repos));
	json_array_foreach(a, i, v)
	{
		l->repos[l->n_repos].name = opt_str(v, "name");
		l->repos[l->n_repos].sha256 = opt_str(v, "sha256");
		if (!l->repos[l->n_repos++].name) {
			rc = bad(err, path, "field 'repositories': each needs a name");
			goto out;
		}
	}
	a = json_object_get(o, "packages");
	if (!json_is_array(a)) {
		rc = bad(err, path, "field 'packages': expected an array");
		goto out;
	}
	l->pkgs = xcalloc(json_array_size(a) + 1, sizeof(*l->pkgs));
	json_array_foreach(a, i, v)
	{
		if ((rc = load_pkg(v, i, path, &l->pkgs[l->n_pkgs++], err)) != 0)
			goto out;
		if (l->n_pkgs > 1 &&
		    strcmp(l->pkgs[l->n_pkgs - 2].name, l->pkgs[l->n_pkgs - 1].name) >= 0) {
			rc = stitch_error(
			    err, STITCH_E_PARSE,
			    "%s: packages must be sorted by name, each once ('%s' after "
			    "'%s')",
			    path, l->pkgs[l->n_pkgs - 1].name, l->pkgs[l->n_pkgs - 2].name);
			goto out;
		}
	}
out:
	json_decref(o);
	if (rc)
		stitch_lock_release(l);
	return rc;
}

int stitch_lock_save(const char *path, const struct stitch_lock *l, struct stitch_err *err)
{
	char *text = stitch_lock_dump(l);
	int rc = 0;

	if (stitch_write_file(path, text, strlen(text), true) != 0)
		rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", path, strerror(errno));
	free(text);
	return rc;
}

void stitch_lock_release(struct stitch_lock *l)
{
	free(l->project);
	free(l->target);
	stitch_strings_free(l->requires, l->n_requires);
	free(l->cc);
	free(l->ld);
	for (size_t i = 0; i < l->n_repos; i++) {
		free(l->repos[i].name);
		free(l->repos[i].sha256);
	}
	free(l->repos);
	for (size_t i = 0; i < l->n_pkgs; i++) {
		struct stitch_lock_pkg *p = &l->pkgs[i];
		free(p->name);
		free(p->version);
		free(p->url);
		free(p->sha256);
		free(p->recipe);
		free(p->repository);
		stitch_strings_free(p->depends, p->n_depends);
		free(p->pin_path);
		free(p->pin_tree);
	}
	free(l->pkgs);
	memset(l, 0, sizeof(*l));
}

const struct stitch_lock_pkg *stitch_lock_find(const struct stitch_lock *l, const char *name)
{
	for (size_t i = 0; i < l->n_pkgs; i++)
		if (strcmp(l->pkgs[i].name, name) == 0)
			return &l->pkgs[i];
	return NULL;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

static bool same_depends(const struct stitch_lock_pkg *a, const struct stitch_lock_pkg *b)
{
	if (a->n_depends != b->n_depends)
		return false;
	for (size_t i = 0; i < a->n_depends; i++)
		if (strcmp(a->depends[i], b->depends[i]) != 0)
			return false;
	return true;
}

size_t stitch_lock_diff(const struct stitch_lock *a, const struct stitch_lock *b, char ***out,
                        char ***notes, size_t *n_notes)
{
	size_t n = 0, nn = 0;
	bool req_same = a->n_requires == b->n_requires;

	*out = NULL;
	for (size_t i = 0; req_same && i < a->n_requires; i++)
		req_same = strcmp(a->requires[i], b -> requires[i]) == 0;
	if (!same(a->project, b->project))
		push(out, &n, xasprintf("project: %s -> %s", a->project, b->project));
	if (!same(a->target, b->target))
		push(out, &n, xasprintf("target: %s -> %s", a->target, b->target));
	if (!req_same)
		push(out, &n, xstrdup("requires: the project's depends changed"));
	for (size_t i = 0; i < a->n_pkgs; i++) {
		const struct stitch_lock_pkg *p = &a->pkgs[i], *q = stitch_lock_find(b, p->name);
		if (!q) {
			push(out, &n, xasprintf("%s %s: no longer needed", p->name, p->version));
			continue;
		}
		if (!same(p->version, q->version))
			push(out, &n, xasprintf("%s: %s -> %s", p->name, p->version, q->version));
		else if (!same(p->sha256, q->sha256))
			push(out, &n,
			     xasprintf("%s %s: source checksum %s -> %s", p->name, p->version,
			               p->sha256 ? p->sha256 : "none",
			               q->sha256 ? q->sha256 : "none"));
		if (!same(p->url, q->url) && p->url && q->url)
			push(out, &n,
			     xasprintf("%s %s: source URL %s -> %s", p->name, p->version, p->url,
			               q->url));
		if (!same(p->recipe, q->recipe))
			push(out, &n, xasprintf("%s %s: recipe changed", p->name, p->version));
		if (!same(p->repository, q->repository))
			push(out, &n,
			     xasprintf("%s %s: repository %s -> %s", p->name, p->version,
			               p->repository ? p->repository : "(pin)",
			               q->repository ? q->repository : "(pin)"));
		if (!same(p->pin_path, q->pin_path))
			push(out, &n,
			     xasprintf("%s: pin %s -> %s", p->name,
			               p->pin_path ? p->pin_path : "none",
			               q->pin_path ? q->pin_path : "none"));
		else if (p->pin_path && !same(p->pin_tree, q->pin_tree))
			push(out, &n,
			     xasprintf("%s: pinned tree %s changed", p->name, p->pin_path));
		if (!same_depends(p, q))
			push(out, &n,
			     xasprintf("%s %s: its dependencies changed", p->name, p->version));
	}
	for (size_t i = 0; i < b->n_pkgs; i++)
		if (!stitch_lock_find(a, b->pkgs[i].name))
			push(out, &n,
			     xasprintf("%s %s: newly needed", b->pkgs[i].name, b->pkgs[i].version));
	if (notes) {
		*notes = NULL;
		if (!same(a->cc, b->cc))
			push(notes, &nn,
			     xasprintf("compiler: locked with '%s', here '%s'", a->cc ? a->cc : "?",
			               b->cc ? b->cc : "?"));
		if (!same(a->ld, b->ld))
			push(notes, &nn,
			     xasprintf("linker: locked with '%s', here '%s'", a->ld ? a->ld : "?",
			               b->ld ? b->ld : "?"));
		for (size_t i = 0; i < a->n_repos; i++)
			for (size_t k = 0; k < b->n_repos; k++)
				if (!strcmp(a->repos[i].name, b->repos[k].name) &&
				    !same(a->repos[i].sha256, b->repos[k].sha256))
					push(
					    notes, &nn,
					    xasprintf("repository '%s' changed since the lock (the "
					              "locked packages in it did not)",
					              a->repos[i].name));
		*n_notes = nn;
	}
	return n;
}
