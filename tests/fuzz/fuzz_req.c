/*
 * libFuzzer target for the requirement parser: any input either parses,
 * and then its canonical form parses again to the same string and to a
 * requirement that evaluates the same, or fails with a column inside the
 * input (or just past its end) and a caret line under it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"

static const char *const probes[] = {
    "0", "1", "1.0", "1.0~rc1", "1.0a", "2", "10", "~", "a", "3.4", "2.16",
};

/*
 * The message quotes the input (its first 40 bytes and its length when it is
 * longer than STITCH_REQ_SHOWN), then the column; the cause shows the input,
 * or a window of it around the column, with a caret line under the column.
 */
static void check_error(const char *in, const struct stitch_err *err)
{
	static const char head[] = "invalid requirement '";
	size_t len = strlen(in), col, from = 0, to = len;
	const char *p = err->msg + sizeof(head) - 1, *nl;
	char tail[64];

	if (err->code != STITCH_E_PARSE)
		abort();
	if (strncmp(err->msg, head, sizeof(head) - 1) != 0)
		abort();
	if (len <= STITCH_REQ_SHOWN) {
		if (strncmp(p, in, len) != 0)
			abort();
		p += len;
		snprintf(tail, sizeof(tail), "': column ");
	} else {
		if (strncmp(p, in, 40) != 0)
			abort();
		p += 40;
		snprintf(tail, sizeof(tail), "...' (%zu bytes): column ", len);
	}
	if (strncmp(p, tail, strlen(tail)) != 0)
		abort();
	col = strtoul(p + strlen(tail), NULL, 10);
	if (col < 1 || col > len + 1)
		abort();
	if (len > STITCH_REQ_SHOWN) {
		from = col - 1 > STITCH_REQ_SHOWN / 2 ? col - 1 - STITCH_REQ_SHOWN / 2 : 0;
		to = from + STITCH_REQ_SHOWN < len ? from + STITCH_REQ_SHOWN : len;
	}
	/* the input may hold newlines: find the caret line by length */
	nl = err->cause + (to - from);
	if (strncmp(err->cause, in + from, to - from) != 0 || nl[0] != '\n' ||
	    strlen(nl + 1) != col - from || nl[col - from] != '^')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	struct stitch_err err = STITCH_ERR_INIT;
	struct stitch_req *r = NULL, *r2 = NULL;
	struct stitch_buf s1 = STITCH_BUF_INIT, s2 = STITCH_BUF_INIT;

	if (!in)
		abort();
	memcpy(in, data, size);
	in[size] = '\0';
	if (stitch_req_parse(in, &r, &err)) {
		if (r)
			abort();
		check_error(in, &err);
		free(in);
		return 0;
	}
	stitch_req_print(r, &s1);
	if (stitch_req_parse(s1.buf, &r2, &err))
		abort(); /* the canonical form must parse */
	stitch_req_print(r2, &s2);
	if (strcmp(s1.buf, s2.buf) != 0)
		abort(); /* and print the same */
	if (r->n_alts != r2->n_alts)
		abort();
	for (size_t i = 0; i < r->n_alts; i++) {
		if (strcmp(r->alts[i].name, r2->alts[i].name) != 0)
			abort();
		for (size_t v = 0; v < sizeof(probes) / sizeof(probes[0]); v++)
			if (stitch_vformula_eval(r->alts[i].formula, probes[v]) !=
			    stitch_vformula_eval(r2->alts[i].formula, probes[v]))
				abort();
	}
	stitch_buf_release(&s1);
	stitch_buf_release(&s2);
	stitch_req_free(r);
	stitch_req_free(r2);
	free(in);
	return 0;
}
