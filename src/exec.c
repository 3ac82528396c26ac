/*
 * Running a plan: fetch the sources it needs, then build, unpack or keep
 * each package in dependency order through the scheduler, committing each
 * one into the switch.  Used by op.c, which makes the plan; nothing here
 * solves or plans.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive.h"
#include "build.h"
#include "fetch.h"
#include "sched.h"
#include "state.h"
#include "tree.h"

struct stitch_job {
	char *source_path; /* the archive in the source cache */
	struct stitch_err fetch_err; /* why the fetch before the builds failed (not asked again) */
	int fd; /* read end of the build child's error pipe */
	pid_t pid; /* the build child, leader of the build's process group */
	double t0;
	bool cache_missed; /* the artifact cache was asked and could not serve it */
	char failed_dep[300]; /* "name version" of the dependency that failed */
};

void stitch_exec_emit_ev(const struct stitch_exec *x, struct stitch_event *ev)
{
	if (x->o->on_event)
		x->o->on_event(x->o->data, ev);
}

/* An event about plan item it, of kind k. */
static struct stitch_event item_event(enum stitch_event_kind k, const struct stitch_plan_item *it)
{
	struct stitch_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = k;
	ev.name = it->name;
	ev.version = it->version;
	ev.old_version = it->old_version;
	ev.action = it->action;
	ev.change = it->change;
	ev.cause = it->cause;
	return ev;
}

void stitch_exec_emit(const struct stitch_exec *x, enum stitch_event_kind k,
                      const struct stitch_plan_item *it, double secs, const struct stitch_err *err)
{
	struct stitch_event ev = item_event(k, it);

	ev.build.seconds = secs;
	ev.err = err;
	stitch_exec_emit_ev(x, &ev);
}

void stitch_exec_note_failure(struct stitch_exec *x, const struct stitch_err *err)
{
	if (!x->first.code)
		x->first = *err;
}

void stitch_exec_add_change(struct stitch_exec *x, const struct stitch_plan_item *it)
{
	enum stitch_change_action a =
	    it->change == STITCH_PLAN_KEEP ? STITCH_CHANGE_REBUILD : it->change;

	XGROW(x->changes, x->cap_changes, x->n_changes + 1);
	x->changes[x->n_changes++] =
	    (struct stitch_change){a, (char *)it->name, (char *)it->old_version,
	                           a == STITCH_CHANGE_REMOVE ? NULL : (char *)it->version};
}

char *stitch_exec_source_url(const struct stitch_version *v)
{
	const char *u = v->url;

	if (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8) || !strncmp(u, "file://", 7))
		return xstrdup(u);
	return xasprintf("%s/%s", v->pkg->repo->root, u);
}

/* Whether v comes from a remote (http or https) repository. */
bool stitch_exec_remote_source(const struct stitch_version *v)
{
	const char *r = v->pkg->repo->root;

	return r && (!strncmp(r, "http://", 7) || !strncmp(r, "https://", 8));
}

static void emit_cache(const struct stitch_exec *x, const struct stitch_plan_item *it,
                       enum stitch_cache_what what, const struct stitch_err *err)
{
	struct stitch_event ev = item_event(STITCH_EV_CACHE, it);

	ev.cache.what = what;
	ev.err = err;
	stitch_exec_emit_ev(x, &ev);
}

/* Say once that the shared cache cannot be reached (it is not asked again). */
bool stitch_exec_report_remote(const struct stitch_exec *x, const struct stitch_plan_item *it)
{
	const struct stitch_err *e = stitch_artifacts_remote_failure(x->o->artifacts);

	if (e && it)
		emit_cache(x, it, STITCH_CACHE_UNREACHABLE, e);
	return e != NULL;
}

/* The plan's question to the artifact cache. */
/* ---- fetching ---- */

/* Which plan item each fetch item is, for their download events. */
struct fetch_map {
	const struct stitch_exec *x;
	const struct stitch_fetch_item *items;
	const size_t *which;
};

static void on_download(void *data, const struct stitch_fetch_item *fi, long long bytes,
                        long long total)
{
	const struct fetch_map *fm = data;
	struct stitch_event ev =
	    item_event(STITCH_EV_DOWNLOAD, &fm->x->plan.items[fm->which[fi - fm->items]]);

	ev.download.bytes = bytes;
	ev.download.total = total;
	stitch_exec_emit_ev(fm->x, &ev);
}

static int fetch_sources(struct stitch_exec *x, size_t *n_fetched, struct stitch_err *err)
{
	struct stitch_plan *p = &x->plan;
	struct stitch_fetch_item *items = xcalloc(p->n + 1, sizeof(*items));
	char **labels = xcalloc(p->n + 1, sizeof(char *));
	size_t *which = xcalloc(p->n + 1, sizeof(size_t));
	struct stitch_fetch_opts fo = {0};
	struct fetch_map fm = {x, items, which};
	size_t m = 0;
	int rc;

	for (size_t i = 0; i < p->n; i++) {
		const struct stitch_plan_item *it = &p->items[i];
		if (!it->fetch)
			continue;
		labels[m] = xasprintf("%s %s", it->name, it->version);
		items[m].url = stitch_exec_source_url(it->v);
		items[m].sha256 = it->v->sha256;
		items[m].label = labels[m];
		items[m].remote = stitch_exec_remote_source(it->v);
		which[m++] = i;
	}
	fo.cache_dir = x->o->source_cache;
	fo.parallel = x->o->fetch_parallel;
	fo.archives = true;
	fo.on_progress = on_download;
	fo.data = &fm;
	rc = m ? stitch_fetch_all(items, m, &fo, err) : 0;
	for (size_t k = 0; k < m; k++) {
		struct stitch_plan_item *it = &p->items[which[k]];
		if (items[k].status == 0) {
			x->jobs[which[k]].source_path = xstrdup(items[k].path);
			snprintf(it->source_sha256, 65, "%s", items[k].sha256_out);
		} else {
			x->jobs[which[k]].fetch_err = items[k].err;
		}
		free((char *)items[k].url);
		stitch_fetch_item_release(&items[k]);
		free(labels[k]);
	}
	*n_fetched = m;
	free(items);
	free(labels);
	free(which);
	return rc;
}

/* In the build's child: no download events, which the parent alone reports. */
static int fetch_one(struct stitch_exec *x, size_t i, struct stitch_err *err)
{
	struct stitch_plan_item *it = &x->plan.items[i];
	struct stitch_fetch_item f = {0};
	struct stitch_fetch_opts fo = {0};
	char *url = stitch_exec_source_url(it->v),
	     *label = xasprintf("%s %s", it->name, it->version);
	int rc;

	f.url = url;
	f.sha256 = it->v->sha256;
	f.label = label;
	f.remote = stitch_exec_remote_source(it->v);
	fo.cache_dir = x->o->source_cache;
	fo.archives = true;
	rc = stitch_fetch_all(&f, 1, &fo, err);
	if (rc == 0) {
		x->jobs[i].source_path = xstrdup(f.path);
		snprintf(it->source_sha256, 65, "%s", f.sha256_out);
	}
	stitch_fetch_item_release(&f);
	free(url);
	free(label);
	return rc;
}

/* ---- building ---- */

char *stitch_build_tree(const char *meta, const char *name, const char *version, bool pinned)
{
	/* A pin builds in a persistent mirror of its tree, so make sees mtimes. */
	return pinned ? xasprintf("%s/build/pin-%s", meta, name)
	              : xasprintf("%s/build/%s-%s", meta, name, version);
}

/* Where a package is built: its tree, its staging directory, its log. */
struct build_paths {
	char *work, *staging, *logs, *log, *label;
	char *mark; /* beside a pin's work tree while it is being built */
};

static void paths_of(const struct stitch_exec *x, const struct stitch_plan_item *it,
                     struct build_paths *bp)
{
	const char *meta = stitch_state_dir(x->sw->st);

	bp->work = stitch_build_tree(meta, it->name, it->version, it->pin != NULL);
	bp->mark = xasprintf("%s.building", bp->work);
	bp->staging = xasprintf("%s/staging/%s-%s", meta, it->name, it->version);
	bp->logs = xasprintf("%s/logs", meta);
	bp->log = xasprintf("%s/%s-%s.log", bp->logs, it->name, it->version);
	bp->label = xasprintf("%s %s", it->name, it->version);
}

static void paths_release(struct build_paths *bp)
{
	free(bp->work);
	free(bp->mark);
	free(bp->staging);
	free(bp->logs);
	free(bp->log);
	free(bp->label);
}

/* The tree to build in: the pin's mirrored, or the release unpacked afresh. */
static int prepare_tree(struct stitch_exec *x, size_t i, const struct build_paths *bp,
                        struct stitch_err *err)
{
	const struct stitch_plan_item *it = &x->plan.items[i];
	size_t copied;
	int rc;

	if (!it->pin && x->jobs[i].fetch_err.code) {
		if (err)
			*err = x->jobs[i].fetch_err;
		return x->jobs[i].fetch_err.code;
	}
	if (!it->pin && !x->jobs[i].source_path && (rc = fetch_one(x, i, err)) != 0)
		return rc;
	if (!it->pin)
		stitch_rm_rf(bp->work);
	else if ((x->o->clean && x->o->clean(x->o->data, it->name)) || access(bp->mark, F_OK) == 0)
		stitch_rm_rf(bp->work); /* asked, or a build killed midway left it: afresh */
	if (it->pin)
		return stitch_tree_mirror(it->pin->path, bp->work, &copied, err);
	if ((rc = stitch_archive_unpack(x->jobs[i].source_path, bp->work, err)) != 0)
		stitch_error_wrap(err, "%s %s", it->name, it->version);
	return rc;
}

static struct stitch_build_env build_env(const struct stitch_exec *x,
                                         const struct stitch_plan_item *it,
                                         const struct build_paths *bp)
{
	struct stitch_build_env env = {0};

	env.name = it->name;
	env.version = it->version;
	env.prefix = x->sw->dir;
	env.work_dir = bp->work;
	env.log_path = bp->log;
	env.target = x->plan.target;
	env.jobs = stitch_default_jobs(x->o->jobs);
	env.isolate_network = true;
	env.sandbox = !x->o->no_sandbox;
	/* Its database, logs and other packages' trees are none of a build's business. */
	env.hidden = stitch_state_dir(x->sw->st);
	env.echo_fd = x->o->command_fd;
	return env;
}

/*
 * Fetch when needed, unpack (or mirror the pin's tree), build and install
 * into the staging directory.  Files only, no state: this runs in a child
 * process, beside the builds of packages that do not depend on it.
 */
static int build_stage(struct stitch_exec *x, size_t i, struct stitch_err *err)
{
	const struct stitch_plan_item *it = &x->plan.items[i];
	char *parent = xasprintf("%s/build", stitch_state_dir(x->sw->st));
	const struct stitch_build_step steps[] = {{&it->v->build, "build", false},
	                                          {&it->v->install, "install", true}};
	struct build_paths bp;
	struct stitch_build_env env;
	int rc;

	paths_of(x, it, &bp);
	env = build_env(x, it, &bp);
	stitch_rm_rf(bp.staging);
	stitch_mkdir_p(parent, 0755);
	if ((rc = prepare_tree(x, i, &bp, err)) != 0)
		goto out;
	stitch_mkdir_p(bp.logs, 0755);
	unlink(bp.log);
	if (stitch_mkdir_p(bp.staging, 0755) != 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot create '%s': %s", bp.staging,
		                  strerror(errno));
		goto out;
	}
	/*
	 * A pin's tree is built incrementally; a build killed in the middle can
	 * leave an output half written that make then takes as up to date.  The
	 * mark says a build is running: the next one finding it starts afresh.
	 */
	if (it->pin)
		stitch_write_file(bp.mark, "", 0, false);
	/* Both steps in one sandbox; only the install's commands get DESTDIR. */
	env.staging = bp.staging;
	rc = stitch_build_run_steps(steps, 2, &env, err);
	if (it->pin)
		unlink(bp.mark);
out:
	free(parent);
	paths_release(&bp);
	return rc;
}

/* Keep what a build staged in the artifact cache (and upload it); never fatal. */
static void store_artifact(struct stitch_exec *x, size_t i, const struct stitch_staged *sp,
                           const char *root)
{
	const struct stitch_plan_item *it = &x->plan.items[i];
	const char **names = xcalloc(it->n_deps + 1, sizeof(char *));
	const char **ifaces = xcalloc(it->n_deps + 1, sizeof(char *));
	const char **paths = xcalloc(sp->n_files + 1, sizeof(char *));
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_build_inputs in;
	bool uploaded = false;
	int rc;

	stitch_plan_inputs(&x->plan, i, names, ifaces, &in);
	for (size_t k = 0; k < sp->n_files; k++)
		paths[k] = sp->files[k].path;
	rc = stitch_artifacts_store(x->o->artifacts, &in, it->build_hash, it->interface_hash, root,
	                            paths, sp->n_files, x->sw->dir, &uploaded, &err);
	if (stitch_exec_report_remote(x, it) && rc == STITCH_E_FETCH)
		rc = 0; /* kept locally; the remote's failure is reported */
	if (uploaded)
		emit_cache(x, it, STITCH_CACHE_UPLOADED, NULL);
	else if (rc == 0)
		emit_cache(x, it, STITCH_CACHE_STORED, NULL);
	else
		emit_cache(x, it,
		           rc == STITCH_E_FETCH ? STITCH_CACHE_UPLOAD_FAILED
		                                : STITCH_CACHE_NOT_STORED,
		           &err);
	free(names);
	free(ifaces);
	free(paths);
}

/* The switch's record of item i, as built against its dependencies. */
static void describe_install(const struct stitch_exec *x, size_t i, struct stitch_staged *sp,
                             char **depnames, char *root)
{
	const struct stitch_plan_item *it = &x->plan.items[i];

	for (size_t d = 0; d < it->n_deps; d++)
		depnames[d] = (char *)x->plan.items[it->deps[d]].name;
	sp->info.name = (char *)it->name;
	sp->info.version = (char *)it->version;
	sp->info.source_sha256 = (char *)it->source_sha256;
	sp->info.build_hash = (char *)it->build_hash;
	sp->info.interface_hash = (char *)it->interface_hash;
	sp->info.repo = it->pin ? NULL : it->v->pkg->repo->name;
	sp->info.requested = it->requested;
	sp->info.pinned = it->pin != NULL;
	sp->info.depends = depnames;
	sp->info.n_depends = it->n_deps;
	sp->root = root;
}

/*
 * Collect what the staging directory holds (what build_stage installed, or
 * the artifact art unpacked), keep a build in the artifact cache, and
 * commit it into the switch: one package, whole or not at all.
 */
static int build_commit(struct stitch_exec *x, size_t i, const struct stitch_artifact *art,
                        struct stitch_err *err)
{
	struct stitch_plan_item *it = &x->plan.items[i];
	struct build_paths bp;
	struct stitch_staged sp;
	char **depnames = xcalloc(it->n_deps + 1, sizeof(char *)), *root = NULL;
	int rc;

	memset(&sp, 0, sizeof(sp));
	paths_of(x, it, &bp);
	if (art) {
		char *dest = xasprintf("%s%s", bp.staging, x->sw->dir);
		stitch_rm_rf(bp.staging);
		rc = stitch_artifacts_unpack(x->o->artifacts, art, dest, x->sw->dir, err);
		free(dest);
		if (rc)
			goto out;
	}
	/*
	 * A pin rebuilt with its headers as they were keeps its interface hash
	 * without preprocessing them again.  Only a pin: its builds never go to
	 * the shared cache, where the hash is checked against the files.
	 */
	if ((rc = stitch_switch_collect(x->sw, bp.staging, bp.label,
	                                it->pin && !art ? it->inst : NULL, &sp, it->interface_hash,
	                                &root, err)) != 0)
		goto out;
	/* What changed for its dependents, to say why they are kept or rebuilt. */
	if (it->inst)
		stitch_iface_compare(x->sw->st, x->sw->dir, it->name, sp.files, sp.n_files, root,
		                     &it->iface_change);
	/* A package with install commands that staged nothing installed elsewhere. */
	if (!art && !sp.n_files && it->v->install.n) {
		rc = stitch_error(err, STITCH_E_BUILD,
		                  "install of '%s %s' installed no files into the staging "
		                  "directory; does its install step honour DESTDIR?",
		                  it->name, it->version);
		goto out;
	}
	if (art && strcmp(it->interface_hash, art->interface_hash) != 0) {
		rc = stitch_error(err, STITCH_E_CHECKSUM,
		                  "artifact %s of %s %s: its files do not match the interface "
		                  "hash it records",
		                  art->build_hash, it->name, it->version);
		goto out;
	}
	/* A pin's build is work in progress: it stays out of the shared cache. */
	if (!art && x->o->artifacts && !it->pin)
		store_artifact(x, i, &sp, root);
	describe_install(x, i, &sp, depnames, root);
	rc = stitch_switch_commit_install(x->sw, &sp, err);
out:
	stitch_staged_release(&sp);
	if (rc == 0 && !it->pin && !art && !x->o->keep_trees)
		stitch_rm_rf(bp.work); /* the log stays; a failed tree stays for inspection */
	stitch_rm_rf(bp.staging);
	free(depnames);
	free(root);
	paths_release(&bp);
	return rc;
}

/* With --explain: which input differs from the closest build the cache holds. */
static void explain_miss(struct stitch_exec *x, size_t i)
{
	const struct stitch_plan_item *it = &x->plan.items[i];
	const char **names = xcalloc(it->n_deps + 1, sizeof(char *));
	const char **ifaces = xcalloc(it->n_deps + 1, sizeof(char *));
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_build_inputs in;
	struct stitch_event ev = item_event(STITCH_EV_EXPLAIN, it);

	stitch_plan_inputs(&x->plan, i, names, ifaces, &in);
	if (!stitch_artifacts_explain(x->o->artifacts, &in, &why))
		stitch_buf_addf(&why, "the cache holds no build of %s", it->name);
	ev.explain.text = why.buf;
	stitch_exec_emit_ev(x, &ev);
	stitch_buf_release(&why);
	free(names);
	free(ifaces);
}

/*
 * Serve item i from the artifact cache.  True when it is installed that
 * way; otherwise it is to be built (a rejected artifact is reported).
 */
static bool serve_cached(struct stitch_exec *x, size_t i)
{
	struct stitch_plan_item *it = &x->plan.items[i];
	struct stitch_artifact art;
	struct stitch_err err = STITCH_ERR_INIT;
	int rc = stitch_artifacts_lookup(x->o->artifacts, it->build_hash, &art, &err);

	if (stitch_exec_report_remote(x, it) && rc == STITCH_E_FETCH)
		rc = STITCH_E_NOTFOUND;
	if (rc == 0) {
		rc = build_commit(x, i, &art, &err);
		if (rc == 0) {
			struct stitch_event ev;
			it->action = STITCH_ACTION_CACHED;
			ev = item_event(STITCH_EV_CACHED, it);
			ev.build.seconds = stitch_now() - x->jobs[i].t0;
			ev.build.where = art.where;
			stitch_exec_emit_ev(x, &ev);
		}
		stitch_artifact_release(&art);
	}
	if (rc != 0 && rc != STITCH_E_NOTFOUND)
		emit_cache(x, it, STITCH_CACHE_REJECTED, &err);
	return rc == 0;
}

/* ---- the scheduler's callbacks ---- */

static enum stitch_sched_state keep(struct stitch_exec *x, size_t i)
{
	const struct stitch_plan_item *it = &x->plan.items[i];

	if (it->requested && !it->inst->requested)
		stitch_state_set_requested(x->sw->st, it->name, true, NULL);
	stitch_exec_emit(x, STITCH_EV_KEPT, it, 0, NULL);
	return STITCH_SCHED_DONE;
}

/* How many packages the plan may build: cached ones too (the cache may fail). */
static size_t planned_builds(const struct stitch_plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += p->items[i].action == STITCH_ACTION_BUILD ||
		     p->items[i].action == STITCH_ACTION_REBUILD ||
		     p->items[i].action == STITCH_ACTION_CACHED;
	return n;
}

/*
 * Can builds be sandboxed?  Asked once, before the first build: when they
 * cannot, the first package says why and how to opt out, the others only
 * that they were not built.  A lone build says it itself, and costs no
 * second sandbox; a package that becomes a build later does so once a
 * dependency built (in a sandbox, then) or failed.
 */
static int check_sandbox(struct stitch_exec *x, const struct stitch_plan_item *it,
                         struct stitch_err *err)
{
	struct build_paths bp;
	struct stitch_build_env env;
	int rc;

	if (x->o->no_sandbox || x->sandbox > 0 || (!x->sandbox && planned_builds(&x->plan) <= 1))
		return 0;
	if (x->sandbox < 0)
		return stitch_error(err, STITCH_E_BUILD,
		                    "%s %s was not built: builds cannot be sandboxed (see above)",
		                    it->name, it->version);
	paths_of(x, it, &bp);
	env = build_env(x, it, &bp);
	stitch_mkdir_p(bp.logs, 0755);
	rc = stitch_build_sandbox_check(&env, err);
	x->sandbox = rc ? -1 : 1;
	paths_release(&bp);
	return rc;
}

/*
 * In a build child: die with stitch, even when it is killed with no chance
 * to clean up (bubblewrap's --die-with-parent then takes the sandbox down),
 * and lead a process group of its own, which stitch kills when the build
 * ends so that nothing it started outlives it.
 */
static void enter_build_group(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	setpgid(0, 0);
}

static enum stitch_sched_state start_build(struct stitch_exec *x, size_t i, pid_t *pid)
{
	struct stitch_plan_item *it = &x->plan.items[i];
	struct stitch_err err = STITCH_ERR_INIT;
	pid_t parent = getpid();
	int fds[2];

	stitch_exec_emit(x, STITCH_EV_START, it, 0, NULL);
	if (check_sandbox(x, it, &err) != 0) {
		stitch_exec_note_failure(x, &err);
		stitch_exec_emit(x, STITCH_EV_FAILED, it, 0, &err);
		return STITCH_SCHED_FAILED;
	}
	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) != 0)
		fds[0] = fds[1] = -1;
	*pid = fork();
	if (*pid == 0) {
		int crc;
		enter_build_group(parent);
		crc = build_stage(x, i, &err);
		if (crc && fds[1] >= 0 && write(fds[1], &err, sizeof(err)) != (ssize_t)sizeof(err))
			_exit(2);
		_exit(crc ? 1 : 0);
	}
	if (fds[1] >= 0)
		close(fds[1]);
	if (*pid > 0)
		setpgid(*pid, *pid); /* also here: no race with the child's own call */
	x->jobs[i].fd = fds[0];
	x->jobs[i].pid = *pid;
	if (*pid < 0) {
		stitch_error(&err, STITCH_E_BUILD, "cannot start the build of %s: %s", it->name,
		             strerror(errno));
		if (fds[0] >= 0)
			close(fds[0]);
		stitch_exec_note_failure(x, &err);
		stitch_exec_emit(x, STITCH_EV_FAILED, it, 0, &err);
		return STITCH_SCHED_FAILED;
	}
	return STITCH_SCHED_RUNNING;
}

static enum stitch_sched_state on_start(void *data, size_t i, int slot_free, pid_t *pid)
{
	struct stitch_exec *x = data;
	struct stitch_plan_item *it = &x->plan.items[i];
	struct stitch_job *jb = &x->jobs[i];

	/* Its dependencies have settled: decide with their real interfaces. */
	if (!jb->cache_missed) {
		jb->t0 = stitch_now();
		stitch_plan_decide(&x->plan, i);
	}
	if (it->action == STITCH_ACTION_KEEP)
		return keep(x, i);
	/*
	 * Asked again even when the plan found no build there: a build that
	 * does not check out is reported as rejected, not silently rebuilt.
	 */
	if (x->o->artifacts && !it->pin && it->build_hash[0] && !jb->cache_missed) {
		if (serve_cached(x, i)) {
			stitch_exec_add_change(x, it);
			return STITCH_SCHED_DONE;
		}
		if (it->action == STITCH_ACTION_CACHED)
			stitch_plan_build_instead(&x->plan, i);
	}
	if (!jb->cache_missed && x->o->artifacts && x->o->explain && !it->pin)
		explain_miss(x, i);
	jb->cache_missed = true; /* asked once; it waits for a slot from here */
	if (!slot_free)
		return STITCH_SCHED_WAITING;
	return start_build(x, i, pid);
}

static enum stitch_sched_state on_finish(void *data, size_t i, int status)
{
	struct stitch_exec *x = data;
	struct stitch_plan_item *it = &x->plan.items[i];
	struct stitch_job *jb = &x->jobs[i];
	struct stitch_err err = STITCH_ERR_INIT;
	int rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : STITCH_E_BUILD;

	if (rc && (jb->fd < 0 || read(jb->fd, &err, sizeof(err)) != (ssize_t)sizeof(err)))
		stitch_error(&err, STITCH_E_BUILD, "the build of %s %s stopped (%s %d)", it->name,
		             it->version, WIFSIGNALED(status) ? "signal" : "status",
		             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	if (jb->fd >= 0)
		close(jb->fd);
	jb->fd = -1;
	if (jb->pid > 0)
		kill(-jb->pid, SIGKILL); /* what the build left running, if anything */
	jb->pid = 0;
	if (rc == 0)
		rc = build_commit(x, i, NULL, &err);
	if (rc) {
		stitch_exec_note_failure(x, &err);
		stitch_exec_emit(x, STITCH_EV_FAILED, it, stitch_now() - jb->t0, &err);
		return STITCH_SCHED_FAILED;
	}
	if (!x->sandbox)
		x->sandbox = 1; /* it built: builds can be sandboxed (or need not be) */
	stitch_exec_emit(x, STITCH_EV_DONE, it, stitch_now() - jb->t0, NULL);
	stitch_exec_add_change(x, it);
	return STITCH_SCHED_DONE;
}

static void on_skip(void *data, size_t i, size_t dep)
{
	struct stitch_exec *x = data;
	struct stitch_plan_item *it = &x->plan.items[i];

	const struct stitch_plan_item *bad = &x->plan.items[dep];

	snprintf(x->jobs[i].failed_dep, sizeof(x->jobs[i].failed_dep), "%s %s", bad->name,
	         bad->version);
	it->cause = (struct stitch_cause){STITCH_CAUSE_DEP_FAILED, x->jobs[i].failed_dep, 0, NULL};
	stitch_exec_emit(x, STITCH_EV_SKIPPED, it, 0, NULL);
}

static int run_plan(struct stitch_exec *x, struct stitch_err *err)
{
	struct stitch_plan *p = &x->plan;
	struct stitch_sched_node *nodes = xcalloc(p->n + 1, sizeof(*nodes));
	enum stitch_sched_state *state = xcalloc(p->n + 1, sizeof(*state));
	static const struct stitch_sched_ops ops = {on_start, on_finish, on_skip};
	int rc;

	for (size_t i = 0; i < p->n; i++)
		nodes[i] = (struct stitch_sched_node){p->items[i].deps, p->items[i].n_deps};
	rc = stitch_sched_run(nodes, p->n, p->order, stitch_default_jobs(x->o->parallel), &ops, x,
	                      state, err);
	free(nodes);
	free(state);
	return rc;
}

static void fetch_phase(struct stitch_exec *x)
{
	struct stitch_err err = STITCH_ERR_INIT;
	double t0 = stitch_now();
	size_t n = 0;
	struct stitch_event ev;

	/* Every new source at once, before the first build. */
	if (fetch_sources(x, &n, &err) != 0)
		stitch_exec_note_failure(x, &err);
	if (!n)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = STITCH_EV_FETCH;
	ev.change = STITCH_PLAN_KEEP;
	ev.fetch.count = n;
	ev.fetch.seconds = stitch_now() - t0;
	ev.err = err.code ? &err : NULL;
	stitch_exec_emit_ev(x, &ev);
}

int stitch_exec_run(struct stitch_exec *x, struct stitch_err *err)
{
	int rc;

	x->jobs = xcalloc(x->plan.n + 1, sizeof(*x->jobs));
	for (size_t i = 0; i < x->plan.n; i++)
		x->jobs[i].fd = -1;
	fetch_phase(x);
	if ((rc = run_plan(x, err)) != 0)
		stitch_exec_note_failure(x, err);
	return x->first.code;
}

void stitch_exec_release(struct stitch_exec *x)
{
	for (size_t i = 0; x->jobs && i < x->plan.n; i++)
		free(x->jobs[i].source_path);
	free(x->jobs);
	free(x->changes);
	stitch_plan_release(&x->plan);
}
