/* fake_platform.c: see fake_platform.h. */
#include <stdlib.h>
#include <string.h>

#include "fake_platform.h"

struct fake_frame fake_out[FAKE_FRAMES];
size_t fake_out_n;
plat_time_t fake_now;
uint8_t fake_mac[6] = {0x02, 0x53, 0x00, 0x00, 0x00, 0x02};
int fake_has_net = 1;
plat_result_t fake_write_result = PLAT_R_OK;

static struct fake_frame in[FAKE_FRAMES];
static size_t in_head, in_tail;

void fake_reset(void)
{
	fake_out_n = 0;
	in_head = in_tail = 0;
	fake_has_net = 1;
	fake_write_result = PLAT_R_OK;
}

void fake_in_push(const void *frame, size_t len)
{
	if (in_tail == FAKE_FRAMES || len > sizeof(in[0].data))
		abort();
	memcpy(in[in_tail].data, frame, len);
	in[in_tail++].len = len;
}

size_t fake_in_pending(void)
{
	return in_tail - in_head;
}

void plat_console_write(const char *buf, size_t size)
{
	(void)buf;
	(void)size;
}

void plat_exit(int status)
{
	exit(status);
}

plat_time_t plat_clock_monotonic(void)
{
	return fake_now;
}

plat_time_t plat_clock_wall(void)
{
	return fake_now;
}

bool plat_yield(plat_time_t deadline)
{
	if (fake_in_pending())
		return true;
	if (deadline > fake_now)
		fake_now = deadline;
	return false;
}

plat_result_t plat_net_info(struct plat_net_info *info)
{
	if (!fake_has_net)
		return PLAT_R_EUNSPEC;
	memcpy(info->mac_address, fake_mac, 6);
	info->mtu = 1500;
	return PLAT_R_OK;
}

plat_result_t plat_net_write(const uint8_t *buf, size_t size)
{
	if (fake_write_result != PLAT_R_OK)
		return fake_write_result;
	if (size > 1514)
		return PLAT_R_EINVAL;
	if (fake_out_n == FAKE_FRAMES)
		abort();
	memcpy(fake_out[fake_out_n].data, buf, size);
	fake_out[fake_out_n++].len = size;
	return PLAT_R_OK;
}

plat_result_t plat_net_read(uint8_t *buf, size_t size, size_t *read_size)
{
	size_t n;

	if (in_head == in_tail) {
		in_head = in_tail = 0;
		return PLAT_R_AGAIN;
	}
	n = in[in_head].len < size ? in[in_head].len : size;
	memcpy(buf, in[in_head].data, n);
	*read_size = n;
	in_head++;
	return PLAT_R_OK;
}
