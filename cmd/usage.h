/*
 * What the command table's usage texts say, read once into a model: the
 * forms of each command ("stitch repo add NAME PATH [--priority N]"), its
 * options and which take a value, its subcommands and its operands.  The
 * help, the man page and the shell completions are all made from this, so
 * none of them can say something the table does not.
 *
 * How a usage text is read: the lines up to the first blank one are the
 * synopsis, one form per "usage: stitch" or "       stitch" line (deeper
 * indented lines continue it).  After it, a line "  TERM  description"
 * (two spaces, a term, two or more spaces) starts an entry of a list,
 * deeper indented lines continue it, and other lines are prose.  A term
 * naming options ("-j, --jobs N") says which take a value; in a synopsis a
 * value is the upper-case word after an option inside its brackets.
 */
#ifndef STITCH_CMD_USAGE_H
#define STITCH_CMD_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cmd.h"

/* Operand and option-value kinds, for completion. */
enum usage_kind {
	KIND_NONE, /* free text: NAME, TERM, URL, N, ... */
	KIND_PKG, /* a package name: PKG, REQ */
	KIND_FILE, /* a path: DIR, PATH, OUT.json, FILE */
};

struct usage_opt {
	char *name; /* "--jobs", "-j" */
	char *value; /* "N", or NULL for a flag */
	enum usage_kind kind; /* of the value */
};

struct usage_opts {
	struct usage_opt *v;
	size_t n, cap;
};

/* One subcommand (or the command itself, sub NULL), its forms merged. */
struct usage_form {
	char *sub; /* "add"; NULL for a command without subcommands */
	struct usage_opts opts; /* in the order first met */
	enum usage_kind *operands; /* the operands' kinds in order */
	size_t n_operands, cap_operands;
	bool repeats; /* the last operand may be given again (PKG...) */
};

struct usage_model {
	const struct cmd_entry *cmd;
	struct usage_form *forms;
	size_t n_forms, cap_forms;
	struct usage_opts opts; /* every option of the command, --help included */
};

/* Read cmd's usage text; release with usage_model_release. */
void usage_model_read(struct usage_model *m, const struct cmd_entry *cmd);
void usage_model_release(struct usage_model *m);
/* The options of a global usage text's lists (main_text of cmd_commands). */
void usage_global_opts(struct usage_opts *opts, const char *text);
void usage_opts_release(struct usage_opts *opts);

/*
 * Walk a usage text's body (after the synopsis, or all of it when
 * with_synopsis is false), calling back per piece.  An entry's description
 * comes as its continuation lines joined by single spaces.
 */
struct usage_walker {
	void (*para)(void *data); /* a blank line between two pieces */
	void (*text)(void *data, const char *line, size_t len); /* one prose line */
	void (*entry)(void *data, const char *term, size_t tlen, const char *desc);
	void *data;
};
void usage_walk(const char *text, bool skip_synopsis, const struct usage_walker *w);

/* The synopsis lines of a usage text, "usage: " dropped, each without its newline. */
void usage_synopsis(const char *text, void (*line)(void *data, const char *s, size_t len),
                    void *data);

/* The commands a user sees: the table without the hidden ones. */
size_t usage_visible_commands(const struct cmd_entry **out, size_t max);

#endif
