// The messages of the backup domain, in English and French (see ../run/catalogue.ts): the
// inventory's `backups:` section, the judgement's reasons (each saying what to do), the table.
// JSON, Nagios and Prometheus take the English text of the same entries (see said()).
import { catalogue, language, type Texts } from '../run/catalogue.js';

const ENTRIES = {
  // --- The inventory: what a value must be (completes "must be ..."), and how to write it.
  durationExpected: {
    en: 'a duration: a whole number and one unit, m, h, d or w',
    fr: 'une durée : un nombre entier et une unité, m, h, d ou w',
  },
  durationHint: {
    en: 'for example 90m, 26h, 4d or 2w: minutes, hours, days, weeks; not "4 days" nor "1.5d"',
    fr: 'par exemple 90m, 26h, 4d ou 2w : minutes, heures, jours, semaines ; ni "4 days" ni "1.5d"',
  },
  wholeNumberExpected: (min: number, max: number) => ({
    en: `a whole number from ${min} to ${max}`,
    fr: `un nombre entier de ${min} à ${max}`,
  }),
  minCopiesHint: {
    en: 'how many copies of each guest a target must keep, written without quotes',
    fr: 'combien de copies de chaque invité une cible doit garder, écrit sans guillemets',
  },
  targetsHint: {
    en: 'on how many targets each guest must have a fresh copy (2: an offsite copy too)',
    fr: 'sur combien de cibles chaque invité doit avoir une copie récente (2 : une copie hors site aussi)',
  },
  concurrencyHint: {
    en: 'how many expensive checks may run at once on one backup host, usually 2',
    fr: 'combien de vérifications coûteuses peuvent tourner à la fois sur un hôte de sauvegarde, en général 2',
  },
  unreachableExpected: { en: '"unknown" or "critical"', fr: '"unknown" ou "critical"' },
  unreachableHint: {
    en: 'what a backup host that cannot be read means for the guests it would have proved restorable',
    fr: "ce que signifie un hôte de sauvegarde illisible pour les invités qu'il aurait prouvés restaurables",
  },
  selectorExpected: {
    en: 'a guest: a VMID, a name, a glob, pool:NAME or tag:NAME',
    fr: 'un invité : un VMID, un nom, un motif, pool:NOM ou tag:NOM',
  },
  selectorHint: {
    en: 'for example guests: [100, web, "test-*", pool:prod, tag:dev]; a VMID is 100 or more',
    fr: 'par exemple guests: [100, web, "test-*", pool:prod, tag:dev] ; un VMID vaut 100 ou plus',
  },
  guestsEmpty: { en: 'lists no guest', fr: 'ne cite aucun invité' },
  overridesExpected: { en: 'a list of overrides', fr: 'une liste de dérogations' },
  overridesHint: {
    en: 'each one "- guests: [...]" with the policy keys it changes, or exclude: and the reason',
    fr: 'chacune "- guests: [...]" avec les clés de politique qu\'elle change, ou exclude: et la raison',
  },
  overrideGuestsHint: {
    en: 'add `guests:` with the guests it applies to',
    fr: "ajoutez `guests:` avec les invités auxquels elle s'applique",
  },
  excludeExpected: {
    en: 'the reason why these guests are not backed up',
    fr: 'la raison pour laquelle ces invités ne sont pas sauvegardés',
  },
  excludeHint: {
    en: 'say why, for example exclude: scratch VM, rebuilt from its template when needed',
    fr: 'dites pourquoi, par exemple exclude: VM jetable, refaite depuis son modèle au besoin',
  },
  excludeWithPolicy: (key: string) => ({
    en: `an excluded guest has no policy: ${key} would not apply`,
    fr: `un invité exclu n'a pas de politique : ${key} ne s'appliquerait pas`,
  }),
  excludeWithPolicyHint: (key: string) => ({
    en: `remove ${key}, or the exclude`,
    fr: `retirez ${key}, ou l'exclusion`,
  }),
  targetTypeExpected: { en: '"vzdump", "pbs", "restic" or "borg"', fr: '"vzdump", "pbs", "restic" ou "borg"' },
  targetTypeHint: {
    en: 'vzdump: a dump directory; pbs: a Proxmox Backup Server datastore; restic, borg: a repository',
    fr: 'vzdump : un répertoire de dumps ; pbs : un datastore Proxmox Backup Server ; restic, borg : un dépôt',
  },
  targetTypeMissingHint: {
    en: 'add `type:` (vzdump, pbs, restic or borg)',
    fr: 'ajoutez `type:` (vzdump, pbs, restic ou borg)',
  },
  targetHostMissingHint: {
    en: 'add `host:` with the inventory host where the copies are read',
    fr: "ajoutez `host:` avec l'hôte de l'inventaire où les copies sont lues",
  },
  unknownHost: (host: string) => ({
    en: `${host} is not a host of the inventory`,
    fr: `${host} n'est pas un hôte de l'inventaire`,
  }),
  unknownHostHint: {
    en: 'define it under `hosts:`: chaton reads the copies there, over SSH',
    fr: 'définissez-le sous `hosts:` : chaton y lit les copies, par SSH',
  },
  didYouMean: (guess: string) => ({ en: `did you mean ${guess}?`, fr: `vouliez-vous dire ${guess} ?` }),
  keyOfOtherType: (key: string, types: string, type: string) => ({
    en: `${key} is a key of ${types} targets, not of ${type} ones`,
    fr: `${key} est une clé des cibles ${types}, pas des cibles ${type}`,
  }),
  keyOfOtherTypeHint: { en: 'remove it, or change `type:`', fr: 'retirez-la, ou changez `type:`' },
  pathMissingHint: {
    en: 'add `path:` with the dump directory on that host',
    fr: 'ajoutez `path:` avec le répertoire des dumps sur cet hôte',
  },
  repositoryMissingHint: (type: string) => ({
    en: `add \`repository:\` with the ${type} repository`,
    fr: `ajoutez \`repository:\` avec le dépôt ${type}`,
  }),
  secretMissing: (fileKey: string, envKey: string) => ({
    en: `has neither ${fileKey} nor ${envKey}`,
    fr: `n'a ni ${fileKey} ni ${envKey}`,
  }),
  secretMissingHint: (fileKey: string, envKey: string) => ({
    en: `add ${fileKey}: (a file on that host) or ${envKey}: (a variable of your environment); never the secret itself`,
    fr:
      `ajoutez ${fileKey}: (un fichier sur cet hôte) ou ${envKey}: (une variable de votre environnement) ; ` +
      'jamais le secret lui-même',
  }),
  secretBoth: (fileKey: string, envKey: string) => ({
    en: `has both ${fileKey} and ${envKey}`,
    fr: `a à la fois ${fileKey} et ${envKey}`,
  }),
  secretBothHint: { en: 'keep one of them', fr: "gardez l'un des deux" },
  remotePathExpected: { en: 'an absolute path on that host', fr: 'un chemin absolu sur cet hôte' },
  remotePathHint: {
    en: 'starting with "/", on one line, for example /srv/backup/dump',
    fr: 'commençant par "/", sur une ligne, par exemple /srv/backup/dump',
  },
  repositoryExpected: { en: 'a repository', fr: 'un dépôt' },
  repositoryHint: {
    en: 'an absolute path on that host, or a URL the tool takes (sftp:..., ssh://...), not starting with "-"',
    fr: 'un chemin absolu sur cet hôte, ou une URL que l\'outil accepte (sftp:..., ssh://...), sans "-" au début',
  },
  pbsRepositoryExpected: { en: 'a PBS repository', fr: 'un dépôt PBS' },
  pbsRepositoryInvalid: (repository: string) => ({
    en: `${repository} is not a PBS repository`,
    fr: `${repository} n'est pas un dépôt PBS`,
  }),
  pbsRepositoryHint: {
    en: '[[user@realm@]server[:port]:]datastore, for example root@pam@localhost:store1',
    fr: '[[utilisateur@royaume@]serveur[:port]:]datastore, par exemple root@pam@localhost:store1',
  },
  fingerprintExpected: { en: 'a certificate fingerprint', fr: 'une empreinte de certificat' },
  fingerprintHint: {
    en: '32 hexadecimal bytes separated by ":", as `proxmox-backup-manager cert info` prints it',
    fr: '32 octets hexadécimaux séparés par ":", comme les affiche `proxmox-backup-manager cert info`',
  },
  guestFromExpected: { en: '"hostname" or "tag:PREFIX"', fr: '"hostname" ou "tag:PRÉFIXE"' },
  guestFromHint: {
    en: 'hostname: a snapshot\'s host is the guest\'s name; "tag:vmid=": a tag vmid=<VMID> names the guest',
    fr:
      "hostname : l'hôte d'un instantané est le nom de l'invité ; " +
      '"tag:vmid=" : une étiquette vmid=<VMID> le désigne',
  },
  subsetExpected: { en: 'n/t or x%', fr: 'n/t ou x%' },
  subsetHint: {
    en: 'what `restic check` reads of the data: 1/10 (the first tenth) or 5% (at random)',
    fr: 'ce que `restic check` lit des données : 1/10 (le premier dixième) ou 5% (au hasard)',
  },
  archivePatternExpected: {
    en: 'an archive name pattern with {name} or {vmid}',
    fr: "un motif de nom d'archive avec {name} ou {vmid}",
  },
  archivePatternHint: {
    en: 'for example "{name}-*": * matches any text, ? one character',
    fr: 'par exemple "{name}-*" : * remplace tout texte, ? un caractère',
  },
  guestNameExpected: { en: 'a host name', fr: "un nom d'hôte" },
  guestNameHint: {
    en: 'as the backups name it: letters, digits, "." and "-", for example www-legacy',
    fr: 'tel que les sauvegardes le nomment : lettres, chiffres, "." et "-", par exemple www-legacy',
  },
  extraGuestsExpected: { en: 'a list of host names', fr: "une liste de noms d'hôtes" },
  extraGuestsHint: {
    en: 'hosts outside Proxmox backed up here, for example [www-legacy]',
    fr: 'des hôtes hors Proxmox sauvegardés ici, par exemple [www-legacy]',
  },
  targetsExpected: {
    en: 'a mapping of target names to their settings',
    fr: 'une table des noms de cibles vers leurs réglages',
  },
  targetsExpectedHint: {
    en: 'for example targets: { dump: { type: vzdump, host: backup, path: /srv/backup/dump } }',
    fr: 'par exemple targets: { dump: { type: vzdump, host: backup, path: /srv/backup/dump } }',
  },
  noTargets: { en: 'lists no target', fr: 'ne cite aucune cible' },
  moreTargetsThanDefined: (wanted: number, defined: number) => ({
    en: `wants a fresh copy on ${wanted} targets, the section defines ${defined}`,
    fr: `veut une copie récente sur ${wanted} cibles, la section en définit ${defined}`,
  }),
  moreTargetsThanDefinedHint: {
    en: 'lower it, or add the targets that hold the other copies',
    fr: 'baissez-la, ou ajoutez les cibles qui gardent les autres copies',
  },
} as const;

export const messages = catalogue(ENTRIES);

/** A message in English (JSON, Nagios, Prometheus) and in the reader's language (the terminal). */
export interface Said {
  en: string;
  text: string;
}

type Args<K extends keyof typeof ENTRIES> = (typeof ENTRIES)[K] extends (...args: infer A) => Texts ? A : [];

/** Both texts of an entry, built from the same values. */
export function said<K extends keyof typeof ENTRIES>(key: K, ...args: Args<K>): Said {
  const entry: unknown = ENTRIES[key];
  const texts = typeof entry === 'function' ? (entry as (...values: unknown[]) => Texts)(...args) : (entry as Texts);
  return { en: texts.en, text: texts[language()] };
}
