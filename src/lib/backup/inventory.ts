// The `backups:` section of the inventory: the policy every guest's backups must meet, its
// overrides, and the targets that hold the copies (a vzdump dump directory, a PBS datastore, a
// restic or a borg repository), each on an inventory host. Read through the core reader, so that
// every problem is reported at file:line:col with a next step; src/lib/domains.ts registers it.
import {
  booleanKind,
  envVarNameKind,
  matching,
  nameKind,
  scalarKind,
  storageIdKind,
  textKind,
  wholeNumberKind,
} from '../inventory/kinds.js';
import { isSeq } from 'yaml';
import {
  type Field,
  isInventoryHost,
  isEmpty,
  list,
  listItems,
  positionOf,
  type Reader,
  readEntries,
  readScalar,
  readSection,
  report,
  requireKey,
  scalar,
  scalarText,
  type ScalarKind,
  type SectionValues,
  where,
} from '../inventory/reader.js';
import { type InventorySection, type SectionContext, sectionOf } from '../inventory/sections.js';
import type { Inventory, SourcePosition } from '../inventory/types.js';
import { hasUnprintable, quoted } from '../run/printable.js';
import { parseSize } from '../inventory/sizes.js';
import { parseDuration } from '../inventory/durations.js';
import { type DataSubset, parseSubset } from './durations.js';
import { messages } from './messages.js';

/** What every guest's backups must meet; durations in seconds. */
export interface BackupPolicy {
  /** The newest copy is younger than this. */
  maxAge: number;
  /** Copies kept on a target. */
  minCopies: number;
  /** The oldest kept copy is at least this old: retention really keeps what it should. */
  minSpan?: number;
  /** How many targets must hold a fresh copy (2: an offsite copy too). */
  targets: number;
  /** PBS: the newest snapshot was verified at most this long ago. */
  verifyAge?: number;
  /** The last good restore test is at most this old. */
  restoreTestAge?: number;
  /** The last measured restore took at most this long. */
  maxRestoreTime?: number;
}

/** Which guests an override applies to, as written: a VMID, a name, a glob, `pool:X` or `tag:Y`. */
export type GuestSelector = { text: string; source: SourcePosition } & (
  | { kind: 'vmid'; vmid: number }
  | { kind: 'name'; name: string }
  | { kind: 'glob'; pattern: string }
  | { kind: 'pool'; pool: string }
  | { kind: 'tag'; tag: string }
);

/** Later overrides win over earlier ones, key by key; an exclusion takes the guests out with its reason. */
export interface PolicyOverride {
  guests: GuestSelector[];
  policy: Partial<BackupPolicy>;
  exclude?: string;
  source: SourcePosition;
}

/** A secret read on the target host from a file, or the value of an operator's environment variable. */
export type SecretRef = { file: string } | { env: string };

/** How restic snapshots map to guests: the snapshot's host is the guest's name, or a tag carries its VMID. */
export type GuestFrom = { hostname: true } | { tagPrefix: string };

interface TargetBase {
  name: string;
  /** The inventory host where the checks run. */
  host: string;
  source: SourcePosition;
}

export interface VzdumpTarget extends TargetBase {
  type: 'vzdump';
  /** The dump directory, absolute, on that host. */
  path: string;
}

export interface PbsTarget extends TargetBase {
  type: 'pbs';
  /** `[[user@realm@]server[:port]:]datastore`, as PBS_REPOSITORY takes it. */
  repository: string;
  password: SecretRef;
  /** The server certificate's SHA-256 fingerprint, when it is not trusted otherwise. */
  fingerprint?: string;
}

export interface ResticTarget extends TargetBase {
  type: 'restic';
  repository: string;
  password: SecretRef;
  guestFrom: GuestFrom;
  /** What `restic check` reads of the data; absent: the structure only. */
  checkSubset?: DataSubset;
  /** Hosts outside Proxmox backed up here, by snapshot host name. */
  extraGuests: string[];
}

export interface BorgTarget extends TargetBase {
  type: 'borg';
  repository: string;
  /** Absent for an unencrypted repository. */
  passphrase?: SecretRef;
  /** Which archives belong to a guest: a glob with `{name}` or `{vmid}`. */
  archivePattern: string;
  /** `borg check --verify-data`: reads and authenticates every chunk. */
  verifyData: boolean;
  extraGuests: string[];
}

export type BackupTarget = VzdumpTarget | PbsTarget | ResticTarget | BorgTarget;
export type TargetType = BackupTarget['type'];

/** VMIDs from `first` to `last`, both included: reserved for restore tests, never a guest's. */
export interface VmidRange {
  first: number;
  last: number;
}

/**
 * Where `backup verify --restore-test` restores: vzdump and PBS copies into a spare VMID of
 * `vmids` on `node`'s `storage`; restic and borg copies into a fresh directory under `scratchDir`
 * on `host` (default: each target's host); either refused when less than `minFree` bytes are free.
 */
export interface RestoreTestSettings {
  node?: string;
  storage?: string;
  vmids?: VmidRange;
  /** Where `node` reads a vzdump target's dump directory (an NFS storage mounted there); default: the target's path. */
  dumpPath?: string;
  /** The storage of the cluster that holds the PBS datastore: qmrestore reads `<it>:backup/vm/<id>/<time>`. */
  pbsStorage?: string;
  host?: string;
  scratchDir?: string;
  minFree: number;
  /** Files compared by checksum, by guest name or VMID, or `default`; `{name}` is the guest's name. */
  canaries: Map<string, string[]>;
  source: SourcePosition;
}

export interface BackupsSection {
  policy: BackupPolicy;
  overrides: PolicyOverride[];
  targets: BackupTarget[];
  /** Expensive checks (integrity) at once on one host. */
  concurrencyPerHost: number;
  /** What a target that cannot be read means for what it would have proved. */
  unreachable: 'unknown' | 'critical';
  /** Undefined: no restore test can run (`--restore-test` says so). */
  restoreTest?: RestoreTestSettings;
  source: SourcePosition;
}

/** The `backups:` section, undefined when the inventory has none. */
export function backupsOf(inventory: Inventory): BackupsSection | undefined {
  return sectionOf(inventory, BACKUPS_SECTION);
}

const DEFAULT_POLICY: BackupPolicy = { maxAge: 26 * 3600, minCopies: 1, targets: 1 };
const DEFAULT_CONCURRENCY = 2;
const DEFAULT_ARCHIVE_PATTERN = '{name}-*';
/** Free space a restore test wants on the storage or in the scratch directory, unless the inventory says. */
const DEFAULT_MIN_FREE = 1024 ** 3;
const TARGET_TYPES: readonly TargetType[] = ['vzdump', 'pbs', 'restic', 'borg'];

// ---------------------------------------------------------------------------------------------
// Kinds of values

const durationKind = scalarKind(
  () => messages.durationExpected,
  () => messages.durationHint,
  (value) => {
    const text = scalarText(value);
    return text === undefined ? undefined : parseDuration(text);
  },
);

function wholeNumber(min: number, max: number, hint: () => string): ScalarKind<number> {
  const numbers = wholeNumberKind('', '', min, max);
  return scalarKind(() => messages.wholeNumberExpected(min, max), hint, numbers.parse);
}

function oneOf<T extends string>(values: readonly T[], expected: () => string, hint: () => string): ScalarKind<T> {
  return scalarKind(expected, hint, ({ value }) => (values.includes(value as T) ? (value as T) : undefined));
}

/** Paths and repositories reach the tools as arguments: never one that reads as an option. */
const notAnOption = (text: string) => !text.startsWith('-') && !hasUnprintable(text);

const remotePathKind = scalarKind(
  () => messages.remotePathExpected,
  () => messages.remotePathHint,
  ({ value }) => (typeof value === 'string' && /^\/./.test(value) && notAnOption(value) ? value : undefined),
);

/** restic: a path or `backend:...`; borg: a path, `ssh://...` or `user@host:path`. */
function repositoryKind(hint: () => string): ScalarKind<string> {
  return scalarKind(
    () => messages.repositoryExpected,
    hint,
    ({ value }) => (typeof value === 'string' && /^\S/.test(value) && notAnOption(value) ? value : undefined),
  );
}

const PBS_REPOSITORY =
  /^(?:(?:[^\s@:]+@[^\s@:]+@)?(?:\[[0-9A-Fa-f:.]+\]|[^\s@:[\]]+)(?::[0-9]{1,5})?:)?[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const fingerprintKind = scalarKind(
  () => messages.fingerprintExpected,
  () => messages.fingerprintHint,
  matching(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/),
);

/** Secret files live on the target host: absolute paths there. */
const secretFileKind = remotePathKind;

const guestFromKind = scalarKind<GuestFrom>(
  () => messages.guestFromExpected,
  () => messages.guestFromHint,
  ({ value }) => {
    if (value === 'hostname') return { hostname: true };
    const prefix = typeof value === 'string' ? /^tag:(\S+)$/.exec(value)?.[1] : undefined;
    return prefix === undefined ? undefined : { tagPrefix: prefix };
  },
);

const subsetKind = scalarKind(
  () => messages.subsetExpected,
  () => messages.subsetHint,
  (value) => {
    const text = scalarText(value);
    return text === undefined ? undefined : parseSubset(text);
  },
);

/** A glob over archive names, with the guest's name or VMID in it. */
const archivePatternKind = scalarKind(
  () => messages.archivePatternExpected,
  () => messages.archivePatternHint,
  ({ value }) =>
    typeof value === 'string' && /\{(name|vmid)\}/.test(value) && !/\{(?!name\}|vmid\})/.test(value)
      ? value
      : undefined,
);

/** Proxmox guest names are DNS names; hosts outside Proxmox too. */
const GUEST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$/;
const guestNameKind = scalarKind(
  () => messages.guestNameExpected,
  () => messages.guestNameHint,
  matching(GUEST_NAME),
);

/** Proxmox VE takes VMIDs from 100 to 999999999. */
const MIN_VMID = 100;
const MAX_VMID = 999_999_999;
const GLOB = /[*?]/;

type WithoutSource<T> = T extends unknown ? Omit<T, 'source'> : never;
type SelectorValue = WithoutSource<GuestSelector>;

function selectorOf(text: string): SelectorValue | undefined {
  if (/^[0-9]+$/.test(text)) {
    const vmid = Number(text);
    return vmid >= MIN_VMID && vmid <= MAX_VMID ? { text, kind: 'vmid', vmid } : undefined;
  }
  const [, prefix, rest] = /^(pool|tag):(.+)$/.exec(text) ?? [];
  if (prefix === 'pool' && rest && /^[A-Za-z0-9_.-]+$/.test(rest)) return { text, kind: 'pool', pool: rest };
  if (prefix === 'tag' && rest && /^[A-Za-z0-9_+.-]+$/i.test(rest))
    return { text, kind: 'tag', tag: rest.toLowerCase() };
  if (GLOB.test(text) && /^[A-Za-z0-9.*?-]+$/.test(text)) return { text, kind: 'glob', pattern: text };
  return GUEST_NAME.test(text) ? { text, kind: 'name', name: text } : undefined;
}

const selectorKind = scalarKind(
  () => messages.selectorExpected,
  () => messages.selectorHint,
  (value) => {
    const text = scalarText(value);
    return text === undefined ? undefined : selectorOf(text);
  },
);

const exclusionKind = textKind('', '');
const reasonKind = scalarKind(
  () => messages.excludeExpected,
  () => messages.excludeHint,
  exclusionKind.parse,
);

const sizeKind = scalarKind(
  () => messages.sizeExpected,
  () => messages.sizeHint,
  (value) => {
    const text = scalarText(value);
    return text === undefined ? undefined : parseSize(text);
  },
);

/** At most this many VMIDs reserved: a range is a handful of spares, not a block of the cluster's IDs. */
const MAX_RESERVED_VMIDS = 1000;

const vmidRangeKind = scalarKind<VmidRange>(
  () => messages.vmidRangeExpected,
  () => messages.vmidRangeHint,
  (value) => {
    const [, first, last] = /^([0-9]+)(?:-([0-9]+))?$/.exec(scalarText(value) ?? '') ?? [];
    if (first === undefined) return undefined;
    const range = { first: Number(first), last: Number(last ?? first) };
    const valid = (vmid: number) => vmid >= MIN_VMID && vmid <= MAX_VMID;
    const sized = range.last >= range.first && range.last - range.first < MAX_RESERVED_VMIDS;
    return valid(range.first) && valid(range.last) && sized ? range : undefined;
  },
);

/** A canary: a file's absolute path as the backup holds it, `{name}` standing for the guest's name. */
const canaryKind = scalarKind(
  () => messages.canaryExpected,
  () => messages.canaryHint,
  ({ value }) =>
    typeof value === 'string' && /^\/./.test(value) && !hasUnprintable(value) && !/\{(?!name\})/.test(value)
      ? value
      : undefined,
);

/** `canaries:`: `default` or a guest (name or VMID) to its list of files. */
function readCanaries(reader: Reader, field: Field): Map<string, string[]> | undefined {
  const entries = readEntries(reader, field, messages.canariesExpected, messages.canariesHint);
  if (!entries) return undefined;
  const read = list(canaryKind, messages.canaryListExpected, messages.canaryHint);
  const canaries = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.name !== 'default' && !selectorOf(entry.name)?.kind.match(/^(vmid|name)$/)) {
      report(reader, entry.key, entry.path, messages.canaryGuestInvalid(quoted(entry.name)), messages.canariesHint);
      continue;
    }
    const paths = read(reader, entry);
    if (paths) canaries.set(entry.name, paths);
  }
  return canaries;
}

const restoreTestReaders = {
  node: scalar(nameKind),
  storage: scalar(storageIdKind),
  pbs_storage: scalar(storageIdKind),
  vmids: scalar(vmidRangeKind),
  dump_path: scalar(remotePathKind),
  host: scalar(nameKind),
  scratch_dir: scalar(remotePathKind),
  min_free: scalar(sizeKind),
  canaries: readCanaries,
};

/** The guests' VMs need all three of node, storage and vmids; node and host are inventory hosts. */
function readRestoreTest(reader: Reader, field: Field, context: SectionContext): RestoreTestSettings | undefined {
  const read = readSection(reader, field, restoreTestReaders);
  if (!read) return undefined;
  const { fields, values } = read;
  const vmKeys = ['node', 'storage', 'vmids'] as const;
  if (vmKeys.some((key) => fields.has(key))) {
    for (const key of vmKeys) requireKey(reader, field, fields, key, messages.restoreVmKeysHint);
  }
  if (fields.has('host') || fields.has('canaries')) {
    requireKey(reader, field, fields, 'scratch_dir', messages.scratchDirHint);
  }
  let hostsKnown = true;
  for (const key of ['node', 'host'] as const) {
    const hostField = fields.get(key);
    const name = values[key];
    if (hostField && name !== undefined) hostsKnown = checkHost(reader, hostField, name, context) && hostsKnown;
  }
  const hasWrongValue = [...fields.keys()].some((key) => !(key in values));
  if (!hostsKnown || hasWrongValue) return undefined;
  return {
    ...(values.node === undefined ? {} : { node: values.node }),
    ...(values.storage === undefined ? {} : { storage: values.storage }),
    ...(values.vmids === undefined ? {} : { vmids: values.vmids }),
    ...(values.dump_path === undefined ? {} : { dumpPath: values.dump_path }),
    ...(values.pbs_storage === undefined ? {} : { pbsStorage: values.pbs_storage }),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.scratch_dir === undefined ? {} : { scratchDir: values.scratch_dir }),
    minFree: values.min_free ?? DEFAULT_MIN_FREE,
    canaries: values.canaries ?? new Map(),
    source: positionOf(reader, field.key ?? where(field)),
  };
}

// ---------------------------------------------------------------------------------------------
// Sections

const policyReaders = {
  max_age: scalar(durationKind),
  min_copies: scalar(wholeNumber(1, 10_000, () => messages.minCopiesHint)),
  min_span: scalar(durationKind),
  targets: scalar(wholeNumber(1, 100, () => messages.targetsHint)),
  verify_age: scalar(durationKind),
  restore_test_age: scalar(durationKind),
  max_restore_time: scalar(durationKind),
};
type PolicyKey = keyof typeof policyReaders;
const POLICY_KEYS = Object.keys(policyReaders) as PolicyKey[];

function policyOf(values: SectionValues<typeof policyReaders>): Partial<BackupPolicy> {
  const policy: Partial<BackupPolicy> = {};
  if (values.max_age !== undefined) policy.maxAge = values.max_age;
  if (values.min_copies !== undefined) policy.minCopies = values.min_copies;
  if (values.min_span !== undefined) policy.minSpan = values.min_span;
  if (values.targets !== undefined) policy.targets = values.targets;
  if (values.verify_age !== undefined) policy.verifyAge = values.verify_age;
  if (values.restore_test_age !== undefined) policy.restoreTestAge = values.restore_test_age;
  if (values.max_restore_time !== undefined) policy.maxRestoreTime = values.max_restore_time;
  return policy;
}

/** The guests of an override: one selector or a list, none empty; each with its position. */
function readSelectors(reader: Reader, field: Field): GuestSelector[] | undefined {
  const items = isSeq(field.value)
    ? listItems(reader, field, messages.selectorExpected, messages.selectorHint)
    : [field];
  if (items?.length === 0) {
    report(reader, where(field), field.path, messages.guestsEmpty, messages.selectorHint);
    return undefined;
  }
  return items?.flatMap((item) => {
    const selector = readScalar(reader, item, selectorKind);
    return selector ? [{ ...selector, source: positionOf(reader, where(item)) } as GuestSelector] : [];
  });
}

const overrideReaders = { guests: readSelectors, exclude: scalar(reasonKind), ...policyReaders };

function readOverrides(reader: Reader, field: Field): { override: PolicyOverride; fields: Map<string, Field> }[] {
  if (isEmpty(field.value)) return [];
  const items = listItems(reader, field, messages.overridesExpected, messages.overridesHint);
  return (items ?? []).flatMap((item) => {
    const read = readSection(reader, item, overrideReaders);
    if (!read) return [];
    requireKey(reader, item, read.fields, 'guests', messages.overrideGuestsHint);
    const { guests, exclude } = read.values;
    if (exclude !== undefined) {
      for (const key of POLICY_KEYS) {
        const policyField = read.fields.get(key);
        if (policyField?.key) {
          report(
            reader,
            policyField.key,
            policyField.path,
            messages.excludeWithPolicy(key),
            messages.excludeWithPolicyHint(key),
          );
        }
      }
    }
    if (!guests?.length) return [];
    const override: PolicyOverride = {
      guests,
      policy: policyOf(read.values),
      ...(exclude === undefined ? {} : { exclude }),
      source: positionOf(reader, where(item)),
    };
    return [{ override, fields: read.fields }];
  });
}

const targetReaders = {
  type: scalar(
    oneOf(
      TARGET_TYPES,
      () => messages.targetTypeExpected,
      () => messages.targetTypeHint,
    ),
  ),
  host: scalar(nameKind),
  path: scalar(remotePathKind),
  repository: (reader: Reader, field: Field) =>
    readScalar(
      reader,
      field,
      repositoryKind(() => messages.repositoryHint),
    ),
  password_file: scalar(secretFileKind),
  password_env: scalar(envVarNameKind),
  passphrase_file: scalar(secretFileKind),
  passphrase_env: scalar(envVarNameKind),
  fingerprint: scalar(fingerprintKind),
  guest_from: scalar(guestFromKind),
  check_subset: scalar(subsetKind),
  archive_pattern: scalar(archivePatternKind),
  verify_data: scalar(booleanKind),
  extra_guests: (reader: Reader, field: Field) =>
    list(guestNameKind, messages.extraGuestsExpected, messages.extraGuestsHint)(reader, field),
};
type TargetKey = keyof typeof targetReaders;
type TargetValues = SectionValues<typeof targetReaders>;

/** The keys each type of target takes besides `type` and `host`. */
const KEYS_OF_TYPE: Record<TargetType, readonly TargetKey[]> = {
  vzdump: ['path'],
  pbs: ['repository', 'password_file', 'password_env', 'fingerprint'],
  restic: ['repository', 'password_file', 'password_env', 'guest_from', 'check_subset', 'extra_guests'],
  borg: ['repository', 'passphrase_file', 'passphrase_env', 'archive_pattern', 'verify_data', 'extra_guests'],
};

/** The secret of a target: one of its file key and its environment key. */
function readSecret(
  reader: Reader,
  entry: Field,
  fields: Map<string, Field>,
  values: TargetValues,
  keys: ['password_file', 'password_env'] | ['passphrase_file', 'passphrase_env'],
  required: boolean,
): SecretRef | undefined | null {
  const [fileKey, envKey] = keys;
  const file = values[fileKey];
  const env = values[envKey];
  const envField = fields.get(envKey);
  if (fields.has(fileKey) && envField) {
    report(
      reader,
      envField.key ?? where(envField),
      envField.path,
      messages.secretBoth(fileKey, envKey),
      messages.secretBothHint,
    );
    return null;
  }
  if (file !== undefined) return { file };
  if (env !== undefined) return { env };
  if (fields.has(fileKey) || fields.has(envKey)) return null;
  if (required)
    report(
      reader,
      entry.key ?? where(entry),
      entry.path,
      messages.secretMissing(fileKey, envKey),
      messages.secretMissingHint(fileKey, envKey),
    );
  return required ? null : undefined;
}

function checkHost(reader: Reader, field: Field, host: string, context: SectionContext): boolean {
  return isInventoryHost(reader, field, host, context, messages.unknownHostHint);
}

function readTarget(
  reader: Reader,
  entry: Field & { name: string },
  context: SectionContext,
): BackupTarget | undefined {
  const read = readSection(reader, entry, targetReaders);
  if (!read) return undefined;
  const { fields, values } = read;
  requireKey(reader, entry, fields, 'type', messages.targetTypeMissingHint);
  requireKey(reader, entry, fields, 'host', messages.targetHostMissingHint);
  const { type, host } = values;
  const hostField = fields.get('host');
  const hostKnown = host !== undefined && hostField !== undefined && checkHost(reader, hostField, host, context);
  if (type === undefined) return undefined;
  let wrongKey = false;
  for (const [key, field] of fields) {
    if (key === 'type' || key === 'host' || KEYS_OF_TYPE[type].includes(key as TargetKey)) continue;
    const types = TARGET_TYPES.filter((other) => KEYS_OF_TYPE[other].includes(key as TargetKey));
    report(
      reader,
      field.key ?? where(field),
      field.path,
      messages.keyOfOtherType(key, types.join(', '), type),
      messages.keyOfOtherTypeHint,
    );
    wrongKey = true;
  }
  const required = (key: TargetKey, hint: string) => requireKey(reader, entry, fields, key, hint);
  if (type === 'vzdump') required('path', messages.pathMissingHint);
  else required('repository', messages.repositoryMissingHint(type));
  const secret =
    type === 'pbs' || type === 'restic'
      ? readSecret(reader, entry, fields, values, ['password_file', 'password_env'], true)
      : type === 'borg'
        ? readSecret(reader, entry, fields, values, ['passphrase_file', 'passphrase_env'], false)
        : undefined;
  // A wrong value (already reported) would fall back to its default and confuse what follows.
  const hasWrongValue = [...fields.keys()].some((key) => !(key in values));
  if (!hostKnown || host === undefined || wrongKey || hasWrongValue || secret === null) return undefined;
  const base = { name: entry.name, host, source: positionOf(reader, entry.key ?? where(entry)) };
  const { path, repository, fingerprint } = values;
  switch (type) {
    case 'vzdump':
      return path === undefined ? undefined : { ...base, type, path };
    case 'pbs':
      if (repository === undefined || !secret) return undefined;
      if (!PBS_REPOSITORY.test(repository)) {
        const field = fields.get('repository')!;
        report(
          reader,
          where(field),
          field.path,
          messages.pbsRepositoryInvalid(quoted(repository)),
          messages.pbsRepositoryHint,
        );
        return undefined;
      }
      return { ...base, type, repository, password: secret, ...(fingerprint === undefined ? {} : { fingerprint }) };
    case 'restic':
      if (repository === undefined || !secret) return undefined;
      return {
        ...base,
        type,
        repository,
        password: secret,
        guestFrom: values.guest_from ?? { hostname: true },
        ...(values.check_subset === undefined ? {} : { checkSubset: values.check_subset }),
        extraGuests: values.extra_guests ?? [],
      };
    case 'borg':
      if (repository === undefined) return undefined;
      return {
        ...base,
        type,
        repository,
        ...(secret ? { passphrase: secret } : {}),
        archivePattern: values.archive_pattern ?? DEFAULT_ARCHIVE_PATTERN,
        verifyData: values.verify_data ?? false,
        extraGuests: values.extra_guests ?? [],
      };
  }
}

/** The targets read well, and how many the file defines (well or not). */
function readTargets(
  reader: Reader,
  field: Field,
  context: SectionContext,
): { targets: BackupTarget[]; defined: number } {
  const entries = readEntries(reader, field, messages.targetsExpected, messages.targetsExpectedHint);
  if (entries?.length === 0) {
    report(reader, field.key ?? where(field), field.path, messages.noTargets, messages.targetsExpectedHint);
  }
  const targets = (entries ?? []).flatMap((entry) => {
    const name = readScalar(reader, { value: entry.key, path: entry.path }, nameKind);
    if (name === undefined) return [];
    const target = readTarget(reader, entry, context);
    return target ? [target] : [];
  });
  return { targets, defined: entries?.length ?? 0 };
}

const sectionReaders = {
  policy: (reader: Reader, field: Field) => readSection(reader, field, policyReaders),
  concurrency_per_host: scalar(wholeNumber(1, 16, () => messages.concurrencyHint)),
  unreachable: scalar(
    oneOf(
      ['unknown', 'critical'] as const,
      () => messages.unreachableExpected,
      () => messages.unreachableHint,
    ),
  ),
  overrides: (reader: Reader, field: Field) => readOverrides(reader, field),
  targets: (_reader: Reader, field: Field) => field,
  restore_test: (_reader: Reader, field: Field) => field,
};

/** No policy may want more targets than the section defines. */
function checkTargetCounts(
  reader: Reader,
  policies: { fields?: Map<string, Field>; targets?: number }[],
  defined: number,
): void {
  for (const { fields, targets: wanted } of policies) {
    const field = fields?.get('targets');
    if (field && wanted !== undefined && wanted > defined) {
      const message = messages.moreTargetsThanDefined(wanted, defined);
      report(reader, where(field), field.path, message, messages.moreTargetsThanDefinedHint);
    }
  }
}

function readBackups(reader: Reader, field: Field, context: SectionContext): BackupsSection | undefined {
  if (isEmpty(field.value) && !field.key) return undefined;
  const read = readSection(reader, field, sectionReaders);
  if (!read) return undefined;
  requireKey(reader, field, read.fields, 'targets', messages.targetsExpectedHint);
  const targetsField = read.values.targets;
  const { targets, defined } = targetsField ? readTargets(reader, targetsField, context) : { targets: [], defined: 0 };
  const policyRead = read.values.policy;
  const overrides = read.values.overrides ?? [];
  const policies = [
    { fields: policyRead?.fields, targets: policyRead?.values.targets },
    ...overrides.map(({ override, fields }) => ({ fields, targets: override.policy.targets })),
  ];
  if (targetsField) checkTargetCounts(reader, policies, defined);
  const restoreField = read.values.restore_test;
  const restoreTest =
    restoreField && !isEmpty(restoreField.value) ? readRestoreTest(reader, restoreField, context) : undefined;
  return {
    policy: { ...DEFAULT_POLICY, ...policyOf(policyRead?.values ?? {}) },
    overrides: overrides.map(({ override }) => override),
    targets,
    concurrencyPerHost: read.values.concurrency_per_host ?? DEFAULT_CONCURRENCY,
    unreachable: read.values.unreachable ?? 'unknown',
    ...(restoreTest ? { restoreTest } : {}),
    source: positionOf(reader, field.key ?? where(field)),
  };
}

const BACKUPS_SECTION: InventorySection<BackupsSection | undefined> = { key: 'backups', read: readBackups };

export const BACKUP_SECTIONS = [BACKUPS_SECTION] as const;
