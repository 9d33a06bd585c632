// The access domain's sections of the inventory: the roster (`sysadmins:`) and the shared
// secrets (`secrets:`), read through the core reader; src/lib/domains.ts registers them.
import { booleanKind, matching, nameKind, posixNameKind, textKind, userKind } from '../inventory/kinds.js';
import {
  type Field,
  isEmpty,
  isPrivateKey,
  lineOf,
  list,
  listItems,
  positionOf,
  type ReadField,
  type Reader,
  readEntries,
  readScalar,
  readSection,
  report,
  requireKey,
  scalar,
  type ScalarKind,
  where,
} from '../inventory/reader.js';
import { type InventorySection, sectionOf } from '../inventory/sections.js';
import type { Inventory, SourcePosition } from '../inventory/types.js';
import { quoted } from '../run/printable.js';
import { EMAIL, isCalendarDate, PERSON_NAME, PROXMOX_ROLE, SUDO_COMMANDS } from './fields.js';
import { KEY_TYPES, parsePublicKeyLine } from './public-keys.js';

/** One volunteer of the roster (`sysadmins:`): what onboard gives them, what --save writes. */
export interface Sysadmin {
  login: string;
  name?: string;
  email?: string;
  /** Public key lines as written: type, base64 and an optional comment. */
  keys: string[];
  sudo: boolean;
  /** Only these commands through sudo (a sudoers command list); absent: all, when `sudo`. */
  sudoCommands?: string;
  groups: string[];
  proxmoxRole?: string;
  /** The day access ends, YYYY-MM-DD: no login from that day on (as `usermod --expiredate`). */
  expires?: string;
  source: SourcePosition;
}

/** A secret shared by the sysadmins, named (never its value): to rotate when one leaves. */
export interface SharedSecret {
  name: string;
  description: string;
  source: SourcePosition;
}

/** The roster, in file order; empty when absent. */
export function sysadminsOf(inventory: Inventory): Sysadmin[] {
  return sectionOf(inventory, SYSADMINS_SECTION);
}

/** The shared secrets, in file order; empty when absent. */
export function secretsOf(inventory: Inventory): SharedSecret[] {
  return sectionOf(inventory, SECRETS_SECTION);
}

// ---------------------------------------------------------------------------------------------
// Kinds of values

const groupKind = posixNameKind('group');

const personNameKind: ScalarKind<string> = {
  expected: 'a name on one line, without ":" or ","',
  hint: 'the name as they like it written, for example Camille Martin',
  parse: matching(PERSON_NAME),
};

const emailKind: ScalarKind<string> = {
  expected: 'an email address',
  hint: 'one "@" between a name and a domain, no spaces, for example camille@example.org',
  parse: matching(EMAIL),
};

const proxmoxRoleKind: ScalarKind<string> = {
  expected: 'a Proxmox role name',
  hint: 'a role of Proxmox VE such as PVEAdmin or PVEAuditor, or one of your own: letters, digits, ".", "_" and "-"',
  parse: matching(PROXMOX_ROLE),
};

const sudoCommandsKind: ScalarKind<string> = {
  expected: 'a sudoers command list on one line',
  hint: "full paths separated by commas, for example '/usr/sbin/qm, /usr/bin/pvesh'",
  parse: matching(SUDO_COMMANDS),
};

// The core schema of yaml 2 reads 2026-12-31 as a string, not as a timestamp.
const dateKind: ScalarKind<string> = {
  expected: 'a date written YYYY-MM-DD',
  hint:
    'the day access ends (no login from that day on, as usermod --expiredate), a real date, ' +
    'for example 2026-12-31',
  parse: ({ value }) => (typeof value === 'string' && isCalendarDate(value) ? value : undefined),
};

const secretDescriptionKind = textKind(
  'a description of the secret',
  'say what it is and where it is kept, for example "passphrase of the restic repositories, in the password ' +
    'manager"; never the secret itself',
);

const publicKeyKind: ScalarKind<string> = {
  expected: 'an OpenSSH public key line',
  hint: `one whole line of a .pub file: the type (${KEY_TYPES.join(', ')}), the base64 key, then an optional comment`,
  parse: ({ value }) => (typeof value === 'string' ? parsePublicKeyLine(value)?.line : undefined),
};

function reportPrivateKey(reader: Reader, field: Field): void {
  report(
    reader,
    field.value,
    field.path,
    'a private key was pasted here (chaton does not repeat it)',
    'put the public key instead, the line `ssh-keygen -y -f KEYFILE` prints; the private key is exposed now: ' +
      'take it out of this file and its history, and make a new key pair',
  );
}

/** `keys:` a non-empty list of public key lines. */
const readPublicKeys: ReadField<string[]> = (reader, field) => {
  const hint =
    'the lines of their .pub files, for example keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5... camille@laptop"]';
  if (isPrivateKey(field.value)) {
    reportPrivateKey(reader, field);
    return undefined;
  }
  const items = listItems(reader, field, 'a list of SSH public keys', hint);
  if (items?.length === 0) {
    report(reader, where(field), field.path, 'must be a list of SSH public keys, got an empty list', hint);
  }
  return items?.flatMap((item) => {
    if (isPrivateKey(item.value)) {
      reportPrivateKey(reader, item);
      return [];
    }
    const key = readScalar(reader, item, publicKeyKind);
    return key === undefined ? [] : [key];
  });
};

// ---------------------------------------------------------------------------------------------
// Sections

const sysadminReaders = {
  login: scalar(userKind),
  name: scalar(personNameKind),
  email: scalar(emailKind),
  keys: readPublicKeys,
  sudo: scalar(booleanKind),
  sudo_commands: scalar(sudoCommandsKind),
  groups: list(groupKind, 'a list of Unix group names', 'for example groups: [adm, backup]'),
  proxmox_role: scalar(proxmoxRoleKind),
  expires: scalar(dateKind),
};

/** `sysadmins:` is the roster: a list of volunteers, one mapping each, each login once. */
function readSysadmins(reader: Reader, field: Field): Sysadmin[] {
  if (isEmpty(field.value)) return [];
  const hint =
    'one mapping per sysadmin, each starting with "- login:"; see the sysadmins: section of inventory.example.yaml';
  const items = listItems(reader, field, 'a list of sysadmins', hint);
  const firstLogins = new Map<string, Field>();
  return (items ?? []).flatMap((item) => {
    const read = readSection(reader, item, sysadminReaders);
    if (!read) return [];
    requireKey(reader, item, read.fields, 'login', 'add `login:` with the Unix user name to create for them');
    const keysHint = 'add `keys:` with their SSH public keys, the lines of their .pub files';
    requireKey(reader, item, read.fields, 'keys', keysHint);
    const { login, name, email, keys, sudo, groups, expires } = read.values;
    const { sudo_commands: sudoCommands, proxmox_role: proxmoxRole } = read.values;
    const loginField = read.fields.get('login');
    if (login === undefined || !loginField) return [];
    const firstLogin = firstLogins.get(login);
    if (firstLogin) {
      const firstLine = lineOf(reader, firstLogin.value);
      const message = `${quoted(login)} is already the login of the sysadmin on line ${firstLine}`;
      report(reader, loginField.value, loginField.path, message, 'list each sysadmin once, with all their keys');
      return [];
    }
    firstLogins.set(login, loginField);
    const sudoCommandsField = read.fields.get('sudo_commands');
    if (sudoCommands !== undefined && sudo !== true && sudoCommandsField) {
      const hint = 'add `sudo: true`, or remove sudo_commands';
      report(reader, sudoCommandsField.value, sudoCommandsField.path, 'sudo_commands needs sudo: true', hint);
      return [];
    }
    if (keys === undefined) return [];
    const sysadmin: Sysadmin = {
      login,
      ...(name === undefined ? {} : { name }),
      ...(email === undefined ? {} : { email }),
      keys,
      sudo: sudo ?? false,
      ...(sudoCommands === undefined ? {} : { sudoCommands }),
      groups: groups ?? [],
      ...(proxmoxRole === undefined ? {} : { proxmoxRole }),
      ...(expires === undefined ? {} : { expires }),
      source: positionOf(reader, where(item)),
    };
    return [sysadmin];
  });
}

/** `secrets:` names the secrets the sysadmins share and says what each is: never its value. */
function readSecrets(reader: Reader, field: Field): SharedSecret[] {
  const example = 'for example restic-passphrase: passphrase of the restic repositories, in the password manager';
  const entries = readEntries(reader, field, 'a mapping of secret names to what each secret is', example);
  return (entries ?? []).flatMap((entry) => {
    const name = readScalar(reader, { value: entry.key, path: entry.path }, nameKind);
    const description = readScalar(reader, entry, secretDescriptionKind);
    if (name === undefined || description === undefined) return [];
    return [{ name, description, source: positionOf(reader, entry.key) }];
  });
}

const SYSADMINS_SECTION: InventorySection<Sysadmin[]> = { key: 'sysadmins', read: readSysadmins };
const SECRETS_SECTION: InventorySection<SharedSecret[]> = { key: 'secrets', read: readSecrets };

/** In the order of the file's documentation: the roster, then the secrets. */
export const ACCESS_SECTIONS = [SYSADMINS_SECTION, SECRETS_SECTION] as const;
