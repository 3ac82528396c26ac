/*
 * boot.S: the first instructions of a virtio image.
 *
 * QEMU loads an ELF64 -kernel through PVH: it reads the Xen note below,
 * puts the image at its physical addresses and jumps to pvh_start32 in
 * 32-bit protected mode, paging off, %ebx pointing at struct
 * hvm_start_info.  From there: zero .bss (it holds the page tables and
 * the stack), identity-map the first 4 GiB with 2 MiB pages, enter long
 * mode, enable SSE (the stack is compiled by the host gcc, which uses it)
 * and call plat_boot(start_info) in C.  Interrupts stay off for good: the
 * platform polls.
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_NE (1 << 5)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define PTE_P_RW 0x03
#define PDE_2M 0x83 /* present, writable, 2 MiB page */
#define STACK_SIZE (256 * 1024)

/*
 * 4-byte alignment matters: QEMU finds the descriptor by rounding the
 * name's size up to the note segment's alignment.  The address is a quad,
 * as Linux writes it; QEMU reads it little-endian either way.
 */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4, 8, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_start32

	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cld
	mov %ebx, %esi /* start info: rep stos leaves %esi alone */

	mov $__bss_start, %edi
	mov $_end, %ecx
	sub %edi, %ecx
	xor %eax, %eax
	rep stosb

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	mov $pdpt + PTE_P_RW, %eax
	mov %eax, pml4
	mov $pd + PTE_P_RW, %eax
	mov $pdpt, %edi
	mov $4, %ecx
1:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 1b

	mov $PDE_2M, %eax
	mov $pd, %edi
	mov $2048, %ecx
2:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 2b

	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	and $~(CR0_EM | CR0_TS), %eax
	or $(CR0_PG | CR0_PE | CR0_MP | CR0_NE), %eax
	mov %eax, %cr0

	lgdt gdt_desc
	ljmp $0x08, $start64

	.code64
start64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %eax, %fs
	mov %eax, %gs
	mov $stack_top, %rsp
	fninit
	mov %esi, %edi /* zero-extends: the start info is below 4 GiB */
	call plat_boot
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff /* 0x10: data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4 * 4096
	.balign 16
	.skip STACK_SIZE
stack_top:

	.section .note.GNU-stack, "", @progbits
