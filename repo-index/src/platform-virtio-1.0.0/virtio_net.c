/*
 * virtio_net.c: the network device, a legacy (virtio 0.9.5) virtio-net
 * PCI device.
 *
 * QEMU's pc machine makes virtio-net-pci a transitional device, so the
 * legacy interface in I/O space BAR 0 is there and needs no MMIO mapping.
 * Two queues: 0 receives, 1 transmits.  Each descriptor owns one buffer
 * for good (descriptor i, buffer i), holding the 10-byte virtio-net header
 * and the frame together (VIRTIO_F_ANY_LAYOUT).  The receive queue
 * interrupts (on the PCI line the BIOS chose), only to end plat_yield's
 * halt; the transmit queue is asked not to.
 */
#include "io.h"
#include "libc.h"
#include "pci.h"
#include "platform_internal.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_NET_LEGACY_ID 0x1000
#define VIRTIO_NET_MODERN_ID 0x1041

/* Legacy registers, offsets in BAR 0 (no MSI-X, so the device config is at 0x14). */
#define VIO_HOST_FEATURES 0x00
#define VIO_GUEST_FEATURES 0x04
#define VIO_QUEUE_PFN 0x08
#define VIO_QUEUE_SIZE 0x0c
#define VIO_QUEUE_SELECT 0x0e
#define VIO_QUEUE_NOTIFY 0x10
#define VIO_STATUS 0x12
#define VIO_ISR 0x13
#define VIO_CONFIG 0x14

#define STATUS_ACK 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define F_NET_MAC (1u << 5)
#define F_ANY_LAYOUT (1u << 27)

#define DESC_F_WRITE 2
#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

#define NET_HDR_SIZE 10 /* without mergeable receive buffers */
#define BUF_SIZE 2048 /* a header and a 1514-byte frame, rounded up */
#define PAGE 4096u

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

struct vq {
	uint16_t index; /* 0 receive, 1 transmit */
	uint16_t num; /* entries, fixed by the device */
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t avail_idx; /* our copy of avail->idx */
	uint16_t last_used; /* the next used entry to consume */
	uint8_t *bufs; /* num buffers of BUF_SIZE */
};

static uint16_t io_base;
static bool net_up;
static uint8_t net_mac[6];
static struct vq rxq, txq;

/* The device reads and writes the rings behind the compiler's back. */
static void barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Memory that is never freed, page-aligned as the legacy ring layout needs. */
static void *alloc_pages(size_t size)
{
	uint8_t *p = malloc(size + PAGE);

	if (!p)
		return NULL;
	p = (uint8_t *)(((uintptr_t)p + PAGE - 1) & ~(uintptr_t)(PAGE - 1));
	memset(p, 0, size);
	return p;
}

static size_t align_page(size_t n)
{
	return (n + PAGE - 1) & ~(size_t)(PAGE - 1);
}

/* Lay out queue q as legacy virtio fixes it and give its address to the device. */
static bool vq_setup(struct vq *q, uint16_t index)
{
	size_t ring_size, avail_end;
	uint8_t *mem;

	outw(io_base + VIO_QUEUE_SELECT, index);
	q->index = index;
	q->num = inw(io_base + VIO_QUEUE_SIZE);
	if (q->num == 0)
		return false;
	avail_end = 16u * q->num + 2u * (3u + q->num);
	ring_size = align_page(avail_end) + align_page(6u + 8u * q->num);
	mem = alloc_pages(ring_size);
	q->bufs = alloc_pages((size_t)q->num * BUF_SIZE);
	if (!mem || !q->bufs)
		return false;
	q->desc = (volatile struct vring_desc *)mem;
	q->avail = (volatile struct vring_avail *)(mem + 16u * q->num);
	q->used = (volatile struct vring_used *)(mem + align_page(avail_end));
	q->avail->flags = AVAIL_F_NO_INTERRUPT;
	for (uint16_t i = 0; i < q->num; i++)
		q->desc[i].addr = (uint64_t)(uintptr_t)(q->bufs + (size_t)i * BUF_SIZE);
	outl(io_base + VIO_QUEUE_PFN, (uint32_t)((uintptr_t)mem / PAGE));
	return true;
}

static void vq_notify(struct vq *q)
{
	barrier();
	if (!(q->used->flags & USED_F_NO_NOTIFY))
		outw(io_base + VIO_QUEUE_NOTIFY, q->index);
}

/* Make descriptor id available to the device again. */
static void vq_post(struct vq *q, uint16_t id)
{
	q->avail->ring[q->avail_idx % q->num] = id;
	barrier(); /* the entry before the index that publishes it */
	q->avail->idx = ++q->avail_idx;
}

static void rx_fill(void)
{
	rxq.avail->flags = 0; /* interrupts wake plat_yield */
	for (uint16_t i = 0; i < rxq.num; i++) {
		rxq.desc[i].len = BUF_SIZE;
		rxq.desc[i].flags = DESC_F_WRITE;
		vq_post(&rxq, i);
	}
}

/* Reset, negotiate the MAC feature and read the address (legacy init order).
 * NULL, or why the device cannot be used. */
static const char *device_start(void)
{
	uint32_t features;

	outb(io_base + VIO_STATUS, 0);
	outb(io_base + VIO_STATUS, STATUS_ACK);
	outb(io_base + VIO_STATUS, STATUS_ACK | STATUS_DRIVER);
	features = inl(io_base + VIO_HOST_FEATURES);
	if (!(features & F_NET_MAC))
		return "the device has no MAC address";
	/* QEMU takes a header and frame in one buffer either way; say so when it asks. */
	outl(io_base + VIO_GUEST_FEATURES, F_NET_MAC | (features & F_ANY_LAYOUT));
	for (int i = 0; i < 6; i++)
		net_mac[i] = inb((uint16_t)(io_base + VIO_CONFIG + i));
	if (!vq_setup(&rxq, 0) || !vq_setup(&txq, 1))
		return "no memory for its queues (give QEMU more with -m)";
	rx_fill();
	outb(io_base + VIO_STATUS, STATUS_ACK | STATUS_DRIVER | STATUS_DRIVER_OK);
	vq_notify(&rxq);
	return NULL;
}

/* The legacy INTx line, as the BIOS routed it (config 0x3c); 0xff means none. */
static void irq_setup(struct pci_dev d)
{
	uint8_t line = (uint8_t)pci_read32(d, 0x3c);

	if (line >= 16)
		return; /* plat_yield still wakes on its timer */
	plat_nic_isr_port = (uint16_t)(io_base + VIO_ISR);
	plat_nic_irq = line;
	plat_irq_enable(line);
}

bool plat_net_init(const char **err)
{
	struct pci_dev d;
	uint32_t bar0;

	*err = NULL;
	if (!pci_find(VIRTIO_VENDOR, VIRTIO_NET_LEGACY_ID, &d)) {
		if (pci_find(VIRTIO_VENDOR, VIRTIO_NET_MODERN_ID, &d))
			*err = "a modern-only device: give QEMU disable-legacy=off";
		return false;
	}
	bar0 = pci_read32(d, 0x10);
	if (!(bar0 & 1)) {
		*err = "its legacy registers are not in I/O space";
		return false;
	}
	io_base = (uint16_t)(bar0 & 0xfffc);
	pci_enable_io_dma(d);
	*err = device_start();
	if (*err) {
		outb(io_base + VIO_STATUS, 0x80); /* FAILED: the device may give up on us */
		return false;
	}
	net_up = true;
	irq_setup(d);
	return true;
}

void plat_net_set_mac(const uint8_t mac[6])
{
	/* The device receives every address (no RX filter negotiated). */
	memcpy(net_mac, mac, 6);
}

plat_result_t plat_net_info(struct plat_net_info *info)
{
	if (!net_up)
		return PLAT_R_EUNSPEC;
	memcpy(info->mac_address, net_mac, 6);
	info->mtu = PLAT_MTU;
	return PLAT_R_OK;
}

/*
 * The device completes transmissions in order, so slot avail_idx % num is
 * free whenever fewer than num are in flight.
 */
plat_result_t plat_net_write(const uint8_t *buf, size_t size)
{
	uint16_t slot;
	uint8_t *b;

	if (!net_up)
		return PLAT_R_EUNSPEC;
	if (size > PLAT_MTU + 14)
		return PLAT_R_EINVAL;
	barrier();
	if ((uint16_t)(txq.avail_idx - txq.used->idx) >= txq.num) {
		vq_notify(&txq);
		return PLAT_R_AGAIN;
	}
	slot = txq.avail_idx % txq.num;
	b = txq.bufs + (size_t)slot * BUF_SIZE;
	memset(b, 0, NET_HDR_SIZE); /* no checksum offload, no segmentation */
	memcpy(b + NET_HDR_SIZE, buf, size);
	txq.desc[slot].len = (uint32_t)(NET_HDR_SIZE + size);
	txq.desc[slot].flags = 0;
	vq_post(&txq, slot);
	vq_notify(&txq);
	return PLAT_R_OK;
}

static bool rx_ready(void)
{
	barrier();
	return net_up && rxq.last_used != rxq.used->idx;
}

plat_result_t plat_net_read(uint8_t *buf, size_t size, size_t *read_size)
{
	volatile struct vring_used_elem *e;
	uint32_t id, len;

	*read_size = 0;
	if (!net_up)
		return PLAT_R_EUNSPEC;
	if (!rx_ready())
		return PLAT_R_AGAIN;
	e = &rxq.used->ring[rxq.last_used % rxq.num];
	id = e->id;
	len = e->len > NET_HDR_SIZE ? e->len - NET_HDR_SIZE : 0;
	if (len > size)
		len = (uint32_t)size;
	memcpy(buf, rxq.bufs + (size_t)id * BUF_SIZE + NET_HDR_SIZE, len);
	rxq.last_used++;
	vq_post(&rxq, (uint16_t)id);
	vq_notify(&rxq);
	*read_size = len;
	return PLAT_R_OK;
}

/* Interrupts are off outside plat_halt, so a frame that lands after the
 * check below still ends the halt (see boot.S). */
bool plat_yield(plat_time_t deadline)
{
	for (;;) {
		plat_time_t now;

		if (rx_ready())
			return true;
		now = plat_clock_monotonic();
		if (now >= deadline)
			return false;
		plat_wait(deadline - now);
	}
}
