// How big things are, as the inventory writes them (`512M`, `20G`): the core's, since several
// domains read sizes (backup's free space for restore tests, proxmox's VM memory and disks).

/** Bytes in each unit a size may be written in: binary units, as Proxmox VE writes disk sizes. */
const UNIT_BYTES = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 } as const;
const SIZE = /^([1-9][0-9]{0,5})([KMGT])$/;

/** Bytes of `512M`, `20G` or `1T` (K, M, G, T: powers of 1024); undefined for anything else (`20 GB`, `1.5G`). */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text);
  return match ? Number(match[1]) * UNIT_BYTES[match[2] as keyof typeof UNIT_BYTES] : undefined;
}

/** A size for people, in the largest unit that keeps one decimal: `1.5G`, `820M`, `12K`, `10B`. */
export function formatSize(bytes: number): string {
  const units = Object.entries(UNIT_BYTES).reverse() as [string, number][];
  const [unit, size] = units.find(([, size]) => bytes >= size) ?? ['B', 1];
  const value = bytes / size;
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${unit}`;
}
