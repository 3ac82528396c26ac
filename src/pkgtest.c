/*
 * A package's own tests in its build tree: the tree an install builds in
 * (made again when asked), its build commands, then its test commands,
 * all in the build sandbox with the switch read-only.
 */
#include "pkgtest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "build.h"
#include "exec.h"
#include "fetch.h"
#include "state.h"
#include "tree.h"
#include "util.h"

static void emit(const struct stitch_pkgtest_opts *o, enum stitch_event_kind k,
                 const struct stitch_version *v, enum stitch_test_result result, double secs,
                 const struct stitch_err *err)
{
	struct stitch_event ev;

	if (!o->on_event)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = k;
	ev.name = v->pkg->name;
	ev.version = v->version;
	ev.change = STITCH_PLAN_KEEP;
	ev.err = err;
	ev.test.result = result;
	ev.test.seconds = secs;
	o->on_event(o->data, &ev);
}

/* The release's source, from the source cache or its URL, unpacked afresh into work. */
static int unpack_release(const struct stitch_version *v, const char *work,
                          const struct stitch_pkgtest_opts *o, struct stitch_err *err)
{
	struct stitch_fetch_item f = {0};
	struct stitch_fetch_opts fo = {0};
	char *url = stitch_exec_source_url(v),
	     *label = xasprintf("%s %s", v->pkg->name, v->version);
	int rc;

	f.url = url;
	f.sha256 = v->sha256;
	f.label = label;
	f.remote = stitch_exec_remote_source(v);
	fo.cache_dir = o->source_cache;
	fo.archives = true;
	rc = stitch_fetch_all(&f, 1, &fo, err);
	stitch_rm_rf(work);
	if (rc == 0 && (rc = stitch_archive_unpack(f.path, work, err)) != 0)
		stitch_error_wrap(err, "%s %s", v->pkg->name, v->version);
	stitch_fetch_item_release(&f);
	free(url);
	free(label);
	return rc;
}

/*
 * Make the tree as an install does and build it.  A pin's mirror carries
 * the same mark as during an install: a build killed midway leaves it,
 * and the next build (or test) starts that tree afresh.
 */
static int prepare_tree(const struct stitch_version *v, const char *pin_path,
                        const struct stitch_build_env *env, const struct stitch_pkgtest_opts *o,
                        struct stitch_err *err)
{
	char *mark = xasprintf("%s.building", env->work_dir);
	size_t copied;
	int rc;

	if (pin_path) {
		if (access(mark, F_OK) == 0)
			stitch_rm_rf(env->work_dir);
		rc = stitch_tree_mirror(pin_path, env->work_dir, &copied, err);
	} else {
		rc = unpack_release(v, env->work_dir, o, err);
	}
	if (rc == 0) {
		stitch_write_file(mark, "", 0, false);
		rc = stitch_build_run(&v->build, "build", env, err);
		unlink(mark);
	}
	free(mark);
	return rc;
}

int stitch_pkgtest_run(struct stitch_switch *sw, const struct stitch_version *v,
                       const char *pin_path, bool prepare, const struct stitch_pkgtest_opts *o,
                       struct stitch_err *err)
{
	const char *meta = stitch_state_dir(sw->st);
	char *work = stitch_build_tree(meta, v->pkg->name, v->version, pin_path != NULL);
	char *logs = xasprintf("%s/logs", meta), *parent = xasprintf("%s/build", meta);
	char *log = xasprintf("%s/%s-%s.test.log", logs, v->pkg->name, v->version);
	struct stitch_build_env env = {0};
	double t0 = stitch_now();
	int rc = 0;

	if (!v->test.n) {
		emit(o, STITCH_EV_TESTED, v, STITCH_TEST_NONE, 0, NULL);
		goto out;
	}
	emit(o, STITCH_EV_TEST_START, v, STITCH_TEST_NONE, 0, NULL);
	env.name = v->pkg->name;
	env.version = v->version;
	env.prefix = sw->dir;
	env.work_dir = work;
	env.log_path = log;
	env.jobs = stitch_default_jobs(o->jobs);
	env.isolate_network = true;
	env.sandbox = !o->no_sandbox;
	env.hidden = meta;
	stitch_mkdir_p(logs, 0755);
	stitch_mkdir_p(parent, 0755);
	unlink(log);
	if (prepare)
		rc = prepare_tree(v, pin_path, &env, o, err);
	else if (access(work, F_OK) != 0)
		rc = stitch_error(err, STITCH_E_BUILD,
		                  "cannot test '%s %s': its build tree '%s' is gone", v->pkg->name,
		                  v->version, work);
	if (rc == 0)
		rc = stitch_build_run(&v->test, "test", &env, err);
	emit(o, STITCH_EV_TESTED, v, rc ? STITCH_TEST_FAILED : STITCH_TEST_PASSED,
	     stitch_now() - t0, rc ? err : NULL);
	if (rc == 0 && !pin_path)
		stitch_rm_rf(work);
out:
	free(work);
	free(logs);
	free(parent);
	free(log);
	return rc;
}
