/*
 * Running the link's tools in a fixed environment like the builds of
 * packages (build.c), so an image depends on its inputs only, and the
 * stamp files that spare a no-op build from running them.
 */
#include "link_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build.h"
#include "tree.h"

/* Run argv; stdout into out when given, else into the log. Returns 0 or the failure. */
int link_run(const struct link_runner *r, char *const *argv, struct stitch_buf *out,
             struct stitch_err *err)
{
	char *prog = stitch_build_find_program(argv[0], r->path);
	struct stitch_buf line = STITCH_BUF_INIT;
	int fds[2] = {-1, -1}, log_fd, status = -1;
	pid_t pid;

	for (size_t i = 0; argv[i]; i++)
		stitch_buf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	log_fd = open(r->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd >= 0)
		dprintf(log_fd, "$ %s\n", line.buf);
	if (!prog) {
		stitch_error(err, STITCH_E_BUILD, "cannot run '%s': not found in PATH=%s", argv[0],
		             r->path);
		goto out;
	}
	if (out && pipe2(fds, O_CLOEXEC) != 0)
		goto out;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out ? fds[1] : log_fd, 1);
		dup2(log_fd, 2);
		umask(022);
		if (chdir(r->cwd) != 0)
			_exit(126);
		execve(prog, argv, r->envp);
		_exit(127);
	}
	if (out) {
		char chunk[4096];
		ssize_t n;
		close(fds[1]);
		while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
			if (n > 0)
				stitch_buf_add(out, chunk, (size_t)n);
		close(fds[0]);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (status != 0) {
		char *tail = stitch_build_log_tail(r->log, 30);
		stitch_error(err, STITCH_E_BUILD, "'%s' failed (%s %d)", line.buf,
		             status > 0 && WIFSIGNALED(status) ? "signal" : "status",
		             status > 0 && WIFSIGNALED(status) ? WTERMSIG(status)
		                                               : WEXITSTATUS(status));
		stitch_error_cause(err, "%s\nlog: %s", tail, r->log);
		free(tail);
	}
out:
	if (log_fd >= 0)
		close(log_fd);
	free(prog);
	stitch_buf_release(&line);
	return status == 0 ? 0 : STITCH_E_BUILD;
}

/* Split pkg-config output into words (it quotes nothing we produce). */
void link_words_add(char ***v, size_t *n, size_t *cap, const char *s)
{
	char *copy = xstrdup(s), *save = NULL;

	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		XGROW(*v, *cap, *n + 2);
		(*v)[(*n)++] = xstrdup(w);
		(*v)[*n] = NULL;
	}
	free(copy);
}

void link_words_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Stat data of the project's own files (not _build, _stitch or VCS folders). */
void link_stamp_tree(const char *root, const char *rel, struct stitch_buf *b,
                     const char *const *exclude, size_t n_exclude)
{
	char *dir = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char *r =
		    *rel ? xasprintf("%s/%s", rel, names[i]->d_name) : xstrdup(names[i]->d_name);
		char *full = xasprintf("%s/%s", root, r);
		struct stat st;
		bool skip = false;
		for (size_t k = 0; k < n_exclude; k++)
			skip |= strcmp(full, exclude[k]) == 0;
		if (!skip && lstat(full, &st) == 0 &&
		    !stitch_tree_ignored(names[i]->d_name, S_ISDIR(st.st_mode))) {
			if (S_ISDIR(st.st_mode))
				link_stamp_tree(root, r, b, exclude, n_exclude);
			else
				stitch_buf_addf(b, "%s %lld %lld %lld %o\n", r,
				                (long long)st.st_size, (long long)st.st_mtim.tv_sec,
				                (long long)st.st_mtim.tv_nsec,
				                (unsigned)st.st_mode);
		}
		free(full);
		free(r);
		free(names[i]);
	}
	free(names);
	free(dir);
}

/* A small cache file: first line the key, then the value lines. */
char *link_cache_read(const char *path, const char *key)
{
	struct stitch_buf b = STITCH_BUF_INIT;
	char line[4096];
	FILE *f = fopen(path, "re");
	bool ok = false;

	if (!f)
		return NULL;
	if (fgets(line, sizeof(line), f) && strncmp(line, key, 64) == 0 && line[64] == '\n') {
		size_t n;
		ok = true;
		while ((n = fread(line, 1, sizeof(line), f)) > 0)
			stitch_buf_add(&b, line, n);
	}
	fclose(f);
	if (!ok) {
		stitch_buf_release(&b);
		return NULL;
	}
	return stitch_buf_detach(&b, NULL);
}

void link_cache_write(const char *path, const char *key, const char *value)
{
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "we");

	if (f) {
		fprintf(f, "%s\n%s", key, value);
		if (fclose(f) == 0 && rename(tmp, path) == 0) {
			free(tmp);
			return;
		}
	}
	unlink(tmp);
	free(tmp);
}

/* The fixed environment the tools run in: the switch's tools, no user settings. */
void link_runner_init(struct link_runner *re, const struct stitch_link_opts *o)
{
	const char *dir = o->project->dir;

	re->path = xasprintf("%s/bin:/usr/local/bin:/usr/bin:/bin", o->switch_dir);
	re->envp = xcalloc(8, sizeof(char *));
	re->envp[0] = xasprintf("PATH=%s", re->path);
	re->envp[1] = xasprintf("PKG_CONFIG_PATH=%s/lib/pkgconfig", o->switch_dir);
	re->envp[2] = xasprintf("PKG_CONFIG_LIBDIR=%s/lib/pkgconfig", o->switch_dir);
	re->envp[3] = xstrdup("LC_ALL=C");
	re->envp[4] = xstrdup("TZ=UTC");
	re->envp[5] = xstrdup("SOURCE_DATE_EPOCH=0");
	re->envp[6] = xasprintf("HOME=%s", dir);
	re->cwd = dir;
	re->log = xasprintf("%s/_build/build.log", dir);
	unlink(re->log);
}

void link_runner_release(struct link_runner *re)
{
	free(re->path);
	for (size_t i = 0; re->envp[i]; i++)
		free(re->envp[i]);
	free(re->envp);
	free((char *)re->log);
}
