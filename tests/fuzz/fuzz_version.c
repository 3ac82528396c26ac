/*
 * libFuzzer target for stitch_version_cmp: the input is split on '\n' into
 * up to three versions (any bytes); the order must be reflexive,
 * antisymmetric and transitive, ignore leading zeros of digit runs, and
 * stitch_version_cmp must agree with stitch_version_cmpn.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "version.h"

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* A copy of s with a '0' before every digit run, NUL-terminated. */
static char *add_zeros(const char *s, size_t len, size_t *outlen)
{
	char *out = malloc(2 * len + 1);
	size_t n = 0;

	if (!out)
		abort();
	for (size_t i = 0; i < len; i++) {
		int digit = s[i] >= '0' && s[i] <= '9';
		if (digit && (i == 0 || !(s[i - 1] >= '0' && s[i - 1] <= '9')))
			out[n++] = '0';
		out[n++] = s[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v[3];
	size_t len[3];
	int n = 0;
	const char *p = (const char *)data, *end = p + size;

	while (n < 3) {
		const char *nl = n < 2 ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		v[n] = p;
		len[n] = nl ? (size_t)(nl - p) : (size_t)(end - p);
		n++;
		if (!nl)
			break;
		p = nl + 1;
	}
	for (int i = 0; i < n; i++) {
		size_t zlen;
		char *z;

		if (stitch_version_cmpn(v[i], len[i], v[i], len[i]) != 0)
			abort();
		for (int j = 0; j < n; j++)
			if (sign(stitch_version_cmpn(v[i], len[i], v[j], len[j])) !=
			    -sign(stitch_version_cmpn(v[j], len[j], v[i], len[i])))
				abort();
		z = add_zeros(v[i], len[i], &zlen);
		if (stitch_version_cmpn(v[i], len[i], z, zlen) != 0)
			abort();
		if (memchr(v[i], '\0', len[i]) == NULL) {
			/* z has no NUL either: cmp on strings agrees with cmpn */
			char *copy = strndup(v[i], len[i]);
			if (!copy)
				abort();
			if (stitch_version_cmp(copy, z) != 0)
				abort();
			for (int j = 0; j < n; j++)
				if (sign(stitch_version_cmpn(copy, len[i], v[j], len[j])) !=
				    sign(stitch_version_cmpn(z, zlen, v[j], len[j])))
					abort();
			free(copy);
		}
		free(z);
	}
	if (n == 3) {
		int ab = sign(stitch_version_cmpn(v[0], len[0], v[1], len[1]));
		int bc = sign(stitch_version_cmpn(v[1], len[1], v[2], len[2]));
		int ac = sign(stitch_version_cmpn(v[0], len[0], v[2], len[2]));
		if (ab == bc && ac != ab)
			abort();
		if (ab == 0 && ac != bc)
			abort();
		if (bc == 0 && ac != ab)
			abort();
	}
	stitch_version_valid(v[0], len[0]);
	stitch_name_valid(v[0], len[0]);
	return 0;
}
