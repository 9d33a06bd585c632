// The messages of the backup domain, in English and French (see ../run/catalogue.ts): the
// inventory's `backups:` section, the judgement's reasons (each saying what to do), the table.
// JSON, Nagios and Prometheus take the English text of the same entries (see said()).
import { both, catalogue, sayer } from '../run/catalogue.js';

/** Singular for 1: the verdict only counts what is there. */
function one(count: number): boolean {
  return count === 1;
}

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
  unknownHostHint: {
    en: 'define it under `hosts:`: chaton reads the copies there, over SSH',
    fr: 'définissez-le sous `hosts:` : chaton y lit les copies, par SSH',
  },
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

  sizeExpected: {
    en: 'a size: a whole number and one unit, K, M, G or T',
    fr: 'une taille : un nombre entier et une unité, K, M, G ou T',
  },
  sizeHint: {
    en: 'for example 512M, 20G or 1T (powers of 1024); not "20 GB" nor "1.5G"',
    fr: 'par exemple 512M, 20G ou 1T (puissances de 1024) ; ni "20 GB" ni "1.5G"',
  },
  vmidRangeExpected: { en: 'a range of VMIDs FIRST-LAST', fr: 'une plage de VMID PREMIER-DERNIER' },
  vmidRangeHint: {
    en: 'VMIDs no guest will ever use, for example 9900-9909 (at most 1000, each 100 or more)',
    fr: "des VMID qu'aucun invité n'utilisera jamais, par exemple 9900-9909 (au plus 1000, chacun 100 ou plus)",
  },
  canaryExpected: {
    en: 'the absolute path of a file in the backup',
    fr: "le chemin absolu d'un fichier de la sauvegarde",
  },
  canaryListExpected: { en: 'a list of file paths', fr: 'une liste de chemins de fichiers' },
  canaryHint: {
    en:
      "files as the backup holds them, {name} for the guest's name, for example [/etc/hostname, " +
      '/srv/{name}/canary.txt]',
    fr:
      "des fichiers tels que la sauvegarde les garde, {name} pour le nom de l'invité, " +
      'par exemple [/etc/hostname, /srv/{name}/canary.txt]',
  },
  canariesExpected: {
    en: 'a mapping of guests (or default) to their canary files',
    fr: 'une table des invités (ou default) vers leurs fichiers témoins',
  },
  canariesHint: {
    en: 'for example canaries: { default: [/etc/hostname], mail: [/var/mail/canary] }: a name, a VMID or default',
    fr: 'par exemple canaries: { default: [/etc/hostname], mail: [/var/mail/canary] } : un nom, un VMID ou default',
  },
  canaryGuestInvalid: (key: string) => ({
    en: `${key} is neither a guest's name or VMID nor default`,
    fr: `${key} n'est ni le nom ou le VMID d'un invité, ni default`,
  }),
  restoreVmKeysHint: {
    en: 'a restore test of VMs needs node, storage and vmids together',
    fr: 'un test de restauration de VM demande node, storage et vmids ensemble',
  },
  scratchDirHint: {
    en: 'add scratch_dir: the absolute path of a directory where restic and borg copies are restored',
    fr: 'ajoutez scratch_dir : le chemin absolu du répertoire où restaurer les copies restic et borg',
  },

  // --- Restore tests: why one failed or was refused, each saying what to do.
  restoreNotConfigured: (type: string) => ({
    en: `no restore test is set up for ${type} targets: add backups.restore_test to the inventory`,
    fr: `aucun test de restauration n'est prévu pour les cibles ${type} : ajoutez backups.restore_test à l'inventaire`,
  }),
  restoreSpaceShort: (where: string, free: string, wanted: string) => ({
    en:
      `only ${free} free on ${where}, the restore test wants ${wanted}: free some space, or lower ` +
      `restore_test.min_free`,
    fr:
      `seulement ${free} libres sur ${where}, le test de restauration en veut ${wanted} : ` +
      'libérez de la place, ou baissez restore_test.min_free',
  }),
  restoreNoSpareVmid: (range: string) => ({
    en: `every VMID of ${range} is in use: free one, or widen restore_test.vmids`,
    fr: `tous les VMID de ${range} sont pris : libérez-en un, ou élargissez restore_test.vmids`,
  }),
  restoreVmidTaken: (vmid: number) => ({
    en: `VMID ${vmid} was taken as the test began (the restore refused it), and was left alone: run the test again`,
    fr:
      `le VMID ${vmid} a été pris au début du test (la restauration l'a refusé) et n'a pas été touché ` +
      `: relancez le test`,
  }),
  restoreArchiveElsewhere: (target: string, node: string) => ({
    en: `the archives of ${target} are not on ${node}: set restore_test.dump_path to where ${node} reads them`,
    fr: `les archives de ${target} ne sont pas sur ${node} : indiquez dans restore_test.dump_path où ${node} les lit`,
  }),
  restorePbsStorageMissing: {
    en: 'set restore_test.pbs_storage to the storage of the cluster that holds this PBS datastore',
    fr: 'indiquez dans restore_test.pbs_storage le stockage du cluster qui porte ce datastore PBS',
  },
  restoreArchiveUnreadable: (node: string, detail: string) => ({
    en: `${node} cannot read the archive (${detail}): check restore_test.dump_path`,
    fr: `${node} ne peut pas lire l'archive (${detail}) : vérifiez restore_test.dump_path`,
  }),
  restoreFailed: (detail: string) => ({
    en: `the restore failed (${detail}): find why before you need a restore`,
    fr: `la restauration a échoué (${detail}) : trouvez pourquoi avant d'en avoir besoin`,
  }),
  restoreListingDiffers: (count: number, first: string) => ({
    en:
      `${count} restored ${count === 1 ? 'file differs' : 'files differ'} from the copy's own listing ` +
      `(${first}): check the repository`,
    fr:
      `${count} ${count === 1 ? 'fichier restauré diffère' : 'fichiers restaurés diffèrent'} de la ` +
      `liste de la copie (${first}) : vérifiez le dépôt`,
  }),
  restoreFileMissing: (path: string) => ({ en: `${path} missing`, fr: `${path} absent` }),
  restoreFileSize: (path: string, restored: number, listed: number) => ({
    en: `${path}: ${restored} bytes, the copy says ${listed}`,
    fr: `${path} : ${restored} octets, la copie en annonce ${listed}`,
  }),
  restoreCanaryDiffers: (path: string) => ({
    en:
      `canary ${path} was restored with other bytes than the copy holds: check the repository and the ` +
      `disks of this host`,
    fr:
      `le témoin ${path} a été restauré avec d'autres octets que ceux de la copie : vérifiez le dépôt ` +
      `et les disques de cet hôte`,
  }),
  restoreCanaryNotInCopy: (path: string, detail: string) => ({
    en: `canary ${path} is not in the copy (${detail}): back it up, or fix restore_test.canaries`,
    fr: `le témoin ${path} n'est pas dans la copie (${detail}) : sauvegardez-le, ou corrigez restore_test.canaries`,
  }),
  restoreCanaryNotRestored: (path: string) => ({
    en: `canary ${path} is in the copy but was not restored: check the restore`,
    fr: `le témoin ${path} est dans la copie mais n'a pas été restauré : vérifiez la restauration`,
  }),
  restoreOfflineFailed: (vmid: number, detail: string) => ({
    en: `the network of the restored copy ${vmid} could not be removed (${detail}): it was not started`,
    fr: `le réseau de la copie restaurée ${vmid} n'a pas pu être retiré (${detail}) : elle n'a pas été démarrée`,
  }),
  restoreStartFailed: (vmid: number, detail: string) => ({
    en: `the restored copy ${vmid} did not start (${detail}): a restore would give a guest that does not boot`,
    fr:
      `la copie restaurée ${vmid} n'a pas démarré (${detail}) : une restauration donnerait un invité ` +
      `qui ne démarre pas`,
  }),
  restoreNotRunning: (vmid: number, detail: string) => ({
    en: `the restored copy ${vmid} did not reach running (${detail})`,
    fr: `la copie restaurée ${vmid} n'a pas atteint l'état running (${detail})`,
  }),
  restoreWaitRunning: (vmid: number) => ({
    en: `restored copy ${vmid} to run`,
    fr: `que la copie restaurée ${vmid} tourne`,
  }),
  restoreInterrupted: {
    en: 'interrupted: the restore test proves nothing; its scratch space was cleaned up',
    fr: 'interrompu : le test de restauration ne prouve rien ; son espace de travail a été nettoyé',
  },
  restoreError: (detail: string) => ({
    en: `the restore test could not run (${detail})`,
    fr: `le test de restauration n'a pas pu se dérouler (${detail})`,
  }),
  restoreSecretUnset: (name: string) => ({
    en: `${name} is not set: the repository cannot be opened`,
    fr: `${name} n'est pas définie : le dépôt ne peut pas être ouvert`,
  }),
  restoreCleanupFailed: (host: string, where: string) => ({
    en: `${where} on ${host} could not be removed: remove it by hand`,
    fr: `${where} sur ${host} n'a pas pu être supprimé : supprimez-le à la main`,
  }),

  // --- The judgement of a guest: each reason says what to do.
  noCopy: {
    en: 'no copy on any target: add it to a backup job, or exclude it in the inventory with the reason',
    fr:
      "aucune copie sur aucune cible : ajoutez-le à une tâche de sauvegarde, ou excluez-le dans l'inventaire avec " +
      'la raison',
  },
  stale: (age: string, maxAge: string) => ({
    en: `newest copy is ${age} old, more than ${maxAge}: look at its backup job and the log of its last run`,
    fr:
      `la copie la plus récente date de ${age}, plus de ${maxAge} : voyez sa tâche de sauvegarde et le journal de ` +
      `son dernier passage`,
  }),
  fewTargets: (fresh: number, wanted: number, missing: string) => ({
    en: `a fresh copy on ${fresh} of the ${wanted} targets wanted (none on ${missing}): look at what copies it there`,
    fr: `une copie récente sur ${fresh} des ${wanted} cibles voulues (aucune sur ${missing}) : voyez ce qui l'y copie`,
  }),
  coverageUnknown: (targets: string) => ({
    en: `not enough fresh copies proven: ${targets} could not be read (see below)`,
    fr: `pas assez de copies récentes prouvées : ${targets} n'a pas pu être lu (voir plus bas)`,
  }),
  notInJob: {
    en: 'in no backup job of the cluster: add it to one, or exclude it in the inventory with the reason',
    fr:
      "dans aucune tâche de sauvegarde du cluster : ajoutez-le à l'une d'elles, ou excluez-le dans l'inventaire " +
      'avec la raison',
  },
  retention: (target: string, copies: number, span: string, wantedCopies: number, wantedSpan: string) => ({
    en:
      `keeps at best ${copies} copies over ${span} (${target}), the policy wants ${wantedCopies} over ` +
      `${wantedSpan}: check the retention (prune) settings`,
    fr:
      `garde au mieux ${copies} copies sur ${span} (${target}), la politique en veut ${wantedCopies} sur ` +
      `${wantedSpan} : vérifiez les réglages de rétention (prune)`,
  }),
  retentionCopies: (target: string, copies: number, wantedCopies: number) => ({
    en:
      `keeps at best ${copies} copies (${target}), the policy wants ${wantedCopies}: check the retention (prune) ` +
      `settings`,
    fr:
      `garde au mieux ${copies} copies (${target}), la politique en veut ${wantedCopies} : vérifiez les réglages de ` +
      `rétention (prune)`,
  }),
  archiveDamaged: (target: string, name: string, detail: string) => ({
    en: `the newest archive on ${target} is damaged (${name}: ${detail}): make a new backup now, then find the cause`,
    fr:
      `l'archive la plus récente sur ${target} est abîmée (${name} : ${detail}) : faites une nouvelle sauvegarde ` +
      `maintenant, puis cherchez la cause`,
  }),
  archiveWarning: (target: string, name: string, detail: string) => ({
    en: `testing the newest archive on ${target} warned (${name}: ${detail}): read the warning`,
    fr: `le test de l'archive la plus récente sur ${target} a averti (${name} : ${detail}) : lisez l'avertissement`,
  }),
  archiveUntested: (target: string, name: string, detail: string) => ({
    en:
      `the newest archive on ${target} could not be tested (${name}: ${detail}): install the tool there, or look at ` +
      `the host`,
    fr:
      `l'archive la plus récente sur ${target} n'a pas pu être testée (${name} : ${detail}) : installez l'outil, ou ` +
      `voyez l'hôte`,
  }),
  sizeDrop: (target: string, name: string, size: string, median: string) => ({
    en:
      `the newest archive on ${target} (${name}) is ${size}, under half the median of the previous ones ` +
      `(${median}): check what the guest or its backup lost`,
    fr:
      `l'archive la plus récente sur ${target} (${name}) fait ${size}, moins de la moitié de la médiane des ` +
      `précédentes (${median}) : voyez ce que l'invité ou sa sauvegarde a perdu`,
  }),
  repositoryDamaged: (target: string, tool: string, detail: string) => ({
    en: `${tool} check of ${target} found damage (${detail}): repair the repository, then make a new backup`,
    fr:
      `la vérification ${tool} de ${target} a trouvé des dégâts (${detail}) : réparez le dépôt, puis faites une ` +
      `nouvelle sauvegarde`,
  }),
  checkBusy: (target: string, detail: string) => ({
    en:
      `the check of ${target} found it locked by a running backup (${detail}): it runs again next time; chaton ` +
      `never unlocks`,
    fr:
      `la vérification de ${target} l'a trouvé verrouillé par une sauvegarde en cours (${detail}) : elle repassera ` +
      `la prochaine fois ; chaton ne déverrouille jamais`,
  }),
  checkWarning: (target: string, detail: string) => ({
    en: `the check of ${target} warned (${detail}): read the warning`,
    fr: `la vérification de ${target} a averti (${detail}) : lisez l'avertissement`,
  }),
  checkNotRun: (target: string, detail: string) => ({
    en: `the check of ${target} could not run (${detail}): look at the host`,
    fr: `la vérification de ${target} n'a pas pu tourner (${detail}) : voyez l'hôte`,
  }),
  verifyFailed: (target: string, snapshot: string) => ({
    en:
      `the PBS verification of the newest snapshot on ${target} failed (${snapshot}): make a new backup, then ` +
      `verify the datastore`,
    fr:
      `la vérification PBS de l'instantané le plus récent sur ${target} a échoué (${snapshot}) : faites une ` +
      `nouvelle sauvegarde, puis vérifiez le datastore`,
  }),
  neverVerified: (target: string, snapshot: string) => ({
    en: `the newest snapshot on ${target} was never verified (${snapshot}): schedule a verify job on the datastore`,
    fr:
      `l'instantané le plus récent sur ${target} n'a jamais été vérifié (${snapshot}) : planifiez une tâche de ` +
      `vérification du datastore`,
  }),
  verifyOld: (target: string, age: string, limit: string) => ({
    en: `the newest snapshot on ${target} was last verified ${age} ago, more than ${limit}: check the verify job`,
    fr:
      `l'instantané le plus récent sur ${target} a été vérifié il y a ${age}, plus de ${limit} : voyez la tâche de ` +
      `vérification`,
  }),
  leftover: (target: string, name: string, age: string) => ({
    en:
      `${name} on ${target} (${age} old) is left by a dump running or interrupted: if none runs, read the job's ` +
      `log, then remove it`,
    fr:
      `${name} sur ${target} (âgé de ${age}) est laissé par un dump en cours ou interrompu : si aucun ne tourne, ` +
      `lisez le journal de la tâche, puis supprimez-le`,
  }),
  neverRestoreTested: {
    en: 'never restore-tested: run chaton backup verify --restore-test',
    fr: 'jamais testé en restauration : lancez chaton backup verify --restore-test',
  },
  restoreTestFailed: (target: string, age: string) => ({
    en: `the last restore test from ${target} (${age} ago) failed: find why before you need a restore`,
    fr:
      `le dernier test de restauration depuis ${target} (il y a ${age}) a échoué : ` +
      `trouvez pourquoi avant d'avoir besoin de restaurer`,
  }),
  restoreTestOld: (age: string, limit: string) => ({
    en: `the last good restore test is ${age} old, more than ${limit}: run chaton backup verify --restore-test`,
    fr:
      `le dernier bon test de restauration date de ${age}, plus de ${limit} : lancez chaton backup verify ` +
      `--restore-test`,
  }),
  restoreSlow: (duration: string, limit: string) => ({
    en: `the last restore took ${duration}, more than ${limit}: make restores faster, or raise max_restore_time`,
    fr:
      `la dernière restauration a pris ${duration}, plus de ${limit} : accélérez les restaurations, ou relevez ` +
      `max_restore_time`,
  }),

  // --- A target as a whole.
  targetWarning: (target: string, detail: string) => ({
    en: `reading ${target} warned (${detail}): read the warning`,
    fr: `la lecture de ${target} a averti (${detail}) : lisez l'avertissement`,
  }),
  targetBusy: (target: string, host: string) => ({
    en: `${target} on ${host} is locked by a running backup: read again on the next run; chaton never unlocks`,
    fr:
      `${target} sur ${host} est verrouillé par une sauvegarde en cours : relu au prochain passage ; chaton ne ` +
      `déverrouille jamais`,
  }),
  targetWrongPassword: (target: string) => ({
    en:
      `the password the inventory names does not open ${target}: a restore would fail too; fix the password file or ` +
      `variable`,
    fr:
      `le mot de passe que nomme l'inventaire n'ouvre pas ${target} : une restauration échouerait aussi ; corrigez ` +
      `le fichier ou la variable du mot de passe`,
  }),
  targetMissing: (target: string, where: string, host: string) => ({
    en: `${target}: nothing at ${where} on ${host}: the copies are gone, or the inventory names the wrong place`,
    fr: `${target} : rien à ${where} sur ${host} : les copies ont disparu, ou l'inventaire désigne le mauvais endroit`,
  }),
  targetSecretUnreadable: (target: string, detail: string) => ({
    en: `the secret of ${target} could not be read (${detail}): check the file on the host, or set the variable`,
    fr:
      `le secret de ${target} n'a pas pu être lu (${detail}) : vérifiez le fichier sur l'hôte, ou définissez la ` +
      `variable`,
  }),
  targetToolMissing: (target: string, host: string, detail: string) => ({
    en: `${target} could not be read on ${host} (${detail}): install the tool there`,
    fr: `${target} n'a pas pu être lu sur ${host} (${detail}) : installez-y l'outil`,
  }),
  targetUnreachable: (target: string, host: string, detail: string) => ({
    en: `${host} could not be reached to read ${target} (${detail}): is it up, and reachable through the bastion?`,
    fr: `${host} n'a pas pu être joint pour lire ${target} (${detail}) : est-il allumé, et joignable par le bastion ?`,
  }),
  targetInterrupted: (target: string) => ({
    en: `reading ${target} was interrupted: run again`,
    fr: `la lecture de ${target} a été interrompue : relancez`,
  }),
  targetError: (target: string, detail: string) => ({
    en: `${target} could not be read (${detail}): look at the host`,
    fr: `${target} n'a pas pu être lu (${detail}) : voyez l'hôte`,
  }),
  ambiguous: (target: string, name: string, count: number) => ({
    en:
      `${name} on ${target} could be the copy of ${count} guests, so it counts for none: make the names unique, or ` +
      `use tags or a narrower archive_pattern`,
    fr:
      `${name} sur ${target} pourrait être la copie de ${count} invités, il ne compte donc pour aucun : rendez les ` +
      `noms uniques, ou utilisez des étiquettes ou un archive_pattern plus précis`,
  }),

  // --- The inventory and the cluster as a whole.
  clusterUnknown: (detail: string) => ({
    en: `the cluster's guests could not be listed (${detail}): check that a host with role pve answers`,
    fr: `les invités du cluster n'ont pas pu être listés (${detail}) : vérifiez qu'un hôte de rôle pve répond`,
  }),
  selectorUnmatched: (selector: string, where: string) => ({
    en: `the override ${selector} at ${where} selects no guest of the cluster: fix it or remove it`,
    fr: `la dérogation ${selector} à ${where} ne désigne aucun invité du cluster : corrigez-la ou retirez-la`,
  }),

  // --- The verdict, one line.
  verdictOk: (guests: number) => ({
    en: `all ${guests} guests could be restored: fresh, intact copies on enough targets`,
    fr: `les ${guests} invités pourraient être restaurés : des copies récentes et intactes sur assez de cibles`,
  }),
  verdictOkNotChecked: (guests: number) => ({
    en: `all ${guests} guests have fresh copies on enough targets; their integrity was not checked (--no-integrity)`,
    fr:
      `les ${guests} invités ont des copies récentes sur assez de cibles ; leur intégrité n'a pas été vérifiée ` +
      `(--no-integrity)`,
  }),
  verdictNotChecked: {
    en: 'integrity not checked (--no-integrity)',
    fr: 'intégrité non vérifiée (--no-integrity)',
  },
  verdictCounts: (guests: number, critical: number, unknown: number, warning: number, ok: number) => ({
    en:
      `${guests} ${one(guests) ? 'guest' : 'guests'}: ${critical} critical, ${unknown} unknown, ${warning} warning, ` +
      `${ok} ok`,
    fr:
      `${guests} ${one(guests) ? 'invité' : 'invités'} : ${critical} ${one(critical) ? 'critique' : 'critiques'}, ` +
      `${unknown} ${one(unknown) ? 'inconnu' : 'inconnus'}, ${warning} en alerte, ${ok} ok`,
  }),
  verdictTargets: (targets: number) => ({
    en: `${targets} ${one(targets) ? 'target' : 'targets'} with problems`,
    fr: `${targets} ${one(targets) ? 'cible' : 'cibles'} à problèmes`,
  }),
  verdictFindings: (count: number) => ({
    en: `${count} ${one(count) ? 'problem' : 'problems'} of the inventory or the cluster`,
    fr: `${count} ${one(count) ? 'problème' : 'problèmes'} de l'inventaire ou du cluster`,
  }),
  verdictExcluded: (count: number) => ({ en: `${count} excluded`, fr: `${count} exclus` }),

  // --- The report for a person.
  stateOk: both('OK'),
  stateWarning: { en: 'WARNING', fr: 'ALERTE' },
  stateCritical: { en: 'CRITICAL', fr: 'CRITIQUE' },
  stateUnknown: { en: 'UNKNOWN', fr: 'INCONNU' },
  columnGuest: { en: 'GUEST', fr: 'INVITÉ' },
  columnState: { en: 'STATE', fr: 'ÉTAT' },
  columnFresh: { en: 'FRESH', fr: 'RÉCENT' },
  columnNewest: { en: 'NEWEST', fr: 'DERNIÈRE' },
  columnKept: { en: 'KEPT', fr: 'GARDÉ' },
  columnIntegrity: { en: 'INTEGRITY', fr: 'INTÉGRITÉ' },
  columnRestored: { en: 'RESTORED', fr: 'RESTAURÉ' },
  /** The INTEGRITY cell of a guest whose copies' checks were not run (--no-integrity). */
  integrityNotChecked: { en: 'not checked', fr: 'non vérifié' },
  targetHeading: (target: string, type: string, host: string) => ({
    en: `target ${target} (${type} on ${host})`,
    fr: `cible ${target} (${type} sur ${host})`,
  }),
  stateLine: (state: string, text: string) => ({ en: `${state}: ${text}`, fr: `${state} : ${text}` }),
  listSeparator: { en: '; ', fr: ' ; ' },
  generalHeading: { en: 'inventory and cluster', fr: 'inventaire et cluster' },
  excludedLine: (guest: string, reason: string) => ({
    en: `${guest}: excluded (${reason})`,
    fr: `${guest} : exclu (${reason})`,
  }),
} as const;

export const messages = catalogue(ENTRIES);

export type { Said } from '../run/catalogue.js';

/** Both texts of an entry, built from the same values: JSON, Nagios and Prometheus take the English. */
export const said = sayer(ENTRIES);
