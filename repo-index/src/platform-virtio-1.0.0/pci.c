/* pci.c: finding a device on bus 0 and letting it work. */
#include "io.h"
#include "pci.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MASTER 0x4

static uint32_t address(struct pci_dev d, uint8_t off)
{
	return 0x80000000u | (uint32_t)d.bus << 16 | (uint32_t)d.dev << 11 | (uint32_t)d.fn << 8 |
	       (off & 0xfcu);
}

uint32_t pci_read32(struct pci_dev d, uint8_t off)
{
	outl(PCI_ADDR, address(d, off));
	return inl(PCI_DATA);
}

bool pci_find(uint16_t vendor, uint16_t device, struct pci_dev *out)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		for (uint8_t fn = 0; fn < 8; fn++) {
			struct pci_dev d = {0, dev, fn};
			uint32_t id = pci_read32(d, 0);

			if (fn == 0 && id == 0xffffffffu)
				break; /* no device in this slot */
			if (id == ((uint32_t)device << 16 | vendor)) {
				*out = d;
				return true;
			}
			/* Functions past 0 exist only on multi-function devices. */
			if (fn == 0 && !(pci_read32(d, 0x0c) & 0x00800000u))
				break;
		}
	}
	return false;
}

void pci_enable_io_dma(struct pci_dev d)
{
	uint16_t cmd = (uint16_t)pci_read32(d, PCI_COMMAND);

	/* A 16-bit write: the status register above has write-1-to-clear bits. */
	outl(PCI_ADDR, address(d, PCI_COMMAND));
	outw(PCI_DATA, cmd | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
}
