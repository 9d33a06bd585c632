// Public keys given to `onboard sysadmin`: read from a file or the command line, checked with the
// operator's own `ssh-keygen -l` before any host is touched. A private key pasted by mistake is
// refused without ever being shown, logged or sent.
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../run/errors.js';
import { readKeyFile, UnreadableFileError } from '../run/files.js';
import { PRIVATE_KEY } from '../run/printable.js';
import { readSshStrings } from '../ssh/key-blob.js';
import { messages } from './messages.js';

export interface PublicKey {
  /** `type base64 comment`: what goes in authorized_keys. */
  line: string;
  type: string;
  /** The key material; two keys are the same key when this is equal. */
  blob: string;
  /** SHA256:... as ssh-keygen prints it. */
  fingerprint: string;
  /** ED25519, RSA, ECDSA, ED25519-SK, ... as ssh-keygen names it. */
  kind: string;
  bits: number;
}

/**
 * The key types of authorized_keys lines, with the number of length-prefixed fields in their
 * base64 part (the type name first, then the key's numbers or points). DSA only to refuse it by name.
 */
const KEY_FIELDS = new Map([
  ['ssh-ed25519', 2],
  ['ecdsa-sha2-nistp256', 3],
  ['ecdsa-sha2-nistp384', 3],
  ['ecdsa-sha2-nistp521', 3],
  ['sk-ssh-ed25519@openssh.com', 3],
  ['sk-ecdsa-sha2-nistp256@openssh.com', 4],
  ['ssh-rsa', 3],
  ['ssh-dss', 5],
]);
export const KEY_TYPES = [...KEY_FIELDS.keys()];
const KEY_LINE = /^(\S+)[ \t]+([A-Za-z0-9+/]+={0,2})(?:[ \t]+([^\r\n]*))?$/;

/**
 * A line of a .pub file: type, base64 and an optional comment. Its base64 part must hold the
 * whole key, starting with the same type: keys cut or mixed up when pasted are refused here.
 */
export function parsePublicKeyLine(text: string): { line: string; type: string; blob: string } | undefined {
  const [, type = '', blob = '', comment] = KEY_LINE.exec(text.trim()) ?? [];
  const fields = blob.length % 4 === 0 ? readSshStrings(Buffer.from(blob, 'base64')) : null;
  const isWhole = fields !== null && fields.length === KEY_FIELDS.get(type) && fields[0]?.toString('latin1') === type;
  return isWhole ? { line: comment ? `${type} ${blob} ${comment.trim()}` : `${type} ${blob}`, type, blob } : undefined;
}

/** RSA below this is refused (NIST SP 800-57: 2048 bits only until 2030). */
const MIN_RSA_BITS = 3072;

/** The key and where it came from, for messages: `--key 2 (~/.ssh/id.pub)`. */
function origin(index: number, value: string, isFile: boolean): string {
  return `--key ${index + 1}${isFile ? ` (${value})` : ''}`;
}

/**
 * Reads and checks every --key value: a file path, or the key line itself. Refuses private keys,
 * unparsable keys, DSA, RSA under 3072 bits and the same key twice. Returns them in order.
 */
export async function readPublicKeys(values: string[]): Promise<PublicKey[]> {
  if (values.length === 0) throw new UsageError(messages.noKeyGiven, messages.noKeyGivenHint);
  const keys: PublicKey[] = [];
  for (const [index, value] of values.entries()) {
    const isFile = !KEY_TYPES.some((type) => value.trim().startsWith(`${type} `)) && !PRIVATE_KEY.test(value);
    const where = origin(index, value, isFile);
    const text = isFile ? await readPublicKeyFile(value, where) : value;
    if (PRIVATE_KEY.test(text)) {
      throw new UsageError(
        messages.privateKeyGiven(where),
        isFile ? messages.privateKeyFileHint(value) : messages.privateKeyLineHint,
      );
    }
    const lines = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#'));
    if (lines.length !== 1) throw new UsageError(messages.keyLineCount(where, lines.length), messages.keyLineCountHint);
    const parsed = parsePublicKeyLine(lines[0]!);
    if (!parsed) throw new UsageError(messages.notAPublicKeyLine(where), messages.notAPublicKeyLineHint);
    const { line, type, blob } = parsed;
    const { bits, fingerprint, kind } = await fingerprintOf(line, where);
    if (type === 'ssh-dss') throw new UsageError(messages.dsaKey(where, fingerprint), messages.dsaKeyHint);
    if (type === 'ssh-rsa' && bits < MIN_RSA_BITS) {
      throw new UsageError(messages.shortRsaKey(where, bits, fingerprint, MIN_RSA_BITS), messages.shortRsaKeyHint);
    }
    const twin = keys.findIndex((k) => k.blob === blob);
    if (twin >= 0) throw new UsageError(messages.sameKeyTwice(where, twin + 1, fingerprint), messages.sameKeyTwiceHint);
    keys.push({ line, type, blob, fingerprint, kind, bits });
  }
  return keys;
}

async function readPublicKeyFile(value: string, where: string): Promise<string> {
  const file = value.startsWith('~/') ? path.join(homedir(), value.slice(2)) : value;
  try {
    return (await readKeyFile(file)).toString('utf8');
  } catch (error) {
    if (!(error instanceof UnreadableFileError)) throw error;
    throw new UsageError(messages.keyFileUnreadable(where, error.message), messages.keyFileUnreadableHint);
  }
}

/** `ssh-keygen -l -f -` on the key line (given on stdin): its size, fingerprint and kind. */
function fingerprintOf(line: string, where: string): Promise<{ bits: number; fingerprint: string; kind: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('ssh-keygen', ['-l', '-f', '-'], { timeout: 10_000 }, (error, stdout) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(new UsageError(messages.noSshKeygen, messages.noSshKeygenHint));
      }
      // e.g. "256 SHA256:piYY...Bo alice@laptop (ED25519)"
      const parsed = /^(\d+) (\S+) .*\(([A-Z0-9-]+)\)$/m.exec(stdout);
      if (error || !parsed)
        return reject(new UsageError(messages.sshKeygenCannotRead(where), messages.sshKeygenCannotReadHint));
      resolve({ bits: Number(parsed[1]), fingerprint: parsed[2]!, kind: parsed[3]! });
    });
    child.stdin?.end(`${line}\n`);
  });
}
