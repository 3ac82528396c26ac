/*
 * The entry model and the checks both directions run; see archive_int.h.
 */
#include "archive_int.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* As the kernel's MAXSYMLINKS: more expansions than this is a loop. */
#define MAX_LINK_HOPS 40

void archive_ents_release(struct ents *es)
{
	for (size_t i = 0; i < es->n; i++) {
		free(es->v[i].raw);
		free(es->v[i].path);
		free(es->v[i].raw_link);
		free(es->v[i].link);
	}
	free(es->v);
	free(es->sorted);
	memset(es, 0, sizeof(*es));
}

struct ent *archive_ents_add(struct ents *es, const char *raw, enum ent_type type)
{
	struct ent *e;

	XGROW(es->v, es->cap, es->n + 1);
	e = &es->v[es->n++];
	memset(e, 0, sizeof(*e));
	e->raw = xstrdup(raw);
	e->type = type;
	return e;
}

char *archive_normalize(const char *name)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	const char *p = name;

	if (name[0] == '/')
		return NULL;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			stitch_buf_release(&b);
			return NULL;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (b.len)
				stitch_buf_addch(&b, '/');
			stitch_buf_add(&b, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return stitch_buf_detach(&b, NULL);
}

/* Compare a NUL-terminated path with the first len bytes of s, as strcmp would. */
static int cmp_n(const struct ent *e, const char *s, size_t len)
{
	int c = memcmp(e->path, s, e->len < len ? e->len : len);

	if (c)
		return c;
	return e->len < len ? -1 : e->len > len;
}

/* The index of the first entry whose path is s[0..len), or -1. */
static long find(const struct ents *es, const char *s, size_t len)
{
	size_t lo = 0, hi = es->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_n(&es->v[es->sorted[mid]], s, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < es->n && cmp_n(&es->v[es->sorted[lo]], s, len) == 0)
		return (long)es->sorted[lo];
	return -1;
}

static int by_path(const void *a, const void *b, void *ctx)
{
	const struct ents *es = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(es->v[i].path, es->v[j].path);

	return c ? c : (i > j) - (i < j);
}

enum resolved { INSIDE, ESCAPES, LOOPS };

/*
 * Resolve a symlink target from dir (the link's parent, a path of the
 * archive free of symlinks) the way the kernel will once the archive is
 * unpacked: through the archive's own symlinks, and lexically through names
 * the archive does not create, since something may create them later.
 */
static enum resolved resolve(const struct ents *es, const char *dir, size_t dirlen,
                             const char *target)
{
	struct stitch_buf cur = STITCH_BUF_INIT, pending = STITCH_BUF_INIT;
	enum resolved res = INSIDE;
	size_t pos = 0;
	int hops = 0;

	stitch_buf_add(&cur, dir, dirlen);
	stitch_buf_adds(&pending, target);
	if (target[0] == '/')
		res = ESCAPES;
	while (res == INSIDE && pos < pending.len) {
		const char *c = pending.buf + pos;
		size_t n = strcspn(c, "/"), mark = cur.len;
		long j;

		pos += n + (pos + n < pending.len);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			char *slash = memrchr(cur.buf, '/', cur.len);
			if (!cur.len) {
				res = ESCAPES;
				continue;
			}
			cur.len = slash ? (size_t)(slash - cur.buf) : 0;
			cur.buf[cur.len] = '\0';
			continue;
		}
		if (cur.len)
			stitch_buf_addch(&cur, '/');
		stitch_buf_add(&cur, c, n);
		j = find(es, cur.buf, cur.len);
		if (j < 0 || es->v[j].type != ENT_SYMLINK)
			continue;
		if (++hops > MAX_LINK_HOPS) {
			res = LOOPS;
		} else if (es->v[j].raw_link[0] == '/') {
			res = ESCAPES;
		} else {
			struct stitch_buf next = STITCH_BUF_INIT;
			stitch_buf_adds(&next, es->v[j].raw_link);
			stitch_buf_addch(&next, '/');
			stitch_buf_add(&next, pending.buf + pos, pending.len - pos);
			stitch_buf_release(&pending);
			pending = next;
			pos = 0;
			cur.len = mark;
			cur.buf[mark] = '\0';
		}
	}
	stitch_buf_release(&cur);
	stitch_buf_release(&pending);
	return res;
}

/* Every proper prefix of e's path must be a directory, if the archive has it. */
static int check_parents(const struct ents *es, const struct ent *e, const char *what,
                         struct stitch_err *err)
{
	for (const char *s = strchr(e->path, '/'); s; s = strchr(s + 1, '/')) {
		long j = find(es, e->path, (size_t)(s - e->path));
		if (j < 0 || es->v[j].type == ENT_DIR)
			continue;
		if (es->v[j].type == ENT_SYMLINK)
			return stitch_error(
			    err, STITCH_E_ARCHIVE,
			    "%s: entry '%s' would be written through the symlink '%s'", what,
			    e->raw, es->v[j].raw);
		return stitch_error(err, STITCH_E_ARCHIVE,
		                    "%s: entry '%s' lies under '%s', which is not a directory",
		                    what, e->raw, es->v[j].raw);
	}
	return 0;
}

static int check_link(const struct ents *es, size_t i, const char *what, struct stitch_err *err)
{
	const struct ent *e = &es->v[i];
	const char *slash;
	long j;

	if (e->type == ENT_SYMLINK) {
		slash = strrchr(e->path, '/');
		switch (resolve(es, e->path, slash ? (size_t)(slash - e->path) : 0, e->raw_link)) {
		case INSIDE:
			return 0;
		case ESCAPES:
			return stitch_error(
			    err, STITCH_E_ARCHIVE,
			    "%s: entry '%s' is a symlink to '%s', outside the target", what, e->raw,
			    e->raw_link);
		case LOOPS:
			return stitch_error(err, STITCH_E_ARCHIVE,
			                    "%s: entry '%s' is a symlink to '%s', which loops",
			                    what, e->raw, e->raw_link);
		}
	}
	if (e->type != ENT_HARDLINK)
		return 0;
	if (!e->link)
		return stitch_error(err, STITCH_E_ARCHIVE,
		                    "%s: entry '%s' is a hard link to '%s', outside the target",
		                    what, e->raw, e->raw_link);
	j = find(es, e->link, strlen(e->link));
	if (j < 0 || (size_t)j >= i || (es->v[j].type != ENT_FILE && es->v[j].type != ENT_HARDLINK))
		return stitch_error(
		    err, STITCH_E_ARCHIVE,
		    "%s: entry '%s' is a hard link to '%s', which is not an earlier "
		    "file of the archive",
		    what, e->raw, e->raw_link);
	return 0;
}

/* Longer than MAX_ENTRY_PATH, or with a component longer than NAME_MAX. */
static int too_long(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	if (strlen(s) > MAX_ENTRY_PATH)
		return 1;
	for (; *s; s += n + (s[n] == '/'))
		if ((n = strcspn(s, "/")) > NAME_MAX)
			return 1;
	return 0;
}

int archive_check_entries(struct ents *es, const char *what, struct stitch_err *err)
{
	int r;

	free(es->sorted);
	es->sorted = xcalloc(es->n, sizeof(*es->sorted));
	for (size_t i = 0; i < es->n; i++)
		es->sorted[i] = i;
	qsort_r(es->sorted, es->n, sizeof(*es->sorted), by_path, es);

	for (size_t k = 0; k < es->n; k++) {
		const struct ent *e = &es->v[es->sorted[k]];
		const struct ent *prev = k ? &es->v[es->sorted[k - 1]] : NULL;
		if (too_long(e->path) || too_long(e->raw_link))
			return stitch_error(err, STITCH_E_ARCHIVE,
			                    "%s: entry '%s' has too long a name", what, e->raw);
		if (!e->len && e->type != ENT_DIR)
			return stitch_error(err, STITCH_E_ARCHIVE,
			                    "%s: entry '%s' would replace the target directory",
			                    what, e->raw);
		if (prev && !strcmp(prev->path, e->path) &&
		    (prev->type != ENT_DIR || e->type != ENT_DIR))
			return stitch_error(err, STITCH_E_ARCHIVE, "%s: entry '%s' appears twice",
			                    what, e->raw);
	}
	for (size_t i = 0; i < es->n; i++)
		if ((r = check_parents(es, &es->v[i], what, err)))
			return r;
	for (size_t i = 0; i < es->n; i++)
		if ((r = check_link(es, i, what, err)))
			return r;
	return 0;
}
