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
import { messages } from './messages.js';
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
// Kinds of values, built when a file is read: their words are in the language of that moment.

/** A kind whose value must match `pattern`. */
function matchingKind(pattern: RegExp, expected: string, hint: string): ScalarKind<string> {
  return { expected, hint, parse: matching(pattern) };
}

// The core schema of yaml 2 reads 2026-12-31 as a string, not as a timestamp.
function dateKind(): ScalarKind<string> {
  return {
    expected: messages.dateExpected,
    hint: messages.dateHint,
    parse: ({ value }) => (typeof value === 'string' && isCalendarDate(value) ? value : undefined),
  };
}

function publicKeyKind(): ScalarKind<string> {
  return {
    expected: messages.publicKeyExpected,
    hint: messages.publicKeyHint(KEY_TYPES.join(', ')),
    parse: ({ value }) => (typeof value === 'string' ? parsePublicKeyLine(value)?.line : undefined),
  };
}

function reportPrivateKey(reader: Reader, field: Field): void {
  report(reader, field.value, field.path, messages.privateKeyPasted, messages.privateKeyPastedHint);
}

/** `keys:` a non-empty list of public key lines. */
const readPublicKeys: ReadField<string[]> = (reader, field) => {
  const hint = messages.publicKeysHint;
  if (isPrivateKey(field.value)) {
    reportPrivateKey(reader, field);
    return undefined;
  }
  const items = listItems(reader, field, messages.publicKeysExpected, hint);
  if (items?.length === 0) {
    report(reader, where(field), field.path, messages.publicKeysEmpty, hint);
  }
  const keyKind = publicKeyKind();
  return items?.flatMap((item) => {
    if (isPrivateKey(item.value)) {
      reportPrivateKey(reader, item);
      return [];
    }
    const key = readScalar(reader, item, keyKind);
    return key === undefined ? [] : [key];
  });
};

// ---------------------------------------------------------------------------------------------
// Sections

/** How each key of a sysadmin's entry is read. */
function sysadminReaders() {
  return {
    login: scalar(userKind),
    name: scalar(matchingKind(PERSON_NAME, messages.personNameExpected, messages.personNameHint)),
    email: scalar(matchingKind(EMAIL, messages.emailExpected, messages.emailHint)),
    keys: readPublicKeys,
    sudo: scalar(booleanKind),
    sudo_commands: scalar(matchingKind(SUDO_COMMANDS, messages.sudoCommandsExpected, messages.sudoCommandsHint)),
    groups: list(posixNameKind('group'), messages.groupsExpected, messages.groupsHint),
    proxmox_role: scalar(matchingKind(PROXMOX_ROLE, messages.proxmoxRoleExpected, messages.proxmoxRoleHint)),
    expires: scalar(dateKind()),
  };
}

/** `sysadmins:` is the roster: a list of volunteers, one mapping each, each login once. */
function readSysadmins(reader: Reader, field: Field): Sysadmin[] {
  if (isEmpty(field.value)) return [];
  const items = listItems(reader, field, messages.sysadminsExpected, messages.sysadminsHint);
  const readers = sysadminReaders();
  const firstLogins = new Map<string, Field>();
  return (items ?? []).flatMap((item) => {
    const read = readSection(reader, item, readers);
    if (!read) return [];
    requireKey(reader, item, read.fields, 'login', messages.addLogin);
    requireKey(reader, item, read.fields, 'keys', messages.addKeys);
    const { login, name, email, keys, sudo, groups, expires } = read.values;
    const { sudo_commands: sudoCommands, proxmox_role: proxmoxRole } = read.values;
    const loginField = read.fields.get('login');
    if (login === undefined || !loginField) return [];
    const firstLogin = firstLogins.get(login);
    if (firstLogin) {
      const firstLine = lineOf(reader, firstLogin.value);
      const message = messages.loginTwice(quoted(login), firstLine);
      report(reader, loginField.value, loginField.path, message, messages.loginTwiceHint);
      return [];
    }
    firstLogins.set(login, loginField);
    const sudoCommandsField = read.fields.get('sudo_commands');
    if (sudoCommands !== undefined && sudo !== true && sudoCommandsField) {
      const { value, path } = sudoCommandsField;
      report(reader, value, path, messages.sudoCommandsWithoutSudo, messages.sudoCommandsWithoutSudoHint);
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
  const entries = readEntries(reader, field, messages.secretsExpected, messages.secretsHint);
  const descriptionKind = textKind(messages.secretDescriptionExpected, messages.secretDescriptionHint);
  return (entries ?? []).flatMap((entry) => {
    const name = readScalar(reader, { value: entry.key, path: entry.path }, nameKind);
    const description = readScalar(reader, entry, descriptionKind);
    if (name === undefined || description === undefined) return [];
    return [{ name, description, source: positionOf(reader, entry.key) }];
  });
}

const SYSADMINS_SECTION: InventorySection<Sysadmin[]> = { key: 'sysadmins', read: readSysadmins };
const SECRETS_SECTION: InventorySection<SharedSecret[]> = { key: 'secrets', read: readSecrets };

/** In the order of the file's documentation: the roster, then the secrets. */
export const ACCESS_SECTIONS = [SYSADMINS_SECTION, SECRETS_SECTION] as const;
