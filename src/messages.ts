// The messages of the program itself (cli.ts): its description, its global options, how it ends
// on an error. In English and French, see lib/run/catalogue.ts. The man page is built from these
// texts under LC_ALL=C (man-page.ts): it stays English.
import { catalogue } from './lib/run/catalogue.js';

export const messages = catalogue({
  program: {
    en: 'Safe routine operations on a small hosting collective, over SSH through the bastion.',
    fr: "Opérations courantes sûres pour un petit collectif d'hébergement, en SSH par le bastion.",
  },
  inventoryOption: {
    en:
      'inventory file (default: $CHATON_INVENTORY, chaton.yaml searched upwards, ' +
      '~/.config/chaton/inventory.yaml, /etc/chaton/inventory.yaml)',
    fr:
      "fichier d'inventaire (par défaut : $CHATON_INVENTORY, chaton.yaml cherché en remontant, " +
      '~/.config/chaton/inventory.yaml, /etc/chaton/inventory.yaml)',
  },
  dryRunOption: {
    en: 'run only read-only probes; print every command that would change something',
    fr: 'ne lancer que les sondes en lecture seule ; afficher chaque commande qui changerait quelque chose',
  },
  yesOption: {
    en: 'answer yes to confirmations (required without a terminal)',
    fr: 'répondre oui aux confirmations (obligatoire sans terminal)',
  },
  jsonOption: {
    en: 'print one JSON document on stdout (progress goes to stderr)',
    fr: 'afficher un document JSON sur stdout (la progression va sur stderr)',
  },
  verboseOption: {
    en:
      'show the output of remote commands as they run; twice (-vv), also how each SSH connection is made ' +
      '(address, jump host, key exchange, host key and its known_hosts line, keys offered and accepted, timings)',
    fr:
      "afficher la sortie des commandes distantes pendant qu'elles tournent ; deux fois (-vv), aussi comment " +
      "chaque connexion SSH s'établit (adresse, hôte de rebond, échange de clés, clé d'hôte et sa ligne de " +
      'known_hosts, clés proposées et acceptée, durées)',
  },
  quietOption: {
    en: 'nothing on success; only what failed and why (for cron)',
    fr: 'rien en cas de succès ; seulement ce qui a échoué et pourquoi (pour cron)',
  },
  concurrencyOption: { en: 'hosts worked on at once, 1 to 1000', fr: 'hôtes traités à la fois, de 1 à 1000' },
  acceptNewOption: {
    en: 'add unknown host keys to known_hosts (a changed key is still refused)',
    fr: "ajouter les clés d'hôte inconnues à known_hosts (une clé changée reste refusée)",
  },
  persistOption: {
    en:
      'keep the connections warm for the next runs, this long after their last use: 90s, 5m, 1h (at most 1d), ' +
      "or off (default: $CHATON_PERSIST, else the inventory's ssh.persist)",
    fr:
      'garder les connexions pour les exécutions suivantes, ce temps après leur dernier usage : 90s, 5m, 1h ' +
      "(au plus 1d), ou off (par défaut : $CHATON_PERSIST, sinon ssh.persist de l'inventaire)",
  },
  noColorOption: {
    en: 'no colour (NO_COLOR and FORCE_COLOR are honoured too)',
    fr: 'pas de couleur (NO_COLOR et FORCE_COLOR sont aussi respectées)',
  },
  logFileOption: {
    en: 'also append every step, plain and timestamped, to this file',
    fr: 'ajouter aussi chaque étape, en texte simple et horodatée, à ce fichier',
  },
  inventoryCommand: { en: 'write, check and show the inventory', fr: "écrire, vérifier et afficher l'inventaire" },
  hostsCommand: { en: 'reach and check hosts', fr: 'joindre et vérifier les hôtes' },
  backupCommand: {
    en: "verify the backups of the cluster's guests",
    fr: 'vérifier les sauvegardes des invités de la grappe',
  },
  failoverCommand: {
    en: "the site's internet links: which one is in use, and whether each is up",
    fr: 'les liens internet du site : lequel est utilisé, et si chacun est en service',
  },
  vmCommand: { en: 'virtual machines on the Proxmox cluster', fr: 'les machines virtuelles du cluster Proxmox' },
  diskCommand: {
    en: "the hosts' disks: replace one safely",
    fr: 'les disques des hôtes : en remplacer un sans risque',
  },
  connectionsCommand: {
    en: 'the connections kept warm between runs (ssh.persist, --persist): list them, close them',
    fr: 'les connexions gardées entre les exécutions (ssh.persist, --persist) : les lister, les fermer',
  },
  onboardCommand: { en: 'give access to a newcomer', fr: 'donner accès à une nouvelle personne' },
  offboardCommand: { en: 'take access back', fr: "retirer l'accès" },
  exitCodes: { en: 'Exit codes:', fr: 'Codes de sortie :' },
  bug: {
    en: 'This is a bug in chaton: please report it with the command line above.',
    fr: 'Ceci est un bogue de chaton : merci de le signaler avec la ligne de commande ci-dessus.',
  },
  /** The hint of a usage error under --json: where the usage is. */
  seeHelp: (command: string) => ({ en: `see ${command} --help`, fr: `voir ${command} --help` }),
  unknownCommand: (word: string, where: string, names: string) => ({
    en: `unknown command '${word}' (${where} has: ${names})`,
    fr: `commande inconnue '${word}' (commandes de ${where} : ${names})`,
  }),
  didYouMean: (command: string, where: string) => ({
    en: `did you mean ${command}? (${where} --help lists them)`,
    fr: `vouliez-vous dire ${command} ? (${where} --help les liste)`,
  }),
  helpListsThem: (where: string) => ({ en: `${where} --help lists them`, fr: `${where} --help les liste` }),
});
