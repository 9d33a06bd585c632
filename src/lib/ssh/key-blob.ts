// SSH public key blobs (RFC 4253 §6.6): the type name, then the key's numbers or points, each an
// SSH string (RFC 4251 §5). Read the same way for host keys and for the keys of authorized_keys.
import { createHash } from 'node:crypto';
import { messages } from './messages.js';

/** The length-prefixed strings a key blob is made of, or null if they do not add up. */
export function readSshStrings(blob: Buffer): Buffer[] | null {
  const strings: Buffer[] = [];
  for (let offset = 0; offset < blob.length;) {
    if (offset + 4 > blob.length) return null;
    const end = offset + 4 + blob.readUInt32BE(offset);
    if (end > blob.length) return null;
    strings.push(blob.subarray(offset + 4, end));
    offset = end;
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

/** The fields after the type in an OpenSSH private key, per type (PROTOCOL.key; sshkey.c sshkey_private_serialize). */
const PRIVATE_FIELDS = new Map([
  ['ssh-ed25519', 2], // public point, private key
  ['ssh-rsa', 6], // n, e, d, iqmp, p, q
  ['ecdsa-sha2-nistp256', 3], // curve, public point, private scalar
  ['ecdsa-sha2-nistp384', 3],
  ['ecdsa-sha2-nistp521', 3],
]);

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
  const fields = type === undefined ? undefined : PRIVATE_FIELDS.get(type);
  if (type === undefined || fields === undefined) return undefined;
  // Two equal check numbers, the key (its type, its fields, a comment), then padding 1, 2, 3...
  const inner = wireReader(secret);
  const [check, again] = [inner.uint32(), inner.uint32()];
  if (check === undefined || check !== again || inner.string()?.toString('latin1') !== type) return undefined;
  for (let field = 0; field <= fields; field++) if (!inner.string()) return undefined;
  const padding = inner.rest();
  return padding.every((byte, i) => byte === i + 1) ? { type, blob } : undefined;
}
