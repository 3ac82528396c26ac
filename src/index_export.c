/*
 * stitch repo export: a directory-shaped repository as one document.
 * Output is a function of the input bytes only: keys sorted, compact,
 * compressed without timestamps or file names.
 */
#include <dirent.h>
#include "dl.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h"
#include "util.h"

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compress data into file `path` with libarchive's raw writer. */
static int write_compressed(const char *path, const char *filter, const char *data, size_t len,
                            struct stitch_err *err)
{
	struct archive *a;
	struct archive_entry *e;
	int rc, r;

	if ((rc = stitch_dl_load_archive(err)) != 0)
		return rc;
	a = archive_write_new();
	e = archive_entry_new();
	if (strcmp(filter, "gzip") == 0)
		r = archive_write_add_filter_gzip(a);
	else if (strcmp(filter, "xz") == 0)
		r = archive_write_add_filter_xz(a);
	else
		r = archive_write_add_filter_zstd(a);
	if (r == ARCHIVE_OK && strcmp(filter, "gzip") == 0)
		r = archive_write_set_filter_option(a, "gzip", "timestamp", NULL);
	if (r == ARCHIVE_OK)
		r = archive_write_set_format_raw(a);
	if (r == ARCHIVE_OK)
		r = archive_write_open_filename(a, path);
	archive_entry_set_pathname(e, "index.json");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	if (r == ARCHIVE_OK)
		r = archive_write_header(a, e);
	if (r == ARCHIVE_OK && archive_write_data(a, data, len) != (la_ssize_t)len)
		r = ARCHIVE_FATAL;
	if (r == ARCHIVE_OK)
		r = archive_write_close(a);
	if (r != ARCHIVE_OK)
		rc = stitch_error(err, STITCH_E_ARCHIVE, "cannot write '%s': %s", path,
		                  archive_error_string(a) ? archive_error_string(a)
		                                          : "compression failed");
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

static int write_plain(const char *path, const char *data, size_t len, struct stitch_err *err)
{
	FILE *f = fopen(path, "wbe");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		int e = errno;
		if (f)
			fclose(f);
		return stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", path, strerror(e));
	}
	return 0;
}

/* Build {"format":1,"name":..,"packages":{..}} keeping unknown fields. */
static json_t *assemble(const char *dir, struct stitch_err *err)
{
	char *meta = xasprintf("%s/repo.json", dir), *pdir = xasprintf("%s/packages", dir);
	json_error_t jerr;
	json_t *root = json_load_file(meta, JSON_REJECT_DUPLICATES, &jerr), *pkgs;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	struct dirent *de;

	if (!root) {
		stitch_error(err, STITCH_E_PARSE, "%s:%d:%d: invalid JSON: %s", meta, jerr.line,
		             jerr.column, jerr.text);
		goto out;
	}
	pkgs = json_object();
	json_object_set_new(root, "packages", pkgs);
	d = opendir(pdir);
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".json") ||
		    strlen(de->d_name) <= 5)
			continue;
		XGROW(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *fp = xasprintf("%s/%s", pdir, names[i]);
		json_t *p = json_load_file(fp, JSON_REJECT_DUPLICATES, &jerr);
		if (!p) {
			stitch_error(err, STITCH_E_PARSE, "%s:%d:%d: invalid JSON: %s", fp,
			             jerr.line, jerr.column, jerr.text);
			free(fp);
			json_decref(root);
			root = NULL;
			break;
		}
		names[i][strlen(names[i]) - 5] = '\0';
		json_object_set_new(pkgs, names[i], p);
		free(fp);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
out:
	free(meta);
	free(pdir);
	return root;
}

int stitch_repo_export(const char *dir, const char *out_path, struct stitch_err *err)
{
	struct stitch_repo_spec spec = {"export", dir, 0, NULL};
	struct stitch_repo *repo = NULL;
	const char *filter = NULL;
	struct stat st;
	json_t *doc;
	char *text, *tmp;
	int rc;

	if (ends_with(out_path, ".json.gz"))
		filter = "gzip";
	else if (ends_with(out_path, ".json.xz"))
		filter = "xz";
	else if (ends_with(out_path, ".json.zst"))
		filter = "zstd";
	else if (!ends_with(out_path, ".json"))
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot export to '%s': expected a name ending in .json, "
		                    ".json.gz, .json.xz or .json.zst",
		                    out_path);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot export '%s': expected a directory-shaped repository",
		                    dir);
	/* Validate with the same checks every reader applies. */
	if ((rc = stitch_repo_load(&repo, &spec, NULL, err)) != 0)
		return rc;
	/* A reader would drop what is wrong; an export refuses it instead. */
	if (repo->n_warnings) {
		rc = stitch_error(err, STITCH_E_INDEX, "%s", repo->warnings);
		if (repo->n_warnings > 1)
			stitch_error_cause(err, "and %zu more problems: see 'stitch repo check %s'",
			                   repo->n_warnings - 1, dir);
		stitch_repo_free(repo);
		return rc;
	}
	stitch_repo_free(repo);
	doc = assemble(dir, err);
	if (!doc)
		return err->code;
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text)
		return stitch_error(err, STITCH_E_IO, "cannot serialize '%s'", dir);
	tmp = xasprintf("%s.tmp.%ld", out_path, (long)getpid());
	{
		struct stitch_buf b = STITCH_BUF_INIT;
		stitch_buf_adds(&b, text);
		stitch_buf_addch(&b, '\n');
		rc = filter ? write_compressed(tmp, filter, b.buf, b.len, err)
		            : write_plain(tmp, b.buf, b.len, err);
		stitch_buf_release(&b);
	}
	free(text);
	if (rc == 0 && rename(tmp, out_path) != 0)
		rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", out_path,
		                  strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
