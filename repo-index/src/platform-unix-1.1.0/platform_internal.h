/*
 * platform_internal.h: the pieces of the unix platform that main() glues
 * together, split out so that the unit tests can drive them without a tap
 * device or root.  Not installed.
 */
#ifndef PLATFORM_INTERNAL_H
#define PLATFORM_INTERNAL_H

#include "platform.h"

#define PLAT_MTU 1500
#define PLAT_EXIT_USAGE 2

struct plat_args {
	const char *net; /* --net=TAP; NULL when missing */
	uint8_t mac[6]; /* --mac=, or derived from the tap name */
	char *cmdline; /* everything else, space-joined; owned, never NULL after parse */
};

/*
 * Take the platform's options (--net=TAP, --mac=XX:XX:XX:XX:XX:XX) out of
 * argv[1..argc-1]; the rest, and everything after "--", becomes cmdline.
 * 0, or -1 with a one-line message in err (no --net, a bad --mac, out of
 * memory).  Release with plat_args_release even after a failure.
 */
int plat_args_parse(int argc, char *const argv[], struct plat_args *a, char *err, size_t errsize);
void plat_args_release(struct plat_args *a);

/* "02:00:5e:10:00:01" (hex, either case) into mac.  0 or -1. */
int plat_mac_parse(const char *s, uint8_t mac[6]);
/* A locally administered unicast address derived from name (stable across runs). */
void plat_mac_from_name(const char *name, uint8_t mac[6]);

/*
 * Attach to the existing tap device name through /dev/net/tun (IFF_TAP |
 * IFF_NO_PI), non-blocking.  The fd, or -1 with a message in err.  Never
 * creates a device: a missing one is an error.
 */
int plat_tap_open(const char *name, char *err, size_t errsize);

/*
 * Make fd (a tap, or any descriptor that reads and writes whole frames,
 * such as a datagram socket in the tests) the network device.  fd < 0
 * means no device.
 */
void plat_net_attach(int fd, const uint8_t mac[6]);

#endif
