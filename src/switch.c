/*
 * Switches: creation, opening with recovery, and journaled moves of
 * packages into and out of the prefix.
 */
#include "switch.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "artifact.h"
#include "iface.h"
#include "switch_move.h"
#include "tree.h"
#include "util.h"

int stitch_switch_init(const char *dir, struct stitch_err *err)
{
	struct stitch_state *st;
	char *meta = xasprintf("%s/.stitch/state.db", dir), *real;
	int rc;

	if (access(meta, F_OK) == 0) {
		free(meta);
		return stitch_error(err, STITCH_E_EXISTS, "there is already a switch at '%s'", dir);
	}
	free(meta);
	if ((rc = stitch_state_open(&st, dir, STITCH_STATE_CREATE, err)) != 0)
		return rc;
	real = realpath(dir, NULL);
	rc = real ? stitch_state_path_set(st, real, err) : 0;
	free(real);
	stitch_state_close(st);
	return rc;
}

/* ---- the journal: what a move is about to do, as JSON ---- */

static json_t *files_json(const struct stitch_file *files, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I}", "path", files[i].path,
		                                   "sha256", files[i].sha256, "mode",
		                                   (json_int_t)files[i].mode, "size",
		                                   (json_int_t)files[i].size));
	return a;
}

static json_t *install_record(const struct stitch_staged *sp, const struct stitch_file *old,
                              size_t n_old)
{
	const struct stitch_installed *in = &sp->info;
	json_t *deps = json_array(), *syms = json_array(), *olds = json_array();

	for (size_t i = 0; i < in->n_depends; i++)
		json_array_append_new(deps, json_string(in->depends[i]));
	for (size_t i = 0; i < sp->n_syms; i++)
		json_array_append_new(syms, json_pack("{s:s, s:s}", "symbol", sp->syms[i].symbol,
		                                      "file", sp->syms[i].file));
	for (size_t i = 0; i < n_old; i++)
		json_array_append_new(olds, json_string(old[i].path));
	return json_pack(
	    "{s:s, s:s, s:{s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:b, s:b, s:o}, s:o, s:o, s:o}", "op",
	    "install", "root", sp->root, "package", "name", in->name, "version", in->version,
	    "source_sha256", in->source_sha256, "build_hash", in->build_hash, "interface_hash",
	    in->interface_hash, "repo", in->repo, "pinned", in->pinned, "requested", in->requested,
	    "depends", deps, "files", files_json(sp->files, sp->n_files), "symbols", syms,
	    "old_files", olds);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *path_in(const struct stitch_switch *sw, const char *rel)
{
	return xasprintf("%s/%s", sw->dir, rel);
}

/* Remove now-empty directories from path's parent up to (not including) the prefix. */
static void prune_dirs(const struct stitch_switch *sw, const char *rel)
{
	char *p = xstrdup(rel);
	char *slash;

	while ((slash = strrchr(p, '/')) != NULL) {
		char *full;
		*slash = '\0';
		full = path_in(sw, p);
		if (rmdir(full) != 0) {
			free(full);
			break;
		}
		free(full);
	}
	free(p);
}

/* Set by stitch_switch_fault_after_moves; -1: never. */
static int kill_after_moves = -1;

void stitch_switch_fault_after_moves(int n)
{
	kill_after_moves = n;
}

static void maybe_die(int moved)
{
	if (moved == kill_after_moves)
		raise(SIGKILL);
}

/*
 * Carry out a journaled install: idempotent, so a second run after a crash
 * in the middle of the first finishes the job.
 */
static int apply_install(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	const char *root = jstr(rec, "root");
	json_t *files = json_object_get(rec, "files"), *olds = json_object_get(rec, "old_files"),
	       *f;
	size_t i;

	json_array_foreach(olds, i, f)
	{
		const char *rel = json_string_value(f);
		bool kept = false;
		size_t k;
		json_t *g;
		json_array_foreach(files, k, g)
		{
			if (strcmp(jstr(g, "path"), rel) == 0) {
				kept = true;
				break;
			}
		}
		if (!kept) {
			char *full = path_in(sw, rel);
			if (unlink(full) != 0 && errno != ENOENT) {
				int e = errno;
				free(full);
				return stitch_error(err, STITCH_E_IO, "cannot remove '%s/%s': %s",
				                    sw->dir, rel, strerror(e));
			}
			free(full);
			prune_dirs(sw, rel);
		}
	}
	json_array_foreach(files, i, f)
	{
		const char *rel = jstr(f, "path");
		char *src = xasprintf("%s/%s", root, rel), *dst = path_in(sw, rel);
		char *slash = strrchr(dst, '/');
		struct stat st;
		int rc = 0;

		if (lstat(src, &st) == 0) {
			*slash = '\0';
			stitch_mkdir_p(dst, 0755);
			*slash = '/';
			if (rename(src, dst) != 0)
				rc = stitch_error(err, STITCH_E_IO, "cannot move '%s' to '%s': %s",
				                  src, dst, strerror(errno));
			else
				maybe_die((int)i + 1);
		} else if (lstat(dst, &st) != 0) {
			rc = stitch_error(
			    err, STITCH_E_IO,
			    "cannot finish installing '%s': '%s' is neither staged nor installed",
			    jstr(json_object_get(rec, "package"), "name"), rel);
		}
		free(src);
		free(dst);
		if (rc)
			return rc;
	}
	return 0;
}

static int record_install(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	json_t *p = json_object_get(rec, "package"), *files = json_object_get(rec, "files");
	json_t *syms = json_object_get(rec, "symbols"), *deps = json_object_get(p, "depends"), *f;
	struct stitch_installed in = {0};
	struct stitch_file *fv = xcalloc(json_array_size(files) + 1, sizeof(*fv));
	struct stitch_symbol *sv = xcalloc(json_array_size(syms) + 1, sizeof(*sv));
	char **dv = xcalloc(json_array_size(deps) + 1, sizeof(char *));
	size_t i;
	int rc;

	in.name = (char *)jstr(p, "name");
	in.version = (char *)jstr(p, "version");
	in.source_sha256 = (char *)jstr(p, "source_sha256");
	in.build_hash = (char *)jstr(p, "build_hash");
	in.interface_hash = (char *)jstr(p, "interface_hash");
	in.repo = (char *)jstr(p, "repo");
	in.pinned = json_is_true(json_object_get(p, "pinned"));
	in.requested = json_is_true(json_object_get(p, "requested"));
	json_array_foreach(deps, i, f) dv[i] = (char *)json_string_value(f);
	in.depends = dv;
	in.n_depends = json_array_size(deps);
	json_array_foreach(files, i, f)
	{
		fv[i].path = (char *)jstr(f, "path");
		snprintf(fv[i].sha256, sizeof(fv[i].sha256), "%s", jstr(f, "sha256"));
		fv[i].mode = (uint32_t)json_integer_value(json_object_get(f, "mode"));
		fv[i].size = (uint64_t)json_integer_value(json_object_get(f, "size"));
	}
	json_array_foreach(syms, i, f)
	{
		sv[i].symbol = (char *)jstr(f, "symbol");
		sv[i].file = (char *)jstr(f, "file");
	}
	rc = stitch_state_put_package(sw->st, &in, fv, json_array_size(files), sv,
	                              json_array_size(syms), err);
	free(fv);
	free(sv);
	free(dv);
	return rc;
}

/* The packages of a remove record: {"packages": [{"name", "files"}]}, or the older {"name", "files"}. */
static json_t *removed_packages(json_t *rec)
{
	json_t *pkgs = json_object_get(rec, "packages");

	if (json_is_array(pkgs))
		return json_incref(pkgs);
	return json_pack("[{s:O?, s:O?}]", "name", json_object_get(rec, "name"), "files",
	                 json_object_get(rec, "files"));
}

static int unlink_installed(struct stitch_switch *sw, const char *rel, struct stitch_err *err)
{
	char *full = path_in(sw, rel);
	int rc = 0;

	if (unlink(full) != 0 && errno != ENOENT)
		rc = stitch_error(err, STITCH_E_IO, "cannot remove '%s/%s': %s", sw->dir, rel,
		                  strerror(errno));
	free(full);
	if (rc == 0)
		prune_dirs(sw, rel);
	return rc;
}

/* Delete the files of every package of the record: idempotent, as apply_install is. */
static int apply_remove(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	json_t *pkgs = removed_packages(rec), *p, *f;
	size_t i, k;
	int rc = 0, moved = 0;

	json_array_foreach(pkgs, i, p)
	{
		json_array_foreach(json_object_get(p, "files"), k, f)
		{
			if ((rc = unlink_installed(sw, json_string_value(f), err)) != 0)
				break;
			maybe_die(++moved);
		}
		if (rc)
			break;
	}
	json_decref(pkgs);
	return rc;
}

static int record_remove(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	json_t *pkgs = removed_packages(rec), *p;
	size_t i;
	int rc = 0;

	json_array_foreach(pkgs, i, p)
	{
		rc = stitch_state_remove_package(sw->st, jstr(p, "name"), err);
		if (rc == STITCH_E_NOTFOUND)
			rc = 0;
		if (rc)
			break;
	}
	json_decref(pkgs);
	return rc;
}

/* The history entry a record carries, appended with the record's own changes. */
static int record_history(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	json_t *h = json_object_get(rec, "history"), *chs = json_object_get(h, "changes"), *c;
	struct stitch_history hist = {0};
	size_t i;
	int rc;

	if (!json_is_object(h))
		return 0;
	hist.time = json_integer_value(json_object_get(h, "time"));
	hist.command = (char *)jstr(h, "command");
	hist.summary = (char *)jstr(h, "summary");
	hist.changes = xcalloc(json_array_size(chs) + 1, sizeof(*hist.changes));
	json_array_foreach(chs, i, c)
	{
		enum stitch_change_action a = STITCH_CHANGE_REMOVE;
		for (int k = 0; k < STITCH_CHANGE__COUNT; k++)
			if (jstr(c, "action") &&
			    !strcmp(jstr(c, "action"), stitch_change_action_name(k)))
				a = (enum stitch_change_action)k;
		hist.changes[i] = (struct stitch_change){a, (char *)jstr(c, "name"),
		                                         (char *)jstr(c, "old_version"),
		                                         (char *)jstr(c, "new_version")};
	}
	hist.n_changes = json_array_size(chs);
	rc = stitch_state_history_append(sw->st, &hist, NULL, err);
	free(hist.changes);
	return rc;
}

enum journal_op { OP_INSTALL, OP_REMOVE, OP_RELOCATE, OP_UNKNOWN };

static enum journal_op op_of(json_t *rec)
{
	const char *op = jstr(rec, "op");

	if (!op)
		return OP_UNKNOWN;
	return !strcmp(op, "install")    ? OP_INSTALL
	       : !strcmp(op, "remove")   ? OP_REMOVE
	       : !strcmp(op, "relocate") ? OP_RELOCATE
	                                 : OP_UNKNOWN;
}

static int apply_op(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	switch (op_of(rec)) {
	case OP_INSTALL:
		return apply_install(sw, rec, err);
	case OP_REMOVE:
		return apply_remove(sw, rec, err);
	case OP_RELOCATE:
		return stitch_switch_move_apply(sw, rec, maybe_die, err);
	default:
		return stitch_error(err, STITCH_E_STATE, "unknown operation in the journal of '%s'",
		                    sw->dir);
	}
}

static int record_op(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	switch (op_of(rec)) {
	case OP_INSTALL:
		return record_install(sw, rec, err);
	case OP_REMOVE:
		return record_remove(sw, rec, err);
	default:
		return stitch_switch_move_record(sw, rec, err);
	}
}

/* Do what rec says, then record it and clear the journal in one transaction. */
static int finish(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	bool install = op_of(rec) == OP_INSTALL;
	int rc;

	if ((rc = apply_op(sw, rec, err)) != 0)
		return rc;
	if ((rc = stitch_state_begin(sw->st, err)) != 0)
		return rc;
	rc = record_op(sw, rec, err);
	if (rc == 0)
		rc = record_history(sw, rec, err);
	if (rc == 0)
		rc = stitch_state_journal_clear(sw->st, err);
	if (rc == 0)
		rc = stitch_state_commit(sw->st, err);
	else
		stitch_state_rollback(sw->st, NULL);
	if (rc == 0 && install)
		stitch_rm_rf(jstr(rec, "root"));
	return rc;
}

static int journal_and_finish(struct stitch_switch *sw, json_t *rec, struct stitch_err *err)
{
	char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = stitch_state_journal_put(sw->st, text, err);

	free(text);
	if (rc == 0)
		rc = finish(sw, rec, err);
	return rc;
}

/* "removal of a, b and c" */
static char *removal_what(json_t *rec)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	json_t *pkgs = removed_packages(rec), *p;
	size_t i, n = json_array_size(pkgs);

	stitch_buf_adds(&b, "removal of ");
	json_array_foreach(pkgs, i, p)
	{
		if (i)
			stitch_buf_adds(&b, i + 1 == n ? " and " : ", ");
		stitch_buf_adds(&b, jstr(p, "name") ? jstr(p, "name") : "?");
	}
	json_decref(pkgs);
	return stitch_buf_detach(&b, NULL);
}

static int recover(struct stitch_switch *sw, struct stitch_err *err)
{
	char *text = NULL;
	json_error_t jerr;
	json_t *rec;
	int rc;

	if ((rc = stitch_state_journal_get(sw->st, &text, err)) != 0 || !text)
		return rc;
	rec = json_loads(text, 0, &jerr);
	free(text);
	if (!rec)
		return stitch_error(err, STITCH_E_STATE, "the journal of '%s' is unreadable: %s",
		                    sw->dir, jerr.text);
	if (op_of(rec) == OP_INSTALL)
		sw->recovered_what =
		    xasprintf("install of %s %s", jstr(json_object_get(rec, "package"), "name"),
		              jstr(json_object_get(rec, "package"), "version"));
	else if (op_of(rec) == OP_RELOCATE)
		sw->recovered_what = xasprintf("relocation from '%s'", jstr(rec, "from"));
	else
		sw->recovered_what = removal_what(rec);
	rc = finish(sw, rec, err);
	if (rc == 0)
		sw->recovered = true;
	else
		stitch_error_wrap(err, "cannot finish the interrupted %s", sw->recovered_what);
	json_decref(rec);
	return rc;
}

/*
 * Compare where the switch is with where it was recorded: record it when
 * nothing is; relocate a moved or copied switch when writable; only note
 * it (sw->moved_from) when read-only.
 */
static int check_path(struct stitch_switch *sw, bool readonly, struct stitch_err *err)
{
	char *recorded = NULL;
	json_t *rec;
	int rc;

	if ((rc = stitch_state_path_get(sw->st, &recorded, err)) != 0)
		return rc;
	if (!recorded || !strcmp(recorded, sw->dir)) {
		rc = recorded || readonly ? 0 : stitch_state_path_set(sw->st, sw->dir, err);
		free(recorded);
		return rc;
	}
	sw->moved_from = recorded;
	if (readonly)
		return 0;
	if (!(rec = stitch_switch_move_plan(sw, recorded, err)))
		return err ? err->code : STITCH_E_STATE;
	sw->n_relocated = json_array_size(json_object_get(rec, "files"));
	rc = journal_and_finish(sw, rec, err);
	json_decref(rec);
	if (rc)
		return stitch_error_wrap(err, "cannot relocate the switch moved from '%s' to '%s'",
		                         recorded, sw->dir);
	sw->relocated = true;
	return 0;
}

int stitch_switch_open(struct stitch_switch **out, const char *dir, bool readonly,
                       void (*on_wait)(void *data, const char *dir), void *data,
                       struct stitch_err *err)
{
	struct stitch_state_opts opts = {readonly ? STITCH_STATE_READONLY : 0, on_wait, data};
	struct stitch_switch *sw = xcalloc(1, sizeof(*sw));
	int rc;

	*out = NULL;
	sw->dir = realpath(dir, NULL);
	if (!sw->dir) {
		free(sw);
		return stitch_error(err, STITCH_E_NOTFOUND, "no switch at '%s'", dir);
	}
	if ((rc = stitch_state_open_ex(&sw->st, sw->dir, &opts, err)) != 0 ||
	    (!readonly && (rc = recover(sw, err)) != 0) ||
	    (rc = check_path(sw, readonly, err)) != 0) {
		stitch_switch_close(sw);
		return rc;
	}
	if (readonly) {
		/* A reader must not see a half-done operation: finish it first. */
		char *pending = NULL;
		if ((rc = stitch_state_journal_get(sw->st, &pending, err)) != 0) {
			stitch_switch_close(sw);
			return rc;
		}
		if (pending) {
			struct stitch_switch *w;
			free(pending);
			stitch_state_close(sw->st);
			sw->st = NULL;
			if ((rc = stitch_switch_open(&w, dir, false, on_wait, data, err)) != 0) {
				stitch_switch_close(sw);
				return rc;
			}
			sw->recovered = w->recovered;
			sw->recovered_what = w->recovered_what;
			w->recovered_what = NULL;
			sw->relocated = w->relocated;
			sw->n_relocated = w->n_relocated;
			free(sw->moved_from);
			sw->moved_from = w->moved_from;
			w->moved_from = NULL;
			stitch_switch_close(w);
			if ((rc = stitch_state_open_ex(&sw->st, sw->dir, &opts, err)) != 0) {
				stitch_switch_close(sw);
				return rc;
			}
		}
	}
	*out = sw;
	return 0;
}

void stitch_switch_close(struct stitch_switch *sw)
{
	if (!sw)
		return;
	stitch_state_close(sw->st);
	free(sw->dir);
	free(sw->recovered_what);
	free(sw->moved_from);
	free(sw);
}

int stitch_switch_commit_install(struct stitch_switch *sw, const struct stitch_staged *sp,
                                 struct stitch_err *err)
{
	struct stitch_file *old = NULL;
	size_t n_old = 0;
	json_t *rec;
	int rc;

	for (size_t i = 0; i < sp->n_files; i++) {
		char *owner = NULL;
		if ((rc = stitch_state_owner_of(sw->st, sp->files[i].path, &owner, err)) != 0)
			return rc;
		if (owner && strcmp(owner, sp->info.name) != 0) {
			rc = stitch_error(
			    err, STITCH_E_CONFLICT,
			    "cannot install '%s %s': '%s' belongs to the installed package '%s'",
			    sp->info.name, sp->info.version, sp->files[i].path, owner);
			free(owner);
			return rc;
		}
		free(owner);
	}
	if ((rc = stitch_state_files_of(sw->st, sp->info.name, &old, &n_old, err)) != 0)
		return rc;
	rec = install_record(sp, old, n_old);
	stitch_files_free(old, n_old);
	rc = journal_and_finish(sw, rec, err);
	json_decref(rec);
	return rc;
}

static json_t *history_json(const struct stitch_history *h)
{
	json_t *chs = json_array();

	for (size_t i = 0; i < h->n_changes; i++) {
		const struct stitch_change *c = &h->changes[i];
		json_array_append_new(chs, json_pack("{s:s, s:s, s:s?, s:s?}", "action",
		                                     stitch_change_action_name(c->action), "name",
		                                     c->name, "old_version", c->old_version,
		                                     "new_version", c->new_version));
	}
	return json_pack("{s:I, s:s, s:s, s:o}", "time",
	                 (json_int_t)(h->time ? h->time : (int64_t)time(NULL)), "command",
	                 h->command ? h->command : "remove", "summary",
	                 h->summary ? h->summary : "remove", "changes", chs);
}

int stitch_switch_commit_remove(struct stitch_switch *sw, const char *const *names, size_t n,
                                const struct stitch_history *h, struct stitch_err *err)
{
	json_t *pkgs = json_array(), *rec;
	int rc = 0;

	for (size_t k = 0; k < n && rc == 0; k++) {
		struct stitch_file *files = NULL;
		size_t nf = 0;
		json_t *paths;
		if ((rc = stitch_state_files_of(sw->st, names[k], &files, &nf, err)) != 0)
			break;
		paths = json_array();
		for (size_t i = 0; i < nf; i++)
			json_array_append_new(paths, json_string(files[i].path));
		stitch_files_free(files, nf);
		json_array_append_new(pkgs,
		                      json_pack("{s:s, s:o}", "name", names[k], "files", paths));
	}
	if (rc) {
		json_decref(pkgs);
		return rc;
	}
	rec = json_pack("{s:s, s:o}", "op", "remove", "packages", pkgs);
	if (h)
		json_object_set_new(rec, "history", history_json(h));
	rc = journal_and_finish(sw, rec, err);
	json_decref(rec);
	return rc;
}

/* ---- doctor ---- */

struct doctor {
	const struct stitch_switch *sw;
	struct stitch_doctor_issue *v;
	size_t n, cap, checked;
};

/* What is wrong with an installed file, or NULL. */
static const char *file_problem(const struct stitch_switch *sw, const struct stitch_file *f)
{
	char *full = path_in(sw, f->path), sum[65];
	const char *what = NULL;
	struct stat st;

	if (lstat(full, &st) != 0) {
		what = "missing";
	} else if ((st.st_mode & S_IFMT) != (f->mode & S_IFMT)) {
		what = "not the recorded kind of file";
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t len = readlink(full, target, sizeof(target) - 1);
		target[len > 0 ? len : 0] = '\0';
		stitch_sha256_hex(target, strlen(target), sum);
		if (strcmp(sum, f->sha256) != 0)
			what = "modified";
	} else if (stitch_sha256_file(full, sum) != 0 || strcmp(sum, f->sha256) != 0) {
		what = "modified";
	} else if ((st.st_mode & 07777) != (f->mode & 07777)) {
		what = "mode changed";
	}
	free(full);
	return what;
}

static int doctor_file(const struct stitch_file *f, void *data, struct stitch_err *err)
{
	struct doctor *d = data;
	const char *what = file_problem(d->sw, f);

	(void)err;
	d->checked++;
	if (what) {
		XGROW(d->v, d->cap, d->n + 1);
		d->v[d->n].package = xstrdup(f->package);
		d->v[d->n].path = xstrdup(f->path);
		d->v[d->n].what = what;
		d->n++;
	}
	return 0;
}

int stitch_switch_doctor(struct stitch_switch *sw, struct stitch_doctor_issue **out, size_t *n,
                         size_t *n_checked, struct stitch_err *err)
{
	struct doctor d = {sw, NULL, 0, 0, 0};
	int rc = stitch_state_each_file(sw->st, doctor_file, &d, err);

	*out = d.v;
	*n = d.n;
	*n_checked = d.checked;
	return rc;
}

void stitch_doctor_issues_free(struct stitch_doctor_issue *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].package);
		free(v[i].path);
	}
	free(v);
}
