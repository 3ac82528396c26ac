/*
 * What stitch shows while it works, and how: the global -q and -v, colour
 * (--color, NO_COLOR), and on a terminal one status line at the bottom of
 * stderr (downloads, builds, the link) redrawn in place from the typed
 * events of event.h.  Off a terminal nothing here prints anything: the
 * lines of cmd/events.c stay exactly as they are.
 */
#ifndef STITCH_CMD_PROGRESS_H
#define STITCH_CMD_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

struct stitch_event;

enum cmd_verbosity {
	CMD_QUIET, /* -q: errors and the final result only */
	CMD_NORMAL,
	CMD_VERBOSE, /* -v: each command a build runs, instead of the status line */
};

enum cmd_color { CMD_COLOR_AUTO, CMD_COLOR_ALWAYS, CMD_COLOR_NEVER };

enum cmd_style {
	CMD_STYLE_ERROR, /* bold red */
	CMD_STYLE_WARNING, /* bold yellow */
	CMD_STYLE_GOOD, /* green: a result */
	CMD_STYLE_BAD, /* red: a failed package */
};

/*
 * Set once, from main, before any output.  The status line is drawn on
 * stderr when it is a terminal (or on the terminal $STITCH_STATUS_FD names:
 * verify hands it to the builds it runs), unless -q, -v or TERM=dumb.
 */
void cmd_output_init(enum cmd_verbosity v, enum cmd_color c);
enum cmd_verbosity cmd_verbosity(void);
/* Parse "auto", "always" or "never"; false when it is none of them. */
bool cmd_color_parse(const char *s, enum cmd_color *c);

/* Whether text printed on f is coloured: --color, else a terminal without NO_COLOR. */
bool cmd_color_on(FILE *f);
/* Print text on f in style st (plainly when colour is off for f). */
void cmd_paint(FILE *f, enum cmd_style st, const char *text);

/* The descriptor the status line is drawn on, or -1 when there is none. */
int cmd_status_fd(void);
/* Take an event into the status line (the line is redrawn by a timer). */
void cmd_status_event(const struct stitch_event *ev);
/*
 * Around every line printed while the status line may show: _begin erases
 * it (and holds it off), _end flushes stdout and stderr and lets it come
 * back at the next redraw.
 */
void cmd_status_begin_line(void);
void cmd_status_end_line(void);
/* Erase the status line for good (before a command's result; at exit). */
void cmd_status_stop(void);

#endif
