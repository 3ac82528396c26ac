/*
 * Loading repositories (from source or from the compiled cache) and
 * merging them by priority.
 */
#include <dirent.h>
#include "dl.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "index_flat.h"
#include "util.h"
#include "version.h"

/* Nothing we read as an index may grow past this once decompressed. */
#define MAX_DOC_SIZE ((size_t)1 << 31)
/* Sources modified this recently are re-hashed on the next load. */
#define RACY_NS 2000000000LL

struct repo_store {
	struct cache_file cf;
	struct flat_builder fb;
	struct stitch_pkg *pkgs;
	struct stitch_version *versions;
	struct stitch_command *cmds;
	const char **refs;
	void *mem; /* one mapping holding the four arrays above */
	size_t mem_len;
};

/* One source file of a repository. */
struct src_file {
	char *path; /* as shown in errors */
	char *base; /* package name (shape 1 package files), else NULL */
	struct stat st;
	struct stitch_buf data;
};

struct src_set {
	struct src_file *files;
	size_t n, cap;
	int is_dir;
};

static void src_set_release(struct src_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->files[i].path);
		free(s->files[i].base);
		stitch_buf_release(&s->files[i].data);
	}
	free(s->files);
	memset(s, 0, sizeof(*s));
}

static struct src_file *src_add(struct src_set *s, char *path, char *base, const struct stat *st)
{
	struct src_file *f;

	XGROW(s->files, s->cap, s->n + 1);
	f = &s->files[s->n++];
	f->path = path;
	f->base = base;
	f->st = *st;
	stitch_buf_init(&f->data);
	return f;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* List the files of a repository (without reading them). */
static int list_sources(struct src_set *s, const char *path, struct stitch_err *err)
{
	struct stat st;
	char *meta, *pdir;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (stat(path, &st) != 0)
		return stitch_error(err, errno == ENOENT ? STITCH_E_NOTFOUND : STITCH_E_IO,
		                    "cannot read repository '%s': %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		src_add(s, xstrdup(path), NULL, &st);
		return 0;
	}
	s->is_dir = 1;
	meta = xasprintf("%s/repo.json", path);
	if (stat(meta, &st) != 0) {
		int e = errno;
		free(meta);
		return stitch_error(err, STITCH_E_INDEX,
		                    "'%s' is not a repository: cannot read repo.json: %s", path,
		                    strerror(e));
	}
	src_add(s, meta, NULL, &st);
	pdir = xasprintf("%s/packages", path);
	d = opendir(pdir);
	if (!d) {
		int e = errno;
		free(pdir);
		if (e == ENOENT)
			return 0; /* a repository with no package yet */
		return stitch_error(err, STITCH_E_IO, "cannot read '%s/packages': %s", path,
		                    strerror(e));
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		XGROW(names, cap, n + 1);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *fp = xasprintf("%s/%s", pdir, names[i]);
		if (stat(fp, &st) != 0) {
			int e = errno;
			stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", fp, strerror(e));
			free(fp);
			for (size_t j = i; j < n; j++)
				free(names[j]);
			free(names);
			free(pdir);
			return err->code;
		}
		names[i][strlen(names[i]) - 5] = '\0';
		src_add(s, fp, names[i], &st);
	}
	free(names);
	free(pdir);
	return 0;
}

static void stamp_of(const struct src_set *s, struct cache_key *key)
{
	struct stitch_sha256 *md = stitch_sha256_new();
	struct timespec now;
	long long now_ns;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	key->racy = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct stat *st = &s->files[i].st;
		long long m = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
		long long rec[4] = {(long long)st->st_ino, (long long)st->st_size, m,
		                    (long long)st->st_dev};
		stitch_sha256_update(md, s->files[i].path, strlen(s->files[i].path) + 1);
		stitch_sha256_update(md, rec, sizeof(rec));
		if (m + RACY_NS >= now_ns)
			key->racy = 1;
	}
	stitch_sha256_final(md, key->stamp);
}

static int is_compressed(const unsigned char *p, size_t n)
{
	static const unsigned char gz[] = {0x1f, 0x8b}, xz[] = {0xfd, '7', 'z', 'X', 'Z', 0},
	                           zst[] = {0x28, 0xb5, 0x2f, 0xfd}, bz[] = {'B', 'Z', 'h'};
	return (n >= 2 && !memcmp(p, gz, 2)) || (n >= 6 && !memcmp(p, xz, 6)) ||
	       (n >= 4 && !memcmp(p, zst, 4)) || (n >= 3 && !memcmp(p, bz, 3));
}

/* Decompress with libarchive's raw format: one stream, any filter. */
static int decompress(const char *path, const struct stitch_buf *in, struct stitch_buf *out,
                      struct stitch_err *err)
{
	struct archive *a;
	struct archive_entry *e;
	char chunk[65536];
	la_ssize_t n;
	int rc;

	if ((rc = stitch_dl_load_archive(err)) != 0)
		return rc;
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, in->buf, in->len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		rc = stitch_error(err, STITCH_E_ARCHIVE, "cannot decompress '%s': %s", path,
		                  archive_error_string(a) ? archive_error_string(a)
		                                          : "unknown format");
		goto out;
	}
	while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > MAX_DOC_SIZE) {
			rc = stitch_error(err, STITCH_E_ARCHIVE,
			                  "cannot decompress '%s': larger than %zu bytes", path,
			                  MAX_DOC_SIZE);
			goto out;
		}
		stitch_buf_add(out, chunk, (size_t)n);
	}
	if (n < 0)
		rc = stitch_error(err, STITCH_E_ARCHIVE, "cannot decompress '%s': %s", path,
		                  archive_error_string(a));
out:
	archive_read_free(a);
	return rc;
}

static int read_whole(const char *path, struct stitch_buf *out, struct stitch_err *err)
{
	if (stitch_read_file(path, out, MAX_DOC_SIZE) == 0)
		return 0;
	if (errno == EFBIG)
		return stitch_error(err, STITCH_E_IO, "cannot read '%s': larger than %zu bytes",
		                    path, MAX_DOC_SIZE);
	return stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", path, strerror(errno));
}

/* Read every source file and hash the raw bytes, as they are on disk. */
static int read_sources(struct src_set *s, unsigned char content[32], struct stitch_err *err)
{
	struct stitch_sha256 *md = stitch_sha256_new();
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct src_file *f = &s->files[i];
		uint64_t len;
		if ((rc = read_whole(f->path, &f->data, err)) != 0)
			break;
		len = f->data.len;
		stitch_sha256_update(md, f->base ? f->base : "",
		                     strlen(f->base ? f->base : "") + 1);
		stitch_sha256_update(md, &len, sizeof(len));
		stitch_sha256_update(md, f->data.buf, f->data.len);
	}
	stitch_sha256_final(md, content);
	return rc;
}

/* One document; keep: hold its text through the checks, for positions in warnings. */
static int parse_doc(struct src_file *f, struct flat_builder *b, bool keep, struct stitch_err *err)
{
	struct stitch_buf plain = STITCH_BUF_INIT, *text = &f->data;
	int rc;

	if (is_compressed((const unsigned char *)f->data.buf, f->data.len)) {
		rc = decompress(f->path, &f->data, &plain, err);
		stitch_buf_release(&f->data);
		if (rc != 0) {
			stitch_buf_release(&plain);
			return rc;
		}
		text = &plain;
	}
	rc = flat_parse_repo_doc_take(b, f->path, text->buf, text->len, keep ? NULL : text, err);
	stitch_buf_release(text);
	return rc;
}

static int parse_sources(struct src_set *s, struct flat_builder *b, struct stitch_err *err)
{
	int rc;

	if (!s->is_dir) {
		struct src_file *f = &s->files[0];
		/*
		 * The text goes as soon as jansson has it (a large document's
		 * peak memory); only when there are problems is it read again
		 * and kept, to say where each one is.
		 */
		rc = parse_doc(f, b, false, err);
		if (rc == 0 && b->n_warnings) {
			flat_builder_release(b);
			if ((rc = read_whole(f->path, &f->data, err)) == 0)
				rc = parse_doc(f, b, true, err);
		}
		return rc;
	}
	rc = flat_parse_repo_meta(b, s->files[0].path, s->files[0].data.buf, s->files[0].data.len,
	                          err);
	for (size_t i = 1; rc == 0 && i < s->n; i++) {
		struct src_file *f = &s->files[i];
		rc = flat_parse_pkg_file(b, f->path, f->base, f->data.buf, f->data.len, err);
	}
	if (rc == 0)
		flat_builder_finish(b);
	return rc;
}

static void materialize(struct stitch_repo *repo, struct repo_store *st, const struct flat_view *v)
{
	const char *S = v->strings;
	size_t sz_refs = ((size_t)v->n_refs + 1) * sizeof(char *);
	size_t sz_cmds = ((size_t)v->n_cmds + 1) * sizeof(*st->cmds);
	size_t sz_vers = ((size_t)v->n_versions + 1) * sizeof(*st->versions);
	size_t sz_pkgs = ((size_t)v->n_pkgs + 1) * sizeof(*st->pkgs);
	char *mem;

	/*
	 * One pre-faulted mapping of huge pages for all the arrays: a large
	 * index is materialized on every command, faulting its pages in one
	 * by one costs more than filling them, and the resolver reads the
	 * versions of thousands of packages in it.
	 */
	st->mem_len = sz_refs + sz_cmds + sz_vers + sz_pkgs;
	mem = stitch_map_huge(st->mem_len, true);
	st->mem = mem;
	st->refs = (const char **)mem;
	st->cmds = (struct stitch_command *)(mem + sz_refs);
	st->versions = (struct stitch_version *)(mem + sz_refs + sz_cmds);
	st->pkgs = (struct stitch_pkg *)(mem + sz_refs + sz_cmds + sz_vers);
	for (uint32_t i = 0; i < v->n_refs; i++)
		st->refs[i] = S + v->refs[i];
	for (uint32_t i = 0; i < v->n_cmds; i++) {
		st->cmds[i].argc = v->cmds[i].args.n;
		st->cmds[i].argv = st->refs + v->cmds[i].args.first;
	}
	for (uint32_t i = 0; i < v->n_pkgs; i++) {
		const struct flat_pkg *fp = &v->pkgs[i];
		struct stitch_pkg *p = &st->pkgs[i];
		p->name = S + fp->name;
		p->synopsis = fp->synopsis == FLAT_NONE ? NULL : S + fp->synopsis;
		p->license = fp->license == FLAT_NONE ? NULL : S + fp->license;
		p->homepage = fp->homepage == FLAT_NONE ? NULL : S + fp->homepage;
		p->n_versions = fp->n_versions;
		p->succ = fp->succ.first == FLAT_NONE ? NULL : v->succ + fp->succ.first;
		p->n_succ = fp->succ.n;
		p->versions = st->versions + fp->first_version;
		p->repo = repo;
		for (uint32_t k = 0; k < fp->n_versions; k++) {
			const struct flat_version *fv = &v->versions[fp->first_version + k];
			struct stitch_version *sv = &st->versions[fp->first_version + k];
			sv->version = S + fv->version;
			sv->pkg = p;
			sv->url = S + fv->url;
			sv->sha256 = fv->sha256 == FLAT_NONE ? NULL : S + fv->sha256;
			sv->n_depends = fv->depends.n;
			sv->depends = st->refs + fv->depends.first;
			sv->n_conflicts = fv->conflicts.n;
			sv->conflicts = st->refs + fv->conflicts.first;
			sv->build.n = fv->build.n;
			sv->build.cmds = st->cmds + fv->build.first;
			sv->install.n = fv->install.n;
			sv->install.cmds = st->cmds + fv->install.first;
			sv->test.n = fv->test.n;
			sv->test.cmds = st->cmds + fv->test.first;
			sv->reqs = v->reqs + fv->reqs;
			sv->req_members = v->members + fv->reqs;
		}
	}
	repo->n_pkgs = v->n_pkgs;
	repo->pkgs = st->pkgs;
	repo->warnings = v->warnings;
	repo->warnings_len = (size_t)v->warnings_len;
	repo->n_warnings = 0;
	for (uint64_t i = 0; i < v->warnings_len; i++)
		repo->n_warnings += v->warnings[i] == '\0';
	repo->n_req_alts = v->n_alts;
	repo->req_alts = v->alts;
	repo->doc_name = xstrdup(S + v->doc_name);
}

static char *cache_path_for(const char *cache_dir, const char *location)
{
	char hex[65];

	stitch_sha256_hex(location, strlen(location), hex);
	hex[32] = '\0';
	return xasprintf("%s/%s.idx", cache_dir, hex);
}

static void mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
	free(p);
}

/* The absolute local path a location names, or NULL with err filled. */
static char *local_path(const char *location, struct stitch_err *err)
{
	const char *p = location;
	char *abs;

	if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0) {
		stitch_error(err, STITCH_E_USAGE,
		             "cannot read repository '%s': remote repositories are not supported "
		             "by this stitch yet",
		             location);
		return NULL;
	}
	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	abs = realpath(p, NULL);
	if (!abs) {
		stitch_error(err, errno == ENOENT ? STITCH_E_NOTFOUND : STITCH_E_IO,
		             "cannot read repository '%s': %s", location, strerror(errno));
		return NULL;
	}
	return abs;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int stitch_repo_load(struct stitch_repo **out, const struct stitch_repo_spec *spec,
                     const char *cache_dir, struct stitch_err *err)
{
	struct stitch_err local = STITCH_ERR_INIT;
	struct stitch_repo *repo;
	struct repo_store *st;
	struct src_set src = {0};
	struct cache_key key;
	char *path, *cpath = NULL;
	int have_cache = 0, rc;

	if (!err)
		err = &local;
	*out = NULL;
	path = local_path(spec->location, err);
	if (!path)
		return err->code;
	repo = xcalloc(1, sizeof(*repo));
	st = xcalloc(1, sizeof(*st));
	flat_builder_init(&st->fb);
	repo->store = st;
	repo->location = path;
	repo->priority = spec->priority;
	if ((rc = list_sources(&src, path, err)) != 0)
		goto fail;
	if (spec->origin)
		repo->root = xstrdup(spec->origin);
	else
		repo->root = src.is_dir ? xstrdup(path) : dir_of(path);
	stamp_of(&src, &key);
	if (cache_dir) {
		cpath = cache_path_for(cache_dir, path);
		have_cache = cache_open(&st->cf, cpath, path) == 0;
		if (have_cache && !st->cf.key.racy && !memcmp(st->cf.key.stamp, key.stamp, 32)) {
			repo->from_cache = true;
			materialize(repo, st, &st->cf.view);
			goto done;
		}
	}
	if ((rc = read_sources(&src, key.content, err)) != 0)
		goto fail;
	if (have_cache && !memcmp(st->cf.key.content, key.content, 32)) {
		/* Same bytes, new stat data (touched, copied): refresh the stamp. */
		repo->from_cache = true;
		materialize(repo, st, &st->cf.view);
		cache_write(cpath, path, &key, &st->cf.view);
		goto done;
	}
	if (have_cache)
		cache_close(&st->cf);
	if ((rc = parse_sources(&src, &st->fb, err)) != 0)
		goto fail;
	{
		struct flat_view v;
		flat_builder_view(&st->fb, &v);
		materialize(repo, st, &v);
		if (cpath) {
			mkdir_p(cache_dir);
			cache_write(cpath, path, &key, &v);
		}
	}
done:
	stitch_hex(repo->from_cache ? st->cf.key.content : key.content, 32, repo->content_sha256);
	repo->name = xstrdup(spec->name ? spec->name : repo->doc_name);
	src_set_release(&src);
	free(cpath);
	*out = repo;
	return 0;
fail:
	src_set_release(&src);
	free(cpath);
	stitch_repo_free(repo);
	return rc;
}

const char *stitch_repo_next_warning(const struct stitch_repo *repo, const char *w)
{
	if (!w)
		return repo->warnings_len ? repo->warnings : NULL;
	w += strlen(w) + 1;
	return w < repo->warnings + repo->warnings_len ? w : NULL;
}

void stitch_repo_free(struct stitch_repo *repo)
{
	struct repo_store *st;

	if (!repo)
		return;
	st = repo->store;
	if (st) {
		cache_close(&st->cf);
		flat_builder_release(&st->fb);
		if (st->mem)
			munmap(st->mem, st->mem_len);
		free(st);
	}
	free(repo->name);
	free(repo->location);
	free(repo->root);
	free(repo->doc_name);
	free(repo);
}

struct ranked_pkg {
	const struct stitch_pkg *pkg;
	size_t rank; /* position of its repository, highest priority first */
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked_pkg *x = a, *y = b;
	int c = strcmp(x->pkg->name, y->pkg->name);

	if (c)
		return c;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

struct spec_order {
	const struct stitch_repo_spec *spec;
	size_t pos;
};

static int cmp_spec(const void *a, const void *b)
{
	const struct spec_order *x = a, *y = b;

	if (x->spec->priority != y->spec->priority)
		return x->spec->priority > y->spec->priority ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Of each name, the package of the first repository that has it. */
static void merge_visible(struct stitch_index *idx)
{
	size_t total = 0, n = 0;

	for (size_t i = 0; i < idx->n_repos; i++)
		total += idx->repos[i]->n_pkgs;
	free(idx->visible);
	idx->visible = xcalloc(total + 1, sizeof(*idx->visible));
	if (idx->n_repos == 1) {
		for (size_t k = 0; k < idx->repos[0]->n_pkgs; k++)
			idx->visible[n++] = &idx->repos[0]->pkgs[k];
	} else if (idx->n_repos > 1) {
		struct ranked_pkg *all = xcalloc(total + 1, sizeof(*all));
		size_t m = 0;
		for (size_t i = 0; i < idx->n_repos; i++)
			for (size_t k = 0; k < idx->repos[i]->n_pkgs; k++)
				all[m++] = (struct ranked_pkg){&idx->repos[i]->pkgs[k], i};
		qsort(all, m, sizeof(*all), cmp_ranked);
		for (size_t i = 0; i < m; i++)
			if (n == 0 || strcmp(idx->visible[n - 1]->name, all[i].pkg->name) != 0)
				idx->visible[n++] = all[i].pkg;
		free(all);
	}
	idx->n_visible = n;
}

int stitch_index_open(struct stitch_index **out, const struct stitch_repo_spec *specs,
                      size_t n_specs, const char *cache_dir, struct stitch_err *err)
{
	struct stitch_index *idx = xcalloc(1, sizeof(*idx));
	struct spec_order *order = xcalloc(n_specs + 1, sizeof(*order));

	*out = NULL;
	for (size_t i = 0; i < n_specs; i++)
		order[i] = (struct spec_order){&specs[i], i};
	/* Equal priorities keep the order given. */
	qsort(order, n_specs, sizeof(*order), cmp_spec);
	idx->repos = xcalloc(n_specs + 1, sizeof(*idx->repos));
	for (size_t i = 0; i < n_specs; i++) {
		struct stitch_repo *r;
		int rc = stitch_repo_load(&r, order[i].spec, cache_dir, err);
		if (rc != 0) {
			free(order);
			stitch_index_free(idx);
			return rc;
		}
		/* Keep the merge order even when priorities tie. */
		r->priority = order[i].spec->priority;
		idx->repos[idx->n_repos++] = r;
	}
	free(order);
	merge_visible(idx);
	*out = idx;
	return 0;
}

void stitch_index_free(struct stitch_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n_repos; i++)
		stitch_repo_free(idx->repos[i]);
	free(idx->repos);
	free(idx->visible);
	free(idx);
}

static const char *visible_name(const void *visible, size_t i)
{
	return ((const struct stitch_pkg *const *)visible)[i]->name;
}

long stitch_index_find_at(const struct stitch_index *idx, const char *name)
{
	return stitch_index_bsearch(idx->visible, idx->n_visible, visible_name, name);
}

const struct stitch_pkg *stitch_index_find(const struct stitch_index *idx, const char *name)
{
	long at = stitch_index_find_at(idx, name);

	return at < 0 ? NULL : idx->visible[at];
}

const struct stitch_version *stitch_pkg_find_version(const struct stitch_pkg *pkg,
                                                     const char *version)
{
	for (size_t i = 0; i < pkg->n_versions; i++)
		if (strcmp(pkg->versions[i].version, version) == 0)
			return &pkg->versions[i];
	for (size_t i = 0; i < pkg->n_versions; i++)
		if (stitch_version_cmp(pkg->versions[i].version, version) == 0)
			return &pkg->versions[i];
	return NULL;
}

int stitch_index_overlay(struct stitch_index *idx, const char *name, const char *file,
                         const char *source_dir, struct stitch_err *err)
{
	struct stitch_buf text = STITCH_BUF_INIT;
	struct stitch_repo *repo;
	struct repo_store *st;
	struct flat_view v;
	char *url;
	int rc;

	if (stitch_read_file(file, &text, 0) != 0)
		return stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", file,
		                    strerror(errno));
	repo = xcalloc(1, sizeof(*repo));
	st = xcalloc(1, sizeof(*st));
	flat_builder_init(&st->fb);
	repo->store = st;
	url = xasprintf("file://%s", source_dir);
	rc = flat_parse_pin(&st->fb, file, name, url, text.buf, text.len, err);
	free(url);
	stitch_buf_release(&text);
	if (rc) {
		stitch_repo_free(repo);
		return rc;
	}
	flat_builder_view(&st->fb, &v);
	materialize(repo, st, &v);
	repo->name = xasprintf("pin:%s", name);
	repo->location = xstrdup(file);
	repo->root = xstrdup(source_dir);
	repo->priority = INT_MAX;
	stitch_sha256_file(file, repo->content_sha256);
	idx->repos = xrealloc(idx->repos, (idx->n_repos + 2) * sizeof(*idx->repos));
	memmove(idx->repos + 1, idx->repos, idx->n_repos * sizeof(*idx->repos));
	idx->repos[0] = repo;
	idx->n_repos++;
	merge_visible(idx);
	return 0;
}
