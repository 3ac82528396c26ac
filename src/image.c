/*
 * What goes into an image beside its own objects: the libraries it links,
 * in the switch, and the manifest that records them next to it.
 */
#include "image.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "req.h"
#include "state.h"
#include "util.h"

/* pkg-config names to link: per requirement, the alternative that is installed. */
char **stitch_image_libraries(struct stitch_state *st, const struct stitch_project *p,
                              const struct stitch_target *t, size_t *n, char **inputs_key)
{
	char **v = xcalloc(p->n_depends + 2, sizeof(char *));
	struct stitch_installed *inst = NULL;
	struct stitch_buf key = STITCH_BUF_INIT;
	size_t n_inst = 0;
	bool have_platform = false;

	*n = 0;
	stitch_state_list_packages(st, &inst, &n_inst, NULL);
	for (size_t i = 0; i < p->n_depends; i++) {
		struct stitch_req *r;
		if (stitch_req_parse(p->depends[i], &r, NULL) != 0)
			continue;
		for (size_t a = 0; a < r->n_alts; a++) {
			bool found = false;
			for (size_t k = 0; k < n_inst && !found; k++)
				found = strcmp(inst[k].name, r->alts[a].name) == 0;
			if (found) {
				v[(*n)++] = xstrdup(r->alts[a].name);
				have_platform |= strcmp(r->alts[a].name, t->platform_pkg) == 0;
				break;
			}
		}
		stitch_req_free(r);
	}
	if (!have_platform)
		v[(*n)++] = xstrdup(t->platform_pkg);
	/* What the app compiles against: every installed interface. */
	for (size_t k = 0; k < n_inst; k++)
		stitch_buf_addf(&key, "%s %s %s\n", inst[k].name, inst[k].version,
		                inst[k].interface_hash ? inst[k].interface_hash : "");
	*inputs_key = xmalloc(65);
	stitch_sha256_hex(key.buf, key.len, *inputs_key);
	stitch_buf_release(&key);
	stitch_installed_free(inst, n_inst);
	return v;
}

/* Installed packages in dependency order (ties by name): a topological sort. */
static void visit_inst(struct stitch_installed *inst, size_t n, size_t i, char *mark, size_t *order,
                       size_t *n_order)
{
	if (mark[i])
		return;
	mark[i] = 1;
	for (size_t d = 0; d < inst[i].n_depends; d++)
		for (size_t k = 0; k < n; k++)
			if (strcmp(inst[k].name, inst[i].depends[d]) == 0)
				visit_inst(inst, n, k, mark, order, n_order);
	order[(*n_order)++] = i;
}

/*
 * NAME.TARGET.manifest.json next to the image: what went into it.  Each
 * package's archives_sha256 covers its static archives and objects; with
 * the interface hash that is everything it installed, independent of
 * where the switch is.  Rewritten only when it changes.
 */
void stitch_image_manifest(struct stitch_state *st, const struct stitch_project *p,
                           const struct stitch_target *t, const struct stitch_link_result *res)
{
	struct stitch_installed *inst = NULL;
	size_t n_inst = 0, n_order = 0;
	json_t *o, *pkgs = json_array();
	char *path = xasprintf("%s.manifest.json", res->image), *text, *name;
	size_t *order;
	char *mark;

	/* Nothing relinked: no package changed since the manifest was written. */
	if (!res->relinked && access(path, F_OK) == 0) {
		free(path);
		json_decref(pkgs);
		return;
	}
	if (stitch_state_list_packages(st, &inst, &n_inst, NULL) != 0) {
		free(path);
		json_decref(pkgs);
		return;
	}
	order = xcalloc(n_inst + 1, sizeof(size_t));
	mark = xcalloc(n_inst + 1, 1);
	for (size_t i = 0; i < n_inst; i++)
		visit_inst(inst, n_inst, i, mark, order, &n_order);
	for (size_t k = 0; k < n_order; k++) {
		const struct stitch_installed *in = &inst[order[k]];
		struct stitch_file *files = NULL;
		struct stitch_buf b = STITCH_BUF_INIT;
		size_t n_files = 0;
		char arch[65];
		json_t *po, *deps;
		/* A switch built for several targets: another's platform is not in this image. */
		if (stitch_target_other_platform(t, in->name))
			continue;
		deps = json_array();
		stitch_state_files_of(st, in->name, &files, &n_files, NULL);
		for (size_t i = 0; i < n_files; i++) {
			size_t len = strlen(files[i].path);
			if (len > 2 && files[i].path[len - 2] == '.' &&
			    (files[i].path[len - 1] == 'a' || files[i].path[len - 1] == 'o'))
				stitch_buf_addf(&b, "%s %s\n", files[i].path, files[i].sha256);
		}
		stitch_sha256_hex(b.buf, b.len, arch);
		stitch_buf_release(&b);
		stitch_files_free(files, n_files);
		for (size_t d = 0; d < in->n_depends; d++)
			json_array_append_new(deps, json_string(in->depends[d]));
		po = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "name", in->name,
		               "version", in->version, "source_sha256",
		               in->source_sha256 ? in->source_sha256 : "", "build_hash",
		               in->build_hash ? in->build_hash : "", "interface_hash",
		               in->interface_hash ? in->interface_hash : "", "archives_sha256",
		               arch, "pinned", in->pinned, "depends", deps);
		json_array_append_new(pkgs, po);
	}
	name = strrchr(res->image, '/');
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:o}", "manifest_version", 1, "project", p->name,
	              "target", t->name, "image", name ? name + 1 : res->image, "sha256",
	              res->sha256, "packages", pkgs);
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	{
		struct stitch_buf cur = STITCH_BUF_INIT;
		char *want = xasprintf("%s\n", text);
		/* Rewritten only when it changes; a manifest that cannot be written is not fatal. */
		if (stitch_read_file(path, &cur, 0) != 0 || strcmp(cur.buf, want) != 0)
			stitch_write_file(path, want, strlen(want), false);
		stitch_buf_release(&cur);
		free(want);
	}
	free(text);
	json_decref(o);
	free(order);
	free(mark);
	stitch_installed_free(inst, n_inst);
	free(path);
}
