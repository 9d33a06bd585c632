// The messages of the storage domain, in English and French (see ../run/catalogue.ts): what an
// lsblk or smartctl output that cannot be read lacks, why a new device is refused (each with the
// device's names and numbers), and the lines that tell a person which disk to pull.
import { both, catalogue, sayer } from '../run/catalogue.js';

const ENTRIES = {
  // --- Outputs that cannot be read, beyond the core's JSON readers (../remote/json-output.ts).
  notASize: (what: string) => ({
    en: `${what}: a size in bytes was expected (lsblk -b)`,
    fr: `${what} : taille en octets attendue (lsblk -b)`,
  }),
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
  smartNotAsked: { en: 'not asked', fr: 'non demandée' },

  // --- The disk swap's report (swap-report.ts).
  oldDiskTitle: (what: string) => ({ en: `The disk of ${what}:`, fr: `Le disque de ${what} :` }),
  newDiskTitle: { en: 'The new disk:', fr: 'Le nouveau disque :' },
  phaseOutcome: (outcome: string) => ({
    en: outcome === 'planned' ? 'planned' : outcome === 'earlier' ? 'done before' : 'done',
    fr: outcome === 'planned' ? 'prévu' : outcome === 'earlier' ? 'déjà fait' : 'fait',
  }),
  columnPhase: both('PHASE'),
  verdictSwapped: (what: string, host: string) => ({
    en: `${what} on ${host}: disk swapped, the cluster is healthy`,
    fr: `${what} sur ${host} : disque remplacé, le cluster est sain`,
  }),
  verdictResumed: (what: string, host: string) => ({
    en: `${what} on ${host}: the swap left half-way is finished, the cluster is healthy`,
    fr: `${what} sur ${host} : le remplacement laissé à mi-chemin est terminé, le cluster est sain`,
  }),
  verdictUnchanged: (what: string, host: string) => ({
    en: `${what} on ${host}: already on the disk asked for, unchanged`,
    fr: `${what} sur ${host} : déjà sur le disque demandé, inchangé`,
  }),
  verdictPlanned: (what: string, host: string) => ({
    en: `${what} on ${host}: dry-run, nothing changed`,
    fr: `${what} sur ${host} : simulation, rien n'a changé`,
  }),
  verdictRefused: (what: string, host: string) => ({
    en: `${what} on ${host}: refused, nothing changed`,
    fr: `${what} sur ${host} : refusé, rien n'a changé`,
  }),
  verdictStalled: (what: string, host: string) => ({
    en: `${what} on ${host}: the data stopped moving; nothing destroyed`,
    fr: `${what} sur ${host} : les données ne bougent plus ; rien n'est détruit`,
  }),
  verdictInterrupted: (what: string, host: string) => ({
    en: `${what} on ${host}: interrupted; the same command continues the swap`,
    fr: `${what} sur ${host} : interrompu ; la même commande poursuit le remplacement`,
  }),
  verdictFailed: (what: string, host: string) => ({
    en: `${what} on ${host}: the swap failed`,
    fr: `${what} sur ${host} : le remplacement a échoué`,
  }),
} as const;

export const messages = catalogue(ENTRIES);

export type { Said } from '../run/catalogue.js';

/** Both texts of an entry, built from the same values: JSON takes the English. */
export const said = sayer(ENTRIES);
