/*
 * generate -> compile -> link: the order of the steps, the libraries'
 * flags and the link itself.  Compiling is link_compile.c's job; running
 * the tools is link_run.c's.
 */
#include "link.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "link_compile.h"
#include "link_run.h"
#include "util.h"

/*
 * Generate only when the project's files or the installed tools changed
 * since the last successful run: a no-op build must not rewrite sources.
 */
static int generate_if_changed(const struct stitch_link_opts *o, const struct link_runner *re,
                               struct stitch_err *err)
{
	const struct stitch_project *p = o->project;
	struct stitch_buf st = STITCH_BUF_INIT;
	char gkey[65], *gpath = xasprintf("%s/_build/generate.stamp", p->dir), *prev;
	int rc = 0;

	stitch_buf_addf(&st, "inputs %s\n", o->inputs_key ? o->inputs_key : "");
	for (size_t i = 0; i < p->n_generate; i++)
		for (size_t k = 0; k < p->generate[i].argc; k++)
			stitch_buf_addf(&st, "%s%c", p->generate[i].argv[k],
			                k + 1 < p->generate[i].argc ? ' ' : '\n');
	link_stamp_tree(p->dir, "", &st, o->exclude, o->n_exclude);
	stitch_sha256_hex(st.buf, st.len, gkey);
	stitch_buf_release(&st);
	prev = link_cache_read(gpath, gkey);
	if (!prev) {
		for (size_t i = 0; i < p->n_generate && rc == 0; i++)
			rc = link_run(re, p->generate[i].argv, NULL, err);
		if (rc == 0)
			link_cache_write(gpath, gkey, "");
	}
	free(prev);
	free(gpath);
	return rc;
}

/* pkg-config --cflags into flags (on one line), --static --libs into libs. */
static int pkg_config_flags(const struct stitch_link_opts *o, const struct link_runner *re,
                            struct stitch_buf *flags, struct stitch_buf *libs,
                            struct stitch_err *err)
{
	char **pc = xcalloc(o->n_pkgs + 4, sizeof(char *));
	size_t k = 0;
	int rc;

	pc[k++] = "pkg-config";
	pc[k++] = "--cflags";
	for (size_t i = 0; i < o->n_pkgs; i++)
		pc[k++] = (char *)o->pkgs[i];
	rc = link_run(re, pc, flags, err);
	if (rc == 0) {
		pc[1] = "--static";
		memmove(pc + 3, pc + 2, o->n_pkgs * sizeof(char *));
		pc[2] = "--libs";
		pc[o->n_pkgs + 3] = NULL;
		rc = link_run(re, pc, libs, err);
	}
	free(pc);
	for (size_t i = 0; i < flags->len; i++)
		if (flags->buf[i] == '\n')
			flags->buf[i] = ' ';
	return rc;
}

/* Flags of every library, from their pkg-config files (cached by their interfaces). */
static int library_flags(const struct stitch_link_opts *o, const struct link_runner *re,
                         struct stitch_buf *flags, struct stitch_buf *libs, struct stitch_err *err)
{
	struct stitch_buf kb = STITCH_BUF_INIT;
	char fkey[65], *fpath = xasprintf("%s/_build/flags.cache", o->project->dir), *cached;
	int rc = 0;

	/* The flags name the switch: a moved or copied project gets its own. */
	stitch_buf_addf(&kb, "%s\n%s\n", o->inputs_key ? o->inputs_key : "", o->switch_dir);
	for (size_t i = 0; i < o->n_pkgs; i++)
		stitch_buf_addf(&kb, "%s\n", o->pkgs[i]);
	stitch_sha256_hex(kb.buf, kb.len, fkey);
	stitch_buf_release(&kb);
	cached = link_cache_read(fpath, fkey);
	if (cached && strchr(cached, '\n')) {
		char *nl = strchr(cached, '\n');
		stitch_buf_add(flags, cached, (size_t)(nl - cached));
		stitch_buf_adds(libs, nl + 1);
	} else {
		rc = pkg_config_flags(o, re, flags, libs, err);
		if (rc == 0) {
			char *v = xasprintf("%s\n%s", flags->buf, libs->buf);
			link_cache_write(fpath, fkey, v);
			free(v);
		}
	}
	free(cached);
	free(fpath);
	return rc;
}

/* "cc -o out", the objects, the libraries and the ldflags: n words and a NULL. */
static char **link_command(const struct stitch_link_opts *o, const struct link_compile_plan *plan,
                           const char *libs, const char *out, size_t *n)
{
	const struct stitch_project *p = o->project;
	char **lv = NULL;
	size_t cap = 0;

	*n = 0;
	link_words_add(&lv, n, &cap, "cc -o");
	XGROW(lv, cap, *n + 2);
	lv[(*n)++] = xstrdup(out);
	for (size_t i = 0; i < plan->n_objs; i++) {
		XGROW(lv, cap, *n + 2);
		lv[(*n)++] = xstrdup(plan->objs[i]);
	}
	link_words_add(&lv, n, &cap, libs);
	for (size_t i = 0; i < p->n_ldflags; i++)
		link_words_add(&lv, n, &cap, p->ldflags[i]);
	link_words_add(&lv, n, &cap, o->target->ldflags);
	XGROW(lv, cap, *n + 1);
	lv[*n] = NULL;
	return lv;
}

/*
 * Relink when any input changed: the objects, the command, or an archive
 * of the switch (stat data, as make would see it).
 */
static void link_key(const struct stitch_link_opts *o, char *const *lv, size_t n, char key[65])
{
	struct stitch_buf kb = STITCH_BUF_INIT;
	char *libdir = xasprintf("%s/lib", o->switch_dir);

	for (size_t i = 1; i < n; i++) {
		char *f =
		    lv[i][0] == '/' ? xstrdup(lv[i]) : xasprintf("%s/%s", o->project->dir, lv[i]);
		struct stat st;
		stitch_buf_addf(&kb, "%s\n", i == 1 ? "(output)" : lv[i]);
		if (i > 1 && stat(f, &st) == 0)
			stitch_buf_addf(&kb, " %lld %lld.%09ld %lld\n", (long long)st.st_size,
			                (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			                (long long)st.st_ino);
		free(f);
	}
	link_stamp_tree(libdir, "", &kb, NULL, 0);
	free(libdir);
	stitch_sha256_hex(kb.buf, kb.len, key);
	stitch_buf_release(&kb);
}

/* Link into tmp, then replace r->image with it; unchanged inputs keep the image. */
static int link_image(const struct stitch_link_opts *o, const struct link_runner *re,
                      const struct link_compile_plan *plan, const char *libs, const char *tmp,
                      struct stitch_link_result *r, struct stitch_err *err)
{
	char lkey[65], *lpath = xasprintf("%s/_build/link.stamp", o->project->dir), *prev;
	size_t n;
	char **lv = link_command(o, plan, libs, tmp, &n);
	struct stat ist;
	int rc = 0;

	link_key(o, lv, n, lkey);
	prev = link_cache_read(lpath, lkey);
	if (prev && stat(r->image, &ist) == 0 && strlen(prev) == 64) {
		/* Nothing changed: the image stands; its hash is on record. */
		memcpy(r->sha256, prev, 65);
		r->relinked = false;
	} else {
		rc = link_run(re, lv, NULL, err);
		if (rc == 0 && rename(tmp, r->image) != 0)
			rc = stitch_error(err, STITCH_E_IO, "cannot write '%s': %s", r->image,
			                  strerror(errno));
		if (rc == 0 && stitch_sha256_file(r->image, r->sha256) != 0)
			rc = stitch_error(err, STITCH_E_IO, "cannot read '%s': %s", r->image,
			                  strerror(errno));
		if (rc == 0)
			link_cache_write(lpath, lkey, r->sha256);
		r->relinked = true;
	}
	free(prev);
	free(lpath);
	link_words_free(lv, n);
	return rc;
}

int stitch_link(const struct stitch_link_opts *o, struct stitch_link_result *r,
                struct stitch_err *err)
{
	const struct stitch_project *p = o->project;
	struct link_runner run_env = {0};
	struct stitch_buf flags = STITCH_BUF_INIT, libs = STITCH_BUF_INIT;
	struct link_compile_plan plan = {0};
	char *obj_dir = xasprintf("%s/_build/obj", p->dir), *tmp = NULL;
	double t0 = stitch_now(), t_link;
	int rc;

	memset(r, 0, sizeof(*r));
	stitch_mkdir_p(obj_dir, 0755);
	link_runner_init(&run_env, o);
	rc = generate_if_changed(o, &run_env, err);
	if (rc == 0)
		rc = library_flags(o, &run_env, &flags, &libs, err);
	if (rc == 0)
		rc = link_compile_changed(o, &run_env, flags.buf, &plan, r, err);
	if (rc)
		goto out;
	/* Link into a temporary name: a failed link keeps the previous image. */
	t_link = stitch_now();
	r->image = xasprintf("%s/_build/%s%s", p->dir, p->name, o->target->suffix);
	tmp = xasprintf("%s.tmp", r->image);
	rc = link_image(o, &run_env, &plan, libs.buf, tmp, r, err);
	r->link_seconds = stitch_now() - t_link;
out:
	if (rc && tmp)
		unlink(tmp);
	if (rc == STITCH_E_BUILD)
		stitch_error_wrap(err, "cannot build '%s'", p->name);
	r->seconds = stitch_now() - t0;
	link_words_free(plan.objs, plan.n_objs);
	free(tmp);
	free(obj_dir);
	stitch_buf_release(&flags);
	stitch_buf_release(&libs);
	link_runner_release(&run_env);
	return rc;
}

void stitch_link_result_release(struct stitch_link_result *r)
{
	free(r->image);
	memset(r, 0, sizeof(*r));
}
