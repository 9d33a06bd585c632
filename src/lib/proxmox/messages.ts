// The messages of the Proxmox part, in English and French (see ../run/catalogue.ts): what each
// `pveum` change does, in words; the pveum command lines themselves are never translated.
import { both, catalogue, sayer } from '../run/catalogue.js';

export const messages = catalogue({
  createUser: (userid: string) => ({
    en: `create the Proxmox user ${userid}`,
    fr: `créer l'utilisateur Proxmox ${userid}`,
  }),
  updateUser: (userid: string) => ({
    en: `update the Proxmox user ${userid}`,
    fr: `mettre à jour l'utilisateur Proxmox ${userid}`,
  }),
  updateAndEnableUser: (userid: string) => ({
    en: `update the Proxmox user ${userid} (enable it)`,
    fr: `mettre à jour l'utilisateur Proxmox ${userid} (et le réactiver)`,
  }),
  giveRole: (userid: string, role: string) => ({
    en: `give ${userid} the role ${role} on /`,
    fr: `donner à ${userid} le rôle ${role} sur /`,
  }),
  disableUser: (userid: string) => ({
    en: `disable the Proxmox user ${userid}`,
    fr: `désactiver l'utilisateur Proxmox ${userid}`,
  }),
});

// The `proxmox:` section of the inventory (inventory.ts): what each value must be, and what to do.
export const inventoryMessages = catalogue({
  templatesExpected: { en: 'templates by name', fr: 'des modèles par nom' },
  templatesHint: {
    en: 'for example `debian-12: { vmid: 9000, node: pve1 }`',
    fr: 'par exemple `debian-12: { vmid: 9000, node: pve1 }`',
  },
  templateKeysHint: {
    en: 'a template is a VM of the cluster: give its vmid and the node that holds it',
    fr: 'un modèle est une VM du cluster : donnez son vmid et le nœud qui la porte',
  },
  vmidExpected: { en: 'a VMID from 100 to 999999999', fr: 'un VMID de 100 à 999999999' },
  vmidHint: {
    en: 'the VMID of the template, as `qm list` shows it',
    fr: 'le VMID du modèle, tel que `qm list` le montre',
  },
  nodeExpected: { en: 'a Proxmox node name', fr: 'un nom de nœud Proxmox' },
  nodeHint: {
    en: 'the node name as `pvecm nodes` shows it: letters, digits and hyphens, no dots',
    fr: 'le nom du nœud tel que `pvecm nodes` le montre : lettres, chiffres et tirets, sans point',
  },
  bridgeExpected: { en: 'a bridge name', fr: 'un nom de pont (bridge)' },
  bridgeHint: {
    en: 'a Linux bridge of the nodes, as `ip link` shows it (for example vmbr0)',
    fr: 'un pont Linux des nœuds, tel que `ip link` le montre (par exemple vmbr0)',
  },
  coresExpected: { en: 'a whole number of cores from 1 to 512', fr: 'un nombre entier de cœurs de 1 à 512' },
  coresHint: {
    en: 'the virtual CPU cores of the VM, for example 2',
    fr: 'les cœurs virtuels de la VM, par exemple 2',
  },
  sizeInvalid: (got: string) => ({
    en: `must be a size such as 4G, got ${got}`,
    fr: `doit être une taille comme 4G, reçu ${got}`,
  }),
  sizeSuggest: (size: string) => ({
    en: `write ${size}: a whole number and one unit, K, M, G or T (powers of 1024), no space`,
    fr: `écrivez ${size} : un nombre entier et une unité, K, M, G ou T (puissances de 1024), sans espace`,
  }),
  sizeHint: {
    en: 'a whole number and one unit, K, M, G or T (powers of 1024): for example 512M, 4G or 1T',
    fr: 'un nombre entier et une unité, K, M, G ou T (puissances de 1024) : par exemple 512M, 4G ou 1T',
  },
  networksExpected: { en: 'networks by name', fr: 'des réseaux par nom' },
  networksHint: {
    en: 'for example `lan: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, allocate: 10.0.0.100-10.0.0.199 }`',
    fr: 'par exemple `lan: { cidr: 10.0.0.0/24, gateway: 10.0.0.1, allocate: 10.0.0.100-10.0.0.199 }`',
  },
  cidrHint: {
    en: 'the network in CIDR form: its IPv4 address and prefix length, for example 10.0.0.0/24',
    fr: 'le réseau en notation CIDR : son adresse IPv4 et la longueur du préfixe, par exemple 10.0.0.0/24',
  },
  cidrExpected: { en: 'an IPv4 network in CIDR form', fr: 'un réseau IPv4 en notation CIDR' },
  cidrHostBits: (cidr: string) => ({
    en: `${cidr} is an address inside a network, not the network`,
    fr: `${cidr} est une adresse dans un réseau, pas le réseau`,
  }),
  cidrHostBitsHint: (network: string) => ({
    en: `write the network: ${network}`,
    fr: `écrivez le réseau : ${network}`,
  }),
  dnsExpected: { en: 'a list of IPv4 addresses', fr: "une liste d'adresses IPv4" },
  outsideNetwork: (address: string, cidr: string) => ({
    en: `${address} is outside the network ${cidr}`,
    fr: `${address} est hors du réseau ${cidr}`,
  }),
  outsideNetworkHint: {
    en: 'use an address of the network, or correct the cidr',
    fr: 'prenez une adresse du réseau, ou corrigez le cidr',
  },
  rangeExpected: { en: 'a range of IPv4 addresses FIRST-LAST', fr: "une plage d'adresses IPv4 PREMIÈRE-DERNIÈRE" },
  rangeHint: {
    en: 'the addresses chaton may give new VMs, for example 10.0.0.100-10.0.0.199',
    fr: 'les adresses que chaton peut donner aux nouvelles VM, par exemple 10.0.0.100-10.0.0.199',
  },
  rangeBackwards: (first: string, last: string) => ({
    en: `the range runs backwards: ${first} comes after ${last}`,
    fr: `la plage est à l'envers : ${first} vient après ${last}`,
  }),
  rangeBackwardsHint: (range: string) => ({
    en: `write the lower end first: ${range}`,
    fr: `écrivez d'abord le bas de la plage : ${range}`,
  }),
  rolesExpected: { en: 'roles by name', fr: 'des rôles par nom' },
  rolesHint: {
    en: 'for example `web: { security_group: web, network: lan }`',
    fr: 'par exemple `web: { security_group: web, network: lan }`',
  },
  securityGroupExpected: { en: 'a Proxmox security group name', fr: 'un nom de groupe de sécurité Proxmox' },
  securityGroupHint: {
    en: 'a group of Datacenter > Firewall > Security Group: a letter, then letters, digits, - or _, at most 18',
    fr:
      'un groupe de Centre de données > Pare-feu > Groupe de sécurité : une lettre, ' +
      'puis lettres, chiffres, - ou _, 18 au plus',
  },
  unknownNetwork: (name: string) => ({
    en: `${name} is not a network of proxmox.networks`,
    fr: `${name} n'est pas un réseau de proxmox.networks`,
  }),
  unknownRole: (name: string) => ({
    en: `${name} is not a role of proxmox.roles`,
    fr: `${name} n'est pas un rôle de proxmox.roles`,
  }),
  unknownTemplate: (name: string) => ({
    en: `${name} is not a template of proxmox.templates`,
    fr: `${name} n'est pas un modèle de proxmox.templates`,
  }),
  didYouMean: (name: string) => ({ en: `did you mean ${name}?`, fr: `vouliez-vous dire ${name} ?` }),
  oneOf: (names: string) => ({ en: `one of: ${names}`, fr: `un parmi : ${names}` }),
  noneDefined: (key: string) => ({
    en: `define it under proxmox.${key} first`,
    fr: `définissez-le d'abord sous proxmox.${key}`,
  }),
  backupJobExpected: { en: 'a backup job id', fr: 'un identifiant de tâche de sauvegarde' },
  backupJobHint: {
    en: 'the id of a job of Datacenter > Backup, as `pvesh get /cluster/backup` shows it',
    fr: "l'identifiant d'une tâche de Centre de données > Sauvegarde, tel que `pvesh get /cluster/backup` le montre",
  },
  vmidsExpected: { en: 'a range of VMIDs FIRST-LAST', fr: 'une plage de VMID PREMIER-DERNIER' },
  vmidsHint: {
    en: 'the VMIDs chaton may give new VMs, for example 5000-5999 (Proxmox VMIDs start at 100)',
    fr: 'les VMID que chaton peut donner aux nouvelles VM, par exemple 5000-5999 (les VMID Proxmox commencent à 100)',
  },
  vmidsTooLow: (first: number) => ({
    en: `${first} is below 100, the lowest VMID Proxmox gives`,
    fr: `${first} est sous 100, le plus petit VMID que Proxmox donne`,
  }),
  vmsExpected: { en: 'VMs by name', fr: 'des VM par nom' },
  vmsHint: {
    en: 'for example `web2: { template: debian-12, role: web, ip: 10.0.0.15/24 }`',
    fr: 'par exemple `web2: { template: debian-12, role: web, ip: 10.0.0.15/24 }`',
  },
  vmNameInvalid: (name: string) => ({
    en: `${name} is not a valid VM name`,
    fr: `${name} n'est pas un nom de VM valide`,
  }),
  vmNameHint: {
    en: 'a DNS label: lowercase letters, digits and hyphens, 1 to 63, no hyphen at either end, no dot',
    fr: 'une étiquette DNS : minuscules, chiffres et tirets, 1 à 63, sans tiret aux bouts, sans point',
  },
  vmIpExpected: { en: 'an IPv4 address with its prefix length', fr: 'une adresse IPv4 avec sa longueur de préfixe' },
  vmIpHint: { en: 'for example 10.0.0.15/24', fr: 'par exemple 10.0.0.15/24' },
  vmIpPrefix: (ip: string, cidr: string) => ({
    en: `${ip} does not have the prefix length of its network ${cidr}`,
    fr: `${ip} n'a pas la longueur de préfixe de son réseau ${cidr}`,
  }),
  vmIpPrefixHint: (ip: string) => ({
    en: `write ${ip}: a VM's prefix length is its network's`,
    fr: `écrivez ${ip} : la longueur de préfixe d'une VM est celle de son réseau`,
  }),
  vmIpNoRole: {
    en: 'has an ip but no role: its network is unknown',
    fr: 'a une ip mais pas de rôle : son réseau est inconnu',
  },
  vmIpNoRoleHint: {
    en: 'give the VM a role whose network holds this address',
    fr: 'donnez à la VM un rôle dont le réseau contient cette adresse',
  },
  vmIpTaken: (ip: string, vm: string) => ({
    en: `${ip} is already the address of the VM ${vm}`,
    fr: `${ip} est déjà l'adresse de la VM ${vm}`,
  }),
  vmIpTakenHint: {
    en: 'give each VM its own address',
    fr: 'donnez à chaque VM sa propre adresse',
  },
  tagExpected: { en: 'a list of Proxmox tags', fr: "une liste d'étiquettes Proxmox" },
  tagHint: {
    en: 'tags of letters, digits, _ + - and ., for example [prod, web]',
    fr: 'des étiquettes de lettres, chiffres, _ + - et ., par exemple [prod, web]',
  },
});

// `vm create`'s domain (vm.ts, render.ts): bad input, what the cluster refuses, the report.
export const vmMessages = catalogue({
  // What pvesh printed, when it is not what the API returns (api.ts).
  notJson: (what: string, got: string) => ({
    en: `${what}: pvesh did not print what the API returns: ${got || '(nothing)'}`,
    fr: `${what} : pvesh n'a pas affiché ce que l'API renvoie : ${got || '(rien)'}`,
  }),
  notObject: (what: string) => ({
    en: `${what}: pvesh printed no JSON object`,
    fr: `${what} : pvesh n'a affiché aucun objet JSON`,
  }),
  notArray: (what: string) => ({
    en: `${what}: pvesh printed no JSON array`,
    fr: `${what} : pvesh n'a affiché aucun tableau JSON`,
  }),
  didYouMean: (name: string) => ({ en: `did you mean ${name}?`, fr: `vouliez-vous dire ${name} ?` }),
  oneOf: (names: string) => ({ en: `one of: ${names}`, fr: `l'un de : ${names}` }),
  noneInSection: (key: string) => ({
    en: `the proxmox: section has no ${key}: add them there first`,
    fr: `la section proxmox: n'a pas de ${key} : ajoutez-les d'abord`,
  }),
  unknownTemplate: (name: string) => ({
    en: `unknown template ${name}: nothing was created`,
    fr: `modèle ${name} inconnu : rien n'a été créé`,
  }),
  unknownRole: (name: string) => ({
    en: `unknown role ${name}: nothing was created`,
    fr: `rôle ${name} inconnu : rien n'a été créé`,
  }),
  badSize: (option: string, got: string) => ({
    en: `${option} must be a size such as 4G, got ${got}: nothing was created`,
    fr: `${option} doit être une taille comme 4G, reçu ${got} : rien n'a été créé`,
  }),
  badName: (name: string) => ({
    en: `${name} is not a valid VM name: nothing was created`,
    fr: `${name} n'est pas un nom de VM valide : rien n'a été créé`,
  }),
  badNameHint: {
    en: "a DNS label, the VM's host name too: lowercase letters, digits and hyphens, 1 to 63, no dot",
    fr: "une étiquette DNS, aussi le nom d'hôte de la VM : minuscules, chiffres et tirets, 1 à 63, sans point",
  },
  noTemplate: { en: 'which template? nothing was created', fr: "quel modèle ? rien n'a été créé" },
  noTemplateHint: (names: string) => ({
    en: `give --template (one of: ${names}) or declare the VM under proxmox.vms`,
    fr: `donnez --template (l'un de : ${names}) ou déclarez la VM sous proxmox.vms`,
  }),
  badCores: (got: string) => ({
    en: `--cores must be a whole number from 1 to 512, got ${got}`,
    fr: `--cores doit être un nombre entier de 1 à 512, reçu ${got}`,
  }),
  badCoresHint: { en: 'for example --cores 2', fr: 'par exemple --cores 2' },
  badMemory: (got: string) => ({
    en: `the memory must be whole MiB, at least 16M, got ${got}`,
    fr: `la mémoire doit être un nombre entier de Mio, au moins 16M, reçu ${got}`,
  }),
  badMemoryHint: { en: 'for example --memory 4G or --memory 512M', fr: 'par exemple --memory 4G ou --memory 512M' },
  badIp: (got: string) => ({
    en: `--ip must be an IPv4 address with its prefix length, or auto, got ${got}`,
    fr: `--ip doit être une adresse IPv4 avec sa longueur de préfixe, ou auto, reçu ${got}`,
  }),
  badIpHint: { en: 'for example --ip 10.0.1.23/24', fr: 'par exemple --ip 10.0.1.23/24' },
  noNetwork: (role: string) => ({
    en: `no network for the VM${role ? ` (role ${role} names none)` : ''}: nothing was created`,
    fr: `aucun réseau pour la VM${role ? ` (le rôle ${role} n'en nomme pas)` : ''} : rien n'a été créé`,
  }),
  noNetworkHint: {
    en: 'give the role a network under proxmox.roles, or give --role',
    fr: 'donnez un réseau au rôle sous proxmox.roles, ou donnez --role',
  },
  ipOutside: (ip: string, network: string, cidr: string) => ({
    en: `${ip} is not an address of the network ${network} (${cidr})`,
    fr: `${ip} n'est pas une adresse du réseau ${network} (${cidr})`,
  }),
  ipOutsideHint: (cidr: string) => ({
    en: `give an address of ${cidr} with its prefix length, or --ip auto`,
    fr: `donnez une adresse de ${cidr} avec sa longueur de préfixe, ou --ip auto`,
  }),
  noAllocate: (network: string) => ({
    en: `the network ${network} has no range to allocate from: give --ip`,
    fr: `le réseau ${network} n'a pas de plage où choisir : donnez --ip`,
  }),
  noAllocateHint: {
    en: 'or add `allocate: FIRST-LAST` to the network in the inventory',
    fr: "ou ajoutez `allocate: PREMIÈRE-DERNIÈRE` au réseau dans l'inventaire",
  },
  badNode: (got: string) => ({
    en: `--node must be a node name or auto, got ${got}`,
    fr: `--node doit être un nom de nœud ou auto, reçu ${got}`,
  }),
  badNodeHint: {
    en: 'a node as `pvecm nodes` shows it, or auto: the node with the most memory left',
    fr: 'un nœud tel que `pvecm nodes` le montre, ou auto : le nœud qui a le plus de mémoire libre',
  },
  badTag: (got: string) => ({ en: `${got} is not a Proxmox tag`, fr: `${got} n'est pas une étiquette Proxmox` }),
  badTagHint: {
    en: 'tags of letters, digits, _ + - and ., comma-separated: --tags web,prod',
    fr: 'des étiquettes de lettres, chiffres, _ + - et ., séparées par des virgules : --tags web,prod',
  },

  // The report (render.ts).
  verdictCreated: (name: string, vmid: string, node: string, address: string) => ({
    en: `${name} created: VM ${vmid} on ${node}, ${address}`,
    fr: `${name} créée : VM ${vmid} sur ${node}, ${address}`,
  }),
  verdictResumed: (name: string, vmid: string, node: string, address: string) => ({
    en: `${name} finished: VM ${vmid} on ${node}, ${address} (continued from an earlier run)`,
    fr: `${name} terminée : VM ${vmid} sur ${node}, ${address} (reprise d'une exécution précédente)`,
  }),
  verdictUnchanged: (name: string, vmid: string, node: string, address: string) => ({
    en: `${name} exists, unchanged: VM ${vmid} on ${node}, ${address}`,
    fr: `${name} existe, inchangée : VM ${vmid} sur ${node}, ${address}`,
  }),
  verdictDiffers: (name: string, vmid: string, count: number) => ({
    en: `${name} exists (VM ${vmid}) with ${count} setting${count === 1 ? '' : 's'} other than asked: nothing changed`,
    fr:
      `${name} existe (VM ${vmid}) avec ${count} réglage${count <= 1 ? '' : 's'} ` +
      `autre${count <= 1 ? '' : 's'} que demandé : rien n'a changé`,
  }),
  verdictPlanned: (name: string, vmid: string, node: string, address: string) => ({
    en: `would create ${name} as VM ${vmid} (provisional) on ${node} at ${address}; nothing was changed`,
    fr: `créerait ${name} comme VM ${vmid} (provisoire) sur ${node} à ${address} ; rien n'a été changé`,
  }),
  verdictRefused: (name: string) => ({
    en: `${name} not created: refused, nothing was changed`,
    fr: `${name} non créée : refusé, rien n'a été changé`,
  }),
  verdictDestroyed: (name: string, vmid: string) => ({
    en: `${name} failed: VM ${vmid} was destroyed, nothing is left`,
    fr: `${name} a échoué : la VM ${vmid} a été détruite, il n'en reste rien`,
  }),
  verdictKept: (name: string, vmid: string, node: string) => ({
    en: `${name} failed: VM ${vmid} is kept, stopped, on ${node} (--keep-on-failure); rerun to continue it`,
    fr:
      `${name} a échoué : la VM ${vmid} est gardée, arrêtée, sur ${node} (--keep-on-failure) ; ` +
      'relancez pour la continuer',
  }),
  verdictInterrupted: (name: string) => ({
    en: `${name}: interrupted; the same command continues where this run stopped`,
    fr: `${name} : interrompu ; la même commande reprend là où cette exécution s'est arrêtée`,
  }),
  verdictFailed: (name: string) => ({ en: `${name} failed`, fr: `${name} a échoué` }),
  labelVmid: both('VMID'),
  labelNode: { en: 'node', fr: 'nœud' },
  labelAddress: { en: 'address', fr: 'adresse' },
  labelFingerprint: { en: 'host key', fr: "clé d'hôte" },
  labelHostname: { en: 'host name', fr: "nom d'hôte" },
  stepOutcome: (outcome: string) => ({
    en: outcome === 'planned' ? 'planned' : 'done',
    fr: outcome === 'planned' ? 'prévu' : 'fait',
  }),
  columnStep: { en: 'STEP', fr: 'ÉTAPE' },
  columnSetting: { en: 'SETTING', fr: 'RÉGLAGE' },
  columnWanted: { en: 'ASKED', fr: 'DEMANDÉ' },
  columnActual: { en: 'ON THE CLUSTER', fr: 'SUR LE CLUSTER' },
  attemptLine: (vmid: number, error: string) => ({
    en: `VMID ${vmid} refused: ${error}`,
    fr: `VMID ${vmid} refusé : ${error}`,
  }),
});
// `vm create`'s operations on the cluster (vm-operations.ts): what each step did, waited for or failed at.
export const operationMessages = catalogue({
  vmAnotherRun: (name: string, holder: string) => ({
    en: `another run is creating ${name}: ${holder}; nothing was changed`,
    fr: `une autre exécution crée ${name} : ${holder} ; rien n'a été changé`,
  }),
  vmAnotherRunHint: (directory: string, host: string) => ({
    en: `let it finish, then run the same command again; if it died, remove ${directory} on ${host}`,
    fr:
      'laissez-la finir, puis relancez la même commande ; ' +
      `si elle s'est arrêtée net, supprimez ${directory} sur ${host}`,
  }),
  vmAddressMissing: (address: string, found: string) => ({
    en: `the guest agent does not report ${address} (it reports ${found}): cloud-init did not apply the address`,
    fr: `l'agent invité ne donne pas ${address} (il donne ${found}) : cloud-init n'a pas appliqué l'adresse`,
  }),
  vmAddressMissingHint: {
    en: 'check that the template has a cloud-init drive and cloud-init installed',
    fr: 'vérifiez que le modèle a un lecteur cloud-init et cloud-init installé',
  },
  vmAgentFailed: (vmid: number, said: string) => ({
    en: `the guest agent of VM ${vmid}: ${said}`,
    fr: `l'agent invité de la VM ${vmid} : ${said}`,
  }),
  vmAgentTimedOut: (vmid: number, seconds: number, last: string) => ({
    en: `the guest agent of VM ${vmid} did not answer within ${seconds} s: ${last}`,
    fr: `l'agent invité de la VM ${vmid} n'a pas répondu en ${seconds} s : ${last}`,
  }),
  vmAgentTimedOutHint: {
    en: 'the template needs qemu-guest-agent installed and enabled; a slow boot: a longer --agent-timeout',
    fr: 'le modèle doit avoir qemu-guest-agent installé et activé ; un démarrage lent : un --agent-timeout plus long',
  },
  vmAgentWaiting: (vmid: number, said: string) => ({
    en: `waiting for the guest agent of VM ${vmid}${said ? ` (${said})` : ''}`,
    fr: `attente de l'agent invité de la VM ${vmid}${said ? ` (${said})` : ''}`,
  }),
  vmCloneFailed: (vmid: number, error: string) => ({
    en: `the clone into VMID ${vmid} failed: ${error}`,
    fr: `le clonage dans le VMID ${vmid} a échoué : ${error}`,
  }),
  vmCloneGaveUp: (last: string) => ({
    en: `the clone was refused again and again; last: ${last}`,
    fr: `le clonage a été refusé encore et encore ; dernier refus : ${last}`,
  }),
  vmFirewallOff: (vmid: number) => ({
    en: `the firewall of VM ${vmid} is off (its options, or firewall=1 on net0)`,
    fr: `le pare-feu de la VM ${vmid} est désactivé (ses options, ou firewall=1 sur net0)`,
  }),
  vmFirewallOn: { en: 'firewall on', fr: 'pare-feu activé' },
  vmGroupAdded: (group: string) => ({ en: `security group ${group}`, fr: `groupe de sécurité ${group}` }),
  vmGroupMissing: (vmid: number, group: string) => ({
    en: `VM ${vmid} is not in the security group ${group}`,
    fr: `la VM ${vmid} n'est pas dans le groupe de sécurité ${group}`,
  }),
  vmIdTaken: (vmid: number, next: number) => ({
    en: `VMID ${vmid} was taken meanwhile: trying ${next}`,
    fr: `le VMID ${vmid} a été pris entre-temps : essai de ${next}`,
  }),
  vmJobAlready: (job: string) => ({
    en: `already in the backup job ${job}`,
    fr: `déjà dans la tâche de sauvegarde ${job}`,
  }),
  vmJobGone: (job: string) => ({
    en: `the backup job ${job} is no longer in /etc/pve/jobs.cfg`,
    fr: `la tâche de sauvegarde ${job} n'est plus dans /etc/pve/jobs.cfg`,
  }),
  vmJobJoined: (job: string) => ({
    en: `added to the backup job ${job}`,
    fr: `ajoutée à la tâche de sauvegarde ${job}`,
  }),
  vmJobLockWait: (job: string, holder: string) => ({
    en: `waiting for another run's change of the backup job ${job} (${holder})`,
    fr: `attente de la modification de la tâche de sauvegarde ${job} par une autre exécution (${holder})`,
  }),
  vmLockTimeout: (vmid: number, next: number) => ({
    en: `the template's lock timed out (VMID ${vmid}): trying again with ${next}`,
    fr: `le verrou du modèle a expiré (VMID ${vmid}) : nouvel essai avec ${next}`,
  }),
  vmNoUpid: { en: 'pvesh printed no task id (UPID)', fr: "pvesh n'a affiché aucun identifiant de tâche (UPID)" },
  vmNotBackedUp: (vmid: number) => ({
    en: `VM ${vmid} is in no backup job (/cluster/backup-info/not-backed-up lists it)`,
    fr: `la VM ${vmid} n'est dans aucune tâche de sauvegarde (/cluster/backup-info/not-backed-up la liste)`,
  }),
  vmReadFailed: (host: string, what: string, said: string) => ({
    en: `${host}: could not read ${what}: ${said}`,
    fr: `${host} : impossible de lire ${what} : ${said}`,
  }),
  vmResized: (disk: string, size: string) => ({ en: `${disk} grown to ${size}`, fr: `${disk} agrandi à ${size}` }),
  vmSetKeys: (keys: string) => ({ en: `set ${keys}`, fr: `réglé ${keys}` }),
  vmTaskFailed: (host: string, error: string) => ({
    en: `${host}: a Proxmox task failed: ${error}`,
    fr: `${host} : une tâche Proxmox a échoué : ${error}`,
  }),
  vmTaskRunning: { en: 'the task is still running', fr: 'la tâche tourne encore' },
  vmVerified: {
    en: 'in a backup job, firewall on with its security group',
    fr: 'dans une tâche de sauvegarde, pare-feu activé avec son groupe de sécurité',
  },
  vmVerifyPlanned: {
    en: 'read the backup coverage and the firewall',
    fr: 'lire la couverture des sauvegardes et le pare-feu',
  },
});

/** What the cluster refuses before anything is made: English in JSON, the reader's language in the table. */
const VM_SAID = {
  nodeUnknown: (node: string, nodes: string) => ({
    en: `the cluster has no node ${node} (it has ${nodes})`,
    fr: `le cluster n'a pas de nœud ${node} (il a ${nodes})`,
  }),
  nodeOffline: (node: string, status: string) => ({
    en: `node ${node} is ${status}`,
    fr: `le nœud ${node} est ${status}`,
  }),
  nodeFull: (node: string, free: string, size: string) => ({
    en: `node ${node} has ${free} of memory left for VMs, ${size} asked (--node auto picks the node with the most)`,
    fr:
      `le nœud ${node} a ${free} de mémoire libre pour les VM, ${size} demandés ` +
      '(--node auto prend le nœud qui en a le plus)',
  }),
  noNodeOnline: { en: 'no node of the cluster is online', fr: "aucun nœud du cluster n'est en ligne" },
  everyNodeFull: (size: string, best: string, free: string) => ({
    en: `no node has ${size} of memory left for VMs (the most: ${best}, ${free})`,
    fr: `aucun nœud n'a ${size} de mémoire libre pour les VM (le plus : ${best}, ${free})`,
  }),
  addressInInventory: (address: string) => ({
    en: `${address} is taken: a host of the inventory, or the network's gateway or DNS server`,
    fr: `${address} est prise : un hôte de l'inventaire, ou la passerelle ou le DNS du réseau`,
  }),
  addressOfVm: (address: string, vmid: number) => ({
    en: `${address} is taken: VM ${vmid} is configured with it`,
    fr: `${address} est prise : la VM ${vmid} est configurée avec`,
  }),
  addressAnswers: (address: string) => ({
    en: `${address} is taken: something answers there on the network`,
    fr: `${address} est prise : quelque chose y répond sur le réseau`,
  }),
  nameTwice: (name: string, vmids: string) => ({
    en: `the cluster has several VMs named ${name} (${vmids}): rename all but one`,
    fr: `le cluster a plusieurs VM nommées ${name} (${vmids}) : renommez-les toutes sauf une`,
  }),
  templateMissing: (name: string, vmid: number) => ({
    en: `the template ${name} (VM ${vmid}) is not on the cluster`,
    fr: `le modèle ${name} (VM ${vmid}) n'est pas sur le cluster`,
  }),
  templateNotTemplate: (name: string, vmid: number) => ({
    en: `VM ${vmid} (template ${name}) is not a template`,
    fr: `la VM ${vmid} (modèle ${name}) n'est pas un modèle`,
  }),
  diskTooSmall: (size: string, template: string, templateSize: string) => ({
    en: `a ${size} disk is smaller than the template ${template}'s (${templateSize}): disks only grow`,
    fr:
      `un disque de ${size} est plus petit que celui du modèle ${template} (${templateSize}) : ` +
      'un disque ne fait que grandir',
  }),
  groupMissing: (group: string, groups: string) => ({
    en: `the cluster's firewall has no security group ${group} (it has ${groups})`,
    fr: `le pare-feu du cluster n'a pas de groupe de sécurité ${group} (il a ${groups})`,
  }),
  jobMissing: (job: string) => ({
    en: `the cluster has no backup job ${job}`,
    fr: `le cluster n'a pas de tâche de sauvegarde ${job}`,
  }),
  jobByPool: (job: string, pool: string) => ({
    en: `the backup job ${job} selects the pool ${pool}: adding a VMID would replace that choice`,
    fr: `la tâche de sauvegarde ${job} choisit le pool ${pool} : y ajouter un VMID remplacerait ce choix`,
  }),
  noFreeAddress: (network: string, range: string) => ({
    en: `no free address left in ${range} (network ${network})`,
    fr: `plus aucune adresse libre dans ${range} (réseau ${network})`,
  }),
  noFreeVmid: {
    en: 'no free VMID left in proxmox.vmids',
    fr: 'plus aucun VMID libre dans proxmox.vmids',
  },
};
export const said = sayer(VM_SAID);
/** The same entries as a catalogue, for the test that reads every message in both languages. */
export const refusals = catalogue(VM_SAID);
export type { Said } from '../run/catalogue.js';
