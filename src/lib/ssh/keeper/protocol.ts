// What a chaton run and its keeper say to each other on the keeper's unix socket. Every unix
// connection carries frames: a type byte, a 4-byte length, the payload. One connection per run
// carries JSON frames both ways (the run's requests, the keeper's questions back: a host key to
// check, a signature); one per remote command carries its output, so that a full reader stops
// that command alone (the unix socket's own flow control, then the SSH window's).
import { ChatonError, ConnectionError, HostKeyError, InterruptedError, KeysRefusedError } from '../../run/errors.js';
import { ExitCode } from '../../run/errors.js';

/** Bumped when a frame or a request changes: a run and a keeper of two versions never talk. */
export const PROTOCOL = 'chaton-keeper/2';

export const Frame = {
  json: 0x6a, // 'j'
  stdout: 0x6f, // 'o'
  stderr: 0x65, // 'e'
} as const;

const HEADER = 5;
/** A frame larger than this is garbage, not a command's output (ssh2 hands over at most 32 KiB). */
const MAX_FRAME = 16 * 1024 * 1024;

export function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER);
  header[0] = type;
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

export function jsonFrame(value: unknown): Buffer {
  return frame(Frame.json, Buffer.from(JSON.stringify(value)));
}

/** Cuts a byte stream into frames; anything that is not one is GarbageError. */
export class FrameReader {
  #buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (type: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
    while (this.#buffered.length >= HEADER) {
      const type = this.#buffered[0]!;
      const length = this.#buffered.readUInt32BE(1);
      if (!Object.values(Frame).includes(type as never) || length > MAX_FRAME) {
        throw new GarbageError(`frame type ${type}, ${length} bytes`);
      }
      if (this.#buffered.length < HEADER + length) return;
      const payload = this.#buffered.subarray(HEADER, HEADER + length);
      this.#buffered = this.#buffered.subarray(HEADER + length);
      this.onFrame(type, payload);
    }
  }
}

/** The other end said something that is not this protocol. */
export class GarbageError extends Error {}

export function parseJson(payload: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(payload.toString());
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // said below
  }
  throw new GarbageError(`not a JSON object: ${payload.subarray(0, 80).toString()}`);
}

/** An error as it crosses the socket: the class chaton's exit code and handling depend on, and its words. */
export interface WireError {
  kind: 'host-key' | 'keys-refused' | 'connection' | 'interrupted' | 'chaton' | 'other';
  message: string;
  host?: string;
  hint?: string;
  exitCode?: number;
}

export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { kind: 'other', message: String(error) };
  if (error instanceof ConnectionError) {
    const kind =
      error instanceof HostKeyError ? 'host-key' : error instanceof KeysRefusedError ? 'keys-refused' : 'connection';
    return { kind, message: error.message, host: error.host, ...(error.hint ? { hint: error.hint } : {}) };
  }
  if (error instanceof InterruptedError) return { kind: 'interrupted', message: error.message };
  if (error instanceof ChatonError) {
    return {
      kind: 'chaton',
      message: error.message,
      exitCode: error.exitCode,
      ...(error.hint ? { hint: error.hint } : {}),
    };
  }
  return { kind: 'other', message: error.message };
}

/** The same error again on this side: same class, same words, same exit code. */
export function fromWire(wire: WireError): Error {
  const host = wire.host ?? '';
  switch (wire.kind) {
    case 'host-key':
      return new HostKeyError(host, wire.message, wire.hint);
    case 'keys-refused':
      return new KeysRefusedError(host, wire.message, wire.hint);
    case 'connection':
      return new ConnectionError(host, wire.message, wire.hint);
    case 'interrupted':
      return new InterruptedError(wire.message);
    case 'chaton':
      return new ChatonError(wire.message, (wire.exitCode ?? ExitCode.failed) as ExitCode, wire.hint);
    default:
      return new Error(wire.message);
  }
}
