/*
 * The status line: one line at the bottom of the terminal saying what runs
 * now, kept from the events (event.h) and redrawn in place by a timer
 * thread at most ten times a second, so that a long build still shows its
 * time moving.  It is drawn with carriage returns, spaces and backspaces
 * only (no escape sequences), one write(2) a frame; printing a line first
 * erases it under the same lock.  A signal that kills stitch erases it too.
 */
#include "progress.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "util.h"

#define REDRAW_NS 100000000L /* 100 ms between frames */
#define LINE_MAX_BYTES 400

/* A download or a build the line shows. */
struct entry {
	char *label; /* "name version" */
	long long bytes, total; /* downloads: received, announced (-1: unknown) */
	double t0; /* builds: when it started */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static struct {
	enum cmd_verbosity verbosity;
	enum cmd_color color;
	int fd; /* where the line is drawn; -1: nowhere */
	pid_t owner; /* a forked child never draws nor takes the lock */
	pthread_mutex_t mu;
	pthread_t ticker;
	bool ticking, stopping;
	struct entries dl, run;
	size_t planned, started; /* builds the plan expects, builds started */
	double dl_t0;
	char *linking; /* "app (unix)" while the image is linked */
	double link_t0;
} st = {.verbosity = CMD_NORMAL, .fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

/* Columns of the line on screen now: what the signal handler erases. */
static volatile sig_atomic_t shown;
static struct sigaction old_int, old_term, old_hup;

bool cmd_color_parse(const char *s, enum cmd_color *c)
{
	static const char *const words[] = {"auto", "always", "never"};

	for (int i = 0; i < 3; i++)
		if (strcmp(s, words[i]) == 0) {
			*c = (enum cmd_color)i;
			return true;
		}
	return false;
}

bool cmd_color_on(FILE *f)
{
	const char *no = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (st.color != CMD_COLOR_AUTO)
		return st.color == CMD_COLOR_ALWAYS;
	return isatty(fileno(f)) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

static const char *const sgr[] = {
    [CMD_STYLE_ERROR] = "\033[1;31m",
    [CMD_STYLE_WARNING] = "\033[1;33m",
    [CMD_STYLE_GOOD] = "\033[32m",
    [CMD_STYLE_BAD] = "\033[31m",
};

void cmd_paint(FILE *f, enum cmd_style s, const char *text)
{
	if (cmd_color_on(f))
		fprintf(f, "%s%s\033[0m", sgr[s], text);
	else
		fputs(text, f);
}

enum cmd_verbosity cmd_verbosity(void)
{
	return st.verbosity;
}

int cmd_status_fd(void)
{
	return st.fd >= 0 && st.owner == getpid() ? st.fd : -1;
}

/* The terminal to draw on: $STITCH_STATUS_FD's, else stderr's; -1 when none. */
static int pick_fd(void)
{
	const char *env = getenv("STITCH_STATUS_FD"), *term = getenv("TERM");
	char *end;
	long fd = env && *env ? strtol(env, &end, 10) : -1;

	if (term && strcmp(term, "dumb") == 0)
		return -1;
	if (env && *env && !*end && fd > 2 && fd < 1024)
		return isatty((int)fd) ? (int)fd : -1;
	return isatty(STDERR_FILENO) ? STDERR_FILENO : -1;
}

void cmd_output_init(enum cmd_verbosity v, enum cmd_color c)
{
	st.verbosity = v;
	st.color = c;
	st.owner = getpid();
	st.fd = v == CMD_NORMAL ? pick_fd() : -1;
	if (st.fd >= 0)
		atexit(cmd_status_stop);
}

/* ---- composing the line ---- */

static void human_bytes(struct stitch_buf *b, long long n)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		stitch_buf_addf(b, "%lld B", n);
	else
		stitch_buf_addf(b, "%.1f %s", v, unit[u]);
}

static void compose_downloads(struct stitch_buf *b, double now)
{
	long long got = 0, total = 0;
	bool known = true;
	double secs = now - st.dl_t0;

	for (size_t i = 0; i < st.dl.n; i++) {
		got += st.dl.v[i].bytes;
		total += st.dl.v[i].total;
		known &= st.dl.v[i].total >= 0;
	}
	stitch_buf_addf(b, "downloading %zu source%s: ", st.dl.n, st.dl.n == 1 ? "" : "s");
	human_bytes(b, got);
	if (known) {
		stitch_buf_adds(b, " of ");
		human_bytes(b, total);
	}
	if (secs > 0.2) {
		stitch_buf_adds(b, ", ");
		human_bytes(b, (long long)((double)got / secs));
		stitch_buf_adds(b, "/s");
	}
	for (size_t i = 0; i < st.dl.n; i++)
		stitch_buf_addf(b, "%s%s", i ? ", " : " (", st.dl.v[i].label);
	stitch_buf_adds(b, ")");
}

static void compose(struct stitch_buf *b, double now)
{
	if (st.run.n) {
		stitch_buf_addf(b, "building %zu of %zu: ", st.started,
		                st.planned > st.started ? st.planned : st.started);
		for (size_t i = 0; i < st.run.n; i++)
			stitch_buf_addf(b, "%s%s %.1f s", i ? ", " : "", st.run.v[i].label,
			                now - st.run.v[i].t0);
	} else if (st.linking) {
		stitch_buf_addf(b, "linking %s %.1f s", st.linking, now - st.link_t0);
	} else if (st.dl.n) {
		compose_downloads(b, now);
	}
}

/* ---- drawing (with st.mu held) ---- */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0)
			return; /* the terminal went away: nothing left to show */
		p += w;
		n -= (size_t)w;
	}
}

static size_t columns(void)
{
	struct winsize ws;

	if (ioctl(st.fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col;
	return 80;
}

static void erase_locked(void)
{
	char blank[LINE_MAX_BYTES + 2];
	size_t n = (size_t)shown;

	if (!n)
		return;
	blank[0] = '\r';
	memset(blank + 1, ' ', n);
	blank[n + 1] = '\r';
	write_all(st.fd, blank, n + 2);
	shown = 0;
}

static void draw_locked(void)
{
	struct stitch_buf text = STITCH_BUF_INIT, frame = STITCH_BUF_INIT;
	size_t width = columns() - 1, old = (size_t)shown;

	compose(&text, stitch_now());
	if (width > LINE_MAX_BYTES)
		width = LINE_MAX_BYTES;
	if (text.len > width)
		text.len = width; /* one line, never wrapped: it could not be erased */
	if (!text.len) {
		erase_locked();
	} else {
		stitch_buf_addch(&frame, '\r');
		stitch_buf_addf(&frame, "%.*s", (int)text.len, text.buf);
		/* Blank what the longer previous frame left, then come back. */
		for (size_t i = text.len; i < old; i++)
			stitch_buf_addch(&frame, ' ');
		for (size_t i = text.len; i < old; i++)
			stitch_buf_addch(&frame, '\b');
		write_all(st.fd, frame.buf, frame.len);
		shown = (sig_atomic_t)text.len;
	}
	stitch_buf_release(&text);
	stitch_buf_release(&frame);
}

static void *tick(void *unused)
{
	struct timespec ts = {0, REDRAW_NS};

	(void)unused;
	for (;;) {
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&st.mu);
		if (st.stopping) {
			pthread_mutex_unlock(&st.mu);
			return NULL;
		}
		draw_locked();
		pthread_mutex_unlock(&st.mu);
	}
}

/* A signal that kills stitch: erase the line, then what was there before runs. */
static void on_signal(int sig)
{
	char blank[LINE_MAX_BYTES + 2];
	size_t n = (size_t)shown;

	if (n) {
		blank[0] = '\r';
		memset(blank + 1, ' ', n);
		blank[n + 1] = '\r';
		write_all(st.fd, blank, n + 2);
	}
	sigaction(sig, sig == SIGINT ? &old_int : sig == SIGTERM ? &old_term : &old_hup, NULL);
	raise(sig);
}

/* The timer starts with the first event worth a line; it takes no signals. */
static void start_ticker(void)
{
	struct sigaction sa;
	sigset_t all, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	st.ticking = pthread_create(&st.ticker, NULL, tick, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- events ---- */

static struct entry *find(struct entries *e, const char *label)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(e->v[i].label, label) == 0)
			return &e->v[i];
	return NULL;
}

static struct entry *add(struct entries *e, const char *label)
{
	struct entry *x = find(e, label);

	if (x)
		return x;
	XGROW(e->v, e->cap, e->n + 1);
	x = &e->v[e->n++];
	memset(x, 0, sizeof(*x));
	x->label = xstrdup(label);
	return x;
}

static void drop(struct entries *e, const char *label)
{
	struct entry *x = find(e, label);

	if (!x)
		return;
	free(x->label);
	memmove(x, x + 1, (size_t)(e->v + e->n - (x + 1)) * sizeof(*x));
	e->n--;
}

static void drop_all(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].label);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static void take(const struct stitch_event *ev, const char *label)
{
	struct entry *x;
	char test_label[320];

	switch (ev->kind) {
	case STITCH_EV_PLAN:
		st.planned +=
		    ev->action == STITCH_ACTION_BUILD || ev->action == STITCH_ACTION_REBUILD;
		break;
	case STITCH_EV_DOWNLOAD:
		if (!st.dl.n)
			st.dl_t0 = stitch_now();
		x = add(&st.dl, label);
		x->bytes = ev->download.bytes;
		x->total = ev->download.total;
		break;
	case STITCH_EV_FETCH:
		drop_all(&st.dl);
		break;
	case STITCH_EV_START:
		st.started++;
		add(&st.run, label)->t0 = stitch_now();
		break;
	case STITCH_EV_DONE:
	case STITCH_EV_FAILED:
	case STITCH_EV_CACHED:
		drop(&st.run, label);
		break;
	case STITCH_EV_TEST_START:
		snprintf(test_label, sizeof(test_label), "%s (tests)", label);
		add(&st.run, test_label)->t0 = stitch_now();
		break;
	case STITCH_EV_TESTED:
		snprintf(test_label, sizeof(test_label), "%s (tests)", label);
		drop(&st.run, test_label);
		break;
	case STITCH_EV_LINK:
		free(st.linking);
		st.linking = xasprintf("%s (%s)", ev->name, ev->link.target);
		st.link_t0 = stitch_now();
		break;
	default:
		break;
	}
}

void cmd_status_event(const struct stitch_event *ev)
{
	char label[300];

	if (cmd_status_fd() < 0)
		return;
	snprintf(label, sizeof(label), "%s %s", ev->name ? ev->name : "",
	         ev->version ? ev->version : "");
	pthread_mutex_lock(&st.mu);
	take(ev, label);
	pthread_mutex_unlock(&st.mu);
	if (!st.ticking && (st.dl.n || st.run.n || st.linking))
		start_ticker();
}

void cmd_status_begin_line(void)
{
	if (cmd_status_fd() < 0)
		return;
	pthread_mutex_lock(&st.mu);
	erase_locked();
}

void cmd_status_end_line(void)
{
	if (cmd_status_fd() < 0)
		return;
	fflush(stdout);
	fflush(stderr);
	pthread_mutex_unlock(&st.mu);
}

void cmd_status_stop(void)
{
	if (cmd_status_fd() < 0)
		return;
	pthread_mutex_lock(&st.mu);
	st.stopping = true;
	erase_locked();
	pthread_mutex_unlock(&st.mu);
	if (st.ticking)
		pthread_join(st.ticker, NULL);
	st.ticking = false;
	st.fd = -1;
	drop_all(&st.dl);
	drop_all(&st.run);
	free(st.linking);
	st.linking = NULL;
}
