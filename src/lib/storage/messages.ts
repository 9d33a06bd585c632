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

  // --- zpool status, mdadm --detail, /proc/mdstat, sgdisk, sfdisk, proxmox-boot-tool (zfs.ts, md.ts,
  // partitions.ts): what an output that cannot be read lacks, and a tool that failed.
  toolFailed: (what: string, code: number | string, why: string) => ({
    en: `${what} failed (exit ${code}): ${why || 'nothing on stderr'}`,
    fr: `${what} a échoué (code ${code}) : ${why || 'rien sur stderr'}`,
  }),
  zpoolFailed: (pool: string, code: number | string, why: string) => ({
    en: `zpool status ${pool} failed (exit ${code}): ${why || 'nothing on stderr'}`,
    fr: `zpool status ${pool} a échoué (code ${code}) : ${why || 'rien sur stderr'}`,
  }),
  zpoolNotInstalled: {
    en: 'zpool is not installed (Debian package zfsutils-linux)',
    fr: "zpool n'est pas installé (paquet Debian zfsutils-linux)",
  },
  zpoolNotStatus: (stdout: string) => ({
    en: `zpool status printed no "pool:", "state:" and "config:": ${stdout.trim().slice(0, 80) || 'nothing'}`,
    fr: `zpool status n'a pas affiché "pool:", "state:" et "config:" : ${stdout.trim().slice(0, 80) || 'rien'}`,
  }),
  zpoolNoConfig: {
    en: 'zpool status: no "NAME STATE" header or no pool under it in "config:"',
    fr: 'zpool status : pas d\'en-tête "NAME STATE" ou pas de pool dessous dans "config:"',
  },
  zpoolBadRow: (row: string) => ({
    en: `zpool status: "${row}" is not a vdev line (name, state, errors) in its place in the tree`,
    fr: `zpool status : "${row}" n'est pas une ligne de vdev (nom, état, erreurs) à sa place dans l'arbre`,
  }),
  zpoolUnknownState: (state: string) => ({
    en: `zpool status: unknown state "${state}" (ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED... expected)`,
    fr: `zpool status : état inconnu "${state}" (ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED... attendu)`,
  }),
  zpoolBadScan: (scan: string) => ({
    en: `zpool status: cannot read the scan line "${scan}"`,
    fr: `zpool status : ligne de scan illisible "${scan}"`,
  }),
  zpoolNotANumber: (text: string) => ({
    en: `zpool status: "${text}" is not a size or a count (5.42G, 605M, 0B, 12)`,
    fr: `zpool status : "${text}" n'est ni une taille ni un nombre (5.42G, 605M, 0B, 12)`,
  }),
  zpoolNotADuration: (text: string) => ({
    en: `zpool status: "${text}" is not a time span (1h2m, 0 days 01:24:38, 00:00:32)`,
    fr: `zpool status : "${text}" n'est pas une durée (1h2m, 0 days 01:24:38, 00:00:32)`,
  }),
  mdadmFailed: (array: string, code: number | string, why: string) => ({
    en: `mdadm --detail ${array} failed (exit ${code}): ${why || 'nothing on stderr'}`,
    fr: `mdadm --detail ${array} a échoué (code ${code}) : ${why || 'rien sur stderr'}`,
  }),
  mdadmNotInstalled: {
    en: 'mdadm is not installed (Debian package mdadm)',
    fr: "mdadm n'est pas installé (paquet Debian mdadm)",
  },
  mdNotDetail: (line: string) => ({
    en: `mdadm --detail: "${line}" is not "/dev/mdX:"`,
    fr: `mdadm --detail : "${line}" n'est pas de la forme "/dev/mdX:"`,
  }),
  mdNotANumber: (what: string, value: string) => ({
    en: `${what}: "${value}" is not a number`,
    fr: `${what} : "${value}" n'est pas un nombre`,
  }),
  mdBadMember: (line: string) => ({
    en: `mdadm --detail: "${line}" is not a member line (Number Major Minor RaidDevice State device)`,
    fr:
      `mdadm --detail : "${line}" n'est pas une ligne de membre ` +
      '(Number Major Minor RaidDevice State périphérique)',
  }),
  mdstatNotMdstat: {
    en: '/proc/mdstat does not begin with "Personalities :"',
    fr: '/proc/mdstat ne commence pas par "Personalities :"',
  },
  sfdiskNotInstalled: {
    en: 'sfdisk is not installed (Debian package fdisk)',
    fr: "sfdisk n'est pas installé (paquet Debian fdisk)",
  },
  sgdiskNotInstalled: {
    en: 'sgdisk is not installed (Debian package gdisk)',
    fr: "sgdisk n'est pas installé (paquet Debian gdisk)",
  },
  sgdiskNotPrint: (head: string) => ({
    en: `sgdisk -p printed no "Disk", "Sector size" and "Disk identifier" lines: ${head || 'nothing'}`,
    fr: `sgdisk -p n'a pas affiché les lignes "Disk", "Sector size" et "Disk identifier" : ${head || 'rien'}`,
  }),
  sgdiskBadRow: (row: string) => ({
    en: `sgdisk -p: "${row}" is not a partition line (number, start, end, size, code, name)`,
    fr: `sgdisk -p : "${row}" n'est pas une ligne de partition (numéro, début, fin, taille, code, nom)`,
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
  partitioned: (device: string, label: string) => ({
    en:
      `${device} holds a ${label} label: it may hold data; ` +
      'wipe it on purpose first (wipefs -a, or sgdisk --zap-all) if nothing on it is needed',
    fr:
      `${device} porte une étiquette ${label} : il peut contenir des données ; ` +
      "effacez-la d'abord, exprès (wipefs -a, ou sgdisk --zap-all), si rien n'y est utile",
  }),
  tooSmall: (device: string, size: string, needed: string) => ({
    en: `${device} is ${size}, smaller than the ${needed} needed`,
    fr: `${device} fait ${size}, moins que les ${needed} nécessaires`,
  }),
  listSeparator: both(', '),

  // --- A mirror swap's preflight (ZFS mirror, md RAID1): why not now, with the names and numbers.
  // `what` is "pool rpool" or "array /dev/md0" (mirrorPool, mirrorArray).
  // "pool" is ZFS's word in French too.
  mirrorPool: (pool: string) => both(`pool ${pool}`),
  mirrorArray: (array: string) => ({ en: `array ${array}`, fr: `grappe ${array}` }),
  notAMember: (device: string, what: string, members: string) => ({
    en: `${device} is not a member of ${what} (its members: ${members}): check the host and the disk`,
    fr: `${device} n'est pas membre de ${what} (ses membres : ${members}) : vérifiez l'hôte et le disque`,
  }),
  notAMirror: (device: string, what: string, layout: string) => ({
    en: `${device} is in a ${layout} of ${what}, not a mirror: chaton swaps a disk of a mirror only`,
    fr: `${device} est dans un ${layout} de ${what}, pas un miroir : chaton ne remplace qu'un disque de miroir`,
  }),
  noOtherSide: (device: string, what: string) => ({
    en: `${device} is the only disk of its mirror in ${what}: taking it out would lose the data`,
    fr: `${device} est le seul disque de son miroir dans ${what} : le retirer perdrait les données`,
  }),
  otherSideUnhealthy: (what: string, others: string) => ({
    en:
      `the other side of the mirror in ${what} is not healthy (${others}): it would be the only copy; ` +
      'repair it first',
    fr:
      `l'autre côté du miroir dans ${what} n'est pas sain (${others}) : il serait la seule copie ; ` +
      "réparez-le d'abord",
  }),
  otherSideFailing: (what: string, device: string) => ({
    en:
      `SMART says ${device}, the other side of the mirror in ${what}, is failing: ` +
      'it would be the only copy; back up first and replace it first',
    fr:
      `SMART dit que ${device}, l'autre côté du miroir dans ${what}, est en train de lâcher : ` +
      "il serait la seule copie ; sauvegardez puis remplacez-le d'abord",
  }),
  syncRunning: (what: string, running: string) => ({
    en: `${what} is rebuilding (${running}): wait for it to end`,
    fr: `${what} est en reconstruction (${running}) : attendez qu'elle finisse`,
  }),
  degradedElsewhere: (what: string, members: string) => ({
    en: `other members of ${what} are not healthy (${members}): without this disk the data may not be whole`,
    fr:
      `d'autres membres de ${what} ne sont pas sains (${members}) : ` +
      'sans ce disque les données pourraient ne plus être entières',
  }),
  notServing: (what: string, state: string) => ({
    en: `${what} is ${state}: it does not serve its data; repair it before any swap`,
    fr: `${what} est ${state} : il ne sert plus ses données ; réparez-le avant tout remplacement`,
  }),
  otherSideNotBootable: (device: string, uuid: string, others: string) => ({
    en:
      `${device} boots the host (its ESP ${uuid} is kept by proxmox-boot-tool) and ${others} has no such ESP: ` +
      "without it the host may not boot; run proxmox-boot-tool init on the other disk's ESP first",
    fr:
      `${device} démarre l'hôte (son ESP ${uuid} est tenue par proxmox-boot-tool) et ${others} n'en a pas : ` +
      "sans lui l'hôte pourrait ne plus démarrer ; " +
      "lancez d'abord proxmox-boot-tool init sur l'ESP de l'autre disque",
  }),
  /** One member of a list: its name and the tool's words for its state. */
  memberState: (device: string, state: string) => both(`${device} ${state}`),
  /** A resilver or resync under way, for syncRunning. */
  runningPercent: (action: string, percent: string) => ({
    en: `${action}, ${percent}% done`,
    fr: `${action}, ${percent} % fait`,
  }),

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

  // --- The swap of the disk itself, the same for every kind (swap-run.ts).
  swapSwapTitle: (host: string) => ({ en: `Swap the disk in ${host}`, fr: `Échanger le disque de ${host}` }),
  swapIdentified: (device: string, serial: string) => ({
    en: `${device}, serial ${serial}`,
    fr: `${device}, numéro de série ${serial}`,
  }),
  swapRefusedDetail: (count: number) => ({
    en: `refused: ${count} problem(s), listed below`,
    fr: `refusé : ${count} problème(s), listés ci-dessous`,
  }),
  swapRefusedHint: {
    en: 'fix what is listed, then run the same command again',
    fr: 'réglez ce qui est listé, puis relancez la même commande',
  },
  swapPreflightEarlier: {
    en: 'checked by the run that started this swap',
    fr: 'vérifié par le lancement qui a commencé ce remplacement',
  },
  swapContinuing: (operator: string, started: string, left: string) => ({
    en: `continuing the swap ${operator} started at ${started}; left: ${left}`,
    fr: `reprise du remplacement commencé par ${operator} à ${started} ; reste : ${left}`,
  }),
  swapNewDevicePlaceholder: (serial: string) =>
    both(serial === '' ? '/dev/disk/by-id/<new disk>' : `/dev/disk/by-id/<the disk of serial ${serial}>`),
  swapPull: (host: string, serial: string, path: string, lit: boolean) => ({
    en:
      `pull the disk of serial ${serial} (${path}) from ${host}${lit ? ', its locate LED is lit' : ''}, ` +
      'then insert the new one',
    fr:
      `retirez le disque de numéro de série ${serial} (${path}) de ${host}` +
      `${lit ? ', sa LED de repérage est allumée' : ''}, puis insérez le nouveau`,
  }),
  swapWaitingNewDisk: (host: string) => ({
    en: `waiting for a new disk (a serial not seen before) in ${host}`,
    fr: `attente d'un nouveau disque (un numéro de série jamais vu) dans ${host}`,
  }),
  swapWaitingNamed: (disk: string, host: string) => ({
    en: `waiting for disk ${disk} in ${host}`,
    fr: `attente du disque ${disk} dans ${host}`,
  }),
  swapAwaitingLinks: (device: string) => ({
    en: `new disk ${device} seen, waiting for its /dev/disk/by-id links (udev)`,
    fr: `nouveau disque ${device} vu, attente de ses liens /dev/disk/by-id (udev)`,
  }),
  swapNoNewDiskHint: {
    en: 'nothing is lost: insert the new disk and run the same command again',
    fr: 'rien de perdu : insérez le nouveau disque et relancez la même commande',
  },
  swapBadNewDisk: (device: string, why: string) => ({
    en: `${device} cannot be the new disk: ${why}`,
    fr: `${device} ne peut pas être le nouveau disque : ${why}`,
  }),
  swapTypeSerial: (device: string, model: string, size: string) => ({
    en: `New disk ${device} (${model}, ${size}): type the serial on its label to use it`,
    fr: `Nouveau disque ${device} (${model}, ${size}) : tapez le numéro de série de son étiquette pour l'utiliser`,
  }),
  swapSerialMismatch: (typed: string, serial: string) => ({
    en: `typed ${JSON.stringify(typed)}, but the new disk's serial is ${serial}: nothing written to it`,
    fr:
      `tapé ${JSON.stringify(typed)}, mais le numéro de série du nouveau disque est ${serial} : ` +
      "rien n'y a été écrit",
  }),
  swapNewDisk: (device: string, serial: string) => ({
    en: `new disk ${device}, serial ${serial}`,
    fr: `nouveau disque ${device}, numéro de série ${serial}`,
  }),
  swapNewDiskPlanned: {
    en: 'would wait for the new disk and ask for its serial',
    fr: 'attendrait le nouveau disque et demanderait son numéro de série',
  },
  swapJournalNotWritten: (host: string, why: string) => ({
    en: `the journal's last step could not be written on ${host} (${why}): the next run checks it again`,
    fr: `la dernière étape du journal n'a pas pu être écrite sur ${host} (${why}) : le suivant la revérifie`,
  }),

  // --- The swap of a ZFS mirror's disk or an md RAID1 member (mirror-swap.ts).
  mirrorIdentifyTitle: (device: string, what: string, host: string) => ({
    en: `Identify disk ${device} of ${what} on ${host} and check the mirror`,
    fr: `Identifier le disque ${device} de ${what} sur ${host} et vérifier le miroir`,
  }),
  mirrorTakeoutTitle: (what: string) => ({ en: `Take the disk out of ${what}`, fr: `Sortir le disque de ${what}` }),
  mirrorPartitionTitle: {
    en: 'Copy the partition table to the new disk',
    fr: 'Copier la table de partitions sur le nouveau disque',
  },
  mirrorAttachTitle: (what: string) => ({
    en: `Give the new disk to ${what}`,
    fr: `Donner le nouveau disque à ${what}`,
  }),
  mirrorBootTitle: { en: 'Make the new disk bootable', fr: 'Rendre le nouveau disque amorçable' },
  mirrorRebuildTitle: (action: string, what: string) => ({
    en: `Wait for the ${action} of ${what}`,
    fr: `Attendre le ${action} de ${what}`,
  }),
  mirrorIdentified: (device: string, serial: string, member: string, what: string, boot: string) => ({
    en: `${device}, serial ${serial}: ${member} in ${what}; ${boot}`,
    fr: `${device}, numéro de série ${serial} : ${member} dans ${what} ; ${boot}`,
  }),
  mirrorBootRoleEsp: (number: number) => ({
    en: `a boot disk: its ESP (partition ${number}) is kept by proxmox-boot-tool`,
    fr: `un disque d'amorçage : son ESP (partition ${number}) est tenue par proxmox-boot-tool`,
  }),
  mirrorBootRoleGrub: {
    en: 'a boot disk: GRUB on its BIOS boot partition',
    fr: "un disque d'amorçage : GRUB sur sa partition d'amorçage BIOS",
  },
  mirrorBootRoleNone: { en: 'not a boot disk', fr: "pas un disque d'amorçage" },
  mirrorOtherOperator: (what: string, operator: string, started: string, left: string) => ({
    en: `a swap in ${what} started by ${operator} at ${started} is half-way (left: ${left})`,
    fr: `un remplacement dans ${what} commencé par ${operator} à ${started} est à mi-chemin (reste : ${left})`,
  }),
  mirrorOtherOperatorHint: {
    en: 'if that run is gone (its laptop off), add --resume to finish it from here',
    fr: "si ce lancement n'existe plus (son portable éteint), ajoutez --resume pour le finir d'ici",
  },
  mirrorUnchanged: (what: string, host: string, serial: string) => ({
    en: `${what} on ${host} is whole on the new disk ${serial} a finished swap put in: nothing to do`,
    fr: `${what} sur ${host} est complet avec le nouveau disque ${serial} d'un remplacement fini : rien à faire`,
  }),
  mirrorOtherDisk: (what: string, recorded: string, asked: string) => ({
    en: `the swap half-way in ${what} replaces disk ${recorded}, not ${asked}`,
    fr: `le remplacement à mi-chemin dans ${what} remplace le disque ${recorded}, pas ${asked}`,
  }),
  mirrorOtherDiskHint: (recorded: string) => ({
    en: `finish it first: the same command with --device ${recorded}`,
    fr: `finissez-le d'abord : la même commande avec --device ${recorded}`,
  }),
  mirrorNoSuchDisk: (device: string, host: string) => ({
    en: `no disk ${device} in ${host} (by serial, /dev/disk/by-id path, or kernel name)`,
    fr: `aucun disque ${device} dans ${host} (par numéro de série, chemin /dev/disk/by-id, ou nom du noyau)`,
  }),
  mirrorNoSuchDiskHint: (host: string) => ({
    en: `chaton exec ${host} -- lsblk -o NAME,SERIAL,SIZE,MODEL lists its disks`,
    fr: `chaton exec ${host} -- lsblk -o NAME,SERIAL,SIZE,MODEL liste ses disques`,
  }),
  mirrorRefused: (disk: string, what: string, host: string, problems: string) => ({
    en: `the swap of disk ${disk} in ${what} on ${host} is refused, nothing changed: ${problems}`,
    fr: `le remplacement du disque ${disk} dans ${what} sur ${host} est refusé, rien n'a changé : ${problems}`,
  }),
  mirrorPreflightPassed: {
    en: 'the other side is healthy, nothing is rebuilding, nothing else is degraded',
    fr: "l'autre côté est sain, rien ne se reconstruit, rien d'autre n'est dégradé",
  },
  mirrorNeedsNewDevice: {
    en: 'without a terminal nobody can type the new serial: give --new-device and --yes',
    fr: 'sans terminal personne ne peut taper le nouveau numéro de série : donnez --new-device et --yes',
  },
  mirrorNeedsNewDeviceHint: (kind: string) => ({
    en: `chaton -y disk swap <host> --${kind} <name> --device <old> --new-device <serial of the new disk>`,
    fr: `chaton -y disk swap <hôte> --${kind} <nom> --device <ancien> --new-device <numéro de série du nouveau>`,
  }),
  mirrorQuestion: (disk: string, what: string, host: string, healthy: string) => ({
    en: `Take disk ${disk} out of ${what} on ${host}? Until the new one is rebuilt, ${healthy} alone holds the data.`,
    fr:
      `Sortir le disque ${disk} de ${what} sur ${host} ? Jusqu'à la reconstruction du nouveau, ` +
      `${healthy} porte seul les données.`,
  }),
  mirrorBadNewDiskHint: (what: string, healthy: string) => ({
    en: `insert another disk and run the same command again; ${what} runs on ${healthy} alone meanwhile`,
    fr: `insérez un autre disque et relancez la même commande ; ${what} tourne sur ${healthy} seul en attendant`,
  }),
  mirrorInterrupted: (what: string, host: string) => ({
    en: `the swap in ${what} on ${host} is interrupted; the same command continues it`,
    fr: `le remplacement dans ${what} sur ${host} est interrompu ; la même commande le poursuit`,
  }),
  mirrorTakenOut: (disk: string, what: string) => ({
    en: `disk ${disk} taken out of ${what}`,
    fr: `disque ${disk} sorti de ${what}`,
  }),
  mirrorCopying: (from: string, fromSerial: string, to: string, toSerial: string) => ({
    en: `copying the partition table FROM the healthy disk ${fromSerial} (${from}) TO the new disk ${toSerial} (${to})`,
    fr:
      `copie de la table de partitions DEPUIS le disque sain ${fromSerial} (${from}) ` +
      `VERS le nouveau disque ${toSerial} (${to})`,
  }),
  mirrorCopied: (from: string, to: string) => ({
    en: `partition table copied from ${from} to ${to}, with new GUIDs`,
    fr: `table de partitions copiée de ${from} vers ${to}, avec de nouveaux GUID`,
  }),
  mirrorWholeDisks: (what: string) => ({
    en: `${what} uses whole disks: no table to copy`,
    fr: `${what} utilise des disques entiers : pas de table à copier`,
  }),
  mirrorAwaitingPartitions: (paths: string) => ({
    en: `waiting for udev to make ${paths}`,
    fr: `attente de la création de ${paths} par udev`,
  }),
  mirrorPartitionsHint: {
    en: 'the kernel did not read the new table (partprobe, or a reboot); then run the same command again',
    fr: "le noyau n'a pas relu la nouvelle table (partprobe, ou un redémarrage) ; puis relancez la même commande",
  },
  mirrorAttached: (member: string, what: string) => ({
    en: `${member} given to ${what}`,
    fr: `${member} donné à ${what}`,
  }),
  mirrorBootRunning: (command: string) => ({ en: `running ${command}`, fr: `exécution de ${command}` }),
  mirrorBootEsp: (esp: string) => ({
    en: `ESP ${esp} formatted and kept in sync by proxmox-boot-tool`,
    fr: `ESP ${esp} formatée et tenue à jour par proxmox-boot-tool`,
  }),
  mirrorBootGrub: (disk: string) => ({ en: `GRUB installed on ${disk}`, fr: `GRUB installé sur ${disk}` }),
  mirrorNotBootDisk: {
    en: 'not a boot disk: nothing to install',
    fr: "pas un disque d'amorçage : rien à installer",
  },
  mirrorRebuildPlanned: (action: string) => ({
    en: `would wait for the ${action}`,
    fr: `attendrait le ${action}`,
  }),
  mirrorRebuilt: (what: string, action: string) => ({
    en: `${action} done, ${what} is whole`,
    fr: `${action} terminé, ${what} est complet`,
  }),
  /** What a rebuild says: each part may be '' (unknown). */
  mirrorRebuilding: (action: string, percent: string, toGo: string, rate: string) => ({
    en:
      `${action}${percent ? `, ${percent}% done` : ''}` +
      `${toGo ? `, ${toGo} to go` : ''}${rate ? ` (${rate}/s)` : ''}`,
    fr:
      `${action}${percent ? `, ${percent} % fait` : ''}` +
      `${toGo ? `, ${toGo} restantes` : ''}${rate ? ` (${rate}/s)` : ''}`,
  }),
  mirrorStalled: (what: string, action: string, bound: string, state: string) => ({
    en: `the ${action} of ${what} has not moved for ${bound} (${state})`,
    fr: `le ${action} de ${what} n'a pas avancé depuis ${bound} (${state})`,
  }),
  mirrorTimedOut: (what: string, action: string, bound: string, state: string) => ({
    en: `the ${action} of ${what} is not over after ${bound} (${state})`,
    fr: `le ${action} de ${what} n'est pas fini après ${bound} (${state})`,
  }),
  mirrorStalledHint: (what: string, action: string) => ({
    en:
      `the new disk is in ${what}; look at the ${action} (zpool status, mdadm --detail), ` +
      'then run the same command again',
    fr:
      `le nouveau disque est dans ${what} ; regardez le ${action} (zpool status, mdadm --detail), ` +
      'puis relancez la même commande',
  }),
  mirrorErrors: (what: string, errors: number) => ({
    en: `the resilver of ${what} ended with ${errors} error(s)`,
    fr: `le resilver de ${what} a fini avec ${errors} erreur(s)`,
  }),
  mirrorErrorsHint: (what: string) => ({
    en: `zpool status -v ${what} lists the damaged files; restore them from a backup`,
    fr: `zpool status -v ${what} liste les fichiers abîmés ; restaurez-les depuis une sauvegarde`,
  }),

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
  verdictMirrorSwapped: (what: string, host: string) => ({
    en: `${what} on ${host}: disk swapped, the mirror is whole again`,
    fr: `${what} sur ${host} : disque remplacé, le miroir est de nouveau complet`,
  }),
  verdictMirrorResumed: (what: string, host: string) => ({
    en: `${what} on ${host}: the swap left half-way is finished, the mirror is whole again`,
    fr: `${what} sur ${host} : le remplacement laissé à mi-chemin est terminé, le miroir est de nouveau complet`,
  }),
  poolName: (pool: string) => ({ en: `pool ${pool}`, fr: `le pool ${pool}` }),
  arrayName: (array: string) => ({ en: `array ${array}`, fr: `la grappe RAID ${array}` }),
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
