/*
 * boot.S: the first instructions of a virtio image.
 *
 * QEMU loads an ELF64 -kernel through PVH: it reads the Xen note below,
 * puts the image at its physical addresses and jumps to pvh_start32 in
 * 32-bit protected mode, paging off, %ebx pointing at struct
 * hvm_start_info.  From there: zero .bss (it holds the page tables and
 * the stack), identity-map the first 4 GiB with 2 MiB pages (memory.c
 * later takes page 0 and the page below the stack away), enter long
 * mode, enable SSE (the stack is compiled by the host gcc, which uses it)
 * and call plat_boot(start_info) in C.  Interrupts stay off but inside
 * plat_halt (below), where they only end the wait.
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

/*
 * The CPU's exceptions (vectors 0-31), all to plat_crash(vector, error,
 * rip).  The CPU pushes an error code for some vectors only; the others
 * push a zero so that the frame has one shape.
 */
	.macro exception vec, has_error
	.balign 16
exception_\vec:
	.if !\has_error
	push $0
	.endif
	push $\vec
	jmp exception_common
	.endm

	.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	exception \v, 0
	.endr
	.irp v, 8,10,11,12,13,14,17,21,29,30
	exception \v, 1
	.endr

exception_common:
	mov 0(%rsp), %rdi
	mov 8(%rsp), %rsi
	mov 16(%rsp), %rdx
	and $-16, %rsp
	call plat_crash
4:	cli
	hlt
	jmp 4b

/*
 * The PIC's interrupts (vectors 32-47).  They can only arrive inside
 * plat_halt, the one place interrupts are on, so they need no more than
 * to quiet their source and end the halt: the timer needs nothing, the
 * network device's line drops when its ISR register is read.  Only %rax
 * and %rdx are used, and saved.
 */
	.macro irq num
	.balign 16
irq_\num:
	push %rax
	push %rdx
	mov $\num, %eax
	jmp irq_common
	.endm

	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	irq \n
	.endr

irq_common:
	cmp plat_nic_irq(%rip), %eax
	jne 6f
	movzwl plat_nic_isr_port(%rip), %edx
	push %rax
	in (%dx), %al
	pop %rax
6:	mov %eax, %edx
	mov $0x20, %al /* end of interrupt */
	cmp $8, %edx
	jb 7f
	out %al, $0xa0
7:	out %al, $0x20
	pop %rdx
	pop %rax
	iretq

/*
 * Wait for an interrupt.  sti takes effect after the next instruction,
 * so one that became pending before it still ends the hlt: no wake-up is
 * lost between a caller's last check and the halt.  An asm function
 * because the CPU's interrupt frame lands below %rsp, in a leaf
 * function's red zone; a caller of this one keeps nothing there.
 */
	.globl plat_halt
plat_halt:
	sti
	hlt
	cli
	ret

	.section .rodata
	.balign 8
	.globl plat_irq_entries
plat_irq_entries:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.quad irq_\n
	.endr

	.globl plat_exception_entries
plat_exception_entries:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exception_\v
	.endr

	/* In .data: exceptions.c fills in the TSS, and ltr marks it busy. */
	.section .data
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff /* 0x10: data */
	.globl plat_gdt_tss
plat_gdt_tss:
	.quad 0, 0 /* 0x18: the TSS, a 16-byte descriptor */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.quad gdt

	.section .bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
	.globl plat_pd
plat_pd:
pd:	.skip 4 * 4096
	/* Unmapped by memory.c: an overflow faults instead of eating the page tables. */
	.globl plat_stack_guard
plat_stack_guard:
	.skip 4096
	.skip STACK_SIZE
stack_top:

	.section .note.GNU-stack, "", @progbits
