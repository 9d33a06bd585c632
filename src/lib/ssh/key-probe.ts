// Asking sshd whether it accepts a public key for a user, without its private key: the question
// ssh asks before it signs (RFC 4252 §7).
import ssh2, { type ParsedKey } from 'ssh2';

/**
 * An agent that holds one public key and signs nothing: sshd asks for a signature only after it
 * has accepted the key (SSH_MSG_USERAUTH_PK_OK), so being asked to sign is the answer.
 */
export class KeyProbe extends ssh2.BaseAgent<ParsedKey> {
  accepted = false;
  constructor(private readonly key: ParsedKey) {
    super();
  }
  getIdentities(cb: (error: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, [this.key]);
  }
  sign(_key: ParsedKey, _data: Buffer, options: unknown, cb?: (error?: Error) => void): void {
    this.accepted = true;
    // Nobody reads this error (acceptsKey has its answer once sshd asked to sign): not translated.
    (typeof options === 'function' ? (options as (error?: Error) => void) : cb)?.(
      new Error('a key probe signs nothing'),
    );
  }
}
