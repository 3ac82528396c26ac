/*
 * libFuzzer target for the index loader: any document either loads, and
 * then its compiled form written to the cache opens again and holds the
 * same records, or it fails with an error message that names the input;
 * every warning (a package or version left out) names the input too.
 * A compiled file with a byte flipped must be rejected (its checksum).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index_flat.h"

static char cache_path[64];

static int same_view(const struct flat_view *a, const struct flat_view *b)
{
	return a->n_pkgs == b->n_pkgs && a->n_versions == b->n_versions && a->n_cmds == b->n_cmds &&
	       a->n_refs == b->n_refs && a->strings_len == b->strings_len &&
	       !memcmp(a->pkgs, b->pkgs, a->n_pkgs * sizeof(*a->pkgs)) &&
	       !memcmp(a->versions, b->versions, a->n_versions * sizeof(*a->versions)) &&
	       !memcmp(a->cmds, b->cmds, a->n_cmds * sizeof(*a->cmds)) &&
	       !memcmp(a->refs, b->refs, a->n_refs * sizeof(*a->refs)) &&
	       !memcmp(a->strings, b->strings, a->strings_len);
}

/* Touch every string the view points at, as materializing would. */
static size_t walk(const struct flat_view *v)
{
	size_t sum = 0;

	for (uint32_t i = 0; i < v->n_refs; i++)
		sum += strlen(v->strings + v->refs[i]);
	for (uint32_t i = 0; i < v->n_versions; i++)
		sum += strlen(v->strings + v->versions[i].version);
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stitch_err err = STITCH_ERR_INIT;
	struct flat_builder b;
	struct cache_key key = {{0}, {0}, 0};
	struct flat_view v;
	struct cache_file cf;

	if (!cache_path[0])
		snprintf(cache_path, sizeof(cache_path), "/tmp/stitch-fuzz-index.%ld",
		         (long)getpid());
	flat_builder_init(&b);
	if (flat_parse_repo_doc(&b, "fuzz.json", (const char *)data, size, &err) != 0) {
		if (err.code != STITCH_E_PARSE && err.code != STITCH_E_INDEX)
			abort();
		if (strncmp(err.msg, "fuzz.json", 9) != 0)
			abort();
		flat_builder_release(&b);
		return 0;
	}
	flat_builder_view(&b, &v);
	for (const char *w = v.warnings; w < v.warnings + v.warnings_len; w += strlen(w) + 1)
		if (strncmp(w, "fuzz.json", 9) != 0)
			abort();
	if (cache_write(cache_path, "/fuzz", &key, &v) != 0)
		abort();
	if (cache_open(&cf, cache_path, "/fuzz") != 0 || !same_view(&v, &cf.view))
		abort();
	cache_close(&cf);
	/* Flip one byte of the compiled file: rejected. */
	if (size > 0) {
		FILE *f = fopen(cache_path, "r+b");
		long len;
		if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0) {
			long at = (long)(data[0] * 7919u + size) % len;
			int c;
			fseek(f, at, SEEK_SET);
			c = fgetc(f);
			fseek(f, at, SEEK_SET);
			fputc(c ^ 0x5a, f);
		}
		if (f)
			fclose(f);
		if (cache_open(&cf, cache_path, "/fuzz") == 0) {
			(void)walk(&cf.view);
			abort();
		}
	}
	flat_builder_release(&b);
	return 0;
}
