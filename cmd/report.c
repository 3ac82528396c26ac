/*
 * How a failure reaches the user: "error: ..." on stderr, its cause lines,
 * and the exit status, mapped from the library's error codes in one place.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "progress.h"
#include "util.h"

int cmd_exit_code(int code)
{
	switch (code) {
	case STITCH_OK:
		return EXIT_OK;
	case STITCH_E_UNSAT:
		return EXIT_UNSAT;
	case STITCH_E_INTERNAL:
		return EXIT_INTERNAL;
	default:
		return EXIT_ERROR;
	}
}

/* Each line of text, indented; lines starting with "hint:" flush left. */
static void print_lines(const char *text, const char *indent)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		bool hint = strncmp(p, "hint:", 5) == 0;
		fprintf(stderr, "%s%.*s\n", hint ? "" : indent, (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

/* "error:" starts every failure: the status line goes first, for good. */
static void error_prefix(void)
{
	cmd_status_stop();
	cmd_paint(stderr, CMD_STYLE_ERROR, "error:");
	fputc(' ', stderr);
}

int cmd_fail(const struct stitch_err *err)
{
	error_prefix();
	fprintf(stderr, "%s\n", err->msg[0] ? err->msg : stitch_strerror(err->code));
	if (err->cause[0])
		print_lines(err->cause, "    ");
	if (err->code == STITCH_E_INTERNAL)
		fprintf(stderr, "this is a bug in stitch: please report it with the command "
		                "that failed\n");
	return cmd_exit_code(err->code ? err->code : STITCH_E_IO);
}

int cmd_fail_solve(const struct stitch_err *err, const struct stitch_buf *why)
{
	if (err->code != STITCH_E_UNSAT)
		return cmd_fail(err);
	error_prefix();
	fprintf(stderr, "%s\n", err->msg);
	print_lines(why->buf, "  ");
	return EXIT_UNSAT;
}

static void verror(const char *fmt, va_list ap)
{
	error_prefix();
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cmd_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	return EXIT_ERROR;
}

int cmd_usage_error(struct stitch_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	if (ctx && ctx->cmd)
		fprintf(stderr, "hint: see 'stitch %s --help'\n", ctx->cmd->name);
	else
		fputs("hint: see 'stitch --help'\n", stderr);
	return EXIT_USAGE;
}
