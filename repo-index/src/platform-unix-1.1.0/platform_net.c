/* platform_net.c: the network device (a Linux tap) and the wait for it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_tun.h>

#include "platform_internal.h"

static int net_fd = -1;
static uint8_t net_mac[6];

int plat_tap_open(const char *name, char *err, size_t errsize)
{
	struct ifreq ifr;
	int fd;

	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errsize, "cannot open tap '%s': name too long", name);
		return -1;
	}
	/* TUNSETIFF would create a missing device when run as root: refuse instead. */
	if (if_nametoindex(name) == 0) {
		snprintf(err, errsize,
		         "cannot open tap '%s': no such device (create it with "
		         "'ip tuntap add dev %s mode tap')",
		         name, name);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsize, "cannot open tap '%s': /dev/net/tun: %s", name,
		         strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errsize, "cannot open tap '%s': %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void plat_net_attach(int fd, const uint8_t mac[6])
{
	net_fd = fd;
	memcpy(net_mac, mac, 6);
}

plat_result_t plat_net_info(struct plat_net_info *info)
{
	if (net_fd < 0)
		return PLAT_R_EUNSPEC;
	memcpy(info->mac_address, net_mac, 6);
	info->mtu = PLAT_MTU;
	return PLAT_R_OK;
}

plat_result_t plat_net_write(const uint8_t *buf, size_t size)
{
	ssize_t n;

	if (net_fd < 0)
		return PLAT_R_EUNSPEC;
	if (size > PLAT_MTU + 14)
		return PLAT_R_EINVAL;
	do
		n = write(net_fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return PLAT_R_AGAIN;
	return n == (ssize_t)size ? PLAT_R_OK : PLAT_R_EUNSPEC;
}

plat_result_t plat_net_read(uint8_t *buf, size_t size, size_t *read_size)
{
	ssize_t n;

	*read_size = 0;
	if (net_fd < 0)
		return PLAT_R_EUNSPEC;
	do
		n = read(net_fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? PLAT_R_AGAIN : PLAT_R_EUNSPEC;
	*read_size = (size_t)n;
	return PLAT_R_OK;
}

bool plat_yield(plat_time_t deadline)
{
	struct pollfd pfd = {.fd = net_fd, .events = POLLIN};

	for (;;) {
		plat_time_t now = plat_clock_monotonic();
		struct timespec ts = {0, 0}, *tsp = &ts;
		int r;

		if (deadline == UINT64_MAX)
			tsp = NULL;
		else if (deadline > now) {
			ts.tv_sec = (time_t)((deadline - now) / 1000000000u);
			ts.tv_nsec = (long)((deadline - now) % 1000000000u);
		}
		r = ppoll(&pfd, 1, tsp, NULL);
		if (r > 0)
			return (pfd.revents & POLLIN) != 0;
		/* A signal's handler ran: wait again for what is left. */
		if (r < 0 && errno == EINTR)
			continue;
		return false;
	}
}
