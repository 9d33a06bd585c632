// What the lab needs from the machine: root, and the Debian packages listed ONCE in
// debian-packages.txt, plus ceph-packages.txt for a Ceph lab (CI reads the same files).
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { LabPreconditionError } from './topology.js';

/** The list stays in the source tree: this module runs from dist/test/lab/. */
const PACKAGE_LIST = fileURLToPath(new URL('../../../test/lab/debian-packages.txt', import.meta.url));
/** Only a Ceph lab (`up --ceph`) needs them: some 200 MB that other labs do without. */
const CEPH_PACKAGE_LIST = fileURLToPath(new URL('../../../test/lab/ceph-packages.txt', import.meta.url));
/** Debian's maintainer scripts ask it before starting a service; 101 means "not now". */
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new LabPreconditionError('the lab needs root (network namespaces, mounts)');
}

/** A list file: one Debian package per line. */
async function packagesIn(list: string): Promise<string[]> {
  return (await readFile(list, 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

async function missingPackages(packages: string[]): Promise<string[]> {
  const query = await execa('dpkg-query', ['-W', '-f', '${Package} ${db:Status-Abbrev}\n', ...packages], {
    reject: false,
  });
  if (query.failed && query.exitCode === undefined) {
    throw new LabPreconditionError(`the lab needs a Debian system: ${query.shortMessage}`);
  }
  const installed = new Set(
    query.stdout
      .split('\n')
      .filter((line) => line.split(' ')[1] === 'ii')
      .map((line) => line.split(' ')[0]),
  );
  return packages.filter((name) => !installed.has(name));
}

/** The lab's Debian packages (see ensurePackages). */
export function ensureLabPackages(): Promise<void> {
  return ensurePackages(PACKAGE_LIST, 'the lab');
}

/** A Ceph lab's Debian packages (see ensurePackages). */
export function ensureCephPackages(): Promise<void> {
  return ensurePackages(CEPH_PACKAGE_LIST, 'the Ceph lab');
}

/**
 * Installs the missing Debian packages of a list file when root; otherwise tells the exact
 * command to run. No service gets started on the way: the lab never uses the machine's own sshd.
 */
export async function ensurePackages(list: string, purpose: string): Promise<void> {
  const missing = await missingPackages(await packagesIn(list));
  if (missing.length === 0) return;
  const installArgs = ['install', '-y', '--no-install-recommends', ...missing];
  if (process.getuid?.() !== 0) {
    throw new LabPreconditionError(
      `${purpose} needs these Debian packages: ${missing.join(' ')}\ninstall them as root with:\n` +
        `  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get ${installArgs.join(' ')}`,
    );
  }
  process.stderr.write(`installing the Debian packages ${purpose} needs: ${missing.join(' ')}\n`);
  const options = { env: { DEBIAN_FRONTEND: 'noninteractive' }, stdout: 'inherit', stderr: 'inherit' } as const;
  // A policy already in place (container images ship one) is left as it is.
  const ownPolicy = await writeFile(POLICY_RC_D, '#!/bin/sh\nexit 101\n', { mode: 0o755, flag: 'wx' }).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return false;
      throw error;
    },
  );
  try {
    await execa('apt-get', ['update'], options);
    await execa('apt-get', installArgs, options);
  } finally {
    if (ownPolicy) await rm(POLICY_RC_D);
  }
}
