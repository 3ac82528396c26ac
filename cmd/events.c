/* How operations report progress: lines for people, JSON lines for CI. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "op.h"

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

/*
 * JSON events: {"event": "package", "name", "version", "action": built |
 * rebuilt | cached | kept | failed | removed, "change": install | upgrade |
 * downgrade | rebuild | remove, "reason", "seconds"}, plus "building"
 * when a build starts, "plan" entries for --dry-run, "explain" (why the
 * artifact cache could not serve a package) and "cache" (action stored,
 * uploaded, rejected, upload-failed, not-stored).
 */
static const char *json_action(const struct stitch_event *ev)
{
	if (!strcmp(ev->kind, "cached"))
		return "cached";
	if (!strcmp(ev->kind, "done"))
		return !strcmp(ev->action, "remove")    ? "removed"
		       : !strcmp(ev->action, "rebuild") ? "rebuilt"
		                                        : "built";
	if (!strcmp(ev->kind, "failed"))
		return "failed";
	return "kept"; /* kept, skipped: the previous build stays */
}

static void print_json(const struct stitch_event *ev)
{
	bool final = !strcmp(ev->kind, "done") || !strcmp(ev->kind, "cached") ||
	             !strcmp(ev->kind, "kept") || !strcmp(ev->kind, "failed") ||
	             !strcmp(ev->kind, "skipped");
	const char *kind = final ? "package" : !strcmp(ev->kind, "build") ? "building" : ev->kind;
	json_t *o =
	    json_pack("{s:s, s:s, s:s}", "event", kind, "name", ev->name, "version", ev->version);

	if (final)
		json_object_set_new(o, "action", json_string(json_action(ev)));
	if (ev->action)
		json_object_set_new(
		    o, final ? "change" : "action",
		    json_string(!strcmp(ev->kind, "kept") || !strcmp(ev->kind, "skipped")
		                    ? "keep"
		                    : ev->action));
	if (ev->old_version)
		json_object_set_new(o, "old_version", json_string(ev->old_version));
	if (ev->reason)
		json_object_set_new(o, "reason", json_string(ev->reason));
	if (!strcmp(ev->kind, "done") || !strcmp(ev->kind, "failed") || !strcmp(ev->kind, "cached"))
		json_object_set_new(o, "seconds",
		                    json_real((double)(long)(ev->seconds * 1000) / 1000));
	if (ev->err) {
		json_object_set_new(o, "error", json_string(ev->err->msg));
		if (ev->err->cause[0])
			json_object_set_new(o, "detail", json_string(ev->err->cause));
	}
	cmd_print_json(o);
}

static int atoi_or_zero(const char *s)
{
	long v = s ? strtol(s, NULL, 10) : 0;
	return v > 0 && v < 1000000 ? (int)v : 0;
}

static const char *past(const char *action)
{
	if (!strcmp(action, "install"))
		return "installed";
	if (!strcmp(action, "upgrade"))
		return "upgraded";
	if (!strcmp(action, "downgrade"))
		return "downgraded";
	if (!strcmp(action, "rebuild"))
		return "rebuilt";
	if (!strcmp(action, "remove"))
		return "removed";
	return "kept";
}

void cmd_print_event(void *data, const struct stitch_event *ev)
{
	struct cmd_events *ce = data;

	if (!strcmp(ev->kind, "done"))
		ce->built++;
	else if (!strcmp(ev->kind, "cached"))
		ce->cached++;
	else if (!strcmp(ev->kind, "failed"))
		ce->failed++;
	if (!strcmp(ev->kind, "fetch")) {
		/* name "sources", version: how many */
		if (ce->json) {
			cmd_print_json(json_pack("{s:s, s:i, s:f}", "event", "fetch", "count",
			                         atoi_or_zero(ev->version), "seconds",
			                         (double)(long)(ev->seconds * 1000) / 1000));
		} else {
			printf("fetched %s source%s in %.2f s\n", ev->version,
			       strcmp(ev->version, "1") ? "s" : "", ev->seconds);
		}
		fflush(stdout);
		return;
	}
	if (ce->json) {
		if (strcmp(ev->kind, "plan") != 0 || ce->dry_run)
			print_json(ev);
		return;
	}
	if (!strcmp(ev->kind, "cache")) {
		/* Storing is silent; what went wrong is a warning, not a failure. */
		if (ev->err)
			fprintf(stderr, "warning: artifact cache, %s %s: %s%s%s\n", ev->name,
			        ev->version, ev->err->msg, ev->reason ? "; " : "",
			        ev->reason ? ev->reason : "");
		return;
	}
	if (!strcmp(ev->kind, "explain")) {
		printf("%s %s: not from the cache: %s\n", ev->name, ev->version, ev->reason);
		fflush(stdout);
		return;
	}
	if (!strcmp(ev->kind, "cached")) {
		printf("%s %s: %s in %.2f s\n", ev->name, ev->version, ev->reason, ev->seconds);
		fflush(stdout);
		return;
	}
	if (!strcmp(ev->kind, "pin")) {
		if (strstr(ev->reason, "not part of"))
			fprintf(stderr, "warning: pin %s %s at %s\n", ev->name, ev->version,
			        ev->reason);
		else
			printf("pin %s %s: %s\n", ev->name, ev->version, ev->reason);
		return;
	}
	if (!strcmp(ev->kind, "plan")) {
		if (!ce->dry_run)
			return;
		if (ev->old_version && strcmp(ev->old_version, ev->version) != 0)
			printf("%-10s%s %s -> %s\n", ev->action, ev->name, ev->old_version,
			       ev->version);
		else
			printf("%-10s%s %s\n", ev->action, ev->name, ev->version);
	} else if (!strcmp(ev->kind, "build")) {
		/* The result line says it all; a start line only for slow builds would be noise. */
	} else if (!strcmp(ev->kind, "kept")) {
		if (ev->reason && strcmp(ev->reason, "up to date") != 0)
			printf("%s %s: kept (%s)\n", ev->name, ev->version, ev->reason);
	} else if (!strcmp(ev->kind, "done")) {
		if (!strcmp(ev->action, "remove"))
			printf("%s %s: removed\n", ev->name, ev->version);
		else if (ev->old_version && strcmp(ev->old_version, ev->version) != 0)
			printf("%s %s: %s from %s in %.2f s\n", ev->name, ev->version,
			       past(ev->action), ev->old_version, ev->seconds);
		else if (ev->reason && strcmp(ev->reason, "new") != 0)
			printf("%s %s: %s in %.2f s (%s)\n", ev->name, ev->version,
			       past(ev->action), ev->seconds, ev->reason);
		else
			printf("%s %s: %s in %.2f s\n", ev->name, ev->version, past(ev->action),
			       ev->seconds);
	} else if (!strcmp(ev->kind, "failed")) {
		printf("%s %s: failed after %.2f s\n", ev->name, ev->version, ev->seconds);
	} else if (!strcmp(ev->kind, "skipped")) {
		printf("%s %s: %s\n", ev->name, ev->version, ev->reason ? ev->reason : "not built");
	}
	fflush(stdout);
}
