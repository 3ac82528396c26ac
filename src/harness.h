/*
 * The test harness for images: a network namespace with a tap device in it,
 * the image started on that tap and known to be ready, commands run inside
 * the namespace, and every frame on the tap captured to a pcap file.
 *
 * The namespace is held by a file descriptor (no name under /run/netns, no
 * process kept alive): as root a plain network namespace; as another user a
 * user namespace that maps the user to root, with a network namespace in
 * it, when the kernel allows that.  Another process joins it through
 * /proc/PID/fd/N (stitch_harness_join), which is how `stitch watch --test`
 * keeps one namespace and tap up while each `stitch test` restarts only
 * the image.
 *
 * Addresses: the tap is STITCH_HARNESS_HOST (10.0.0.1/24) inside the
 * namespace, the image STITCH_HARNESS_ADDR (10.0.0.2/24).  Nothing the
 * image sends can leave the namespace.
 */
#ifndef STITCH_HARNESS_H
#define STITCH_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

#define STITCH_HARNESS_TAP "tap0"
#define STITCH_HARNESS_HOST "10.0.0.1"
#define STITCH_HARNESS_ADDR "10.0.0.2"
#define STITCH_HARNESS_PREFIX "24"

struct stitch_harness {
	int user_fd; /* the user namespace to enter first, or -1 */
	int net_fd; /* the network namespace, or -1: commands run where stitch is */
	char *netns; /* a path another process can open to join: /proc/PID/fd/N */
	bool denied; /* set when opening failed for want of privilege */
	pid_t image; /* the running image, or 0 */
	pid_t capture; /* the running tcpdump, or 0 */
	int capture_err; /* tcpdump's stderr, read to know it captures */
};

#define STITCH_HARNESS_INIT                   \
	{                                     \
		-1, -1, NULL, false, 0, 0, -1 \
	}

/*
 * Make a fresh namespace with the tap up and addressed (ip -batch).  On
 * failure h->denied tells whether it was for want of privilege (the kernel
 * refused a user namespace, or /dev/net/tun cannot be opened): callers
 * report that as skipped, anything else as an error.  STITCH_E_IO.
 */
int stitch_harness_open(struct stitch_harness *h, struct stitch_err *err);

/*
 * Use the namespace at path (a /proc/PID/fd/N from another harness, or
 * /run/netns/NAME), entering its owning user namespace too when that is
 * not stitch's own.  STITCH_E_IO when it cannot be opened.
 */
int stitch_harness_join(struct stitch_harness *h, const char *path, struct stitch_err *err);

/*
 * Start tcpdump on tap inside the namespace, writing every frame to pcap,
 * and return once it says it is capturing (so that no frame of what runs
 * next is missed).  STITCH_E_NOTFOUND when tcpdump is not installed,
 * STITCH_E_IO when it cannot capture (its message is the cause).
 */
int stitch_harness_capture_start(struct stitch_harness *h, const char *tap, const char *pcap,
                                 struct stitch_err *err);
/* Stop tcpdump (it flushes every frame first); nothing when none runs. */
void stitch_harness_capture_stop(struct stitch_harness *h);

/*
 * Start image inside the namespace with argv (NULL-terminated: its target's
 * command, which names the image or a runner such as QEMU that loads it),
 * its console (stdout and stderr) written to log, and wait until it is
 * ready: it has written its first line there.  Never sleeps for a fixed
 * time; gives up after timeout_ms.  STITCH_E_BUILD when the image exits
 * or stays silent (the log holds what it said), STITCH_E_IO when it cannot
 * be started.
 */
int stitch_harness_image_start(struct stitch_harness *h, const char *image, char *const *argv,
                               const char *log, int timeout_ms, struct stitch_err *err);

/*
 * Stop the image with SIGTERM (SIGKILL after timeout_ms) and return its
 * wait status; 0 when none runs.  *killed is set when SIGTERM was not
 * enough.
 */
int stitch_harness_image_stop(struct stitch_harness *h, int timeout_ms, bool *killed);

/*
 * Fork a process that enters the namespace, moves to dir (unless NULL)
 * and execs argv (PATH looked up); env (NULL-terminated "NAME=VALUE", or
 * NULL) is added to its environment, and stdout_fd (unless -1) becomes its
 * stdout.  Returns the pid, or -1 with errno set.
 */
pid_t stitch_harness_spawn(const struct stitch_harness *h, char *const *argv, const char *dir,
                           char *const *env, int stdout_fd);

/* Stop what still runs and close the namespace (it goes when no one holds it). */
void stitch_harness_close(struct stitch_harness *h);

#endif
