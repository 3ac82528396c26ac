#include "project.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "req.h"
#include "util.h"
#include "version.h"

int stitch_project_find(const char *start, char **dir, struct stitch_err *err)
{
	char *cur = realpath(start, NULL);

	if (!cur)
		return stitch_error(err, STITCH_E_NOTFOUND, "cannot find '%s'", start);
	for (;;) {
		char *m = xasprintf("%s/unikernel.json", cur);
		char *slash;
		int found = access(m, R_OK) == 0;
		free(m);
		if (found) {
			*dir = cur;
			return 0;
		}
		slash = strrchr(cur, '/');
		if (!slash || slash == cur)
			break;
		*slash = '\0';
	}
	free(cur);
	return stitch_error(err, STITCH_E_NOTFOUND,
	                    "no unikernel.json in '%s' or any directory above it", start);
}

static int bad(const struct stitch_project *p, const char *field, const char *what,
               struct stitch_err *err)
{
	return stitch_error(err, STITCH_E_PARSE, "%s: field '%s': %s", p->manifest, field, what);
}

/* An optional array of strings into *out / *n. */
static int strings(const struct stitch_project *p, json_t *root, const char *field, char ***out,
                   size_t *n, struct stitch_err *err)
{
	json_t *a = json_object_get(root, field), *v;
	size_t i;

	*out = xcalloc(json_array_size(a) + 1, sizeof(char *));
	*n = 0;
	if (!a)
		return 0;
	if (!json_is_array(a))
		return bad(p, field, "expected an array of strings", err);
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return bad(p, field, "expected an array of strings", err);
		(*out)[(*n)++] = xstrdup(json_string_value(v));
	}
	return 0;
}

static int argv_of(const struct stitch_project *p, json_t *a, const char *field,
                   struct stitch_argv *out, struct stitch_err *err)
{
	json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return bad(p, field, "expected a command: a non-empty array of strings", err);
	out->argv = xcalloc(json_array_size(a) + 1, sizeof(char *));
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return bad(p, field, "expected a command: a non-empty array of strings",
			           err);
		out->argv[out->argc++] = xstrdup(json_string_value(v));
	}
	return 0;
}

int stitch_project_load(const char *dir, struct stitch_project *p, struct stitch_err *err)
{
	json_error_t jerr;
	json_t *root, *v, *gen;
	size_t i;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->dir = realpath(dir, NULL);
	if (!p->dir)
		return stitch_error(err, STITCH_E_NOTFOUND, "cannot find project '%s'", dir);
	p->manifest = xasprintf("%s/unikernel.json", p->dir);
	root = json_load_file(p->manifest, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = stitch_error(err, STITCH_E_PARSE, "%s:%d:%d: invalid JSON: %s", p->manifest,
		                  jerr.line, jerr.column, jerr.text);
		stitch_project_release(p);
		return rc;
	}
	v = json_object_get(root, "name");
	if (!json_is_string(v) || !stitch_name_valid(json_string_value(v), json_string_length(v))) {
		rc = bad(p, "name", "expected a name like [A-Za-z0-9][A-Za-z0-9_+.-]*", err);
		goto out;
	}
	p->name = xstrdup(json_string_value(v));
	v = json_object_get(root, "target");
	if (v && !json_is_string(v)) {
		rc = bad(p, "target", "expected a string such as \"unix\"", err);
		goto out;
	}
	p->target = xstrdup(v ? json_string_value(v) : "unix");
	if ((rc = strings(p, root, "depends", &p->depends, &p->n_depends, err)) ||
	    (rc = strings(p, root, "sources", &p->sources, &p->n_sources, err)) ||
	    (rc = strings(p, root, "cflags", &p->cflags, &p->n_cflags, err)) ||
	    (rc = strings(p, root, "ldflags", &p->ldflags, &p->n_ldflags, err)))
		goto out;
	for (i = 0; i < p->n_depends; i++) {
		struct stitch_req *r;
		if (stitch_req_parse(p->depends[i], &r, err) != 0) {
			stitch_error_wrap(err, "%s: field 'depends', item %zu", p->manifest, i);
			rc = STITCH_E_PARSE;
			goto out;
		}
		stitch_req_free(r);
	}
	if (!p->n_sources) {
		rc = bad(p, "sources", "expected at least one C source file", err);
		goto out;
	}
	gen = json_object_get(root, "generate");
	if (gen && !json_is_array(gen)) {
		rc = bad(p, "generate", "expected an array of commands", err);
		goto out;
	}
	p->generate = xcalloc(json_array_size(gen) + 1, sizeof(*p->generate));
	json_array_foreach(gen, i, v)
	{
		if ((rc = argv_of(p, v, "generate", &p->generate[i], err)) != 0)
			goto out;
		p->n_generate++;
	}
	v = json_object_get(root, "test");
	if (v && (rc = argv_of(p, v, "test", &p->test, err)) != 0)
		goto out;
	v = json_object_get(root, "test_network");
	if (v && !json_is_boolean(v)) {
		rc = bad(p, "test_network", "expected true or false", err);
		goto out;
	}
	p->test_network = json_is_true(v);
out:
	json_decref(root);
	if (rc)
		stitch_project_release(p); /* the caller gets nothing to release */
	return rc;
}

static void free_argv(struct stitch_argv *a)
{
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void stitch_project_release(struct stitch_project *p)
{
	free(p->dir);
	free(p->manifest);
	free(p->name);
	free(p->target);
	free_strings(p->depends, p->n_depends);
	free_strings(p->sources, p->n_sources);
	free_strings(p->cflags, p->n_cflags);
	free_strings(p->ldflags, p->n_ldflags);
	for (size_t i = 0; i < p->n_generate; i++)
		free_argv(&p->generate[i]);
	free(p->generate);
	free_argv(&p->test);
	memset(p, 0, sizeof(*p));
}
