/*
 * stitch env [--shell sh|fish] [--json]: the variables that make the
 * switch's libraries, headers and tools visible, for eval "$(stitch env)";
 * stitch exec -- CMD ARGS...: run a command with them.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "util.h"

/* Each variable and the switch's directories that go first in it. */
static const struct {
	const char *name;
	const char *dirs[2];
} env_vars[] = {
    {"PKG_CONFIG_PATH", {"lib/pkgconfig", "share/pkgconfig"}},
    {"CPATH", {"include", NULL}},
    {"LIBRARY_PATH", {"lib", NULL}},
    {"PATH", {"bin", NULL}},
};
#define N_VARS (sizeof(env_vars) / sizeof(env_vars[0]))

/*
 * The new value of variable v: the switch's directories, then the old
 * value's entries without them (so evaluating it twice adds nothing).
 */
static char *env_value(const char *sw, size_t v)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	const char *old = getenv(env_vars[v].name);
	char *mine[2] = {NULL, NULL};

	for (size_t d = 0; d < 2 && env_vars[v].dirs[d]; d++) {
		mine[d] = xasprintf("%s/%s", sw, env_vars[v].dirs[d]);
		stitch_buf_addf(&b, "%s%s", d ? ":" : "", mine[d]);
	}
	while (old && *old) {
		size_t len = strcspn(old, ":");
		bool dup = false;
		for (size_t d = 0; d < 2 && mine[d]; d++)
			dup |= strlen(mine[d]) == len && strncmp(mine[d], old, len) == 0;
		if (!dup) {
			stitch_buf_addch(&b, ':');
			stitch_buf_add(&b, old, len);
		}
		old += len + (old[len] == ':');
	}
	free(mine[0]);
	free(mine[1]);
	return stitch_buf_detach(&b, NULL);
}

/* s in single quotes for sh and fish: ' is closed, escaped and reopened. */
static void put_quoted(const char *s, const char *quote_escape)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs(quote_escape, stdout);
		else if (*s == '\\' && quote_escape[0] == '\\')
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

static void print_sh(const char *name, const char *value)
{
	printf("%s=", name);
	put_quoted(value, "'\\''");
	printf("; export %s;\n", name);
}

/* fish: a path variable is a list, one entry an argument. */
static void print_fish(const char *name, const char *value)
{
	char *copy = xstrdup(value), *p = copy;

	printf("set -gx %s", name);
	while (p) {
		char *colon = strchr(p, ':');
		if (colon)
			*colon = '\0';
		putchar(' ');
		put_quoted(p, "\\'");
		p = colon ? colon + 1 : NULL;
	}
	puts(";");
	free(copy);
}

struct env_opts {
	const char *shell;
	bool json;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct env_opts *o = data;

	if (val == 's')
		o->shell = arg;
	else if (val == 'J')
		o->json = true;
	else
		return EXIT_USAGE;
	return EXIT_OK;
}

int cmd_env(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"shell", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'J'}, {0}};
	struct env_opts o = {"sh", false};
	json_t *vars = json_object();
	char **ops;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK) {
		json_decref(vars);
		return rc;
	}
	free(ops);
	if (n_ops || (strcmp(o.shell, "sh") != 0 && strcmp(o.shell, "fish") != 0)) {
		json_decref(vars);
		return n_ops
		           ? cmd_usage_error(ctx, "env takes no arguments")
		           : cmd_usage_error(ctx, "unknown shell '%s' (known: sh, fish)", o.shell);
	}
	for (size_t v = 0; v < N_VARS; v++) {
		char *val = env_value(ctx->sw->dir, v);
		if (o.json)
			json_object_set_new(vars, env_vars[v].name, json_string(val));
		else if (strcmp(o.shell, "fish") == 0)
			print_fish(env_vars[v].name, val);
		else
			print_sh(env_vars[v].name, val);
		free(val);
	}
	if (o.json) {
		json_t *doc = json_pack("{s:s, s:O}", "switch", ctx->sw->dir, "env", vars);
		char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		puts(text);
		free(text);
		json_decref(doc);
	}
	json_decref(vars);
	return EXIT_OK;
}

/* Is there a file called name in a directory of $PATH (or at name, with a '/')? */
static bool exists_in_path(const char *name)
{
	const char *path = getenv("PATH");

	if (strchr(name, '/'))
		return access(name, F_OK) == 0;
	while (path && *path) {
		size_t len = strcspn(path, ":");
		char *cand = xasprintf("%.*s/%s", (int)len, path, name);
		bool yes = access(cand, F_OK) == 0;
		free(cand);
		if (yes)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

int cmd_exec(int argc, char **argv, struct stitch_ctx *ctx)
{
	int first = 1;

	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc)
		return cmd_usage_error(ctx, "exec needs a command: stitch exec -- CMD ARGS...");
	if (first == 1 && argv[1][0] == '-')
		return cmd_usage_error(ctx, "unknown option '%s' (put the command after --)",
		                       argv[1]);
	for (size_t v = 0; v < N_VARS; v++) {
		char *val = env_value(ctx->sw->dir, v);
		setenv(env_vars[v].name, val, 1);
		free(val);
	}
	/* The command must not hold the switch: it may be stitch itself. */
	stitch_switch_close(ctx->sw);
	ctx->sw = NULL;
	fflush(stdout);
	execvp(argv[first], argv + first);
	/* execvp says EACCES when a directory of $PATH is closed to us, found or not. */
	if (errno == ENOENT || !exists_in_path(argv[first])) {
		cmd_error("cannot run '%s': command not found", argv[first]);
		return 127;
	}
	cmd_error("cannot run '%s': %s", argv[first], strerror(errno));
	return 126;
}
