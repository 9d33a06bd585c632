// The messages of the storage domain, in English and French (see ../run/catalogue.ts): what an
// lsblk or smartctl output that cannot be read lacks, why a new device is refused (each with the
// device's names and numbers), and the lines that tell a person which disk to pull.
import { both, catalogue, sayer } from '../run/catalogue.js';

const ENTRIES = {
  // --- Outputs that cannot be read (the command's words, or the field, then what was expected).
  notJson: (what: string, start: string) => ({
    en: `${what}: not JSON (it printed "${start}")`,
    fr: `${what} : pas du JSON (la commande a affiché "${start}")`,
  }),
  notAnObject: (what: string) => ({ en: `${what}: a JSON object was expected`, fr: `${what} : objet JSON attendu` }),
  notAList: (what: string) => ({ en: `${what}: a list was expected`, fr: `${what} : liste attendue` }),
  notASize: (what: string) => ({
    en: `${what}: a size in bytes was expected (lsblk -b)`,
    fr: `${what} : taille en octets attendue (lsblk -b)`,
  }),
  notAString: (what: string) => ({ en: `${what}: a string was expected`, fr: `${what} : chaîne attendue` }),
  badLinkLine: (line: string) => ({
    en: `/dev/disk/by-id: "${line}" is not "<link> <target>"`,
    fr: `/dev/disk/by-id : "${line}" n'est pas de la forme "<lien> <cible>"`,
  }),
  smartFailed: (device: string, code: number | string, stderr: string) => ({
    en: `smartctl ${device} printed no JSON (exit ${code}): ${stderr || 'nothing on stderr'}`,
    fr: `smartctl ${device} n'a pas affiché de JSON (code ${code}) : ${stderr || 'rien sur stderr'}`,
  }),

  // --- Why SMART says nothing of a disk (smartctl's own words come after).
  smartNotInstalled: {
    en: 'smartctl is not installed (Debian package smartmontools)',
    fr: "smartctl n'est pas installé (paquet Debian smartmontools)",
  },
  smartUnreadable: (device: string, exitStatus: number, said: string) => ({
    en: `smartctl cannot read ${device} (exit status ${exitStatus}): ${said}`,
    fr: `smartctl ne peut pas lire ${device} (code de sortie ${exitStatus}) : ${said}`,
  }),

  // --- A new device refused: what it is, with its names and numbers, and what to do.
  oldDisk: (device: string, serial: string) => ({
    en: `${device} is the old disk (serial ${serial}) put back: insert the new disk instead`,
    fr:
      `${device} est l'ancien disque (numéro de série ${serial}) remis en place : ` +
      'insérez plutôt le nouveau disque',
  }),
  mounted: (device: string, where: string) => ({
    en: `${device} is mounted (${where}): it is in use on this host; unmount it or choose another device`,
    fr:
      `${device} est monté (${where}) : il est utilisé sur cet hôte ; ` +
      'démontez-le ou choisissez un autre périphérique',
  }),
  /** One mounted device of `mounted`'s list. */
  mountedOn: (device: string, mountpoints: string) => ({
    en: `${device} on ${mountpoints}`,
    fr: `${device} sur ${mountpoints}`,
  }),
  inUse: (device: string, holders: string) => ({
    en:
      `${device} is in use: ${holders} sit on it (active LVM, encryption or RAID); ` +
      'stop them or choose another device',
    fr:
      `${device} est utilisé : ${holders} reposent dessus (LVM actif, chiffrement ou RAID) ; ` +
      'arrêtez-les ou choisissez un autre périphérique',
  }),
  /** One holder of `inUse`'s list: its name and lsblk's type. */
  holder: (name: string, type: string) => both(`${name} (${type})`),
  filesystem: (device: string, signatures: string) => ({
    en:
      `${device} holds data (${signatures}): chaton does not erase a filesystem; if it is unwanted, ` +
      'erase it by hand (wipefs --all) and run again',
    fr:
      `${device} contient des données (${signatures}) : chaton n'efface pas un système de fichiers ; ` +
      "s'il n'est plus voulu, effacez-le à la main (wipefs --all) et relancez",
  }),
  /** One signature of `filesystem`'s or `osd`'s list: where it is, and its type as blkid names it. */
  signature: (device: string, fstype: string) => ({ en: `${fstype} on ${device}`, fr: `${fstype} sur ${device}` }),
  osd: (device: string, where: string) => ({
    en: `${device} holds a Ceph OSD (${where}): another OSD's data; choose another device`,
    fr: `${device} contient un OSD Ceph (${where}) : les données d'un autre OSD ; choisissez un autre périphérique`,
  }),
  tooSmall: (device: string, size: string, needed: string) => ({
    en: `${device} is ${size}, smaller than the ${needed} needed`,
    fr: `${device} fait ${size}, moins que les ${needed} nécessaires`,
  }),
  listSeparator: both(', '),

  // --- Which disk: the lines a person reads before pulling one.
  // Labels, each followed by its value on the same line (describeDisk aligns the values).
  labelHost: { en: 'host:', fr: 'hôte :' },
  labelDevice: { en: 'device:', fr: 'périphérique :' },
  labelSerial: { en: 'serial:', fr: 'n° de série :' },
  labelWwn: { en: 'WWN:', fr: 'WWN :' },
  labelModel: { en: 'model:', fr: 'modèle :' },
  labelSize: { en: 'size:', fr: 'taille :' },
  labelSmart: { en: 'SMART health:', fr: 'santé SMART :' },
  labelById: { en: 'by-id path:', fr: 'chemin by-id :' },
  sizeInBytes: (size: string, bytes: number) => ({ en: `${size} (${bytes} bytes)`, fr: `${size} (${bytes} octets)` }),
  unknown: { en: 'unknown', fr: 'inconnu' },
  smartPassed: { en: 'PASSED', fr: 'PASSED (bon état)' },
  smartFailing: {
    en: 'FAILED: the disk itself predicts its failure',
    fr: 'FAILED : le disque prévoit lui-même sa panne',
  },
  smartNone: (why: string) => ({ en: `not available (${why})`, fr: `indisponible (${why})` }),
  smartNoStatus: { en: 'no health status reported', fr: "pas d'état de santé fourni" },
} as const;

export const messages = catalogue(ENTRIES);

export type { Said } from '../run/catalogue.js';

/** Both texts of an entry, built from the same values: JSON takes the English. */
export const said = sayer(ENTRIES);
