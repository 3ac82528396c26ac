/*
 * Collecting a staged install: the files a package's install step put
 * under the staging directory, checked (links stay inside the switch),
 * sorted, with the symbols its archives define and the hash of the
 * interface dependents compile against.
 */
#include "switch.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iface.h"
#include "tree.h"
#include "util.h"

struct collect {
	const struct stitch_switch *sw;
	const char *base; /* staging/<switch dir> */
	size_t base_len;
	const char *staging;
	const char *label;
	struct stitch_file *files;
	size_t n, cap;
	struct stitch_err *err;
};

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct stitch_file *)a)->path, ((const struct stitch_file *)b)->path);
}

/*
 * An installed link stays inside the switch: relative, or absolute under
 * the switch's own directory, and never out through "..".
 */
static int check_link(const struct collect *c, const char *rel, const char *target)
{
	size_t len = strlen(c->sw->dir);
	bool escapes;

	if (!strncmp(target, c->sw->dir, len) && (target[len] == '/' || !target[len]))
		/* rel "." puts the walk at the switch's top */
		escapes =
		    stitch_tree_link_escapes(c->base, ".", target + len + (target[len] == '/'));
	else
		escapes = stitch_tree_link_escapes(c->base, rel, target);
	if (!escapes)
		return 0;
	return stitch_error(c->err, STITCH_E_BUILD,
	                    "install of '%s' made a symbolic link '%s' to '%s', outside the "
	                    "switch; refusing to install it",
	                    c->label, rel, target);
}

static int walk(struct collect *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return stitch_error(c->err, STITCH_E_IO, "cannot read '%s': %s", dir,
		                    strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *full;
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		full = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(full, &st) != 0) {
			rc = stitch_error(c->err, STITCH_E_IO, "cannot read '%s': %s", full,
			                  strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(c, full);
		} else if (strncmp(full, c->base, c->base_len) != 0 || full[c->base_len] != '/') {
			rc = stitch_error(
			    c->err, STITCH_E_BUILD,
			    "install of '%s' wrote '%s' outside the switch (DESTDIR=%s, PREFIX=%s)",
			    c->label, full + strlen(c->staging), c->staging, c->sw->dir);
		} else if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
			rc = stitch_error(c->err, STITCH_E_BUILD,
			                  "install of '%s' made a special file '%s'", c->label,
			                  full + c->base_len + 1);
		} else if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID))) {
			rc = stitch_error(c->err, STITCH_E_BUILD,
			                  "install of '%s' made a set-id file '%s' (mode %04o)",
			                  c->label, full + c->base_len + 1,
			                  (unsigned)st.st_mode & 07777);
		} else {
			struct stitch_file *f;
			XGROW(c->files, c->cap, c->n + 1);
			f = &c->files[c->n++];
			memset(f, 0, sizeof(*f));
			f->path = xstrdup(full + c->base_len + 1);
			f->mode = (uint32_t)st.st_mode;
			f->size = (uint64_t)st.st_size;
			if (S_ISLNK(st.st_mode)) {
				char target[4096];
				ssize_t n = readlink(full, target, sizeof(target) - 1);
				target[n > 0 ? n : 0] = '\0';
				stitch_sha256_hex(target, strlen(target), f->sha256);
				rc = check_link(c, f->path, target);
			} else if (stitch_sha256_file(full, f->sha256) != 0) {
				rc = stitch_error(c->err, STITCH_E_IO, "cannot read '%s': %s", full,
				                  strerror(errno));
			}
		}
		free(full);
	}
	closedir(d);
	return rc;
}

static int cmp_symbol(const void *a, const void *b)
{
	return strcmp(((const struct stitch_symbol *)a)->symbol,
	              ((const struct stitch_symbol *)b)->symbol);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void add_symbol(struct stitch_staged *out, size_t *cap, const char *sym, size_t len,
                       const char *rel)
{
	XGROW(out->syms, *cap, out->n_syms + 1);
	out->syms[out->n_syms].symbol = xstrndup(sym, len);
	out->syms[out->n_syms].package = NULL;
	out->syms[out->n_syms].file = xstrdup(rel);
	out->n_syms++;
}

/*
 * Global symbols defined by a static archive, from the symbol index that
 * `ar s` writes as its first member ("/" or "/SYM64/": a big-endian count,
 * that many member offsets, then the names): no process to start.  An
 * archive without an index falls back to nm.
 */
static void archive_symbols(const char *full, const char *rel, struct stitch_staged *out,
                            size_t *cap)
{
	char *argv[] = {"nm", "-g", "--defined-only", "-P", (char *)full, NULL};
	struct stitch_buf b = STITCH_BUF_INIT;
	char hdr[60], *line, *save = NULL;
	size_t first = out->n_syms;
	FILE *f = fopen(full, "rbe");

	if (f && fread(hdr, 1, 8, f) == 8 && !memcmp(hdr, "!<arch>\n", 8) &&
	    fread(hdr, 1, 60, f) == 60 &&
	    (!memcmp(hdr, "/               ", 16) || !memcmp(hdr, "/SYM64/         ", 16))) {
		int w = hdr[1] == 'S' ? 8 : 4;
		long size = strtol(hdr + 48, NULL, 10);
		if (size > 0 && size < (64L << 20)) {
			unsigned char *m = xmalloc((size_t)size);
			if (fread(m, 1, (size_t)size, f) == (size_t)size) {
				uint64_t n = 0;
				for (int i = 0; i < w; i++)
					n = (n << 8) | m[i];
				if ((uint64_t)w * (n + 1) <= (uint64_t)size) {
					const char *p = (const char *)m + w * (n + 1),
					           *end = (const char *)m + size;
					for (uint64_t i = 0; i < n && p < end; i++) {
						size_t len = strnlen(p, (size_t)(end - p));
						add_symbol(out, cap, p, len, rel);
						p += len + 1;
					}
				}
			}
			free(m);
		}
		fclose(f);
		goto dedupe;
	}
	if (f)
		fclose(f);
	if (stitch_run_capture(argv, &b, (size_t)64 << 20) != 0) {
		stitch_buf_release(&b);
		return;
	}
	for (line = strtok_r(b.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (!sp || sp == line || line[strlen(line) - 1] == ':')
			continue;
		add_symbol(out, cap, line, (size_t)(sp - line), rel);
	}
	stitch_buf_release(&b);
dedupe:
	/* A name defined in two members of one archive is one row. */
	if (out->n_syms - first > 1)
		qsort(out->syms + first, out->n_syms - first, sizeof(*out->syms), cmp_symbol);
	{
		size_t w = first;
		for (size_t i = first; i < out->n_syms; i++) {
			if (w > first && !strcmp(out->syms[w - 1].symbol, out->syms[i].symbol)) {
				free(out->syms[i].symbol);
				free(out->syms[i].file);
				continue;
			}
			out->syms[w++] = out->syms[i];
		}
		out->n_syms = w;
	}
}

/*
 * Do the staged files (sorted by path) give dependents what prev's
 * installed files gave them: the same interface members, each with the
 * same contents and mode?
 */
static bool same_interface(struct stitch_state *st, const struct stitch_installed *prev,
                           const struct stitch_file *files, size_t n)
{
	struct stitch_file *old = NULL;
	size_t n_old = 0, i = 0, j = 0;
	bool same = true;

	if (!prev->interface_hash || strlen(prev->interface_hash) != 64 ||
	    stitch_state_files_of(st, prev->name, &old, &n_old, NULL) != 0)
		return false;
	if (n_old > 1)
		qsort(old, n_old, sizeof(*old), cmp_file);
	for (;;) {
		while (i < n_old && !stitch_iface_member(old[i].path))
			i++;
		while (j < n && !stitch_iface_member(files[j].path))
			j++;
		if (i == n_old || j == n) {
			same = i == n_old && j == n;
			break;
		}
		if (strcmp(old[i].path, files[j].path) != 0 ||
		    strcmp(old[i].sha256, files[j].sha256) != 0 || old[i].mode != files[j].mode) {
			same = false;
			break;
		}
		i++;
		j++;
	}
	stitch_files_free(old, n_old);
	return same;
}

int stitch_switch_collect(const struct stitch_switch *sw, const char *staging, const char *label,
                          const struct stitch_installed *prev, struct stitch_staged *out,
                          char interface_hash[65], char **root, struct stitch_err *err)
{
	char *base = xasprintf("%s%s", staging, sw->dir);
	struct collect c = {sw, base, strlen(base), staging, label, NULL, 0, 0, err};
	struct stitch_buf iface = STITCH_BUF_INIT;
	size_t sym_cap = 0;
	bool reuse;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = walk(&c, staging)) != 0) {
		stitch_files_free(c.files, c.n);
		free(base);
		return rc;
	}
	if (c.n > 1)
		qsort(c.files, c.n, sizeof(*c.files), cmp_file);
	out->files = c.files;
	out->n_files = c.n;
	/* The same files as prev's give its interface hash: no header is preprocessed again. */
	reuse = prev && same_interface(sw->st, prev, c.files, c.n);
	if (reuse)
		snprintf(interface_hash, 65, "%s", prev->interface_hash);
	/* What dependents compile against (iface.h): everything but archives and objects. */
	for (size_t i = 0; i < c.n; i++) {
		const struct stitch_file *f = &c.files[i];
		char *full, sum[65];
		if (!stitch_iface_member(f->path) || reuse) {
			if (ends_with(f->path, ".a") && S_ISREG(f->mode)) {
				char *full = xasprintf("%s/%s", base, f->path);
				archive_symbols(full, f->path, out, &sym_cap);
				free(full);
			}
			continue;
		}
		full = xasprintf("%s/%s", base, f->path);
		stitch_iface_file_hash(full, f, sw->dir, sum);
		free(full);
		stitch_buf_addf(&iface, "%s %s %o\n", f->path, sum, (unsigned)(f->mode & 0777));
	}
	if (!reuse)
		stitch_sha256_hex(iface.buf, iface.len, interface_hash);
	stitch_buf_release(&iface);
	*root = base;
	return 0;
}

void stitch_staged_release(struct stitch_staged *sp)
{
	stitch_files_free(sp->files, sp->n_files);
	stitch_symbols_free(sp->syms, sp->n_syms);
	memset(sp, 0, sizeof(*sp));
}
