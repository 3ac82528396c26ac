/*
 * memory.c: holes in the identity map.  boot.S maps the first 4 GiB with
 * 2 MiB pages; a page taken away here splits its 2 MiB page into a table
 * of 4 KiB ones first.  Two such tables: page 0 (so that a NULL pointer
 * faults) and the guard page below the stack.
 */
#include "platform_internal.h"

#define PTE_P_RW 0x03
#define PDE_LARGE 0x80
#define PAGE 4096u
#define LARGE_PAGE 0x200000u

extern uint64_t plat_pd[2048]; /* boot.S: the four page directories */

static uint64_t tables[2][512] __attribute__((aligned(PAGE)));
static int tables_used;

/* The 4 KiB page table covering addr; NULL when no table is left. */
static uint64_t *table_for(uintptr_t addr)
{
	uint64_t *pde = &plat_pd[addr / LARGE_PAGE];
	uint64_t base = addr & ~(uint64_t)(LARGE_PAGE - 1), *t;

	if (!(*pde & PDE_LARGE))
		return (uint64_t *)(uintptr_t)(*pde & ~(uint64_t)(PAGE - 1));
	if (tables_used == 2)
		return NULL;
	t = tables[tables_used++];
	for (int i = 0; i < 512; i++)
		t[i] = (base + (uint64_t)i * PAGE) | PTE_P_RW;
	*pde = (uint64_t)(uintptr_t)t | PTE_P_RW;
	return t;
}

void plat_unmap_page(uintptr_t addr)
{
	uint64_t *t = table_for(addr);
	uint64_t cr3;

	if (!t)
		return;
	t[addr / PAGE % 512] = 0;
	/* Reloading CR3 drops the old 2 MiB translation as well as the page's. */
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3) : : "memory");
}
