/*
 * stitch help [COMMAND], stitch COMMAND --help, "did you mean" for a
 * mistyped command, and the man page (stitch --print-man): all from the
 * command table, read through usage.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "suggest.h"
#include "usage.h"
#include "util.h"

#define MAX_COMMANDS 64
/* The date of the page's last change in wording outside the table. */
#define MAN_DATE "2026-12-05"

/* The summary as a sentence: "list installed packages" -> "List installed packages." */
static void print_sentence(FILE *out, const char *s)
{
	fputc(toupper((unsigned char)s[0]), out);
	fprintf(out, "%s.\n", s + 1);
}

void cmd_print_help(FILE *out, const struct cmd_entry *cmd)
{
	fputs(cmd->usage, out);
	/* A usage that is only a synopsis gets the summary as its description. */
	if (!strstr(cmd->usage, "\n\n")) {
		fputc('\n', out);
		print_sentence(out, cmd->summary);
	}
}

const char *cmd_suggest_command(const char *word)
{
	const struct cmd_entry *cmds[MAX_COMMANDS];
	size_t n = usage_visible_commands(cmds, MAX_COMMANDS);
	struct stitch_suggest s;

	stitch_suggest_init(&s, word);
	for (size_t i = 0; i < n; i++)
		stitch_suggest_consider(&s, cmds[i]->name);
	stitch_suggest_consider(&s, "help");
	return s.best;
}

int cmd_unknown_command(const char *word)
{
	const char *near = cmd_suggest_command(word);

	if (near)
		fprintf(stderr, "error: unknown command '%s'; did you mean '%s'?\n", word, near);
	else
		fprintf(stderr, "error: unknown command '%s'\nhint: see 'stitch --help'\n", word);
	return EXIT_USAGE;
}

/* ---- the man page ---- */

/*
 * One line of text as roff: backslashes escaped, a leading dot or quote
 * made literal, and the hyphens of an option ("--json") as minus signs.
 */
static void roff_text(FILE *out, const char *s, size_t len)
{
	bool word_is_opt = false;

	if (len && (s[0] == '.' || s[0] == '\''))
		fputs("\\&", out);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (i == 0 || strchr(" [(|,", s[i - 1]))
			word_is_opt = c == '-';
		if (c == ' ' || c == ',')
			word_is_opt = false;
		if (c == '\\')
			fputs("\\e", out);
		else if (c == '-' && word_is_opt)
			fputs("\\-", out);
		else
			fputc(c, out);
	}
	fputc('\n', out);
}

/* A paragraph break is written before the next prose only: .TP breaks already. */
struct man_out {
	FILE *f;
	bool pending_pp;
};

static void man_para(void *data)
{
	((struct man_out *)data)->pending_pp = true;
}

static void man_text(void *data, const char *line, size_t len)
{
	struct man_out *m = data;

	if (m->pending_pp)
		fputs(".PP\n", m->f);
	m->pending_pp = false;
	roff_text(m->f, line, len);
}

static void man_entry(void *data, const char *term, size_t tlen, const char *desc)
{
	struct man_out *m = data;
	FILE *out = m->f;

	m->pending_pp = false;
	fputs(".TP\n\\fB", out);
	/* The term bold up to its value words, which are italic. */
	for (size_t i = 0; i < tlen;) {
		size_t w = strcspn(term + i, " ,");
		if (w > tlen - i)
			w = tlen - i;
		if (isupper((unsigned char)term[i]))
			fputs("\\fI", out);
		for (size_t k = i; k < i + w; k++) {
			if (term[k] == '-')
				fputc('\\', out);
			fputc(term[k], out);
		}
		fputs("\\fB", out);
		i += w;
		while (i < tlen && (term[i] == ' ' || term[i] == ',')) {
			fputc(term[i], out);
			i++;
		}
	}
	fputs("\\fR\n", out);
	roff_text(out, desc, strlen(desc));
}

/* The synopsis as the usage text lays it out, "usage: " and its indent dropped. */
static void man_synopsis(FILE *out, const char *text)
{
	for (const char *p = text; *p && *p != '\n';) {
		size_t n = strcspn(p, "\n"), skip = 0;
		if (strncmp(p, "usage: ", 7) == 0)
			skip = 7;
		else
			while (skip < n && skip < 7 && p[skip] == ' ')
				skip++;
		roff_text(out, p + skip, n - skip);
		p += n + (p[n] ? 1 : 0);
	}
}

static void man_command(FILE *out, const struct cmd_entry *cmd)
{
	struct man_out m = {out, true};
	struct usage_walker w = {man_para, man_text, man_entry, &m};

	fprintf(out, ".SS %s\n", cmd->name);
	print_sentence(out, cmd->summary);
	fputs(".PP\n.nf\n", out);
	man_synopsis(out, cmd->usage);
	fputs(".fi\n", out);
	if (strstr(cmd->usage, "\n\n"))
		usage_walk(cmd->usage, true, &w);
}

void cmd_print_man(FILE *out)
{
	const struct cmd_entry *cmds[MAX_COMMANDS];
	size_t n = usage_visible_commands(cmds, MAX_COMMANDS);
	const char *main_text;
	struct man_out m = {out, false};
	struct usage_walker w = {man_para, man_text, man_entry, &m};
	/* The global text's lists, without its trailing "Commands:" heading. */
	char *globals;

	cmd_commands(NULL, &main_text);
	globals = xstrdup(main_text);
	if (strstr(globals, "\nCommands:"))
		strstr(globals, "\nCommands:")[1] = '\0';
	fputs(".\\\" Made by 'stitch --print-man' from the command table in cmd/main.c.\n"
	      ".TH STITCH 1 " MAN_DATE " \"stitch " STITCH_VERSION "\" \"User Commands\"\n"
	      ".SH NAME\n"
	      "stitch \\- a package manager for C unikernel libraries\n"
	      ".SH SYNOPSIS\n"
	      ".nf\n",
	      out);
	man_synopsis(out, main_text);
	fputs(".fi\n"
	      ".SH DESCRIPTION\n"
	      "stitch resolves versions from a JSON package index, fetches (SHA\\-256\n"
	      "verified), builds and installs libraries into a switch, pins any\n"
	      "library to a local checkout, and builds unikernel images.\n"
	      ".SH OPTIONS\n",
	      out);
	usage_walk(globals, true, &w);
	fputs(".SH COMMANDS\n", out);
	for (size_t i = 0; i < n; i++)
		man_command(out, cmds[i]);
	fputs(".SH EXIT STATUS\n"
	      "0 done, 1 error, 2 usage error, 3 no solution (explained on stderr).\n"
	      ".SH ENVIRONMENT\n"
	      ".TP\n\\fBSTITCH_ROOT\\fR\n"
	      "the stitch root when \\fB\\-\\-root\\fR is not given (else ~/.stitch)\n"
	      ".TP\n\\fBSTITCH_JOBS\\fR\n"
	      "parallel jobs inside each build when \\fB\\-j\\fR is not given\n"
	      ".SH SEE ALSO\n"
	      "\\fBstitch COMMAND \\-\\-help\\fR prints a command's section of this page.\n",
	      out);
	free(globals);
}
