#include "error.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const messages[STITCH_E__COUNT] = {
    [STITCH_OK] = "success",
    [STITCH_E_USAGE] = "usage error",
    [STITCH_E_IO] = "input/output error",
    [STITCH_E_PARSE] = "malformed input",
    [STITCH_E_INDEX] = "invalid package index",
    [STITCH_E_NOTFOUND] = "not found",
    [STITCH_E_EXISTS] = "already exists",
    [STITCH_E_ARCHIVE] = "archive error",
    [STITCH_E_UNSAT] = "no solution",
    [STITCH_E_CONFIG] = "bad configuration",
    [STITCH_E_FETCH] = "download failed",
    [STITCH_E_CHECKSUM] = "checksum mismatch",
    [STITCH_E_BUILD] = "build failed",
    [STITCH_E_STATE] = "switch state error",
    [STITCH_E_CONFLICT] = "would break installed packages",
    [STITCH_E_INTERNAL] = "internal error",
    [STITCH_E_DECLINED] = "not confirmed",
};

const char *stitch_strerror(enum stitch_code code)
{
	if ((int)code < 0 || code >= STITCH_E__COUNT)
		return "unknown error";
	return messages[code];
}

int stitch_error(struct stitch_err *err, enum stitch_code code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->cause[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int stitch_error_cause(struct stitch_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return STITCH_E_USAGE;
	va_start(ap, fmt);
	vsnprintf(err->cause, sizeof(err->cause), fmt, ap);
	va_end(ap);
	return err->code;
}

int stitch_error_wrap(struct stitch_err *err, const char *fmt, ...)
{
	char prefix[STITCH_ERR_MSG_MAX];
	char old[STITCH_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return STITCH_E_USAGE;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation keeps the start of the message, which says the most. */
	struct stitch_buf b = STITCH_BUF_INIT;
	stitch_buf_addf(&b, "%s: %s", prefix, old);
	if (b.len >= sizeof(err->msg))
		b.len = sizeof(err->msg) - 1;
	memcpy(err->msg, b.buf, b.len);
	err->msg[b.len] = '\0';
	stitch_buf_release(&b);
	return err->code;
}

void stitch_err_clear(struct stitch_err *err)
{
	if (!err)
		return;
	err->code = STITCH_OK;
	err->msg[0] = '\0';
	err->cause[0] = '\0';
}
