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
