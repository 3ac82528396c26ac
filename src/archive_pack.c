/*
 * Deterministic packing; see archive.h for the contract.  The tree is read
 * into the entry model of archive_int.h and checked as unpacking would
 * check it, then written in path order with every varying field fixed.
 */
#include "archive.h"
#include "dl.h"
#include "archive_int.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *arc_msg(struct archive *a)
{
	const char *s = archive_error_string(a);
	return s ? s : "unknown error";
}

struct pack {
	const char *src;
	char *what; /* "cannot pack 'src'" */
	struct ents es;
	struct stat skip[2]; /* out_path and its temporary file */
	int nskip;
	struct stitch_sha256 *md; /* the archive as it is written */
	int fd;
	int write_errno;
};

static int is_vcs(const char *name)
{
	static const char *const vcs[] = {".git", ".hg", ".svn", ".bzr", "_darcs", "CVS"};

	for (size_t i = 0; i < sizeof(vcs) / sizeof(vcs[0]); i++)
		if (!strcmp(name, vcs[i]))
			return 1;
	return 0;
}

static int skipped(const struct pack *p, const struct stat *st)
{
	for (int i = 0; i < p->nskip; i++)
		if (p->skip[i].st_dev == st->st_dev && p->skip[i].st_ino == st->st_ino)
			return 1;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in a directory, without "." and "..". */
static int list_dir(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		XGROW(*names, cap, *n + 1);
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return 0;
}

static int io_error(struct pack *p, const char *verb, const char *path, struct stitch_err *err)
{
	stitch_error(err, STITCH_E_IO, "%s: cannot %s '%s'", p->what, verb, path);
	return stitch_error_cause(err, "%s", strerror(errno));
}

static int walk(struct pack *p, const char *rel, struct stitch_err *err);

static void pack_add(struct pack *p, const char *rel, enum ent_type type, unsigned perm, char *link)
{
	struct ent *e = archive_ents_add(&p->es, rel, type);

	e->path = xstrdup(rel);
	e->len = strlen(rel);
	e->perm = perm;
	e->raw_link = link;
}

/* Add one name found in the tree; rel is its path relative to src. */
static int add_path(struct pack *p, const char *rel, struct stitch_err *err)
{
	char *full = xasprintf("%s/%s", p->src, rel);
	char buf[PATH_MAX];
	struct stat st;
	ssize_t n;
	int ret = 0;

	if (lstat(full, &st)) {
		ret = io_error(p, "read", full, err);
	} else if (skipped(p, &st)) {
		ret = 0;
	} else if (S_ISDIR(st.st_mode)) {
		pack_add(p, rel, ENT_DIR, 0755, NULL);
		ret = walk(p, rel, err);
	} else if (S_ISREG(st.st_mode)) {
		pack_add(p, rel, ENT_FILE, st.st_mode & 0111 ? 0755 : 0644, NULL);
	} else if (!S_ISLNK(st.st_mode)) {
		ret = stitch_error(err, STITCH_E_ARCHIVE,
		                   "%s: '%s' is not a file, directory or symlink", p->what, rel);
	} else if ((n = readlink(full, buf, sizeof(buf) - 1)) < 0) {
		ret = io_error(p, "read the symlink", full, err);
	} else {
		pack_add(p, rel, ENT_SYMLINK, 0777, xstrndup(buf, (size_t)n));
	}
	free(full);
	return ret;
}

/* Collect every entry under src/rel ("" for src itself). */
static int walk(struct pack *p, const char *rel, struct stitch_err *err)
{
	char *dir = *rel ? xasprintf("%s/%s", p->src, rel) : xstrdup(p->src);
	char **names;
	size_t n;
	int ret = 0;

	if (list_dir(dir, &names, &n))
		ret = io_error(p, "read the directory", dir, err);
	for (size_t i = 0; i < n; i++) {
		if (!ret && !is_vcs(names[i])) {
			char *sub = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
			ret = add_path(p, sub, err);
			free(sub);
		}
		free(names[i]);
	}
	free(names);
	free(dir);
	return ret;
}

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct pack *p = data;
	const char *s = buf;
	size_t done = 0;

	(void)a;
	while (done < len) {
		ssize_t n = write(p->fd, s + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			p->write_errno = errno;
			return -1;
		}
		done += (size_t)n;
	}
	stitch_sha256_update(p->md, buf, len);
	return (la_ssize_t)len;
}

static int write_file_data(struct pack *p, struct archive *w, struct archive_entry *e,
                           const char *rel, struct stitch_err *err)
{
	char *full = xasprintf("%s/%s", p->src, rel);
	char buf[64 * 1024];
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	long long total = 0;
	struct stat st;
	ssize_t n;
	int ret = 0;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = io_error(p, "read", full, err);
		goto out;
	}
	archive_entry_set_size(e, st.st_size);
	if (archive_write_header(w, e) < ARCHIVE_WARN)
		goto arc;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && total + n <= st.st_size) {
		total += n;
		if (archive_write_data(w, buf, (size_t)n) < 0)
			goto arc;
	}
	if (n < 0)
		ret = io_error(p, "read", full, err);
	else if (total != st.st_size || n > 0)
		ret = stitch_error(err, STITCH_E_IO, "%s: '%s' changed while it was packed",
		                   p->what, rel);
	goto out;
arc:
	ret = stitch_error(err, STITCH_E_IO, "%s: writing '%s': %s", p->what, rel, arc_msg(w));
out:
	if (fd >= 0)
		close(fd);
	free(full);
	return ret;
}

/* Write one entry (ent NULL: the top directory itself). */
static int write_pack_entry(struct pack *p, struct archive *w, const char *top,
                            const struct ent *ent, long long mtime, struct stitch_err *err)
{
	struct archive_entry *e = archive_entry_new();
	char *name = ent ? xasprintf("%s/%s", top, ent->path) : xstrdup(top);
	int ret = 0;

	archive_entry_copy_pathname(e, name);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_filetype(e, !ent                       ? AE_IFDIR
	                              : ent->type == ENT_SYMLINK ? AE_IFLNK
	                              : ent->type == ENT_DIR     ? AE_IFDIR
	                                                         : AE_IFREG);
	archive_entry_set_perm(e, ent ? ent->perm : 0755);
	if (ent && ent->type == ENT_FILE) {
		ret = write_file_data(p, w, e, ent->path, err);
	} else {
		if (ent && ent->type == ENT_SYMLINK)
			archive_entry_copy_symlink(e, ent->raw_link);
		if (archive_write_header(w, e) < ARCHIVE_WARN)
			ret = stitch_error(err, STITCH_E_IO, "%s: writing '%s': %s", p->what, name,
			                   arc_msg(w));
	}
	archive_entry_free(e);
	free(name);
	return ret;
}

static int set_gzip(struct archive *w)
{
	/* No timestamp in the gzip header; a fixed level, not the library's default. */
	return archive_write_add_filter_gzip(w) != ARCHIVE_OK ||
	       archive_write_set_filter_option(w, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	       archive_write_set_filter_option(w, "gzip", "compression-level", "9") != ARCHIVE_OK ||
	       archive_write_set_format_pax_restricted(w) != ARCHIVE_OK;
}

static int write_archive(struct pack *p, const char *top, long long mtime, struct stitch_err *err)
{
	struct archive *w = archive_write_new();
	int ret = 0;

	if (set_gzip(w)) {
		ret = stitch_error(err, STITCH_E_ARCHIVE, "%s: %s", p->what, arc_msg(w));
		archive_write_free(w);
		return ret;
	}
	if (archive_write_open(w, p, NULL, sink_write, NULL) != ARCHIVE_OK)
		ret = stitch_error(err, STITCH_E_IO, "%s: %s", p->what, arc_msg(w));
	if (!ret)
		ret = write_pack_entry(p, w, top, NULL, mtime, err);
	for (size_t k = 0; !ret && k < p->es.n; k++)
		ret = write_pack_entry(p, w, top, &p->es.v[p->es.sorted[k]], mtime, err);
	if (archive_write_close(w) != ARCHIVE_OK && !ret)
		ret = stitch_error(err, STITCH_E_IO, "%s: %s", p->what, arc_msg(w));
	if (ret && p->write_errno)
		stitch_error_cause(err, "%s", strerror(p->write_errno));
	archive_write_free(w);
	return ret;
}

static void hex_digest(struct pack *p, char out[65])
{
	unsigned char d[32];

	stitch_sha256_final(p->md, d);
	p->md = NULL;
	stitch_hex(d, sizeof(d), out);
}

static int pack(struct pack *p, const char *top, long long mtime, const char *out_path,
                char sha256_out[65], const char *tmp, struct stitch_err *err)
{
	struct stat st;
	int ret;

	if (stat(p->src, &st)) {
		stitch_error(err, errno == ENOENT ? STITCH_E_NOTFOUND : STITCH_E_IO, "%s", p->what);
		return stitch_error_cause(err, "%s", strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return stitch_error(err, STITCH_E_IO, "%s: not a directory", p->what);
	if (!lstat(out_path, &p->skip[0]))
		p->nskip = 1;
	if (fstat(p->fd, &p->skip[p->nskip]) == 0)
		p->nskip++;
	if ((ret = walk(p, "", err)) || (ret = archive_check_entries(&p->es, p->what, err)))
		return ret;
	p->md = stitch_sha256_new();
	if ((ret = write_archive(p, top, mtime, err)))
		return ret;
	if (fchmod(p->fd, 0644) || fsync(p->fd))
		return io_error(p, "write", tmp, err);
	if (rename(tmp, out_path)) {
		stitch_error(err, STITCH_E_IO, "%s: cannot rename '%s' to '%s'", p->what, tmp,
		             out_path);
		return stitch_error_cause(err, "%s", strerror(errno));
	}
	hex_digest(p, sha256_out);
	return 0;
}

int stitch_archive_pack(const char *src_dir, const char *top, long long mtime, const char *out_path,
                        char sha256_out[65], struct stitch_err *err)
{
	struct pack p;
	char *tmp;
	int ret;

	if (!src_dir || !out_path || !sha256_out || !top || !*top || strchr(top, '/') ||
	    !strcmp(top, ".") || !strcmp(top, ".."))
		return stitch_error(err, STITCH_E_USAGE, "cannot pack '%s': bad top directory '%s'",
		                    src_dir ? src_dir : "", top ? top : "");
	if ((ret = stitch_dl_load_archive(err)) != 0)
		return ret;
	memset(&p, 0, sizeof(p));
	p.src = src_dir;
	p.what = xasprintf("cannot pack '%s'", src_dir);
	tmp = xasprintf("%s.tmp.XXXXXX", out_path);
	p.fd = mkstemp(tmp);
	if (p.fd < 0) {
		ret = io_error(&p, "create", tmp, err);
	} else {
		ret = pack(&p, top, mtime, out_path, sha256_out, tmp, err);
		close(p.fd);
		if (ret)
			unlink(tmp);
		if (p.md)
			stitch_sha256_free(p.md);
	}
	archive_ents_release(&p.es);
	free(p.what);
	free(tmp);
	return ret;
}
