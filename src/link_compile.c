/*
 * Which sources to compile, objects taken from and stored into the
 * artifact cache, and the compiles, several at once.
 */
#include "link_compile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "artifact.h"
#include "build.h"
#include "util.h"

static char *object_name(const char *src)
{
	char *o = xasprintf("_build/obj/%s.o", src);

	for (char *p = o + strlen("_build/obj/"); *p; p++)
		if (*p == '/')
			*p = '_';
	return o;
}

/* A source needs compiling when its key (text, flags, inputs) differs from the last one. */
static bool up_to_date(const char *dir, const char *obj, const char *key)
{
	char *kpath = xasprintf("%s/%s.key", dir, obj), *opath = xasprintf("%s/%s", dir, obj);
	char buf[80] = "";
	FILE *f = fopen(kpath, "re");
	bool ok = false;

	if (f) {
		ok = fgets(buf, sizeof(buf), f) && strncmp(buf, key, 64) == 0 &&
		     access(opath, F_OK) == 0;
		fclose(f);
	}
	free(kpath);
	free(opath);
	return ok;
}

static void write_key(const char *dir, const char *obj, const char *key)
{
	char *kpath = xasprintf("%s/%s.key", dir, obj);
	FILE *f = fopen(kpath, "we");

	if (f) {
		fprintf(f, "%s\n", key);
		fclose(f);
	}
	free(kpath);
}

/*
 * The stat data of every file the compiler read for the last object (the
 * depfile -MMD wrote, named after -MF in args): the project's own
 * headers.  No depfile yet: nothing to add.
 */
static void add_depfile(const char *dir, const char *switch_dir, char *const *args,
                        struct stitch_buf *b)
{
	size_t sw_len = strlen(switch_dir);
	const char *dep = NULL;
	struct stitch_buf text = STITCH_BUF_INIT;
	char *path, *p, *save = NULL;

	for (size_t i = 0; args[i]; i++)
		if (!strcmp(args[i], "-MF") && args[i + 1])
			dep = args[i + 1];
	if (!dep)
		return;
	path = xasprintf("%s/%s", dir, dep);
	if (stitch_read_file(path, &text, 0) != 0) {
		free(path);
		stitch_buf_release(&text);
		return;
	}
	free(path);
	p = strchr(text.buf, ':');
	for (char *w = p ? strtok_r(p + 1, " \t\n\\", &save) : NULL; w;
	     w = strtok_r(NULL, " \t\n\\", &save)) {
		char *full = w[0] == '/' ? xstrdup(w) : xasprintf("%s/%s", dir, w);
		struct stat st;
		/*
		 * The switch's headers are in the key by content already (the
		 * interface hashes): reinstalling one unchanged is no change.
		 */
		if (strncmp(full, switch_dir, sw_len) == 0 && full[sw_len] == '/') {
			free(full);
			continue;
		}
		if (stat(full, &st) == 0)
			stitch_buf_addf(b, "dep %s %lld %lld.%09ld %lld\n", w,
			                (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			                st.st_mtim.tv_nsec, (long long)st.st_ino);
		else
			stitch_buf_addf(b, "dep %s missing\n", w);
		free(full);
	}
	stitch_buf_release(&text);
}

/*
 * A source's key: its stat data (as make would look at it, but exact to the
 * nanosecond and the inode), the flags and the libraries' interfaces.
 * Reading a large generated source on every build would cost more.
 */
static int compile_key(const struct stitch_link_opts *o, const char *src, char *const *args,
                       char key[65])
{
	char *path = xasprintf("%s/%s", o->project->dir, src);
	struct stitch_buf b = STITCH_BUF_INIT;
	struct stat st;
	int rc = stat(path, &st);

	free(path);
	if (rc != 0)
		return -1;
	stitch_buf_addf(&b, "src %lld %lld %lld %lld\ninputs %s\n", (long long)st.st_size,
	                (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec,
	                (long long)st.st_ino, o->inputs_key ? o->inputs_key : "");
	for (size_t i = 0; args[i]; i++)
		stitch_buf_addf(&b, "%s\n", args[i]);
	add_depfile(o->project->dir, o->switch_dir, args, &b);
	stitch_sha256_hex(b.buf, b.len, key);
	stitch_buf_release(&b);
	return 0;
}

/* The text with the project's and the switch's directories replaced by placeholders. */
static void normalize(const struct stitch_link_opts *o, const char *text, size_t len,
                      struct stitch_buf *out)
{
	struct stitch_buf mid = STITCH_BUF_INIT;

	stitch_replace_all(text, len, o->project->dir, "@PROJECT@", &mid);
	stitch_replace_all(mid.buf, mid.len, o->switch_dir, STITCH_PREFIX_PLACEHOLDER, out);
	stitch_buf_release(&mid);
}

/*
 * What an object is built from, wherever the project and its switch are:
 * the preprocessed source (local headers included) and the command, both
 * with those directories replaced, and the compiler.  args is the compile
 * command, "-o OBJ SRC" at its end.
 */
static int object_inputs(const struct stitch_link_opts *o, const struct link_runner *re,
                         char *const *args, const char *src, char name[512], char source[65],
                         char recipe[65], struct stitch_err *err)
{
	struct stitch_buf pre = STITCH_BUF_INIT, norm = STITCH_BUF_INIT, cmd = STITCH_BUF_INIT;
	size_t n = 0;
	char **eargs;
	int rc;

	while (args[n])
		n++;
	eargs = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0, k = 0; i < n; i++) {
		if (!strcmp(args[i], "-o")) {
			i++;
			continue;
		}
		eargs[k++] = !strcmp(args[i], "-c") ? "-E" : args[i];
		if (strcmp(args[i], "-c") != 0)
			stitch_buf_addf(&cmd, "%s\n", args[i]);
	}
	rc = link_run(re, eargs, &pre, err);
	free(eargs);
	if (rc == 0) {
		normalize(o, pre.buf, pre.len, &norm);
		stitch_sha256_hex(norm.buf, norm.len, source);
		stitch_buf_reset(&norm);
		normalize(o, cmd.buf, cmd.len, &norm);
		stitch_sha256_hex(norm.buf, norm.len, recipe);
		snprintf(name, 512, "%s/%s", o->project->name, src);
	}
	stitch_buf_release(&pre);
	stitch_buf_release(&norm);
	stitch_buf_release(&cmd);
	return rc;
}

/* Take obj (absolute) from the artifact cache: true when it was there. */
static bool object_from_cache(const struct stitch_link_opts *o, const char *hash, const char *obj)
{
	struct stitch_artifact art;
	char *tmp = xasprintf("%s/_build/.artifact-%ld", o->project->dir, (long)getpid());
	char *file = xasprintf("%s/object.o", tmp), sha[65];
	bool ok = false;

	stitch_rm_rf(tmp);
	if (stitch_artifacts_lookup(o->artifacts, hash, &art, NULL) == 0) {
		ok = stitch_artifacts_unpack(o->artifacts, &art, tmp, o->switch_dir, NULL) == 0 &&
		     stitch_sha256_file(file, sha) == 0 && strcmp(sha, art.interface_hash) == 0 &&
		     rename(file, obj) == 0;
		stitch_artifact_release(&art);
	}
	stitch_rm_rf(tmp);
	free(tmp);
	free(file);
	return ok;
}

static void object_to_cache(const struct stitch_link_opts *o, const struct stitch_build_inputs *in,
                            const char *hash, const char *obj)
{
	char *tmp = xasprintf("%s/_build/.artifact-%ld", o->project->dir, (long)getpid());
	char *file = xasprintf("%s/object.o", tmp), sha[65];
	const char *paths[] = {"object.o"};
	bool uploaded;

	stitch_rm_rf(tmp);
	if (stitch_mkdir_p(tmp, 0755) == 0 && link(obj, file) == 0 &&
	    stitch_sha256_file(file, sha) == 0)
		stitch_artifacts_store(o->artifacts, in, hash, sha, tmp, paths, 1, o->switch_dir,
		                       &uploaded, NULL);
	stitch_rm_rf(tmp);
	free(tmp);
	free(file);
}

/* A source to compile: its command, and its key in the artifact cache. */
struct compile_job {
	size_t src;
	char **argv, *depf, *abs;
	char name[512], source[65], recipe[65], hash[65];
	struct stitch_build_inputs in;
};

/* The argument after flag in argv ("" when there is none). */
static const char *arg_after(char *const *argv, const char *flag)
{
	for (size_t i = 0; argv[i]; i++)
		if (!strcmp(argv[i], flag) && argv[i + 1])
			return argv[i + 1];
	return "";
}

/* Start job in a child process; when it fails, its error comes back through *fd. */
static pid_t start_compile(const struct link_runner *re, const struct compile_job *job, int *fd)
{
	int pfd[2] = {-1, -1};
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		pfd[0] = pfd[1] = -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct stitch_err cerr = STITCH_ERR_INIT;
		int crc = link_run(re, job->argv, NULL, &cerr);
		if (crc && pfd[1] >= 0 &&
		    write(pfd[1], &cerr, sizeof(cerr)) != (ssize_t)sizeof(cerr))
			_exit(2);
		_exit(crc ? 1 : 0);
	}
	if (pfd[1] >= 0)
		close(pfd[1]);
	*fd = pfd[0];
	return pid;
}

/*
 * job's child ended with status: record and cache its object, or, for the
 * first failure (rc still 0), take the child's error.  Returns the new rc.
 */
static int finish_compile(const struct stitch_link_opts *o, const struct compile_job *job,
                          int status, int fd, int rc, struct stitch_link_result *r,
                          struct stitch_err *err)
{
	const char *src = o->project->sources[job->src];
	char key[65];

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (rc == 0) {
			struct stitch_err cerr = STITCH_ERR_INIT;
			if (fd >= 0 && read(fd, &cerr, sizeof(cerr)) == (ssize_t)sizeof(cerr))
				*err = cerr;
			else
				stitch_error(err, STITCH_E_BUILD, "compiling '%s' failed", src);
			rc = STITCH_E_BUILD;
		}
	} else if (compile_key(o, src, job->argv, key) == 0) {
		write_key(o->project->dir, arg_after(job->argv, "-o"), key);
		r->compiled++;
		if (job->hash[0])
			object_to_cache(o, &job->in, job->hash, job->abs);
	}
	return rc;
}

/*
 * Compile the jobs, several at once: each runs in a child process (which
 * runs the compiler through link_run()), and its object is recorded and cached
 * here when it succeeds.  Once one fails no more start; the first failure
 * is the error.
 */
static int compile_all(const struct stitch_link_opts *o, const struct link_runner *re,
                       struct compile_job *jobs, size_t n, struct stitch_link_result *r,
                       struct stitch_err *err)
{
	size_t max = (size_t)stitch_default_jobs(0), next = 0, running = 0, k;
	pid_t *pids = xcalloc(n + 1, sizeof(pid_t)), pid;
	int *fds = xcalloc(n + 1, sizeof(int));
	int rc = 0, status;

	while (next < n || running) {
		while (rc == 0 && next < n && running < max) {
			pids[next] = start_compile(re, &jobs[next], &fds[next]);
			if (pids[next] < 0) {
				rc = stitch_error(err, STITCH_E_BUILD,
				                  "cannot start the compiler: %s", strerror(errno));
				break;
			}
			next++;
			running++;
		}
		if (!running)
			break;
		if ((pid = waitpid(-1, &status, 0)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < next && pids[k] != pid; k++)
			;
		if (k == next)
			continue;
		running--;
		pids[k] = 0;
		rc = finish_compile(o, &jobs[k], status, fds[k], rc, r, err);
		if (fds[k] >= 0)
			close(fds[k]);
		fds[k] = -1;
	}
	free(pids);
	free(fds);
	return rc;
}

/* "cc -c", the project's cflags, the libraries' and the prefix maps, as words. */
static char **compile_flags(const struct stitch_link_opts *o, const char *lib_flags, size_t *n)
{
	const struct stitch_project *p = o->project;
	char **cflags = NULL;
	size_t cap = 0;
	char *map = xasprintf("-ffile-prefix-map=%s=.", p->dir);
	char *map2 = xasprintf("-ffile-prefix-map=%s=/stitch/prefix", o->switch_dir);

	*n = 0;
	link_words_add(&cflags, n, &cap, "cc -c");
	for (size_t i = 0; i < p->n_cflags; i++)
		link_words_add(&cflags, n, &cap, p->cflags[i]);
	link_words_add(&cflags, n, &cap, lib_flags);
	link_words_add(&cflags, n, &cap, o->target->cflags);
	link_words_add(&cflags, n, &cap, map);
	link_words_add(&cflags, n, &cap, map2);
	free(map);
	free(map2);
	return cflags;
}

/*
 * Take the job's object from the artifact cache when it is there: true
 * when it was, and the job was cleared.
 */
static bool job_from_cache(const struct stitch_link_opts *o, const struct link_runner *re,
                           struct compile_job *cj, const char *obj, struct stitch_link_result *r)
{
	const struct stitch_project *p = o->project;
	const char *src = p->sources[cj->src];
	char key[65];

	if (!o->artifacts ||
	    object_inputs(o, re, cj->argv, src, cj->name, cj->source, cj->recipe, NULL) != 0)
		return false;
	cj->in = (struct stitch_build_inputs){
	    cj->name, "object", cj->source, o->target->name, o->cc_id, cj->recipe, 0, NULL, NULL};
	stitch_build_inputs_hash(&cj->in, cj->hash);
	if (!object_from_cache(o, cj->hash, cj->abs))
		return false;
	if (compile_key(o, src, cj->argv, key) == 0)
		write_key(p->dir, obj, key);
	r->from_cache++;
	free(cj->abs);
	memset(cj, 0, sizeof(*cj));
	return true;
}

/*
 * Source i's object joins the plan; it becomes a job unless it is up to
 * date or the artifact cache has it.
 */
static int plan_source(const struct stitch_link_opts *o, const struct link_runner *re,
                       char **cflags, size_t n_cf, size_t i, struct link_compile_plan *plan,
                       struct stitch_link_result *r, struct stitch_err *err)
{
	const struct stitch_project *p = o->project;
	struct compile_job *cj = &plan->jobs[plan->n_jobs];
	char key[65];
	char *obj = object_name(p->sources[i]);
	char *depf = xasprintf("%s.d", obj);
	char **argv = xcalloc(n_cf + 8, sizeof(char *));
	int rc = 0;

	memcpy(argv, cflags, n_cf * sizeof(char *));
	/* The depfile tells the next build which headers this object read. */
	argv[n_cf] = "-MMD";
	argv[n_cf + 1] = "-MF";
	argv[n_cf + 2] = depf;
	argv[n_cf + 3] = "-o";
	argv[n_cf + 4] = obj;
	argv[n_cf + 5] = p->sources[i];
	plan->objs[plan->n_objs++] = obj;
	if (compile_key(o, p->sources[i], argv, key) != 0) {
		rc = stitch_error(err, STITCH_E_BUILD, "cannot read source '%s/%s': %s", p->dir,
		                  p->sources[i], strerror(errno));
	} else if (!up_to_date(p->dir, obj, key)) {
		cj->src = i;
		cj->argv = argv;
		cj->depf = depf;
		cj->abs = xasprintf("%s/%s", p->dir, obj);
		if (!job_from_cache(o, re, cj, obj, r)) {
			plan->n_jobs++;
			return 0; /* the job owns argv and depf now */
		}
	}
	free(argv);
	free(depf);
	return rc;
}

/* Compile what is out of date and not in the cache; plan->objs is filled for the link. */
int link_compile_changed(const struct stitch_link_opts *o, const struct link_runner *re,
                         const char *lib_flags, struct link_compile_plan *plan,
                         struct stitch_link_result *r, struct stitch_err *err)
{
	size_t n_sources = o->project->n_sources, n_cf;
	char **cflags = compile_flags(o, lib_flags, &n_cf);
	int rc = 0;

	plan->objs = xcalloc(n_sources + 1, sizeof(char *));
	plan->jobs = xcalloc(n_sources + 1, sizeof(*plan->jobs));
	for (size_t i = 0; i < n_sources && rc == 0; i++)
		rc = plan_source(o, re, cflags, n_cf, i, plan, r, err);
	if (rc == 0)
		rc = compile_all(o, re, plan->jobs, plan->n_jobs, r, err);
	for (size_t k = 0; k < plan->n_jobs; k++) {
		free(plan->jobs[k].argv);
		free(plan->jobs[k].depf);
		free(plan->jobs[k].abs);
	}
	free(plan->jobs);
	plan->jobs = NULL;
	plan->n_jobs = 0;
	link_words_free(cflags, n_cf);
	return rc;
}
