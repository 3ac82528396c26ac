/*
 * install / upgrade / remove on a switch: solve, gather what the plan
 * needs (pins' trees scanned, local sources hashed, the artifact cache
 * asked), make the plan (plan.c), and hand it to the executor (exec.c).
 */
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "exec.h"
#include "plan.h"
#include "state.h"
#include "suggest.h"
#include "surprise.h"
#include "tree.h"

struct op {
	struct stitch_exec x;
	char cc_id[320];
	struct stitch_pin *pins;
	size_t n_pins;
	struct stitch_pin *old_pins; /* rollback: the pins before, named by the history */
	size_t n_old_pins;
	struct stitch_tree_scan *scans; /* of each pin's tree, when part of the plan */
	char **local_sha; /* per chosen version without a SHA-256 in the index */
};

/* ---- what the plan needs: scanned pins, hashes of local sources ---- */

static int scan_pins(struct op *op, const struct stitch_solution *sol, struct stitch_err *err)
{
	bool txn;
	int rc = 0;

	op->scans = xcalloc(op->n_pins + 1, sizeof(*op->scans));
	/* One commit for the whole stat cache update, not one per pin. */
	txn = !op->x.o->dry_run && !stitch_state_in_transaction(op->x.sw->st) &&
	      stitch_state_begin_lazy(op->x.sw->st, NULL) == 0;
	for (size_t k = 0; k < op->n_pins && rc == 0; k++) {
		const struct stitch_pin *pin = &op->pins[k];
		bool used = false;
		for (size_t i = 0; i < sol->n; i++)
			used |= !strcmp(sol->chosen[i]->pkg->name, pin->name);
		if (!used)
			continue;
		/* A pin's source is its working tree, uncommitted edits included. */
		rc = op->x.o->dry_run
		         ? stitch_tree_peek(op->x.sw->st, pin->name, pin->path, &op->scans[k], err)
		         : stitch_tree_scan(op->x.sw->st, pin->name, pin->path, &op->scans[k], err);
		if (rc)
			stitch_error_wrap(err, "cannot scan the pinned tree of '%s'", pin->name);
	}
	if (txn) {
		if (rc == 0)
			rc = stitch_state_commit(op->x.sw->st, err);
		else
			stitch_state_rollback(op->x.sw->st, NULL);
	}
	return rc;
}

/* A local source the index gives no SHA-256 for is hashed where it lies. */
static void hash_local_sources(struct op *op, const struct stitch_solution *sol)
{
	op->local_sha = xcalloc(sol->n + 1, sizeof(char *));
	for (size_t i = 0; i < sol->n; i++) {
		const struct stitch_version *v = sol->chosen[i];
		char *url, hex[65];
		if (v->sha256 || !strncmp(v->url, "http://", 7) || !strncmp(v->url, "https://", 8))
			continue;
		url = stitch_exec_source_url(v);
		if (stitch_sha256_file(url + (strncmp(url, "file://", 7) == 0 ? 7 : 0), hex) == 0)
			op->local_sha[i] = xstrdup(hex);
		free(url);
	}
}

static void cc_identity(struct op *op)
{
	if (!op->cc_id[0])
		stitch_cc_identity(stitch_state_dir(op->x.sw->st), op->cc_id, sizeof(op->cc_id));
}

static bool cache_holds(void *data, const char *build_hash, char iface[65])
{
	struct op *op = data;
	struct stitch_artifact art;

	if (!op->x.o->artifacts ||
	    stitch_artifacts_lookup(op->x.o->artifacts, build_hash, &art, NULL) != 0)
		return false;
	memcpy(iface, art.interface_hash, 65);
	stitch_artifact_release(&art);
	return true;
}

/* ---- the operation ---- */

static void op_release(struct op *op)
{
	for (size_t k = 0; op->scans && k < op->n_pins; k++)
		stitch_tree_scan_release(&op->scans[k]);
	for (size_t i = 0; op->local_sha && op->local_sha[i]; i++)
		free(op->local_sha[i]);
	stitch_exec_release(&op->x);
	stitch_pins_free(op->pins, op->n_pins);
	stitch_pins_free(op->old_pins, op->n_old_pins);
	free(op->scans);
	free(op->local_sha);
}

static int record_history(struct op *op, const char *verb, struct stitch_err *err)
{
	const struct stitch_op_opts *o = op->x.o;
	struct stitch_history h = {0};
	char summary[128];
	size_t n = o->n_pre_changes + op->x.n_changes;
	int rc;

	if (!n)
		return 0;
	snprintf(summary, sizeof(summary), "%s: %zu change%s", verb, n, n == 1 ? "" : "s");
	h.command = (char *)(o->command_line ? o->command_line : verb);
	h.summary = summary;
	h.changes = xcalloc(n, sizeof(*h.changes));
	for (size_t i = 0; i < o->n_pre_changes; i++)
		h.changes[h.n_changes++] = o->pre_changes[i];
	for (size_t i = 0; i < op->x.n_changes; i++)
		h.changes[h.n_changes++] = op->x.changes[i];
	if (stitch_state_in_transaction(op->x.sw->st)) {
		rc = stitch_state_history_append(op->x.sw->st, &h, NULL, err);
	} else if ((rc = stitch_state_begin_lazy(op->x.sw->st, err)) == 0) {
		/* The history is a record, not state: it need not wait for the disk. */
		rc = stitch_state_history_append(op->x.sw->st, &h, NULL, err);
		if (rc == 0)
			rc = stitch_state_commit(op->x.sw->st, err);
		else
			stitch_state_rollback(op->x.sw->st, NULL);
	}
	free(h.changes);
	return rc;
}

static int solve_for(struct op *op, const struct stitch_index *idx, const char *const *reqs,
                     size_t n_reqs, const struct stitch_installed *inst, size_t n_inst,
                     struct stitch_solution *sol, struct stitch_buf *why, struct stitch_err *err)
{
	const char **roots = xcalloc(n_reqs + n_inst + 1, sizeof(char *));
	struct stitch_solve_installed *si = xcalloc(n_inst + 1, sizeof(*si));
	struct stitch_solve_pin *sp = xcalloc(op->n_pins + op->x.o->n_pins + 1, sizeof(*sp));
	struct stitch_solve_request req;
	size_t n_roots = 0;
	int rc;

	for (size_t i = 0; i < op->n_pins; i++)
		sp[i] = (struct stitch_solve_pin){op->pins[i].name, op->pins[i].version,
		                                  op->pins[i].path};
	for (size_t i = 0; i < op->x.o->n_pins; i++)
		sp[op->n_pins + i] = op->x.o->pins[i];
	for (size_t i = 0; i < n_reqs; i++)
		roots[n_roots++] = reqs[i];
	/* What is installed stays installed: each is a root after the requested ones. */
	for (size_t i = 0; i < n_inst; i++) {
		si[i] = (struct stitch_solve_installed){inst[i].name, inst[i].version};
		if (stitch_index_find(idx, inst[i].name))
			roots[n_roots++] = inst[i].name;
	}
	req = (struct stitch_solve_request){
	    n_roots, roots, op->n_pins + op->x.o->n_pins, sp, n_inst, si, op->x.o->upgrade};
	rc = stitch_solve(idx, &req, sol, why, err);
	free(sp);
	free(roots);
	free(si);
	return rc;
}

/* A pin is never silently ignored: say where each one stands, every run. */
static void report_pins(struct op *op)
{
	for (size_t k = 0; k < op->n_pins; k++) {
		const struct stitch_pin *pin = &op->pins[k];
		const struct stitch_plan_item *it = stitch_plan_find(&op->x.plan, pin->name);
		struct stitch_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.kind = STITCH_EV_PIN;
		ev.name = pin->name;
		ev.version = pin->version;
		ev.change = STITCH_PLAN_KEEP;
		ev.pin.path = pin->path;
		ev.pin.state = !it ? STITCH_PIN_UNUSED
		               : pin->tree_hash && !strcmp(it->source_sha256, pin->tree_hash)
		                   ? STITCH_PIN_UNCHANGED
		                   : STITCH_PIN_CHANGED;
		stitch_exec_emit_ev(&op->x, &ev);
	}
}

static int make_plan(struct op *op, const struct stitch_solution *sol,
                     const struct stitch_installed *inst, size_t n_inst, const char *const *reqs,
                     size_t n_reqs, struct stitch_err *err)
{
	struct stitch_plan_in in = {0};
	int rc;

	if ((rc = scan_pins(op, sol, err)) != 0)
		return rc;
	hash_local_sources(op, sol);
	cc_identity(op);
	in.chosen = sol->chosen;
	in.n_chosen = sol->n;
	in.installed = inst;
	in.n_installed = n_inst;
	in.pins = op->pins;
	in.n_pins = op->n_pins;
	in.scans = op->scans;
	in.source_sha256 = (const char *const *)op->local_sha;
	in.requested = reqs;
	in.n_requested = n_reqs;
	in.cc_id = op->cc_id;
	in.target = "unix";
	in.cached = op->x.o->artifacts ? cache_holds : NULL;
	in.cache_data = op;
	rc = stitch_plan_make(&in, &op->x.plan, err);
	if (rc == 0 && op->x.plan.n)
		stitch_exec_report_remote(&op->x, &op->x.plan.items[op->x.plan.order[0]]);
	return rc;
}

/* The caller's answer about the plan's surprising changes (op.h: confirm). */
static int confirm_plan(const struct op *op, const char *const *reqs, size_t n_reqs,
                        struct stitch_err *err)
{
	const struct stitch_op_opts *o = op->x.o;
	struct stitch_asked asked = {.reqs = reqs,
	                             .n_reqs = n_reqs,
	                             .pins = o->pins,
	                             .n_pins = o->n_pins,
	                             .names = o->on_purpose,
	                             .n_names = o->n_on_purpose};
	struct stitch_event *changes;
	size_t n;
	bool yes;

	if (!o->confirm || o->dry_run)
		return 0;
	n = stitch_surprise_plan(&op->x.plan, &asked, &changes);
	yes = o->confirm(o->confirm_data, changes, n);
	free(changes);
	if (yes)
		return 0;
	return stitch_error(err, STITCH_E_DECLINED,
	                    "%zu change%s to packages installed by name not confirmed", n,
	                    n == 1 ? "" : "s");
}

static void emit_plan(const struct op *op)
{
	for (size_t k = 0; k < op->x.plan.n; k++)
		stitch_exec_emit(&op->x, STITCH_EV_PLAN, &op->x.plan.items[op->x.plan.order[k]], 0,
		                 NULL);
}

int stitch_op_install(struct stitch_switch *sw, const struct stitch_index *idx,
                      const char *const *reqs, size_t n_reqs, const struct stitch_op_opts *opts,
                      struct stitch_buf *why, struct stitch_err *err)
{
	struct op op = {.x = {.sw = sw, .o = opts}};
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_installed *inst = NULL;
	size_t n_inst = 0;
	int rc;

	if ((rc = stitch_state_list_packages(sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	if ((rc = stitch_state_pin_list(sw->st, &op.pins, &op.n_pins, err)) != 0)
		goto out;
	if (opts->fixed) {
		sol.chosen = xcalloc(opts->n_fixed + 1, sizeof(*sol.chosen));
		for (size_t i = 0; i < opts->n_fixed; i++)
			sol.chosen[i] = opts->fixed[i];
		sol.n = opts->n_fixed;
	} else if ((rc = solve_for(&op, idx, reqs, n_reqs, inst, n_inst, &sol, why, err)) != 0) {
		goto out;
	}
	if ((rc = make_plan(&op, &sol, inst, n_inst, reqs, n_reqs, err)) != 0 ||
	    (rc = confirm_plan(&op, reqs, n_reqs, err)) != 0)
		goto out;
	emit_plan(&op);
	if (opts->dry_run)
		goto out;
	stitch_exec_run(&op.x, err);
	report_pins(&op);
	rc = record_history(&op, n_reqs ? "install" : "upgrade", err);
	if (op.x.first.code) {
		*err = op.x.first;
		rc = op.x.first.code;
	}
out:
	op_release(&op);
	stitch_solution_release(&sol);
	stitch_installed_free(inst, n_inst);
	return rc;
}

/* The whole removal as one journaled operation, its history entry with it. */
static int commit_removal(struct op *op, struct stitch_err *err)
{
	const struct stitch_plan *plan = &op->x.plan;
	const char **names = xcalloc(plan->n + 1, sizeof(char *));
	struct stitch_history h = {0};
	char summary[128];
	int rc;

	for (size_t k = 0; k < plan->n; k++) {
		const struct stitch_plan_item *it = &plan->items[plan->order[k]];
		names[k] = it->name;
		stitch_exec_add_change(&op->x, it);
	}
	snprintf(summary, sizeof(summary), "remove: %zu change%s", plan->n,
	         plan->n == 1 ? "" : "s");
	h.command = (char *)(op->x.o->command_line ? op->x.o->command_line : "remove");
	h.summary = summary;
	h.changes = op->x.changes;
	h.n_changes = op->x.n_changes;
	rc = stitch_switch_commit_remove(op->x.sw, names, plan->n, plan->n ? &h : NULL, err);
	free(names);
	for (size_t k = 0; rc == 0 && k < plan->n; k++)
		stitch_exec_emit(&op->x, STITCH_EV_DONE, &plan->items[plan->order[k]], 0, NULL);
	return rc;
}

int stitch_op_remove(struct stitch_switch *sw, const struct stitch_index *idx,
                     const char *const *names, size_t n, bool recursive,
                     const struct stitch_op_opts *opts, struct stitch_err *err)
{
	struct op op = {.x = {.sw = sw, .o = opts}};
	struct stitch_installed *inst = NULL;
	size_t n_inst = 0;
	int rc;

	(void)idx;
	if ((rc = stitch_state_list_packages(sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < n_inst; k++)
			found |= !strcmp(inst[k].name, names[i]);
		if (!found) {
			struct stitch_suggest near;
			stitch_suggest_init(&near, names[i]);
			for (size_t k = 0; k < n_inst; k++)
				stitch_suggest_consider(&near, inst[k].name);
			rc = stitch_error(err, STITCH_E_NOTFOUND, "'%s' is not installed in '%s'",
			                  names[i], sw->dir);
			if (near.best)
				stitch_error_cause(err, "hint: did you mean '%s'?", near.best);
			goto out;
		}
	}
	if ((rc = stitch_plan_remove(inst, n_inst, names, n, recursive, &op.x.plan, err)) != 0 ||
	    (rc = confirm_plan(&op, NULL, 0, err)) != 0)
		goto out;
	if (opts->dry_run) {
		emit_plan(&op);
		goto out;
	}
	rc = commit_removal(&op, err);
out:
	op_release(&op);
	stitch_installed_free(inst, n_inst);
	return rc;
}

/* ---- bringing a switch to a given state (rollback) ---- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static const struct stitch_pin *pin_named(const struct stitch_pin *pins, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pins[i].name, name))
			return &pins[i];
	return NULL;
}

static bool same_pin(const struct stitch_pin *a, const struct stitch_pin *b)
{
	return a && b && !strcmp(a->path, b->path) &&
	       !strcmp(a->version ? a->version : "", b->version ? b->version : "");
}

static void add_pin_change(struct op *op, enum stitch_change_action a, const struct stitch_pin *p)
{
	XGROW(op->x.changes, op->x.cap_changes, op->x.n_changes + 1);
	op->x.changes[op->x.n_changes++] =
	    (struct stitch_change){a, p->name, a == STITCH_CHANGE_UNPIN ? p->version : NULL,
	                           a == STITCH_CHANGE_PIN ? p->version : NULL};
}

/*
 * Make the switch's pins those of op->pins (the target's), inside the
 * caller's transaction, noting each pin removed and added for the history.
 */
static int set_pins(struct op *op, const struct stitch_pin *old, size_t n_old,
                    struct stitch_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < n_old && rc == 0; i++) {
		if (same_pin(&old[i], pin_named(op->pins, op->n_pins, old[i].name)))
			continue;
		rc = stitch_state_pin_remove(op->x.sw->st, old[i].name, err);
		add_pin_change(op, STITCH_CHANGE_UNPIN, &old[i]);
	}
	for (size_t i = 0; i < op->n_pins && rc == 0; i++) {
		struct stitch_pin p = op->pins[i];
		if (same_pin(&p, pin_named(old, n_old, p.name)))
			continue;
		p.pinned_at = 0;
		rc = stitch_state_pin_put(op->x.sw->st, &p, err);
		add_pin_change(op, STITCH_CHANGE_PIN, &op->pins[i]);
	}
	return rc;
}

/* The installed packages the target leaves out. */
static const char **unwanted(const struct stitch_installed *inst, size_t n_inst,
                             const struct stitch_op_target *t, size_t *n)
{
	const char **names = xcalloc(n_inst + 1, sizeof(char *));

	*n = 0;
	for (size_t i = 0; i < n_inst; i++) {
		bool wanted = false;
		for (size_t k = 0; k < t->n_versions && !wanted; k++)
			wanted = !strcmp(t->versions[k]->pkg->name, inst[i].name);
		if (!wanted)
			names[(*n)++] = inst[i].name;
	}
	return names;
}

/* What the plan shows for the packages that go: in the removal's order. */
static void emit_removals(const struct op *op, const struct stitch_installed *inst, size_t n_inst,
                          const struct stitch_op_target *t)
{
	struct stitch_plan rm = STITCH_PLAN_INIT;
	size_t n;
	const char **names = unwanted(inst, n_inst, t, &n);

	if (n && stitch_plan_remove(inst, n_inst, names, n, true, &rm, NULL) == 0)
		for (size_t k = 0; k < rm.n; k++)
			stitch_exec_emit(&op->x, STITCH_EV_PLAN, &rm.items[rm.order[k]], 0, NULL);
	stitch_plan_release(&rm);
	free(names);
}

/*
 * Remove what the target leaves out, now that its own packages are in, and
 * write the history entry (its changes name packages of inst).
 */
static int remove_unwanted(struct op *op, const struct stitch_op_target *t, struct stitch_err *err)
{
	struct stitch_plan rm = STITCH_PLAN_INIT;
	struct stitch_installed *inst = NULL;
	const char **names = NULL, **order = NULL;
	size_t n_inst = 0, n = 0;
	int rc;

	if ((rc = stitch_state_list_packages(op->x.sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	names = unwanted(inst, n_inst, t, &n);
	if (n && (rc = stitch_plan_remove(inst, n_inst, names, n, false, &rm, err)) == 0) {
		order = xcalloc(rm.n + 1, sizeof(char *));
		for (size_t k = 0; k < rm.n; k++)
			order[k] = rm.items[rm.order[k]].name;
		rc = stitch_switch_commit_remove(op->x.sw, order, rm.n, NULL, err);
		for (size_t k = 0; rc == 0 && k < rm.n; k++) {
			stitch_exec_add_change(&op->x, &rm.items[rm.order[k]]);
			stitch_exec_emit(&op->x, STITCH_EV_DONE, &rm.items[rm.order[k]], 0, NULL);
		}
	}
	if (rc == 0)
		rc = record_history(op, "rollback", err);
	free(order);
	free(names);
	stitch_plan_release(&rm);
	stitch_installed_free(inst, n_inst);
	return rc;
}

/* Each package of the target is asked for exactly when it was. */
static void set_requested(struct op *op, const struct stitch_op_target *t)
{
	for (size_t k = 0; k < t->n_versions; k++) {
		const char *name = t->versions[k]->pkg->name;
		bool req = false;
		for (size_t i = 0; i < t->n_requested && !req; i++)
			req = !strcmp(t->requested[i], name);
		stitch_state_set_requested(op->x.sw->st, name, req, NULL);
	}
}

/* Pins first and the plan made in one transaction: a plan that fails leaves the pins. */
static int plan_target(struct op *op, const struct stitch_op_target *t,
                       const struct stitch_solution *sol, const struct stitch_installed *inst,
                       size_t n_inst, struct stitch_err *err)
{
	int rc;

	if (op->x.o->dry_run)
		return make_plan(op, sol, inst, n_inst, t->requested, t->n_requested, err);
	if ((rc = stitch_state_pin_list(op->x.sw->st, &op->old_pins, &op->n_old_pins, err)) != 0)
		return rc;
	if ((rc = stitch_state_begin(op->x.sw->st, err)) != 0)
		return rc;
	rc = set_pins(op, op->old_pins, op->n_old_pins, err);
	if (rc == 0)
		rc = make_plan(op, sol, inst, n_inst, t->requested, t->n_requested, err);
	if (rc == 0)
		return stitch_state_commit(op->x.sw->st, err);
	stitch_state_rollback(op->x.sw->st, NULL);
	return rc;
}

int stitch_op_apply(struct stitch_switch *sw, const struct stitch_index *idx,
                    const struct stitch_op_target *t, const struct stitch_op_opts *opts,
                    struct stitch_err *err)
{
	struct op op = {.x = {.sw = sw, .o = opts}};
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_installed *inst = NULL;
	size_t n_inst = 0;
	int rc;

	(void)idx;
	if ((rc = stitch_state_list_packages(sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	op.pins = xcalloc(t->n_pins + 1, sizeof(*op.pins));
	for (size_t i = 0; i < t->n_pins; i++)
		op.pins[i] = (struct stitch_pin){
		    xstrdup(t->pins[i].name), dup_or_null(t->pins[i].version),
		    xstrdup(t->pins[i].path), dup_or_null(t->pins[i].tree_hash), 0};
	op.n_pins = t->n_pins;
	sol.chosen = xcalloc(t->n_versions + 1, sizeof(*sol.chosen));
	for (size_t i = 0; i < t->n_versions; i++)
		sol.chosen[i] = t->versions[i];
	sol.n = t->n_versions;
	if ((rc = plan_target(&op, t, &sol, inst, n_inst, err)) != 0)
		goto out;
	emit_plan(&op);
	emit_removals(&op, inst, n_inst, t);
	if (opts->dry_run)
		goto out;
	stitch_exec_run(&op.x, err);
	report_pins(&op);
	set_requested(&op, t);
	if (op.x.first.code) {
		record_history(&op, "rollback", NULL);
		*err = op.x.first;
		rc = op.x.first.code;
	} else {
		rc = remove_unwanted(&op, t, err);
	}
out:
	op_release(&op);
	stitch_solution_release(&sol);
	stitch_installed_free(inst, n_inst);
	return rc;
}
