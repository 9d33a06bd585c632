// SSH public key blobs (RFC 4253 §6.6): the type name, then the key's numbers or points, each an
// SSH string (RFC 4251 §5). Read the same way for host keys and for the keys of authorized_keys.
import { createHash } from 'node:crypto';
import { messages } from './messages.js';

/** The length-prefixed strings a key blob is made of, or null if they do not add up. */
export function readSshStrings(blob: Buffer): Buffer[] | null {
  const reader = wireReader(blob);
  const strings: Buffer[] = [];
  while (reader.rest().length) {
    const next = reader.string();
    if (!next) return null;
    strings.push(next);
  }
  return strings;
}

/** The first SSH string in a public key blob: its type, e.g. `ssh-ed25519`. */
export function keyTypeOfBlob(blob: Buffer): string {
  const end = blob.length < 4 ? Infinity : 4 + blob.readUInt32BE(0);
  if (end > blob.length) throw new Error(messages.notAKeyBlob);
  return blob.toString('latin1', 4, end);
}

/** As `ssh-keygen -l` prints it: `SHA256:` and the unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Reads SSH wire fields (RFC 4251 §5) one after the other; undefined once they do not add up. */
function wireReader(data: Buffer) {
  let offset = 0;
  const uint32 = (): number | undefined => {
    if (offset + 4 > data.length) return undefined;
    offset += 4;
    return data.readUInt32BE(offset - 4);
  };
  return {
    uint32,
    string(): Buffer | undefined {
      const length = uint32();
      if (length === undefined || offset + length > data.length) return undefined;
      offset += length;
      return data.subarray(offset - length, offset);
    },
    rest: (): Buffer => data.subarray(offset),
  };
}

/**
 * Per key type, the fields after the type in OpenSSH's private key (PROTOCOL.key; sshkey.c
 * sshkey_private_serialize), their sizes where fixed, and which of them, in which order, make the
 * public blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4).
 */
const PRIVATE_KEYS = new Map<string, { fields: number; sizes?: number[]; publicFields: number[] }>([
  ['ssh-ed25519', { fields: 2, sizes: [32, 64], publicFields: [0] }], // public point, private key
  ['ssh-rsa', { fields: 6, publicFields: [1, 0] }], // n, e, d, iqmp, p, q; public: e, n
  ['ecdsa-sha2-nistp256', { fields: 3, publicFields: [0, 1] }], // curve, public point, private scalar
  ['ecdsa-sha2-nistp384', { fields: 3, publicFields: [0, 1] }],
  ['ecdsa-sha2-nistp521', { fields: 3, publicFields: [0, 1] }],
]);

/** SSH strings (RFC 4251 §5), one after the other. */
function sshStrings(parts: Buffer[]): Buffer {
  return Buffer.concat(
    parts.flatMap((part) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(part.length);
      return [length, part];
    }),
  );
}

const OPENSSH_ARMOUR =
  /^-----BEGIN OPENSSH PRIVATE KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END OPENSSH PRIVATE KEY-----\s*$/;
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/**
 * The public half of an unencrypted private key in OpenSSH's format (what ssh-keygen writes),
 * its type and public blob, read without the cryptography library: a run whose connections are
 * kept never needs more. Undefined for anything else (encrypted, PEM, another type, fields that
 * do not add up): ssh2 reads those, and says what is wrong.
 */
export function openSshPublicHalf(file: Buffer): { type: string; blob: Buffer } | undefined {
  const body = OPENSSH_ARMOUR.exec(file.toString('latin1'))?.[1];
  const data = body === undefined ? undefined : Buffer.from(body, 'base64');
  if (!data?.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return undefined;
  const outer = wireReader(data.subarray(OPENSSH_MAGIC.length));
  const [cipher, kdf, kdfOptions, count] = [outer.string(), outer.string(), outer.string(), outer.uint32()];
  if (cipher?.toString() !== 'none' || kdf?.toString() !== 'none' || kdfOptions?.length !== 0 || count !== 1) {
    return undefined;
  }
  const [blob, secret] = [outer.string(), outer.string()];
  if (!blob || !secret || outer.rest().length) return undefined;
  const type = readSshStrings(blob)?.[0]?.toString('latin1');
  const key = type === undefined ? undefined : PRIVATE_KEYS.get(type);
  if (type === undefined || key === undefined) return undefined;
  // Two equal check numbers, the key (its type, its fields, a comment), then padding 1, 2, 3...
  const inner = wireReader(secret);
  const [check, again] = [inner.uint32(), inner.uint32()];
  if (check === undefined || check !== again || inner.string()?.toString('latin1') !== type) return undefined;
  const fields: Buffer[] = [];
  for (let field = 0; field <= key.fields; field++) {
    const next = inner.string();
    if (!next) return undefined;
    fields.push(next);
  }
  if (key.sizes?.some((size, i) => fields[i]!.length !== size)) return undefined;
  // The public key outside must be the private key's own, as OpenSSH requires (sshkey_parse_private2).
  const own = sshStrings([Buffer.from(type, 'latin1'), ...key.publicFields.map((i) => fields[i]!)]);
  const padding = inner.rest();
  return own.equals(blob) && padding.every((byte, i) => byte === i + 1) ? { type, blob } : undefined;
}
