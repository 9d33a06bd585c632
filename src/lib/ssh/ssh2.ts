// ssh2 is loaded when a run first needs it: a handshake, a private key that must sign, the
// ssh-agent, a key it cannot read alone (lib/ssh/key-blob.ts). A run whose connections the keeper
// holds needs none of these, and starts that much sooner (ssh2 takes ~18 ms to load, bench/warm.ts).
import type ssh2 from 'ssh2';

/** ssh2 is CommonJS: its named exports are only reachable through the default export. */
export async function loadSsh2(): Promise<typeof ssh2> {
  return (await import('ssh2')).default;
}
