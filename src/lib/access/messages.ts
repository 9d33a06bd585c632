// The messages of the access domain (onboard and offboard of sysadmins), in English and French
// (see ../run/catalogue.ts). A change's description is a message; the remote command it carries,
// the files it writes on a host and the lock's owner line are not, and stay as they are.
import { both, catalogue } from '../run/catalogue.js';

export const messages = catalogue({
  // ---------------------------------------------------------------------------------------------
  // The changes of an account (account-changes.ts), as progress, dry-run and the report show them

  createAccount: (login: string) => ({
    en: `create the account ${login} (key-only)`,
    fr: `créer le compte ${login} (connexion par clé seulement)`,
  }),
  createForwardingAccount: (login: string) => ({
    en: `create the account ${login} (key-only, no shell)`,
    fr: `créer le compte ${login} (connexion par clé seulement, sans shell)`,
  }),
  updateAccount: (login: string, reasons: string) => ({
    en: `update the account ${login}: ${reasons}`,
    fr: `mettre à jour le compte ${login} : ${reasons}`,
  }),
  updateFullName: { en: 'full name', fr: 'nom complet' },
  updateShell: (shell: string) => both(`shell ${shell}`),
  updateUnlock: { en: 'unlock for key login', fr: 'déverrouillage pour la connexion par clé' },
  updateExpires: (date: string) => ({ en: `expires ${date}`, fr: `expire le ${date}` }),
  updateNoLongerExpired: { en: 'no longer expired', fr: "n'expire plus" },
  updateGroups: (groups: string) => ({ en: `groups +${groups}`, fr: `groupes +${groups}` }),
  giveSshDirBack: (login: string) => ({ en: `give ~/.ssh back to ${login}`, fr: `rendre ~/.ssh à ${login}` }),
  writeKeys: (what: string) => ({
    en: `write ~/.ssh/authorized_keys (${what})`,
    fr: `écrire ~/.ssh/authorized_keys (${what})`,
  }),
  keysAdded: (count: number) => ({
    en: `${count} key${count === 1 ? '' : 's'} added`,
    fr: `${count} clé${count === 1 ? '' : 's'} ajoutée${count === 1 ? '' : 's'}`,
  }),
  otherKeysRemoved: (count: number) => ({
    en: `${count} other key${count === 1 ? '' : 's'} removed`,
    fr: count === 1 ? `${count} autre clé retirée` : `${count} autres clés retirées`,
  }),
  keysOwnerOrModes: { en: 'owner, modes or key options', fr: 'propriétaire, droits ou options des clés' },
  allowSudo: (file: string) => ({
    en: `allow sudo: ${file} (checked with visudo first)`,
    fr: `autoriser sudo : ${file} (vérifié d'abord avec visudo)`,
  }),
  removeSudo: (file: string) => ({ en: `remove sudo: ${file}`, fr: `retirer sudo : ${file}` }),
  lockAccount: (login: string) => ({
    en: `lock ${login} (password locked, account expired)`,
    fr: `verrouiller ${login} (mot de passe verrouillé, compte expiré)`,
  }),
  removeKeys: (login: string) => ({ en: `remove ${login}'s keys`, fr: `supprimer les clés du compte ${login}` }),
  endProcesses: (login: string, count: number) => ({
    en: `end ${login}'s ${count} processes and sessions`,
    fr: `terminer les ${count} processus et sessions du compte ${login}`,
  }),
  removeHome: (login: string, home: string) => ({
    en: `remove ${login}'s home ${home}`,
    fr: `supprimer le répertoire personnel ${home} du compte ${login}`,
  }),

  // ---------------------------------------------------------------------------------------------
  // What onboard and offboard refuse to do on a host

  missingGroups: (host: string, groups: string) => ({
    en: `${host}: group ${groups} does not exist there: nothing was changed on ${host}`,
    fr: `${host} : le groupe ${groups} n'existe pas sur cet hôte : rien n'a été modifié sur ${host}`,
  }),
  missingGroupsHint: (host: string) => ({
    en: `create it on ${host}, or leave it out of --groups`,
    fr: `créez-le sur ${host}, ou retirez-le de --groups`,
  }),
  symbolicLink: (host: string, file: string, login: string) => ({
    en:
      `${host}: ${file} of ${login} is a symbolic link: chaton will not write through it, ` +
      `nothing was changed on ${host}`,
    fr:
      `${host} : ${file} du compte ${login} est un lien symbolique : chaton n'écrit pas à travers un lien, ` +
      `rien n'a été modifié sur ${host}`,
  }),
  replaceLinkByDirectory: (host: string) => ({
    en: `replace the link by a real directory on ${host}`,
    fr: `remplacez le lien par un vrai répertoire sur ${host}`,
  }),
  replaceLinkByFile: (host: string) => ({
    en: `replace the link by a real file on ${host}`,
    fr: `remplacez le lien par un vrai fichier sur ${host}`,
  }),
  systemAccount: (host: string, login: string, uid: number) => ({
    en: `${host}: ${login} is a system account there (uid ${uid}): chaton will not touch it`,
    fr: `${host} : ${login} est un compte système sur cet hôte (uid ${uid}) : chaton n'y touche pas`,
  }),
  chooseAnotherLogin: { en: 'choose another login', fr: 'choisissez un autre nom de compte' },
  homeNotTheirs: (host: string, login: string, home: string, owner: string) => ({
    en: `${host}: the home of ${login} is ${home} (owned by ${owner}): chaton removes only a home the user owns`,
    fr:
      `${host} : le répertoire personnel du compte ${login} est ${home} (propriétaire : ${owner}) : ` +
      `chaton ne supprime qu'un répertoire personnel qui appartient au compte`,
  }),
  homeNotTheirsHint: (host: string) => ({
    en: `remove it by hand on ${host} if it really is theirs`,
    fr: `supprimez-le à la main sur ${host} s'il est vraiment le sien`,
  }),

  // ---------------------------------------------------------------------------------------------
  // The login given on the command line (sysadmins.ts)

  invalidLogin: (login: string) => ({
    en:
      `invalid login ${login}: a login is 1 to 32 of a-z, 0-9, _ and -, ` +
      'starting with a letter or _ (no dots, no capitals)',
    fr:
      `nom de compte ${login} invalide : un nom de compte a de 1 à 32 caractères parmi a-z, 0-9, _ et -, ` +
      'et commence par une lettre ou _ (ni point, ni majuscule)',
  }),
  invalidLoginHint: {
    en: 'choose a login such as jdupont or j_dupont',
    fr: 'choisissez un nom de compte comme jdupont ou j_dupont',
  },
  chatonOwnLogin: (login: string, hosts: string) => ({
    en: `${login} is the account chaton itself logs in with (${hosts}): changing it could lock chaton out`,
    fr:
      `${login} est le compte avec lequel chaton lui-même se connecte (${hosts}) : ` +
      "le modifier pourrait empêcher chaton d'entrer",
  }),
  rootNever: {
    en: 'root is never onboarded or offboarded by chaton',
    fr: "chaton ne donne ni ne retire jamais d'accès au compte root",
  },
  accountOfTheirOwn: {
    en: 'give each volunteer an account of their own',
    fr: 'donnez à chaque bénévole un compte à son nom',
  },

  // ---------------------------------------------------------------------------------------------
  // The lock per login (LoginLocks)

  lockOnHost: (login: string, host: string) => ({
    en: `Lock ${login} on ${host}`,
    fr: `Prendre le verrou du sysadmin ${login} sur ${host}`,
  }),
  lockOnEachHost: (login: string) => ({
    en: `Lock ${login} on each host in turn`,
    fr: `Prendre le verrou du sysadmin ${login} sur chaque hôte tour à tour`,
  }),
  waitingForLock: (host: string, login: string, holder: string) => ({
    en: `${host}: waiting for the lock on sysadmin ${login}, held by ${holder}`,
    fr: `${host} : en attente du verrou du sysadmin ${login}, tenu par ${holder}`,
  }),
  lockWaitTimedOut: (host: string, waited: string, login: string, holder: string) => ({
    en:
      `${host}: waited ${waited} for the lock on sysadmin ${login}, held by ${holder}; ` +
      'nothing was changed by this run',
    fr:
      `${host} : ${waited} d'attente du verrou du sysadmin ${login}, tenu par ${holder} ; ` +
      "cette exécution n'a rien modifié",
  }),
  interruptedWhileLocking: (login: string) => ({
    en: `interrupted while locking ${login}: nothing was changed`,
    fr: `interrompu pendant la prise du verrou du sysadmin ${login} : rien n'a été modifié`,
  }),
  interruptedWhileWaiting: (host: string, login: string, holder: string) => ({
    en: `${host}: interrupted while waiting for the lock on sysadmin ${login}, held by ${holder}: nothing was changed`,
    fr:
      `${host} : interrompu en attendant le verrou du sysadmin ${login}, tenu par ${holder} : ` +
      "rien n'a été modifié",
  }),
  lockNotReleased: (host: string, lock: string, why: string, login: string) => ({
    en:
      `${host}: the lock ${lock} could not be released (${why}): ` +
      `remove it there, or the next run for ${login} waits for it`,
    fr:
      `${host} : le verrou ${lock} n'a pas pu être libéré (${why}) : ` +
      `supprimez-le sur cet hôte, sinon la prochaine exécution pour ${login} l'attendra`,
  }),

  // ---------------------------------------------------------------------------------------------
  // A host's result (applyChanges, summarise, hostChangesTable)

  wouldDo: (change: string) => ({ en: `would ${change}`, fr: `(simulation) ${change}` }),
  unchanged: { en: 'unchanged', fr: 'inchangé' },
  wouldChangeCount: (count: number) => ({ en: `would change (${count})`, fr: `modifierait (${count})` }),
  changedCount: (count: number) => ({ en: `changed (${count})`, fr: `modifié (${count})` }),
  wouldChangeList: { en: 'would change:', fr: 'modifierait :' },
  changedList: { en: 'changed:', fr: 'modifié :' },
  columnHost: { en: 'HOST', fr: 'HÔTE' },
  columnResult: { en: 'RESULT', fr: 'RÉSULTAT' },
  columnChecked: { en: 'CHECKED', fr: 'VÉRIFIÉ' },

  // ---------------------------------------------------------------------------------------------
  // Local files written once the hosts are done (LocalWrites)

  notWritten: (what: string) => ({ en: `NOT WRITTEN: ${what}`, fr: `NON ÉCRIT : ${what}` }),
  rosterInFile: (file: string) => ({
    en: `--save, the roster in ${file}`,
    fr: `--save, la liste des sysadmins dans ${file}`,
  }),
  rosterNotSavedHint: (file: string, byHand: string) => ({
    en:
      `the hosts are done: once ${file} can be written, rerun this command ` +
      `(the hosts will say unchanged), or ${byHand}`,
    fr:
      `les hôtes sont à jour : dès que ${file} peut être écrit, relancez cette commande ` +
      `(les hôtes diront inchangé), ou ${byHand}`,
  }),

  // ---------------------------------------------------------------------------------------------
  // The newcomer's own login (--verify-with) and ssh config

  verifyWithUnusable: (why: string) => ({ en: `--verify-with: ${why}`, fr: `--verify-with : ${why}` }),
  verifyWithUnusableHint: {
    en: "give the newcomer's private key file, or leave --verify-with out",
    fr: 'donnez le fichier de clé privée de la personne à intégrer, ou retirez --verify-with',
  },
  logInAs: (login: string, keyFile: string) => ({
    en: `Log in as ${login} with ${keyFile}`,
    fr: `Se connecter en tant que ${login} avec ${keyFile}`,
  }),
  loggedInForwardingOnly: {
    en: 'logged in (forwarding only)',
    fr: 'connecté (redirection de ports seulement)',
  },
  loggedInAsAnother: (host: string, who: string) => ({
    en: `${host}: logged in, but as ${who}`,
    fr: `${host} : connecté, mais en tant que ${who}`,
  }),
  loggedInAs: (login: string) => ({ en: `logged in as ${login}`, fr: `connecté en tant que ${login}` }),
  loggedInWithSudo: (login: string) => ({
    en: `logged in as ${login}, sudo -n true works`,
    fr: `connecté en tant que ${login}, sudo -n true fonctionne`,
  }),
  sshConfigHeader: (login: string) => ({
    en: `# ~/.ssh/config for ${login}, written by chaton onboard sysadmin.`,
    fr: `# ~/.ssh/config pour ${login}, écrit par chaton onboard sysadmin.`,
  }),
  sshConfigKnownHosts: (knownHosts: string) => ({
    en: `# Put the host keys in ~/.ssh/${knownHosts}: no host then needs a trust-on-first-use.`,
    fr:
      `# Mettez les clés d'hôte dans ~/.ssh/${knownHosts} : aucun hôte n'aura alors à être ` +
      'approuvé à la première connexion.',
  }),

  // ---------------------------------------------------------------------------------------------
  // Public keys given with --key (public-keys.ts)

  noKeyGiven: { en: 'no key given', fr: 'aucune clé donnée' },
  noKeyGivenHint: {
    en: "give the newcomer's public key with --key FILE or --key 'ssh-ed25519 AAAA... comment'",
    fr:
      'donnez la clé publique de la personne à intégrer ' +
      "avec --key FICHIER ou --key 'ssh-ed25519 AAAA... commentaire'",
  },
  privateKeyGiven: (where: string) => ({
    en: `${where} is a PRIVATE key: it was not shown, logged or sent anywhere`,
    fr: `${where} est une clé PRIVÉE : elle n'a été ni affichée, ni journalisée, ni envoyée nulle part`,
  }),
  privateKeyFileHint: (file: string) => ({
    en: `give its public half instead (${file}.pub, or \`ssh-keygen -y -f ${file}\`)`,
    fr: `donnez plutôt la clé publique qui va avec (${file}.pub, ou \`ssh-keygen -y -f ${file}\`)`,
  }),
  privateKeyLineHint: {
    en: 'give the public half: the line in the .pub file, which starts with ssh-ed25519 or similar',
    fr:
      'donnez la clé publique qui va avec : la ligne du fichier .pub, ' +
      'qui commence par ssh-ed25519 ou un type voisin',
  },
  keyLineCount: (where: string, count: number) => ({
    en: `${where} holds ${count} key lines, not 1`,
    fr: `${where} contient ${count} lignes de clé, et non une seule`,
  }),
  keyLineCountHint: {
    en: 'give one key per --key (repeat --key for more)',
    fr: 'donnez une clé par --key (répétez --key pour en donner plusieurs)',
  },
  notAPublicKeyLine: (where: string) => ({
    en: `${where} is not a whole OpenSSH public key line`,
    fr: `${where} n'est pas une ligne entière de clé publique OpenSSH`,
  }),
  notAPublicKeyLineHint: {
    en: 'give the content of a .pub file: `type base64 comment`, e.g. ssh-ed25519 AAAA... you@laptop',
    fr:
      "donnez le contenu d'un fichier .pub : `type base64 commentaire`, " +
      'par exemple ssh-ed25519 AAAA... vous@portable',
  },
  dsaKey: (where: string, fingerprint: string) => ({
    en: `${where} is a DSA key (${fingerprint}): OpenSSH no longer accepts DSA`,
    fr: `${where} est une clé DSA (${fingerprint}) : OpenSSH n'accepte plus DSA`,
  }),
  dsaKeyHint: {
    en: 'generate an Ed25519 key: ssh-keygen -t ed25519',
    fr: 'générez une clé Ed25519 : ssh-keygen -t ed25519',
  },
  shortRsaKey: (where: string, bits: number, fingerprint: string, minimum: number) => ({
    en: `${where} is an RSA key of ${bits} bits (${fingerprint}): at least ${minimum} are required`,
    fr: `${where} est une clé RSA de ${bits} bits (${fingerprint}) : il en faut au moins ${minimum}`,
  }),
  shortRsaKeyHint: {
    en: 'generate an Ed25519 key (ssh-keygen -t ed25519) or RSA of 4096 bits',
    fr: 'générez une clé Ed25519 (ssh-keygen -t ed25519) ou RSA de 4096 bits',
  },
  sameKeyTwice: (where: string, first: number, fingerprint: string) => ({
    en: `${where} is the same key as --key ${first} (${fingerprint})`,
    fr: `${where} est la même clé que --key ${first} (${fingerprint})`,
  }),
  sameKeyTwiceHint: { en: 'give each key once', fr: 'donnez chaque clé une seule fois' },
  keyFileUnreadable: (where: string, why: string) => ({ en: `${where}: ${why}`, fr: `${where} : ${why}` }),
  keyFileUnreadableHint: {
    en: "give the .pub file (a regular file), or the key line itself in quotes: --key 'ssh-ed25519 AAAA...'",
    fr:
      'donnez le fichier .pub (un fichier ordinaire), ' +
      "ou la ligne de la clé elle-même entre guillemets : --key 'ssh-ed25519 AAAA...'",
  },
  noSshKeygen: {
    en: 'ssh-keygen is not installed here: chaton checks keys with it',
    fr: "ssh-keygen n'est pas installé ici : chaton s'en sert pour vérifier les clés",
  },
  noSshKeygenHint: {
    en: 'install the OpenSSH client (apt install openssh-client)',
    fr: 'installez le client OpenSSH (apt install openssh-client)',
  },
  sshKeygenCannotRead: (where: string) => ({
    en: `${where}: ssh-keygen cannot read this key (damaged or truncated?)`,
    fr: `${where} : ssh-keygen ne peut pas lire cette clé (abîmée ou tronquée ?)`,
  }),
  sshKeygenCannotReadHint: {
    en: 'copy the whole line of the .pub file again',
    fr: 'copiez de nouveau la ligne entière du fichier .pub',
  },

  // ---------------------------------------------------------------------------------------------
  // Saving the roster (roster.ts)

  saveRefused: (why: string) => ({
    en: `--save: ${why}; nothing was changed`,
    fr: `--save : ${why} ; rien n'a été modifié`,
  }),
  saveRefusedHint: (hint: string) => ({ en: `${hint}, or run without --save`, fr: `${hint}, ou lancez sans --save` }),
  rosterInvalid: (file: string, problems: string) => ({
    en: `cannot save the roster in ${file}:\n${problems}`,
    fr: `impossible d'enregistrer la liste des sysadmins dans ${file} :\n${problems}`,
  }),
  rosterReadsBackWrong: (file: string) => ({
    en: `the roster edited for ${file} does not read back as intended; nothing was written`,
    fr: `la liste des sysadmins modifiée pour ${file} ne se relit pas comme prévu ; rien n'a été écrit`,
  }),

  // ---------------------------------------------------------------------------------------------
  // The inventory's `sysadmins:` and `secrets:` (inventory.ts): an `expected` completes
  // "must be ...", a hint says how to write the value

  personNameExpected: {
    en: 'a name on one line, without ":" or ","',
    fr: 'un nom sur une seule ligne, sans ":" ni ","',
  },
  personNameHint: {
    en: 'the name as they like it written, for example Camille Martin',
    fr: 'le nom tel que la personne aime le voir écrit, par exemple Camille Martin',
  },
  emailExpected: { en: 'an email address', fr: 'une adresse e-mail' },
  emailHint: {
    en: 'one "@" between a name and a domain, no spaces, for example camille@example.org',
    fr: 'un seul "@" entre un nom et un domaine, sans espace, par exemple camille@example.org',
  },
  proxmoxRoleExpected: { en: 'a Proxmox role name', fr: 'un nom de rôle Proxmox' },
  proxmoxRoleHint: {
    en: 'a role of Proxmox VE such as PVEAdmin or PVEAuditor, or one of your own: letters, digits, ".", "_" and "-"',
    fr: 'un rôle de Proxmox VE comme PVEAdmin ou PVEAuditor, ou un des vôtres : lettres, chiffres, ".", "_" et "-"',
  },
  sudoCommandsExpected: {
    en: 'a sudoers command list on one line',
    fr: 'une liste de commandes sudoers sur une seule ligne',
  },
  sudoCommandsHint: {
    en: "full paths separated by commas, for example '/usr/sbin/qm, /usr/bin/pvesh'",
    fr: "des chemins complets séparés par des virgules, par exemple '/usr/sbin/qm, /usr/bin/pvesh'",
  },
  dateExpected: { en: 'a date written YYYY-MM-DD', fr: 'une date écrite AAAA-MM-JJ' },
  dateHint: {
    en:
      'the day access ends (no login from that day on, as usermod --expiredate), a real date, ' +
      'for example 2026-12-31',
    fr:
      "le jour où l'accès prend fin (plus de connexion à partir de ce jour, comme usermod --expiredate), " +
      'une date qui existe, par exemple 2026-12-31',
  },
  secretDescriptionExpected: { en: 'a description of the secret', fr: 'une description du secret' },
  secretDescriptionHint: {
    en:
      'say what it is and where it is kept, for example "passphrase of the restic repositories, in the password ' +
      'manager"; never the secret itself',
    fr:
      'dites ce que c\'est et où il est gardé, par exemple "phrase de passe des dépôts restic, dans le ' +
      'gestionnaire de mots de passe" ; jamais le secret lui-même',
  },
  publicKeyExpected: { en: 'an OpenSSH public key line', fr: 'une ligne de clé publique OpenSSH' },
  publicKeyHint: (types: string) => ({
    en: `one whole line of a .pub file: the type (${types}), the base64 key, then an optional comment`,
    fr: `une ligne entière d'un fichier .pub : le type (${types}), la clé en base64, puis un commentaire facultatif`,
  }),
  privateKeyPasted: {
    en: 'a private key was pasted here (chaton does not repeat it)',
    fr: 'une clé privée a été collée ici (chaton ne la répète pas)',
  },
  privateKeyPastedHint: {
    en:
      'put the public key instead, the line `ssh-keygen -y -f KEYFILE` prints; the private key is exposed now: ' +
      'take it out of this file and its history, and make a new key pair',
    fr:
      'mettez plutôt la clé publique, la ligne que `ssh-keygen -y -f FICHIER` affiche ; la clé privée ' +
      'est exposée désormais : retirez-la de ce fichier et de son historique, et créez une nouvelle paire de clés',
  },
  publicKeysExpected: { en: 'a list of SSH public keys', fr: 'une liste de clés publiques SSH' },
  publicKeysHint: {
    en: 'the lines of their .pub files, for example keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5... camille@laptop"]',
    fr: 'les lignes de ses fichiers .pub, par exemple keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5... camille@portable"]',
  },
  publicKeysEmpty: {
    en: 'must be a list of SSH public keys, got an empty list',
    fr: 'doit être une liste de clés publiques SSH, et non une liste vide',
  },
  groupsExpected: { en: 'a list of Unix group names', fr: 'une liste de noms de groupes Unix' },
  groupsHint: { en: 'for example groups: [adm, backup]', fr: 'par exemple groups: [adm, backup]' },
  sysadminsExpected: { en: 'a list of sysadmins', fr: 'une liste de sysadmins' },
  sysadminsHint: {
    en: 'one mapping per sysadmin, each starting with "- login:"; see the sysadmins: section of inventory.example.yaml',
    fr:
      'une table par sysadmin, chacune commençant par "- login:" ; ' +
      'voyez la section sysadmins: de inventory.example.yaml',
  },
  addLogin: {
    en: 'add `login:` with the Unix user name to create for them',
    fr: "ajoutez `login:` avec le nom d'utilisateur Unix à créer pour cette personne",
  },
  addKeys: {
    en: 'add `keys:` with their SSH public keys, the lines of their .pub files',
    fr: 'ajoutez `keys:` avec ses clés publiques SSH, les lignes de ses fichiers .pub',
  },
  loginTwice: (login: string, line: number) => ({
    en: `${login} is already the login of the sysadmin on line ${line}`,
    fr: `${login} est déjà le nom de compte du sysadmin de la ligne ${line}`,
  }),
  loginTwiceHint: {
    en: 'list each sysadmin once, with all their keys',
    fr: 'listez chaque sysadmin une seule fois, avec toutes ses clés',
  },
  sudoCommandsWithoutSudo: {
    en: 'sudo_commands needs sudo: true',
    fr: 'sudo_commands demande sudo: true',
  },
  sudoCommandsWithoutSudoHint: {
    en: 'add `sudo: true`, or remove sudo_commands',
    fr: 'ajoutez `sudo: true`, ou retirez sudo_commands',
  },
  secretsExpected: {
    en: 'a mapping of secret names to what each secret is',
    fr: 'une table qui associe à chaque nom de secret sa description',
  },
  secretsHint: {
    en: 'for example restic-passphrase: passphrase of the restic repositories, in the password manager',
    fr: 'par exemple restic-passphrase: phrase de passe des dépôts restic, dans le gestionnaire de mots de passe',
  },
});
