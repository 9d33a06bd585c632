// What a sysadmin's fields may hold, for the roster and the command line alike, and the dates
// they are given in.
/** One line, no ":" nor ",": the name becomes the first subfield of the GECOS field. */
export const PERSON_NAME = /^(?=.*\S)[^:,\p{Cc}]+$/u;
export const EMAIL = /^[^@\s]+@[^@\s]+$/;
export const PROXMOX_ROLE = /^[A-Za-z0-9_.-]+$/;
/** One line: a line break would let a value add rules of its own; visudo judges the rest. */
export const SUDO_COMMANDS = /^(?=.*\S)[^\p{Cc}]+$/u;

/** A real YYYY-MM-DD date (Date rolls 2026-02-30 over to March: only a real one comes back unchanged). */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
}

/** Days since 1970-01-01 of a YYYY-MM-DD date, as /etc/shadow counts them. */
export function epochDay(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}
