/*
 * The interface of a package as its dependents see it: which files count,
 * and the hash each one counts with.
 */
#include "iface.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "artifact.h"

#define MAX_TEXT (1u << 20) /* larger files count with their bytes */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool stitch_iface_member(const char *path)
{
	return !ends_with(path, ".a") && !ends_with(path, ".o");
}

bool stitch_iface_header(const char *path)
{
	return ends_with(path, ".h");
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Whitespace as the compiler tells tokens apart: a run is one space (none
 * at either end of a line), except inside string and character literals.
 * After a backslash-newline the line goes on: there a leading run stays a
 * space (it may split a token) and an empty line is kept (it ends a macro).
 */
static void normalise(const char *s, size_t len, struct stitch_buf *out)
{
	size_t start = out->len;
	char quote = 0;
	bool esc = false, space = false, cont = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\n') {
			bool spliced = i > 0 && s[i - 1] == '\\';
			if (quote && spliced) {
				stitch_buf_add(out, "\n", 1);
				continue;
			}
			if (out->len > start || cont || spliced)
				stitch_buf_add(out, "\n", 1);
			quote = 0;
			esc = space = false;
			cont = spliced;
			start = out->len;
			continue;
		}
		if (quote) {
			stitch_buf_add(out, &c, 1);
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == quote)
				quote = 0;
			continue;
		}
		if (is_space(c)) {
			space = true;
			continue;
		}
		if (space && (out->len > start || cont))
			stitch_buf_add(out, " ", 1);
		space = cont = false;
		if (c == '"' || c == '\'')
			quote = c;
		stitch_buf_add(out, &c, 1);
	}
	if (out->len > start)
		stitch_buf_add(out, "\n", 1);
}

/*
 * The preprocessor's line markers (`# 13 "path"`) stand for blank lines it
 * left out, and name the file where it was read: each becomes one empty
 * line.  (With -P it would leave them out, and with them the blank line
 * that ends a macro continued by a backslash.)
 */
static void drop_linemarkers(struct stitch_buf *pp)
{
	struct stitch_buf b = STITCH_BUF_INIT;

	for (const char *p = pp->buf, *end = pp->buf + pp->len; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		bool marker =
		    eol - p > 2 && p[0] == '#' && p[1] == ' ' && p[2] >= '0' && p[2] <= '9';
		if (!marker)
			stitch_buf_add(&b, p, (size_t)(eol - p));
		stitch_buf_add(&b, "\n", 1);
		p = nl ? nl + 1 : end;
	}
	stitch_buf_release(pp);
	*pp = b;
}

/* Does the line at p (up to end) read `#pragma once`, spaces aside? */
static bool pragma_once(const char *p, const char *end)
{
	static const char *const words[] = {"#", "pragma", "once"};

	for (size_t w = 0; w < 3; w++) {
		size_t n = strlen(words[w]);
		while (p < end && is_space(*p))
			p++;
		if ((size_t)(end - p) < n || memcmp(p, words[w], n) != 0)
			return false;
		p += n;
	}
	while (p < end && is_space(*p))
		p++;
	return p == end || (p[0] == '/' && p + 1 < end && (p[1] == '/' || p[1] == '*'));
}

int stitch_iface_header_text(const char *path, struct stitch_buf *out)
{
	char *argv[] = {"cc", "-fpreprocessed", "-dD", "-E", "-x", "c", (char *)path, NULL};
	struct stitch_buf raw = STITCH_BUF_INIT, pp = STITCH_BUF_INIT;
	int status, rc = -1;

	if (stitch_read_file(path, &raw, MAX_TEXT) != 0)
		goto out;
	status = stitch_run_capture(argv, &pp, (size_t)4 * MAX_TEXT);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		goto out;
	drop_linemarkers(&pp);
	normalise(pp.buf ? pp.buf : "", pp.len, out);
	/*
	 * The preprocessor consumes `#pragma once` in the file it reads first;
	 * a header's own counts.  A commented-out one counts too: an edit to
	 * it rebuilds dependents, which is safe.
	 */
	for (const char *p = raw.buf, *end = raw.buf + raw.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if (pragma_once(p, eol))
			stitch_buf_adds(out, "#pragma once\n");
		p = nl ? nl + 1 : end;
	}
	rc = 0;
out:
	stitch_buf_release(&raw);
	stitch_buf_release(&pp);
	return rc;
}

void stitch_iface_file_hash(const char *full, const struct stitch_file *f, const char *sw_dir,
                            char out[65])
{
	struct stitch_buf in = STITCH_BUF_INIT, rel = STITCH_BUF_INIT;
	bool text = false;

	snprintf(out, 65, "%s", f->sha256);
	if (!S_ISREG(f->mode) || f->size > MAX_TEXT)
		return;
	if (stitch_iface_header(f->path) && stitch_iface_header_text(full, &in) == 0) {
		text = true;
	} else {
		stitch_buf_release(&in);
		if (stitch_read_file(full, &in, MAX_TEXT) != 0 || memchr(in.buf, '\0', in.len)) {
			stitch_buf_release(&in);
			return;
		}
	}
	if (in.len && memmem(in.buf, in.len, sw_dir, strlen(sw_dir))) {
		stitch_replace_all(in.buf, in.len, sw_dir, STITCH_PREFIX_PLACEHOLDER, &rel);
		stitch_sha256_hex(rel.buf, rel.len, out);
	} else if (text) {
		stitch_sha256_hex(in.buf ? in.buf : "", in.len, out);
	}
	stitch_buf_release(&in);
	stitch_buf_release(&rel);
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct stitch_file *)a)->path, ((const struct stitch_file *)b)->path);
}

static void note(struct stitch_iface_change *out, char *first_cosmetic, size_t len,
                 const char *path, bool changed)
{
	if (changed) {
		if (!out->n_changed++)
			snprintf(out->first, sizeof(out->first), "%s", path);
	} else if (!out->n_cosmetic++) {
		snprintf(first_cosmetic, len, "%s", path);
	}
}

/* Do old (in the switch) and new (under base) count differently? */
static bool counts_differently(const struct stitch_file *old, const struct stitch_file *new,
                               const char *sw_dir, const char *base)
{
	char *a = xasprintf("%s/%s", sw_dir, old->path), *b = xasprintf("%s/%s", base, new->path);
	char ha[65], hb[65];

	stitch_iface_file_hash(a, old, sw_dir, ha);
	stitch_iface_file_hash(b, new, sw_dir, hb);
	free(a);
	free(b);
	return strcmp(ha, hb) != 0 || (old->mode & 0777) != (new->mode & 0777);
}

void stitch_iface_compare(struct stitch_state *st, const char *sw_dir, const char *name,
                          const struct stitch_file *files, size_t n_files, const char *base,
                          struct stitch_iface_change *out)
{
	struct stitch_file *old = NULL;
	size_t n_old = 0, i = 0, j = 0;
	char cosmetic[256] = "";

	memset(out, 0, sizeof(*out));
	if (stitch_state_files_of(st, name, &old, &n_old, NULL) != 0)
		return;
	if (n_old > 1)
		qsort(old, n_old, sizeof(*old), cmp_path);
	/* Both lists are sorted by path: one walk over their union. */
	while (i < n_old || j < n_files) {
		int c = i == n_old ? 1 : j == n_files ? -1 : strcmp(old[i].path, files[j].path);
		const char *path = c <= 0 ? old[i].path : files[j].path;
		if (stitch_iface_member(path) && c != 0)
			note(out, cosmetic, sizeof(cosmetic), path, true); /* added or removed */
		else if (stitch_iface_member(path) &&
		         (strcmp(old[i].sha256, files[j].sha256) != 0 ||
		          old[i].mode != files[j].mode))
			note(out, cosmetic, sizeof(cosmetic), path,
			     counts_differently(&old[i], &files[j], sw_dir, base));
		i += c <= 0;
		j += c >= 0;
	}
	if (!out->n_changed)
		snprintf(out->first, sizeof(out->first), "%s", cosmetic);
	stitch_files_free(old, n_old);
}
