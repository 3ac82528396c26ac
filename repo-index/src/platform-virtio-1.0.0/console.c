/* console.c: the console on the first serial port (COM1), polled. */
#include "io.h"
#include "platform_internal.h"

#define COM1 0x3f8
#define LSR_THR_EMPTY 0x20

void plat_console_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts: we poll */
	outb(COM1 + 3, 0x80); /* DLAB, to set the divisor */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFOs on and cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

/* Bytes go out as they are (no \n to \r\n): the console reads like unix's stdout. */
void plat_console_write(const char *buf, size_t size)
{
	while (size--) {
		while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
			cpu_relax();
		outb(COM1, (uint8_t)*buf++);
	}
}
