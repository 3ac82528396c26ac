/*
 * exceptions.c: the interrupt table.  The CPU's exceptions (a bad
 * pointer, a division by zero, an SSE fault) print their vector and
 * address and end the image the way a crash ends it anyway, by a reset
 * (QEMU exits 0 with -no-reboot), so a runner tells a crash from a
 * status.  The PIC's interrupts (see irq.c) only end a halt.
 */
#include "libc.h"
#include "platform_internal.h"

struct idt_entry {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type; /* present, ring 0, 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

#define NEXCEPTIONS 32
#define NIRQS 16 /* at vectors 32-47 */
#define CODE_SELECTOR 0x08 /* boot.S's GDT */
#define INTERRUPT_GATE 0x8e

extern const uint64_t plat_exception_entries[NEXCEPTIONS];
extern const uint64_t plat_irq_entries[NIRQS];
static struct idt_entry idt[NEXCEPTIONS + NIRQS] __attribute__((aligned(16)));

struct __attribute__((packed)) table_register {
	uint16_t limit;
	uint64_t base;
};

void plat_exceptions_init(void)
{
	struct table_register r = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

	for (int i = 0; i < NEXCEPTIONS + NIRQS; i++) {
		uint64_t a = i < NEXCEPTIONS ? plat_exception_entries[i]
		                             : plat_irq_entries[i - NEXCEPTIONS];

		idt[i] = (struct idt_entry){(uint16_t)a, CODE_SELECTOR, 0, INTERRUPT_GATE,
		                            (uint16_t)(a >> 16), (uint32_t)(a >> 32), 0};
	}
	__asm__ volatile("lidt %0" : : "m"(r));
}

/* boot.S's page table for the first 2 MiB. */
extern uint64_t plat_low_pt[512];

void plat_unmap_null_page(void)
{
	plat_low_pt[0] = 0;
	__asm__ volatile("invlpg (%0)" : : "r"(0) : "memory");
}

/* A triple fault: no exception table, then an exception. */
void plat_reset(void)
{
	static const struct table_register none = {0, 0};

	__asm__ volatile("lidt %0; int3" : : "m"(none));
	for (;;)
		__asm__ volatile("cli; hlt");
}

void plat_crash(uint64_t vector, uint64_t error, uint64_t rip)
{
	char line[128];
	int n = snprintf(line, sizeof(line),
	                 "platform-virtio: crash: exception %llu (error %#llx) at %#llx\n",
	                 (unsigned long long)vector, (unsigned long long)error,
	                 (unsigned long long)rip);

	plat_console_write(line, (size_t)n);
	plat_reset();
	__builtin_unreachable();
}
