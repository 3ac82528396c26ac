/*
 * The command-line front end: shared context and helpers for subcommands.
 * Each subcommand lives in its own file and is listed in the one table in
 * cmd/main.c.  A subcommand returns the process exit status:
 * 0 ok, 1 error, 2 usage error, 3 no solution.
 */
#ifndef STITCH_CMD_H
#define STITCH_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "index.h"
#include "switch.h"

enum {
	EXIT_OK = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_UNSAT = 3,
	EXIT_INTERNAL = 4, /* a bug in stitch: a check of its own work failed */
};

/* The exit status for a library error code: the one place they are mapped. */
int cmd_exit_code(int code);

/* What a command needs set up before it runs (flags of struct cmd_entry). */
enum {
	NEED_ROOT = 1 << 0, /* the root directory exists (created if missing) */
	NEED_INDEX = 1 << 1, /* ctx->index holds the repositories in use */
	NEED_SWITCH = 1 << 2, /* ctx->sw is the switch in use, locked for writing */
	NEED_SWITCH_RO = 1 << 3, /* ctx->sw is the switch in use, locked for reading */
	CMD_HIDDEN = 1 << 4, /* for scripts: not in the help, man page or completion */
};

struct stitch_ctx {
	const char *root; /* --root, else $STITCH_ROOT, else ~/.stitch */
	size_t n_repo_args; /* --repo given this many times */
	const char **repo_args;
	struct stitch_index *index; /* NEED_INDEX */
	const char *switch_arg; /* --switch DIR */
	struct stitch_switch *sw; /* NEED_SWITCH, NEED_SWITCH_RO */
	char *command_line; /* argv joined, for the switch's history */
	const struct cmd_entry *cmd; /* the running command */
	bool no_sandbox; /* --no-sandbox: builds run without bubblewrap */
	bool yes; /* -y, --yes: go ahead without asking (cmd/ask.c) */
	int argc; /* the whole command line, for the no-op stamp (cmd/noop.c) */
	char **argv;
};

/*
 * The no-op build at the speed of stat (cmd/noop.c).  cmd_noop_clock, first
 * thing in main, notes when the process started.  cmd_noop_replay: when the
 * stamp the last no-op build of this invocation left still holds, print
 * what that build printed and return true.  cmd_noop_begin/end wrap a
 * build: begin (NULL when the invocation is not one a stamp stands for)
 * copies what the build prints; end, given the exit
 * status, writes a new stamp when the build changed nothing.
 */
struct cmd_noop;
void cmd_noop_clock(void);
bool cmd_noop_replay(const struct stitch_ctx *ctx, int argc, char **argv);
struct cmd_noop *cmd_noop_begin(const struct stitch_ctx *ctx, int argc, char **argv,
                                const char *project_dir);
void cmd_noop_end(struct cmd_noop *n, const struct stitch_ctx *ctx, int status);

struct cmd_entry {
	const char *name;
	int (*fn)(int argc, char **argv, struct stitch_ctx *ctx);
	unsigned flags;
	const char *summary; /* one line for `stitch --help` */
	const char *usage; /* the full text for `stitch NAME --help` */
};

/*
 * The command table of cmd/main.c, sorted by name (*n entries; n may be
 * NULL), and in *main_text (when not NULL) the global usage text printed
 * above the list of commands.
 */
const struct cmd_entry *cmd_commands(size_t *n, const char **main_text);

/* Help made from the table (cmd/help.c, cmd/complete.c). */
#include <stdio.h>
void cmd_print_help(FILE *out, const struct cmd_entry *cmd);
/* The visible command closest to word (see suggest.h), or NULL. */
const char *cmd_suggest_command(const char *word);
/* "error: unknown command 'X'; did you mean 'Y'?"; returns EXIT_USAGE. */
int cmd_unknown_command(const char *word);
void cmd_print_man(FILE *out);
/* The completion script for shell (bash or zsh); EXIT_USAGE for another. */
int cmd_print_completion(FILE *out, const char *shell);

/*
 * Print "error: <msg>" and the cause lines to stderr; returns the exit
 * status for err's code (cmd_exit_code).  An internal error says it is a
 * bug in stitch.
 */
int cmd_fail(const struct stitch_err *err);
/*
 * The same for a library call that may find no solution: for STITCH_E_UNSAT
 * prints the explanation in why (indented, hints flush) and returns
 * EXIT_UNSAT; anything else goes to cmd_fail.
 */
struct stitch_buf;
int cmd_fail_solve(const struct stitch_err *err, const struct stitch_buf *why);
/*
 * The same, and with json, for STITCH_E_UNSAT, first one "no-solution" line
 * on stdout (share/doc/events.md) whose candidates come from ctx->index.
 */
int cmd_fail_solve_json(const struct stitch_ctx *ctx, bool json, const struct stitch_err *err,
                        const struct stitch_buf *why);
/* Print "error: <formatted>" and a usage hint; returns EXIT_USAGE. */
int cmd_usage_error(struct stitch_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "error: <formatted>"; returns EXIT_ERROR. */
int cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parse the options of a subcommand with getopt_long semantics (options may
 * follow operands).  Returns EXIT_OK, or EXIT_USAGE after printing why.
 * `opts` ends with a zeroed entry; each match calls back with the option's
 * val and its argument (NULL for flags).  Operands are gathered into
 * *operands / *n_operands (pointers into argv).
 */
struct option;
int cmd_parse_opts(struct stitch_ctx *ctx, int argc, char **argv, const struct option *opts,
                   int (*on_opt)(int val, const char *arg, void *data), void *data,
                   char ***operands, int *n_operands);

/* The repositories the root is configured with (or --repo), in priority order. */
int cmd_repo_specs(struct stitch_ctx *ctx, struct stitch_repo_spec **specs, size_t *n,
                   struct stitch_err *err);
void cmd_repo_specs_free(struct stitch_repo_spec *specs, size_t n);

/* Remote repositories (http, https) are read from a mirror in the root. */
bool cmd_is_remote(const char *location);
char *cmd_mirror_path(const struct stitch_ctx *ctx, const char *url);
/* Fetch url into its mirror with a conditional request. */
int cmd_fetch_mirror(const struct stitch_ctx *ctx, const char *url, bool *changed,
                     struct stitch_err *err);

/* The bundled repository's directory, or NULL when it cannot be found. */
char *cmd_bundled_index(void);

/*
 * The switch a command works on: --switch DIR, else the nearest _stitch/
 * switch from the working directory up, else <root>/switches/default.
 * Returns a malloc'd path.
 */
char *cmd_switch_dir(const struct stitch_ctx *ctx);

/* Open (and lock) the switch in use into ctx->sw, printing why not. */
int cmd_open_switch(struct stitch_ctx *ctx, bool readonly);

/* Print an operation's events: as text, or one JSON object a line. */
struct cmd_events {
	bool json;
	bool dry_run;
	bool show_plan; /* print the plan events without --dry-run too */
	int built, cached, kept, failed;
};
struct stitch_event;
void cmd_print_event(void *data, const struct stitch_event *ev);
/* A change of the history in words, done: "installed", ..., "pinned", "unpinned". */
const char *cmd_change_past(int change);
/* A pin's state in the words of the events: "unchanged", "changed", "unused", "missing". */
const char *cmd_pin_word(int state);
/* Seconds as every JSON field of seconds gives them: rounded down to the millisecond. */
double cmd_json_seconds(double s);

/*
 * What every command that changes a switch shares, filled one way: the
 * source cache, -j (else $STITCH_JOBS), $STITCH_FETCH_JOBS, the artifact
 * cache (unless $STITCH_NO_CACHE), the command line for the history, and
 * events printed as text or JSON.  The command sets what is its own
 * (upgrade, pins, fixed versions, explain) in op->oo afterwards.
 */
#include "op.h"
struct cmd_op {
	struct stitch_op_opts oo;
	struct cmd_events ce;
};
void cmd_op_init(struct stitch_ctx *ctx, struct cmd_op *op, bool json, bool dry_run, int jobs);
void cmd_op_release(struct cmd_op *op);

/*
 * Asking before a surprising change (cmd/ask.c): cmd_ask_confirm is the
 * confirm callback of struct stitch_op_opts.  No changes, or -y: yes.  On a
 * terminal (stdin and stderr): the changes and "go ahead? [y/N]".  Off a
 * terminal: no, after an error listing the changes with the hint to pass -y.
 * Whenever the answer is no, --json prints one "refused" event.  The caller
 * exits EXIT_ERROR for STITCH_E_DECLINED, printing nothing more.
 */
struct cmd_ask {
	struct stitch_ctx *ctx;
	const char *what; /* the command, for the message: "install", "pin add" */
	bool json;
};
bool cmd_ask_confirm(void *data, const struct stitch_event *changes, size_t n);
/* Fill a; when op is not NULL, make it ask through a (which must outlive it). */
void cmd_ask_init(struct cmd_ask *a, struct stitch_ctx *ctx, const char *what, bool json,
                  struct cmd_op *op);
/* A change of version in words, to do: "install", ..., "remove" (cmd/events.c). */
const char *cmd_change_word(int change);

/*
 * Print o on stdout as one compact JSON line, keys in the order they were
 * set ("event" first), flush, and drop the reference to o (which may be
 * NULL: nothing is printed).  Every --json command prints through this.
 */
struct json_t;
void cmd_print_json(struct json_t *o);

/*
 * Put one package above all repositories of ctx->index, in memory, for each
 * pin of ctx->sw whose checkout has a stitch.json (and for extra_name at
 * extra_path, when given): its version, depends and recipe are used.
 */
int cmd_load_pin_overlays(struct stitch_ctx *ctx, const char *extra_name, const char *extra_path);

/* A project's switch: --switch DIR, else DIR/_stitch in the project (malloc'd). */
char *cmd_project_switch(const struct stitch_ctx *ctx, const char *project_dir);

/* <root>/cache/sources: downloaded sources by SHA-256. */
char *cmd_source_cache_dir(const struct stitch_ctx *ctx);

/*
 * The artifact cache: <root>/cache/artifacts and the configured remote;
 * NULL when STITCH_NO_CACHE is set.  Free with stitch_artifacts_free.
 */
struct stitch_artifacts;
struct stitch_artifacts *cmd_artifacts(const struct stitch_ctx *ctx);
/* Do builds run in the sandbox by the root's config ("sandbox", default true)? */
bool cmd_sandbox_configured(const struct stitch_ctx *ctx);

/* <root>/cache/index: where compiled repositories are kept. */
char *cmd_index_cache_dir(const struct stitch_ctx *ctx);

int cmd_complete(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_build(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_lock(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_cache(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_verify(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_doctor(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_init(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_install(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_list(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_log(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_rollback(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_pin(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_remove(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_source(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_test(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_update(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_upgrade(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_watch(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_which(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_repo(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_run(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_search(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_show(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_solve(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_env(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_exec(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_switch(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_tree(int argc, char **argv, struct stitch_ctx *ctx);
int cmd_why(int argc, char **argv, struct stitch_ctx *ctx);

#endif
