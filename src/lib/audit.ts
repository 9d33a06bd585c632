// The audit trail of changing runs: a JSON line on the operator's machine, and a syslog line
// (`logger -t chaton`) on every host that was changed, so the hosts' own logs tell who did what.
import { appendFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { command, display, type Command } from './shell.js';

export interface AuditRecord {
  time: string;
  operator: string;
  argv: string[];
  inventory: string;
  hosts: string[];
  outcome: 'ok' | 'partial' | 'failed' | 'interrupted';
  exitCode: number;
}

/** `$XDG_STATE_HOME/chaton`, by default `~/.local/state/chaton`. */
export function stateDirectory(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'chaton');
}

/** Who runs chaton: the login behind sudo if any, and the machine. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  return `${env.SUDO_USER || os.userInfo().username}@${os.hostname()}`;
}

export async function appendAuditRecord(env: NodeJS.ProcessEnv, record: AuditRecord): Promise<string> {
  const dir = stateDirectory(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'audit.jsonl');
  await appendFile(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  return file;
}

/** The syslog line for one changed host. */
export function hostAuditCommand(record: AuditRecord): Command {
  const commandLine = display(command(...record.argv));
  return command('logger', '-t', 'chaton', '--', `operator=${record.operator} outcome=${record.outcome} exit=${record.exitCode} command: ${commandLine}`);
}
