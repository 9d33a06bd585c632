// A cheaper key for the lab's restic repository. `restic init` calibrates scrypt to about half a
// second on this machine, and every restic command pays it again when it opens the repository:
// a backup site of some thirty snapshots, and each check a test runs, would spend most of their
// time there. This rewrites the key restic made (same master key, same password) with scrypt
// N=2^10 instead; everything else in the repository stays restic's own.
//
// Formats from restic 0.14 (internal/repository/key.go, internal/crypto/{crypto,kdf}.go): a key
// file is JSON {created, username, hostname, kdf: "scrypt", N, r, p, salt, data} named by the
// SHA-256 of its bytes; scrypt(password, salt) gives 64 bytes: the AES-256 key, then the MAC key
// k (AES-128) and r (Poly1305); `data` is IV || AES-256-CTR(master key JSON) || Poly1305-AES MAC
// of the ciphertext (the MAC's s is AES_k(IV)).
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';

interface ResticKeyFile {
  created: string;
  username: string;
  hostname: string;
  kdf: string;
  N: number;
  r: number;
  p: number;
  salt: string;
  data: string;
}

interface UserKey {
  encryption: Buffer;
  macK: Buffer;
  macR: Buffer;
}

/** restic reads its password file with strings.TrimSpace (cmd/restic/global.go). */
export function resticPasswordFrom(fileText: string): string {
  return fileText.trim();
}

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  return value;
}

function toLittleEndian(value: bigint, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return bytes;
}

/** Poly1305 (RFC 8439, section 2.5) of `message` with r (clamped here) and s. */
function poly1305(message: Buffer, r: Buffer, s: Buffer): Buffer {
  const prime = (1n << 130n) - 5n;
  const clampedR = littleEndian(r) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  let accumulator = 0n;
  for (let i = 0; i < message.length; i += 16) {
    const block = Buffer.concat([message.subarray(i, i + 16), Buffer.from([1])]);
    accumulator = ((accumulator + littleEndian(block)) * clampedR) % prime;
  }
  return toLittleEndian((accumulator + littleEndian(s)) & ((1n << 128n) - 1n), 16);
}

function mac(ciphertext: Buffer, iv: Buffer, key: UserKey): Buffer {
  const aes = createCipheriv('aes-128-ecb', key.macK, null).setAutoPadding(false);
  return poly1305(ciphertext, key.macR, Buffer.concat([aes.update(iv), aes.final()]));
}

function deriveKey(password: string, salt: Buffer, params: { N: number; r: number; p: number }): UserKey {
  const bytes = scryptSync(password, salt, 64, { ...params, maxmem: 512 * 1024 * 1024 });
  return { encryption: bytes.subarray(0, 32), macK: bytes.subarray(32, 48), macR: bytes.subarray(48, 64) };
}

/**
 * The key file `keyText` re-encrypted with scrypt N=`cost`, r=8, p=1: its new text and name (the
 * SHA-256 of the text, as restic names key files). Throws when `password` does not open it.
 */
export function weakenResticKey(keyText: string, password: string, cost = 1024): { name: string; text: string } {
  const key = JSON.parse(keyText) as ResticKeyFile;
  if (key.kdf !== 'scrypt') throw new Error(`restic key with kdf ${key.kdf}: only scrypt is known`);
  const userKey = deriveKey(password, Buffer.from(key.salt, 'base64'), key);
  const data = Buffer.from(key.data, 'base64');
  const iv = data.subarray(0, 16);
  const ciphertext = data.subarray(16, data.length - 16);
  if (!mac(ciphertext, iv, userKey).equals(data.subarray(data.length - 16))) {
    throw new Error('the password does not open this restic key');
  }
  const decipher = createDecipheriv('aes-256-ctr', userKey.encryption, iv);
  const masterKey = Buffer.concat([decipher.update(ciphertext), decipher.final()]);

  const params = { N: cost, r: 8, p: 1 };
  const salt = randomBytes(64);
  const newKey = deriveKey(password, salt, params);
  const newIv = randomBytes(16);
  const cipher = createCipheriv('aes-256-ctr', newKey.encryption, newIv);
  const newCiphertext = Buffer.concat([cipher.update(masterKey), cipher.final()]);
  const text = JSON.stringify({
    ...key,
    ...params,
    salt: salt.toString('base64'),
    data: Buffer.concat([newIv, newCiphertext, mac(newCiphertext, newIv, newKey)]).toString('base64'),
  });
  return { name: createHash('sha256').update(text).digest('hex'), text };
}
