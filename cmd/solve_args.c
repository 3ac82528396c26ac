/* What `stitch solve` and `stitch install` share: see solve_args.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "solve_args.h"
#include "util.h"

/* "NAME=VERSION", or for pins "NAME=VERSION@ORIGIN" (where the pin comes from). */
static int split_pair(const char *arg, const char *opt, bool origin, char **name, char **version,
                      char **from)
{
	const char *eq = strchr(arg, '=');
	const char *at = origin && eq ? strchr(eq, '@') : NULL;

	if (!eq || eq == arg || eq[1] == '\0' || at == eq + 1) {
		fprintf(stderr, "error: %s takes NAME=VERSION, not '%s'\n", opt, arg);
		return EXIT_USAGE;
	}
	*name = xstrndup(arg, (size_t)(eq - arg));
	*version = at ? xstrndup(eq + 1, (size_t)(at - eq - 1)) : xstrdup(eq + 1);
	if (from)
		*from = at && at[1] ? xstrdup(at + 1) : xstrdup("from --pin");
	return EXIT_OK;
}

int solve_args_opt(int val, const char *arg, void *data)
{
	struct solve_args *a = data;
	size_t cap;

	switch (val) {
	case OPT_PIN:
		cap = a->n_pins;
		XGROW(a->pins, cap, a->n_pins + 1);
		{
			struct stitch_solve_pin *p = &a->pins[a->n_pins];
			char *n, *v, *o;
			if (split_pair(arg, "--pin", true, &n, &v, &o) != EXIT_OK)
				return EXIT_USAGE;
			p->name = n;
			p->version = v;
			p->origin = o;
			a->n_pins++;
		}
		return EXIT_OK;
	case OPT_INSTALLED:
		cap = a->n_installed;
		XGROW(a->installed, cap, a->n_installed + 1);
		{
			struct stitch_solve_installed *p = &a->installed[a->n_installed];
			char *n, *v;
			if (split_pair(arg, "--installed", false, &n, &v, NULL) != EXIT_OK)
				return EXIT_USAGE;
			p->name = n;
			p->version = v;
			a->n_installed++;
		}
		return EXIT_OK;
	case OPT_UPGRADE:
		a->upgrade = true;
		return EXIT_OK;
	case OPT_JSON:
		a->json = true;
		return EXIT_OK;
	case OPT_EXPLAIN:
		a->explain = true;
		return EXIT_OK;
	case OPT_DRY_RUN:
		a->dry_run = true;
		return EXIT_OK;
	case 'j': {
		char *end;
		long v = strtol(arg, &end, 10);
		if (!*arg || *end || v < 1 || v > 1024) {
			cmd_usage_error(NULL, "-j expects a number from 1 to 1024, got '%s'", arg);
			return EXIT_USAGE;
		}
		a->jobs = (int)v;
		return EXIT_OK;
	}
	default:
		return EXIT_USAGE;
	}
}

void solve_args_release(struct solve_args *a)
{
	for (size_t i = 0; i < a->n_pins; i++) {
		free((char *)a->pins[i].name);
		free((char *)a->pins[i].version);
		free((char *)a->pins[i].origin);
	}
	for (size_t i = 0; i < a->n_installed; i++) {
		free((char *)a->installed[i].name);
		free((char *)a->installed[i].version);
	}
	free(a->pins);
	free(a->installed);
	free(a->roots);
	memset(a, 0, sizeof(*a));
}

int solve_run(struct stitch_ctx *ctx, const struct stitch_solve_request *req,
              struct stitch_solution *sol, bool json)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_buf why = STITCH_BUF_INIT;
	int rc = stitch_solve(ctx->index, req, sol, &why, &err);

	if (getenv("STITCH_SOLVE_STATS"))
		fprintf(stderr,
		        "solve: %lu decisions, %lu conflicts, %lu propagations, %zu packages, "
		        "%zu variables, %zu clauses\n",
		        sol->stats.decisions, sol->stats.conflicts, sol->stats.propagations,
		        sol->stats.packages, sol->stats.variables, sol->stats.clauses);
	if (rc == 0)
		return EXIT_OK;
	if (rc == STITCH_E_PARSE || rc == STITCH_E_USAGE) {
		cmd_fail(&err);
		rc = EXIT_USAGE;
	} else {
		rc = cmd_fail_solve_json(ctx, json, &err, &why);
	}
	stitch_buf_release(&why);
	return rc;
}
