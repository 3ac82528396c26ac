/*
 * Installed packages, their depends, files and symbols (state.h), on the
 * database of state.c.
 */
#include "state.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"
#include "util.h"

/* ---- installed packages ---- */

static int put_files(struct stitch_state *st, const char *pkg, const struct stitch_file *files,
                     size_t n, struct stitch_err *err)
{
	sqlite3_stmt *s = state_stmt(st, S_FILE_INS, err);

	for (size_t i = 0; s && i < n; i++) {
		const char *path = files[i].path, *slash;
		int rc;

		if (!path || !*path || path[0] == '/')
			return stitch_error(
			    err, STITCH_E_USAGE,
			    "cannot record package '%s': file path '%s' is not relative", pkg,
			    path ? path : "(null)");
		slash = strrchr(path, '/');
		sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, slash ? slash + 1 : path, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, pkg, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, files[i].sha256, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, files[i].mode);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)files[i].size);
		rc = state_step_done(s);
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
			char *owner = NULL;
			if (stitch_state_owner_of(st, path, &owner, err))
				return err ? err->code : STITCH_E_STATE;
			if (owner && strcmp(owner, pkg) != 0)
				rc = stitch_error(
				    err, STITCH_E_CONFLICT,
				    "cannot record package '%s': file '%s' is owned by '%s'", pkg,
				    path, owner);
			else
				rc = stitch_error(
				    err, STITCH_E_USAGE,
				    "cannot record package '%s': file '%s' is listed twice", pkg,
				    path);
			free(owner);
			return rc;
		}
		if (rc != SQLITE_OK)
			return state_db_fail(st, err, "record file '%s' of package '%s'", path,
			                     pkg);
	}
	return s ? 0 : STITCH_E_STATE;
}

static int put_symbols(struct stitch_state *st, const char *pkg, const struct stitch_symbol *syms,
                       size_t n, struct stitch_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char *owner = NULL;
		sqlite3_stmt *s;
		bool ours;
		int rc;

		if (!syms[i].symbol || !syms[i].file)
			return stitch_error(
			    err, STITCH_E_USAGE,
			    "cannot record package '%s': symbol %zu has no name or file", pkg, i);
		if ((rc = stitch_state_owner_of(st, syms[i].file, &owner, err)))
			return rc;
		ours = owner && strcmp(owner, pkg) == 0;
		free(owner);
		if (!ours)
			return stitch_error(err, STITCH_E_USAGE,
			                    "cannot record package '%s': symbol '%s' is in '%s', "
			                    "which is not one of its files",
			                    pkg, syms[i].symbol, syms[i].file);
		if (!(s = state_stmt(st, S_SYM_INS, err)))
			return STITCH_E_STATE;
		sqlite3_bind_text(s, 1, syms[i].symbol, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, pkg, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, syms[i].file, -1, SQLITE_STATIC);
		if (state_step_done(s) != SQLITE_OK)
			return state_db_fail(st, err, "record symbol '%s' of package '%s'",
			                     syms[i].symbol, pkg);
	}
	return 0;
}

static int put_row(struct stitch_state *st, const struct stitch_installed *p,
                   struct stitch_err *err)
{
	sqlite3_stmt *s;

	if (!(s = state_stmt(st, S_PKG_DEL, err)))
		return STITCH_E_STATE;
	sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
	if (state_step_done(s) != SQLITE_OK)
		return state_db_fail(st, err, "replace package '%s'", p->name);
	if (!(s = state_stmt(st, S_PKG_INS, err)))
		return STITCH_E_STATE;
	state_bind_text(s, 1, p->name);
	state_bind_text(s, 2, p->version);
	state_bind_text(s, 3, p->source_sha256);
	state_bind_text(s, 4, p->build_hash);
	state_bind_text(s, 5, p->interface_hash);
	state_bind_text(s, 6, p->repo);
	sqlite3_bind_int(s, 7, p->pinned);
	sqlite3_bind_int(s, 8, p->requested);
	sqlite3_bind_int64(s, 9, state_now_or(p->installed_at));
	if (state_step_done(s) != SQLITE_OK)
		return state_db_fail(st, err, "record package '%s'", p->name);
	for (size_t i = 0; i < p->n_depends; i++) {
		if (!(s = state_stmt(st, S_DEP_INS, err)))
			return STITCH_E_STATE;
		state_bind_text(s, 1, p->name);
		state_bind_text(s, 2, p->depends[i]);
		if (state_step_done(s) != SQLITE_OK)
			return state_db_fail(st, err, "record the depends of package '%s'",
			                     p->name);
	}
	return 0;
}

int stitch_state_put_package(struct stitch_state *st, const struct stitch_installed *pkg,
                             const struct stitch_file *files, size_t n_files,
                             const struct stitch_symbol *syms, size_t n_syms,
                             struct stitch_err *err)
{
	int rc;

	if (!pkg->name || !pkg->version)
		return stitch_error(err, STITCH_E_USAGE,
		                    "cannot record a package without a name and a version");
	if ((rc = state_sp_begin(st, "record a package", err)))
		return rc;
	rc = put_row(st, pkg, err);
	if (!rc)
		rc = put_files(st, pkg->name, files, n_files, err);
	if (!rc)
		rc = put_symbols(st, pkg->name, syms, n_syms, err);
	return state_sp_end(st, rc, "record a package", err);
}

int stitch_state_remove_package(struct stitch_state *st, const char *name, struct stitch_err *err)
{
	return state_change_by_name(st, S_PKG_DEL, "package", name, 0, "remove package", err);
}

int stitch_state_set_requested(struct stitch_state *st, const char *name, bool requested,
                               struct stitch_err *err)
{
	return state_change_by_name(st, S_PKG_REQ, "package", name, requested, "mark package", err);
}

static const struct state_col string_cols[] = {{STATE_COL_STR, 0}};

static void release_strings(void *v, size_t n)
{
	stitch_strings_free(v, n);
}

static const struct state_rows_kind string_rows =
    STATE_ROWS_KIND(char *, string_cols, release_strings);

static const struct state_col pkg_cols[] = {
    STATE_COL(STR, struct stitch_installed, name),
    STATE_COL(STR, struct stitch_installed, version),
    STATE_COL(STR, struct stitch_installed, source_sha256),
    STATE_COL(STR, struct stitch_installed, build_hash),
    STATE_COL(STR, struct stitch_installed, interface_hash),
    STATE_COL(STR, struct stitch_installed, repo),
    STATE_COL(BOOL, struct stitch_installed, pinned),
    STATE_COL(BOOL, struct stitch_installed, requested),
    STATE_COL(I64, struct stitch_installed, installed_at),
};

static void release_pkgs(void *v, size_t n)
{
	stitch_installed_free(v, n);
}

static const struct state_rows_kind pkg_rows =
    STATE_ROWS_KIND(struct stitch_installed, pkg_cols, release_pkgs);

/* The packages of query id (keyed by name unless NULL), with their depends. */
static int query_pkgs(struct stitch_state *st, enum stmt_id id, const char *name,
                      struct stitch_installed **out, size_t *n, struct stitch_err *err)
{
	struct state_arg arg = {name, 0};
	struct stitch_installed *p;
	int rc;

	if (name)
		rc = state_query_rows(st, id, &arg, 1, &pkg_rows, &p, n, "read package", name, err);
	else
		rc =
		    state_query_rows(st, id, NULL, 0, &pkg_rows, &p, n, "list packages", NULL, err);
	for (size_t i = 0; !rc && i < *n; i++) {
		arg.text = p[i].name;
		rc = state_query_rows(st, S_DEP_OF, &arg, 1, &string_rows, &p[i].depends,
		                      &p[i].n_depends, "read the depends of a package", NULL, err);
	}
	if (rc) {
		stitch_installed_free(p, *n);
		p = NULL;
		*n = 0;
	}
	*out = p;
	return rc;
}

int stitch_state_get_package(struct stitch_state *st, const char *name,
                             struct stitch_installed *out, struct stitch_err *err)
{
	struct stitch_installed *p;
	size_t n;
	int rc = query_pkgs(st, S_PKG_GET, name, &p, &n, err);

	memset(out, 0, sizeof(*out));
	if (!rc && n == 0)
		rc = stitch_error(err, STITCH_E_NOTFOUND,
		                  "package '%s' is not installed in switch '%s'", name,
		                  st->switch_dir);
	if (!rc) {
		*out = p[0]; /* the name is the key: one row at most */
		n = 0;
	}
	stitch_installed_free(p, n);
	return rc;
}

int stitch_state_list_packages(struct stitch_state *st, struct stitch_installed **out, size_t *n,
                               struct stitch_err *err)
{
	return query_pkgs(st, S_PKG_LIST, NULL, out, n, err);
}

int stitch_state_dependents_of(struct stitch_state *st, const char *name, char ***out, size_t *n,
                               struct stitch_err *err)
{
	struct state_arg arg = {name, 0};

	return state_query_rows(st, S_DEP_RDEPS, &arg, 1, &string_rows, out, n,
	                        "read the dependents of a package", NULL, err);
}

/* ---- files and symbols ---- */

static const struct state_col file_cols[] = {
    STATE_COL(STR, struct stitch_file, path),    STATE_COL(STR, struct stitch_file, package),
    STATE_COL(HASH, struct stitch_file, sha256), STATE_COL(U32, struct stitch_file, mode),
    STATE_COL(I64, struct stitch_file, size),
};

static void release_files(void *v, size_t n)
{
	stitch_files_free(v, n);
}

static const struct state_rows_kind file_rows =
    STATE_ROWS_KIND(struct stitch_file, file_cols, release_files);

int stitch_state_files_of(struct stitch_state *st, const char *name, struct stitch_file **out,
                          size_t *n, struct stitch_err *err)
{
	struct state_arg arg = {name, 0};

	return state_query_rows(st, S_FILE_OF, &arg, 1, &file_rows, out, n,
	                        "list the files of a package", NULL, err);
}

int stitch_state_each_file(struct stitch_state *st, stitch_file_fn *fn, void *data,
                           struct stitch_err *err)
{
	struct stitch_installed *pkgs = NULL;
	size_t n_pkgs = 0;
	int rc = stitch_state_list_packages(st, &pkgs, &n_pkgs, err);

	for (size_t p = 0; p < n_pkgs && rc == 0; p++) {
		struct stitch_file *files = NULL;
		size_t nf = 0;
		rc = stitch_state_files_of(st, pkgs[p].name, &files, &nf, err);
		for (size_t i = 0; i < nf && rc == 0; i++)
			rc = fn(&files[i], data, err);
		stitch_files_free(files, nf);
	}
	stitch_installed_free(pkgs, n_pkgs);
	return rc;
}

int stitch_state_find_file_by_name(struct stitch_state *st, const char *name,
                                   struct stitch_file **out, size_t *n, struct stitch_err *err)
{
	const char *base = strrchr(name, '/');
	char *suffix = xasprintf("/%s", name);
	struct state_arg args[2] = {{base ? base + 1 : name, 0}, {suffix, 0}};
	int rc = state_query_rows(st, S_FILE_BYNAME, args, 2, &file_rows, out, n,
	                          "look up a file by name", NULL, err);

	free(suffix);
	return rc;
}

int stitch_state_owner_of(struct stitch_state *st, const char *path, char **pkg,
                          struct stitch_err *err)
{
	struct state_arg arg = {path, 0};
	char **owners;
	size_t n;
	int rc = state_query_rows(st, S_FILE_OWNER, &arg, 1, &string_rows, &owners, &n,
	                          "look up the owner of", path, err);

	*pkg = n ? owners[0] : NULL; /* the path is the key: one row at most */
	free(owners);
	return rc;
}

static const struct state_col symbol_cols[] = {
    STATE_COL(STR, struct stitch_symbol, symbol),
    STATE_COL(STR, struct stitch_symbol, package),
    STATE_COL(STR, struct stitch_symbol, file),
};

static void release_symbols(void *v, size_t n)
{
	stitch_symbols_free(v, n);
}

static const struct state_rows_kind symbol_rows =
    STATE_ROWS_KIND(struct stitch_symbol, symbol_cols, release_symbols);

int stitch_state_find_symbol(struct stitch_state *st, const char *symbol,
                             struct stitch_symbol **out, size_t *n, struct stitch_err *err)
{
	struct state_arg arg = {symbol, 0};

	return state_query_rows(st, S_SYM_FIND, &arg, 1, &symbol_rows, out, n, "look up symbol",
	                        symbol, err);
}

void stitch_installed_release(struct stitch_installed *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->version);
	free(p->source_sha256);
	free(p->build_hash);
	free(p->interface_hash);
	free(p->repo);
	stitch_strings_free(p->depends, p->n_depends);
	memset(p, 0, sizeof(*p));
}

void stitch_installed_free(struct stitch_installed *pkgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		stitch_installed_release(&pkgs[i]);
	free(pkgs);
}

void stitch_files_free(struct stitch_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].package);
	}
	free(files);
}

void stitch_symbols_free(struct stitch_symbol *syms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(syms[i].symbol);
		free(syms[i].package);
		free(syms[i].file);
	}
	free(syms);
}

void stitch_strings_free(char **strings, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(strings[i]);
	free(strings);
}

int stitch_state_file_rehash(struct stitch_state *st, const char *path, const char *sha256,
                             uint64_t size, struct stitch_err *err)
{
	const char *what = "record file";
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_sp_begin(st, what, err)))
		return rc;
	if (!(s = state_stmt(st, S_FILE_REHASH, err)))
		return state_sp_end(st, STITCH_E_STATE, what, err);
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)size);
	if (state_step_done(s) != SQLITE_OK)
		rc = state_db_fail(st, err, "%s '%s'", what, path);
	else if (sqlite3_changes(st->db) == 0)
		rc = stitch_error(err, STITCH_E_NOTFOUND, "file '%s' is not in switch '%s'", path,
		                  st->switch_dir);
	return state_sp_end(st, rc, what, err);
}
