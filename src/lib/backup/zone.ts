// A host's time zone, and the local wall-clock times tools print in it (vzdump names its archives
// in the node's local time) turned into instants, with Node's Intl (full ICU), across DST.
import type { Fact } from '../remote/facts.js';
import { command } from '../remote/shell.js';

export interface HostZone {
  /** An IANA zone Intl knows, e.g. Europe/Paris. */
  zone: string;
  /** Where it was read: the /etc/localtime link, /etc/timezone, or neither (UTC is assumed: say so). */
  from: 'localtime' | 'timezone' | 'none';
}

/** Both places, tagged; a missing link or file prints an empty value. */
const ZONE_SCRIPT =
  'printf \'localtime\\t%s\\n\' "$(readlink /etc/localtime 2>/dev/null)"; ' +
  'printf \'timezone\\t%s\\n\' "$(head -n 1 /etc/timezone 2>/dev/null)"';

export const hostZoneFact: Fact<HostZone> = { command: command('sh', '-c', ZONE_SCRIPT), parse: parseHostZone };

function isKnownZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `/usr/share/zoneinfo/Europe/Paris` (or `../usr/share/zoneinfo/posix/...`) first, then /etc/timezone. */
export function parseHostZone(stdout: string): HostZone {
  const values = new Map(
    stdout.split('\n').flatMap((line) => {
      const tab = line.indexOf('\t');
      return tab < 0 ? [] : [[line.slice(0, tab), line.slice(tab + 1).trim()] as const];
    }),
  );
  const linked = /zoneinfo\/(?:posix\/|right\/)?(.+)$/.exec(values.get('localtime') ?? '')?.[1];
  if (linked && isKnownZone(linked)) return { zone: linked, from: 'localtime' };
  const written = values.get('timezone');
  if (written && isKnownZone(written)) return { zone: written, from: 'timezone' };
  return { zone: 'UTC', from: 'none' };
}

/** A time as a clock on the wall shows it, month 1-12. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  return format;
}

/** What the clocks of `zone` show at `ms`. */
export function wallClockAt(ms: number, zone: string): WallClock {
  const parts = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(ms))
      .map((part) => [part.type, part.value]),
  );
  const number = (type: string) => Number(parts[type]);
  return {
    year: number('year'),
    month: number('month'),
    day: number('day'),
    hour: number('hour'),
    minute: number('minute'),
    second: number('second'),
  };
}

function asUtc(wall: WallClock): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

const HOUR = 3_600_000;

/**
 * The instant `wall` shows in `zone`. In the autumn hour a clock shows twice, the one nearest
 * `near` and not after it wins (vzdump names an archive when the dump starts; the file's mtime
 * is when it ended); without `near`, the earlier. A time the spring change skips (no clock shows
 * it) is read with the offset from before the change, as a clock not yet moved would show it.
 */
export function instantOf(wall: WallClock, zone: string, near?: number): number {
  const guess = asUtc(wall);
  // Offsets in force a day before and a day after: a time near a change has one of the two.
  const offsets = new Set(
    [-24 * HOUR, 24 * HOUR].map((shift) => asUtc(wallClockAt(guess + shift, zone)) - (guess + shift)),
  );
  const candidates = [...offsets]
    .map((offset) => guess - offset)
    .filter((instant) => asUtc(wallClockAt(instant, zone)) === guess)
    .sort((a, b) => a - b);
  if (candidates.length === 0) return guess - asUtc(wallClockAt(guess - 24 * HOUR, zone)) + (guess - 24 * HOUR);
  if (candidates.length === 1 || near === undefined) return candidates[0]!;
  const before = candidates.filter((instant) => instant <= near);
  return before.length > 0 ? before[before.length - 1]! : candidates[0]!;
}
