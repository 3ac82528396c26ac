/*
 * The artifact cache (artifact.h): descriptions in JSON (jansson),
 * archives written with libarchive, the remote reached with libcurl.
 */
#include "artifact.h"
#include "dl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "fetch.h"
#include "state.h"

#ifndef STITCH_VERSION
#define STITCH_VERSION "unknown"
#endif

#define META_MAX (1 << 20)

struct stitch_artifacts {
	char *dir;
	char *remote; /* without a trailing '/' */
	bool push;
	bool remote_down; /* unreachable once: not asked again by this process */
	bool down_reported;
	struct stitch_err down_err; /* why */
	CURL *curl;
};

void stitch_build_inputs_hash(const struct stitch_build_inputs *in, char out[65])
{
	struct stitch_buf b = STITCH_BUF_INIT;

	stitch_buf_addf(&b,
	                "stitch build 2\nname %s\nversion %s\nsource %s\ntarget %s\ncc %s\n"
	                "recipe %s\n",
	                in->name, in->version, in->source, in->target, in->cc, in->recipe);
	for (size_t i = 0; i < in->n_deps; i++)
		stitch_buf_addf(&b, "dep %s %s\n", in->dep_names[i], in->dep_ifaces[i]);
	stitch_sha256_hex(b.buf, b.len, out);
	stitch_buf_release(&b);
}

void stitch_artifact_release(struct stitch_artifact *a)
{
	free(a->name);
	free(a->version);
	free(a->source);
	free(a->target);
	free(a->cc);
	free(a->recipe);
	stitch_strings_free(a->dep_names, a->n_deps);
	stitch_strings_free(a->dep_ifaces, a->n_deps);
	stitch_strings_free(a->relocate, a->n_relocate);
	memset(a, 0, sizeof(*a));
}

struct stitch_artifacts *stitch_artifacts_new(const struct stitch_artifacts_opts *o)
{
	struct stitch_artifacts *a = xcalloc(1, sizeof(*a));

	a->dir = xstrdup(o->dir);
	if (o->remote && o->remote[0]) {
		size_t n = strlen(o->remote);
		while (n > 1 && o->remote[n - 1] == '/')
			n--;
		a->remote = xstrndup(o->remote, n);
	}
	a->push = o->push;
	return a;
}

void stitch_artifacts_free(struct stitch_artifacts *a)
{
	if (!a)
		return;
	if (a->curl)
		curl_easy_cleanup(a->curl);
	free(a->dir);
	free(a->remote);
	free(a);
}

const struct stitch_err *stitch_artifacts_remote_failure(struct stitch_artifacts *a)
{
	if (!a || !a->remote_down || a->down_reported)
		return NULL;
	a->down_reported = true;
	return &a->down_err;
}

/* ---- descriptions ---- */

static json_t *strings_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char *meta_text(const struct stitch_build_inputs *in, const char *build_hash,
                       const char *iface, const char *sha, long long size, size_t n_files,
                       char *const *reloc, size_t n_reloc)
{
	json_t *deps = json_object();
	json_t *o;
	char *text;

	for (size_t i = 0; i < in->n_deps; i++)
		json_object_set_new(deps, in->dep_names[i], json_string(in->dep_ifaces[i]));
	o = json_pack("{s:i, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:o}, s:s, s:{s:s, s:I}, s:o}",
	              "format", 1, "build_hash", build_hash, "name", in->name, "version",
	              in->version, "inputs", "source", in->source, "target", in->target, "cc",
	              in->cc, "recipe", in->recipe, "deps", deps, "interface_hash", iface,
	              "archive", "sha256", sha, "size", (json_int_t)size, "relocate",
	              strings_json(reloc, n_reloc));
	json_object_set_new(json_object_get(o, "archive"), "files",
	                    json_integer((json_int_t)n_files));
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* 64 lowercase hex digits: a SHA-256 as stitch writes them. */
static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static char *jdup(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* Parse and check a description: it must hash back to build_hash. */
static int meta_parse(const char *text, size_t len, const char *build_hash, const char *where,
                      struct stitch_artifact *out, struct stitch_err *err)
{
	json_error_t jerr;
	json_t *o = json_loadb(text, len, 0, &jerr), *in, *deps, *arch, *rel;
	struct stitch_build_inputs bi;
	const char *bh, *ih, *sha;
	char check[65];
	const char *k;
	json_t *v;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (!o)
		return stitch_error(err, STITCH_E_CHECKSUM,
		                    "artifact %s from %s: not a description (%d:%d: %s)",
		                    build_hash, where, jerr.line, jerr.column, jerr.text);
	in = json_object_get(o, "inputs");
	deps = json_object_get(in, "deps");
	arch = json_object_get(o, "archive");
	rel = json_object_get(o, "relocate");
	bh = json_string_value(json_object_get(o, "build_hash"));
	ih = json_string_value(json_object_get(o, "interface_hash"));
	sha = json_string_value(json_object_get(arch, "sha256"));
	if (!json_is_object(deps) || !json_is_array(rel) || !hex64(bh) || !hex64(ih) ||
	    !hex64(sha) || !json_is_integer(json_object_get(arch, "size"))) {
		json_decref(o);
		return stitch_error(err, STITCH_E_CHECKSUM,
		                    "artifact %s from %s: the description lacks fields", build_hash,
		                    where);
	}
	memcpy(out->build_hash, bh, 65);
	memcpy(out->interface_hash, ih, 65);
	memcpy(out->archive_sha256, sha, 65);
	out->archive_size = json_integer_value(json_object_get(arch, "size"));
	out->n_files = json_is_integer(json_object_get(arch, "files"))
	                   ? json_integer_value(json_object_get(arch, "files"))
	                   : -1;
	out->name = jdup(o, "name");
	out->version = jdup(o, "version");
	out->source = jdup(in, "source");
	out->target = jdup(in, "target");
	out->cc = jdup(in, "cc");
	out->recipe = jdup(in, "recipe");
	out->n_deps = json_object_size(deps);
	out->dep_names = xcalloc(out->n_deps + 1, sizeof(char *));
	out->dep_ifaces = xcalloc(out->n_deps + 1, sizeof(char *));
	json_object_foreach(deps, k, v)
	{
		out->dep_names[i] = xstrdup(k);
		out->dep_ifaces[i++] = xstrdup(json_is_string(v) ? json_string_value(v) : "");
	}
	out->n_relocate = json_array_size(rel);
	out->relocate = xcalloc(out->n_relocate + 1, sizeof(char *));
	for (i = 0; i < out->n_relocate; i++) {
		const char *p = json_string_value(json_array_get(rel, i));
		out->relocate[i] = xstrdup(p ? p : "");
	}
	json_decref(o);
	if (!out->name || !out->version || !out->source || !out->target || !out->cc ||
	    !out->recipe) {
		stitch_artifact_release(out);
		return stitch_error(err, STITCH_E_CHECKSUM,
		                    "artifact %s from %s: the description lacks fields", build_hash,
		                    where);
	}
	bi = (struct stitch_build_inputs){out->name,
	                                  out->version,
	                                  out->source,
	                                  out->target,
	                                  out->cc,
	                                  out->recipe,
	                                  out->n_deps,
	                                  (const char *const *)out->dep_names,
	                                  (const char *const *)out->dep_ifaces};
	stitch_build_inputs_hash(&bi, check);
	if (strcmp(check, build_hash) != 0 || strcmp(out->build_hash, build_hash) != 0) {
		stitch_artifact_release(out);
		return stitch_error(err, STITCH_E_CHECKSUM,
		                    "artifact %s from %s: its description does not hash back to "
		                    "its build hash; it is not used",
		                    build_hash, where);
	}
	return 0;
}

/* ---- the remote ---- */

struct membuf {
	struct stitch_buf b;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct membuf *m = data;
	if (m->b.len + size * n > META_MAX) {
		m->too_big = true;
		return 0;
	}
	stitch_buf_add(&m->b, p, size * n);
	return size * n;
}

/* a's libcurl handle, reset for a new transfer, in *h: 0 or stitch_dl_load_curl's error. */
static int handle(struct stitch_artifacts *a, CURL **h, struct stitch_err *err)
{
	int rc;

	if ((rc = stitch_dl_load_curl(err)) != 0)
		return rc;
	if (!a->curl) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		a->curl = curl_easy_init();
	}
	curl_easy_reset(a->curl);
	curl_easy_setopt(a->curl, CURLOPT_USERAGENT, "stitch/" STITCH_VERSION);
	curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(a->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(a->curl, CURLOPT_LOW_SPEED_TIME, 10L);
	curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	*h = a->curl;
	return 0;
}

/*
 * A transfer to url failed with c: say so, and when the server cannot be
 * reached at all, remember it (and the first such error) so that the
 * command does not ask again.  Returns STITCH_E_FETCH.
 */
static int unreachable(struct stitch_artifacts *a, const char *url, CURLcode c, bool too_big,
                       struct stitch_err *err)
{
	struct stitch_err e = STITCH_ERR_INIT;

	if (c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
	    c == CURLE_OPERATION_TIMEDOUT)
		a->remote_down = true;
	stitch_error(&e, STITCH_E_FETCH, "cannot reach the artifact cache at '%s': %s", url,
	             too_big ? "the answer is too large" : curl_easy_strerror(c));
	if (a->remote_down && !a->down_err.code)
		a->down_err = e;
	if (err)
		*err = e;
	return STITCH_E_FETCH;
}

/* GET url into b: 0, STITCH_E_NOTFOUND (404, 410) or STITCH_E_FETCH. */
static int http_get(struct stitch_artifacts *a, const char *url, struct stitch_buf *b,
                    struct stitch_err *err)
{
	struct membuf m = {STITCH_BUF_INIT, false};
	long status = 0;
	CURLcode c;
	CURL *h;
	int rc;

	if ((rc = handle(a, &h, err)) != 0)
		return rc;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (c == CURLE_OK && status == 200) {
		*b = m.b;
		return 0;
	}
	stitch_buf_release(&m.b);
	if (c == CURLE_OK && (status == 404 || status == 410))
		return STITCH_E_NOTFOUND;
	if (c != CURLE_OK)
		return unreachable(a, url, c, m.too_big, err);
	return stitch_error(err, STITCH_E_FETCH, "the artifact cache answered HTTP %ld for '%s'",
	                    status, url);
}

static int http_put(struct stitch_artifacts *a, const char *url, const char *path,
                    struct stitch_err *err)
{
	struct membuf m = {STITCH_BUF_INIT, false};
	FILE *f = fopen(path, "rbe");
	struct stat st;
	long status = 0;
	CURLcode c;
	CURL *h;
	int rc;

	if (!f || fstat(fileno(f), &st) != 0) {
		if (f)
			fclose(f);
		return stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", path,
		                    strerror(errno));
	}
	if ((rc = handle(a, &h, err)) != 0) {
		fclose(f);
		return rc;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READDATA, f);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
	c = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	fclose(f);
	stitch_buf_release(&m.b);
	if (c != CURLE_OK)
		return unreachable(a, url, c, false, err);
	if (status < 200 || status > 299)
		return stitch_error(err, STITCH_E_FETCH,
		                    "the artifact cache answered HTTP %ld to "
		                    "the upload of '%s'",
		                    status, url);
	return 0;
}

/* ---- lookup ---- */

int stitch_artifacts_lookup(struct stitch_artifacts *a, const char *build_hash,
                            struct stitch_artifact *out, struct stitch_err *err)
{
	char *path = xasprintf("%s/%s.json", a->dir, build_hash), *url;
	struct stitch_buf b = STITCH_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if (stitch_read_file(path, &b, META_MAX) == 0) {
		rc = meta_parse(b.buf, b.len, build_hash, path, out, err);
		stitch_buf_release(&b);
		if (rc == 0) {
			/* Its mtime says when it was last used, for cache clean --unused-days. */
			utimensat(AT_FDCWD, path, NULL, 0);
			/* Described here; its archive may still have to come from the remote. */
			char *arch = xasprintf("%s/%s", a->dir, out->archive_sha256);
			out->where = a->remote && access(arch, F_OK) != 0 ? "remote" : "local";
			free(arch);
			free(path);
			return 0;
		}
		unlink(path); /* a damaged description is dropped; the remote may have it */
	}
	if (!a->remote || a->remote_down) {
		free(path);
		return STITCH_E_NOTFOUND;
	}
	url = xasprintf("%s/%s.json", a->remote, build_hash);
	rc = http_get(a, url, &b, err);
	if (rc == 0) {
		rc = meta_parse(b.buf, b.len, build_hash, url, out, err);
		if (rc == 0) {
			out->where = "remote";
			stitch_mkdir_p(a->dir, 0755);
			stitch_write_file(path, b.buf, b.len, false);
		}
	}
	stitch_buf_release(&b);
	free(url);
	free(path);
	return rc;
}

/* ---- unpack ---- */

static int relocate_file(const char *path, const char *to, struct stitch_err *err)
{
	struct stitch_buf in = STITCH_BUF_INIT, out = STITCH_BUF_INIT;
	struct stat st;
	int rc = 0;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || stitch_read_file(path, &in, 0) != 0)
		return stitch_error(err, STITCH_E_ARCHIVE, "artifact file '%s' is missing", path);
	stitch_replace_all(in.buf, in.len, STITCH_PREFIX_PLACEHOLDER, to, &out);
	if (stitch_write_file(path, out.buf, out.len, false) != 0 ||
	    chmod(path, st.st_mode & 07777) != 0)
		rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", path, strerror(errno));
	stitch_buf_release(&in);
	stitch_buf_release(&out);
	return rc;
}

int stitch_artifacts_unpack(struct stitch_artifacts *a, const struct stitch_artifact *art,
                            const char *dest_root, const char *switch_dir, struct stitch_err *err)
{
	char *local = xasprintf("%s/%s", a->dir, art->archive_sha256);
	int rc = 0;

	if (access(local, R_OK) != 0) {
		struct stitch_fetch_item it = {0};
		struct stitch_fetch_opts fo = {0};
		char *url, *label = xasprintf("artifact of %s %s", art->name, art->version);
		if (!a->remote) {
			free(label);
			free(local);
			return stitch_error(err, STITCH_E_NOTFOUND,
			                    "the archive of artifact %s is not in '%s'",
			                    art->build_hash, a->dir);
		}
		url = xasprintf("%s/%s.tar.zst", a->remote, art->archive_sha256);
		it.url = url;
		it.sha256 = art->archive_sha256;
		it.label = label;
		fo.cache_dir = a->dir;
		fo.parallel = 1;
		rc = stitch_fetch_all(&it, 1, &fo, err);
		stitch_fetch_item_release(&it);
		free(url);
		free(label);
		if (rc) {
			free(local);
			return rc;
		}
	} else {
		/* A local archive is checked too: the disk may have changed under it. */
		char sha[65];
		if (stitch_sha256_file(local, sha) != 0 || strcmp(sha, art->archive_sha256) != 0) {
			unlink(local);
			rc = stitch_error(
			    err, STITCH_E_CHECKSUM,
			    "the local archive of artifact %s does not match its SHA-256; "
			    "it was removed",
			    art->build_hash);
			free(local);
			return rc;
		}
	}
	/* A package that installs nothing has an archive without entries. */
	if (art->n_files == 0)
		rc = stitch_mkdir_p(dest_root, 0755) == 0
		         ? 0
		         : stitch_error(err, STITCH_E_IO, "cannot create '%s': %s", dest_root,
		                        strerror(errno));
	else
		rc = stitch_archive_unpack(local, dest_root, err);
	free(local);
	for (size_t i = 0; rc == 0 && i < art->n_relocate; i++) {
		char *p;
		if (strstr(art->relocate[i], "..") || art->relocate[i][0] == '/')
			return stitch_error(err, STITCH_E_ARCHIVE, "artifact %s: bad path '%s'",
			                    art->build_hash, art->relocate[i]);
		p = xasprintf("%s/%s", dest_root, art->relocate[i]);
		rc = relocate_file(p, switch_dir, err);
		free(p);
	}
	return rc;
}

/* ---- store ---- */

/* Write one entry; *reloc set when its text carried the switch directory. */
static int add_entry(struct archive *ar, const char *root, const char *rel, const char *switch_dir,
                     bool *reloc, struct stitch_err *err)
{
	char *full = xasprintf("%s/%s", root, rel), *name = xasprintf("artifact/%s", rel);
	struct archive_entry *e = archive_entry_new();
	struct stitch_buf in = STITCH_BUF_INIT, out = STITCH_BUF_INIT;
	struct stat st;
	int rc = 0;

	*reloc = false;
	if (lstat(full, &st) != 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", full, strerror(errno));
		goto out;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_perm(e, st.st_mode & 0755);
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(full, target, sizeof(target) - 1);
		if (n < 0) {
			rc = stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", full,
			                  strerror(errno));
			goto out;
		}
		target[n] = '\0';
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, target);
		if (archive_write_header(ar, e) != ARCHIVE_OK)
			rc = stitch_error(err, STITCH_E_ARCHIVE, "cannot pack '%s': %s", rel,
			                  archive_error_string(ar));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = stitch_error(err, STITCH_E_ARCHIVE, "cannot pack '%s': not a regular file",
		                  rel);
		goto out;
	}
	if (stitch_read_file(full, &in, 0) != 0 || in.len != (size_t)st.st_size) {
		rc = stitch_error(err, STITCH_E_ARCHIVE, "cannot pack '%s': cannot read it whole",
		                  rel);
		goto out;
	}
	if (memmem(in.buf, in.len, switch_dir, strlen(switch_dir))) {
		if (memchr(in.buf, '\0', in.len)) {
			rc = stitch_error(err, STITCH_E_ARCHIVE,
			                  "'%s' is a binary file that names the switch directory; "
			                  "the package is not relocatable",
			                  rel);
			goto out;
		}
		stitch_replace_all(in.buf, in.len, switch_dir, STITCH_PREFIX_PLACEHOLDER, &out);
		*reloc = true;
	} else {
		stitch_buf_add(&out, in.buf, in.len);
	}
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)out.len);
	if (archive_write_header(ar, e) != ARCHIVE_OK ||
	    (out.len && archive_write_data(ar, out.buf, out.len) != (la_ssize_t)out.len))
		rc = stitch_error(err, STITCH_E_ARCHIVE, "cannot pack '%s': %s", rel,
		                  archive_error_string(ar));
out:
	stitch_buf_release(&in);
	stitch_buf_release(&out);
	archive_entry_free(e);
	free(full);
	free(name);
	return rc;
}

int stitch_artifacts_store(struct stitch_artifacts *a, const struct stitch_build_inputs *in,
                           const char *build_hash, const char *interface_hash, const char *root,
                           const char *const *paths, size_t n_paths, const char *switch_dir,
                           bool *uploaded, struct stitch_err *err)
{
	char *tmp = xasprintf("%s/.new-%ld.tar.zst", a->dir, (long)getpid());
	char **reloc = xcalloc(n_paths + 1, sizeof(char *));
	size_t n_reloc = 0;
	char sha[65], *final = NULL, *meta_path = NULL, *text = NULL;
	struct archive *ar;
	struct stat st;
	int rc;

	*uploaded = false;
	if ((rc = stitch_dl_load_archive(err)) != 0)
		goto out;
	stitch_mkdir_p(a->dir, 0755);
	ar = archive_write_new();
	archive_write_set_format_pax_restricted(ar);
	if (archive_write_add_filter_zstd(ar) != ARCHIVE_OK ||
	    archive_write_open_filename(ar, tmp) != ARCHIVE_OK) {
		rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", tmp,
		                  archive_error_string(ar));
		archive_write_free(ar);
		goto out;
	}
	for (size_t i = 0; i < n_paths && rc == 0; i++) {
		bool r;
		rc = add_entry(ar, root, paths[i], switch_dir, &r, err);
		if (rc == 0 && r)
			reloc[n_reloc++] = xstrdup(paths[i]);
	}
	if (archive_write_close(ar) != ARCHIVE_OK && rc == 0)
		rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", tmp,
		                  archive_error_string(ar));
	archive_write_free(ar);
	if (rc || stat(tmp, &st) != 0 || stitch_sha256_file(tmp, sha) != 0) {
		if (!rc)
			rc = stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", tmp,
			                  strerror(errno));
		goto out;
	}
	final = xasprintf("%s/%s", a->dir, sha);
	meta_path = xasprintf("%s/%s.json", a->dir, build_hash);
	text = meta_text(in, build_hash, interface_hash, sha, (long long)st.st_size, n_paths, reloc,
	                 n_reloc);
	/* The archive first: a description never names a missing archive. */
	if (rename(tmp, final) != 0 ||
	    stitch_write_file(meta_path, text, strlen(text), false) != 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot store artifact %s in '%s': %s",
		                  build_hash, a->dir, strerror(errno));
		goto out;
	}
	if (a->remote && a->push && !a->remote_down) {
		char *url = xasprintf("%s/%s.tar.zst", a->remote, sha);
		rc = http_put(a, url, final, err);
		free(url);
		if (rc == 0) {
			url = xasprintf("%s/%s.json", a->remote, build_hash);
			rc = http_put(a, url, meta_path, err);
			free(url);
		}
		*uploaded = rc == 0;
	}
out:
	unlink(tmp);
	stitch_strings_free(reloc, n_reloc);
	free(tmp);
	free(final);
	free(meta_path);
	free(text);
	return rc;
}

/* ---- explain ---- */

bool stitch_artifacts_explain(struct stitch_artifacts *a, const struct stitch_build_inputs *in,
                              struct stitch_buf *out)
{
	DIR *d = opendir(a->dir);
	struct dirent *de;
	struct stitch_artifact best = {0};
	long long best_score = -1;

	if (!d)
		return false;
	/* The closest artifact of the package: same version first, then the newest. */
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		struct stitch_buf b = STITCH_BUF_INIT;
		struct stitch_artifact cand;
		struct stat st;
		char *path, hash[65];
		long long score;

		if (n != 69 || strcmp(de->d_name + 64, ".json") != 0)
			continue;
		memcpy(hash, de->d_name, 64);
		hash[64] = '\0';
		path = xasprintf("%s/%s", a->dir, de->d_name);
		if (stat(path, &st) != 0 || stitch_read_file(path, &b, META_MAX) != 0 ||
		    meta_parse(b.buf, b.len, hash, path, &cand, NULL) != 0) {
			stitch_buf_release(&b);
			free(path);
			continue;
		}
		stitch_buf_release(&b);
		free(path);
		score = (long long)st.st_mtim.tv_sec +
		        (strcmp(cand.version, in->version) == 0 ? (1LL << 40) : 0);
		if (strcmp(cand.name, in->name) == 0 && score > best_score) {
			stitch_artifact_release(&best);
			best = cand;
			best_score = score;
		} else {
			stitch_artifact_release(&cand);
		}
	}
	closedir(d);
	if (best_score < 0)
		return false;
#define SEP (out->len ? ", " : "")
	if (strcmp(best.version, in->version) != 0)
		stitch_buf_addf(out, "%sversion changed (%s -> %s)", SEP, best.version,
		                in->version);
	else if (strcmp(best.source, in->source) != 0)
		stitch_buf_addf(out, "%ssource changed", SEP);
	if (strcmp(best.recipe, in->recipe) != 0)
		stitch_buf_addf(out, "%srecipe changed", SEP);
	if (strcmp(best.target, in->target) != 0)
		stitch_buf_addf(out, "%starget changed (%s -> %s)", SEP, best.target, in->target);
	if (strcmp(best.cc, in->cc) != 0)
		stitch_buf_addf(out, "%scc version changed (%s -> %s)", SEP, best.cc, in->cc);
	for (size_t i = 0; i < in->n_deps; i++) {
		size_t k = 0;
		while (k < best.n_deps && strcmp(best.dep_names[k], in->dep_names[i]) != 0)
			k++;
		if (k == best.n_deps)
			stitch_buf_addf(out, "%snew dependency %s", SEP, in->dep_names[i]);
		else if (strcmp(best.dep_ifaces[k], in->dep_ifaces[i]) != 0)
			stitch_buf_addf(out, "%sinterface of %s changed", SEP, in->dep_names[i]);
	}
	for (size_t k = 0; k < best.n_deps; k++) {
		size_t i = 0;
		while (i < in->n_deps && strcmp(best.dep_names[k], in->dep_names[i]) != 0)
			i++;
		if (i == in->n_deps)
			stitch_buf_addf(out, "%sno longer depends on %s", SEP, best.dep_names[k]);
	}
#undef SEP
	if (!out->len)
		stitch_buf_addf(out, "the inputs are the same; the artifact was rejected");
	stitch_artifact_release(&best);
	return true;
}

int stitch_artifacts_prune(struct stitch_artifacts *a, long long unused_seconds, size_t *removed,
                           long long *bytes, struct stitch_err *err)
{
	struct stitch_buf keep =
	    STITCH_BUF_INIT; /* archive hashes still described, '\n'-separated */
	time_t cutoff = time(NULL) - (time_t)unused_seconds;
	DIR *d = opendir(a->dir);
	struct dirent *de;

	*removed = 0;
	*bytes = 0;
	if (!d)
		return errno == ENOENT ? 0
		                       : stitch_error(err, STITCH_E_IO, "cannot read '%s': %s",
		                                      a->dir, strerror(errno));
	/* Descriptions not used since the cutoff go; the others keep their archives. */
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char *path, hash[65];
		struct stitch_buf b = STITCH_BUF_INIT;
		struct stitch_artifact art;
		struct stat st;
		if (n != 69 || strcmp(de->d_name + 64, ".json") != 0)
			continue;
		path = xasprintf("%s/%s", a->dir, de->d_name);
		memcpy(hash, de->d_name, 64);
		hash[64] = '\0';
		if (stat(path, &st) == 0 && st.st_mtime < cutoff) {
			if (unlink(path) == 0) {
				(*removed)++;
				*bytes += st.st_size;
			}
		} else if (stitch_read_file(path, &b, META_MAX) == 0 &&
		           meta_parse(b.buf, b.len, hash, path, &art, NULL) == 0) {
			stitch_buf_addf(&keep, "%s\n", art.archive_sha256);
			stitch_artifact_release(&art);
		}
		stitch_buf_release(&b);
		free(path);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		char *path;
		struct stat st;
		if (!hex64(de->d_name) || strstr(keep.buf, de->d_name))
			continue;
		path = xasprintf("%s/%s", a->dir, de->d_name);
		if (stat(path, &st) == 0 && unlink(path) == 0)
			*bytes += st.st_size;
		free(path);
	}
	closedir(d);
	stitch_buf_release(&keep);
	return 0;
}
