/*
 * Safe unpacking; see archive.h for the contract.  Packing is in
 * archive_pack.c, the entry checks both share in archive_check.c.
 */
#include "archive.h"
#include "dl.h"
#include "archive_int.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct unpack {
	const char *path; /* the archive, as the caller named it */
	char *what; /* "cannot unpack 'path'" */
	int fd;
	struct ents es;
	unsigned long long bytes; /* file data in the archive (first pass) */
	unsigned long long written; /* file data written so far (second pass) */
	unsigned long long next_check; /* written, when to look at free space again */
	const char *dest; /* the canonical target, in the second pass */
};

/* Free space is looked at again each time this much more has been written. */
#define SPACE_CHECK_BYTES (1ULL << 20)

/* Bytes an unprivileged user may still write on the filesystem of path, or -1. */
static long long free_bytes(const char *path)
{
	struct statvfs sv;

	if (statvfs(path, &sv) != 0)
		return -1;
	return (long long)sv.f_bavail * (long long)sv.f_frsize;
}

/*
 * Whether what is left to write fits in the free space of dest; entry (or
 * NULL, before the first) names where we are.  Returns 0 or fills err.
 */
static int check_space(struct unpack *u, const char *dest, const char *entry,
                       struct stitch_err *err)
{
	unsigned long long left = u->bytes - u->written;
	long long avail = free_bytes(dest);

	if (avail < 0 || (unsigned long long)avail >= left)
		return 0;
	if (!entry)
		return stitch_error(err, STITCH_E_IO,
		                    "%s: it needs %llu bytes but '%s' has %lld bytes free", u->what,
		                    left, dest, avail);
	return stitch_error(err, STITCH_E_IO,
	                    "%s: entry '%s': %llu more bytes to write but '%s' has %lld bytes free",
	                    u->what, entry, left, dest, avail);
}

static unsigned long long max_bytes = STITCH_ARCHIVE_MAX_BYTES;

void stitch_archive_set_max_bytes(unsigned long long max)
{
	max_bytes = max ? max : STITCH_ARCHIVE_MAX_BYTES;
}

static const char *arc_msg(struct archive *a)
{
	const char *s = archive_error_string(a);
	return s ? s : "unknown error";
}

static struct archive *open_reader(struct unpack *u, struct stitch_err *err)
{
	struct archive *a = archive_read_new();

	/* Only the formats we promise: no external decompressor programs. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	if (lseek(u->fd, 0, SEEK_SET) != 0 ||
	    archive_read_open_fd(a, u->fd, 64 * 1024) != ARCHIVE_OK) {
		stitch_error(err, STITCH_E_ARCHIVE, "%s: %s", u->what, arc_msg(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static const char *bad_type(struct archive_entry *e)
{
	switch (archive_entry_filetype(e)) {
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a fifo";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

/* Record one header of the first pass, refusing what is unsafe on its own. */
static int note_entry(struct unpack *u, struct archive_entry *e, struct stitch_err *err)
{
	const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
	enum ent_type type;
	struct ent *ent;

	if (!name)
		name = archive_entry_pathname_utf8(e);
	if (!name)
		return stitch_error(err, STITCH_E_ARCHIVE, "%s: entry %zu has an unreadable name",
		                    u->what, u->es.n + 1);
	if (u->es.n >= STITCH_ARCHIVE_MAX_ENTRIES)
		return stitch_error(err, STITCH_E_ARCHIVE, "%s: more than %d entries", u->what,
		                    STITCH_ARCHIVE_MAX_ENTRIES);
	if (hl)
		type = ENT_HARDLINK;
	else if (archive_entry_filetype(e) == AE_IFREG)
		type = ENT_FILE;
	else if (archive_entry_filetype(e) == AE_IFDIR)
		type = ENT_DIR;
	else if (archive_entry_filetype(e) == AE_IFLNK)
		type = ENT_SYMLINK;
	else
		return stitch_error(err, STITCH_E_ARCHIVE,
		                    "%s: entry '%s' is %s; only files, directories and links can "
		                    "be unpacked",
		                    u->what, name, bad_type(e));
	/*
	 * A set-id program in a source archive has no use but to be run with
	 * privileges it should not have: refused.  A directory's setgid or
	 * sticky bit (a shared workspace) only loses its bit, in disk_perm.
	 */
	if (type != ENT_DIR && (archive_entry_perm(e) & (S_ISUID | S_ISGID)))
		return stitch_error(err, STITCH_E_ARCHIVE,
		                    "%s: entry '%s' is set-%s (mode %04o); a source archive "
		                    "has no use for that",
		                    u->what, name,
		                    archive_entry_perm(e) & S_ISUID ? "user-id" : "group-id",
		                    (unsigned)archive_entry_perm(e) & 07777);
	ent = archive_ents_add(&u->es, name, type);
	ent->perm = archive_entry_perm(e);
	ent->path = archive_normalize(name);
	if (!ent->path)
		return stitch_error(err, STITCH_E_ARCHIVE,
		                    "%s: entry '%s' would land outside the target", u->what, name);
	ent->len = strlen(ent->path);
	if (type == ENT_HARDLINK) {
		ent->raw_link = xstrdup(hl);
		ent->link = archive_normalize(hl);
	} else if (type == ENT_SYMLINK) {
		const char *t = archive_entry_symlink(e);
		if (!t)
			t = archive_entry_symlink_utf8(e);
		if (!t || !*t)
			return stitch_error(err, STITCH_E_ARCHIVE,
			                    "%s: entry '%s' is a symlink without a target", u->what,
			                    name);
		ent->raw_link = xstrdup(t);
	}
	return 0;
}

/* Read (and discard) an entry's data, so corruption shows before writing. */
static int scan_data(struct unpack *u, struct archive *a, struct stitch_err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		u->bytes += size;
		if (u->bytes > max_bytes)
			return stitch_error(err, STITCH_E_ARCHIVE,
			                    "%s: entry '%s': the archive expands to more than "
			                    "the limit of %llu bytes (limits.unpack_bytes)",
			                    u->what, u->es.v[u->es.n - 1].raw, max_bytes);
	}
	if (r != ARCHIVE_EOF)
		return stitch_error(err, STITCH_E_ARCHIVE, "%s: entry '%s': %s", u->what,
		                    u->es.v[u->es.n - 1].raw, arc_msg(a));
	return 0;
}

/* The single top-level directory every entry lies under, or NULL. */
static char *single_top(const struct ents *es)
{
	const char *top = NULL;
	size_t toplen = 0;

	for (size_t i = 0; i < es->n; i++) {
		const struct ent *e = &es->v[i];
		size_t n = strcspn(e->path, "/");
		if (!e->len)
			continue;
		if (!top) {
			top = e->path;
			toplen = n;
		} else if (n != toplen || memcmp(e->path, top, n)) {
			return NULL;
		}
		if (!e->path[n] && e->type != ENT_DIR)
			return NULL;
	}
	return top ? xstrndup(top, toplen) : NULL;
}

/* path without its first component top; NULL when it is not under top. */
static char *strip_top(const char *path, const char *top)
{
	size_t n = strlen(top);

	if (strncmp(path, top, n) || (path[n] && path[n] != '/'))
		return NULL;
	return xstrdup(path[n] ? path + n + 1 : "");
}

static void apply_strip(struct ents *es)
{
	char *top = single_top(es);

	for (size_t i = 0; top && i < es->n; i++) {
		struct ent *e = &es->v[i];
		char *s;
		if (e->len) {
			s = strip_top(e->path, top);
			free(e->path);
			e->path = s;
			e->len = strlen(s);
		}
		if (e->link) {
			s = strip_top(e->link, top);
			free(e->link);
			e->link = s;
		}
	}
	free(top);
}

static int first_pass(struct unpack *u, struct stitch_err *err)
{
	struct archive *a = open_reader(u, err);
	struct archive_entry *e;
	int r, ret = 0;

	if (!a)
		return STITCH_E_ARCHIVE;
	while (!ret && (r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN)
			ret = u->es.n
			          ? stitch_error(err, STITCH_E_ARCHIVE, "%s: after entry '%s': %s",
			                         u->what, u->es.v[u->es.n - 1].raw, arc_msg(a))
			          : stitch_error(err, STITCH_E_ARCHIVE, "%s: %s", u->what,
			                         arc_msg(a));
		else
			ret = note_entry(u, e, err) || scan_data(u, a, err) ? STITCH_E_ARCHIVE : 0;
	}
	archive_read_free(a);
	if (!ret && !u->es.n)
		ret =
		    stitch_error(err, STITCH_E_ARCHIVE, "%s: the archive has no entries", u->what);
	if (ret)
		return ret;
	apply_strip(&u->es);
	return archive_check_entries(&u->es, u->what, err);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p) ? -1 : 0;
}

/* Remove dir and everything in it, never following symlinks. */
static int remove_tree(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remove everything in dir, keeping dir. */
static int empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int ret = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *p;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (remove_tree(p))
			ret = -1;
		free(p);
	}
	closedir(d);
	return ret;
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return 0;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

/* mkdir -p: create dir and its missing parents. */
static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);
	int ret = 0;

	for (char *s = strchr(p + 1, '/'); s && !ret; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			ret = -1;
		*s = '/';
	}
	if (!ret && mkdir(p, 0755))
		ret = -1;
	free(p);
	return ret;
}

/* The mode an entry gets on disk: see archive.h. */
static unsigned disk_perm(const struct ent *e)
{
	if (e->type == ENT_DIR)
		return (e->perm & 0755) | 0700;
	if (e->type == ENT_SYMLINK)
		return 0777;
	return (e->perm & 0755) | 0600;
}

static int same_entry(const struct ent *ent, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	const char *link = ent->type == ENT_HARDLINK  ? archive_entry_hardlink(e)
	                   : ent->type == ENT_SYMLINK ? archive_entry_symlink(e)
	                                              : NULL;

	if (!name)
		name = archive_entry_pathname_utf8(e);
	if (!link && ent->type == ENT_SYMLINK)
		link = archive_entry_symlink_utf8(e);
	if (!name || strcmp(name, ent->raw) || (!ent->raw_link) != (!link))
		return 0;
	return !link || !strcmp(link, ent->raw_link);
}

/*
 * Copy an entry's data; returns 0, -1 (the archive's error), or a code
 * with err filled (the disk is filling up).
 */
static int copy_data(struct unpack *u, const struct ent *ent, struct archive *a, struct archive *w,
                     struct stitch_err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		if (u->written >= u->next_check) {
			u->next_check = u->written + SPACE_CHECK_BYTES;
			if ((r = check_space(u, u->dest, ent->raw, err)) != 0)
				return r;
		}
		if (archive_write_data_block(w, buf, size, off) < ARCHIVE_WARN)
			return -1;
		u->written += size;
	}
	return r == ARCHIVE_EOF ? 0 : -1;
}

/* Write one approved entry under dest; returns 0 or fills err. */
static int write_entry(struct unpack *u, const char *dest, const struct ent *ent, struct archive *a,
                       struct archive *w, struct archive_entry *e, struct stitch_err *err)
{
	char *full = xasprintf("%s/%s", dest, ent->path);
	int bad = 0, rc;

	archive_entry_copy_pathname(e, full);
	free(full);
	if (ent->type == ENT_HARDLINK) {
		full = xasprintf("%s/%s", dest, ent->link);
		archive_entry_copy_hardlink(e, full);
		free(full);
	}
	archive_entry_set_perm(e, disk_perm(ent));
	if (archive_write_header(w, e) < ARCHIVE_WARN)
		bad = 1;
	else if ((rc = copy_data(u, ent, a, w, err)) > 0)
		return rc;
	else if (rc || archive_write_finish_entry(w) < ARCHIVE_WARN)
		bad = 1;
	if (bad)
		return stitch_error(err, STITCH_E_IO, "%s: writing entry '%s': %s", u->what,
		                    ent->raw, archive_error_string(w) ? arc_msg(w) : arc_msg(a));
	return 0;
}

static int second_pass(struct unpack *u, const char *dest, struct stitch_err *err)
{
	struct archive *a = open_reader(u, err), *w;
	struct archive_entry *e;
	size_t i = 0;
	int ret = 0;

	if (!a)
		return STITCH_E_ARCHIVE;
	w = archive_write_disk_new();
	/* Defense in depth: our own checks already refused all of these. */
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
	                                      ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	                                      ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	while (!ret && i < u->es.n) {
		const struct ent *ent = &u->es.v[i++];
		if (archive_read_next_header(a, &e) < ARCHIVE_WARN || !same_entry(ent, e))
			ret =
			    stitch_error(err, STITCH_E_ARCHIVE,
			                 "%s: the archive changed while it was unpacked", u->what);
		else if (ent->len)
			ret = write_entry(u, dest, ent, a, w, e, err);
	}
	/* Closing applies the deferred modes and times of directories. */
	if (archive_write_close(w) < ARCHIVE_WARN && !ret)
		ret = stitch_error(err, STITCH_E_IO, "%s: %s", u->what, arc_msg(w));
	archive_write_free(w);
	archive_read_free(a);
	return ret;
}

/* Check dest: absent (*created = 1 once made) or an empty directory. */
static int check_dest(struct unpack *u, const char *dest, int *absent, struct stitch_err *err)
{
	struct stat st;

	*absent = 0;
	if (stat(dest, &st)) {
		if (errno == ENOENT) {
			*absent = 1;
			return 0;
		}
		stitch_error(err, STITCH_E_IO, "%s into '%s'", u->what, dest);
		return stitch_error_cause(err, "%s", strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return stitch_error(err, STITCH_E_EXISTS, "%s into '%s': it is not a directory",
		                    u->what, dest);
	if (!dir_is_empty(dest))
		return stitch_error(err, STITCH_E_EXISTS,
		                    "%s into '%s': the directory is not empty", u->what, dest);
	return 0;
}

static int unpack(struct unpack *u, const char *dest_dir, struct stitch_err *err)
{
	char *dest = NULL;
	int absent, ret;

	if ((ret = check_dest(u, dest_dir, &absent, err)))
		return ret;
	u->fd = open(u->path, O_RDONLY | O_CLOEXEC);
	if (u->fd < 0) {
		stitch_error(err, errno == ENOENT ? STITCH_E_NOTFOUND : STITCH_E_IO, "%s", u->what);
		return stitch_error_cause(err, "%s", strerror(errno));
	}
	if ((ret = first_pass(u, err)))
		return ret;
	if (absent && mkdir_p(dest_dir)) {
		stitch_error(err, STITCH_E_IO, "%s: cannot create '%s'", u->what, dest_dir);
		return stitch_error_cause(err, "%s", strerror(errno));
	}
	/* A canonical path: libarchive's checks refuse '..' and symlinks in it. */
	dest = realpath(dest_dir, NULL);
	if (!dest) {
		ret = stitch_error(err, STITCH_E_IO, "%s: cannot resolve '%s'", u->what, dest_dir);
		stitch_error_cause(err, "%s", strerror(errno));
	} else if ((ret = check_space(u, dest, NULL, err)) == 0) {
		u->dest = dest;
		u->next_check = SPACE_CHECK_BYTES;
		ret = second_pass(u, dest, err);
	}
	if (ret && (absent ? remove_tree(dest_dir) : empty_dir(dest_dir)) && err)
		stitch_error_cause(err, "could not clean up '%s': %s", dest_dir, strerror(errno));
	free(dest);
	return ret;
}

int stitch_archive_unpack(const char *path, const char *dest_dir, struct stitch_err *err)
{
	struct unpack u;
	int ret;

	if (!path || !*path || !dest_dir || !*dest_dir)
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot unpack: no archive or target given");
	if ((ret = stitch_dl_load_archive(err)) != 0)
		return ret;
	memset(&u, 0, sizeof(u));
	u.path = path;
	u.what = xasprintf("cannot unpack '%s'", path);
	u.fd = -1;
	ret = unpack(&u, dest_dir, err);
	if (u.fd >= 0)
		close(u.fd);
	archive_ents_release(&u.es);
	free(u.what);
	return ret;
}
