/*
 * install / upgrade / remove on a switch: gather what the plan needs,
 * make the plan (plan.c), run it through the scheduler (sched.c).
 */
#include "op.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "build.h"
#include "fetch.h"
#include "plan.h"
#include "sched.h"
#include "state.h"
#include "tree.h"

/* What running one plan item needs beyond the plan. */
struct job {
	char *source_path; /* the archive in the source cache */
	int fd; /* read end of the build child's error pipe */
	double t0;
	bool cache_missed; /* the artifact cache was asked and could not serve it */
	char failed_dep[300]; /* "name version" of the dependency that failed */
};

struct op {
	struct stitch_switch *sw;
	const struct stitch_op_opts *o;
	struct stitch_plan plan;
	struct job *jobs;
	char cc_id[320];
	struct stitch_pin *pins;
	size_t n_pins;
	struct stitch_tree_scan *scans; /* of each pin's tree, when part of the plan */
	char **local_sha; /* per chosen version without a SHA-256 in the index */
	struct stitch_change *changes;
	size_t n_changes, cap_changes;
	struct stitch_err first; /* the first failure; the operation goes on around it */
};

static void emit_ev(const struct op *op, struct stitch_event *ev)
{
	if (op->o->on_event)
		op->o->on_event(op->o->data, ev);
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

static void emit(const struct op *op, enum stitch_event_kind k, const struct stitch_plan_item *it,
                 double secs, const struct stitch_err *err)
{
	struct stitch_event ev = item_event(k, it);

	ev.build.seconds = secs;
	ev.err = err;
	emit_ev(op, &ev);
}

static void note_failure(struct op *op, const struct stitch_err *err)
{
	if (!op->first.code)
		op->first = *err;
}

static void add_change(struct op *op, const struct stitch_plan_item *it)
{
	enum stitch_change_action a =
	    it->change == STITCH_PLAN_KEEP ? STITCH_CHANGE_REBUILD : it->change;

	XGROW(op->changes, op->cap_changes, op->n_changes + 1);
	op->changes[op->n_changes++] =
	    (struct stitch_change){a, (char *)it->name, (char *)it->old_version,
	                           a == STITCH_CHANGE_REMOVE ? NULL : (char *)it->version};
}

static char *source_url(const struct stitch_version *v)
{
	const char *u = v->url;

	if (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8) || !strncmp(u, "file://", 7))
		return xstrdup(u);
	return xasprintf("%s/%s", v->pkg->repo->root, u);
}

/* ---- what the plan needs: scanned pins, hashes of local sources ---- */

static int scan_pins(struct op *op, const struct stitch_solution *sol, struct stitch_err *err)
{
	bool txn;
	int rc = 0;

	op->scans = xcalloc(op->n_pins + 1, sizeof(*op->scans));
	/* One commit for the whole stat cache update, not one per pin. */
	txn = !op->o->dry_run && !stitch_state_in_transaction(op->sw->st) &&
	      stitch_state_begin_lazy(op->sw->st, NULL) == 0;
	for (size_t k = 0; k < op->n_pins && rc == 0; k++) {
		const struct stitch_pin *pin = &op->pins[k];
		bool used = false;
		for (size_t i = 0; i < sol->n; i++)
			used |= !strcmp(sol->chosen[i]->pkg->name, pin->name);
		if (!used)
			continue;
		/* A pin's source is its working tree, uncommitted edits included. */
		rc = op->o->dry_run
		         ? stitch_tree_peek(op->sw->st, pin->name, pin->path, &op->scans[k], err)
		         : stitch_tree_scan(op->sw->st, pin->name, pin->path, &op->scans[k], err);
		if (rc)
			stitch_error_wrap(err, "cannot scan the pinned tree of '%s'", pin->name);
	}
	if (txn) {
		if (rc == 0)
			rc = stitch_state_commit(op->sw->st, err);
		else
			stitch_state_rollback(op->sw->st, NULL);
	}
	return rc;
}

/* A local source the index gives no SHA-256 for is hashed where it lies. */
static void hash_local_sources(struct op *op, const struct stitch_solution *sol)
{
	op->local_sha = xcalloc(sol->n + 1, sizeof(char *));
	for (size_t i = 0; i < sol->n; i++) {
		const struct stitch_version *v = sol->chosen[i];
		char *url, hex[65];
		if (v->sha256 || !strncmp(v->url, "http://", 7) || !strncmp(v->url, "https://", 8))
			continue;
		url = source_url(v);
		if (stitch_sha256_file(url + (strncmp(url, "file://", 7) == 0 ? 7 : 0), hex) == 0)
			op->local_sha[i] = xstrdup(hex);
		free(url);
	}
}

static void cc_identity(struct op *op)
{
	if (!op->cc_id[0])
		stitch_cc_identity(stitch_state_dir(op->sw->st), op->cc_id, sizeof(op->cc_id));
}

static void emit_cache(const struct op *op, const struct stitch_plan_item *it,
                       enum stitch_cache_what what, const struct stitch_err *err)
{
	struct stitch_event ev = item_event(STITCH_EV_CACHE, it);

	ev.cache.what = what;
	ev.err = err;
	emit_ev(op, &ev);
}

/* Say once that the shared cache cannot be reached (it is not asked again). */
static bool report_remote(const struct op *op, const struct stitch_plan_item *it)
{
	const struct stitch_err *e = stitch_artifacts_remote_failure(op->o->artifacts);

	if (e && it)
		emit_cache(op, it, STITCH_CACHE_UNREACHABLE, e);
	return e != NULL;
}

/* The plan's question to the artifact cache. */
static bool cache_holds(void *data, const char *build_hash, char iface[65])
{
	struct op *op = data;
	struct stitch_artifact art;

	if (!op->o->artifacts ||
	    stitch_artifacts_lookup(op->o->artifacts, build_hash, &art, NULL) != 0)
		return false;
	memcpy(iface, art.interface_hash, 65);
	stitch_artifact_release(&art);
	return true;
}

/* ---- fetching ---- */

static int fetch_sources(struct op *op, size_t *n_fetched, struct stitch_err *err)
{
	struct stitch_plan *p = &op->plan;
	struct stitch_fetch_item *items = xcalloc(p->n + 1, sizeof(*items));
	char **labels = xcalloc(p->n + 1, sizeof(char *));
	size_t *which = xcalloc(p->n + 1, sizeof(size_t));
	struct stitch_fetch_opts fo = {0};
	size_t m = 0;
	int rc;

	for (size_t i = 0; i < p->n; i++) {
		const struct stitch_plan_item *it = &p->items[i];
		if (!it->fetch)
			continue;
		labels[m] = xasprintf("%s %s", it->name, it->version);
		items[m].url = source_url(it->v);
		items[m].sha256 = it->v->sha256;
		items[m].label = labels[m];
		which[m++] = i;
	}
	fo.cache_dir = op->o->source_cache;
	fo.parallel = op->o->fetch_parallel;
	rc = m ? stitch_fetch_all(items, m, &fo, err) : 0;
	for (size_t k = 0; k < m; k++) {
		struct stitch_plan_item *it = &p->items[which[k]];
		if (items[k].status == 0) {
			op->jobs[which[k]].source_path = xstrdup(items[k].path);
			snprintf(it->source_sha256, 65, "%s", items[k].sha256_out);
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

static int fetch_one(struct op *op, size_t i, struct stitch_err *err)
{
	struct stitch_plan_item *it = &op->plan.items[i];
	struct stitch_fetch_item f = {0};
	struct stitch_fetch_opts fo = {0};
	char *url = source_url(it->v), *label = xasprintf("%s %s", it->name, it->version);
	int rc;

	f.url = url;
	f.sha256 = it->v->sha256;
	f.label = label;
	fo.cache_dir = op->o->source_cache;
	rc = stitch_fetch_all(&f, 1, &fo, err);
	if (rc == 0) {
		op->jobs[i].source_path = xstrdup(f.path);
		snprintf(it->source_sha256, 65, "%s", f.sha256_out);
	}
	stitch_fetch_item_release(&f);
	free(url);
	free(label);
	return rc;
}

/* ---- building ---- */

/* Where a package is built: its tree, its staging directory, its log. */
struct build_paths {
	char *work, *staging, *logs, *log, *label;
};

static void paths_of(const struct op *op, const struct stitch_plan_item *it, struct build_paths *bp)
{
	const char *meta = stitch_state_dir(op->sw->st);

	/* A pin builds in a persistent mirror of its tree, so make sees mtimes. */
	bp->work = it->pin ? xasprintf("%s/build/pin-%s", meta, it->name)
	                   : xasprintf("%s/build/%s-%s", meta, it->name, it->version);
	bp->staging = xasprintf("%s/staging/%s-%s", meta, it->name, it->version);
	bp->logs = xasprintf("%s/logs", meta);
	bp->log = xasprintf("%s/%s-%s.log", bp->logs, it->name, it->version);
	bp->label = xasprintf("%s %s", it->name, it->version);
}

static void paths_release(struct build_paths *bp)
{
	free(bp->work);
	free(bp->staging);
	free(bp->logs);
	free(bp->log);
	free(bp->label);
}

/* The tree to build in: the pin's mirrored, or the release unpacked afresh. */
static int prepare_tree(struct op *op, size_t i, const struct build_paths *bp,
                        struct stitch_err *err)
{
	const struct stitch_plan_item *it = &op->plan.items[i];
	size_t copied;
	int rc;

	if (!it->pin && !op->jobs[i].source_path && (rc = fetch_one(op, i, err)) != 0)
		return rc;
	if (!it->pin)
		stitch_rm_rf(bp->work);
	else if (op->o->clean && op->o->clean(op->o->data, it->name))
		stitch_rm_rf(bp->work);
	if (it->pin)
		return stitch_tree_mirror(it->pin->path, bp->work, &copied, err);
	if ((rc = stitch_archive_unpack(op->jobs[i].source_path, bp->work, err)) != 0)
		stitch_error_wrap(err, "%s %s", it->name, it->version);
	return rc;
}

/*
 * Fetch when needed, unpack (or mirror the pin's tree), build and install
 * into the staging directory.  Files only, no state: this runs in a child
 * process, beside the builds of packages that do not depend on it.
 */
static int build_stage(struct op *op, size_t i, struct stitch_err *err)
{
	const struct stitch_plan_item *it = &op->plan.items[i];
	char *parent = xasprintf("%s/build", stitch_state_dir(op->sw->st));
	struct build_paths bp;
	struct stitch_build_env env;
	int rc;

	paths_of(op, it, &bp);
	env = (struct stitch_build_env){
	    it->name, it->version, op->sw->dir,     NULL,
	    bp.work,  bp.log,      op->plan.target, stitch_default_jobs(op->o->jobs),
	    0,        true};
	stitch_rm_rf(bp.staging);
	stitch_mkdir_p(parent, 0755);
	if ((rc = prepare_tree(op, i, &bp, err)) != 0)
		goto out;
	stitch_mkdir_p(bp.logs, 0755);
	unlink(bp.log);
	if (stitch_mkdir_p(bp.staging, 0755) != 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot create '%s': %s", bp.staging,
		                  strerror(errno));
		goto out;
	}
	if ((rc = stitch_build_run(&it->v->build, "build", &env, err)) != 0)
		goto out;
	env.staging = bp.staging;
	rc = stitch_build_run(&it->v->install, "install", &env, err);
out:
	free(parent);
	paths_release(&bp);
	return rc;
}

/* Keep what a build staged in the artifact cache (and upload it); never fatal. */
static void store_artifact(struct op *op, size_t i, const struct stitch_staged *sp,
                           const char *root)
{
	const struct stitch_plan_item *it = &op->plan.items[i];
	const char **names = xcalloc(it->n_deps + 1, sizeof(char *));
	const char **ifaces = xcalloc(it->n_deps + 1, sizeof(char *));
	const char **paths = xcalloc(sp->n_files + 1, sizeof(char *));
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_build_inputs in;
	bool uploaded = false;
	int rc;

	stitch_plan_inputs(&op->plan, i, names, ifaces, &in);
	for (size_t k = 0; k < sp->n_files; k++)
		paths[k] = sp->files[k].path;
	rc = stitch_artifacts_store(op->o->artifacts, &in, it->build_hash, it->interface_hash, root,
	                            paths, sp->n_files, op->sw->dir, &uploaded, &err);
	if (report_remote(op, it) && rc == STITCH_E_FETCH)
		rc = 0; /* kept locally; the remote's failure is reported */
	if (uploaded)
		emit_cache(op, it, STITCH_CACHE_UPLOADED, NULL);
	else if (rc == 0)
		emit_cache(op, it, STITCH_CACHE_STORED, NULL);
	else
		emit_cache(op, it,
		           rc == STITCH_E_FETCH ? STITCH_CACHE_UPLOAD_FAILED
		                                : STITCH_CACHE_NOT_STORED,
		           &err);
	free(names);
	free(ifaces);
	free(paths);
}

/* The switch's record of item i, as built against its dependencies. */
static void describe_install(const struct op *op, size_t i, struct stitch_staged *sp,
                             char **depnames, char *root)
{
	const struct stitch_plan_item *it = &op->plan.items[i];

	for (size_t d = 0; d < it->n_deps; d++)
		depnames[d] = (char *)op->plan.items[it->deps[d]].name;
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
static int build_commit(struct op *op, size_t i, const struct stitch_artifact *art,
                        struct stitch_err *err)
{
	struct stitch_plan_item *it = &op->plan.items[i];
	struct build_paths bp;
	struct stitch_staged sp;
	char **depnames = xcalloc(it->n_deps + 1, sizeof(char *)), *root = NULL;
	int rc;

	memset(&sp, 0, sizeof(sp));
	paths_of(op, it, &bp);
	if (art) {
		char *dest = xasprintf("%s%s", bp.staging, op->sw->dir);
		stitch_rm_rf(bp.staging);
		rc = stitch_artifacts_unpack(op->o->artifacts, art, dest, op->sw->dir, err);
		free(dest);
		if (rc)
			goto out;
	}
	if ((rc = stitch_switch_collect(op->sw, bp.staging, bp.label, &sp, it->interface_hash,
	                                &root, err)) != 0)
		goto out;
	if (art && strcmp(it->interface_hash, art->interface_hash) != 0) {
		rc = stitch_error(err, STITCH_E_CHECKSUM,
		                  "artifact %s of %s %s: its files do not match the interface "
		                  "hash it records",
		                  art->build_hash, it->name, it->version);
		goto out;
	}
	/* A pin's build is work in progress: it stays out of the shared cache. */
	if (!art && op->o->artifacts && !it->pin)
		store_artifact(op, i, &sp, root);
	describe_install(op, i, &sp, depnames, root);
	rc = stitch_switch_commit_install(op->sw, &sp, err);
out:
	stitch_staged_release(&sp);
	if (rc == 0 && !it->pin && !art)
		stitch_rm_rf(bp.work); /* the log stays; a failed tree stays for inspection */
	stitch_rm_rf(bp.staging);
	free(depnames);
	free(root);
	paths_release(&bp);
	return rc;
}

/* With --explain: which input differs from the closest build the cache holds. */
static void explain_miss(struct op *op, size_t i)
{
	const struct stitch_plan_item *it = &op->plan.items[i];
	const char **names = xcalloc(it->n_deps + 1, sizeof(char *));
	const char **ifaces = xcalloc(it->n_deps + 1, sizeof(char *));
	struct stitch_buf why = STITCH_BUF_INIT;
	struct stitch_build_inputs in;
	struct stitch_event ev = item_event(STITCH_EV_EXPLAIN, it);

	stitch_plan_inputs(&op->plan, i, names, ifaces, &in);
	if (!stitch_artifacts_explain(op->o->artifacts, &in, &why))
		stitch_buf_addf(&why, "the cache holds no build of %s", it->name);
	ev.explain.text = why.buf;
	emit_ev(op, &ev);
	stitch_buf_release(&why);
	free(names);
	free(ifaces);
}

/*
 * Serve item i from the artifact cache.  True when it is installed that
 * way; otherwise it is to be built (a rejected artifact is reported).
 */
static bool serve_cached(struct op *op, size_t i)
{
	struct stitch_plan_item *it = &op->plan.items[i];
	struct stitch_artifact art;
	struct stitch_err err = STITCH_ERR_INIT;
	int rc = stitch_artifacts_lookup(op->o->artifacts, it->build_hash, &art, &err);

	if (report_remote(op, it) && rc == STITCH_E_FETCH)
		rc = STITCH_E_NOTFOUND;
	if (rc == 0) {
		rc = build_commit(op, i, &art, &err);
		if (rc == 0) {
			struct stitch_event ev;
			it->action = STITCH_ACTION_CACHED;
			ev = item_event(STITCH_EV_CACHED, it);
			ev.build.seconds = stitch_now() - op->jobs[i].t0;
			ev.build.where = art.where;
			emit_ev(op, &ev);
		}
		stitch_artifact_release(&art);
	}
	if (rc != 0 && rc != STITCH_E_NOTFOUND)
		emit_cache(op, it, STITCH_CACHE_REJECTED, &err);
	return rc == 0;
}

/* ---- the scheduler's callbacks ---- */

static enum stitch_sched_state keep(struct op *op, size_t i)
{
	const struct stitch_plan_item *it = &op->plan.items[i];

	if (it->requested && !it->inst->requested)
		stitch_state_set_requested(op->sw->st, it->name, true, NULL);
	emit(op, STITCH_EV_KEPT, it, 0, NULL);
	return STITCH_SCHED_DONE;
}

static enum stitch_sched_state start_build(struct op *op, size_t i, pid_t *pid)
{
	struct stitch_plan_item *it = &op->plan.items[i];
	struct stitch_err err = STITCH_ERR_INIT;
	int fds[2];

	emit(op, STITCH_EV_START, it, 0, NULL);
	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC) != 0)
		fds[0] = fds[1] = -1;
	*pid = fork();
	if (*pid == 0) {
		int crc = build_stage(op, i, &err);
		if (crc && fds[1] >= 0 && write(fds[1], &err, sizeof(err)) != (ssize_t)sizeof(err))
			_exit(2);
		_exit(crc ? 1 : 0);
	}
	if (fds[1] >= 0)
		close(fds[1]);
	op->jobs[i].fd = fds[0];
	if (*pid < 0) {
		stitch_error(&err, STITCH_E_BUILD, "cannot start the build of %s: %s", it->name,
		             strerror(errno));
		if (fds[0] >= 0)
			close(fds[0]);
		note_failure(op, &err);
		emit(op, STITCH_EV_FAILED, it, 0, &err);
		return STITCH_SCHED_FAILED;
	}
	return STITCH_SCHED_RUNNING;
}

static enum stitch_sched_state on_start(void *data, size_t i, int slot_free, pid_t *pid)
{
	struct op *op = data;
	struct stitch_plan_item *it = &op->plan.items[i];
	struct job *jb = &op->jobs[i];

	/* Its dependencies have settled: decide with their real interfaces. */
	if (!jb->cache_missed) {
		jb->t0 = stitch_now();
		stitch_plan_decide(&op->plan, i);
	}
	if (it->action == STITCH_ACTION_KEEP)
		return keep(op, i);
	/*
	 * Asked again even when the plan found no build there: a build that
	 * does not check out is reported as rejected, not silently rebuilt.
	 */
	if (op->o->artifacts && !it->pin && it->build_hash[0] && !jb->cache_missed) {
		if (serve_cached(op, i)) {
			add_change(op, it);
			return STITCH_SCHED_DONE;
		}
		if (it->action == STITCH_ACTION_CACHED)
			stitch_plan_build_instead(&op->plan, i);
	}
	if (!jb->cache_missed && op->o->artifacts && op->o->explain && !it->pin)
		explain_miss(op, i);
	jb->cache_missed = true; /* asked once; it waits for a slot from here */
	if (!slot_free)
		return STITCH_SCHED_WAITING;
	return start_build(op, i, pid);
}

static enum stitch_sched_state on_finish(void *data, size_t i, int status)
{
	struct op *op = data;
	struct stitch_plan_item *it = &op->plan.items[i];
	struct job *jb = &op->jobs[i];
	struct stitch_err err = STITCH_ERR_INIT;
	int rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : STITCH_E_BUILD;

	if (rc && (jb->fd < 0 || read(jb->fd, &err, sizeof(err)) != (ssize_t)sizeof(err)))
		stitch_error(&err, STITCH_E_BUILD, "the build of %s %s stopped (%s %d)", it->name,
		             it->version, WIFSIGNALED(status) ? "signal" : "status",
		             WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	if (jb->fd >= 0)
		close(jb->fd);
	jb->fd = -1;
	if (rc == 0)
		rc = build_commit(op, i, NULL, &err);
	if (rc) {
		note_failure(op, &err);
		emit(op, STITCH_EV_FAILED, it, stitch_now() - jb->t0, &err);
		return STITCH_SCHED_FAILED;
	}
	emit(op, STITCH_EV_DONE, it, stitch_now() - jb->t0, NULL);
	add_change(op, it);
	return STITCH_SCHED_DONE;
}

static void on_skip(void *data, size_t i, size_t dep)
{
	struct op *op = data;
	struct stitch_plan_item *it = &op->plan.items[i];

	const struct stitch_plan_item *bad = &op->plan.items[dep];

	snprintf(op->jobs[i].failed_dep, sizeof(op->jobs[i].failed_dep), "%s %s", bad->name,
	         bad->version);
	it->cause = (struct stitch_cause){STITCH_CAUSE_DEP_FAILED, op->jobs[i].failed_dep, 0};
	emit(op, STITCH_EV_SKIPPED, it, 0, NULL);
}

static int run_plan(struct op *op, struct stitch_err *err)
{
	struct stitch_plan *p = &op->plan;
	struct stitch_sched_node *nodes = xcalloc(p->n + 1, sizeof(*nodes));
	enum stitch_sched_state *state = xcalloc(p->n + 1, sizeof(*state));
	static const struct stitch_sched_ops ops = {on_start, on_finish, on_skip};
	int rc;

	for (size_t i = 0; i < p->n; i++)
		nodes[i] = (struct stitch_sched_node){p->items[i].deps, p->items[i].n_deps};
	rc = stitch_sched_run(nodes, p->n, p->order, stitch_default_jobs(op->o->parallel), &ops, op,
	                      state, err);
	free(nodes);
	free(state);
	return rc;
}

/* ---- the operation ---- */

static void op_release(struct op *op)
{
	for (size_t i = 0; i < op->plan.n; i++)
		free(op->jobs ? op->jobs[i].source_path : NULL);
	for (size_t k = 0; op->scans && k < op->n_pins; k++)
		stitch_tree_scan_release(&op->scans[k]);
	for (size_t i = 0; op->local_sha && op->local_sha[i]; i++)
		free(op->local_sha[i]);
	stitch_plan_release(&op->plan);
	stitch_pins_free(op->pins, op->n_pins);
	free(op->scans);
	free(op->local_sha);
	free(op->jobs);
	free(op->changes);
}

static int record_history(struct op *op, const char *verb, struct stitch_err *err)
{
	struct stitch_history h = {0};
	char summary[128];
	int rc;

	if (!op->n_changes)
		return 0;
	snprintf(summary, sizeof(summary), "%s: %zu change%s", verb, op->n_changes,
	         op->n_changes == 1 ? "" : "s");
	h.command = (char *)(op->o->command_line ? op->o->command_line : verb);
	h.summary = summary;
	h.changes = op->changes;
	h.n_changes = op->n_changes;
	if (stitch_state_in_transaction(op->sw->st))
		return stitch_state_history_append(op->sw->st, &h, NULL, err);
	/* The history is a record, not state: it need not wait for the disk. */
	if ((rc = stitch_state_begin_lazy(op->sw->st, err)) != 0)
		return rc;
	if ((rc = stitch_state_history_append(op->sw->st, &h, NULL, err)) != 0) {
		stitch_state_rollback(op->sw->st, NULL);
		return rc;
	}
	return stitch_state_commit(op->sw->st, err);
}

static int solve_for(struct op *op, const struct stitch_index *idx, const char *const *reqs,
                     size_t n_reqs, const struct stitch_installed *inst, size_t n_inst,
                     struct stitch_solution *sol, struct stitch_buf *why, struct stitch_err *err)
{
	const char **roots = xcalloc(n_reqs + n_inst + 1, sizeof(char *));
	struct stitch_solve_installed *si = xcalloc(n_inst + 1, sizeof(*si));
	struct stitch_solve_pin *sp = xcalloc(op->n_pins + op->o->n_pins + 1, sizeof(*sp));
	struct stitch_solve_request req;
	size_t n_roots = 0;
	int rc;

	for (size_t i = 0; i < op->n_pins; i++)
		sp[i] = (struct stitch_solve_pin){op->pins[i].name, op->pins[i].version,
		                                  op->pins[i].path};
	for (size_t i = 0; i < op->o->n_pins; i++)
		sp[op->n_pins + i] = op->o->pins[i];
	for (size_t i = 0; i < n_reqs; i++)
		roots[n_roots++] = reqs[i];
	/* What is installed stays installed: each is a root after the requested ones. */
	for (size_t i = 0; i < n_inst; i++) {
		si[i] = (struct stitch_solve_installed){inst[i].name, inst[i].version};
		if (stitch_index_find(idx, inst[i].name))
			roots[n_roots++] = inst[i].name;
	}
	req = (struct stitch_solve_request){
	    n_roots, roots, op->n_pins + op->o->n_pins, sp, n_inst, si, op->o->upgrade};
	rc = stitch_solve(idx, &req, sol, why, err);
	free(sp);
	free(roots);
	free(si);
	return rc;
}

/* A pin is never silently ignored: say where each one stands, every run. */
static void report_pins(struct op *op)
{
	for (size_t k = 0; k < op->n_pins; k++) {
		const struct stitch_pin *pin = &op->pins[k];
		const struct stitch_plan_item *it = stitch_plan_find(&op->plan, pin->name);
		struct stitch_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.kind = STITCH_EV_PIN;
		ev.name = pin->name;
		ev.version = pin->version;
		ev.change = STITCH_PLAN_KEEP;
		ev.pin.path = pin->path;
		ev.pin.state = !it ? STITCH_PIN_UNUSED
		               : pin->tree_hash && !strcmp(it->source_sha256, pin->tree_hash)
		                   ? STITCH_PIN_UNCHANGED
		                   : STITCH_PIN_CHANGED;
		emit_ev(op, &ev);
	}
}

static void fetch_phase(struct op *op)
{
	struct stitch_err err = STITCH_ERR_INIT;
	double t0 = stitch_now();
	size_t n = 0;
	struct stitch_event ev;

	/* Every new source at once, before the first build. */
	if (fetch_sources(op, &n, &err) != 0)
		note_failure(op, &err);
	if (!n)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = STITCH_EV_FETCH;
	ev.change = STITCH_PLAN_KEEP;
	ev.fetch.count = n;
	ev.fetch.seconds = stitch_now() - t0;
	ev.err = err.code ? &err : NULL;
	emit_ev(op, &ev);
}

static int make_plan(struct op *op, const struct stitch_solution *sol,
                     const struct stitch_installed *inst, size_t n_inst, const char *const *reqs,
                     size_t n_reqs, struct stitch_err *err)
{
	struct stitch_plan_in in = {0};
	int rc;

	if ((rc = scan_pins(op, sol, err)) != 0)
		return rc;
	hash_local_sources(op, sol);
	cc_identity(op);
	in.chosen = sol->chosen;
	in.n_chosen = sol->n;
	in.installed = inst;
	in.n_installed = n_inst;
	in.pins = op->pins;
	in.n_pins = op->n_pins;
	in.scans = op->scans;
	in.source_sha256 = (const char *const *)op->local_sha;
	in.requested = reqs;
	in.n_requested = n_reqs;
	in.cc_id = op->cc_id;
	in.target = "unix";
	in.cached = op->o->artifacts ? cache_holds : NULL;
	in.cache_data = op;
	rc = stitch_plan_make(&in, &op->plan, err);
	if (rc == 0 && op->plan.n)
		report_remote(op, &op->plan.items[op->plan.order[0]]);
	return rc;
}

static void emit_plan(const struct op *op)
{
	for (size_t k = 0; k < op->plan.n; k++)
		emit(op, STITCH_EV_PLAN, &op->plan.items[op->plan.order[k]], 0, NULL);
}

int stitch_op_install(struct stitch_switch *sw, const struct stitch_index *idx,
                      const char *const *reqs, size_t n_reqs, const struct stitch_op_opts *opts,
                      struct stitch_buf *why, struct stitch_err *err)
{
	struct op op = {.sw = sw, .o = opts};
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_installed *inst = NULL;
	size_t n_inst = 0;
	int rc;

	if ((rc = stitch_state_list_packages(sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	if ((rc = stitch_state_pin_list(sw->st, &op.pins, &op.n_pins, err)) != 0)
		goto out;
	if (opts->fixed) {
		sol.chosen = xcalloc(opts->n_fixed + 1, sizeof(*sol.chosen));
		for (size_t i = 0; i < opts->n_fixed; i++)
			sol.chosen[i] = opts->fixed[i];
		sol.n = opts->n_fixed;
	} else if ((rc = solve_for(&op, idx, reqs, n_reqs, inst, n_inst, &sol, why, err)) != 0) {
		goto out;
	}
	if ((rc = make_plan(&op, &sol, inst, n_inst, reqs, n_reqs, err)) != 0)
		goto out;
	emit_plan(&op);
	if (opts->dry_run)
		goto out;
	op.jobs = xcalloc(op.plan.n + 1, sizeof(*op.jobs));
	for (size_t i = 0; i < op.plan.n; i++)
		op.jobs[i].fd = -1;
	fetch_phase(&op);
	if ((rc = run_plan(&op, err)) != 0)
		note_failure(&op, err);
	report_pins(&op);
	rc = record_history(&op, n_reqs ? "install" : "upgrade", err);
	if (op.first.code) {
		*err = op.first;
		rc = op.first.code;
	}
out:
	op_release(&op);
	stitch_solution_release(&sol);
	stitch_installed_free(inst, n_inst);
	return rc;
}

int stitch_op_remove(struct stitch_switch *sw, const struct stitch_index *idx,
                     const char *const *names, size_t n, bool recursive,
                     const struct stitch_op_opts *opts, struct stitch_err *err)
{
	struct op op = {.sw = sw, .o = opts};
	struct stitch_installed *inst = NULL;
	size_t n_inst = 0;
	int rc;

	(void)idx;
	if ((rc = stitch_state_list_packages(sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < n_inst; k++)
			found |= !strcmp(inst[k].name, names[i]);
		if (!found) {
			rc = stitch_error(err, STITCH_E_NOTFOUND, "'%s' is not installed in '%s'",
			                  names[i], sw->dir);
			goto out;
		}
	}
	if ((rc = stitch_plan_remove(inst, n_inst, names, n, recursive, &op.plan, err)) != 0)
		goto out;
	for (size_t k = 0; k < op.plan.n; k++) {
		const struct stitch_plan_item *it = &op.plan.items[op.plan.order[k]];
		if (opts->dry_run) {
			emit(&op, STITCH_EV_PLAN, it, 0, NULL);
			continue;
		}
		if ((rc = stitch_switch_commit_remove(sw, it->name, err)) != 0)
			goto out;
		emit(&op, STITCH_EV_DONE, it, 0, NULL);
		add_change(&op, it);
	}
	rc = record_history(&op, "remove", err);
out:
	op_release(&op);
	stitch_installed_free(inst, n_inst);
	return rc;
}
