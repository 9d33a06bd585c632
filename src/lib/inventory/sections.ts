// The top-level sections a domain adds to the inventory (access: `sysadmins:`, `secrets:`). The
// core reads the file and hands each section its value, without knowing what the section holds:
// the domain reads it with the reader API, and gives typed access to what it read.
import type { Field, Reader } from './reader.js';
import { messages } from './messages.js';
import type { Inventory } from './types.js';

/** What a section may check its values against: the names the core sections define. */
export interface SectionContext {
  /** The names under `hosts:`, in file order (a host with a problem of its own included). */
  hostNames: readonly string[];
}

export interface InventorySection<T> {
  /** The top-level key of the section in the file. */
  key: string;
  /** What the section holds; called when the key is absent too, with an empty value. */
  read(reader: Reader, field: Field, context: SectionContext): T;
}

/** Set once before the inventory is read (src/cli.ts, from src/lib/domains.ts): the core imports no domain. */
let registered: readonly InventorySection<unknown>[] = [];

export function registerSections(sections: readonly InventorySection<unknown>[]): void {
  registered = sections;
}

/** The sections read by default, those registered. */
export function registeredSections(): readonly InventorySection<unknown>[] {
  return registered;
}

/** What `section` read, for the domain's typed accessor. */
export function sectionOf<T>(inventory: Inventory, section: InventorySection<T>): T {
  if (!inventory.sections.has(section.key)) {
    throw new Error(messages.sectionNotRead(section.key));
  }
  return inventory.sections.get(section.key) as T;
}
