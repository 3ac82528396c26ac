/*
 * Running a package's commands: build, install (into a staging directory)
 * and test, with variables substituted, in a clean and fixed environment,
 * each command's output appended to one log file.
 */
#ifndef STITCH_BUILD_H
#define STITCH_BUILD_H

#include <stdbool.h>

#include "error.h"
#include "index.h"

struct stitch_build_env {
	const char *name; /* package name and version, for variables and messages */
	const char *version;
	const char *prefix; /* the switch: %{prefix}%, PREFIX */
	const char *staging; /* DESTDIR for install commands; may be NULL for build/test */
	const char *work_dir; /* where the commands run: the unpacked tree */
	const char *log_path; /* appended to; created if missing */
	const char *target; /* %{target}%, default "unix" */
	int jobs; /* %{jobs}%, MAKEFLAGS=-jN */
	long long source_date_epoch;
	bool isolate_network; /* run commands in a new network namespace when possible */
	/*
	 * Run the commands under bubblewrap: the system read-only, a fresh
	 * /tmp, /home, /root and /run empty, the switch (prefix) read-only,
	 * only work_dir and staging writable (at their real paths), no network,
	 * its own PID namespace, killed with its parent.  isolate_network plays
	 * no part then.
	 */
	bool sandbox;
	/* In the sandbox, hidden under an empty directory (the switch's own data), or NULL. */
	const char *hidden;
	/* When > 0, each command is also written to this descriptor: "NAME VERSION: $ CMD". */
	int echo_fd;
};

/*
 * Expand %{var}% in s for env: prefix, jobs, name, version, lib, include,
 * target.  An unknown variable is STITCH_E_BUILD naming the package,
 * version and variable.  "%{" without a closing "}%" is kept as written.
 */
int stitch_build_expand(const char *s, const struct stitch_build_env *env, char **out,
                        struct stitch_err *err);

/* One step of a build: its commands, what a failure calls it, DESTDIR or not. */
struct stitch_build_step {
	const struct stitch_cmdlist *list;
	const char *what; /* "build", "install", "test" */
	bool install; /* its commands get DESTDIR=env->staging */
};

/*
 * Run every command of every step in order (argv arrays, no shell), all
 * in one sandbox (or, without one, one network namespace): one process
 * tree for the whole package, not one per command.  Every variable is
 * expanded before the first command runs.  Stops at the first failure:
 * STITCH_E_BUILD with a message naming the package, version, which step
 * (what) and the failing command and its status, and a cause holding the
 * last 30 lines of the log and the log's path.  A command sees only
 * descriptors 0 (/dev/null), 1 and 2 (the log); what it leaves running is
 * killed when it ends (when a PID namespace could be had), and everything
 * is killed when the process that runs the build dies.  With env->sandbox,
 * a sandbox that cannot be set up (bubblewrap missing, user namespaces
 * disabled) is STITCH_E_BUILD saying so, with a hint about --no-sandbox;
 * no command is ever run outside it.  env->staging, when set, is writable
 * in the sandbox for every step.
 */
int stitch_build_run_steps(const struct stitch_build_step *steps, size_t n,
                           const struct stitch_build_env *env, struct stitch_err *err);

/* stitch_build_run_steps with one step; DESTDIR when env->staging is set. */
int stitch_build_run(const struct stitch_cmdlist *list, const char *what,
                     const struct stitch_build_env *env, struct stitch_err *err);

/*
 * What stitch runs in a build's sandbox: `stitch __build-driver ...`, its
 * commands in its arguments, its reports on descriptor 3 (build_driver.h).
 * main() hands such a command line to stitch_build_driver_main first of all;
 * it returns the process's exit status (2 when not started by stitch).
 */
#define STITCH_BUILD_DRIVER "__build-driver"
int stitch_build_driver_main(int argc, char **argv);

/*
 * Can builds of env's package be sandboxed?  Starts one sandbox running
 * no command (about as costly as a build's); 0, or the error
 * stitch_build_run would give.  Lets a caller say it once for many
 * packages.
 */
int stitch_build_sandbox_check(const struct stitch_build_env *env, struct stitch_err *err);

/* Test hook: use this program as bubblewrap (NULL: find bwrap in /usr/bin, /bin). */
void stitch_build_set_bwrap(const char *path);

/* Find prog along path (a PATH value; the caller's own PATH plays no part), or NULL. */
char *stitch_build_find_program(const char *prog, const char *path);

/* The last n lines of the file at path (at most 64 KiB are read). */
char *stitch_build_log_tail(const char *path, int n);

/* How many jobs at once: asked when positive, else $STITCH_JOBS, else one per processor. */
int stitch_default_jobs(int asked);

/*
 * The compiler's identity: the first line of `cc --version`, kept in
 * cache_dir/cc-identity and reused while /usr/bin/cc's stat data holds.
 */
void stitch_cc_identity(const char *cache_dir, char *out, size_t len);

#endif
