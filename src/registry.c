/* The switches a root knows: <root>/known-switches/, one file per switch. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
#include "state.h"
#include "util.h"

#define RECORD_MAX 8192 /* a path and a newline */

static char *records_dir(const char *root)
{
	return xasprintf("%s/known-switches", root);
}

static char *record_path(const char *root, const char *dir)
{
	char hex[65];

	stitch_sha256_hex(dir, strlen(dir), hex);
	hex[32] = '\0';
	return xasprintf("%s/known-switches/%s", root, hex);
}

bool stitch_registry_is_switch(const char *dir)
{
	char *db = xasprintf("%s/.stitch/state.db", dir);
	bool yes = access(db, F_OK) == 0;

	free(db);
	return yes;
}

/* The path a record holds, or NULL when it cannot be read. */
static char *read_record(const char *file)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char *s = NULL;

	if (stitch_read_file(file, &b, RECORD_MAX) == 0 && b.len > 1 && b.buf[0] == '/' &&
	    b.buf[b.len - 1] == '\n') {
		b.buf[--b.len] = '\0';
		s = stitch_buf_detach(&b, NULL);
	}
	stitch_buf_release(&b);
	return s;
}

int stitch_registry_add(const char *root, const char *dir, struct stitch_err *err)
{
	char *rdir = records_dir(root), *file = record_path(root, dir), *text, *have;
	int rc = 0;

	/* Already recorded (the usual case): nothing to write. */
	have = read_record(file);
	if (have && strcmp(have, dir) == 0)
		goto out;
	text = xasprintf("%s\n", dir);
	if (stitch_mkdir_p(rdir, 0755) != 0 ||
	    stitch_write_file(file, text, strlen(text), false) != 0)
		rc = stitch_error(err, STITCH_E_IO, "cannot record the switch '%s' in '%s': %s",
		                  dir, rdir, strerror(errno));
	free(text);
out:
	free(have);
	free(file);
	free(rdir);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct strings {
	char **v;
	size_t n, cap;
};

static void push(struct strings *s, char *str)
{
	XGROW(s->v, s->cap, s->n + 1);
	s->v[s->n++] = str;
}

/* Records in <root>/known-switches, then switches in <root>/switches. */
static void gather(const char *root, struct strings *out)
{
	char *rdir = records_dir(root), *sdir = xasprintf("%s/switches", root);
	DIR *d;
	struct dirent *de;

	if ((d = opendir(rdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *file, *path;
			if (de->d_name[0] == '.')
				continue;
			file = xasprintf("%s/%s", rdir, de->d_name);
			if ((path = read_record(file)) != NULL)
				push(out, path);
			free(file);
		}
		closedir(d);
	}
	if ((d = opendir(sdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *cand, *real;
			if (de->d_name[0] == '.')
				continue;
			cand = xasprintf("%s/%s", sdir, de->d_name);
			real = stitch_registry_is_switch(cand) ? realpath(cand, NULL) : NULL;
			if (real)
				push(out, real);
			free(cand);
		}
		closedir(d);
	}
	free(sdir);
	free(rdir);
}

int stitch_registry_list(const char *root, char ***dirs, size_t *n, struct stitch_err *err)
{
	struct strings s = {0};
	size_t k = 0;

	(void)err;
	gather(root, &s);
	if (s.n)
		qsort(s.v, s.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < s.n; i++) {
		if (k && strcmp(s.v[k - 1], s.v[i]) == 0)
			free(s.v[i]);
		else
			s.v[k++] = s.v[i];
	}
	*dirs = s.v;
	*n = k;
	return 0;
}

static bool recorded(const char *root, const char *dir)
{
	char *file = record_path(root, dir), *have = read_record(file);
	bool yes = have && strcmp(have, dir) == 0;

	free(have);
	free(file);
	return yes;
}

bool stitch_registry_knows(const char *root, const char *dir)
{
	char *sdir, *real, *slash;
	bool yes;

	if (recorded(root, dir))
		return true;
	/* Directly under <root>/switches: made there by `stitch init`. */
	slash = strrchr(dir, '/');
	sdir = xasprintf("%s/switches", root);
	real = realpath(sdir, NULL);
	yes = real && slash && (size_t)(slash - dir) == strlen(real) &&
	      strncmp(dir, real, strlen(real)) == 0 && stitch_registry_is_switch(dir);
	free(real);
	free(sdir);
	return yes;
}

int stitch_registry_forget(const char *root, const char *dir, struct stitch_err *err)
{
	char *file = record_path(root, dir);
	int rc = 0;

	if (!recorded(root, dir))
		rc = stitch_error(err, STITCH_E_NOTFOUND, "no record of the switch '%s'", dir);
	else if (unlink(file) != 0)
		rc = stitch_error(err, STITCH_E_IO, "cannot forget the switch '%s': %s: %s", dir,
		                  file, strerror(errno));
	free(file);
	return rc;
}

/* dir's hidden sibling that a removal renames it to. */
static char *removed_name(const char *dir)
{
	const char *slash = strrchr(dir, '/');

	return xasprintf("%.*s/.%s.stitch-removed", (int)(slash - dir), dir, slash + 1);
}

/* A recorded switch whose directory is gone: drop the record and any leftover. */
static int forget_gone(const char *root, const char *dir, struct stitch_err *err)
{
	char *gone = removed_name(dir);
	int rc;

	if (!recorded(root, dir)) {
		free(gone);
		return stitch_error(err, STITCH_E_NOTFOUND, "no switch at '%s'", dir);
	}
	stitch_rm_rf(gone);
	free(gone);
	rc = stitch_registry_forget(root, dir, err);
	return rc;
}

int stitch_registry_remove_switch(const char *root, const char *dir, bool *was_gone,
                                  struct stitch_err *err)
{
	struct stitch_state *st = NULL;
	struct stat sb;
	char *gone;
	int rc;

	*was_gone = false;
	if (lstat(dir, &sb) != 0 && errno == ENOENT) {
		*was_gone = true;
		return forget_gone(root, dir, err);
	}
	if (!stitch_registry_is_switch(dir)) {
		rc = stitch_error(err, STITCH_E_NOTFOUND, "'%s' is not a stitch switch", dir);
		if (recorded(root, dir) && stitch_registry_forget(root, dir, NULL) == 0)
			stitch_error_cause(err, "the root's record of it is dropped; the directory "
			                        "is left as it is");
		return rc;
	}
	if (!stitch_registry_knows(root, dir))
		return stitch_error(err, STITCH_E_NOTFOUND,
		                    "the switch '%s' is not one this root knows", dir);
	/* Refuse a switch in use; hold it while it goes away. */
	if ((rc = stitch_state_open(&st, dir, STITCH_STATE_NOWAIT, err)) != 0)
		return stitch_error_wrap(err, "cannot remove the switch '%s'", dir);
	gone = removed_name(dir);
	if (stitch_rm_rf(gone) != 0 || rename(dir, gone) != 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot remove the switch '%s': %s", dir,
		                  strerror(errno));
		stitch_state_close(st);
		free(gone);
		return rc;
	}
	stitch_state_close(st);
	if (recorded(root, dir))
		rc = stitch_registry_forget(root, dir, err);
	if (rc == 0 && stitch_rm_rf(gone) != 0)
		rc = stitch_error(
		    err, STITCH_E_IO,
		    "the switch '%s' is gone, but deleting its files in '%s' failed: %s", dir, gone,
		    strerror(errno));
	free(gone);
	return rc;
}
