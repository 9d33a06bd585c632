// The messages of the commands (help, titles, questions, reports), in English and French (see
// lib/run/catalogue.ts). Loaded by `chaton --help`: it imports nothing but the catalogue.
import { both, catalogue } from '../lib/run/catalogue.js';

/** `1 host`, `2 hosts` (as lib/run/output.ts's plural). */
const countEn = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
/** `1 hôte`, `2 hôtes`: French counts 0 and 1 in the singular. */
const countFr = (count: number, word: string) => `${count} ${word}${count <= 1 ? '' : 's'}`;

const hostsEn = (count: number) => countEn(count, 'host');
const hostsFr = (count: number) => countFr(count, 'hôte');

export const messages = catalogue({
  // Shared by several commands.
  examplesHeading: { en: 'Examples:', fr: 'Exemples :' },
  targetsHelp: {
    en:
      '\nTargets: a host name, a group name, role:<role>, all (every host under hosts:),\n' +
      'or a comma list of those, e.g. pve1,role:ceph. The bastion is a target by its name.',
    fr:
      "\nCibles : un nom d'hôte, un nom de groupe, role:<rôle>, all (tous les hôtes sous hosts:),\n" +
      'ou une liste de ceux-ci séparés par des virgules, p. ex. pve1,role:ceph. Le bastion est une cible ' +
      'par son nom.',
  },
  targetsArgument: { en: 'which hosts (see below)', fr: 'quels hôtes (voir ci-dessous)' },
  onOption: {
    en: 'only these targets (default: the bastion and every host)',
    fr: 'seulement ces cibles (par défaut : le bastion et chaque hôte)',
  },
  columnHost: { en: 'HOST', fr: 'HÔTE' },
  columnAddress: { en: 'ADDRESS', fr: 'ADRESSE' },
  columnVia: both('VIA'),
  columnSudo: both('SUDO'),
  /** Between the parts of a one-line summary. */
  separator: { en: '; ', fr: ' ; ' },
  nagiosFormatOption: {
    en: 'nagios: one Monitoring Plugins line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN',
    fr: 'nagios : une ligne de greffon de supervision, code 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN',
  },
  forNagios: { en: 'for Nagios or Icinga', fr: 'pour Nagios ou Icinga' },
  jsonOrNagios: {
    en: '--json and --format nagios are two outputs: choose one',
    fr: '--json et --format nagios sont deux sorties : choisissez-en une',
  },
  commandRan: (target: string, command: string, duration: string, code: string) => ({
    en: `${target}: ${command} (${duration}, exit ${code})`,
    fr: `${target} : ${command} (${duration}, code ${code})`,
  }),

  // exec
  execDescription: {
    en: 'run one command on every target in parallel; exit 4 when some hosts failed',
    fr: 'lancer une commande sur chaque cible en parallèle ; code de sortie 4 si certains hôtes ont échoué',
  },
  execCommandArgument: { en: 'the command, after --', fr: 'la commande, après --' },
  execHelp: {
    en:
      'The words after -- reach the remote shell as `ssh host words...` sends them: joined by\n' +
      "spaces and read by the host's shell, so pipes, redirections and globs work there (quote them\n" +
      'so that YOUR shell leaves them alone). stdin is not forwarded. On more than one host chaton\n' +
      'asks first; without a terminal, add --yes.',
    fr:
      'Les mots après -- arrivent au shell distant comme `ssh hôte mots...` les envoie : joints par\n' +
      "des espaces et lus par le shell de l'hôte, si bien que tubes, redirections et motifs (globs) y\n" +
      "fonctionnent (mettez-les entre guillemets pour que VOTRE shell n'y touche pas). L'entrée standard\n" +
      "n'est pas transmise. Sur plus d'un hôte, chaton demande d'abord ; sans terminal, ajoutez --yes.",
  },
  execTitle: (command: string) => ({ en: `Run \`${command}\``, fr: `Lancer \`${command}\`` }),
  execQuestion: (command: string, count: number, names: string) => ({
    en: `Run \`${command}\` on ${hostsEn(count)} (${names})?`,
    fr: `Lancer \`${command}\` sur ${hostsFr(count)} (${names}) ?`,
  }),
  execNotSent: { en: 'not sent (dry-run)', fr: 'non envoyée (simulation)' },
  execExited: (code: string) => ({ en: `exit ${code}`, fr: `code ${code}` }),
  execKilled: (signal: string) => ({ en: `killed by ${signal}`, fr: `tuée par ${signal}` }),
  execUnreachable: { en: 'unreachable', fr: 'injoignable' },
  execLost: { en: 'lost while running (outcome unknown)', fr: "perdue en cours d'exécution (issue inconnue)" },
  execInterrupted: { en: 'interrupted', fr: 'interrompue' },
  execFailed: { en: 'failed', fr: 'échec' },
  execOnHosts: (ending: string, count: number, names: string) => ({
    en: `${ending} on ${hostsEn(count)} (${names})`,
    fr: `${ending} sur ${hostsFr(count)} (${names})`,
  }),
  execSummary: (counted: string) => ({ en: `exit codes: ${counted}`, fr: `codes de sortie : ${counted}` }),
  andMore: (names: string, count: number) => ({ en: `${names}, +${count} more`, fr: `${names}, +${count} autres` }),

  // hosts check
  hostsCheckDescription: {
    en:
      'connect to every target (host keys checked), print latency and OS; ' +
      'exit 4 if some fail, 5 if the bastion fails',
    fr:
      "se connecter à chaque cible (clés d'hôte vérifiées), afficher la latence et le système ; " +
      'code de sortie 4 si certaines échouent, 5 si le bastion échoue',
  },
  fromCron: { en: 'from cron', fr: 'depuis cron' },
  hostsCheckTitle: { en: 'Check', fr: 'Vérifier' },
  columnConnect: { en: 'CONNECT', fr: 'CONNEXION' },
  columnLatency: { en: 'LATENCY', fr: 'LATENCE' },
  columnOs: both('OS'),

  // inventory check
  inventoryCheckDescription: {
    en: 'validate the inventory: every problem with its file:line:col, exit 0 or 2',
    fr: "valider l'inventaire : chaque problème avec son fichier:ligne:col, code de sortie 0 ou 2",
  },
  foundByFlag: { en: 'from --inventory', fr: 'donné par --inventory' },
  foundByEnv: { en: 'from CHATON_INVENTORY', fr: 'donné par CHATON_INVENTORY' },
  foundBySearch: { en: 'found by searching upwards', fr: 'trouvé en remontant les dossiers' },
  foundByConfig: { en: 'your own, in your config directory', fr: 'le vôtre, dans votre dossier de configuration' },
  foundBySystem: { en: "this machine's", fr: 'celui de cette machine' },
  inventoryValid: (file: string, foundBy: string, hosts: number, groups: number, bastions: string) => ({
    en: `${file} (${foundBy}): OK: ${hostsEn(hosts)}, ${countEn(groups, 'group')}, bastion: ${bastions}`,
    fr: `${file} (${foundBy}) : OK : ${hostsFr(hosts)}, ${countFr(groups, 'groupe')}, bastion : ${bastions}`,
  }),
  noBastion: { en: 'none', fr: 'aucun' },

  // inventory show
  inventoryShowDescription: {
    en:
      'list the resolved hosts (address, user, sudo, roles, groups, the jumps to reach them), ' +
      'the sysadmins and the shared secrets',
    fr:
      'lister les hôtes résolus (adresse, utilisateur, sudo, rôles, groupes, les rebonds pour les joindre), ' +
      'les sysadmins et les secrets partagés',
  },
  columnUser: { en: 'USER', fr: 'UTILISATEUR' },
  columnRoles: { en: 'ROLES', fr: 'RÔLES' },
  columnGroups: { en: 'GROUPS', fr: 'GROUPES' },
  columnSysadmin: both('SYSADMIN'),
  columnName: { en: 'NAME', fr: 'NOM' },
  columnProxmoxRole: { en: 'PROXMOX ROLE', fr: 'RÔLE PROXMOX' },
  columnKeys: { en: 'KEYS', fr: 'CLÉS' },
  yes: { en: 'yes', fr: 'oui' },
  no: { en: 'no', fr: 'non' },
  sharedSecrets: (names: string) => ({ en: `shared secrets: ${names}`, fr: `secrets partagés : ${names}` }),

  // inventory init
  inventoryInitDescription: {
    en: 'write a starter inventory where chaton finds it; never over an existing file without --force',
    fr: 'écrire un inventaire de départ là où chaton le trouve ; jamais par-dessus un fichier existant sans --force',
  },
  initBastionOption: {
    en: "the bastion's address (else left for you to fill in)",
    fr: "l'adresse du bastion (sinon laissée à remplir)",
  },
  initForceOption: {
    en: 'replace an existing file (its mode and owner are kept)',
    fr: 'remplacer un fichier existant (son mode et son propriétaire sont conservés)',
  },
  initFileOption: { en: 'where to write (default: see below)', fr: 'où écrire (par défaut : voir ci-dessous)' },
  initFromSshConfigOption: {
    en: 'hosts and bastion from an OpenSSH client config (default ~/.ssh/config)',
    fr: "les hôtes et le bastion d'une configuration de client OpenSSH (par défaut ~/.ssh/config)",
  },
  initFromAnsibleOption: {
    en: 'hosts, groups and bastion from an Ansible inventory (INI or YAML)',
    fr: "les hôtes, groupes et bastion d'un inventaire Ansible (INI ou YAML)",
  },
  initHelp: {
    en:
      'Writes the annotated example (every key, with what it means) to\n' +
      '~/.config/chaton/inventory.yaml ($XDG_CONFIG_HOME/chaton/ when set), mode 0600; as root, to\n' +
      "/etc/chaton/inventory.yaml, mode 0640, which every user's chaton finds. An existing file is\n" +
      'refused (exit 3) unless --force. What is left to fill in is listed, as `inventory check`\n' +
      'reports it. With --dry-run, the text is printed and nothing is written.\n' +
      '\n' +
      '--from-ssh-config: each Host without wildcards becomes a host (HostName, User, Port as ssh\n' +
      'would use them); wildcard blocks (Host *, Host *.lan) apply to the hosts they match; Match\n' +
      'blocks are skipped; Include is followed. --from-ansible: hosts (web[01:03] expanded), groups\n' +
      'and their children, ansible_host/user/port/become. In both, the ProxyJump most hosts use is the\n' +
      'bastion (--bastion replaces it), hosts without one are direct, and comments say what was guessed.',
    fr:
      "Écrit l'exemple annoté (chaque clé, avec ce qu'elle signifie) dans\n" +
      "~/.config/chaton/inventory.yaml ($XDG_CONFIG_HOME/chaton/ s'il est défini), mode 0600 ; en root,\n" +
      'dans /etc/chaton/inventory.yaml, mode 0640, que le chaton de chaque utilisateur trouve. Un fichier\n' +
      'existant est refusé (code de sortie 3) sauf avec --force. Ce qui reste à remplir est listé, comme\n' +
      "`inventory check` le signale. Avec --dry-run, le texte est affiché et rien n'est écrit.\n" +
      '\n' +
      '--from-ssh-config : chaque Host sans joker devient un hôte (HostName, User, Port tels que ssh\n' +
      "les utiliserait) ; les blocs à jokers (Host *, Host *.lan) s'appliquent aux hôtes qu'ils\n" +
      'désignent ; les blocs Match sont ignorés ; Include est suivi. --from-ansible : les hôtes\n' +
      '(web[01:03] développé), les groupes et leurs enfants, ansible_host/user/port/become. Dans les\n' +
      'deux cas, le ProxyJump de la plupart des hôtes est le bastion (--bastion le remplace), les hôtes\n' +
      'sans ProxyJump sont directs, et des commentaires disent ce qui a été deviné.',
  },
  initBothImports: {
    en: '--from-ssh-config and --from-ansible cannot be used together',
    fr: '--from-ssh-config et --from-ansible ne peuvent pas être utilisés ensemble',
  },
  initBothImportsHint: { en: 'import one of them', fr: "importez l'un des deux" },
  /** `problem` is a file's error, which starts with the file's name. */
  initAnsibleUnreadable: (problem: string) => ({
    en: `the Ansible inventory ${problem}`,
    fr: `l'inventaire Ansible ${problem}`,
  }),
  initAnsibleUnreadableHint: {
    en: 'name a readable Ansible inventory file',
    fr: "indiquez un fichier d'inventaire Ansible lisible",
  },
  initDryRun: (file: string, text: string) => ({
    en: `# dry-run: nothing was written; ${file} would hold:\n${text}`,
    fr: `# simulation : rien n'a été écrit ; ${file} contiendrait :\n${text}`,
  }),
  initWrote: (file: string, mode: string, from: string) => ({
    en: `wrote ${file} (mode ${mode}) from ${from}`,
    fr: `${file} écrit (mode ${mode}) à partir de ${from}`,
  }),
  initLeftToFill: {
    en: 'left to fill in, as `chaton inventory check` reports it:',
    fr: 'reste à remplir, comme `chaton inventory check` le signale :',
  },
  initReadsFirst: (found: string, file: string) => ({
    en: `note: from here, chaton reads ${found} first (-i ${file} reads this one)`,
    fr: `note : d'ici, chaton lit d'abord ${found} (-i ${file} lit celui-ci)`,
  }),

  // onboard sysadmin and offboard sysadmin
  readAccessTitle: (login: string) => ({ en: `Read ${login}'s access`, fr: `Lire les accès de ${login}` }),
  rosterAdded: (login: string, file: string) => ({
    en: `roster: ${login} added in ${file}`,
    fr: `liste des sysadmins : ${login} ajouté dans ${file}`,
  }),
  rosterUpdated: (login: string, file: string) => ({
    en: `roster: ${login} updated in ${file}`,
    fr: `liste des sysadmins : ${login} mis à jour dans ${file}`,
  }),
  rosterUnchanged: (login: string, file: string) => ({
    en: `roster: ${login} unchanged in ${file}`,
    fr: `liste des sysadmins : ${login} inchangé dans ${file}`,
  }),
  rosterRemoved: (login: string, file: string) => ({
    en: `roster: ${login} removed from ${file}`,
    fr: `liste des sysadmins : ${login} retiré de ${file}`,
  }),
  rosterAbsent: (login: string, file: string) => ({
    en: `roster: ${login} absent from ${file}`,
    fr: `liste des sysadmins : ${login} absent de ${file}`,
  }),

  // onboard sysadmin
  onboardDescription: {
    en: 'give a volunteer key-only access (and sudo, Proxmox role) on the bastion and every host; idempotent',
    fr:
      'donner à un bénévole un accès par clé seulement (et sudo, un rôle Proxmox) sur le bastion et chaque ' +
      'hôte ; idempotent',
  },
  onboardLoginArgument: {
    en: 'their login: a-z, 0-9, _ and -, at most 32',
    fr: 'son nom de compte : a-z, 0-9, _ et -, 32 caractères au plus',
  },
  onboardKeyOption: {
    en: 'a public key: a .pub file or the line itself (repeat for more)',
    fr: 'une clé publique : un fichier .pub ou la ligne elle-même (répétez pour en donner plusieurs)',
  },
  onboardNameOption: {
    en: 'their full name (account comment, Proxmox user)',
    fr: 'son nom complet (commentaire du compte, utilisateur Proxmox)',
  },
  onboardEmailOption: { en: 'their e-mail (Proxmox user)', fr: 'son adresse e-mail (utilisateur Proxmox)' },
  onboardSudoOption: {
    en: 'allow sudo (without password: the account has none) via /etc/sudoers.d/chaton-<login>',
    fr: "autoriser sudo (sans mot de passe : le compte n'en a pas) via /etc/sudoers.d/chaton-<login>",
  },
  onboardSudoCommandsOption: {
    en: "allow sudo for these commands only (sudoers syntax, full paths, e.g. '/usr/sbin/qm, /usr/bin/pvesh')",
    fr:
      'autoriser sudo pour ces commandes seulement (syntaxe sudoers, chemins complets, ' +
      "p. ex. '/usr/sbin/qm, /usr/bin/pvesh')",
  },
  onboardGroupsOption: {
    en: 'add the account to these existing groups',
    fr: 'ajouter le compte à ces groupes existants',
  },
  onboardProxmoxRoleOption: {
    en: 'on role:pve hosts, the Proxmox user <login>@pam with this role on /',
    fr: "sur les hôtes role:pve, l'utilisateur Proxmox <login>@pam avec ce rôle sur /",
  },
  onboardExpiresOption: {
    en: 'the account (and Proxmox user) is expired from this day on',
    fr: "le compte (et l'utilisateur Proxmox) expire à partir de ce jour",
  },
  onboardExclusiveOption: {
    en: 'remove the keys of authorized_keys that were not given (asks first)',
    fr: "retirer du fichier authorized_keys les clés qui n'ont pas été données (demande d'abord)",
  },
  onboardVerifyWithOption: {
    en: 'then log in as them with this key through the bastion, and try sudo -n true',
    fr: 'ensuite se connecter sous son compte avec cette clé à travers le bastion, et essayer sudo -n true',
  },
  onboardWriteSshConfigOption: {
    en: 'write their ~/.ssh/config block and a known_hosts file next to it (<file>.known_hosts)',
    fr: 'écrire son bloc de ~/.ssh/config et un fichier known_hosts à côté (<file>.known_hosts)',
  },
  onboardSaveOption: {
    en: 'record them in sysadmins: of the inventory file (comments kept)',
    fr: "l'inscrire dans sysadmins: du fichier d'inventaire (commentaires conservés)",
  },
  onboardHelp: {
    en:
      'Each host gets: the account (created if absent, password field "*": key login only), exactly\n' +
      'the given keys added to ~/.ssh/authorized_keys (others kept unless --exclusive), the groups,\n' +
      'and with --sudo a drop-in checked by visudo before it is put in place. Without --sudo, a\n' +
      'drop-in of an earlier onboard is removed: the command line is the wanted state. A bastion\n' +
      'with sysadmin_access: forwarding gets an account without shell and keys limited to\n' +
      'forwarding. Then sshd is asked whether it accepts each key for the login, and sudo -l what it\n' +
      'grants. A second run changes nothing and says "unchanged".',
    fr:
      'Chaque hôte reçoit : le compte (créé s\'il n\'existe pas, champ de mot de passe "*" : connexion par\n' +
      'clé seulement), exactement les clés données ajoutées à ~/.ssh/authorized_keys (les autres gardées\n' +
      'sauf avec --exclusive), les groupes, et avec --sudo un drop-in vérifié par visudo avant sa mise en\n' +
      "place. Sans --sudo, le drop-in d'un onboard précédent est retiré : la ligne de commande est l'état\n" +
      'voulu. Un bastion avec sysadmin_access: forwarding reçoit un compte sans shell et des clés limitées\n' +
      "à la redirection. Ensuite sshd dit s'il accepte chaque clé pour ce compte, et sudo -l ce qu'il\n" +
      'accorde. Une seconde exécution ne change rien et dit "inchangé".',
  },
  invalidGroup: (group: string) => ({
    en: `--groups: invalid group name ${group}`,
    fr: `--groups : nom de groupe invalide ${group}`,
  }),
  invalidGroupHint: {
    en: 'give existing group names separated by commas, e.g. adm,systemd-journal',
    fr: 'donnez des noms de groupes existants séparés par des virgules, p. ex. adm,systemd-journal',
  },
  expiresNotToCome: (value: string) => ({
    en: `--expires: ${value} is not a date to come`,
    fr: `--expires : ${value} n'est pas une date à venir`,
  }),
  expiresHint: {
    en: 'give the day access ends as YYYY-MM-DD, after today, e.g. 2027-06-30',
    fr: "donnez le jour où l'accès prend fin sous la forme YYYY-MM-DD, après aujourd'hui, p. ex. 2027-06-30",
  },
  invalidProxmoxRole: (role: string) => ({
    en: `--proxmox-role: invalid role name ${role}`,
    fr: `--proxmox-role : nom de rôle invalide ${role}`,
  }),
  invalidProxmoxRoleHint: {
    en: 'give a Proxmox role such as PVEAdmin or Administrator (pveum role list)',
    fr: 'donnez un rôle Proxmox comme PVEAdmin ou Administrator (pveum role list)',
  },
  invalidName: {
    en: '--name must be one line without ":" or "," (they separate fields of /etc/passwd)',
    fr: '--name doit tenir sur une ligne sans ":" ni "," (ils séparent les champs de /etc/passwd)',
  },
  invalidNameHint: { en: 'write the name without them', fr: 'écrivez le nom sans eux' },
  invalidEmail: (email: string) => ({
    en: `--email: ${email} is not an e-mail address`,
    fr: `--email : ${email} n'est pas une adresse e-mail`,
  }),
  invalidEmailHint: { en: 'give it as name@example.org', fr: 'donnez-la sous la forme nom@example.org' },
  invalidSudoCommands: {
    en: '--sudo-commands must be one line of sudoers commands',
    fr: '--sudo-commands doit tenir sur une ligne de commandes sudoers',
  },
  invalidSudoCommandsHint: {
    en: "give them separated by commas, e.g. '/usr/sbin/qm, /usr/bin/pvesh'",
    fr: "donnez-les séparées par des virgules, p. ex. '/usr/sbin/qm, /usr/bin/pvesh'",
  },
  visudoRefuses: (host: string, reason: string) => ({
    en: `${host}: visudo refuses the sudo rule: ${reason}; nothing was changed on ${host}`,
    fr: `${host} : visudo refuse la règle sudo : ${reason} ; rien n'a été modifié sur ${host}`,
  }),
  visudoRefusesHint: {
    en: 'fix --sudo-commands (commands need full paths)',
    fr: 'corrigez --sudo-commands (les commandes veulent des chemins complets)',
  },
  removeKeysQuestion: (keys: number, login: string, hosts: number, names: string) => ({
    en: `Remove ${countEn(keys, 'key')} not given from ${login}'s authorized_keys, on ${hostsEn(hosts)} (${names})?`,
    fr:
      `Retirer ${countFr(keys, 'clé')} non ${keys <= 1 ? 'donnée' : 'données'} du fichier authorized_keys de ` +
      `${login}, sur ${hostsFr(hosts)} (${names}) ?`,
  }),
  onboardTitle: (login: string) => ({ en: `Onboard ${login}`, fr: `Donner l'accès à ${login}` }),
  noProxmoxRole: (host: string, role: string) => ({
    en: `${host}: Proxmox has no role ${role}: nothing was changed on ${host}`,
    fr: `${host} : Proxmox n'a pas de rôle ${role} : rien n'a été modifié sur ${host}`,
  }),
  noProxmoxRoleHint: (roles: string) => ({ en: `choose one of ${roles}`, fr: `choisissez parmi ${roles}` }),
  accountMissing: {
    en: 'the account is missing, locked or expired',
    fr: 'le compte est absent, verrouillé ou expiré',
  },
  accountUid: (uid: number) => ({ en: `account uid ${uid}`, fr: `compte uid ${uid}` }),
  sshdRefusesSome: (refused: number, keys: number, login: string) => ({
    en: `sshd refuses ${refused} of the ${keys} keys for ${login}`,
    fr: `sshd refuse ${refused} des ${keys} clés pour ${login}`,
  }),
  sshdAcceptsTheKey: { en: 'sshd accepts the key', fr: 'sshd accepte la clé' },
  sshdAcceptsKeys: (count: number) => ({ en: `sshd accepts ${count} keys`, fr: `sshd accepte ${count} clés` }),
  securityKeysNotAsked: (count: number) => ({
    en: `${count} security-key key(s) in authorized_keys, not asked (ssh2 cannot)`,
    fr: `${count} clé(s) de sécurité (sk-) dans authorized_keys, sshd non interrogé (ssh2 ne le peut pas)`,
  }),
  sudoNotGranted: (login: string, commands: string) => ({
    en: `sudo -l does not grant ${login} what was asked (NOPASSWD: ${commands})`,
    fr: `sudo -l n'accorde pas à ${login} ce qui était demandé (NOPASSWD: ${commands})`,
  }),
  sudoGrants: (rules: string) => ({ en: `sudo: ${rules}`, fr: `sudo : ${rules}` }),
  noSudo: { en: 'no sudo', fr: 'pas de sudo' },
  onboardVerifyHint: (login: string, host: string) => ({
    en: `look at ${login}'s account on ${host}; rerun once it is fixed`,
    fr: `examinez le compte ${login} sur ${host} ; relancez une fois qu'il est réparé`,
  }),
  copySshConfigHint: (login: string, knownHosts: string) => ({
    en: `copy what is printed above into ${login}'s ~/.ssh/config and ~/.ssh/${knownHosts}`,
    fr: `copiez ce qui est affiché plus haut dans ~/.ssh/config et ~/.ssh/${knownHosts} de ${login}`,
  }),
  addByHand: (login: string) => ({
    en: `add ${login} to sysadmins: by hand`,
    fr: `ajoutez ${login} à sysadmins: à la main`,
  }),
  writtenTo: (file: string) => ({ en: `written to ${file}`, fr: `écrit dans ${file}` }),
  sshConfigOf: (login: string) => ({ en: `${login}'s ~/.ssh/config`, fr: `~/.ssh/config de ${login}` }),

  // offboard sysadmin
  offboardDescription: {
    en:
      "lock a volunteer's accounts, remove their keys and sudo, disable their Proxmox user, end their sessions; " +
      'asks first',
    fr:
      "verrouiller les comptes d'un bénévole, retirer ses clés et son sudo, désactiver son utilisateur Proxmox, " +
      "mettre fin à ses sessions ; demande d'abord",
  },
  offboardLoginArgument: { en: 'their login', fr: 'son nom de compte' },
  offboardRemoveHomeOption: {
    en: 'also remove their home directory (the locked account stays, so its uid is never reused)',
    fr:
      'supprimer aussi son dossier personnel ' +
      '(le compte verrouillé reste, pour que son uid ne soit jamais réutilisé)',
  },
  offboardSaveOption: {
    en: 'remove them from sysadmins: of the inventory file (comments kept)',
    fr: "le retirer de sysadmins: du fichier d'inventaire (commentaires conservés)",
  },
  offboardHelp: {
    en:
      'On each host, in this order: usermod --lock --expiredate 1, every process of the user killed,\n' +
      "authorized_keys and authorized_keys2 removed (by the user itself), chaton's sudoers drop-in\n" +
      'removed, and on role:pve hosts the Proxmox user disabled. Then sshd is asked, through the\n' +
      'bastion, whether it would still take any of their old keys (those found in authorized_keys\n' +
      'and authorized_keys2, and those of the roster): it must refuse them all. The home\n' +
      'is kept unless --remove-home. Finally the shared secrets listed under secrets: in the\n' +
      'inventory are printed: they may have seen them, rotate them. Without a terminal, add --yes.',
    fr:
      "Sur chaque hôte, dans cet ordre : usermod --lock --expiredate 1, chaque processus de l'utilisateur\n" +
      'tué, authorized_keys et authorized_keys2 supprimés (en tant que cet utilisateur), le drop-in sudoers\n' +
      "de chaton supprimé, et sur les hôtes role:pve l'utilisateur Proxmox désactivé. Ensuite sshd dit, à\n" +
      "travers le bastion, s'il accepterait encore l'une de ses anciennes clés (celles trouvées dans\n" +
      'authorized_keys et authorized_keys2, et celles de la liste des sysadmins) : il doit toutes les\n' +
      'refuser. Le dossier personnel est gardé sauf avec --remove-home. Enfin les secrets partagés listés\n' +
      "sous secrets: dans l'inventaire sont affichés : la personne a pu les voir, changez-les. Sans\n" +
      'terminal, ajoutez --yes.',
  },
  accountExists: { en: 'the account exists', fr: 'le compte existe' },
  noAccount: { en: 'no account', fr: 'pas de compte' },
  alreadyLockedOnAll: { en: '; already locked on all of them', fr: ' ; déjà verrouillé sur tous' },
  alreadyLockedOn: (count: number) => ({
    en: `; already locked on ${count}`,
    fr: ` ; déjà verrouillé sur ${count}`,
  }),
  andRemoveHomes: { en: ', and REMOVE their home directories', fr: ', et SUPPRIMER ses dossiers personnels' },
  /** `already` and `home` are the two entries above, or empty. */
  offboardQuestion: (login: string, hosts: number, names: string, already: string, home: string) => ({
    en:
      `Lock ${login} and end their sessions on the ${hostsEn(hosts)} ` +
      `where the account exists (${names}${already})${home}?`,
    fr:
      `Verrouiller ${login} et mettre fin à ses sessions sur ${hosts === 1 ? '' : 'les '}${hostsFr(hosts)} ` +
      `où le compte existe (${names}${already})${home} ?`,
  }),
  offboardTitle: (login: string) => ({ en: `Offboard ${login}`, fr: `Retirer l'accès à ${login}` }),
  accountNotLocked: {
    en: 'the account is not locked and expired',
    fr: "le compte n'est pas verrouillé et expiré",
  },
  authorizedKeysStillThere: { en: 'authorized_keys is still there', fr: 'authorized_keys est toujours là' },
  sudoersStillThere: { en: 'sudoers drop-in still there', fr: 'le drop-in sudoers est toujours là' },
  processesStillRun: (count: number) => ({
    en: `${count} processes still run`,
    fr: `${count} processus tournent encore`,
  }),
  sshdStillAccepts: (count: number) => ({
    en: `sshd still accepts ${count} of their keys`,
    fr: `sshd accepte encore ${count} de ses clés`,
  }),
  sshdRefusesTheOldKey: { en: 'sshd refuses the old key', fr: "sshd refuse l'ancienne clé" },
  sshdRefusesOldKeys: (count: number) => ({
    en: `sshd refuses all ${count} old keys`,
    fr: `sshd refuse les ${count} anciennes clés`,
  }),
  noOldKeyKnown: {
    en: 'no old key known to try: the account is locked and expired',
    fr: 'aucune ancienne clé connue à essayer : le compte est verrouillé et expiré',
  },
  securityKeysNotAskedLocked: (count: number) => ({
    en: `${count} security-key key(s) not asked (ssh2 cannot): the account is locked and expired`,
    fr:
      `${count} clé(s) de sécurité (sk-), sshd non interrogé (ssh2 ne le peut pas) : ` +
      'le compte est verrouillé et expiré',
  }),
  otherSudoRules: (login: string, rules: string) => ({
    en: `sudoers still has rules for ${login} (not chaton's): ${rules}`,
    fr: `sudoers a encore des règles pour ${login} (pas celles de chaton) : ${rules}`,
  }),
  offboardVerifyHint: (login: string, host: string) => ({
    en: `look at ${login}'s account on ${host}, then rerun`,
    fr: `examinez le compte ${login} sur ${host}, puis relancez`,
  }),
  removeByHand: (login: string) => ({
    en: `remove ${login} from sysadmins: by hand`,
    fr: `retirez ${login} de sysadmins: à la main`,
  }),
  proxmoxSessionsStay: (user: string) => ({
    en:
      `Proxmox web sessions of ${user} stay valid until their ticket expires (at most 2 hours): ` +
      'disabling a user does not end them',
    fr:
      `Les sessions web Proxmox de ${user} restent valides jusqu'à l'expiration de leur ticket (2 heures au ` +
      "plus) : désactiver un utilisateur n'y met pas fin",
  }),
  rotateSecrets: (login: string, secrets: string) => ({
    en: `Shared secrets ${login} may have seen: rotate them now\n${secrets}`,
    fr: `Secrets partagés que ${login} a pu voir : changez-les maintenant\n${secrets}`,
  }),
  noSecretsListed: {
    en:
      'No shared secrets are listed under secrets: in the inventory: ' +
      'think of what they knew (passphrases, tokens) and rotate it.',
    fr:
      "Aucun secret partagé n'est listé sous secrets: dans l'inventaire : " +
      'pensez à ce que cette personne connaissait (phrases de passe, jetons) et changez-le.',
  },

  // connections
  connectionsListDescription: {
    en:
      'list the connections kept warm between runs (ssh.persist, --persist): each keeper, then each host it ' +
      'holds, since when, last used, with which key; what `chaton connections` does',
    fr:
      'lister les connexions gardées entre les exécutions (ssh.persist, --persist) : chaque gardien, puis chaque ' +
      "hôte qu'il tient, depuis quand, dernier usage, avec quelle clé ; ce que fait `chaton connections`",
  },
  connectionsTimesHelp: {
    en: '\nTimes are local: HH:MM:SS today, the date before them on another day.',
    fr: "\nLes heures sont locales : HH:MM:SS aujourd'hui, précédées de la date un autre jour.",
  },
  connectionsCloseDescription: {
    en: 'close every kept connection and end their keepers: the next run connects afresh',
    fr: 'fermer chaque connexion gardée et arrêter leurs gardiens : la prochaine exécution se connecte à neuf',
  },
  columnSince: { en: 'SINCE', fr: 'DEPUIS' },
  columnLastUsed: { en: 'LAST USED', fr: 'DERNIER USAGE' },
  columnKey: { en: 'KEY', fr: 'CLÉ' },
  keeperHeading: (inventory: string, pid: number, since: string, until: string) => ({
    en: `${inventory}: keeper process ${pid}, since ${since}, exits at ${until} unless used`,
    fr: `${inventory} : processus gardien ${pid}, depuis ${since}, s'arrête à ${until} s'il ne sert pas`,
  }),
  keeperHoldsNothing: { en: '  it holds no connection', fr: '  il ne tient aucune connexion' },
  noConnectionKept: {
    en: 'no connection kept: no keeper is running (a run with --persist or ssh.persist leaves one)',
    fr: 'aucune connexion gardée : aucun gardien ne tourne (une exécution avec --persist ou ssh.persist en laisse un)',
  },
  staleKeeperRemoved: (socket: string) => ({
    en: `removed ${socket}: its keeper was gone or did not answer`,
    fr: `${socket} supprimé : son gardien avait disparu ou ne répondait pas`,
  }),
  keeperClosed: (inventory: string, pid: number, connections: number) => ({
    en: `closed the keeper of ${inventory} (process ${pid}): ${countEn(connections, 'connection')}`,
    fr: `gardien de ${inventory} arrêté (processus ${pid}) : ${countFr(connections, 'connexion')}`,
  }),
  keeperWouldClose: (inventory: string, pid: number, connections: number) => ({
    en: `would close the keeper of ${inventory} (process ${pid}): ${countEn(connections, 'connection')}`,
    fr: `arrêterait le gardien de ${inventory} (processus ${pid}) : ${countFr(connections, 'connexion')}`,
  }),
  nothingClosed: { en: 'nothing was closed (dry-run)', fr: "rien n'a été fermé (simulation)" },
  noKeeperToClose: { en: 'no keeper was running: nothing to close', fr: 'aucun gardien ne tournait : rien à fermer' },

  // doctor
  doctorDescription: {
    en:
      "check this machine's side of SSH for every host (keys, ssh-agent, known_hosts): " +
      'exit 0 if all is OK, 2 if a run would fail here, 5 if --reach fails',
    fr:
      'vérifier le côté SSH de cette machine pour chaque hôte (clés, ssh-agent, known_hosts) : ' +
      'code de sortie 0 si tout va bien, 2 si une exécution échouerait ici, 5 si --reach échoue',
  },
  doctorReachOption: {
    en: 'then connect to the bastion and every host, checking their keys',
    fr: 'ensuite se connecter au bastion et à chaque hôte, en vérifiant leurs clés',
  },
  doctorLocalTitle: { en: "Check this machine's side", fr: 'Vérifier le côté de cette machine' },
  doctorReachTitle: { en: 'Reach', fr: 'Joindre' },
  connectedIn: (hostKey: string, duration: string, address: string) => ({
    en: `${hostKey}, connected in ${duration} at ${address}`,
    fr: `${hostKey}, connecté en ${duration} à ${address}`,
  }),
  columnCheck: { en: 'CHECK', fr: 'VÉRIFICATION' },
  columnOn: { en: 'ON', fr: 'SUR' },
  columnResult: { en: 'RESULT', fr: 'RÉSULTAT' },
  checkOk: (detail: string) => ({ en: `OK: ${detail}`, fr: `OK : ${detail}` }),
  checkWarnSeeBelow: { en: 'WARN (see below)', fr: 'ATTENTION (voir ci-dessous)' },
  checkStatusOk: both('OK'),
  checkStatusWarn: { en: 'WARN', fr: 'ATTENTION' },
  checkStatusFail: { en: 'FAIL', fr: 'ÉCHEC' },
  checkProblem: (status: string, detail: string) => ({ en: `${status}: ${detail}`, fr: `${status} : ${detail}` }),

  // backup verify
  backupVerifyDescription: {
    en:
      'prove that every guest could be restored today: fresh copies, kept, intact; read-only; ' +
      'exit 0 ok or warnings, 1 critical, 4 unknown',
    fr:
      "prouver que chaque invité pourrait être restauré aujourd'hui : copies récentes, gardées, intactes ; " +
      'lecture seule ; code de sortie 0 si tout va bien ou avertissements, 1 critique, 4 inconnu',
  },
  backupPromFileOption: {
    en: "also write node_exporter's textfile there (replaced whole; the metrics are in the README)",
    fr: "écrire aussi le fichier texte de node_exporter à cet endroit (remplacé d'un bloc ; métriques dans le README)",
  },
  backupNoIntegrityOption: {
    en:
      'coverage, freshness and retention only: no zstd/gzip/lzop -t, no restic or borg check ' +
      '(reported "not checked")',
    fr:
      'couverture, fraîcheur et rétention seulement : ni zstd/gzip/lzop -t, ni restic ou borg check ' +
      '(signalé « non vérifié »)',
  },
  backupHourlyMetadata: {
    en: 'hourly, cheap; the full check once a day',
    fr: 'toutes les heures, peu coûteux ; la vérification complète une fois par jour',
  },
  backupVerifyHelp: {
    en:
      "Reads the inventory's backups: section, lists the guests on the first pve host that answers, then\n" +
      'reads every target on its host: vzdump archives (zstd/gzip/lzop -t on the newest of each guest),\n' +
      "PBS snapshots and their verification, restic check (the inventory's data subset), borg check.\n" +
      'At most concurrency_per_host checks run at once on one host. Nothing is changed on any\n' +
      'repository: a repository locked by a running backup is retried, then reported, never unlocked.\n' +
      'With -q, nothing is printed when every guest is OK; warnings and worse are (cron mails them).\n' +
      'With --no-integrity, only the listings are read (seconds, even for hundreds of guests): the integrity\n' +
      'of the copies is then "not checked", never OK; PBS verification states, read with the listing, count.',
    fr:
      "Lit la section backups: de l'inventaire, liste les invités sur le premier hôte pve qui répond, puis\n" +
      'lit chaque cible sur son hôte : archives vzdump (zstd/gzip/lzop -t sur la plus récente de chaque\n' +
      "invité), instantanés PBS et leur vérification, restic check (le sous-ensemble de l'inventaire),\n" +
      "borg check. Au plus concurrency_per_host vérifications à la fois sur un hôte. Rien n'est modifié\n" +
      'dans aucun dépôt : un dépôt verrouillé par une sauvegarde en cours est réessayé, puis signalé,\n' +
      "jamais déverrouillé. Avec -q, rien n'est affiché quand tous les invités vont bien ; les\n" +
      'avertissements et pire le sont (cron les envoie par courriel).\n' +
      'Avec --no-integrity, seules les listes sont lues (quelques secondes, même pour des centaines\n' +
      "d'invités) : l'intégrité des copies est alors « non vérifiée », jamais OK ; l'état de vérification\n" +
      'PBS, lu avec la liste, compte.',
  },
  backupForNodeExporter: { en: 'for node_exporter', fr: 'pour node_exporter' },
  backupNoSection: (file: string) => ({
    en: `${file} has no backups: section: nothing to verify`,
    fr: `${file} n'a pas de section backups: : rien à vérifier`,
  }),
  backupNoSectionHint: {
    en: 'describe the targets under backups: (see inventory.example.yaml), then check it with chaton inventory check',
    fr: 'décrivez les cibles sous backups: (voir inventory.example.yaml), puis vérifiez avec chaton inventory check',
  },
  backupClusterTitle: { en: "Read the cluster's guests", fr: 'Lire les invités de la grappe' },
  backupClusterFrom: (host: string, guests: number, zone: string) => ({
    en: `${host}: ${guests} guests, time zone ${zone}`,
    fr: `${host} : ${guests} invités, fuseau horaire ${zone}`,
  }),
  backupNoPveHost: {
    en: 'no host with role pve in the inventory: the guests come from the targets alone',
    fr: "aucun hôte de rôle pve dans l'inventaire : les invités viennent des seules cibles",
  },
  backupClusterUnread: (errors: string) => ({
    en: `no pve host answered: ${errors}`,
    fr: `aucun hôte pve n'a répondu : ${errors}`,
  }),
  backupZoneAssumed: (host: string) => ({
    en: `${host} names no time zone (neither /etc/localtime nor /etc/timezone): its local times are read as UTC`,
    fr: `${host} n'indique aucun fuseau (ni /etc/localtime ni /etc/timezone) : ses heures locales sont lues en UTC`,
  }),
  backupTargetsTitle: { en: 'Read the backup targets', fr: 'Lire les cibles de sauvegarde' },
  backupTargetsRead: (names: string) => ({ en: `read ${names}`, fr: `lu ${names}` }),
  backupBusy: (target: string, detail: string) => ({
    en: `${target} is locked, by a running backup: ${detail}; trying again`,
    fr: `${target} est verrouillé, par une sauvegarde en cours : ${detail} ; nouvel essai`,
  }),
  backupPromNotWritten: (file: string, error: string) => ({
    en: `NOT WRITTEN: --prom-file ${file}: ${error}`,
    fr: `NON ÉCRIT : --prom-file ${file} : ${error}`,
  }),
  backupVariableNotSet: (name: string) => ({ en: `${name} is not set`, fr: `${name} n'est pas définie` }),
  backupRestoreTestOption: {
    en:
      'also restore the newest copy of these guests (names or VMIDs, comma-separated; all when none given) ' +
      'from each target, check it and remove it: for a weekly cron',
    fr:
      'restaurer aussi la copie la plus récente de ces invités (noms ou VMID séparés par des virgules ; ' +
      "tous si aucun n'est donné) depuis chaque cible, la vérifier puis la supprimer : pour un cron hebdomadaire",
  },
  backupRestoreNotConfigured: (file: string) => ({
    en: `${file} has no backups.restore_test: where to restore is not said`,
    fr: `${file} n'a pas de backups.restore_test : l'endroit où restaurer n'est pas indiqué`,
  }),
  backupRestoreNotConfiguredHint: {
    en: 'add backups.restore_test (node, storage, vmids; scratch_dir for restic and borg): see inventory.example.yaml',
    fr:
      'ajoutez backups.restore_test (node, storage, vmids ; scratch_dir pour restic et borg) : ' +
      'voir inventory.example.yaml',
  },
  backupRestoreUnknownGuests: (names: string, known: string) => ({
    en: `--restore-test names no guest with a copy: ${names} (guests: ${known})`,
    fr: `--restore-test ne désigne aucun invité ayant une copie : ${names} (invités : ${known})`,
  }),
  backupRecordsUnread: (host: string, error: string) => ({
    en: `the restore-test records of ${host} could not be read (${error}): its targets count as never restore-tested`,
    fr:
      `les enregistrements des tests de restauration de ${host} n'ont pas pu être lus (${error}) : ` +
      'ses cibles comptent comme jamais testées',
  }),
  backupRestoreTitle: { en: 'Restore tests', fr: 'Tests de restauration' },
  backupRestoreStarting: (guest: string, target: string, location: string) => ({
    en: `restoring ${guest} from ${target} (${location})`,
    fr: `restauration de ${guest} depuis ${target} (${location})`,
  }),
  backupRestoreOk: (guest: string, target: string, took: string) => ({
    en: `restore test of ${guest} from ${target}: OK, restored in ${took}`,
    fr: `test de restauration de ${guest} depuis ${target} : OK, restauré en ${took}`,
  }),
  backupRestoreFailed: (guest: string, target: string, reason: string) => ({
    en: `restore test of ${guest} from ${target}: FAILED: ${reason}`,
    fr: `test de restauration de ${guest} depuis ${target} : ÉCHEC : ${reason}`,
  }),
  backupRestoreRefused: (guest: string, target: string, reason: string) => ({
    en: `restore test of ${guest} from ${target} not run: ${reason} (restore_test_age tells when tests stop happening)`,
    fr:
      `test de restauration de ${guest} depuis ${target} non lancé : ${reason} ` +
      '(restore_test_age signale des tests qui ne se font plus)',
  }),
  backupRestoreNotCleaned: (where: string) => ({
    en: `${where} could not be removed after the restore test: remove it by hand`,
    fr: `${where} n'a pas pu être supprimé après le test de restauration : supprimez-le à la main`,
  }),
  backupDryRun: {
    en: 'dry-run: the listings were read; the checks and restores above were not run, and nothing was judged',
    fr:
      'simulation : les listes ont été lues ; les vérifications et restaurations ci-dessus ' +
      "n'ont pas été lancées, rien n'a été jugé",
  },
  backupRestorePlanned: (guest: string, target: string, where: string) => ({
    en: `restore test of ${guest} from ${target}: planned, into ${where} (its commands are in the plan)`,
    fr: `test de restauration de ${guest} depuis ${target} : prévu, dans ${where} (ses commandes sont dans le plan)`,
  }),

  // vm create
  vmCreateDescription: {
    en:
      'a new VM on the Proxmox cluster, configured, firewalled, backed up and reached through the bastion; ' +
      'again: unchanged (exit 0) or the differences (exit 3)',
    fr:
      'une nouvelle VM sur le cluster Proxmox, configurée, protégée par le pare-feu, sauvegardée et jointe ' +
      'par le bastion ; de nouveau : inchangée (code 0) ou les différences (code 3)',
  },
  vmNameArgument: {
    en: 'its name: a DNS label (lowercase letters, digits, hyphens), also its host name',
    fr: "son nom : une étiquette DNS (minuscules, chiffres, tirets), aussi son nom d'hôte",
  },
  vmTemplateOption: { en: 'a template of proxmox.templates', fr: 'un modèle de proxmox.templates' },
  vmNodeOption: {
    en: 'the node, or auto: the one with the most memory left for VMs (default auto)',
    fr: 'le nœud, ou auto : celui qui a le plus de mémoire libre pour les VM (auto par défaut)',
  },
  vmCoresOption: { en: 'virtual CPU cores', fr: 'cœurs virtuels' },
  vmMemoryOption: { en: 'memory, e.g. 4G or 512M', fr: 'mémoire, p. ex. 4G ou 512M' },
  vmDiskOption: {
    en: 'boot disk size, e.g. 32G (it only grows)',
    fr: 'taille du disque de démarrage, p. ex. 32G (il ne fait que grandir)',
  },
  vmIpOption: {
    en: "address/prefix, or auto: the first free one of the role's network range (default)",
    fr: 'adresse/préfixe, ou auto : la première libre de la plage du réseau du rôle (par défaut)',
  },
  vmRoleOption: {
    en: 'a role of proxmox.roles: its network and firewall security group',
    fr: 'un rôle de proxmox.roles : son réseau et son groupe de sécurité du pare-feu',
  },
  vmTagsOption: { en: 'Proxmox tags, comma-separated', fr: 'étiquettes Proxmox, séparées par des virgules' },
  vmNoStartOption: {
    en: 'configure it but do not start it (nor reach it)',
    fr: 'la configurer sans la démarrer (ni la joindre)',
  },
  vmSaveOption: { en: "add it to the inventory's hosts", fr: "l'ajouter aux hôtes de l'inventaire" },
  vmKeepOption: {
    en: 'on a failure after the clone, keep the VM stopped instead of destroying it',
    fr: "en cas d'échec après le clonage, garder la VM arrêtée au lieu de la détruire",
  },
  vmAgentTimeoutOption: {
    en: 'how long to wait for the guest agent, in seconds (1 to 3600)',
    fr: "combien de temps attendre l'agent invité, en secondes (1 à 3600)",
  },
  vmAgentTimeoutRange: (got: string) => ({
    en: `--agent-timeout must be a whole number of seconds from 1 to 3600, got ${JSON.stringify(got)}`,
    fr: `--agent-timeout doit être un nombre entier de secondes de 1 à 3600, reçu ${JSON.stringify(got)}`,
  }),
  vmAgentTimeoutHint: { en: 'for example --agent-timeout 120', fr: 'par exemple --agent-timeout 120' },
  vmCreateHelp: {
    en:
      "Settings come from the inventory's proxmox: section (the VM declared under vms:, then the defaults);\n" +
      'flags override them. On the first pve host that answers, under a lock named after the VM: preflight\n' +
      '(the node and its memory, the address free, the template), then clone into a free VMID (again with\n' +
      'a new one when it is taken or locked), configure (cloud-init user, keys, address, firewall, backup\n' +
      "job), start, wait for the guest agent, record the guest's SSH host key read through it, reach it\n" +
      'through the bastion, verify. A failure after the clone destroys the VM (or --keep-on-failure).\n' +
      'Interrupted: the same command continues it. Exit 0 created or unchanged, 1 failed, 2 bad input,\n' +
      '3 refused or different, 4 made but not saved, 5 host key or connection.',
    fr:
      "Les réglages viennent de la section proxmox: de l'inventaire (la VM déclarée sous vms:, puis les\n" +
      'valeurs par défaut) ; les options les remplacent. Sur le premier hôte pve qui répond, sous un verrou\n' +
      "au nom de la VM : vérifications (le nœud et sa mémoire, l'adresse libre, le modèle), puis clonage dans\n" +
      "un VMID libre (de nouveau avec un autre s'il est pris ou verrouillé), configuration (utilisateur\n" +
      "cloud-init, clés, adresse, pare-feu, tâche de sauvegarde), démarrage, attente de l'agent invité, clé\n" +
      "d'hôte SSH lue par lui et enregistrée, connexion par le bastion, vérification. Un échec après le\n" +
      'clonage détruit la VM (ou --keep-on-failure). Interrompue : la même commande la reprend. Code 0 créée\n' +
      'ou inchangée, 1 échec, 2 mauvaise saisie, 3 refus ou différente, 4 faite mais non enregistrée,\n' +
      "5 clé d'hôte ou connexion.",
  },
  vmDryRunExample: {
    en: 'the node, provisional VMID, address and every command',
    fr: "le nœud, le VMID provisoire, l'adresse et chaque commande",
  },
  vmSaveExample: {
    en: 'made, reached through the bastion, added to the inventory',
    fr: "faite, jointe par le bastion, ajoutée à l'inventaire",
  },
  vmAgainExample: { en: 'again: "exists, unchanged"', fr: 'de nouveau : « existe, inchangée »' },
  vmNoSection: (file: string) => ({
    en: `${file} has no proxmox: section: no template, network or role to make a VM from`,
    fr: `${file} n'a pas de section proxmox: : aucun modèle, réseau ou rôle d'où faire une VM`,
  }),
  vmNoSectionHint: {
    en: 'describe the templates, networks and roles under proxmox: (see inventory.example.yaml)',
    fr: 'décrivez les modèles, réseaux et rôles sous proxmox: (voir inventory.example.yaml)',
  },
  vmNoPveHost: {
    en: 'no host has the role pve: no node to ask',
    fr: "aucun hôte n'a le rôle pve : aucun nœud à interroger",
  },
  vmNoPveHostHint: {
    en: 'give the Proxmox nodes `roles: [pve]` in the inventory',
    fr: "donnez aux nœuds Proxmox `roles: [pve]` dans l'inventaire",
  },
  vmPreflightTitle: (name: string) => ({ en: `Check the cluster for ${name}`, fr: `Vérifier le cluster pour ${name}` }),
  vmMakeTitle: (name: string) => ({ en: `Make ${name}`, fr: `Faire ${name}` }),
  vmApiNode: (host: string) => ({ en: `asking ${host}`, fr: `interrogation de ${host}` }),
  vmFound: (vmid: number, node: string) => ({
    en: `a VM of that name exists: ${vmid} on ${node}`,
    fr: `une VM de ce nom existe : ${vmid} sur ${node}`,
  }),
  vmPlanned: (node: string, address: string, vmid: number) => ({
    en: `node ${node}, address ${address}, VMID ${vmid} (provisional)`,
    fr: `nœud ${node}, adresse ${address}, VMID ${vmid} (provisoire)`,
  }),
  vmRefused: (name: string, problems: string) => ({
    en: `${name} cannot be created: ${problems}`,
    fr: `${name} ne peut pas être créée : ${problems}`,
  }),
  vmRefusedDetail: (count: number) => ({
    en: `refused: ${count === 1 ? 'the problem' : `${count} problems`} below`,
    fr: `refusé : ${count === 1 ? 'le problème' : `${count} problèmes`} ci-dessous`,
  }),
  vmRefusedHint: {
    en: 'nothing was changed; correct this (or the flags) and run the same command again',
    fr: "rien n'a été changé ; corrigez cela (ou les options) et relancez la même commande",
  },
  vmContinuing: (name: string, vmid: number, node: string) => ({
    en: `continuing ${name}, VM ${vmid} on ${node}, left unfinished by an earlier run`,
    fr: `reprise de ${name}, VM ${vmid} sur ${node}, laissée inachevée par une exécution précédente`,
  }),
  vmCloned: (template: string, vmid: number, node: string) => ({
    en: `${template} cloned into VM ${vmid} on ${node}`,
    fr: `${template} cloné dans la VM ${vmid} sur ${node}`,
  }),
  vmAlreadyConfigured: { en: 'already configured', fr: 'déjà configurée' },
  vmStartPlanned: {
    en: 'start, then wait for the guest agent, read the host key and record it',
    fr: "démarrer, puis attendre l'agent invité, lire la clé d'hôte et l'enregistrer",
  },
  vmReachPlanned: (address: string) => ({
    en: `reach ${address} through the bastion, its host key checked`,
    fr: `joindre ${address} par le bastion, sa clé d'hôte vérifiée`,
  }),
  vmKeyRecorded: (key: string, file: string) => ({
    en: `host key ${key}, read through the guest agent, recorded in ${file}`,
    fr: `clé d'hôte ${key}, lue par l'agent invité, enregistrée dans ${file}`,
  }),
  vmReached: (address: string, hostname: string) => ({
    en: `reached ${address} through the bastion, host key verified: ${hostname}`,
    fr: `${address} jointe par le bastion, clé d'hôte vérifiée : ${hostname}`,
  }),
  vmSshWaiting: (host: string, error: string) => ({
    en: `waiting for sshd on ${host}: ${error}`,
    fr: `attente de sshd sur ${host} : ${error}`,
  }),
  vmFinished: { en: 'marked as made by chaton', fr: 'marquée comme faite par chaton' },
  vmSavePlanned: (file: string) => ({ en: `would be added to ${file}`, fr: `serait ajoutée à ${file}` }),
  vmSaved: (outcome: string, file: string) => ({
    en: `${outcome === 'unchanged' ? 'already in' : outcome === 'updated' ? 'updated in' : 'added to'} ${file}`,
    fr: `${outcome === 'unchanged' ? 'déjà dans' : outcome === 'updated' ? 'mise à jour dans' : 'ajoutée à'} ${file}`,
  }),
  vmNotSaved: (file: string, error: string) => ({
    en:
      `NOT WRITTEN: --save, the VM in ${file}: ${error}; the VM is made: ` +
      'rerun the same command with --save once the file can be written (the VM is then unchanged)',
    fr:
      `NON ÉCRIT : --save, la VM dans ${file} : ${error} ; la VM est faite : ` +
      'relancez la même commande avec --save quand le fichier peut être écrit (la VM est alors inchangée)',
  }),
  vmNotSavedDetail: { en: 'made, but NOT WRITTEN in the inventory', fr: "faite, mais NON ÉCRITE dans l'inventaire" },
  vmInterruptedRerun: (vmid: number) => ({
    en: `VM ${vmid} is left as it is, unfinished: the same command continues it`,
    fr: `la VM ${vmid} est laissée telle quelle, inachevée : la même commande la reprend`,
  }),
  vmKept: (vmid: number, node: string) => ({
    en: `VM ${vmid} kept, stopped, on ${node} (--keep-on-failure): the same command continues it`,
    fr: `VM ${vmid} gardée, arrêtée, sur ${node} (--keep-on-failure) : la même commande la reprend`,
  }),
  vmDestroyed: (vmid: number, node: string) => ({
    en: `VM ${vmid} destroyed on ${node}: no half-made VM is left`,
    fr: `VM ${vmid} détruite sur ${node} : aucune VM à moitié faite ne reste`,
  }),
  vmCleanupFailed: (vmid: number, node: string, error: string) => ({
    en: `VM ${vmid} on ${node} could not be removed: ${error}; remove it by hand (qm destroy ${vmid} --purge)`,
    fr:
      `la VM ${vmid} sur ${node} n'a pas pu être supprimée : ${error} ; ` +
      `supprimez-la à la main (qm destroy ${vmid} --purge)`,
  }),

  // failover status
  failoverStatusDescription: {
    en:
      'which link carries the default route, and whether each link is up; read-only; ' +
      'exit 0 ok or warnings, 1 critical, 4 unknown, 5 gateway not reached',
    fr:
      'quel lien porte la route par défaut, et si chaque lien est en service ; lecture seule ; ' +
      'code de sortie 0 si tout va bien ou avertissements, 1 critique, 4 inconnu, 5 passerelle injoignable',
  },
  failoverStatusHelp: {
    en:
      "Reads the inventory's failover: section, then on the gateway, at once: its interfaces, the default\n" +
      "routes of the main table and of each link's table, its rules, and each link's probes (every target\n" +
      'pinged through that link, and only that one). A link is up when at least `reliability` targets\n' +
      'answered. OK: on main, both links up; WARNING: on backup, or the backup link down; CRITICAL: no\n' +
      'link up, or the one that carries the default route is down, or there is none; UNKNOWN: the\n' +
      'gateway could not be read, or its probes prove nothing (no rule or route sends them out by their\n' +
      'link). With -q, nothing is printed when all is OK. Nothing is changed on the gateway.',
    fr:
      "Lit la section failover: de l'inventaire, puis sur la passerelle, en même temps : ses interfaces,\n" +
      'les routes par défaut de la table main et de la table de chaque lien, ses règles, et les sondes de\n' +
      'chaque lien (chaque cible pinguée à travers ce lien, et lui seul). Un lien est en service quand au\n' +
      'moins `reliability` cibles ont répondu. OK : sur main, les deux liens en service ; WARNING : sur\n' +
      'backup, ou le lien backup en panne ; CRITICAL : aucun lien en service, ou celui qui porte la route\n' +
      "par défaut est en panne, ou il n'y en a pas ; UNKNOWN : la passerelle n'a pas pu être lue, ou ses\n" +
      'sondes ne prouvent rien (aucune règle ni route ne les fait sortir par leur lien). Avec -q, rien\n' +
      "n'est affiché quand tout va bien. Rien n'est modifié sur la passerelle.",
  },
  failoverNoSection: (file: string) => ({
    en: `${file} has no failover: section: no gateway to ask`,
    fr: `${file} n'a pas de section failover: : aucune passerelle à interroger`,
  }),
  failoverNoSectionHint: {
    en:
      'describe the gateway and its links under failover: (see inventory.example.yaml), then run ' +
      'chaton inventory check',
    fr:
      'décrivez la passerelle et ses liens sous failover: (voir inventory.example.yaml), puis lancez ' +
      'chaton inventory check',
  },
  failoverReadTitle: (gateway: string) => ({
    en: `Read the routes of ${gateway} and probe its links`,
    fr: `Lire les routes de ${gateway} et sonder ses liens`,
  }),

  // failover to
  failoverToDescription: {
    en:
      "switch the site's internet link, with an automatic revert armed first; " +
      'exit 0 switched or unchanged, 1 not kept (reverted), 3 refused: nothing changed',
    fr:
      'basculer le lien internet du site, un retour automatique armé avant ; ' +
      'code de sortie 0 basculé ou inchangé, 1 non gardé (annulé), 3 refusé : rien changé',
  },
  failoverToLinkArgument: { en: 'the link to switch to', fr: 'le lien vers lequel basculer' },
  failoverForceOption: {
    en: 'switch even when the link is not proven up (its probes fail): the revert still guards',
    fr: "basculer même quand le lien n'est pas prouvé en service (ses sondes échouent) : le retour protège toujours",
  },
  failoverDryRunExample: {
    en: 'the probes, then every command, the revert included',
    fr: 'les sondes, puis chaque commande, le retour compris',
  },
  failoverFromRunbook: { en: 'from a runbook: no question', fr: 'depuis une procédure : pas de question' },
  failoverForceExample: {
    en: 'the probes are wrong, not the link',
    fr: 'les sondes se trompent, pas le lien',
  },
  failoverToHelp: {
    en:
      "Under the gateway's lock (/run/chaton/failover.lock: one failover at a time), reads the gateway as\n" +
      '`failover status` does. Already on the link: unchanged, exit 0. The link not up: refused, exit 3,\n' +
      'nothing changed (unless --force). Otherwise, asks (or -y), then: arms on the gateway a revert that\n' +
      'puts back the default routes read, after revert_after seconds, unless disarmed; switches the default\n' +
      'route detached from the SSH session; comes back through the bastion (on whichever of its addresses\n' +
      'answers) and proves the new path: the default route through the link, the link up from the\n' +
      'gateway, the targets answering from prove_from through the gateway. Only then disarms the revert,\n' +
      "flushes conntrack's flows of the old link (conntrack_flush) and moves the DNS names (nsupdate -k),\n" +
      'checked on the authoritative server. Not proven: the revert fires, chaton checks that the routes\n' +
      'are back and exits 1. Runtime state only: after a reboot the site is on its configured link.\n' +
      '--dry-run reads and probes, then prints every command, the revert included.',
    fr:
      'Sous le verrou de la passerelle (/run/chaton/failover.lock : une bascule à la fois), lit la\n' +
      'passerelle comme `failover status`. Déjà sur le lien : inchangé, code 0. Le lien pas en service :\n' +
      'refusé, code 3, rien changé (sauf --force). Sinon, demande (ou -y), puis : arme sur la passerelle un\n' +
      'retour qui remet les routes par défaut lues, après revert_after secondes, sauf désarmement ; bascule\n' +
      'la route par défaut détachée de la session SSH ; revient par le bastion (sur celle de ses adresses\n' +
      'qui répond) et prouve le nouveau chemin : la route par défaut par le lien, le lien en service depuis\n' +
      'la passerelle, les cibles qui répondent depuis prove_from à travers la passerelle. Alors seulement,\n' +
      "désarme le retour, vide les flux conntrack de l'ancien lien (conntrack_flush) et déplace les noms\n" +
      'DNS (nsupdate -k), vérifiés sur le serveur faisant autorité. Pas prouvé : le retour se déclenche,\n' +
      'chaton vérifie que les routes sont revenues et sort avec 1. État courant seulement : après un\n' +
      'redémarrage, le site est sur son lien configuré. --dry-run lit et sonde, puis affiche chaque\n' +
      'commande, le retour compris.',
  },
  failoverUnchanged: (to: string, gateway: string) => ({
    en: `unchanged: ${gateway} already sends the site out by ${to}`,
    fr: `inchangé : ${gateway} fait déjà sortir le site par ${to}`,
  }),
  failoverRefusedHint: (to: string) => ({
    en: `see chaton failover status; if the probes are wrong and ${to} works, --force (the revert still guards)`,
    fr:
      `voir chaton failover status ; si les sondes se trompent et que ${to} marche, ` +
      '--force (le retour protège toujours)',
  }),
  failoverQuestion: (gateway: string, from: string, to: string) => ({
    en: `Switch ${gateway}'s default route from ${from} to ${to}?`,
    fr: `Basculer la route par défaut de ${gateway} de ${from} vers ${to} ?`,
  }),
  failoverSwitchTitle: (to: string) => ({
    en: `Switch to ${to}, guarded by a revert`,
    fr: `Basculer vers ${to}, sous la garde d'un retour`,
  }),
  failoverAfterTitle: {
    en: "Flush the old link's flows and move the DNS names",
    fr: "Vider les flux de l'ancien lien et déplacer les noms DNS",
  },
  failoverPlanned: { en: 'planned', fr: 'prévu' },
  failoverFlowsFlushed: (count: number, link: string) => ({
    en: `conntrack: ${count} flow${count === 1 ? '' : 's'} of ${link} flushed`,
    fr: `conntrack : ${count} flux de ${link} vidé${count === 1 ? '' : 's'}`,
  }),
  failoverDnsFailed: (server: string, why: string) => ({
    en: `DNS: the update was refused by ${server}: ${why}`,
    fr: `DNS : la mise à jour a été refusée par ${server} : ${why}`,
  }),
  failoverDnsMoved: (names: string, address: string) => ({
    en: `DNS: ${names} answer ${address}`,
    fr: `DNS : ${names} répondent ${address}`,
  }),
  failoverDnsWrong: (server: string, answers: string) => ({
    en: `DNS: ${server} answers otherwise: ${answers}`,
    fr: `DNS : ${server} répond autre chose : ${answers}`,
  }),
  failoverPlannedVerdict: (from: string, to: string) => ({
    en: `dry-run: would switch from ${from} to ${to}; the commands above were not run`,
    fr: `simulation : basculerait de ${from} vers ${to} ; les commandes ci-dessus n'ont pas été lancées`,
  }),
  failoverRoutesBack: {
    en: 'the revert ran: the default routes are those read before the switch',
    fr: 'le retour a tourné : les routes par défaut sont celles lues avant la bascule',
  },
  failoverRoutesNotBack: {
    en: 'the revert ran, but the default routes differ from those read before the switch: see ip route',
    fr: 'le retour a tourné, mais les routes par défaut diffèrent de celles lues avant la bascule : voir ip route',
  },
  failoverSwitched: (to: string, took: string) => ({
    en: `switched to ${to}, proven end to end, in ${took}`,
    fr: `basculé vers ${to}, prouvé de bout en bout, en ${took}`,
  }),
  failoverSwitchedBut: (to: string, failed: string) => ({
    en: `switched to ${to} (proven), but: ${failed}`,
    fr: `basculé vers ${to} (prouvé), mais : ${failed}`,
  }),

  // failover watchdog
  watchdogDescription: {
    en: 'the gateway switches by itself: a cron round a minute, mwan3-like (install, remove, status)',
    fr: 'la passerelle bascule toute seule : un tour cron par minute, comme mwan3 (install, remove, status)',
  },
  watchdogHelp: {
    en:
      'install puts on the gateway /usr/local/sbin/chaton-failover-watchdog, its settings\n' +
      '/etc/chaton/failover-watchdog.conf (from the failover: section) and /etc/cron.d/chaton-failover-watchdog\n' +
      '(a round every minute, as root). A round probes both links as `failover status` does; after\n' +
      'watchdog.down bad rounds of main in a row it moves the default route to backup (if backup is up),\n' +
      'after watchdog.up good ones back to main; a switch starts both counts again, so the route never\n' +
      'flaps. On a switch, as `failover to`: conntrack flush of the old link, DNS names moved. Every round\n' +
      'is a syslog line (tag chaton-failover-watchdog) and a line of /var/lib/chaton/failover-watchdog.log;\n' +
      'the counts are in /var/lib/chaton/failover-watchdog.state. Run install again after editing the\n' +
      'inventory (status says stale).',
    fr:
      'install met sur la passerelle /usr/local/sbin/chaton-failover-watchdog, ses réglages\n' +
      '/etc/chaton/failover-watchdog.conf (tirés de la section failover:) et\n' +
      '/etc/cron.d/chaton-failover-watchdog (un tour par minute, en root). Un tour sonde les deux liens\n' +
      "comme `failover status` ; après watchdog.down tours mauvais de main d'affilée, il passe la route\n" +
      'par défaut sur backup (si backup est en service), après watchdog.up tours bons, il revient sur main ;\n' +
      'une bascule remet les deux comptes à zéro : la route ne fait jamais le yoyo. À une bascule, comme\n' +
      "`failover to` : les flux conntrack de l'ancien lien vidés, les noms DNS déplacés. Chaque tour est\n" +
      'une ligne syslog (étiquette chaton-failover-watchdog) et une ligne de\n' +
      '/var/lib/chaton/failover-watchdog.log ; les comptes sont dans /var/lib/chaton/failover-watchdog.state.\n' +
      "Relancez install après avoir modifié l'inventaire (status dit stale).",
  },
  watchdogInstallDescription: {
    en: 'install or update the watchdog on the gateway (its script, settings and cron entry); idempotent',
    fr: 'installer ou mettre à jour le chien de garde sur la passerelle (script, réglages, entrée cron) ; idempotent',
  },
  watchdogDryRunExample: { en: 'the exact commands, nothing written', fr: 'les commandes exactes, rien écrit' },
  watchdogAfterInventoryExample: {
    en: 'after editing the failover: section',
    fr: 'après avoir modifié la section failover:',
  },
  watchdogRemoveDescription: {
    en: 'remove the watchdog from the gateway: cron entry, script, settings, state; idempotent',
    fr: 'retirer le chien de garde de la passerelle : entrée cron, script, réglages, état ; idempotent',
  },
  watchdogStatusDescription: {
    en: 'whether the watchdog is installed and current, the link it keeps, its counts and last rounds',
    fr: "si le chien de garde est installé et à jour, le lien qu'il garde, ses comptes et ses derniers tours",
  },
  watchdogReadTitle: (gateway: string) => ({
    en: `Read the watchdog's files on ${gateway}`,
    fr: `Lire les fichiers du chien de garde sur ${gateway}`,
  }),
  watchdogInstallQuestion: (gateway: string) => ({
    en: `Install the failover watchdog on ${gateway} (it will switch the default route by itself)?`,
    fr: `Installer le chien de garde de bascule sur ${gateway} (il basculera la route par défaut tout seul) ?`,
  }),
  watchdogInstallTitle: (gateway: string) => ({
    en: `Write the watchdog's files on ${gateway}`,
    fr: `Écrire les fichiers du chien de garde sur ${gateway}`,
  }),
  watchdogInstalled: (gateway: string, down: number, up: number) => ({
    en:
      `changed: the watchdog runs on ${gateway} every minute ` +
      `(to backup after ${down} bad rounds, back after ${up} good)`,
    fr:
      `modifié : le chien de garde tourne sur ${gateway} chaque minute (vers backup après ${down} tours mauvais, ` +
      `retour après ${up} bons)`,
  }),
  watchdogInstallUnchanged: (gateway: string) => ({
    en: `unchanged: the watchdog on ${gateway} is the one the inventory makes`,
    fr: `inchangé : le chien de garde sur ${gateway} est celui que donne l'inventaire`,
  }),
  watchdogRemoveQuestion: (gateway: string) => ({
    en: `Remove the failover watchdog from ${gateway}?`,
    fr: `Retirer le chien de garde de bascule de ${gateway} ?`,
  }),
  watchdogRemoveTitle: (gateway: string) => ({
    en: `Remove the watchdog's files from ${gateway}`,
    fr: `Retirer les fichiers du chien de garde de ${gateway}`,
  }),
  watchdogRemoved: (gateway: string) => ({
    en: `changed: no watchdog left on ${gateway}; the default route stays where it is`,
    fr: `modifié : plus de chien de garde sur ${gateway} ; la route par défaut reste où elle est`,
  }),
  watchdogRemoveUnchanged: (gateway: string) => ({
    en: `unchanged: no watchdog on ${gateway}`,
    fr: `inchangé : pas de chien de garde sur ${gateway}`,
  }),
  watchdogPlanned: {
    en: 'dry-run: the command above was not run',
    fr: "simulation : la commande ci-dessus n'a pas été lancée",
  },
  watchdogAbsent: { en: 'watchdog: not installed', fr: 'chien de garde : pas installé' },
  watchdogSummary: (installed: string, active: string, last: string, bad: string, good: string) => ({
    en: `watchdog: ${installed}, on ${active}, last round ${last}, main bad ${bad} good ${good} in a row`,
    fr:
      `chien de garde : ${installed}, sur ${active}, dernier tour ${last}, ` +
      `main mauvais ${bad} bons ${good} d'affilée`,
  }),
  watchdogLastSwitch: (switched: string, at: string) => ({
    en: `last switch: ${switched} at ${at}`,
    fr: `dernière bascule : ${switched} à ${at}`,
  }),
  watchdogLastRounds: { en: 'last rounds:', fr: 'derniers tours :' },

  // completion
  completionDescription: {
    en: 'print the completion script of a shell: commands, options, host, group and role names',
    fr: "afficher le script de complétion d'un shell : commandes, options, noms d'hôtes, de groupes et de rôles",
  },
  completionShellArgument: { en: 'the shell', fr: 'le shell' },
  completionZshComment: {
    en: 'with fpath+=(~/.zfunc) before compinit',
    fr: 'avec fpath+=(~/.zfunc) avant compinit',
  },
  completeDescription: {
    en: 'the candidates for the end of a command line (for the completion scripts)',
    fr: "les candidats pour la fin d'une ligne de commande (pour les scripts de complétion)",
  },
  completeLineArgument: { en: 'the command line up to the cursor', fr: "la ligne de commande jusqu'au curseur" },
  // disk swap
  swapDescription: {
    en:
      "replace a failing disk on a live host: a Ceph OSD's (drain, destroy keeping the id, swap, recreate, " +
      "backfill), a ZFS mirror's or an md RAID1's (take out, swap, copy the table, attach, boot, rebuild); " +
      'checked first, resumable',
    fr:
      "remplacer un disque défaillant sur un hôte en service : celui d'un OSD Ceph (vider, détruire en gardant " +
      "l'identifiant, échanger, recréer, remplir), d'un miroir ZFS ou d'un RAID1 md (sortir, échanger, copier " +
      'la table, rattacher, amorçage, reconstruire) ; vérifié avant, reprenable',
  },
  swapHostArgument: {
    en: 'the host the disk is in (for --osd, an inventory host of role ceph)',
    fr: "l'hôte où est le disque (pour --osd, un hôte de rôle ceph de l'inventaire)",
  },
  swapZfsOption: {
    en: 'the ZFS pool whose mirror disk is replaced, e.g. rpool (with --device)',
    fr: 'le pool ZFS dont un disque du miroir est remplacé, p. ex. rpool (avec --device)',
  },
  swapMdOption: {
    en: 'the md RAID1 array whose member disk is replaced, e.g. md0 (with --device)',
    fr: 'la grappe RAID1 md dont un disque membre est remplacé, p. ex. md0 (avec --device)',
  },
  swapDeviceOption: {
    en: 'with --zfs or --md: the disk to replace, by serial, /dev/disk/by-id path or kernel name',
    fr: 'avec --zfs ou --md : le disque à remplacer, par numéro de série, chemin /dev/disk/by-id ou nom du noyau',
  },
  swapRebuildTimeoutOption: {
    en: 'with --zfs or --md: how long the resilver or resync may take, e.g. 48h',
    fr: 'avec --zfs ou --md : durée maximale du resilver ou de la resynchronisation, p. ex. 48h',
  },
  swapOsdOption: {
    en: 'the id of the OSD whose disk is replaced, e.g. 3',
    fr: "l'identifiant de l'OSD dont le disque est remplacé, p. ex. 3",
  },
  swapNewDeviceOption: {
    en: 'the new disk, by serial or /dev/disk/by-id path (needed without a terminal, with --yes)',
    fr: 'le nouveau disque, par numéro de série ou chemin /dev/disk/by-id (nécessaire sans terminal, avec --yes)',
  },
  swapResumeOption: {
    en: "continue a swap another run started (another laptop, a lost session): takes over that run's lock",
    fr: 'poursuivre un remplacement lancé par un autre lancement (autre portable, session perdue) : reprend son verrou',
  },
  swapDrainTimeoutOption: {
    en: 'how long the drain and the backfill may take each, e.g. 12h',
    fr: 'durée maximale de la vidange et du remplissage, chacun, p. ex. 12h',
  },
  swapStallTimeoutOption: {
    en: 'stop when no object has moved for this long, e.g. 15m (nothing is destroyed)',
    fr: "s'arrêter quand aucun objet n'a bougé pendant cette durée, p. ex. 15m (rien n'est détruit)",
  },
  swapSwapTimeoutOption: {
    en: 'how long to wait for the new disk to appear, e.g. 2h',
    fr: "combien de temps attendre l'apparition du nouveau disque, p. ex. 2h",
  },
  swapHelp: {
    en:
      'Identify the disk (serial, WWN, model, size, SMART, by-id path) and check the cluster: exit 3 and\n' +
      'nothing changed when another OSD is down, PGs are inactive, the drain would pass nearfull, or another\n' +
      'swap runs. Then: the cluster lock (config-key chaton/disk-swap/lock), noout on this OSD only, out,\n' +
      'wait until Ceph lists it safe to destroy and every PG is active+clean, ok-to-stop, stop, destroy (id,\n' +
      'CRUSH place and class kept). Pull the disk shown (its LED lit when ledctl is there), insert the new\n' +
      'one, type its serial (or give --new-device with --yes); zap it, ceph-volume lvm create with the same\n' +
      'id, wait for backfill and HEALTH_OK, noout off, lock released. Every step is journaled on the host\n' +
      'and locally: the same command continues after Ctrl-C or a lost session; --resume from another\n' +
      'laptop.\n\n' +
      '--zfs <pool> or --md <array>, --device <old>: identify the disk, its place in the mirror and its boot\n' +
      'role; exit 3 and nothing changed when the other side is not healthy (SMART too), a resilver or resync\n' +
      'runs, another disk is degraded, or the new disk is smaller. Then: zpool offline (mdadm --fail,\n' +
      '--remove), pull and insert, the new serial typed; the partition table copied FROM the healthy disk TO\n' +
      'the new one (sgdisk -R, then -G), zpool replace (mdadm --add), proxmox-boot-tool format and init (or\n' +
      'grub-install), the resilver awaited. Same journal, lock and resume.\n\n' +
      'Exit 0 done or unchanged, 1 failed or stalled, 2 bad input, 3 refused, 5 host key, 130 interrupted.',
    fr:
      'Identifier le disque (numéro de série, WWN, modèle, taille, SMART, chemin by-id) et vérifier le\n' +
      'cluster : code 3 et rien de changé quand un autre OSD est arrêté, des PG inactifs, la vidange\n' +
      'dépasserait nearfull, ou un autre remplacement est en cours. Puis : le verrou du cluster (config-key\n' +
      'chaton/disk-swap/lock), noout sur cet OSD seul, out, attente que Ceph le dise destructible et que\n' +
      'chaque PG soit active+clean, ok-to-stop, arrêt, destruction (identifiant, place CRUSH et classe\n' +
      'gardés). Retirer le disque montré (sa LED allumée si ledctl est là), insérer le nouveau, taper son\n' +
      'numéro de série (ou --new-device avec --yes) ; effacement, ceph-volume lvm create avec le même\n' +
      'identifiant, attente du remplissage et de HEALTH_OK, noout retiré, verrou rendu. Chaque étape est\n' +
      "journalisée sur l'hôte et localement : la même commande reprend après Ctrl-C ou une session perdue ;\n" +
      '--resume depuis un autre portable.\n\n' +
      '--zfs <pool> ou --md <grappe>, --device <ancien> : identifier le disque, sa place dans le miroir et son\n' +
      "rôle d'amorçage ; code 3 et rien de changé quand l'autre côté n'est pas sain (SMART aussi), qu'un\n" +
      "resilver ou une resynchronisation tourne, qu'un autre disque est dégradé, ou que le nouveau est plus\n" +
      'petit. Puis : zpool offline (mdadm --fail, --remove), retrait et insertion, le nouveau numéro tapé ; la\n' +
      'table de partitions copiée DEPUIS le disque sain VERS le nouveau (sgdisk -R, puis -G), zpool replace\n' +
      '(mdadm --add), proxmox-boot-tool format et init (ou grub-install), le resilver attendu. Même journal,\n' +
      'verrou et reprise.\n\n' +
      "Code 0 fait ou inchangé, 1 échec ou blocage, 2 mauvaise saisie, 3 refus, 5 clé d'hôte, 130 interrompu.",
  },
  swapDryRunExample: {
    en: 'the disk, the preflight verdicts and every command',
    fr: 'le disque, les verdicts des vérifications et chaque commande',
  },
  swapTerminalExample: {
    en: 'on a terminal: asks before the drain, then for the new serial',
    fr: 'sur un terminal : demande avant la vidange, puis le nouveau numéro de série',
  },
  swapRunbookExample: { en: 'from cron or a runbook', fr: 'depuis cron ou une procédure écrite' },
  swapResumeExample: {
    en: 'continue the swap a lost laptop started',
    fr: 'poursuivre le remplacement lancé par un portable perdu',
  },
  swapNoTarget: {
    en: 'what to swap is missing, or given twice: one of --osd <id>, --zfs <pool>, --md <array>',
    fr: 'ce qui est à remplacer manque, ou est donné deux fois : un seul de --osd <id>, --zfs <pool>, --md <grappe>',
  },
  swapNoDevice: (flag: string) => ({
    en: `${flag} needs --device <old disk> (its serial, /dev/disk/by-id path or kernel name)`,
    fr: `${flag} demande --device <ancien disque> (son numéro de série, chemin /dev/disk/by-id ou nom du noyau)`,
  }),
  swapDeviceWithOsd: {
    en: '--device is for --zfs and --md: with --osd, Ceph says which disk the OSD is on',
    fr: "--device est pour --zfs et --md : avec --osd, Ceph dit sur quel disque est l'OSD",
  },
  swapBadName: (flag: string, value: string) => ({
    en:
      `${flag} ${JSON.stringify(value)}: a pool is a letter then letters, digits, _ . -; ` +
      'an array md0 or /dev/md/name',
    fr:
      `${flag} ${JSON.stringify(value)} : un pool est une lettre puis lettres, chiffres, _ . - ; ` +
      'une grappe md0 ou /dev/md/nom',
  }),
  swapMirrorExample: {
    en: 'a ZFS mirror disk, from a runbook',
    fr: "un disque d'un miroir ZFS, depuis une procédure écrite",
  },
  swapMdExample: { en: 'an md RAID1 member, on a terminal', fr: "un membre d'un RAID1 md, sur un terminal" },
  swapNoTargetHint: {
    en: 'for example: chaton disk swap pve2 --osd 3, or chaton disk swap pve1 --zfs rpool --device S3Z9NB0K12',
    fr: 'par exemple : chaton disk swap pve2 --osd 3, ou chaton disk swap pve1 --zfs rpool --device S3Z9NB0K12',
  },
  swapBadOsd: (got: string) => ({
    en: `--osd must be an OSD id, a whole number, got ${JSON.stringify(got)}`,
    fr: `--osd doit être un identifiant d'OSD, un nombre entier, reçu ${JSON.stringify(got)}`,
  }),
  swapBadDuration: (flag: string, got: string) => ({
    en: `${flag} must be a duration such as 45s, 15m, 12h or 2d, got ${JSON.stringify(got)}`,
    fr: `${flag} doit être une durée telle que 45s, 15m, 12h ou 2d, reçu ${JSON.stringify(got)}`,
  }),
  swapBadDurationHint: {
    en: 'one whole number and one unit: s, m, h, d or w',
    fr: 'un nombre entier et une unité : s, m, h, d ou w',
  },
  swapUnknownHost: (host: string, file: string) => ({
    en: `no host ${host} in ${file}`,
    fr: `aucun hôte ${host} dans ${file}`,
  }),
  swapUnknownHostHint: { en: 'chaton inventory show lists the hosts', fr: 'chaton inventory show liste les hôtes' },
  swapNotCeph: (host: string, file: string) => ({
    en: `${host} has no role ceph in ${file}`,
    fr: `${host} n'a pas le rôle ceph dans ${file}`,
  }),
  swapNotCephHint: {
    en: 'add ceph to its roles: chaton asks Ceph on the hosts of that role',
    fr: 'ajoutez ceph à ses rôles : chaton interroge Ceph sur les hôtes de ce rôle',
  },
  swapNeedsNewDevice: {
    en: 'without a terminal nobody can type the new serial: give --new-device and --yes',
    fr: 'sans terminal personne ne peut taper le nouveau numéro de série : donnez --new-device et --yes',
  },
  swapNeedsNewDeviceHint: {
    en: 'chaton -y disk swap <host> --osd <id> --new-device <serial of the new disk>',
    fr: 'chaton -y disk swap <hôte> --osd <id> --new-device <numéro de série du nouveau disque>',
  },
  swapIdentifyTitle: (osd: number, host: string) => ({
    en: `Identify osd.${osd}'s disk on ${host} and check the cluster`,
    fr: `Identifier le disque d'osd.${osd} sur ${host} et vérifier le cluster`,
  }),
  swapUnchanged: (osd: number, host: string, serial: string) => ({
    en: `osd.${osd} on ${host} is up on disk ${serial}, the one asked for: nothing to do`,
    fr: `osd.${osd} sur ${host} est actif sur le disque ${serial}, celui demandé : rien à faire`,
  }),
  swapRefused: (osd: number, host: string, problems: string) => ({
    en: `the swap of osd.${osd} on ${host} is refused, nothing changed: ${problems}`,
    fr: `le remplacement d'osd.${osd} sur ${host} est refusé, rien n'a changé : ${problems}`,
  }),
  swapPreflightPassed: {
    en: 'the cluster is healthy and can take the data',
    fr: 'le cluster est sain et peut recevoir les données',
  },
  swapQuestion: (osd: number, host: string, serial: string, device: string) => ({
    en: `Drain osd.${osd} and destroy it (keeping its id), to replace disk ${serial} (${device}) on ${host}?`,
    fr:
      `Vider osd.${osd} et le détruire (en gardant son identifiant), pour remplacer le disque ${serial} ` +
      `(${device}) sur ${host} ?`,
  }),
  swapDrainTitle: (osd: number) => ({ en: `Drain osd.${osd}`, fr: `Vider osd.${osd}` }),
  swapDestroyTitle: (osd: number) => ({
    en: `Stop osd.${osd} and destroy it, keeping its id`,
    fr: `Arrêter osd.${osd} et le détruire en gardant son identifiant`,
  }),
  swapCreateTitle: (osd: number) => ({
    en: `Create osd.${osd} on the new disk`,
    fr: `Créer osd.${osd} sur le nouveau disque`,
  }),
  swapBackfillTitle: (osd: number) => ({
    en: `Wait for osd.${osd}'s backfill`,
    fr: `Attendre le remplissage d'osd.${osd}`,
  }),
  swapFinishTitle: {
    en: 'Remove noout, wait for health, release the lock',
    fr: 'Retirer noout, attendre la santé, rendre le verrou',
  },
  swapLocked: { en: 'cluster lock taken', fr: 'verrou du cluster pris' },
  swapLockLost: (why: string) => ({
    en: `another run took the cluster's lock at the same moment: ${why}`,
    fr: `un autre lancement a pris le verrou du cluster au même moment : ${why}`,
  }),
  swapLockGone: {
    en: 'the lock was removed as soon as it was written',
    fr: 'le verrou a été retiré sitôt écrit',
  },
  swapOut: (osd: number) => ({
    en: `noout on osd.${osd} only, osd.${osd} marked out`,
    fr: `noout sur osd.${osd} seulement, osd.${osd} marqué out`,
  }),
  swapDrainPlanned: (osd: number) => ({
    en: `would wait until osd.${osd} is safe to destroy and every PG is active+clean`,
    fr: `attendrait qu'osd.${osd} soit destructible et chaque PG active+clean`,
  }),
  swapDestroyPlanned: (osd: number) => ({
    en: `would wait for ok-to-stop, stop osd.${osd} and destroy it, keeping its id`,
    fr: `attendrait ok-to-stop, arrêterait osd.${osd} et le détruirait en gardant son identifiant`,
  }),
  swapFinishPlanned: (osd: number) => ({
    en: `would remove noout from osd.${osd}, wait for HEALTH_OK and release the lock`,
    fr: `retirerait noout d'osd.${osd}, attendrait HEALTH_OK et rendrait le verrou`,
  }),
  swapDrained: (osd: number) => ({
    en: `osd.${osd} is empty: safe to destroy, every PG active+clean`,
    fr: `osd.${osd} est vide : destructible, chaque PG active+clean`,
  }),
  swapMoving: (why: string, osd: number, progress: string) => ({
    en: `${why === 'drain' ? `draining osd.${osd}` : `filling osd.${osd}`}: ${progress}`,
    fr: `${why === 'drain' ? `vidange d'osd.${osd}` : `remplissage d'osd.${osd}`} : ${progress}`,
  }),
  swapMovingUnknown: (why: string, osd: number) => ({
    en: why === 'drain' ? `draining osd.${osd}` : `filling osd.${osd}`,
    fr: why === 'drain' ? `vidange d'osd.${osd}` : `remplissage d'osd.${osd}`,
  }),
  swapPgsOnOsd: (osd: number, onOsd: number, notClean: number, total: number) => ({
    en: `osd.${osd} in ${onOsd} PG(s), ${notClean} of ${total} not active+clean`,
    fr: `osd.${osd} dans ${onOsd} PG, ${notClean} sur ${total} pas active+clean`,
  }),
  swapStalled: (why: string, osd: number, bound: string, progress: string) => ({
    en: `the ${why === 'drain' ? 'drain' : 'backfill'} of osd.${osd} made no progress for ${bound} (${progress})`,
    fr:
      `${why === 'drain' ? 'la vidange' : 'le remplissage'} d'osd.${osd} n'a pas avancé depuis ${bound} ` +
      `(${progress})`,
  }),
  swapTimedOut: (why: string, osd: number, bound: string, last: string) => ({
    en: `the ${why === 'drain' ? 'drain' : 'backfill'} of osd.${osd} took more than ${bound} (${last})`,
    fr: `${why === 'drain' ? 'la vidange' : 'le remplissage'} d'osd.${osd} a pris plus de ${bound} (${last})`,
  }),
  swapStalledDrainHint: (osd: number) => ({
    en:
      `nothing is destroyed; osd.${osd} is out with noout: see ceph health detail, fix what blocks the recovery, ` +
      `then run the same command again (or give up: ceph osd in ${osd}; ceph osd rm-noout osd.${osd})`,
    fr:
      `rien n'est détruit ; osd.${osd} est out avec noout : voyez ceph health detail, réglez ce qui bloque la ` +
      'récupération, puis relancez la même commande ' +
      `(ou renoncez : ceph osd in ${osd} ; ceph osd rm-noout osd.${osd})`,
  }),
  swapStalledBackfillHint: (osd: number) => ({
    en: `osd.${osd} is on the new disk; see ceph health detail, then run the same command again to wait on`,
    fr:
      `osd.${osd} est sur le nouveau disque ; voyez ceph health detail, ` +
      'puis relancez la même commande pour attendre',
  }),
  swapInterrupted: (osd: number, host: string) => ({
    en: `interrupted: the swap of osd.${osd} on ${host} is journaled; the same command continues it`,
    fr: `interrompu : le remplacement d'osd.${osd} sur ${host} est journalisé ; la même commande le poursuit`,
  }),
  swapNotOkToStop: (osd: number, inactive: number, notOk: number) => ({
    en: `Ceph says osd.${osd} is not ok to stop: ${notOk} PG(s) would suffer, ${inactive} become inactive`,
    fr:
      `Ceph dit qu'osd.${osd} ne peut pas être arrêté : ${notOk} PG en pâtiraient, ` +
      `${inactive} deviendraient inactifs`,
  }),
  swapNotOkToStopHint: (osd: number) => ({
    en: `nothing is destroyed; see ceph osd ok-to-stop ${osd} and ceph health detail, then run the same command again`,
    fr: `rien n'est détruit ; voyez ceph osd ok-to-stop ${osd} et ceph health detail, puis relancez la même commande`,
  }),
  swapStopped: (osd: number) => ({ en: `ceph-osd@${osd} stopped`, fr: `ceph-osd@${osd} arrêté` }),
  swapDestroyed: (osd: number) => ({
    en: `osd.${osd} destroyed: its id, CRUSH place and class wait for the new disk`,
    fr: `osd.${osd} détruit : son identifiant, sa place CRUSH et sa classe attendent le nouveau disque`,
  }),
  swapBadNewDiskHint: {
    en: 'insert another disk (or free this one) and run the same command again; the OSD waits, destroyed',
    fr: "insérez un autre disque (ou libérez celui-ci) et relancez la même commande ; l'OSD attend, détruit",
  },
  swapZapping: (device: string) => ({ en: `zapping ${device}`, fr: `effacement de ${device}` }),
  swapCreating: (osd: number, device: string) => ({
    en: `creating osd.${osd} on ${device}`,
    fr: `création d'osd.${osd} sur ${device}`,
  }),
  swapCreated: (osd: number, device: string) => ({
    en: `osd.${osd} created on ${device}, same id`,
    fr: `osd.${osd} créé sur ${device}, même identifiant`,
  }),
  swapCreatePlanned: (osd: number, device: string) => ({
    en: `would zap ${device} and create osd.${osd} on it`,
    fr: `effacerait ${device} et y créerait osd.${osd}`,
  }),
  swapNoEntry: (osd: number) => ({
    en: `osd.${osd} is gone from the cluster and this run has no record of its place to put it back`,
    fr: `osd.${osd} a disparu du cluster et ce lancement n'a pas de trace de sa place pour le remettre`,
  }),
  swapRestoringEntry: (osd: number, host: string) => ({
    en: `osd.${osd} was purged (a failed create rolled back): putting its entry back under ${host}`,
    fr: `osd.${osd} a été purgé (une création ratée est revenue en arrière) : remise de son entrée sous ${host}`,
  }),
  swapCreateFailed: (osd: number, why: string) => ({
    en: `ceph-volume could not create osd.${osd}: ${why}`,
    fr: `ceph-volume n'a pas pu créer osd.${osd} : ${why}`,
  }),
  swapCreateFailedRestoredHint: (osd: number) => ({
    en:
      `its rollback purged osd.${osd}; its entry (id, CRUSH place, class) is back, destroyed: ` +
      'fix the cause, run the same command again',
    fr:
      `son retour en arrière a purgé osd.${osd} ; son entrée (identifiant, place CRUSH, classe) est remise, ` +
      'détruite : réglez la cause, relancez la même commande',
  }),
  swapCreateFailedHint: (osd: number) => ({
    en: `osd.${osd} waits, destroyed: fix the cause (see the output above), then run the same command again`,
    fr: `osd.${osd} attend, détruit : réglez la cause (voir la sortie ci-dessus), puis relancez la même commande`,
  }),
  swapBackfillPlanned: (osd: number) => ({
    en: `would wait until osd.${osd} is up, in, holds PGs, and every PG is active+clean`,
    fr: `attendrait qu'osd.${osd} soit up, in, porte des PG, et que chaque PG soit active+clean`,
  }),
  swapBackfilled: (osd: number) => ({
    en: `osd.${osd} is up and in, every PG active+clean`,
    fr: `osd.${osd} est up et in, chaque PG active+clean`,
  }),
  swapWaitingHealth: (status: string, checks: string) => ({
    en: `waiting for HEALTH_OK (${status}: ${checks})`,
    fr: `attente de HEALTH_OK (${status} : ${checks})`,
  }),
  swapHealthHint: {
    en: 'the new OSD serves its data; see ceph health detail, then run the same command again to finish',
    fr: 'le nouvel OSD sert ses données ; voyez ceph health detail, puis relancez la même commande pour finir',
  },
  swapHealthy: { en: 'noout removed, HEALTH_OK', fr: 'noout retiré, HEALTH_OK' },
  swapUnlocked: { en: 'cluster lock released', fr: 'verrou du cluster rendu' },
});
