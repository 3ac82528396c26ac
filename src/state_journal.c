/*
 * The journal of the operation in progress, and where the switch was made
 * (state.h).  Uses state.c's statements and row loop (state_int.h).
 */
#include "state.h"

#include <sqlite3.h>

#include "state_int.h"

/* ---- journal ---- */

int stitch_state_journal_put(struct stitch_state *st, const char *op_json, struct stitch_err *err)
{
	const char *what = "write the journal";
	sqlite3_stmt *s;
	int rc;

	if ((rc = state_sp_begin(st, what, err)))
		return rc;
	if (!(s = state_stmt(st, S_JRN_PUT, err)))
		return state_sp_end(st, STITCH_E_STATE, what, err);
	state_bind_text(s, 1, op_json);
	sqlite3_bind_int64(s, 2, state_now_or(0));
	rc = state_step_done(s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		rc = stitch_error(
		    err, STITCH_E_EXISTS,
		    "cannot write the journal in '%s': an operation is already pending",
		    st->db_path);
	else if (rc != SQLITE_OK)
		rc = state_db_fail(st, err, "%s", what);
	return state_sp_end(st, rc, what, err);
}

static int str_row(sqlite3_stmt *row, void *data, struct stitch_err *err)
{
	(void)err;
	*(char **)data = state_col_str(row, 0);
	return 0;
}

int stitch_state_journal_get(struct stitch_state *st, char **op_json, struct stitch_err *err)
{
	*op_json = NULL;
	return state_query(st, S_JRN_GET, NULL, 0, str_row, op_json, "read the journal", NULL, err);
}

int stitch_state_journal_clear(struct stitch_state *st, struct stitch_err *err)
{
	return state_exec(st, S_JRN_CLEAR, NULL, 0, "clear the journal", NULL, err);
}

/* ---- where the switch is ---- */

int stitch_state_path_get(struct stitch_state *st, char **path, struct stitch_err *err)
{
	*path = NULL;
	return state_query(st, S_PATH_GET, NULL, 0, str_row, path, "read the switch's path", NULL,
	                   err);
}

int stitch_state_path_set(struct stitch_state *st, const char *path, struct stitch_err *err)
{
	struct state_arg arg = {path, 0};

	return state_exec(st, S_PATH_SET, &arg, 1, "record the switch's path", NULL, err);
}
