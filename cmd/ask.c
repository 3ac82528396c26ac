/*
 * Asking before surprising changes: a downgrade or a removal of a package
 * the user installed by name that the command did not ask for (see
 * src/surprise.h).  On a terminal, the changes and "go ahead? [y/N]", as
 * opam and apt ask; -y answers yes; off a terminal nothing blocks on a
 * question nobody sees: the command refuses, listing the changes, with a
 * hint to pass -y (as cargo and pip refuse), and with --json says so in one
 * "refused" event.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "progress.h"
#include "util.h"

static const char hint[] = "pass -y to go ahead";

/* "downgrade http 1.1.0 -> 1.0.0", "remove http 1.1.0 (needs tcp)". */
static char *change_text(const struct stitch_event *ev)
{
	if (ev->action == STITCH_ACTION_REMOVE)
		return ev->cause.kind == STITCH_CAUSE_NEEDS_REMOVED && ev->cause.subject
		           ? xasprintf("%s %s %s (needs %s)", cmd_change_word(ev->change), ev->name,
		                       ev->version, ev->cause.subject)
		           : xasprintf("%s %s %s", cmd_change_word(ev->change), ev->name,
		                       ev->version);
	return xasprintf("%s %s %s -> %s", cmd_change_word(ev->change), ev->name,
	                 ev->old_version ? ev->old_version : "?", ev->version);
}

static void print_changes(FILE *f, const struct cmd_ask *a, const struct stitch_event *changes,
                          size_t n)
{
	if (n == 1)
		fprintf(f, "stitch %s would change a package you installed by name:\n", a->what);
	else
		fprintf(f, "stitch %s would change %zu packages you installed by name:\n", a->what,
		        n);
	for (size_t i = 0; i < n; i++) {
		char *t = change_text(&changes[i]);
		fprintf(f, "  %s\n", t);
		free(t);
	}
}

/* {"event":"refused","command":...,"changes":[...],"packages":[...],"asked":...,"hint":...} */
static void print_refused_json(const struct cmd_ask *a, const struct stitch_event *changes,
                               size_t n, bool asked)
{
	json_t *words = json_array(), *names = json_array();

	for (size_t i = 0; i < n; i++) {
		char *t = change_text(&changes[i]);
		json_array_append_new(words, json_string(t));
		json_array_append_new(names, json_string(changes[i].name));
		free(t);
	}
	cmd_print_json(json_pack("{s:s, s:s, s:o, s:o, s:b, s:s}", "event", "refused", "command",
	                         a->what, "changes", words, "packages", names, "asked", asked,
	                         "hint", hint));
}

/* A line from stdin: yes for "y" or "yes" in any case; no for anything else or EOF. */
static bool read_yes(void)
{
	char line[64];
	size_t len;

	if (!fgets(line, sizeof(line), stdin))
		return false;
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	for (size_t i = 0; i < len; i++)
		line[i] = (char)tolower((unsigned char)line[i]);
	return !strcmp(line, "y") || !strcmp(line, "yes");
}

/* On the terminal: the changes, the question, the answer. */
static bool ask_terminal(const struct cmd_ask *a, const struct stitch_event *changes, size_t n)
{
	bool yes;

	cmd_status_begin_line();
	print_changes(stderr, a, changes, n);
	fputs("go ahead? [y/N] ", stderr);
	fflush(stderr);
	yes = read_yes();
	if (!yes)
		fputs("nothing changed\n", stderr);
	cmd_status_end_line();
	return yes;
}

bool cmd_ask_confirm(void *data, const struct stitch_event *changes, size_t n)
{
	struct cmd_ask *a = data;

	if (!n || a->ctx->yes)
		return true;
	if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
		if (ask_terminal(a, changes, n))
			return true;
		if (a->json)
			print_refused_json(a, changes, n, true);
		return false;
	}
	if (a->json)
		print_refused_json(a, changes, n, false);
	cmd_status_stop();
	cmd_paint(stderr, CMD_STYLE_ERROR, "error:");
	fputc(' ', stderr);
	print_changes(stderr, a, changes, n);
	fprintf(stderr, "hint: %s (stitch asks only when stdin and stderr are a terminal)\n", hint);
	return false;
}

void cmd_ask_init(struct cmd_ask *a, struct stitch_ctx *ctx, const char *what, bool json,
                  struct cmd_op *op)
{
	a->ctx = ctx;
	a->what = what;
	a->json = json;
	if (op) {
		op->oo.confirm = cmd_ask_confirm;
		op->oo.confirm_data = a;
	}
}
