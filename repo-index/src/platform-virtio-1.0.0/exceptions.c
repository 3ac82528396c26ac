/*
 * exceptions.c: the interrupt table.  The CPU's exceptions (a bad
 * pointer, a division by zero, an SSE fault) print their vector and
 * address and end the image the way a crash ends it anyway, by a reset
 * (QEMU exits 0 with -no-reboot), so a runner tells a crash from a
 * status.  A page fault and a double fault run on a stack of their own
 * (the TSS's IST 1), so that a stack overflow still gets told.  The PIC's
 * interrupts (see irq.c) only end a halt.
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
#define TSS_SELECTOR 0x18
#define TSS_AVAILABLE 0x89
#define DOUBLE_FAULT 8
#define PAGE_FAULT 14

extern const uint64_t plat_exception_entries[NEXCEPTIONS];
extern const uint64_t plat_irq_entries[NIRQS];
static struct idt_entry idt[NEXCEPTIONS + NIRQS] __attribute__((aligned(16)));

struct __attribute__((packed)) table_register {
	uint16_t limit;
	uint64_t base;
};

/* The 64-bit task state segment: only its interrupt stacks are used. */
struct __attribute__((packed)) tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

static struct tss tss;
static uint8_t fault_stack[16384] __attribute__((aligned(16)));
extern uint64_t plat_gdt_tss[2]; /* boot.S's GDT, at TSS_SELECTOR */

static void tss_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss, limit = sizeof(tss) - 1;

	tss.ist[0] = (uint64_t)(uintptr_t)(fault_stack + sizeof(fault_stack));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 0 needs none */
	plat_gdt_tss[0] = (limit & 0xffff) | (base & 0xffffff) << 16 |
	                  (uint64_t)TSS_AVAILABLE << 40 | (limit >> 16 & 0xf) << 48 |
	                  (base >> 24 & 0xff) << 56;
	plat_gdt_tss[1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(TSS_SELECTOR));
}

void plat_exceptions_init(void)
{
	struct table_register r = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

	tss_init();
	for (int i = 0; i < NEXCEPTIONS + NIRQS; i++) {
		uint64_t a =
		    i < NEXCEPTIONS ? plat_exception_entries[i] : plat_irq_entries[i - NEXCEPTIONS];

		idt[i] = (struct idt_entry){
		    .offset_low = (uint16_t)a,
		    .selector = CODE_SELECTOR,
		    .ist = i == DOUBLE_FAULT || i == PAGE_FAULT,
		    .type = INTERRUPT_GATE,
		    .offset_mid = (uint16_t)(a >> 16),
		    .offset_high = (uint32_t)(a >> 32),
		};
	}
	__asm__ volatile("lidt %0" : : "m"(r));
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
	int n = snprintf(
	    line, sizeof(line), "platform-virtio: crash: exception %llu (error %#llx) at %#llx\n",
	    (unsigned long long)vector, (unsigned long long)error, (unsigned long long)rip);

	plat_console_write(line, (size_t)n);
	plat_reset();
	__builtin_unreachable();
}
