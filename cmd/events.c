/*
 * How operations report progress: lines for people, JSON lines for CI.
 * The library's events are typed (src/event.h); the tables below are the
 * one place their enums become words, for the text and for --json alike.
 * The vocabulary is share/doc/events.md.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "op.h"
#include "progress.h"
#include "util.h"

void cmd_print_json(json_t *o)
{
	char *text;

	if (!o)
		return;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (text)
		puts(text);
	fflush(stdout);
	free(text);
	json_decref(o);
}

/* A plan's action, as --dry-run and "plan" events say it. */
static const char *const action_word[STITCH_ACTION__COUNT] = {
    [STITCH_ACTION_KEEP] = "keep",       [STITCH_ACTION_BUILD] = "build",
    [STITCH_ACTION_REBUILD] = "rebuild", [STITCH_ACTION_CACHED] = "cached",
    [STITCH_ACTION_REMOVE] = "remove",   [STITCH_ACTION_RELINK] = "relink",
};

/* The same action, done: the "action" of a "package" event. */
static const char *const action_done[STITCH_ACTION__COUNT] = {
    [STITCH_ACTION_KEEP] = "kept",       [STITCH_ACTION_BUILD] = "built",
    [STITCH_ACTION_REBUILD] = "rebuilt", [STITCH_ACTION_CACHED] = "cached",
    [STITCH_ACTION_REMOVE] = "removed",  [STITCH_ACTION_RELINK] = "relinked",
};

/* A change of version, present and past (indexed by enum stitch_change_action). */
static const char *const change_word[STITCH_CHANGE__COUNT] = {
    [STITCH_CHANGE_INSTALL] = "install",     [STITCH_CHANGE_UPGRADE] = "upgrade",
    [STITCH_CHANGE_DOWNGRADE] = "downgrade", [STITCH_CHANGE_REMOVE] = "remove",
    [STITCH_CHANGE_REBUILD] = "rebuild",     [STITCH_CHANGE_PIN] = "pin",
    [STITCH_CHANGE_UNPIN] = "unpin",
};
static const char *const change_past[STITCH_CHANGE__COUNT] = {
    [STITCH_CHANGE_INSTALL] = "installed",    [STITCH_CHANGE_UPGRADE] = "upgraded",
    [STITCH_CHANGE_DOWNGRADE] = "downgraded", [STITCH_CHANGE_REMOVE] = "removed",
    [STITCH_CHANGE_REBUILD] = "rebuilt",      [STITCH_CHANGE_PIN] = "pinned",
    [STITCH_CHANGE_UNPIN] = "unpinned",
};

const char *cmd_change_word(int change)
{
	if (change < 0 || change >= STITCH_CHANGE__COUNT)
		return "change";
	return change_word[change];
}

const char *cmd_change_past(int change)
{
	if (change < 0 || change >= STITCH_CHANGE__COUNT)
		return "changed";
	return change_past[change];
}

/* Why: the format of each cause (%s its subject; FILES_CHANGED has its own). */
static const char *const cause_fmt[STITCH_CAUSE__COUNT] = {
    [STITCH_CAUSE_NONE] = NULL,
    [STITCH_CAUSE_NEW] = "new",
    [STITCH_CAUSE_PIN_FIRST] = "pinned, first build",
    [STITCH_CAUSE_VERSION] = "from %s",
    [STITCH_CAUSE_UP_TO_DATE] = "up to date",
    [STITCH_CAUSE_DEP_UNCHANGED] = "interface of %s unchanged",
    [STITCH_CAUSE_DEP_PENDING] = "rebuilt if the interface of %s changes",
    [STITCH_CAUSE_PIN_ADDED] = "newly pinned",
    [STITCH_CAUSE_PIN_REMOVED] = "pin removed, back to the release",
    [STITCH_CAUSE_FILES_CHANGED] = "%zu file%s changed (%s)",
    [STITCH_CAUSE_TREE_DIFFERS] = "its tree differs from the last build",
    [STITCH_CAUSE_SOURCE_CHANGED] = "its source changed",
    [STITCH_CAUSE_DEP_CHANGED] = "interface of %s changed",
    [STITCH_CAUSE_RECIPE] = "its recipe or toolchain changed",
    [STITCH_CAUSE_DEP_FAILED] = "not built: %s failed",
    [STITCH_CAUSE_REQUESTED] = "requested",
    [STITCH_CAUSE_NEEDS_REMOVED] = "needs %s",
};

static const char *const cache_word[STITCH_CACHE__COUNT] = {
    [STITCH_CACHE_STORED] = "stored",         [STITCH_CACHE_UPLOADED] = "uploaded",
    [STITCH_CACHE_REJECTED] = "rejected",     [STITCH_CACHE_UPLOAD_FAILED] = "upload-failed",
    [STITCH_CACHE_NOT_STORED] = "not-stored", [STITCH_CACHE_UNREACHABLE] = "unreachable",
};
/* What happens next, said after a cache problem. */
static const char *const cache_then[STITCH_CACHE__COUNT] = {
    [STITCH_CACHE_REJECTED] = "built instead",
    [STITCH_CACHE_UNREACHABLE] = "not asked again by this command",
};

static const char *const pin_word[STITCH_PIN__COUNT] = {
    [STITCH_PIN_UNCHANGED] = "unchanged",
    [STITCH_PIN_CHANGED] = "changed",
    [STITCH_PIN_UNUSED] = "unused",
    [STITCH_PIN_MISSING] = "missing",
};

const char *cmd_pin_word(int state)
{
	return pin_word[state];
}

/* The "result" of a package's "test" event. */
static const char *const test_word[STITCH_TEST__COUNT] = {
    [STITCH_TEST_NONE] = "none",
    [STITCH_TEST_PASSED] = "passed",
    [STITCH_TEST_FAILED] = "failed",
};

static const char *change_of(const struct stitch_event *ev)
{
	if (ev->change == STITCH_PLAN_KEEP)
		return ev->action == STITCH_ACTION_KEEP ? "keep" : "rebuild";
	return change_word[ev->change];
}

static const char *change_done(const struct stitch_event *ev)
{
	return ev->change == STITCH_PLAN_KEEP ? change_past[STITCH_CHANGE_REBUILD]
	                                      : change_past[ev->change];
}

/*
 * A dependency's interface with the file that made the difference:
 * "interface of ipv4 changed in include/ipv4.h", "interface of ipv4
 * unchanged: include/ipv4.h differs only in comments or whitespace".
 */
static const char *dep_cause_text(const struct stitch_event *ev, char *buf, size_t len)
{
	const struct stitch_cause *c = &ev->cause;
	char more[64] = "";

	if (c->count > 1)
		snprintf(more, sizeof(more), " and %zu more file%s", c->count - 1,
		         c->count == 2 ? "" : "s");
	if (c->kind == STITCH_CAUSE_DEP_CHANGED)
		snprintf(buf, len, "interface of %s changed in %s%s", c->subject, c->detail, more);
	else
		snprintf(buf, len,
		         "interface of %s unchanged: %s%s differ%s only in comments or whitespace",
		         c->subject, c->detail, more, c->count > 1 ? "" : "s");
	return buf;
}

/* The cause in words, into buf; NULL when there is none. */
static const char *cause_text(const struct stitch_event *ev, char *buf, size_t len)
{
	const struct stitch_cause *c = &ev->cause;
	const char *fmt = cause_fmt[c->kind];

	if (!fmt)
		return NULL;
	if (c->detail &&
	    (c->kind == STITCH_CAUSE_DEP_CHANGED || c->kind == STITCH_CAUSE_DEP_UNCHANGED))
		return dep_cause_text(ev, buf, len);
	if (c->kind == STITCH_CAUSE_FILES_CHANGED)
		snprintf(buf, len, fmt, c->count, c->count == 1 ? "" : "s",
		         c->subject ? c->subject : "?");
	else if (c->kind == STITCH_CAUSE_VERSION)
		snprintf(buf, len, "%s from %s", change_of(ev), c->subject);
	else
		snprintf(buf, len, fmt, c->subject ? c->subject : "?");
	return buf;
}

double cmd_json_seconds(double s)
{
	return (double)(long)(s * 1000) / 1000;
}

static void json_error_fields(json_t *o, const struct stitch_err *err)
{
	if (!err)
		return;
	json_object_set_new(o, "error", json_string(err->msg));
	if (err->cause[0])
		json_object_set_new(o, "detail", json_string(err->cause));
}

/* The "event" word of each kind in --json. */
static const char *const json_kind[STITCH_EV__COUNT] = {
    [STITCH_EV_PLAN] = "plan",       [STITCH_EV_FETCH] = "fetch",
    [STITCH_EV_START] = "building",  [STITCH_EV_DONE] = "package",
    [STITCH_EV_CACHED] = "package",  [STITCH_EV_KEPT] = "package",
    [STITCH_EV_FAILED] = "package",  [STITCH_EV_SKIPPED] = "package",
    [STITCH_EV_EXPLAIN] = "explain", [STITCH_EV_CACHE] = "cache",
    [STITCH_EV_PIN] = "pin",         [STITCH_EV_TEST_START] = "testing",
    [STITCH_EV_TESTED] = "test",     [STITCH_EV_DOWNLOAD] = "download",
    [STITCH_EV_LINK] = "linking",
};

/* The "action" of a "package" event: what happened to it. */
static const char *package_action(const struct stitch_event *ev)
{
	switch (ev->kind) {
	case STITCH_EV_FAILED:
		return "failed";
	case STITCH_EV_SKIPPED:
		return "skipped";
	case STITCH_EV_KEPT:
		return "kept";
	case STITCH_EV_CACHED:
		return "cached";
	default:
		return action_done[ev->action];
	}
}

static json_t *json_package(const struct stitch_event *ev, const char *reason)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "event", json_kind[ev->kind], "name", ev->name,
	                      "version", ev->version);

	/* The version it had, when it changes. */
	if (ev->old_version && strcmp(ev->old_version, ev->version) != 0)
		json_object_set_new(o, "old_version", json_string(ev->old_version));
	if (ev->kind == STITCH_EV_PLAN || ev->kind == STITCH_EV_START)
		json_object_set_new(o, "action", json_string(action_word[ev->action]));
	else
		json_object_set_new(o, "action", json_string(package_action(ev)));
	json_object_set_new(o, "change", json_string(change_of(ev)));
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	if ((ev->kind == STITCH_EV_DONE && ev->action != STITCH_ACTION_REMOVE) ||
	    ev->kind == STITCH_EV_FAILED || ev->kind == STITCH_EV_CACHED)
		json_object_set_new(o, "seconds", json_real(cmd_json_seconds(ev->build.seconds)));
	if (ev->kind == STITCH_EV_CACHED)
		json_object_set_new(o, "from", json_string(ev->build.where));
	json_error_fields(o, ev->err);
	return o;
}

static void print_json(const struct stitch_event *ev)
{
	char why[1200];
	json_t *o;

	switch (ev->kind) {
	case STITCH_EV_FETCH:
		o = json_pack("{s:s, s:i, s:f}", "event", "fetch", "count", (int)ev->fetch.count,
		              "seconds", cmd_json_seconds(ev->fetch.seconds));
		json_error_fields(o, ev->err);
		break;
	case STITCH_EV_EXPLAIN:
		o = json_pack("{s:s, s:s, s:s, s:s}", "event", "explain", "name", ev->name,
		              "version", ev->version, "reason", ev->explain.text);
		break;
	case STITCH_EV_CACHE:
		o = json_pack("{s:s, s:s, s:s, s:s}", "event", "cache", "name", ev->name, "version",
		              ev->version, "action", cache_word[ev->cache.what]);
		if (cache_then[ev->cache.what])
			json_object_set_new(o, "reason", json_string(cache_then[ev->cache.what]));
		json_error_fields(o, ev->err);
		break;
	case STITCH_EV_PIN:
		o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "event", "pin", "name", ev->name,
		              "version", ev->version, "path", ev->pin.path, "state",
		              pin_word[ev->pin.state]);
		break;
	case STITCH_EV_TEST_START:
		o = json_pack("{s:s, s:s, s:s}", "event", json_kind[ev->kind], "name", ev->name,
		              "version", ev->version);
		break;
	case STITCH_EV_TESTED:
		o = json_pack("{s:s, s:s, s:s, s:s}", "event", json_kind[ev->kind], "name",
		              ev->name, "version", ev->version, "result",
		              test_word[ev->test.result]);
		if (ev->test.result != STITCH_TEST_NONE)
			json_object_set_new(o, "seconds",
			                    json_real(cmd_json_seconds(ev->test.seconds)));
		json_error_fields(o, ev->err);
		break;
	case STITCH_EV_DOWNLOAD:
		o = json_pack(
		    "{s:s, s:s, s:s, s:I, s:o}", "event", "download", "name", ev->name, "version",
		    ev->version, "bytes", (json_int_t)ev->download.bytes, "total",
		    ev->download.total < 0 ? json_null() : json_integer(ev->download.total));
		break;
	case STITCH_EV_LINK:
		o = json_pack("{s:s, s:s, s:s}", "event", "linking", "name", ev->name, "target",
		              ev->link.target);
		break;
	default:
		o = json_package(ev, cause_text(ev, why, sizeof(why)));
	}
	cmd_print_json(o);
}

static void print_plan_line(const struct stitch_event *ev)
{
	char why[1200];
	const char *c = cause_text(ev, why, sizeof(why));
	const char *word = ev->change == STITCH_PLAN_KEEP && ev->action != STITCH_ACTION_KEEP
	                       ? action_word[ev->action]
	                       : change_of(ev);

	if (ev->old_version && strcmp(ev->old_version, ev->version) != 0)
		printf("%-10s%s %s -> %s", word, ev->name, ev->old_version, ev->version);
	else
		printf("%-10s%s %s", word, ev->name, ev->version);
	if ((ev->action == STITCH_ACTION_BUILD || ev->action == STITCH_ACTION_CACHED) &&
	    (ev->cause.kind == STITCH_CAUSE_NEW || ev->cause.kind == STITCH_CAUSE_VERSION))
		printf(" (%s)", action_word[ev->action]);
	else if (ev->action == STITCH_ACTION_BUILD || ev->action == STITCH_ACTION_CACHED)
		printf(" (%s: %s)", action_word[ev->action], c);
	else if (c && ev->cause.kind != STITCH_CAUSE_UP_TO_DATE &&
	         ev->cause.kind != STITCH_CAUSE_REQUESTED)
		printf(" (%s)", c);
	putchar('\n');
}

static void print_done_line(const struct stitch_event *ev)
{
	char why[1200];
	const char *c = cause_text(ev, why, sizeof(why));
	double s = ev->build.seconds;

	printf("%s %s: ", ev->name, ev->version);
	if (ev->action == STITCH_ACTION_REMOVE) {
		cmd_paint(stdout, CMD_STYLE_GOOD, "removed");
		putchar('\n');
		return;
	}
	cmd_paint(stdout, CMD_STYLE_GOOD, change_done(ev));
	if (ev->old_version && strcmp(ev->old_version, ev->version) != 0)
		printf(" from %s in %.2f s\n", ev->old_version, s);
	else if (c && ev->cause.kind != STITCH_CAUSE_NEW)
		printf(" in %.2f s (%s)\n", s, c);
	else
		printf(" in %.2f s\n", s);
}

static void print_cache_line(const struct stitch_event *ev)
{
	const char *then = cache_then[ev->cache.what];

	/* Storing is silent; what went wrong is a warning, not a failure. */
	if (!ev->err)
		return;
	cmd_paint(stderr, CMD_STYLE_WARNING, "warning:");
	fprintf(stderr, " artifact cache, %s %s: %s%s%s\n", ev->name, ev->version, ev->err->msg,
	        then ? "; " : "", then ? then : "");
}

static void print_pin_line(const struct stitch_event *ev)
{
	if (ev->pin.state == STITCH_PIN_UNUSED) {
		cmd_paint(stderr, CMD_STYLE_WARNING, "warning:");
		fprintf(stderr, " pin %s %s at %s: not part of what gets built\n", ev->name,
		        ev->version, ev->pin.path);
	} else
		printf("pin %s %s: %s (%s since pinned)\n", ev->name, ev->version, ev->pin.path,
		       pin_word[ev->pin.state]);
}

static void print_test_line(const struct stitch_event *ev)
{
	if (ev->test.result == STITCH_TEST_NONE)
		printf("%s %s: no tests (its recipe has no \"test\" commands)\n", ev->name,
		       ev->version);
	else
		printf("%s %s: tests %s %s %.2f s\n", ev->name, ev->version,
		       test_word[ev->test.result],
		       ev->test.result == STITCH_TEST_PASSED ? "in" : "after", ev->test.seconds);
}

static void print_text(const struct cmd_events *ce, const struct stitch_event *ev)
{
	char why[1200];
	const char *c = cause_text(ev, why, sizeof(why));

	switch (ev->kind) {
	case STITCH_EV_PLAN:
		if (ce->dry_run || ce->show_plan)
			print_plan_line(ev);
		break;
	case STITCH_EV_FETCH:
		printf("fetched %zu source%s in %.2f s\n", ev->fetch.count,
		       ev->fetch.count == 1 ? "" : "s", ev->fetch.seconds);
		break;
	case STITCH_EV_START:
	case STITCH_EV_DOWNLOAD:
	case STITCH_EV_LINK:
		/* The result line says it all; these feed the status line only. */
		break;
	case STITCH_EV_DONE:
		print_done_line(ev);
		break;
	case STITCH_EV_CACHED:
		printf("%s %s: from the %s artifact cache in %.2f s\n", ev->name, ev->version,
		       ev->build.where, ev->build.seconds);
		break;
	case STITCH_EV_KEPT:
		if (c && ev->cause.kind != STITCH_CAUSE_UP_TO_DATE)
			printf("%s %s: kept (%s)\n", ev->name, ev->version, c);
		break;
	case STITCH_EV_FAILED:
		printf("%s %s: ", ev->name, ev->version);
		cmd_paint(stdout, CMD_STYLE_BAD, "failed");
		printf(" after %.2f s\n", ev->build.seconds);
		break;
	case STITCH_EV_SKIPPED:
		printf("%s %s: %s\n", ev->name, ev->version, c ? c : "not built");
		break;
	case STITCH_EV_EXPLAIN:
		printf("%s %s: not from the cache: %s\n", ev->name, ev->version, ev->explain.text);
		break;
	case STITCH_EV_CACHE:
		print_cache_line(ev);
		break;
	case STITCH_EV_PIN:
		print_pin_line(ev);
		break;
	case STITCH_EV_TEST_START:
		/* As for builds, the result line says it all. */
		break;
	case STITCH_EV_TESTED:
		print_test_line(ev);
		break;
	case STITCH_EV__COUNT:
		break;
	}
	fflush(stdout);
}

/*
 * Whether ev prints no line, so that the status line is left alone: as
 * text, the events that only feed it; with -q, all but failures and
 * warnings; with --json, plans without --dry-run and downloads between
 * their lines (one a second, and the last, when the body is whole).
 */
static bool prints_nothing(const struct cmd_events *ce, const struct stitch_event *ev)
{
	static double last_download;

	if (ev->kind == STITCH_EV_PLAN)
		return !ce->dry_run && !ce->show_plan;
	if (ce->json && ev->kind == STITCH_EV_DOWNLOAD) {
		if (ev->download.bytes != ev->download.total && stitch_now() - last_download < 1)
			return true;
		last_download = stitch_now();
		return false;
	}
	if (ce->json)
		return false;
	switch (ev->kind) {
	case STITCH_EV_START:
	case STITCH_EV_DOWNLOAD:
	case STITCH_EV_LINK:
		return true;
	case STITCH_EV_CACHE:
		return !ev->err;
	case STITCH_EV_FAILED:
		return false;
	case STITCH_EV_PIN:
		return cmd_verbosity() == CMD_QUIET && ev->pin.state != STITCH_PIN_UNUSED;
	default:
		return cmd_verbosity() == CMD_QUIET;
	}
}

void cmd_print_event(void *data, const struct stitch_event *ev)
{
	struct cmd_events *ce = data;

	if (ev->kind == STITCH_EV_DONE)
		ce->built++;
	else if (ev->kind == STITCH_EV_CACHED)
		ce->cached++;
	else if (ev->kind == STITCH_EV_FAILED)
		ce->failed++;
	cmd_status_event(ev);
	if (prints_nothing(ce, ev))
		return;
	cmd_status_begin_line();
	if (ce->json)
		print_json(ev);
	else
		print_text(ce, ev);
	cmd_status_end_line();
}
