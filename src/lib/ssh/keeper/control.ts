// What `chaton connections` asks the keepers of this user: what each holds, and to close.
// (Stub: the lead fills these in; the shapes are the contract.)

/** One connection a keeper holds. Times are ISO 8601. */
export interface KeptConnection {
  /** The host's name in the inventory (a bastion's too). */
  host: string;
  /** The jump hosts before it, first one first (empty: reached directly). */
  via: string[];
  address: string;
  port: number;
  user: string;
  since: string;
  lastUsed: string;
  /** SHA256 fingerprint of the key that logged in (as ssh-keygen -l prints it, `SHA256:...`). */
  keyFingerprint: string;
  /** SHA256 fingerprint of the host key it was verified with. */
  hostKeyFingerprint: string;
}

/** One keeper: its process, the inventory it serves, and when it goes away if unused. */
export interface KeeperState {
  inventory: string;
  pid: number;
  startedAt: string;
  /** When it exits if nothing uses it before (never later than the persist time after its last use). */
  expiresAt: string;
  connections: KeptConnection[];
}

/**
 * Every keeper of this user that answers (its socket directory checked to be the user's). A socket
 * whose keeper is dead or does not answer is removed, and said in `stale` (its path).
 */
export async function listKeepers(env: NodeJS.ProcessEnv): Promise<{ keepers: KeeperState[]; stale: string[] }> {
  void env;
  return { keepers: [], stale: [] };
}

/** Asks every keeper of this user to close its connections and exit; resolves with those that did. */
export async function closeKeepers(env: NodeJS.ProcessEnv): Promise<KeeperState[]> {
  void env;
  return [];
}
