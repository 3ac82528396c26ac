/*
 * test_platform.c: the unix platform without a tap device: the command
 * line, MAC addresses, clocks, the console, and the network device played
 * by a datagram socket pair (it keeps frame boundaries, as a tap does).
 */
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "../platform_internal.h"

#define MS 1000000ull

/* The library leaves plat_app_main to the application; main() is not linked here. */
int plat_app_main(const struct plat_start_info *si)
{
	(void)si;
	return 0;
}

static int parse(int argc, char *const argv[], struct plat_args *a, char *err)
{
	return plat_args_parse(argc, argv, a, err, 256);
}

static void test_args(void)
{
	struct plat_args a;
	char err[256];
	char *none[] = {"img"};
	char *mixed[] = {"img", "--ipv4=10.0.0.2/24", "--net=tap0", "--ipv4-gateway=10.0.0.1"};
	char *dashdash[] = {"img", "--net=tap1", "--", "--net=other", "x"};
	char *mac[] = {"img", "--mac=02:AB:cd:00:11:ff", "--net=tap0"};
	char *emptynet[] = {"img", "--net="};

	CHECK(parse(1, none, &a, err) == -1);
	CHECK(strstr(err, "--net=TAP") != NULL);
	plat_args_release(&a);
	CHECK(parse(2, emptynet, &a, err) == -1);
	plat_args_release(&a);

	CHECK(parse(4, mixed, &a, err) == 0);
	CHECK(strcmp(a.net, "tap0") == 0);
	CHECK(strcmp(a.cmdline, "--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1") == 0);
	plat_args_release(&a);

	CHECK(parse(5, dashdash, &a, err) == 0);
	CHECK(strcmp(a.net, "tap1") == 0);
	CHECK(strcmp(a.cmdline, "--net=other x") == 0);
	plat_args_release(&a);

	CHECK(parse(3, mac, &a, err) == 0);
	CHECK(memcmp(a.mac, "\x02\xab\xcd\x00\x11\xff", 6) == 0);
	CHECK(strcmp(a.cmdline, "") == 0);
	plat_args_release(&a);
}

static void test_bad_mac(void)
{
	const char *bad[] = {"02:ab:cd:00:11",    "02:ab:cd:00:11:ff:", "02-ab-cd-00-11-ff",
	                     "0g:ab:cd:00:11:ff", "2:ab:cd:00:11:ff",   ""};
	char *multicast[] = {"img", "--net=tap0", "--mac=01:00:5e:00:00:01"};
	struct plat_args a;
	uint8_t m[6];
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(plat_mac_parse(bad[i], m) == -1);
	CHECK(parse(3, multicast, &a, err) == -1);
	CHECK(strstr(err, "--mac") != NULL);
	plat_args_release(&a);
}

static void test_default_mac(void)
{
	uint8_t a[6], b[6], c[6];

	plat_mac_from_name("tap0", a);
	plat_mac_from_name("tap0", b);
	plat_mac_from_name("tap1", c);
	CHECK(memcmp(a, b, 6) == 0);
	CHECK(memcmp(a, c, 6) != 0);
	CHECK((a[0] & 0x01) == 0); /* unicast */
	CHECK((a[0] & 0x02) != 0); /* locally administered */
}

static void test_clocks(void)
{
	plat_time_t t0 = plat_clock_monotonic(), t1;
	struct timespec ts = {0, 10 * MS};

	nanosleep(&ts, NULL);
	t1 = plat_clock_monotonic();
	CHECK(t1 - t0 >= 10 * MS);
	CHECK(t1 - t0 < 1000 * MS);
	/* 2020-01-01 and 2200-01-01: the wall clock is in nanoseconds since the epoch. */
	CHECK(plat_clock_wall() > 1577836800ull * 1000000000ull);
	CHECK(plat_clock_wall() < 7258118400ull * 1000000000ull);
}

static void test_console(void)
{
	int p[2], saved = dup(STDOUT_FILENO);
	char buf[16] = {0};

	fflush(stdout);
	CHECK(pipe(p) == 0);
	dup2(p[1], STDOUT_FILENO);
	plat_console_write("hello\n", 6);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(p[1]);
	CHECK(read(p[0], buf, sizeof(buf)) == 6);
	CHECK(memcmp(buf, "hello\n", 6) == 0);
	close(p[0]);
}

static void test_no_device(void)
{
	struct plat_net_info info;
	uint8_t buf[64];
	size_t n;
	plat_time_t t0 = plat_clock_monotonic();

	CHECK(plat_net_info(&info) == PLAT_R_EUNSPEC);
	CHECK(plat_net_read(buf, sizeof(buf), &n) == PLAT_R_EUNSPEC);
	CHECK(plat_net_write(buf, sizeof(buf)) == PLAT_R_EUNSPEC);
	/* Without a device, yield is a precise sleep. */
	CHECK(plat_yield(t0 + 20 * MS) == false);
	CHECK(plat_clock_monotonic() - t0 >= 20 * MS);
	t0 = plat_clock_monotonic();
	CHECK(plat_yield(t0 - 1) == false);
	CHECK(plat_clock_monotonic() - t0 < 100 * MS);
}

static void test_device(void)
{
	const uint8_t mac[6] = {2, 0, 0, 0, 0, 7};
	struct plat_net_info info;
	uint8_t frame[1600], got[1600];
	size_t n;
	int sv[2];
	plat_time_t t0;

	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	plat_net_attach(sv[0], mac);
	CHECK(plat_net_info(&info) == PLAT_R_OK);
	CHECK(memcmp(info.mac_address, mac, 6) == 0 && info.mtu == 1500);
	CHECK(plat_net_read(got, sizeof(got), &n) == PLAT_R_AGAIN);

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	CHECK(plat_net_write(frame, 1514) == PLAT_R_OK);
	CHECK(recv(sv[1], got, sizeof(got), 0) == 1514 && memcmp(got, frame, 1514) == 0);
	CHECK(plat_net_write(frame, 1515) == PLAT_R_EINVAL);

	t0 = plat_clock_monotonic();
	CHECK(plat_yield(t0 + 30 * MS) == false);
	CHECK(plat_clock_monotonic() - t0 >= 30 * MS);
	CHECK(send(sv[1], frame, 42, 0) == 42);
	t0 = plat_clock_monotonic();
	CHECK(plat_yield(t0 + 5000 * MS) == true);
	CHECK(plat_clock_monotonic() - t0 < 1000 * MS);
	CHECK(plat_net_read(got, sizeof(got), &n) == PLAT_R_OK && n == 42);
	CHECK(memcmp(got, frame, 42) == 0);
	CHECK(plat_net_read(got, sizeof(got), &n) == PLAT_R_AGAIN);
	plat_net_attach(-1, mac);
	close(sv[0]);
	close(sv[1]);
}

static void test_tap_open_errors(void)
{
	char err[256];

	CHECK(plat_tap_open("a-name-longer-than-ifnamsiz", err, sizeof(err)) == -1);
	CHECK(strstr(err, "too long") != NULL);
	/* Even as root, a missing device is an error and is not created. */
	CHECK(plat_tap_open("stitchnotap9", err, sizeof(err)) == -1);
	CHECK(strstr(err, "no such device") != NULL);
	CHECK(if_nametoindex("stitchnotap9") == 0);
}

int main(void)
{
	test_args();
	test_bad_mac();
	test_default_mac();
	test_clocks();
	test_console();
	test_no_device();
	test_device();
	test_tap_open_errors();
	return check_done("platform-unix");
}
