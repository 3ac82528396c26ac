/*
 * irq.c: waiting without spinning.  plat_yield halts the CPU until the
 * network device or a one-shot of the PIT's channel 0 interrupts it, so
 * an idle image costs its host next to nothing.  Interrupts are on only
 * inside plat_halt; the handlers (boot.S) just quiet their source.
 */
#include "io.h"
#include "platform_internal.h"

#define PIC1 0x20
#define PIC2 0xa0
#define IRQ_BASE 32 /* past the CPU's exceptions */
#define PIT_HZ 1193182u
#define PIT_MAX_COUNT 0xffffu /* about 55 ms */

/* Read by boot.S's handler: the device's line and the port that quiets it. */
int32_t plat_nic_irq = -1;
uint16_t plat_nic_isr_port;

static uint16_t masks = 0xffff & ~(1u << 2); /* all off but the cascade */

static void write_masks(void)
{
	outb(PIC1 + 1, (uint8_t)masks);
	outb(PIC2 + 1, (uint8_t)(masks >> 8));
}

/* Both PICs at vectors 32-47, everything masked: the BIOS left them at 8 and 0x70. */
void plat_irq_init(void)
{
	outb(PIC1, 0x11); /* ICW1: initialise, ICW4 follows */
	outb(PIC2, 0x11);
	outb(PIC1 + 1, IRQ_BASE);
	outb(PIC2 + 1, IRQ_BASE + 8);
	outb(PIC1 + 1, 4); /* the slave on line 2 */
	outb(PIC2 + 1, 2);
	outb(PIC1 + 1, 1); /* 8086 mode */
	outb(PIC2 + 1, 1);
	masks |= 1u << 0; /* the timer waits for plat_wait */
	write_masks();
}

void plat_irq_enable(int irq)
{
	masks &= (uint16_t) ~(1u << irq);
	write_masks();
}

/* Halt until an interrupt, at most ns from now (and at most 55 ms). */
void plat_wait(plat_time_t ns)
{
	uint64_t count = PIT_MAX_COUNT;

	/* Beyond 55 ms (or UINT64_MAX, no deadline) the product would overflow. */
	if (ns < 55000000u)
		count = ns * PIT_HZ / 1000000000u + 1;
	if (count > PIT_MAX_COUNT)
		count = PIT_MAX_COUNT;
	outb(0x43, 0x30); /* channel 0, lo/hi byte, mode 0: one interrupt at zero */
	outb(0x40, (uint8_t)count);
	outb(0x40, (uint8_t)(count >> 8));
	if (masks & 1u) {
		masks &= (uint16_t)~1u;
		write_masks();
	}
	plat_halt();
}
