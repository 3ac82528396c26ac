/* pci.h: PCI configuration space through the legacy 0xcf8/0xcfc ports.  Not installed. */
#ifndef PLAT_PCI_H
#define PLAT_PCI_H

#include <stdbool.h>
#include <stdint.h>

struct pci_dev {
	uint8_t bus, dev, fn;
};

uint32_t pci_read32(struct pci_dev d, uint8_t off);
/*
 * The first function on bus 0 with this vendor and device id; false when
 * there is none.  QEMU's pc machine puts every device on bus 0.
 */
bool pci_find(uint16_t vendor, uint16_t device, struct pci_dev *out);
/* Turn on I/O-space decoding and bus mastering (the device's DMA). */
void pci_enable_io_dma(struct pci_dev d);

#endif
