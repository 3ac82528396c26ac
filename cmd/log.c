/*
 * stitch log [-n N] [--reverse] [--json]: the switch's operations.
 * stitch rollback N [--dry-run] [--json] [-j N]: back to the state after one.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "op.h"
#include "rollback.h"
#include "state.h"

struct log_opts {
	bool json, reverse, dry_run;
	long max; /* -n: 0 for all */
	int jobs;
};

static int positive(const char *what, const char *arg, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	if (errno || *end || *out < 1)
		return cmd_usage_error(NULL, "%s expects a positive number, got '%s'", what, arg);
	return EXIT_OK;
}

static int on_opt(int val, const char *arg, void *data)
{
	struct log_opts *o = data;
	long n;

	switch (val) {
	case 'J':
		o->json = true;
		return EXIT_OK;
	case 'r':
		o->reverse = true;
		return EXIT_OK;
	case 'N':
		o->dry_run = true;
		return EXIT_OK;
	case 'n':
		return positive("-n", arg, &o->max);
	case 'j':
		if (positive("-j", arg, &n) != EXIT_OK)
			return EXIT_USAGE;
		o->jobs = n > 4096 ? 4096 : (int)n;
		return EXIT_OK;
	default:
		return EXIT_USAGE;
	}
}

/* When, in local time: "2026-12-05 19:20:03 +0100", or with a T and +01:00 (json). */
static void when(int64_t t, bool json, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char zone[8];

	if (!localtime_r(&tt, &tm) || !strftime(zone, sizeof(zone), "%z", &tm)) {
		snprintf(buf, len, "@%lld", (long long)t);
		return;
	}
	strftime(buf, len, json ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
	if (json)
		snprintf(buf + strlen(buf), len - strlen(buf), "%.3s:%s", zone, zone + 3);
	else
		snprintf(buf + strlen(buf), len - strlen(buf), " %s", zone);
}

/* The version a change is about: the new one, or the one that went. */
static const char *change_version(const struct stitch_change *c)
{
	return c->new_version ? c->new_version : c->old_version ? c->old_version : "";
}

static bool has_old(const struct stitch_change *c)
{
	return c->old_version && c->new_version && strcmp(c->old_version, c->new_version) != 0;
}

static void print_entry_text(const struct stitch_history *h)
{
	char t[64];

	when(h->time, false, t, sizeof(t));
	printf("%lld  %s  %s\n", (long long)h->id, t, h->command);
	if (!h->snapshot)
		printf("    (recorded by an older stitch: changes only, cannot roll back to it)\n");
	for (size_t i = 0; i < h->n_changes; i++) {
		const struct stitch_change *c = &h->changes[i];
		if (has_old(c))
			printf("    %-11s%s %s -> %s\n", cmd_change_past(c->action), c->name,
			       c->old_version, c->new_version);
		else
			printf("    %-11s%s %s\n", cmd_change_past(c->action), c->name,
			       change_version(c));
	}
}

static void print_entry_json(const struct stitch_history *h)
{
	char t[64];

	when(h->time, true, t, sizeof(t));
	cmd_print_json(json_pack("{s:s, s:I, s:s, s:s, s:s, s:b, s:i}", "event", "log", "id",
	                         (json_int_t)h->id, "time", t, "command", h->command, "summary",
	                         h->summary, "snapshot", h->snapshot, "changes",
	                         (int)h->n_changes));
	for (size_t i = 0; i < h->n_changes; i++) {
		const struct stitch_change *c = &h->changes[i];
		json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s}", "event", "log", "id",
		                      (json_int_t)h->id, "action", cmd_change_past(c->action),
		                      "name", c->name, "version", change_version(c));
		if (has_old(c))
			json_object_set_new(o, "old_version", json_string(c->old_version));
		cmd_print_json(o);
	}
}

int cmd_log(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'},
	                                     {"reverse", no_argument, NULL, 'r'},
	                                     {"max-count", required_argument, NULL, 'n'},
	                                     {0}};
	struct log_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_history *h = NULL;
	size_t n = 0;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx, "log takes no arguments");
	if (stitch_state_history_list(ctx->sw->st, (size_t)o.max, &h, &n, &err) != 0)
		return cmd_fail(&err);
	if (n == 0 && !o.json)
		printf("no operation on the switch '%s' yet\n", ctx->sw->dir);
	for (size_t k = 0; k < n; k++) {
		const struct stitch_history *e = &h[o.reverse ? n - 1 - k : k];
		if (o.json)
			print_entry_json(e);
		else
			print_entry_text(e);
	}
	stitch_history_free(h, n);
	return EXIT_OK;
}

/* What the rollback goes back to, before its plan. */
static void print_rollback_head(const struct stitch_history *h, bool json, bool dry_run)
{
	char t[64];

	when(h->time, json, t, sizeof(t));
	if (json)
		cmd_print_json(json_pack("{s:s, s:I, s:s, s:s, s:b}", "event", "rollback", "to",
		                         (json_int_t)h->id, "time", t, "command", h->command,
		                         "dry_run", dry_run));
	else
		printf("rollback to operation %lld (%s, %s):\n", (long long)h->id, h->command, t);
}

static int parse_id(struct stitch_ctx *ctx, char **ops, int n_ops, int64_t *id)
{
	char *end;
	long long v;

	if (n_ops != 1)
		return cmd_usage_error(ctx, "rollback takes one operation number (see stitch log)");
	errno = 0;
	v = strtoll(ops[0], &end, 10);
	if (errno || *end || v < 1)
		return cmd_usage_error(ctx, "'%s' is not an operation number (see stitch log)",
		                       ops[0]);
	*id = v;
	return EXIT_OK;
}

int cmd_rollback(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'J'},
	                                     {"dry-run", no_argument, NULL, 'N'},
	                                     {"jobs", required_argument, NULL, 'j'},
	                                     {0}};
	struct log_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_rollback rb;
	struct cmd_op op;
	int64_t id = 0;
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	rc = parse_id(ctx, ops, n_ops, &id);
	free(ops);
	if (rc != EXIT_OK)
		return rc;
	if ((rc = cmd_load_pin_overlays(ctx, NULL, NULL)) != EXIT_OK)
		return rc;
	if (stitch_rollback_prepare(ctx->sw->st, ctx->index, id, &rb, &err) != 0) {
		rc = cmd_fail(&err);
		fprintf(stderr,
		        "hint: the switch is unchanged; 'stitch log' lists the operations\n");
		return rc;
	}
	print_rollback_head(&rb.snap.entry, o.json, o.dry_run);
	cmd_op_init(ctx, &op, o.json, o.dry_run, o.jobs);
	op.ce.show_plan = true;
	rc = stitch_op_apply(ctx->sw, ctx->index, &rb.target, &op.oo, &err);
	if (rc)
		rc = cmd_fail(&err);
	else if (!o.json && !o.dry_run)
		printf("rolled back to operation %lld: %d built, %d from the artifact cache\n",
		       (long long)id, op.ce.built, op.ce.cached);
	cmd_op_release(&op);
	stitch_rollback_release(&rb);
	return rc;
}
