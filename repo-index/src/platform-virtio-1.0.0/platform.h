/*
 * platform.h: the platform contract of the stitch network stack.
 *
 * A renamed subset of Solo5's solo5.h with a single network device, so
 * that other platforms (a seccomp-sandboxed "spt", a Solo5 shim) can
 * implement the same contract without touching the stack.  Everything is
 * single-threaded and cooperative: plat_yield is the only call that waits.
 */
#ifndef PLATFORM_H
#define PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t plat_time_t; /* nanoseconds */

typedef enum { PLAT_R_OK = 0, PLAT_R_AGAIN, PLAT_R_EINVAL, PLAT_R_EUNSPEC } plat_result_t;

struct plat_start_info {
	const char *cmdline; /* the image's arguments after the platform's own, space-joined */
};

/* Defined by the application: its entry point. Its return value is the exit status. */
int plat_app_main(const struct plat_start_info *si);

/* Write size bytes to the console (standard output), unbuffered. */
void plat_console_write(const char *buf, size_t size);
/* End the image with status. */
void plat_exit(int status) __attribute__((noreturn));
plat_time_t plat_clock_monotonic(void);
plat_time_t plat_clock_wall(void); /* since the Unix epoch */

/*
 * Sleep until the network device has a frame to read or the monotonic
 * clock reaches deadline, whichever comes first.  Returns true when a frame
 * is ready.  The only call that waits.  A deadline of UINT64_MAX waits for
 * a frame only.
 */
bool plat_yield(plat_time_t deadline);

struct plat_net_info {
	uint8_t mac_address[6];
	size_t mtu; /* payload bytes, 1500 */
};

/* The device's MAC address and MTU.  PLAT_R_EUNSPEC when there is no device. */
plat_result_t plat_net_info(struct plat_net_info *info);
/*
 * Write one whole ethernet frame (header included, no FCS).  PLAT_R_EINVAL
 * when size is larger than the MTU plus the 14-byte header, PLAT_R_AGAIN
 * when the device cannot take it now, PLAT_R_EUNSPEC on other failures.
 */
plat_result_t plat_net_write(const uint8_t *buf, size_t size);
/*
 * Read one whole frame into buf; *read_size is its length.  PLAT_R_AGAIN
 * when none is waiting.  A frame longer than size is cut to size.
 */
plat_result_t plat_net_read(uint8_t *buf, size_t size, size_t *read_size);

#endif
