// The resolved inventory: what the rest of chaton sees once the YAML file is validated.
// Builders never see how a host is reached; only the connection layer reads `via`.

/** Where a problem is in the inventory file, for `file:line:col` messages. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface SshSettings {
  /** Absolute paths of private keys to offer, in order (OpenSSH format). */
  identityFiles: string[];
  /** Whether those files were listed in the inventory (missing ones are then an error). */
  identityFilesExplicit: boolean;
  /** Name of the environment variable holding the passphrase of encrypted identity files. */
  identityPassphraseEnv?: string;
  /** Offer the keys of the running ssh-agent (SSH_AUTH_SOCK). */
  agent: boolean;
  /** Absolute paths of OpenSSH known_hosts files; `--accept-new` appends to the first. */
  knownHosts: string[];
  connectTimeoutMs: number;
  /** 0 means no limit. */
  commandTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Parallel commands on one connection (sshd's MaxSessions defaults to 10). */
  maxSessions: number;
  /**
   * How long a background keeper holds this connection after its last use, for the next runs
   * (`ssh.persist`); 0 = off, the default.
   */
  persistMs: number;
}

/** A machine chaton can open an SSH connection to. */
export interface Endpoint {
  name: string;
  /**
   * Where it is reached, tried in order until one answers (one per internet link of a site, for
   * a bastion); each leads to the same machine, with the same host key. Never empty.
   */
  addresses: readonly string[];
  port: number;
  user: string;
  ssh: SshSettings;
}

export interface Host extends Endpoint {
  roles: string[];
  /** Groups that contain this host, directly or through other groups. */
  groups: string[];
  /** Run commands through `sudo -n` because `user` is not root. */
  become: 'sudo' | null;
  /** The jump hosts to go through, first one first; empty when reached directly. */
  via: Endpoint[];
  /**
   * What the sysadmins' own accounts get here: on a bastion, 'forwarding' gives no shell, only
   * the port forwarding ProxyJump needs; ordinary hosts are always 'shell'.
   */
  sysadminAccess: 'shell' | 'forwarding';
  source: SourcePosition;
}

export interface Inventory {
  /** Absolute path of the file this was read from. */
  file: string;
  /** Hosts under `hosts:`, in file order. `all` means these. */
  hosts: Host[];
  /**
   * The jump hosts of `bastion:`, as targets in their own right (role `bastion`), so that
   * `chaton exec bastion -- ...` works; they are not part of `all`.
   */
  bastions: Host[];
  /** Group name -> member host names (resolved through nested groups), in file order. */
  groups: Map<string, string[]>;
  /**
   * What each domain's section read (sysadmins:, secrets:...), by top-level key; the domain
   * gives typed access to its own (sysadminsOf in access/inventory.ts).
   */
  sections: ReadonlyMap<string, unknown>;
}
