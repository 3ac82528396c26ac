/* libc_malloc.c: malloc and friends over one region (see libc.h for the policy). */
#include "libc.h"

#define MIN_CLASS 5 /* 32-byte blocks: the header and 16 bytes */
#define NCLASSES 48

/* Before each block, 16 bytes so that what malloc returns stays 16-byte aligned. */
struct header {
	uint64_t class;
	struct header *next_free; /* only while on a free list */
};

static uintptr_t heap_next, heap_end;
static struct header *free_lists[NCLASSES];

void plat_heap_init(void *base, size_t size)
{
	uintptr_t b = ((uintptr_t)base + 15) & ~(uintptr_t)15;

	heap_next = b;
	heap_end = (uintptr_t)base + size;
	for (int i = 0; i < NCLASSES; i++)
		free_lists[i] = NULL;
}

/* The smallest class whose blocks hold size bytes after the header; -1 if none. */
static int class_of(size_t size)
{
	int c = MIN_CLASS;

	if (size > ((size_t)1 << (NCLASSES - 1)) - sizeof(struct header))
		return -1;
	while (((size_t)1 << c) - sizeof(struct header) < size)
		c++;
	return c;
}

static struct header *take(int c)
{
	struct header *h = free_lists[c];
	size_t bytes = (size_t)1 << c;

	if (h) {
		free_lists[c] = h->next_free;
		return h;
	}
	if (heap_end - heap_next < bytes)
		return NULL;
	h = (struct header *)heap_next;
	heap_next += bytes;
	h->class = (uint64_t)c;
	return h;
}

void *LIBC(malloc)(size_t size)
{
	int c = class_of(size);
	struct header *h = c < 0 ? NULL : take(c);

	if (!h) {
		*LIBC(__errno_location)() = PLAT_ENOMEM;
		return NULL;
	}
	return h + 1;
}

void LIBC(free)(void *p)
{
	struct header *h;

	if (!p)
		return;
	h = (struct header *)p - 1;
	h->next_free = free_lists[h->class];
	free_lists[h->class] = h;
}

void *LIBC(calloc)(size_t n, size_t size)
{
	void *p;

	if (size && n > (size_t)-1 / size) {
		*LIBC(__errno_location)() = PLAT_ENOMEM;
		return NULL;
	}
	p = LIBC(malloc)(n * size);
	/* A block from a free list holds old data: clear it either way. */
	if (p)
		LIBC(memset)(p, 0, n * size);
	return p;
}

void *LIBC(realloc)(void *p, size_t size)
{
	struct header *h;
	size_t room;
	void *q;

	if (!p)
		return LIBC(malloc)(size);
	h = (struct header *)p - 1;
	room = ((size_t)1 << h->class) - sizeof(*h);
	if (size <= room)
		return p;
	q = LIBC(malloc)(size);
	if (!q)
		return NULL;
	LIBC(memcpy)(q, p, room);
	LIBC(free)(p);
	return q;
}
