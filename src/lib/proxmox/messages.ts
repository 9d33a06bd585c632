// The messages of the Proxmox part, in English and French (see ../run/catalogue.ts): what each
// `pveum` change does, in words; the pveum command lines themselves are never translated.
import { catalogue } from '../run/catalogue.js';

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
  addressExpected: { en: 'an IPv4 address', fr: 'une adresse IPv4' },
  addressHint: { en: 'for example 10.0.0.1', fr: 'par exemple 10.0.0.1' },
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
