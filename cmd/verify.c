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
 * Run this stitch with args in dir; its output goes to log (appended).
 * With fresh set, the artifact cache is off (STITCH_NO_CACHE).
 */
static int run_self(char **args, const char *dir, const char *log, bool fresh)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0 || chdir(dir) != 0)
			_exit(126);
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

int cmd_verify(int argc, char **argv, struct stitch_ctx *ctx)
{
	static const struct option opts[] = {
	    {"keep", no_argument, NULL, 'k'}, {"json", no_argument, NULL, 'J'}, {0}};
	struct verify_opts o = {0};
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_project p;
	char **ops, *dir = NULL, root[PATH_MAX], *tmp = NULL, *fresh_root = NULL,
	            *fresh_proj = NULL, *log = NULL, *lock = NULL;
	const char *tmpdir = getenv("TMPDIR");
	json_t *ml = NULL, *mf = NULL, *diff = NULL;
	const char *what = NULL;
	char **args;
	size_t na = 0;
	double t0, t_local, t_fresh;
	int n_ops, rc;

	if ((rc = cmd_parse_opts(ctx, argc, argv, opts, on_opt, &o, &ops, &n_ops)) != EXIT_OK)
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
	if (!realpath(ctx->root, root)) {
		rc = cmd_error("cannot resolve the root '%s': %s", ctx->root, strerror(errno));
		goto out;
	}
	tmp = xasprintf("%s/stitch-verify.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmp)) {
		rc = cmd_error("cannot create a temporary directory: %s", strerror(errno));
		goto out;
	}
	log = xasprintf("%s/verify.log", tmp);
	fresh_root = xasprintf("%s/root", tmp);
	fresh_proj = xasprintf("%s/project", tmp);
	args = xcalloc(2 * ctx->n_repo_args + 12, sizeof(char *));
	/* 1. here, with the root's caches: usually up to date already */
	args[na++] = "stitch";
	args[na++] = "--root";
	args[na++] = root;
	for (size_t i = 0; i < ctx->n_repo_args; i++) {
		args[na++] = "--repo";
		args[na++] = (char *)ctx->repo_args[i];
	}
	if (ctx->switch_arg) {
		args[na++] = "--switch";
		args[na++] = (char *)ctx->switch_arg;
	}
	args[na++] = "build";
	args[na++] = "--locked";
	args[na] = NULL;
	t0 = stitch_now();
	if (run_self(args, p.dir, log, false) != 0) {
		tail_log(log);
		rc = cmd_error("the locked build here failed (log above, whole in %s)", log);
		o.keep = true;
		goto out1;
	}
	t_local = stitch_now() - t0;
	/* 2. a fresh root, no cache, a copy of the project at another path */
	{
		size_t copied;
		char *cfg = xasprintf("%s/config.json", root), *cfg2;
		if (stitch_tree_mirror(p.dir, fresh_proj, &copied, &err) != 0) {
			free(cfg);
			rc = cmd_fail(&err);
			goto out1;
		}
		stitch_mkdir_p(fresh_root, 0755);
		/* the same repositories (their mirrors are indexes, not caches) */
		cfg2 = xasprintf("%s/config.json", fresh_root);
		if (access(cfg, R_OK) == 0) {
			struct stitch_buf text = STITCH_BUF_INIT;
			char *src = xasprintf("%s/cache/repos", root);
			char *dst = xasprintf("%s/cache", fresh_root);
			char *cpr[] = {"cp", "-r", src, dst, NULL};
			int copied = stitch_read_file(cfg, &text, 0) == 0 &&
			             stitch_write_file(cfg2, text.buf, text.len, false) == 0;
			stitch_buf_release(&text);
			if (copied && access(src, F_OK) == 0) {
				struct stitch_buf b = STITCH_BUF_INIT;
				stitch_mkdir_p(dst, 0755);
				copied = stitch_run_capture(cpr, &b, 0) == 0;
				stitch_buf_release(&b);
			}
			free(src);
			free(dst);
			if (!copied) {
				rc = cmd_error(
				    "cannot copy the repositories of '%s' into the fresh root "
				    "'%s'",
				    root, fresh_root);
				free(cfg);
				free(cfg2);
				goto out1;
			}
		}
		free(cfg);
		free(cfg2);
	}
	na = 0;
	args[na++] = "stitch";
	args[na++] = "--root";
	args[na++] = fresh_root;
	for (size_t i = 0; i < ctx->n_repo_args; i++) {
		args[na++] = "--repo";
		args[na++] = (char *)ctx->repo_args[i];
	}
	args[na++] = "build";
	args[na++] = "--locked";
	args[na] = NULL;
	if (!o.json)
		printf("rebuilding from stitch.lock in a fresh root (%s), no cache...\n", tmp);
	fflush(stdout);
	t0 = stitch_now();
	if (run_self(args, fresh_proj, log, true) != 0) {
		tail_log(log);
		rc = cmd_error("the locked build in the fresh root failed (log above, whole in %s)",
		               log);
		o.keep = true;
		goto out1;
	}
	t_fresh = stitch_now() - t0;
	ml = load_manifest(&p, p.dir);
	mf = load_manifest(&p, fresh_proj);
	if (!ml || !mf) {
		rc = cmd_error("a build left no manifest next to its image");
		goto out1;
	}
	if (strcmp(jstr(ml, "sha256"), jstr(mf, "sha256")) != 0)
		diff = first_difference(ml, mf, &what);
	if (o.json) {
		json_t *ev = json_pack("{s:s, s:s, s:s, s:b, s:f, s:f}", "event", "verify", "local",
		                       jstr(ml, "sha256"), "fresh", jstr(mf, "sha256"), "identical",
		                       strcmp(jstr(ml, "sha256"), jstr(mf, "sha256")) == 0,
		                       "local_seconds", t_local, "fresh_seconds", t_fresh);
		char *text;
		if (diff)
			json_object_set_new(ev, "first_difference",
			                    json_pack("{s:s, s:s, s:s}", "name", jstr(diff, "name"),
			                              "version", jstr(diff, "version"), "what",
			                              what));
		text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
		puts(text);
		free(text);
		json_decref(ev);
	} else {
		printf("here:        %s (%.2f s)\n", jstr(ml, "sha256"), t_local);
		printf("fresh root:  %s (%.2f s)\n", jstr(mf, "sha256"), t_fresh);
	}
	if (strcmp(jstr(ml, "sha256"), jstr(mf, "sha256")) == 0) {
		if (!o.json)
			printf("verified: stitch.lock rebuilds %s.%s bit for bit\n", p.name,
			       p.target);
		rc = EXIT_OK;
	} else {
		if (diff)
			rc = cmd_error(
			    "the images differ; the first package that differs is %s %s: %s",
			    jstr(diff, "name"), jstr(diff, "version"), what);
		else
			rc = cmd_error("the images differ, though every package is the same: the "
			               "project's own compile or link is not reproducible");
		o.keep = true;
	}
out1:
	if (o.keep) {
		if (!o.json)
			fprintf(stderr, "note: the fresh build is kept in %s\n", tmp);
	} else {
		stitch_rm_rf(tmp);
	}
	free(args);
out:
	json_decref(ml);
	json_decref(mf);
	free(tmp);
	free(fresh_root);
	free(fresh_proj);
	free(log);
	free(lock);
	stitch_project_release(&p);
	return rc;
}
