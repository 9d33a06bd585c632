// The composition root: the one place that lists the inventory sections of every domain. The
// core never imports it; src/cli.ts registers these before a command runs. A new domain adds its
// sections here.
import { ACCESS_SECTIONS } from './access/inventory.js';
import { BACKUP_SECTIONS } from './backup/inventory.js';
import type { InventorySection } from './inventory/sections.js';
import { NETWORK_SECTIONS } from './network/inventory.js';
import { PROXMOX_SECTIONS } from './proxmox/inventory.js';

export const INVENTORY_SECTIONS: readonly InventorySection<unknown>[] = [
  ...ACCESS_SECTIONS,
  ...BACKUP_SECTIONS,
  ...NETWORK_SECTIONS,
  ...PROXMOX_SECTIONS,
];
