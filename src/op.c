/*
 * install / upgrade / remove on a switch.
 */
#include "op.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive.h"
#include "build.h"
#include "fetch.h"
#include "req.h"
#include "state.h"
#include "tree.h"
#include "version.h"

struct node {
	const struct stitch_version *v;
	const struct stitch_installed *inst; /* NULL when not installed */
	size_t *deps; /* indices of the nodes it depends on */
	size_t n_deps;
	int mark; /* topological sort: 0 new, 1 open, 2 done */
	bool requested, failed, skipped, fetched;
	const char *action;
	char source_sha256[65];
	char build_hash[65];
	char interface_hash[65];
	char recipe[65];
	char *source_path; /* the archive in the cache */
	bool expect_cached; /* the artifact cache should serve it: fetch no source */
	bool cache_missed; /* the artifact cache was asked and could not serve it */
	char predicted_iface[65]; /* interface hash expected before building; "" unknown */
	const struct stitch_pin *pin; /* built from a local tree */
	struct stitch_tree_scan scan; /* of the pin's tree */
	bool rebuilt; /* built in this run */
};

struct op {
	struct stitch_switch *sw;
	const struct stitch_op_opts *o;
	struct node *nodes;
	size_t n;
	size_t *order; /* topological: dependencies first */
	size_t n_order;
	char cc_id[320];
	struct stitch_pin *pins;
	size_t n_pins;
	struct stitch_change *changes;
	size_t n_changes, cap_changes;
};

static void emit(const struct op *op, const char *kind, const struct node *nd, const char *reason,
                 double secs, const struct stitch_err *err)
{
	struct stitch_event ev = {kind,
	                          nd->action,
	                          nd->v->pkg->name,
	                          nd->v->version,
	                          nd->inst ? nd->inst->version : NULL,
	                          reason,
	                          secs,
	                          err};
	if (op->o->on_event)
		op->o->on_event(op->o->data, &ev);
}

static void add_change(struct op *op, enum stitch_change_action a, const char *name,
                       const char *old_v, const char *new_v)
{
	XGROW(op->changes, op->cap_changes, op->n_changes + 1);
	op->changes[op->n_changes++] =
	    (struct stitch_change){a, (char *)name, (char *)old_v, (char *)new_v};
}

static int find_node(const struct op *op, const char *name)
{
	size_t lo = 0, hi = op->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(op->nodes[mid].v->pkg->name, name);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Edges: each requirement's alternatives that name a chosen package it accepts. */
static int link_deps(struct op *op, struct stitch_err *err)
{
	for (size_t i = 0; i < op->n; i++) {
		struct node *nd = &op->nodes[i];
		size_t cap = 0;
		for (size_t k = 0; k < nd->v->n_depends; k++) {
			struct stitch_req *r;
			if (stitch_req_parse(nd->v->depends[k], &r, err) != 0)
				return err->code;
			for (size_t a = 0; a < r->n_alts; a++) {
				int j = find_node(op, r->alts[a].name);
				bool dup = false;
				if (j < 0 || (size_t)j == i ||
				    !stitch_vformula_eval(r->alts[a].formula,
				                          op->nodes[j].v->version))
					continue;
				for (size_t d = 0; d < nd->n_deps; d++)
					dup |= nd->deps[d] == (size_t)j;
				if (dup)
					continue;
				XGROW(nd->deps, cap, nd->n_deps + 1);
				nd->deps[nd->n_deps++] = (size_t)j;
			}
			stitch_req_free(r);
		}
	}
	return 0;
}

static void visit(struct op *op, size_t i)
{
	struct node *nd = &op->nodes[i];

	if (nd->mark)
		return; /* done, or a cycle: the cycle's order is by name */
	nd->mark = 1;
	for (size_t d = 0; d < nd->n_deps; d++)
		visit(op, nd->deps[d]);
	nd->mark = 2;
	op->order[op->n_order++] = i;
}

/* The compiler's identity, part of every build hash. */
static void cc_identity(struct op *op)
{
	if (!op->cc_id[0])
		stitch_cc_identity(stitch_state_dir(op->sw->st), op->cc_id, sizeof(op->cc_id));
}

static char *source_url(const struct stitch_version *v)
{
	const char *u = v->url;

	if (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8) || !strncmp(u, "file://", 7))
		return xstrdup(u);
	return xasprintf("%s/%s", v->pkg->repo->root, u);
}

/* The source's hash without downloading when it can be known. */
static int source_hash(struct op *op, struct node *nd, struct stitch_err *err)
{
	char *url;
	int rc;

	if (nd->source_sha256[0])
		return 0;
	if (nd->pin) {
		/* A pin's source is its working tree, uncommitted edits included. */
		/* One commit for the whole stat cache update, not one per call. */
		bool txn = !stitch_state_in_transaction(op->sw->st) &&
		           stitch_state_begin_lazy(op->sw->st, NULL) == 0;
		rc = stitch_tree_scan(op->sw->st, nd->pin->name, nd->pin->path, &nd->scan, err);
		if (txn) {
			if (rc == 0)
				rc = stitch_state_commit(op->sw->st, err);
			else
				stitch_state_rollback(op->sw->st, NULL);
		}
		if (rc == 0)
			memcpy(nd->source_sha256, nd->scan.tree_hash, 65);
		else
			stitch_error_wrap(err, "cannot scan the pinned tree of '%s'",
			                  nd->pin->name);
		return rc;
	}
	if (nd->v->sha256) {
		snprintf(nd->source_sha256, sizeof(nd->source_sha256), "%s", nd->v->sha256);
		return 0;
	}
	url = source_url(nd->v);
	if (stitch_sha256_file(url + (strncmp(url, "file://", 7) == 0 ? 7 : 0),
	                       nd->source_sha256) != 0) {
		stitch_error(err, STITCH_E_FETCH, "cannot read the source of '%s %s' at '%s': %s",
		             nd->v->pkg->name, nd->v->version, url, strerror(errno));
		free(url);
		return STITCH_E_FETCH;
	}
	free(url);
	return 0;
}

static void hash_cmds(struct stitch_buf *b, const char *what, const struct stitch_cmdlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		stitch_buf_addf(b, "%s", what);
		for (size_t k = 0; k < l->cmds[i].argc; k++)
			stitch_buf_addf(b, " %zu:%s", strlen(l->cmds[i].argv[k]),
			                l->cmds[i].argv[k]);
		stitch_buf_addch(b, '\n');
	}
}

static const char *dep_interface(const struct op *op, const struct node *dep)
{
	(void)op;
	if (dep->interface_hash[0])
		return dep->interface_hash;
	return dep->inst && dep->inst->interface_hash ? dep->inst->interface_hash : "";
}

void stitch_recipe_hash(const struct stitch_version *v, char out[65])
{
	struct stitch_buf b = STITCH_BUF_INIT;

	hash_cmds(&b, "build", &v->build);
	hash_cmds(&b, "install", &v->install);
	stitch_sha256_hex(b.buf, b.len, out);
	stitch_buf_release(&b);
}

/*
 * nd's build inputs, dependencies by name (the nodes are sorted by name).
 * iface_of gives a dependency's interface hash; names and ifaces hold
 * n_deps + 1 entries.
 */
static void inputs_of(struct op *op, struct node *nd, const char **names, const char **ifaces,
                      const char *(*iface_of)(const struct op *, const struct node *),
                      struct stitch_build_inputs *in)
{
	size_t k = 0;

	cc_identity(op);
	if (!nd->recipe[0])
		stitch_recipe_hash(nd->v, nd->recipe);
	for (size_t j = 0; j < op->n; j++)
		for (size_t d = 0; d < nd->n_deps; d++)
			if (nd->deps[d] == j) {
				names[k] = op->nodes[j].v->pkg->name;
				ifaces[k++] = iface_of(op, &op->nodes[j]);
			}
	*in = (struct stitch_build_inputs){nd->v->pkg->name,
	                                   nd->v->version,
	                                   nd->source_sha256,
	                                   "unix",
	                                   op->cc_id,
	                                   nd->recipe,
	                                   k,
	                                   names,
	                                   ifaces};
}

static void build_hash(struct op *op, struct node *nd)
{
	const char **names = xcalloc(nd->n_deps + 1, sizeof(char *));
	const char **ifaces = xcalloc(nd->n_deps + 1, sizeof(char *));
	struct stitch_build_inputs in;

	inputs_of(op, nd, names, ifaces, dep_interface, &in);
	stitch_build_inputs_hash(&in, nd->build_hash);
	free(names);
	free(ifaces);
}

/*
 * Why nd is (or is not) built, in words: what changed in its own inputs,
 * else which dependency's interface changed or stayed the same.
 */
static void explain(const struct op *op, const struct node *nd, char *out, size_t len)
{
	const struct node *rebuilt_same = NULL, *changed = NULL;

	out[0] = '\0';
	for (size_t d = 0; d < nd->n_deps; d++) {
		const struct node *dep = &op->nodes[nd->deps[d]];
		if (!dep->rebuilt)
			continue;
		if (dep->inst && dep->inst->interface_hash &&
		    strcmp(dep->interface_hash, dep->inst->interface_hash) == 0)
			rebuilt_same = rebuilt_same ? rebuilt_same : dep;
		else
			changed = changed ? changed : dep;
	}
	if (!nd->inst) {
		snprintf(out, len, "%s", nd->pin ? "pinned, first build" : "new");
	} else if (strcmp(nd->v->version, nd->inst->version) != 0) {
		snprintf(out, len, "%s from %s", nd->action, nd->inst->version);
	} else if (nd->inst->build_hash && strcmp(nd->inst->build_hash, nd->build_hash) == 0) {
		if (rebuilt_same)
			snprintf(out, len, "interface of %s unchanged", rebuilt_same->v->pkg->name);
		else
			snprintf(out, len, "up to date");
	} else if (!!nd->pin != !!nd->inst->pinned) {
		snprintf(out, len, nd->pin ? "newly pinned" : "pin removed, back to the release");
	} else if (nd->pin && nd->scan.n_changed) {
		snprintf(out, len, "%zu file%s changed (%s)", nd->scan.n_changed,
		         nd->scan.n_changed == 1 ? "" : "s", nd->scan.first_changed);
	} else if (nd->source_sha256[0] && nd->inst->source_sha256 &&
	           strcmp(nd->source_sha256, nd->inst->source_sha256) != 0) {
		snprintf(out, len,
		         nd->pin ? "its tree differs from the last build" : "its source changed");
	} else if (changed) {
		snprintf(out, len, "interface of %s changed", changed->v->pkg->name);
	} else {
		snprintf(out, len, "its recipe or toolchain changed");
	}
}

static int fetch_sources(struct op *op, struct stitch_err *err)
{
	struct stitch_fetch_item *items = xcalloc(op->n + 1, sizeof(*items));
	char **urls = xcalloc(op->n + 1, sizeof(char *));
	char **labels = xcalloc(op->n + 1, sizeof(char *));
	size_t *which = xcalloc(op->n + 1, sizeof(size_t));
	struct stitch_fetch_opts fo = {0};
	size_t m = 0;
	int rc;

	for (size_t i = 0; i < op->n; i++) {
		struct node *nd = &op->nodes[i];
		if (strcmp(nd->action, "keep") == 0 || nd->pin || nd->expect_cached)
			continue;
		urls[m] = source_url(nd->v);
		labels[m] = xasprintf("%s %s", nd->v->pkg->name, nd->v->version);
		items[m].url = urls[m];
		items[m].sha256 = nd->v->sha256;
		items[m].label = labels[m];
		which[m++] = i;
	}
	fo.cache_dir = op->o->source_cache;
	fo.parallel = op->o->fetch_parallel;
	rc = m ? stitch_fetch_all(items, m, &fo, err) : 0;
	for (size_t k = 0; k < m; k++) {
		struct node *nd = &op->nodes[which[k]];
		if (items[k].status == 0) {
			nd->source_path = xstrdup(items[k].path);
			snprintf(nd->source_sha256, sizeof(nd->source_sha256), "%s",
			         items[k].sha256_out);
			nd->fetched = true;
		}
		stitch_fetch_item_release(&items[k]);
		free(urls[k]);
		free(labels[k]);
	}
	free(items);
	free(urls);
	free(labels);
	free(which);
	return rc;
}

static int fetch_one(struct op *op, struct node *nd, struct stitch_err *err)
{
	struct stitch_fetch_item it = {0};
	struct stitch_fetch_opts fo = {0};
	char *url = source_url(nd->v),
	     *label = xasprintf("%s %s", nd->v->pkg->name, nd->v->version);
	int rc;

	it.url = url;
	it.sha256 = nd->v->sha256;
	it.label = label;
	fo.cache_dir = op->o->source_cache;
	rc = stitch_fetch_all(&it, 1, &fo, err);
	if (rc == 0) {
		nd->source_path = xstrdup(it.path);
		snprintf(nd->source_sha256, sizeof(nd->source_sha256), "%s", it.sha256_out);
	}
	stitch_fetch_item_release(&it);
	free(url);
	free(label);
	return rc;
}

static void emit_cache(const struct op *op, const struct node *nd, const char *what,
                       const char *reason, const struct stitch_err *err)
{
	struct stitch_event ev = {"cache", what, nd->v->pkg->name, nd->v->version, NULL, reason,
	                          0,       err};
	if (op->o->on_event)
		op->o->on_event(op->o->data, &ev);
}

/* Say once that the shared cache cannot be reached (it is not asked again). */
static bool report_remote(const struct op *op, const struct node *nd)
{
	const struct stitch_err *e = stitch_artifacts_remote_failure(op->o->artifacts);

	if (e)
		emit_cache(op, nd, "unreachable", "not asked again by this command", e);
	return e != NULL;
}

/* Keep what a build staged in the artifact cache (and upload it); never fatal. */
static void store_artifact(struct op *op, struct node *nd, const struct stitch_staged *sp,
                           const char *root)
{
	const char **names = xcalloc(nd->n_deps + 1, sizeof(char *));
	const char **ifaces = xcalloc(nd->n_deps + 1, sizeof(char *));
	const char **paths = xcalloc(sp->n_files + 1, sizeof(char *));
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_build_inputs in;
	bool uploaded = false;
	int rc;

	inputs_of(op, nd, names, ifaces, dep_interface, &in);
	for (size_t i = 0; i < sp->n_files; i++)
		paths[i] = sp->files[i].path;
	rc = stitch_artifacts_store(op->o->artifacts, &in, nd->build_hash, nd->interface_hash, root,
	                            paths, sp->n_files, op->sw->dir, &uploaded, &err);
	if (report_remote(op, nd) && rc == STITCH_E_FETCH)
		rc = 0; /* kept locally; the remote's failure is reported */
	if (uploaded)
		emit_cache(op, nd, "uploaded", NULL, NULL);
	else if (rc == 0)
		emit_cache(op, nd, "stored", NULL, NULL);
	else
		emit_cache(op, nd, rc == STITCH_E_FETCH ? "upload-failed" : "not-stored", NULL,
		           &err);
	free(names);
	free(ifaces);
	free(paths);
}

/* Where a package is built: its tree, its staging directory, its log. */
struct build_paths {
	char *work, *staging, *logs, *log, *label;
};

static void paths_of(const struct op *op, const struct node *nd, struct build_paths *bp)
{
	const char *meta = stitch_state_dir(op->sw->st);
	const char *name = nd->v->pkg->name, *ver = nd->v->version;

	/* A pin builds in a persistent mirror of its tree, so make sees mtimes. */
	bp->work = nd->pin ? xasprintf("%s/build/pin-%s", meta, name)
	                   : xasprintf("%s/build/%s-%s", meta, name, ver);
	bp->staging = xasprintf("%s/staging/%s-%s", meta, name, ver);
	bp->logs = xasprintf("%s/logs", meta);
	bp->log = xasprintf("%s/%s-%s.log", bp->logs, name, ver);
	bp->label = xasprintf("%s %s", name, ver);
}

static void paths_release(struct build_paths *bp)
{
	free(bp->work);
	free(bp->staging);
	free(bp->logs);
	free(bp->log);
	free(bp->label);
}

/*
 * Fetch when needed, unpack (or mirror the pin's tree), build and install
 * into the staging directory.  Files only, no state: this runs in a child
 * process, beside the builds of packages that do not depend on it.
 */
static int build_stage(struct op *op, struct node *nd, struct stitch_err *err)
{
	const char *meta = stitch_state_dir(op->sw->st);
	const char *name = nd->v->pkg->name, *ver = nd->v->version;
	struct build_paths bp;
	struct stitch_build_env env;
	int rc;

	paths_of(op, nd, &bp);
	env = (struct stitch_build_env){
	    name, ver, op->sw->dir, NULL, bp.work, bp.log, "unix", stitch_default_jobs(op->o->jobs),
	    0,    true};
	stitch_rm_rf(bp.staging);
	if (!nd->pin && !nd->source_path && (rc = fetch_one(op, nd, err)) != 0)
		goto out;
	if (!nd->pin)
		stitch_rm_rf(bp.work);
	else if (op->o->clean && op->o->clean(op->o->data, name))
		stitch_rm_rf(bp.work);
	stitch_mkdir_p(bp.logs, 0755);
	unlink(bp.log);
	{
		char *parent = xasprintf("%s/build", meta);
		stitch_mkdir_p(parent, 0755);
		free(parent);
	}
	if (nd->pin) {
		size_t copied;
		if ((rc = stitch_tree_mirror(nd->pin->path, bp.work, &copied, err)) != 0)
			goto out;
	} else if ((rc = stitch_archive_unpack(nd->source_path, bp.work, err)) != 0) {
		stitch_error_wrap(err, "%s %s", name, ver);
		goto out;
	}
	if (stitch_mkdir_p(bp.staging, 0755) != 0) {
		rc = stitch_error(err, STITCH_E_IO, "cannot create '%s': %s", bp.staging,
		                  strerror(errno));
		goto out;
	}
	if ((rc = stitch_build_run(&nd->v->build, "build", &env, err)) != 0)
		goto out;
	env.staging = bp.staging;
	rc = stitch_build_run(&nd->v->install, "install", &env, err);
out:
	paths_release(&bp);
	return rc;
}

/*
 * Collect what the staging directory holds (what build_stage installed, or
 * the artifact art unpacked), keep a build in the artifact cache, and
 * commit it into the switch: one package, whole or not at all.
 */
static int build_commit(struct op *op, struct node *nd, const struct stitch_artifact *art,
                        struct stitch_err *err)
{
	const char *name = nd->v->pkg->name, *ver = nd->v->version;
	struct build_paths bp;
	struct stitch_staged sp;
	char **depnames = NULL, *root = NULL;
	int rc;

	memset(&sp, 0, sizeof(sp));
	paths_of(op, nd, &bp);
	if (art) {
		char *dest = xasprintf("%s%s", bp.staging, op->sw->dir);
		stitch_rm_rf(bp.staging);
		rc = stitch_artifacts_unpack(op->o->artifacts, art, dest, op->sw->dir, err);
		free(dest);
		if (rc)
			goto out;
	}
	if ((rc = stitch_switch_collect(op->sw, bp.staging, bp.label, &sp, nd->interface_hash,
	                                &root, err)) != 0)
		goto out;
	if (art && strcmp(nd->interface_hash, art->interface_hash) != 0) {
		rc = stitch_error(err, STITCH_E_CHECKSUM,
		                  "artifact %s of %s %s: its files do not match the interface "
		                  "hash it records",
		                  art->build_hash, name, ver);
		goto out;
	}
	/* A pin's build is work in progress: it stays out of the shared cache. */
	if (!art && op->o->artifacts && !nd->pin)
		store_artifact(op, nd, &sp, root);
	depnames = xcalloc(nd->n_deps + 1, sizeof(char *));
	for (size_t d = 0; d < nd->n_deps; d++)
		depnames[d] = (char *)op->nodes[nd->deps[d]].v->pkg->name;
	sp.info.name = (char *)name;
	sp.info.version = (char *)ver;
	sp.info.source_sha256 = nd->source_sha256;
	sp.info.build_hash = nd->build_hash;
	sp.info.interface_hash = nd->interface_hash;
	sp.info.repo = nd->pin ? NULL : nd->v->pkg->repo->name;
	sp.info.requested = nd->requested;
	sp.info.pinned = nd->pin != NULL;
	sp.info.depends = depnames;
	sp.info.n_depends = nd->n_deps;
	sp.root = root;
	rc = stitch_switch_commit_install(op->sw, &sp, err);
out:
	stitch_staged_release(&sp);
	if (rc == 0 && !nd->pin && !art)
		stitch_rm_rf(bp.work); /* the log stays; a failed tree stays for inspection */
	stitch_rm_rf(bp.staging);
	free(depnames);
	free(root);
	paths_release(&bp);
	return rc;
}

/*
 * Serve nd from the artifact cache when it holds nd's build hash.  True
 * when nd is installed that way; otherwise nd is to be built, and with
 * opts->explain an "explain" event says why the cache could not serve it.
 */
static bool cached_build(struct op *op, struct node *nd, char *reason, size_t len, double t0)
{
	struct stitch_artifacts *a = op->o->artifacts;
	struct stitch_artifact art;
	struct stitch_err err = STITCH_ERR_INIT;
	int rc;

	if (!a || nd->pin)
		return false;
	rc = stitch_artifacts_lookup(a, nd->build_hash, &art, &err);
	if (report_remote(op, nd) && rc == STITCH_E_FETCH)
		rc = STITCH_E_NOTFOUND;
	if (rc == 0) {
		rc = build_commit(op, nd, &art, &err);
		if (rc == 0) {
			snprintf(reason, len, "from the %s artifact cache", art.where);
			emit(op, "cached", nd, reason, stitch_now() - t0, NULL);
			stitch_artifact_release(&art);
			return true;
		}
		stitch_artifact_release(&art);
	}
	if (rc != STITCH_E_NOTFOUND)
		emit_cache(op, nd, "rejected", "built instead", &err);
	if (op->o->explain) {
		const char **names = xcalloc(nd->n_deps + 1, sizeof(char *));
		const char **ifaces = xcalloc(nd->n_deps + 1, sizeof(char *));
		struct stitch_buf why = STITCH_BUF_INIT;
		struct stitch_build_inputs in;
		struct stitch_event ev = {
		    "explain", nd->action, nd->v->pkg->name, nd->v->version, NULL, NULL, 0, NULL};
		inputs_of(op, nd, names, ifaces, dep_interface, &in);
		if (!stitch_artifacts_explain(a, &in, &why))
			stitch_buf_addf(&why, "the cache holds no build of %s", nd->v->pkg->name);
		ev.reason = why.buf;
		if (op->o->on_event)
			op->o->on_event(op->o->data, &ev);
		stitch_buf_release(&why);
		free(names);
		free(ifaces);
	}
	return false;
}

static const char *predicted_interface(const struct op *op, const struct node *dep)
{
	(void)op;
	return dep->predicted_iface;
}

/*
 * Before fetching: which packages will the artifact cache serve?  Their
 * sources need not be downloaded.  A build hash is known ahead when the
 * source hash is in the index and every dependency's interface is known:
 * kept as installed, or recorded by the artifact that will serve it.
 */
static void predict_cached(struct op *op)
{
	for (size_t k = 0; k < op->n_order; k++) {
		struct node *nd = &op->nodes[op->order[k]];
		const char **names, **ifaces;
		struct stitch_build_inputs in;
		struct stitch_artifact art;
		char hash[65];
		bool known = !nd->pin && nd->v->sha256;

		for (size_t d = 0; known && d < nd->n_deps; d++)
			known = op->nodes[nd->deps[d]].predicted_iface[0] != '\0';
		if (!known)
			continue;
		snprintf(nd->source_sha256, sizeof(nd->source_sha256), "%s", nd->v->sha256);
		names = xcalloc(nd->n_deps + 1, sizeof(char *));
		ifaces = xcalloc(nd->n_deps + 1, sizeof(char *));
		inputs_of(op, nd, names, ifaces, predicted_interface, &in);
		stitch_build_inputs_hash(&in, hash);
		free(names);
		free(ifaces);
		if (nd->inst && nd->inst->build_hash && nd->inst->interface_hash &&
		    strcmp(nd->inst->build_hash, hash) == 0 &&
		    strcmp(nd->inst->version, nd->v->version) == 0) {
			snprintf(nd->predicted_iface, 65, "%s", nd->inst->interface_hash);
			continue;
		}
		int lrc = stitch_artifacts_lookup(op->o->artifacts, hash, &art, NULL);
		report_remote(op, nd);
		if (lrc == 0) {
			memcpy(nd->predicted_iface, art.interface_hash, 65);
			nd->expect_cached = true;
			stitch_artifact_release(&art);
		}
	}
}

static enum stitch_change_action change_of(const struct node *nd)
{
	return !strcmp(nd->action, "install")     ? STITCH_CHANGE_INSTALL
	       : !strcmp(nd->action, "upgrade")   ? STITCH_CHANGE_UPGRADE
	       : !strcmp(nd->action, "downgrade") ? STITCH_CHANGE_DOWNGRADE
	                                          : STITCH_CHANGE_REBUILD;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->v->pkg->name,
	              ((const struct node *)b)->v->pkg->name);
}

static const struct stitch_installed *find_inst(const struct stitch_installed *v, size_t n,
                                                const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	return NULL;
}

static void mark_requested(struct op *op, const char *const *reqs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct stitch_req *r;
		if (stitch_req_parse(reqs[i], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts; a++) {
			int j = find_node(op, r->alts[a].name);
			if (j >= 0)
				op->nodes[j].requested = true;
		}
		stitch_req_free(r);
	}
	for (size_t i = 0; i < op->n; i++)
		if (op->nodes[i].inst && op->nodes[i].inst->requested)
			op->nodes[i].requested = true;
}

static void op_release(struct op *op)
{
	for (size_t i = 0; i < op->n; i++) {
		free(op->nodes[i].deps);
		free(op->nodes[i].source_path);
		stitch_tree_scan_release(&op->nodes[i].scan);
	}
	stitch_pins_free(op->pins, op->n_pins);
	free(op->nodes);
	free(op->order);
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
	struct stitch_pin *pins = NULL;
	size_t n_pins = 0, n_roots = 0;
	struct stitch_solve_pin *sp;
	struct stitch_solve_request req;
	int rc;

	if ((rc = stitch_state_pin_list(op->sw->st, &op->pins, &op->n_pins, err)) != 0)
		goto out0;
	pins = op->pins;
	n_pins = op->n_pins;
	sp = xcalloc(n_pins + op->o->n_pins + 1, sizeof(*sp));
	for (size_t i = 0; i < n_pins; i++)
		sp[i] = (struct stitch_solve_pin){pins[i].name, pins[i].version, pins[i].path};
	for (size_t i = 0; i < op->o->n_pins; i++)
		sp[n_pins + i] = op->o->pins[i];
	for (size_t i = 0; i < n_reqs; i++)
		roots[n_roots++] = reqs[i];
	/* What is installed stays installed: each is a root after the requested ones. */
	for (size_t i = 0; i < n_inst; i++) {
		si[i] = (struct stitch_solve_installed){inst[i].name, inst[i].version};
		if (stitch_index_find(idx, inst[i].name))
			roots[n_roots++] = inst[i].name;
	}
	req = (struct stitch_solve_request){n_roots, roots, n_pins + op->o->n_pins, sp,
	                                    n_inst,  si,    op->o->upgrade};
	rc = stitch_solve(idx, &req, sol, why, err);
	free(sp);
out0:
	free(roots);
	free(si);
	return rc;
}

int stitch_op_install(struct stitch_switch *sw, const struct stitch_index *idx,
                      const char *const *reqs, size_t n_reqs, const struct stitch_op_opts *opts,
                      struct stitch_buf *why, struct stitch_err *err)
{
	struct op op = {.sw = sw, .o = opts};
	struct stitch_solution sol = STITCH_SOLUTION_INIT;
	struct stitch_installed *inst = NULL;
	struct stitch_err first = STITCH_ERR_INIT;
	size_t n_inst = 0;
	int rc;

	if ((rc = stitch_state_list_packages(sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	if (opts->fixed) {
		if ((rc = stitch_state_pin_list(sw->st, &op.pins, &op.n_pins, err)) != 0)
			goto out;
		sol.chosen = xcalloc(opts->n_fixed + 1, sizeof(*sol.chosen));
		for (size_t i = 0; i < opts->n_fixed; i++)
			sol.chosen[i] = opts->fixed[i];
		sol.n = opts->n_fixed;
	} else if ((rc = solve_for(&op, idx, reqs, n_reqs, inst, n_inst, &sol, why, err)) != 0) {
		goto out;
	}
	op.n = sol.n;
	op.nodes = xcalloc(sol.n + 1, sizeof(*op.nodes));
	op.order = xcalloc(sol.n + 1, sizeof(size_t));
	for (size_t i = 0; i < sol.n; i++) {
		struct node *nd = &op.nodes[i];
		nd->v = sol.chosen[i];
		nd->inst = find_inst(inst, n_inst, nd->v->pkg->name);
		if (!nd->inst)
			nd->action = "install";
		else if (stitch_version_cmp(nd->v->version, nd->inst->version) != 0)
			nd->action = stitch_version_cmp(nd->v->version, nd->inst->version) > 0
			                 ? "upgrade"
			                 : "downgrade";
		else
			nd->action = "keep";
	}
	qsort(op.nodes, op.n, sizeof(*op.nodes), cmp_node);
	for (size_t i = 0; i < op.n_pins; i++) {
		int j = find_node(&op, op.pins[i].name);
		if (j >= 0)
			op.nodes[j].pin = &op.pins[i];
	}
	mark_requested(&op, reqs, n_reqs);
	if ((rc = link_deps(&op, err)) != 0)
		goto out;
	for (size_t i = 0; i < op.n; i++)
		visit(&op, i);
	for (size_t k = 0; k < op.n_order; k++)
		emit(&op, "plan", &op.nodes[op.order[k]], NULL, 0, NULL);
	if (opts->dry_run)
		goto out;
	/* Every new source at once, before the first build. */
	{
		double t0 = stitch_now();
		size_t n_fetch = 0;
		char count[32];
		if (opts->artifacts)
			predict_cached(&op);
		for (size_t i = 0; i < op.n; i++)
			n_fetch += strcmp(op.nodes[i].action, "keep") != 0 && !op.nodes[i].pin &&
			           !op.nodes[i].expect_cached;
		if (fetch_sources(&op, err) != 0 && !first.code)
			first = *err;
		if (n_fetch && opts->on_event) {
			struct stitch_event ev = {
			    "fetch", NULL, "sources",         count,
			    NULL,    NULL, stitch_now() - t0, first.code ? &first : NULL};
			snprintf(count, sizeof(count), "%zu", n_fetch);
			opts->on_event(opts->data, &ev);
		}
	}
	/*
	 * Build in dependency order, packages that do not depend on each other
	 * at the same time: a ready package whose build hash the switch or the
	 * cache does not have is staged in a child process; the parent commits
	 * finished ones one at a time, and that makes their dependents ready.
	 */
	{
		struct job {
			pid_t pid;
			int fd;
			size_t node;
			double t0;
			char reason[256];
		} *jobs = xcalloc(op.n + 1, sizeof(*jobs));
		char *state = xcalloc(op.n + 1, 1); /* 0 waiting, 1 building, 2 settled */
		size_t n_left = op.n_order, n_jobs = 0;
		int max_jobs = stitch_default_jobs(opts->parallel);

		while (n_left) {
			bool progress = false;
			for (size_t k = 0; k < op.n_order; k++) {
				size_t i = op.order[k];
				struct node *nd = &op.nodes[i];
				const struct node *bad = NULL;
				bool ready = true;
				char reason[256] = "";
				double t0 = stitch_now();
				int fds[2];

				if (state[i])
					continue;
				for (size_t d = 0; d < nd->n_deps; d++) {
					const struct node *dep = &op.nodes[nd->deps[d]];
					if (dep->failed || dep->skipped)
						bad = dep;
					ready &= state[nd->deps[d]] == 2;
				}
				if (bad) {
					snprintf(reason, sizeof(reason), "not built: %s %s failed",
					         bad->v->pkg->name, bad->v->version);
					nd->skipped = true;
					emit(&op, "skipped", nd, reason, 0, NULL);
					state[i] = 2, n_left--, progress = true;
					continue;
				}
				if (!ready || (!nd->build_hash[0] && n_jobs >= (size_t)max_jobs))
					continue;
				if (!nd->build_hash[0]) {
					if (source_hash(&op, nd, err) != 0) {
						nd->failed = true;
						if (!first.code)
							first = *err;
						emit(&op, "failed", nd, NULL, 0, err);
						state[i] = 2, n_left--, progress = true;
						continue;
					}
					build_hash(&op, nd);
				}
				explain(&op, nd, reason, sizeof(reason));
				if (strcmp(nd->action, "keep") == 0) {
					if (nd->inst->build_hash &&
					    strcmp(nd->inst->build_hash, nd->build_hash) == 0) {
						if (nd->requested && !nd->inst->requested)
							stitch_state_set_requested(
							    sw->st, nd->v->pkg->name, true, NULL);
						memcpy(nd->interface_hash,
						       nd->inst->interface_hash
						           ? nd->inst->interface_hash
						           : "",
						       65);
						emit(&op, "kept", nd, reason, 0, NULL);
						state[i] = 2, n_left--, progress = true;
						continue;
					}
					nd->action = "rebuild";
				}
				if (!nd->cache_missed &&
				    cached_build(&op, nd, reason, sizeof(reason), t0)) {
					nd->rebuilt = true;
					add_change(&op, change_of(nd), nd->v->pkg->name,
					           nd->inst ? nd->inst->version : NULL,
					           nd->v->version);
					state[i] = 2, n_left--, progress = true;
					continue;
				}
				nd->cache_missed = true;
				if (n_jobs >= (size_t)max_jobs)
					continue; /* hashed; it starts when a slot frees */
				emit(&op, "build", nd, reason[0] ? reason : NULL, 0, NULL);
				fflush(NULL);
				if (pipe2(fds, O_CLOEXEC) != 0) {
					fds[0] = fds[1] = -1;
				}
				jobs[n_jobs] = (struct job){fork(), fds[0], i, t0, ""};
				snprintf(jobs[n_jobs].reason, sizeof(jobs[n_jobs].reason), "%s",
				         reason);
				if (jobs[n_jobs].pid == 0) {
					struct stitch_err cerr = STITCH_ERR_INIT;
					int crc = build_stage(&op, nd, &cerr);
					if (crc && fds[1] >= 0 &&
					    write(fds[1], &cerr, sizeof(cerr)) !=
					        (ssize_t)sizeof(cerr))
						_exit(2);
					_exit(crc ? 1 : 0);
				}
				if (fds[1] >= 0)
					close(fds[1]);
				if (jobs[n_jobs].pid < 0) {
					stitch_error(err, STITCH_E_BUILD,
					             "cannot start the build of %s: %s",
					             nd->v->pkg->name, strerror(errno));
					if (fds[0] >= 0)
						close(fds[0]);
					nd->failed = true;
					if (!first.code)
						first = *err;
					emit(&op, "failed", nd, NULL, 0, err);
					state[i] = 2, n_left--, progress = true;
					continue;
				}
				state[i] = 1;
				n_jobs++;
				progress = true;
			}
			if (progress)
				continue;
			if (!n_jobs)
				break; /* nothing can move: a dependency cycle left over */
			{
				int status;
				pid_t pid = waitpid(-1, &status, 0);
				size_t w = 0;
				struct job jb;
				struct node *nd;
				if (pid < 0) {
					if (errno == EINTR)
						continue;
					break;
				}
				while (w < n_jobs && jobs[w].pid != pid)
					w++;
				if (w == n_jobs)
					continue; /* not one of ours */
				jb = jobs[w];
				jobs[w] = jobs[--n_jobs];
				nd = &op.nodes[jb.node];
				rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
				                                                   : STITCH_E_BUILD;
				if (rc) {
					*err = (struct stitch_err)STITCH_ERR_INIT;
					if (jb.fd < 0 ||
					    read(jb.fd, err, sizeof(*err)) != (ssize_t)sizeof(*err))
						stitch_error(
						    err, STITCH_E_BUILD,
						    "the build of %s %s stopped (%s %d)",
						    nd->v->pkg->name, nd->v->version,
						    WIFSIGNALED(status) ? "signal" : "status",
						    WIFSIGNALED(status) ? WTERMSIG(status)
						                        : WEXITSTATUS(status));
				} else {
					rc = build_commit(&op, nd, NULL, err);
				}
				if (jb.fd >= 0)
					close(jb.fd);
				state[jb.node] = 2;
				n_left--;
				if (rc) {
					nd->failed = true;
					if (!first.code)
						first = *err;
					emit(&op, "failed", nd, jb.reason[0] ? jb.reason : NULL,
					     stitch_now() - jb.t0, err);
					continue;
				}
				emit(&op, "done", nd, jb.reason[0] ? jb.reason : NULL,
				     stitch_now() - jb.t0, NULL);
				nd->rebuilt = true;
				add_change(&op, change_of(nd), nd->v->pkg->name,
				           nd->inst ? nd->inst->version : NULL, nd->v->version);
			}
		}
		free(jobs);
		free(state);
	}
	/* A pin is never silently ignored: say where each one stands, every run. */
	for (size_t i = 0; i < op.n_pins; i++) {
		const struct stitch_pin *pin = &op.pins[i];
		int j = find_node(&op, pin->name);
		char where[1200];
		struct stitch_event ev = {"pin", NULL,  pin->name, pin->version,
		                          NULL,  where, 0,         NULL};
		if (j < 0)
			snprintf(where, sizeof(where), "%s: not part of what gets built",
			         pin->path);
		else
			snprintf(where, sizeof(where), "%s (%s since pinned)", pin->path,
			         pin->tree_hash &&
			                 !strcmp(op.nodes[j].source_sha256, pin->tree_hash)
			             ? "unchanged"
			             : "changed");
		if (opts->on_event && !opts->dry_run)
			opts->on_event(opts->data, &ev);
	}
	rc = record_history(&op, n_reqs ? "install" : "upgrade", err);
	if (first.code) {
		*err = first;
		rc = first.code;
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
	size_t n_inst = 0, n_go = 0, cap = 0;
	char **go = NULL;
	struct stitch_buf blockers = STITCH_BUF_INIT;
	int rc;

	(void)idx;
	if ((rc = stitch_state_list_packages(sw->st, &inst, &n_inst, err)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!find_inst(inst, n_inst, names[i])) {
			rc = stitch_error(err, STITCH_E_NOTFOUND, "'%s' is not installed in '%s'",
			                  names[i], sw->dir);
			goto out;
		}
		XGROW(go, cap, n_go + 1);
		go[n_go++] = xstrdup(names[i]);
	}
	/* Close over dependents: needed by a package that stays means refuse. */
	for (size_t i = 0; i < n_go; i++) {
		char **deps = NULL;
		size_t nd = 0;
		if ((rc = stitch_state_dependents_of(sw->st, go[i], &deps, &nd, err)) != 0)
			goto out;
		for (size_t k = 0; k < nd; k++) {
			bool listed = false;
			for (size_t j = 0; j < n_go; j++)
				listed |= strcmp(go[j], deps[k]) == 0;
			if (listed)
				continue;
			if (recursive) {
				XGROW(go, cap, n_go + 1);
				go[n_go++] = xstrdup(deps[k]);
			} else {
				stitch_buf_addf(&blockers, "%s%s (needs %s)",
				                blockers.len ? ", " : "", deps[k], go[i]);
			}
		}
		stitch_strings_free(deps, nd);
	}
	if (blockers.len) {
		rc = stitch_error(err, STITCH_E_CONFLICT, "cannot remove %s: still needed by %s",
		                  n == 1 ? names[0] : "these packages", blockers.buf);
		stitch_error_cause(err,
		                   "hint: remove those too, or run 'stitch remove --recursive'");
		goto out;
	}
	/* Dependents first, so the switch never holds a package without what it needs. */
	for (size_t i = n_go; i-- > 0;) {
		const struct stitch_installed *in = find_inst(inst, n_inst, go[i]);
		struct stitch_event ev = {opts->dry_run ? "plan" : "done",
		                          "remove",
		                          go[i],
		                          in->version,
		                          NULL,
		                          NULL,
		                          0,
		                          NULL};
		if (!opts->dry_run && (rc = stitch_switch_commit_remove(sw, go[i], err)) != 0)
			goto out;
		if (opts->on_event)
			opts->on_event(opts->data, &ev);
		if (!opts->dry_run)
			add_change(&op, STITCH_CHANGE_REMOVE, in->name, in->version, NULL);
	}
	rc = record_history(&op, "remove", err);
out:
	for (size_t i = 0; i < n_go; i++)
		free(go[i]);
	free(go);
	stitch_buf_release(&blockers);
	free(op.changes);
	stitch_installed_free(inst, n_inst);
	return rc;
}
