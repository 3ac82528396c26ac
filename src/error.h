/*
 * One error vocabulary for the library.
 *
 * Every fallible function in src/ returns an int: 0 on success, or a
 * positive STITCH_E_* code on failure, after filling a struct stitch_err
 * that the caller passed in.  The detail string says what failed and where
 * (file:line:column, package and version, URL); an optional cause string
 * carries the lower-level reason (errno text, a library's message).
 *
 * Out-of-memory policy: allocation failures are not reported through this
 * type.  The x* helpers in util.h abort the process with a message, as git's
 * xmalloc does: a package manager that runs out of memory cannot do anything
 * useful, and threading ENOMEM through every path hides real errors.
 */
#ifndef STITCH_ERROR_H
#define STITCH_ERROR_H

#include <stddef.h>

enum stitch_code {
	STITCH_OK = 0,
	STITCH_E_USAGE, /* the caller asked for something malformed */
	STITCH_E_IO, /* a file or directory could not be read or written */
	STITCH_E_PARSE, /* malformed JSON, version or requirement */
	STITCH_E_INDEX, /* a well-formed document that breaks the index format */
	STITCH_E_NOTFOUND, /* a named thing does not exist */
	STITCH_E_EXISTS, /* a named thing already exists */
	STITCH_E_ARCHIVE, /* decompression or unpacking failed */
	STITCH_E_UNSAT, /* no resolution satisfies the request */
	STITCH_E_CONFIG, /* the root's configuration is unusable */
	STITCH_E_FETCH, /* a download failed (network, HTTP status, timeout) */
	STITCH_E_CHECKSUM, /* content does not match its SHA-256 */
	STITCH_E_BUILD, /* a package's build, install or test command failed */
	STITCH_E_STATE, /* the switch's database failed or is locked */
	STITCH_E_CONFLICT, /* the operation would break installed packages */
	STITCH_E_INTERNAL, /* a bug in stitch: a check of its own work failed */
	STITCH_E_DECLINED, /* the caller was asked to go ahead and said no: nothing changed */
	STITCH_E__COUNT
};

#define STITCH_ERR_MSG_MAX 1024

struct stitch_err {
	enum stitch_code code;
	char msg[STITCH_ERR_MSG_MAX]; /* what failed, with its location */
	char cause[STITCH_ERR_MSG_MAX]; /* why, from below; may be empty */
};

#define STITCH_ERR_INIT           \
	{                         \
		STITCH_OK, "", "" \
	}

/* Fill err (which may be NULL) with code and a formatted detail; returns code. */
int stitch_error(struct stitch_err *err, enum stitch_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the cause line of an error already filled; returns err->code. */
int stitch_error_cause(struct stitch_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Prefix the detail of an error already filled with more context, so a
 * caller can say where it was while keeping what went wrong below it:
 * "reading repository 'main': <previous detail>".  Returns err->code.
 */
int stitch_error_wrap(struct stitch_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The fixed one-line meaning of a code, e.g. "malformed input". */
const char *stitch_strerror(enum stitch_code code);

void stitch_err_clear(struct stitch_err *err);

#endif
