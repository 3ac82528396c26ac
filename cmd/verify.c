/*
 * stitch verify [--keep] [--json]: build the project from stitch.lock here
 * (as `stitch build --locked` does) and again in a fresh temporary root
 * with no cache, from a copy of the project at another path, and compare
 * the images; when they differ, name the first package (in dependency
 * order) whose installed files differ.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "progress.h"
#include "project.h"
#include "tree.h"
#include "util.h"

struct verify_opts {
	bool keep, json;
};

static int on_opt(int val, const char *arg, void *data)
{
	struct verify_opts *o = data;

	(void)arg;
	if (val == 'k')
		o->keep = true;
	else if (val == 'J')
		o->json = true;
	else
		return EXIT_USAGE;
	return EXIT_OK;
}

/*
 * Run this stitch with args in dir; its output goes to log (appended), its
 * status line to our terminal, if we have one (STITCH_STATUS_FD).  With
 * fresh set, the artifact cache is off (STITCH_NO_CACHE).
 */
static int run_self(char **args, const char *dir, const char *log, bool fresh)
{
	int tty = cmd_status_fd();
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int status_fd = tty >= 0 ? fcntl(tty, F_DUPFD, 10) : -1;
		char num[16];
		if (fd < 0 || chdir(dir) != 0)
			_exit(126);
		snprintf(num, sizeof(num), "%d", status_fd);
		if (status_fd >= 0)
			setenv("STITCH_STATUS_FD", num, 1);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fresh)
			setenv("STITCH_NO_CACHE", "1", 1);
		execv("/proc/self/exe", args);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static json_t *load_manifest(const struct stitch_project *p, const char *dir)
{
	char *path = xasprintf("%s/_build/%s.%s.manifest.json", dir, p->name, p->target);
	json_t *m = json_load_file(path, 0, NULL);
	free(path);
	return m;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* The first package of a (dependency order) that b has otherwise, and how. */
static json_t *first_difference(json_t *a, json_t *b, const char **what)
{
	json_t *pa = json_object_get(a, "packages"), *pb = json_object_get(b, "packages"), *x;
	size_t i;

	json_array_foreach(pa, i, x)
	{
		json_t *y = NULL, *z;
		size_t k;
		json_array_foreach(pb, k, z) if (!strcmp(jstr(z, "name"), jstr(x, "name"))) y = z;
		if (!y)
			*what = "missing from the fresh build";
		else if (strcmp(jstr(x, "version"), jstr(y, "version")) != 0)
			*what = "versions differ";
		else if (strcmp(jstr(x, "source_sha256"), jstr(y, "source_sha256")) != 0)
			*what = "sources differ";
		else if (strcmp(jstr(x, "build_hash"), jstr(y, "build_hash")) != 0)
			*what = "build inputs differ (compiler, recipe or dependencies)";
		else if (strcmp(jstr(x, "interface_hash"), jstr(y, "interface_hash")) != 0)
			*what = "installed headers or pkg-config files differ";
		else if (strcmp(jstr(x, "archives_sha256"), jstr(y, "archives_sha256")) != 0)
			*what = "its static archives differ: the build is not reproducible";
		else
			continue;
		return x;
	}
	return NULL;
}

static void tail_log(const char *log)
{
	char *argv[] = {"tail", "-n", "20", (char *)log, NULL};
	struct stitch_buf b = STITCH_BUF_INIT;

	stitch_run_capture(argv, &b, 1 << 16);
	fprintf(stderr, "%s", b.buf);
	stitch_buf_release(&b);
}

/* One verify run: its options, its temporary directory and what the builds left. */
struct verify_run {
	struct verify_opts o;
	char root[PATH_MAX];
	char *tmp, *log, *fresh_root, *fresh_proj;
	double t_local, t_fresh;
	json_t *ml, *mf; /* the manifests of the image here and of the fresh one */
};

static void verify_run_release(struct verify_run *v)
{
	json_decref(v->ml);
	json_decref(v->mf);
	free(v->tmp);
	free(v->fresh_root);
	free(v->fresh_proj);
	free(v->log);
}

/* "stitch --root ROOT [--repo R]... [--switch S] build --locked" into args. */
static void locked_build_args(const struct stitch_ctx *ctx, const char *root,
                              const char *switch_arg, char **args)
{
	size_t na = 0;

	args[na++] = "stitch";
	args[na++] = "--root";
	args[na++] = (char *)root;
	for (size_t i = 0; i < ctx->n_repo_args; i++) {
		args[na++] = "--repo";
		args[na++] = (char *)ctx->repo_args[i];
	}
	if (switch_arg) {
		args[na++] = "--switch";
		args[na++] = (char *)switch_arg;
	}
	if (ctx->no_sandbox)
		args[na++] = "--no-sandbox";
	args[na++] = "build";
	args[na++] = "--locked";
	args[na] = NULL;
}

/* A failed build keeps the temporary directory, so its log can be read. */
static int run_locked_build(char **args, const char *dir, bool fresh, const char *where,
                            struct verify_run *v, double *seconds)
{
	double t0 = stitch_now();

	if (run_self(args, dir, v->log, fresh) != 0) {
		tail_log(v->log);
		v->o.keep = true;
		return cmd_error("the locked build %s failed (log above, whole in %s)", where,
		                 v->log);
	}
	*seconds = stitch_now() - t0;
	return EXIT_OK;
}

/* The same repositories in the fresh root (their mirrors are indexes, not caches). */
static bool copy_repos(const char *root, const char *fresh_root)
{
	char *cfg = xasprintf("%s/config.json", root);
	char *cfg2 = xasprintf("%s/config.json", fresh_root);
	char *src = xasprintf("%s/cache/repos", root);
	char *dst = xasprintf("%s/cache", fresh_root);
	char *cpr[] = {"cp", "-r", src, dst, NULL};
	struct stitch_buf text = STITCH_BUF_INIT, out = STITCH_BUF_INIT;
	bool copied = true;

	if (access(cfg, R_OK) == 0) {
		copied = stitch_read_file(cfg, &text, 0) == 0 &&
		         stitch_write_file(cfg2, text.buf, text.len, false) == 0;
		if (copied && access(src, F_OK) == 0) {
			stitch_mkdir_p(dst, 0755);
			copied = stitch_run_capture(cpr, &out, 0) == 0;
		}
	}
	stitch_buf_release(&text);
	stitch_buf_release(&out);
	free(cfg);
	free(cfg2);
	free(src);
	free(dst);
	return copied;
}

/* A fresh root, no cache, a copy of the project at another path. */
static int make_fresh_copy(const struct stitch_project *p, const struct verify_run *v,
                           struct stitch_err *err)
{
	size_t copied;

	if (stitch_tree_mirror(p->dir, v->fresh_proj, &copied, err) != 0)
		return cmd_fail(err);
	stitch_mkdir_p(v->fresh_root, 0755);
	if (!copy_repos(v->root, v->fresh_root))
		return cmd_error("cannot copy the repositories of '%s' into the fresh root '%s'",
		                 v->root, v->fresh_root);
	return EXIT_OK;
}

/* Build here, with the root's caches (usually up to date already), then in the fresh root. */
static int build_twice(const struct stitch_ctx *ctx, const struct stitch_project *p,
                       struct verify_run *v, struct stitch_err *err)
{
	char **args = xcalloc(2 * ctx->n_repo_args + 12, sizeof(char *));
	int rc;

	locked_build_args(ctx, v->root, ctx->switch_arg, args);
	rc = run_locked_build(args, p->dir, false, "here", v, &v->t_local);
	if (rc == EXIT_OK)
		rc = make_fresh_copy(p, v, err);
	if (rc == EXIT_OK) {
		locked_build_args(ctx, v->fresh_root, NULL, args);
		if (!v->o.json && cmd_verbosity() != CMD_QUIET)
			printf("rebuilding from stitch.lock in a fresh root (%s), no cache...\n",
			       v->tmp);
		fflush(stdout);
		rc = run_locked_build(args, v->fresh_proj, true, "in the fresh root", v,
		                      &v->t_fresh);
	}
	free(args);
	return rc;
}

static void print_comparison(const struct verify_run *v, bool same, json_t *diff, const char *what)
{
	json_t *ev;

	if (!v->o.json && cmd_verbosity() == CMD_QUIET) {
		return;
	} else if (!v->o.json) {
		printf("here:        %s (%.2f s)\n", jstr(v->ml, "sha256"), v->t_local);
		printf("fresh root:  %s (%.2f s)\n", jstr(v->mf, "sha256"), v->t_fresh);
		return;
	}
	ev = json_pack("{s:s, s:s, s:s, s:b, s:f, s:f}", "event", "verify", "local",
	               jstr(v->ml, "sha256"), "fresh", jstr(v->mf, "sha256"), "identical", same,
	               "local_seconds", cmd_json_seconds(v->t_local), "fresh_seconds",
	               cmd_json_seconds(v->t_fresh));
	if (diff)
		json_object_set_new(ev, "first_difference",
		                    json_pack("{s:s, s:s, s:s}", "name", jstr(diff, "name"),
		                              "version", jstr(diff, "version"), "what", what));
	cmd_print_json(ev);
}

/* Compare the two images; when they differ, name the first package that does. */
static int compare_images(const struct stitch_project *p, struct verify_run *v)
{
	json_t *diff = NULL;
	const char *what = NULL;
	bool same;

	v->ml = load_manifest(p, p->dir);
	v->mf = load_manifest(p, v->fresh_proj);
	if (!v->ml || !v->mf)
		return cmd_error("a build left no manifest next to its image");
	same = strcmp(jstr(v->ml, "sha256"), jstr(v->mf, "sha256")) == 0;
	if (!same)
		diff = first_difference(v->ml, v->mf, &what);
	print_comparison(v, same, diff, what);
	if (same) {
		if (!v->o.json) {
			cmd_paint(stdout, CMD_STYLE_GOOD, "verified:");
			printf(" stitch.lock rebuilds %s.%s bit for bit\n", p->name, p->target);
		}
		return EXIT_OK;
	}
	v->o.keep = true;
	if (diff)
		return cmd_error("the images differ; the first package that differs is %s %s: %s",
		                 jstr(diff, "name"), jstr(diff, "version"), what);
	return cmd_error("the images differ, though every package is the same: the "
	                 "project's own compile or link is not reproducible");
}

int cmd_verify(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"keep", no_argument, NULL, 'k'}, {"json", no_argument, NULL, 'J'}, {0}};
	struct verify_run v = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_project p;
	char **ops, *dir = NULL, *lock = NULL;
	const char *tmpdir = getenv("TMPDIR");
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &v.o, &ops, &n_ops)) != EXIT_OK)
		return rc;
	free(ops);
	if (n_ops)
		return cmd_usage_error(ctx,
		                       "verify takes no arguments; run it in a project directory");
	if (stitch_project_find(".", &dir, &err) != 0 || stitch_project_load(dir, &p, &err) != 0) {
		free(dir);
		return cmd_fail(&err);
	}
	free(dir);
	lock = xasprintf("%s/stitch.lock", p.dir);
	if (access(lock, R_OK) != 0) {
		rc = cmd_error("no stitch.lock in %s; run 'stitch lock' first", p.dir);
		goto out;
	}
	if (!realpath(ctx->root, v.root)) {
		rc = cmd_error("cannot resolve the root '%s': %s", ctx->root, strerror(errno));
		goto out;
	}
	v.tmp = xasprintf("%s/stitch-verify.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(v.tmp)) {
		rc = cmd_error("cannot create a temporary directory: %s", strerror(errno));
		goto out;
	}
	v.log = xasprintf("%s/verify.log", v.tmp);
	v.fresh_root = xasprintf("%s/root", v.tmp);
	v.fresh_proj = xasprintf("%s/project", v.tmp);
	rc = build_twice(ctx, &p, &v, &err);
	if (rc == EXIT_OK)
		rc = compare_images(&p, &v);
	if (!v.o.keep)
		stitch_rm_rf(v.tmp);
	else if (!v.o.json)
		fprintf(stderr, "note: the fresh build is kept in %s\n", v.tmp);
out:
	verify_run_release(&v);
	free(lock);
	stitch_project_release(&p);
	return rc;
}
