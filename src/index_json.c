/*
 * From JSON to the flat form: every check the index format asks for, with
 * errors naming the file and line:column (syntax) or the package, version
 * and field (meaning).  jansson's values never leave this file.
 */
#include <dirent.h>
#include "dl.h"
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index_flat.h"
#include "req.h"
#include "version.h"

static int cmp_version_desc(const void *a, const void *b, void *base)
{
	const char *s = base;
	return stitch_version_cmp(s + ((const struct flat_version *)b)->version,
	                          s + ((const struct flat_version *)a)->version);
}

static void push_ref(struct flat_builder *b, uint32_t off)
{
	XGROW(b->refs, b->cap_refs, b->n_refs + 1);
	b->refs[b->n_refs++] = off;
}

/* ---- checking JSON values ---- */

/*
 * Positions already found in a document, so that a document with a problem
 * in each of thousands of packages is scanned about once, not once per
 * problem: jansson walks the packages in the order of the text.
 */
struct pos_memo {
	const char *key; /* the package whose value is at pkg_off */
	size_t pkg_off, resume; /* resume: just past that value; 0: none yet */
	struct json_lc pkg_lc; /* pkg_off's line and column */
	struct json_lc lc; /* the last position counted */
};

struct where {
	struct flat_builder *b;
	const char *file;
	const char *text; /* the document, for positions */
	size_t text_len;
	int in_doc; /* shape 2: the package is at "packages" / key */
	const char *key; /* the package's key, or its file's base name */
	const char *pkg; /* NULL outside a package */
	const char *version; /* NULL outside a version */
	long item, arg; /* in an array field: item (command) and argument; -1: none */
	struct stitch_err *err;
	struct pos_memo *memo; /* shape 2 with its text, else NULL */
};

#define NAME_SHOWN 60

#define URL_SHOWN 200

/*
 * s as messages quote it: a long one (a name can be a megabyte) is cut
 * after max bytes, so that what is wrong with it still fits in the message.
 * buf holds max + 4 bytes.
 */
static const char *cut(const char *s, char *buf, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return s;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--; /* not inside a UTF-8 character */
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

static const char *shown(const char *s, char buf[NAME_SHOWN + 4])
{
	return cut(s, buf, NAME_SHOWN);
}

/* The offset of w's package's value in a document, through w->memo. */
static size_t pkg_offset(const struct where *w)
{
	struct pos_memo *m = w->memo;
	struct json_step path[2] = {{"packages", 0}, {w->key, 0}};
	size_t off = SIZE_MAX, after = 0;

	if (m->key == w->key)
		return m->pkg_off;
	if (m->resume)
		off = json_next_member(w->text, w->text_len, m->resume, w->key, &after);
	if (off == SIZE_MAX) {
		size_t obj = json_locate(w->text, w->text_len, path, 1);
		off = json_next_member(w->text, w->text_len, obj + 1, w->key, &after);
		if (off == SIZE_MAX)
			return json_locate(w->text, w->text_len, path, 2);
	}
	m->key = w->key;
	m->pkg_off = off;
	m->resume = after;
	json_line_col_from(w->text, off, &m->lc);
	m->pkg_lc = m->lc;
	return off;
}

/* Line and column of off, counting on from what w->memo has counted. */
static void where_line_col(const struct where *w, size_t off, int *line, int *col)
{
	struct pos_memo *m = w->memo;

	if (!m) {
		json_line_col(w->text, off, line, col);
		return;
	}
	if (off < m->lc.off && off >= m->pkg_lc.off && m->key)
		m->lc = m->pkg_lc;
	json_line_col_from(w->text, off, &m->lc);
	*line = m->lc.line;
	*col = m->lc.col;
}

/* The byte offset of what w is about: the path to it in the document. */
static size_t where_offset(const struct where *w, const char *field)
{
	struct json_step path[10];
	char fbuf[64];
	size_t n = 0, start = 0;

	if (!w->text)
		return 0;
	if (w->in_doc && w->memo) {
		start = pkg_offset(w);
	} else if (w->in_doc) {
		path[n++] = (struct json_step){"packages", 0};
		path[n++] = (struct json_step){w->key, 0};
	}
	if (w->version) {
		path[n++] = (struct json_step){"versions", 0};
		path[n++] = (struct json_step){w->version, 0};
	}
	if (field) {
		/* "source.url": two steps. */
		snprintf(fbuf, sizeof(fbuf), "%s", field);
		char *dot = strchr(fbuf, '.');
		if (dot)
			*dot = '\0';
		path[n++] = (struct json_step){fbuf, 0};
		if (dot)
			path[n++] = (struct json_step){dot + 1, 0};
	}
	if (w->item >= 0)
		path[n++] = (struct json_step){NULL, (size_t)w->item};
	if (w->arg >= 0)
		path[n++] = (struct json_step){NULL, (size_t)w->arg};
	return json_locate_at(w->text, w->text_len, start, path, n);
}

/* "FILE:LINE:COL: package 'p', version 'v': field 'f': <what>" */
static int bad(const struct where *w, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(const struct where *w, const char *field, const char *fmt, ...)
{
	char what[768], b1[NAME_SHOWN + 4], b2[NAME_SHOWN + 4];
	struct stitch_buf at = STITCH_BUF_INIT;
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	stitch_buf_adds(&at, w->file);
	if (w->text) {
		where_line_col(w, where_offset(w, field), &line, &col);
		stitch_buf_addf(&at, ":%d:%d", line, col);
	}
	if (w->pkg)
		stitch_buf_addf(&at, ": package '%s'", shown(w->pkg, b1));
	if (w->version)
		stitch_buf_addf(&at, ", version '%s'", shown(w->version, b2));
	if (field)
		stitch_buf_addf(&at, ": field '%s'", field);
	stitch_error(w->err, STITCH_E_INDEX, "%s: %s", at.buf, what);
	stitch_buf_release(&at);
	return STITCH_E_INDEX;
}

/* Keep err's message (and cause) as a warning of b: its part was dropped. */
static void keep_warning(struct flat_builder *b, const struct stitch_err *err)
{
	stitch_buf_adds(&b->warnings, err->msg);
	if (err->cause[0]) {
		stitch_buf_addch(&b->warnings, '\n');
		stitch_buf_adds(&b->warnings, err->cause);
	}
	stitch_buf_addch(&b->warnings, '\0');
	b->n_warnings++;
}

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "a number";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/*
 * jansson allocates every value separately and frees them one by one; for
 * an index of tens of thousands of versions that dominates the load.  While
 * a document is parsed and checked, its values come from a bump arena that
 * is dropped at once afterwards.  The arena is only in place between
 * arena_begin and arena_end, around code that frees all it parsed.
 */
struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

static struct arena_chunk *arena;
static size_t arena_chunk_size = (size_t)1 << 22;

static void *arena_alloc(size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;

	if (!arena || arena->size - arena->used < need) {
		size_t size = need > arena_chunk_size ? need : arena_chunk_size;
		struct arena_chunk *c = xmalloc(sizeof(*c) + size);
		c->next = arena;
		c->used = 0;
		c->size = size;
		arena = c;
	}
	arena->used += need;
	return (char *)arena->data + arena->used - need;
}

static void arena_free(void *p)
{
	(void)p;
}

/* jansson needs about eight times the document's size; chunks follow suit. */
static void arena_begin(size_t doc_len)
{
	arena_chunk_size = doc_len * 2 < ((size_t)1 << 16)   ? (size_t)1 << 16
	                   : doc_len * 2 > ((size_t)1 << 26) ? (size_t)1 << 26
	                                                     : doc_len * 2;
	json_set_alloc_funcs(arena_alloc, arena_free);
}

static void arena_end(void)
{
	while (arena) {
		struct arena_chunk *next = arena->next;
		free(arena);
		arena = next;
	}
	json_set_alloc_funcs(malloc, free);
}

static json_t *load_json(const char *file, const char *data, size_t len, struct stitch_err *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!j)
		stitch_error(err, STITCH_E_PARSE, "%s:%d:%d: invalid JSON: %s", file, jerr.line,
		             jerr.column, jerr.text);
	return j;
}

/* An optional string field: FLAT_NONE when absent. */
static int opt_string(const struct where *w, json_t *obj, const char *field, uint32_t *out)
{
	json_t *v = json_object_get(obj, field);

	*out = FLAT_NONE;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return bad(w, field, "expected a string, found %s", json_kind(v));
	*out = flat_intern(w->b, json_string_value(v), json_string_length(v));
	return 0;
}

static int check_format(const char *file, json_t *root, struct stitch_err *err)
{
	json_t *f = json_object_get(root, "format");

	if (!f)
		return stitch_error(err, STITCH_E_INDEX,
		                    "%s: missing field 'format' (expected \"format\": 1)", file);
	if (!json_is_integer(f))
		return stitch_error(err, STITCH_E_INDEX,
		                    "%s: field 'format': expected the number 1, found %s", file,
		                    json_kind(f));
	if (json_integer_value(f) != 1)
		return stitch_error(
		    err, STITCH_E_INDEX,
		    "%s: unsupported index format %lld (this stitch reads format 1)", file,
		    (long long)json_integer_value(f));
	return 0;
}

static int repo_name(struct flat_builder *b, const char *file, json_t *root, struct stitch_err *err)
{
	json_t *n = json_object_get(root, "name");

	if (!n || !json_is_string(n) || json_string_length(n) == 0)
		return stitch_error(
		    err, STITCH_E_INDEX,
		    "%s: field 'name': expected the repository's name as a non-empty string", file);
	b->doc_name = flat_intern(b, json_string_value(n), json_string_length(n));
	return 0;
}

static int is_hex64(const char *s, size_t len)
{
	if (len != 64)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int parse_source(const struct where *w, json_t *vobj, struct flat_version *fv)
{
	json_t *src = json_object_get(vobj, "source");
	json_t *url, *sha;
	const char *u;
	char ubuf[URL_SHOWN + 4];
	int remote;

	if (!src)
		return bad(w, "source", "missing (expected {\"url\": ..., \"sha256\": ...})");
	if (!json_is_object(src))
		return bad(w, "source", "expected an object, found %s", json_kind(src));
	url = json_object_get(src, "url");
	if (!url || !json_is_string(url) || json_string_length(url) == 0)
		return bad(w, "source.url", "expected a non-empty string");
	u = json_string_value(url);
	remote = strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
	if (!remote && strncmp(u, "file://", 7) != 0) {
		if (strstr(u, "://"))
			return bad(w, "source.url",
			           "unsupported URL '%s' (expected http://, https://, file:// or a "
			           "path relative to the repository)",
			           cut(u, ubuf, URL_SHOWN));
		if (u[0] == '/')
			return bad(w, "source.url",
			           "absolute path '%s' (expected a path relative to the "
			           "repository, or a file:// URL)",
			           cut(u, ubuf, URL_SHOWN));
	}
	fv->url = flat_intern(w->b, u, json_string_length(url));
	sha = json_object_get(src, "sha256");
	fv->sha256 = FLAT_NONE;
	if (!sha) {
		if (remote)
			return bad(w, "source.sha256",
			           "missing (required for http and https sources)");
		return 0;
	}
	if (!json_is_string(sha) || !is_hex64(json_string_value(sha), json_string_length(sha)))
		return bad(w, "source.sha256", "expected 64 lowercase hexadecimal digits");
	fv->sha256 = flat_intern(w->b, json_string_value(sha), 64);
	return 0;
}

static int parse_reqs(const struct where *w, json_t *vobj, const char *field, struct flat_list *out)
{
	json_t *arr = json_object_get(vobj, field);
	struct stitch_buf canon = STITCH_BUF_INIT;
	size_t i;
	json_t *it;

	out->first = (uint32_t)w->b->n_refs;
	out->n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(w, field, "expected an array of requirement strings, found %s",
		           json_kind(arr));
	json_array_foreach(arr, i, it)
	{
		struct stitch_req *r;
		struct where wi = *w;
		wi.item = (long)i;
		if (!json_is_string(it)) {
			stitch_buf_release(&canon);
			return bad(&wi, field, "item %zu: expected a requirement string, found %s",
			           i, json_kind(it));
		}
		if (stitch_req_parse(json_string_value(it), &r, w->err) != 0) {
			char msg[STITCH_ERR_MSG_MAX];
			memcpy(msg, w->err->msg, sizeof(msg));
			stitch_buf_release(&canon);
			char cause[STITCH_ERR_MSG_MAX];
			memcpy(cause, w->err->cause, sizeof(cause));
			bad(&wi, field, "item %zu: %s", i, msg);
			memcpy(w->err->cause, cause, sizeof(cause));
			return STITCH_E_INDEX;
		}
		stitch_buf_reset(&canon);
		stitch_req_print(r, &canon);
		stitch_req_free(r);
		push_ref(w->b, flat_intern(w->b, canon.buf, canon.len));
		out->n++;
	}
	stitch_buf_release(&canon);
	return 0;
}

static int parse_cmds(const struct where *w, json_t *vobj, const char *field, struct flat_list *out)
{
	struct flat_builder *b = w->b;
	json_t *arr = json_object_get(vobj, field);
	size_t i, k;
	json_t *cmd, *arg;

	out->first = (uint32_t)b->n_cmds;
	out->n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return bad(w, field, "expected an array of commands, found %s", json_kind(arr));
	json_array_foreach(arr, i, cmd)
	{
		struct flat_cmd fc;
		struct where wi = *w;
		wi.item = (long)i;
		if (!json_is_array(cmd) || json_array_size(cmd) == 0)
			return bad(&wi, field,
			           "command %zu: expected a non-empty array of strings (argv, no "
			           "shell), found %s",
			           i, json_is_array(cmd) ? "an empty array" : json_kind(cmd));
		fc.args.first = (uint32_t)b->n_refs;
		fc.args.n = 0;
		json_array_foreach(cmd, k, arg)
		{
			wi.arg = (long)k;
			if (!json_is_string(arg))
				return bad(&wi, field,
				           "command %zu, argument %zu: expected a string, found %s",
				           i, k, json_kind(arg));
			push_ref(b,
			         flat_intern(b, json_string_value(arg), json_string_length(arg)));
			fc.args.n++;
		}
		XGROW(b->cmds, b->cap_cmds, b->n_cmds + 1);
		b->cmds[b->n_cmds++] = fc;
		out->n++;
	}
	return 0;
}

static int parse_version(struct where *w, const char *vkey, json_t *vobj, struct flat_version *fv)
{
	char buf[NAME_SHOWN + 4];
	int rc;

	if (!stitch_version_valid(vkey, strlen(vkey)))
		return bad(w, NULL,
		           "invalid version '%s' (expected characters from [A-Za-z0-9_+.~-])",
		           shown(vkey, buf));
	if (!json_is_object(vobj))
		return bad(w, NULL, "expected an object for version '%s', found %s",
		           shown(vkey, buf), json_kind(vobj));
	fv->version = flat_intern(w->b, vkey, strlen(vkey));
	if ((rc = parse_source(w, vobj, fv)) ||
	    (rc = parse_reqs(w, vobj, "depends", &fv->depends)) ||
	    (rc = parse_reqs(w, vobj, "conflicts", &fv->conflicts)) ||
	    (rc = parse_cmds(w, vobj, "build", &fv->build)) ||
	    (rc = parse_cmds(w, vobj, "install", &fv->install)) ||
	    (rc = parse_cmds(w, vobj, "test", &fv->test)))
		return rc;
	return 0;
}

/*
 * tmp[0..n) sorted newest first: remove every run of versions that order
 * as equal, with one warning per pair naming both and where they are.
 */
static void drop_equal_versions(struct where *w, struct flat_version *tmp, size_t *n)
{
	const char *S = w->b->strings.buf;
	char b1[NAME_SHOWN + 4], b2[NAME_SHOWN + 4];
	size_t out = 0;

	for (size_t i = 0; i < *n;) {
		size_t j = i + 1;
		while (j < *n && stitch_version_cmp(S + tmp[i].version, S + tmp[j].version) == 0)
			j++;
		for (size_t k = i + 1; k < j; k++) {
			int line = 0, col = 0;
			w->version = S + tmp[k - 1].version;
			if (w->text)
				where_line_col(w, where_offset(w, NULL), &line, &col);
			w->version = S + tmp[k].version;
			bad(w, NULL,
			    "versions '%s' (line %d, column %d) and '%s' order as the same "
			    "version: "
			    "both are unavailable",
			    shown(S + tmp[k - 1].version, b1), line, col,
			    shown(S + tmp[k].version, b2));
			keep_warning(w->b, w->err);
		}
		w->version = NULL;
		if (j == i + 1)
			tmp[out++] = tmp[i];
		i = j;
	}
	*n = out;
}

/*
 * The versions of one package, into tmp/n: a version that breaks the
 * format is dropped with a warning, and so are versions that order as equal
 * (5.5.0+x0 and 5.5.0+x): which one was meant cannot be known.
 */
static void parse_versions(struct where *w, json_t *versions, struct flat_version **tmp, size_t *n)
{
	struct flat_builder *b = w->b;
	size_t cap = 0;
	json_t *vobj;
	const char *vkey;

	*n = 0;
	json_object_foreach(versions, vkey, vobj)
	{
		size_t refs = b->n_refs, cmds = b->n_cmds;
		XGROW(*tmp, cap, *n + 1);
		memset(&(*tmp)[*n], 0, sizeof((*tmp)[*n]));
		w->version = vkey;
		if (parse_version(w, vkey, vobj, &(*tmp)[*n]) != 0) {
			keep_warning(b, w->err);
			b->n_refs = refs; /* what it added is unused */
			b->n_cmds = cmds;
			continue;
		}
		(*n)++;
	}
	w->version = NULL;
	if (*n > 1)
		qsort_r(*tmp, *n, sizeof(**tmp), cmp_version_desc, b->strings.buf);
	drop_equal_versions(w, *tmp, n);
}

/* One package object; `expect` is its key (shape 2) or file base name (shape 1). */
static int parse_package(struct where *w, json_t *p)
{
	struct flat_builder *b = w->b;
	const char *expect = w->key;
	char b1[NAME_SHOWN + 4], b2[NAME_SHOWN + 4];
	struct flat_pkg fp = {0};
	struct flat_version *tmp = NULL;
	size_t n = 0;
	json_t *name, *versions;
	int rc = 0;

	if (!stitch_name_valid(expect, strlen(expect))) {
		w->pkg = NULL;
		return bad(w, NULL,
		           "invalid package name '%s' (expected [A-Za-z0-9][A-Za-z0-9_+.-]*)",
		           shown(expect, b1));
	}
	if (!json_is_object(p))
		return bad(w, NULL, "expected a package object, found %s", json_kind(p));
	name = json_object_get(p, "name");
	if (!name || !json_is_string(name))
		return bad(w, "name", "expected the string \"%s\"", shown(expect, b1));
	if (strcmp(json_string_value(name), expect) != 0)
		return bad(w, "name", "\"%s\" does not match the %s \"%s\"",
		           shown(json_string_value(name), b2),
		           w->in_doc ? "package key" : "file's base name", shown(expect, b1));
	fp.name = flat_intern(b, expect, strlen(expect));
	if ((rc = opt_string(w, p, "synopsis", &fp.synopsis)) ||
	    (rc = opt_string(w, p, "license", &fp.license)) ||
	    (rc = opt_string(w, p, "homepage", &fp.homepage)))
		return rc;
	versions = json_object_get(p, "versions");
	if (!versions)
		return bad(w, "versions",
		           "missing (expected an object of versions, possibly empty)");
	if (!json_is_object(versions))
		return bad(w, "versions", "expected an object, found %s", json_kind(versions));
	parse_versions(w, versions, &tmp, &n);
	fp.first_version = (uint32_t)b->n_versions;
	fp.n_versions = (uint32_t)n;
	XGROW(b->versions, b->cap_versions, b->n_versions + n);
	if (n)
		memcpy(b->versions + b->n_versions, tmp, n * sizeof(*tmp));
	b->n_versions += n;
	XGROW(b->pkgs, b->cap_pkgs, b->n_pkgs + 1);
	b->pkgs[b->n_pkgs++] = fp;
	free(tmp);
	return 0;
}

/*
 * Parse one package; a package that breaks the format is dropped with a
 * warning, and the repository loads without it.
 */
static void take_package(struct where *w, json_t *p)
{
	size_t refs = w->b->n_refs, cmds = w->b->n_cmds;

	w->pkg = w->key;
	w->version = NULL;
	w->item = w->arg = -1;
	if (parse_package(w, p) != 0) {
		keep_warning(w->b, w->err);
		w->b->n_refs = refs;
		w->b->n_cmds = cmds;
	}
	stitch_err_clear(w->err);
}

int flat_parse_repo_doc(struct flat_builder *b, const char *file, const char *data, size_t len,
                        struct stitch_err *err)
{
	return flat_parse_repo_doc_take(b, file, data, len, NULL, err);
}

int flat_parse_repo_doc_take(struct flat_builder *b, const char *file, const char *data, size_t len,
                             struct stitch_buf *owner, struct stitch_err *err)
{
	json_t *root;
	json_t *pkgs, *p;
	const char *key;
	int rc;

	arena_begin(len);
	root = load_json(file, data, len, err);
	/*
	 * jansson copied what it needs: with an owner, the text goes before the
	 * checks run (a large document's peak memory), and warnings say where
	 * they are only by package and version.
	 */
	if (owner)
		stitch_buf_release(owner);
	if (!root) {
		rc = STITCH_E_PARSE;
		goto out;
	}
	if (!json_is_object(root)) {
		rc = stitch_error(err, STITCH_E_INDEX, "%s: expected a repository object, found %s",
		                  file, json_kind(root));
		goto out;
	}
	if ((rc = check_format(file, root, err)) || (rc = repo_name(b, file, root, err)))
		goto out;
	pkgs = json_object_get(root, "packages");
	if (!pkgs || !json_is_object(pkgs)) {
		rc = stitch_error(
		    err, STITCH_E_INDEX,
		    "%s: field 'packages': expected an object of packages by name, found %s", file,
		    pkgs ? json_kind(pkgs) : "nothing");
		goto out;
	}
	struct pos_memo memo = {NULL, 0, 0, {0, 1, 1}, {0, 1, 1}};
	struct where w = {b,   file, owner ? NULL : data, len, 1, NULL, NULL, NULL, -1, -1,
	                  err, &memo};
	json_object_foreach(pkgs, key, p)
	{
		w.key = key;
		take_package(&w, p);
	}
	flat_builder_finish(b);
out:
	/* No json_decref: the arena holds every value. */
	arena_end();
	return rc;
}

int flat_parse_repo_meta(struct flat_builder *b, const char *file, const char *data, size_t len,
                         struct stitch_err *err)
{
	json_t *root = load_json(file, data, len, err);
	int rc;

	if (!root)
		return STITCH_E_PARSE;
	if (!json_is_object(root))
		rc = stitch_error(err, STITCH_E_INDEX, "%s: expected an object, found %s", file,
		                  json_kind(root));
	else if ((rc = check_format(file, root, err)) == 0)
		rc = repo_name(b, file, root, err);
	json_decref(root);
	return rc;
}

int flat_parse_pkg_file(struct flat_builder *b, const char *file, const char *expect,
                        const char *data, size_t len, struct stitch_err *err)
{
	json_t *root = load_json(file, data, len, err);

	if (!root)
		return STITCH_E_PARSE;
	struct where w = {b, file, data, len, 0, expect, NULL, NULL, -1, -1, err, NULL};
	take_package(&w, root);
	json_decref(root);
	return 0;
}

int flat_parse_pin(struct flat_builder *b, const char *file, const char *name,
                   const char *source_url, const char *data, size_t len, struct stitch_err *err)
{
	json_t *root = load_json(file, data, len, err);
	json_t *versions, *v;
	const char *key;
	char *doc_name;
	int rc;

	if (!root)
		return STITCH_E_PARSE;
	versions = json_object_get(root, "versions");
	if (!json_is_object(root) || json_object_size(versions) != 1) {
		json_decref(root);
		return stitch_error(err, STITCH_E_INDEX,
		                    "%s: expected a package object with exactly one version", file);
	}
	/* The pin names the package; its source is the checkout itself. */
	json_object_set_new(root, "name", json_string(name));
	json_object_foreach(versions, key, v)
	{
		if (json_is_object(v))
			json_object_set_new(v, "source", json_pack("{s:s}", "url", source_url));
	}
	doc_name = xasprintf("pin-%s", name);
	b->doc_name = flat_intern(b, doc_name, strlen(doc_name));
	free(doc_name);
	/* A pin is one version the user asked for: a problem in it is an error. */
	struct where w = {b, file, data, len, 0, name, name, NULL, -1, -1, err, NULL};
	rc = parse_package(&w, root);
	if (rc == 0 && b->n_warnings)
		rc = stitch_error(err, STITCH_E_INDEX, "%s", b->warnings.buf);
	if (rc == 0)
		flat_builder_finish(b);
	json_decref(root);
	return rc;
}
