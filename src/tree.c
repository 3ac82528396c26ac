#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool stitch_tree_ignored(const char *name, bool is_dir)
{
	static const char *const dirs[] = {".git",   ".hg", ".svn",   ".bzr",
	                                   "_darcs", "CVS", "_build", "_stitch"};
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return true;
	if (is_dir) {
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			if (!strcmp(name, dirs[i]))
				return true;
		return false;
	}
	return ends_with(name, ".o") || ends_with(name, ".a") || ends_with(name, ".so") ||
	       ends_with(name, ".d");
}

struct entry {
	char *rel;
	struct stat st;
};

struct list {
	struct entry *v;
	size_t n, cap;
};

static int walk(const char *root, const char *rel, struct list *l, struct stitch_err *err)
{
	char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		char *full = xasprintf("%s/%s", root, r);
		struct stat st;
		if (lstat(full, &st) != 0) {
			free(full);
			free(r);
			continue; /* vanished while we looked */
		}
		free(full);
		if (stitch_tree_ignored(de->d_name, S_ISDIR(st.st_mode))) {
			free(r);
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(root, r, l, err);
			free(r);
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			XGROW(l->v, l->cap, l->n + 1);
			l->v[l->n].rel = r;
			l->v[l->n].st = st;
			l->n++;
		} else {
			free(r);
		}
	}
	closedir(d);
	free(dir);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

static void list_release(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
}

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int hash_entry(const char *root, const struct entry *e, char out[65])
{
	char *full = xasprintf("%s/%s", root, e->rel);
	int rc = 0;

	if (S_ISLNK(e->st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(full, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		stitch_sha256_hex(target, strlen(target), out);
	} else {
		rc = stitch_sha256_file(full, out);
	}
	free(full);
	return rc;
}

static int scan(struct stitch_state *st, const char *pin, const char *dir, bool record,
                struct stitch_tree_scan *out, struct stitch_err *err)
{
	struct list l = {0};
	struct stitch_tree_stat *cache = NULL, *upd = NULL;
	size_t n_cache = 0, n_upd = 0, k = 0;
	const char **gone = NULL;
	size_t n_gone = 0;
	struct stitch_buf th = STITCH_BUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = walk(dir, "", &l, err)) != 0)
		goto out;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_entry);
	if ((rc = stitch_state_tree_stat_get(st, pin, &cache, &n_cache, err)) != 0)
		goto out;
	upd = xcalloc(l.n + 1, sizeof(*upd));
	gone = xcalloc(n_cache + 1, sizeof(char *));
	/* Merge the sorted walk with the sorted cache. */
	for (size_t i = 0; i < l.n; i++) {
		const struct entry *e = &l.v[i];
		struct stitch_tree_stat *c = NULL;
		char sum[65];
		while (k < n_cache && strcmp(cache[k].relpath, e->rel) < 0)
			gone[n_gone++] = cache[k++].relpath;
		if (k < n_cache && strcmp(cache[k].relpath, e->rel) == 0)
			c = &cache[k++];
		if (c && c->size == (uint64_t)e->st.st_size && c->mtime_ns == ns(&e->st.st_mtim) &&
		    c->ctime_ns == ns(&e->st.st_ctim) && c->inode == (uint64_t)e->st.st_ino &&
		    c->mode == (uint32_t)e->st.st_mode) {
			memcpy(sum, c->sha256, 65);
		} else {
			if (hash_entry(dir, e, sum) != 0) {
				rc = stitch_error(err, STITCH_E_IO, "cannot read '%s/%s': %s", dir,
				                  e->rel, strerror(errno));
				goto out;
			}
			out->n_hashed++;
			if (!c || strcmp(c->sha256, sum) != 0 ||
			    c->mode != (uint32_t)e->st.st_mode) {
				out->n_changed++;
				if (!out->first_changed)
					out->first_changed = xstrdup(e->rel);
			}
			upd[n_upd] = (struct stitch_tree_stat){e->rel,
			                                       (uint64_t)e->st.st_size,
			                                       ns(&e->st.st_mtim),
			                                       ns(&e->st.st_ctim),
			                                       (uint64_t)e->st.st_ino,
			                                       (uint32_t)e->st.st_mode,
			                                       ""};
			memcpy(upd[n_upd].sha256, sum, 65);
			n_upd++;
		}
		stitch_buf_addf(&th, "%s%c%o%c%s\n", e->rel, 0,
		                (unsigned)(e->st.st_mode & 0777) |
		                    (S_ISLNK(e->st.st_mode) ? 0120000u : 0u),
		                0, sum);
	}
	while (k < n_cache)
		gone[n_gone++] = cache[k++].relpath;
	out->n_changed += n_gone;
	if (n_gone && !out->first_changed)
		out->first_changed = xstrdup(gone[0]);
	out->n_files = l.n;
	stitch_sha256_hex(th.buf, th.len, out->tree_hash);
	if (!record)
		goto out;
	if (n_upd && (rc = stitch_state_tree_stat_put(st, pin, upd, n_upd, err)) != 0)
		goto out;
	if (n_gone && (rc = stitch_state_tree_stat_delete(st, pin, gone, n_gone, err)) != 0)
		goto out;
out:
	stitch_buf_release(&th);
	free(upd);
	free(gone);
	stitch_tree_stats_free(cache, n_cache);
	list_release(&l);
	return rc;
}

int stitch_tree_scan(struct stitch_state *st, const char *pin, const char *dir,
                     struct stitch_tree_scan *out, struct stitch_err *err)
{
	return scan(st, pin, dir, true, out, err);
}

int stitch_tree_peek(struct stitch_state *st, const char *pin, const char *dir,
                     struct stitch_tree_scan *out, struct stitch_err *err)
{
	return scan(st, pin, dir, false, out, err);
}

void stitch_tree_scan_release(struct stitch_tree_scan *s)
{
	free(s->first_changed);
	s->first_changed = NULL;
}

/* Drop the last component of cur ("a/b" -> "a", "a" -> ""). */
static void pop_component(struct stitch_buf *cur)
{
	char *slash = strrchr(cur->buf, '/');
	size_t len = slash ? (size_t)(slash - cur->buf) : 0;

	cur->buf[len] = '\0';
	cur->len = len;
}

/* Walk target from directory cur (relative to root); -1 when it leaves root. */
static int resolve_in(const char *root, struct stitch_buf *cur, const char *target, int *links)
{
	const char *p = target;

	if (*target == '/')
		return -1;
	while (*p) {
		size_t len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || len == 0) {
			/* nothing to do */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (!cur->len)
				return -1;
			pop_component(cur);
		} else {
			char *full, link[4096];
			ssize_t n;
			if (cur->len)
				stitch_buf_addch(cur, '/');
			stitch_buf_add(cur, p, len);
			full = xasprintf("%s/%s", root, cur->buf);
			n = readlink(full, link, sizeof(link) - 1);
			free(full);
			if (n >= 0) {
				link[n] = '\0';
				pop_component(cur);
				if (++*links > 40 || resolve_in(root, cur, link, links) != 0)
					return -1;
			}
		}
		p += len + (p[len] == '/');
	}
	return 0;
}

bool stitch_tree_link_escapes(const char *root, const char *rel, const char *target)
{
	struct stitch_buf cur = STITCH_BUF_INIT;
	int links = 0, rc;

	stitch_buf_adds(&cur, rel);
	pop_component(&cur);
	rc = resolve_in(root, &cur, target, &links);
	stitch_buf_release(&cur);
	return rc != 0;
}

/* Refuse a pinned tree with a link that leads outside it (see tree.h). */
static int check_links(const char *src, const struct list *a, struct stitch_err *err)
{
	for (size_t i = 0; i < a->n; i++) {
		char *full, target[4096];
		ssize_t n;
		if (!S_ISLNK(a->v[i].st.st_mode))
			continue;
		full = xasprintf("%s/%s", src, a->v[i].rel);
		n = readlink(full, target, sizeof(target) - 1);
		free(full);
		target[n > 0 ? n : 0] = '\0';
		if (n > 0 && !stitch_tree_link_escapes(src, a->v[i].rel, target))
			continue;
		return stitch_error(err, STITCH_E_BUILD,
		                    "'%s/%s' is a symbolic link to '%s', outside the pinned tree; "
		                    "stitch does not build a pin that links out of its checkout",
		                    src, a->v[i].rel, target);
	}
	return 0;
}

static int copy_file(const char *src, const char *dst, const struct stat *st,
                     struct stitch_err *err)
{
	char *tmp = xasprintf("%s.stitch-tmp", dst);
	char buf[65536];
	int in, outfd, rc = 0;
	ssize_t n;
	struct timespec times[2];

	if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t len = readlink(src, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		unlink(tmp);
		if (symlink(target, tmp) != 0 || rename(tmp, dst) != 0)
			rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", dst,
			                  strerror(errno));
		free(tmp);
		return rc;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	outfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st->st_mode & 0777);
	if (in < 0 || outfd < 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot copy '%s' to '%s': %s", src, dst,
		                  strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(outfd, buf, (size_t)n) != n) {
			rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", tmp,
			                  strerror(errno));
			goto out;
		}
	fchmod(outfd, st->st_mode & 0777);
	times[0] = st->st_atim;
	times[1] = st->st_mtim;
	futimens(outfd, times);
	if (rename(tmp, dst) != 0)
		rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", dst, strerror(errno));
out:
	if (in >= 0)
		close(in);
	if (outfd >= 0)
		close(outfd);
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int stitch_tree_mirror(const char *src, const char *dst, size_t *copied, struct stitch_err *err)
{
	struct list a = {0}, b = {0};
	size_t k = 0;
	int rc;

	*copied = 0;
	stitch_mkdir_p(dst, 0755);
	if ((rc = walk(src, "", &a, err)) != 0 || (rc = check_links(src, &a, err)) != 0 ||
	    (rc = walk(dst, "", &b, err)) != 0)
		goto out;
	if (a.n) /* qsort's array may not be NULL, even empty */
		qsort(a.v, a.n, sizeof(*a.v), cmp_entry);
	if (b.n)
		qsort(b.v, b.n, sizeof(*b.v), cmp_entry);
	for (size_t i = 0; i < a.n && rc == 0; i++) {
		const struct entry *e = &a.v[i];
		const struct entry *m = NULL;
		while (k < b.n && strcmp(b.v[k].rel, e->rel) < 0) {
			char *gone = xasprintf("%s/%s", dst, b.v[k++].rel);
			unlink(gone);
			free(gone);
		}
		if (k < b.n && strcmp(b.v[k].rel, e->rel) == 0)
			m = &b.v[k++];
		if (m && m->st.st_size == e->st.st_size &&
		    ns(&m->st.st_mtim) == ns(&e->st.st_mtim) &&
		    (m->st.st_mode & S_IFMT) == (e->st.st_mode & S_IFMT))
			continue;
		{
			char *from = xasprintf("%s/%s", src, e->rel),
			     *to = xasprintf("%s/%s", dst, e->rel);
			char *slash = strrchr(to, '/');
			*slash = '\0';
			stitch_mkdir_p(to, 0755);
			*slash = '/';
			rc = copy_file(from, to, &e->st, err);
			if (rc == 0)
				(*copied)++;
			free(from);
			free(to);
		}
	}
	while (rc == 0 && k < b.n) {
		char *gone = xasprintf("%s/%s", dst, b.v[k++].rel);
		unlink(gone);
		free(gone);
	}
out:
	list_release(&a);
	list_release(&b);
	return rc;
}
