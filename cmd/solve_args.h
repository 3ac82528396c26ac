/*
 * What `stitch solve` and `stitch install` share: the request options
 * (--pin, --installed, --upgrade) and printing a resolver failure.
 * Implemented in cmd/solve_args.c.
 */
#ifndef STITCH_CMD_SOLVE_ARGS_H
#define STITCH_CMD_SOLVE_ARGS_H

#include <stdbool.h>

#include "cmd.h"
#include "solve.h"

struct solve_args {
	struct stitch_solve_pin *pins;
	size_t n_pins;
	struct stitch_solve_installed *installed;
	size_t n_installed;
	bool upgrade;
	bool json;
	bool dry_run;
	bool explain; /* install --explain */
	int jobs; /* -j N (install) */
	char **roots; /* the operands (pointers into argv) */
	int n_roots;
};

/* Options understood by both commands, for cmd_parse_opts. */
enum { OPT_PIN = 256, OPT_INSTALLED, OPT_UPGRADE, OPT_JSON, OPT_DRY_RUN, OPT_EXPLAIN };
int solve_args_opt(int val, const char *arg, void *data);
void solve_args_release(struct solve_args *a);

/*
 * Run the resolver on req; on failure print what the user needs (the
 * explanation for STITCH_E_UNSAT, with json also as a "no-solution" line
 * on stdout) and return the exit status, else 0.
 */
int solve_run(struct stitch_ctx *ctx, const struct stitch_solve_request *req,
              struct stitch_solution *sol, bool json);

#endif
