// The messages of the connection layer, in English and French (see ../run/catalogue.ts): its
// errors and hints, its notices, the -vv lines telling how a connection is made, and the local
// checks of `chaton doctor`. Not here, because a program reads them: the host key as JSON and
// ConnectionInfo give it (describeKey), the names and statuses of doctor's checks in JSON.
import { both, catalogue } from '../run/catalogue.js';

/** "1 key", "3 keys": French keeps the singular for 0 as for 1. */
function counted(n: number, en: [string, string], fr: [string, string]) {
  return { en: `${n} ${n === 1 ? en[0] : en[1]}`, fr: `${n} ${n > 1 ? fr[1] : fr[0]}` };
}

/** A decimal number as French writes it: 2,5. */
const decimalComma = (n: number) => String(n).replace('.', ',');

export const messages = catalogue({
  // Names and lists (endpoint.ts).
  whereVia: (where: string, route: string) => both(`${where} via ${route}`),
  direct: both('direct'),
  andMore: (names: string, more: number) => ({ en: `${names} and ${more} more`, fr: `${names} et ${more} autres` }),
  orSeparator: { en: ' or ', fr: ' ou ' },
  semicolonSeparator: { en: '; ', fr: ' ; ' },
  /** A message about something, named first: a host, a file. */
  about: (subject: string, text: string) => ({ en: `${subject}: ${text}`, fr: `${subject} : ${text}` }),

  // Connections (pool.ts).
  notStarted: (host: string) => ({
    en: `${host}: not started: interrupted`,
    fr: `${host} : pas commencé : interrompu`,
  }),
  cannotOpenSession: (where: string, reason: string) => ({
    en: `${where}: cannot open a session: ${reason}`,
    fr: `${where} : impossible d'ouvrir une session : ${reason}`,
  }),
  maxSessionsHint: (maxSessions: number) => ({
    en: `sshd's MaxSessions may be lower than ssh.max_sessions (${maxSessions}): lower it in the inventory`,
    fr:
      `le MaxSessions de sshd est peut-être inférieur à ssh.max_sessions (${maxSessions}) : ` +
      `réduisez ssh.max_sessions dans l'inventaire`,
  }),
  sshdLogSaysWhy: (host: string) => ({
    en: `the log of sshd on ${host} says why`,
    fr: `consultez le journal de sshd sur ${host} pour savoir pourquoi`,
  }),
  jumpCannotReach: (jump: string, where: string, reason: string) => ({
    en: `${jump} could not reach ${where}: ${reason}`,
    fr: `${jump} n'a pas pu joindre ${where} : ${reason}`,
  }),
  jumpConnectionGone: (jump: string, reason: string) => ({
    en: `the connection to ${jump} is gone (${reason})`,
    fr: `la connexion à ${jump} est perdue (${reason})`,
  }),
  checkSshdListens: (host: string, port: number) => ({
    en: `check that ${host} is up and that sshd listens on port ${port}`,
    fr: `vérifiez que ${host} est en marche et que sshd écoute sur le port ${port}`,
  }),
  closedByPeer: { en: 'closed by the other end', fr: "fermée par l'autre bout" },
  noSessionAnswer: (seconds: number) => ({
    en: `no answer to a session request in ${seconds} s: the connection is dead`,
    fr: `pas de réponse à une demande de session en ${seconds} s : la connexion est morte`,
  }),
  connectionLost: (where: string, reason: string) => ({
    en: `${where}: connection lost: ${reason}`,
    fr: `${where} : connexion perdue : ${reason}`,
  }),
  connectionLostHint: (host: string) => ({
    en: `check the network path to ${host}; rerun when it answers again`,
    fr: `vérifiez le chemin réseau jusqu'à ${host} ; relancez quand il répondra de nouveau`,
  }),
  unencryptedCopyHint: {
    en: 'give an unencrypted copy, mode 600',
    fr: 'donnez-en une copie non chiffrée, en mode 600',
  },
  noKeyToOffer: (names: string, why: string) => ({
    en: `no SSH key to offer to ${names}: ${why}`,
    fr: `aucune clé SSH à présenter à ${names} : ${why}`,
  }),
  doctorChecksAllThis: (hint: string) => ({
    en: `${hint}; chaton doctor checks all this`,
    fr: `${hint} ; chaton doctor vérifie tout cela`,
  }),
  knownHostsLineIgnored: (file: string, line: number, problem: string) => ({
    en: `${file}:${line}: ${problem} (line ignored)`,
    fr: `${file}:${line} : ${problem} (ligne ignorée)`,
  }),
  closedDuringHandshake: (where: string) => ({
    en: `${where}: the connection closed during the SSH handshake`,
    fr: `${where} : la connexion s'est fermée pendant la négociation SSH`,
  }),
  keysRefused: (where: string, user: string, offered: string) => ({
    en: `${where}: sshd refused every key offered for user ${user} (${offered})`,
    fr: `${where} : sshd a refusé toutes les clés présentées pour le compte ${user} (${offered})`,
  }),
  keyAskedAbout: { en: 'the key asked about', fr: 'la clé demandée' },
  installKeyHint: (user: string, host: string) => ({
    en: `install your public key in ~${user}/.ssh/authorized_keys on ${host}, or fix ssh.identity_files`,
    fr: `installez votre clé publique dans ~${user}/.ssh/authorized_keys sur ${host}, ou corrigez ssh.identity_files`,
  }),
  noAnswer: (seconds: number) => ({
    en: `no answer within ${seconds} s`,
    fr: `pas de réponse en ${decimalComma(seconds)} s`,
  }),
  noAnswerThrough: (jump: string, seconds: number) => ({
    en: `no answer through ${jump} within ${seconds} s`,
    fr: `pas de réponse via ${jump} en ${decimalComma(seconds)} s`,
  }),
  noAnswerHint: (host: string) => ({
    en: `check that ${host} is up and its address is right, or raise ssh.connect_timeout`,
    fr: `vérifiez que ${host} est en marche et que son adresse est juste, ou augmentez ssh.connect_timeout`,
  }),
  noAddressAnswered: (host: string, tried: string) => ({
    en: `${host}: none of its addresses answered: ${tried}`,
    fr: `${host} : aucune de ses adresses n'a répondu : ${tried}`,
  }),
  noAddressAnsweredHint: (host: string) => ({
    en: `check that ${host} is up and that one of its links works, or raise ssh.connect_timeout`,
    fr: `vérifiez que ${host} est en marche et que l'un de ses liens fonctionne, ou augmentez ssh.connect_timeout`,
  }),
  connectionRefused: { en: 'connection refused (is sshd running?)', fr: 'connexion refusée (sshd tourne-t-il ?)' },
  checkAddressHint: (host: string) => ({
    en: `check the address and port of ${host} in the inventory`,
    fr: `vérifiez l'adresse et le port de ${host} dans l'inventaire`,
  }),

  // -vv: how a connection is made, one event a line (pool.ts, host-keys.ts).
  reachedDirect: (duration: string) => ({
    en: `reached: TCP connection in ${duration}`,
    fr: `atteint : connexion TCP en ${duration}`,
  }),
  reachedThrough: (jump: string, duration: string) => ({
    en: `reached: forwarded by ${jump} in ${duration}`,
    fr: `atteint : relayé par ${jump} en ${duration}`,
  }),
  handshake: (kex: string, hostKeyAlgorithm: string, cipher: string, duration: string) => ({
    en: `key exchange ${kex}, host key algorithm ${hostKeyAlgorithm}, cipher ${cipher}: handshake in ${duration}`,
    fr:
      `échange de clés ${kex}, algorithme de clé d'hôte ${hostKeyAlgorithm}, chiffrement ${cipher} : ` +
      `négociation en ${duration}`,
  }),
  addressLeft: (reason: string, next: string) => ({
    en: `left: ${reason}; trying ${next} next`,
    fr: `abandonnée : ${reason} ; essai suivant : ${next}`,
  }),
  lastAddressLeft: (reason: string) => ({
    en: `left: ${reason}; no address left to try`,
    fr: `abandonnée : ${reason} ; plus aucune adresse à essayer`,
  }),
  hostKeyTrusted: (key: string, why: string) => ({
    en: `host key ${key} ${why}`,
    fr: `clé d'hôte présentée : ${key}, ${why}`,
  }),
  matchesLine: (location: string) => ({ en: `matches ${location}`, fr: `trouvée dans ${location}` }),
  addedAsNew: (file: string) => ({
    en: `was unknown: added to ${file}`,
    fr: `inconnue jusqu'ici : ajoutée à ${file}`,
  }),
  hostKeyRefused: (reason: string) => ({ en: `host key refused: ${reason}`, fr: `clé d'hôte refusée : ${reason}` }),
  offering: (offered: string, user: string) => ({
    en: `offering ${offered} for user ${user}`,
    fr: `essai pour le compte ${user} avec ${offered}`,
  }),
  accepted: (offered: string, authenticated: string, connected: string) => ({
    en: `accepted ${offered}: authenticated in ${authenticated}, connected in ${connected}`,
    fr: `accepté avec ${offered} : authentifié en ${authenticated}, connecté en ${connected}`,
  }),
  agentKeys: (agent: string) => ({ en: `the keys of ${agent}`, fr: `les clés de ${agent}` }),
  publicKeyAskedAbout: { en: 'the public key asked about', fr: 'la clé publique demandée' },
  someKey: { en: 'a key', fr: 'une clé' },

  // Identities (identities.ts).
  noIdentityFile: (files: string, agentWhy: string) => ({
    en: `no identity file could be used (ssh.identity_files: ${files}) and ${agentWhy}`,
    fr: `aucun fichier d'identité n'a pu servir (ssh.identity_files : ${files}) et ${agentWhy}`,
  }),
  noFiles: { en: 'none', fr: 'aucun' },
  agentOff: { en: 'ssh.agent is false', fr: 'ssh.agent vaut false' },
  agentAt: (socket: string) => ({ en: `the ssh-agent at ${socket}`, fr: `l'agent SSH de ${socket}` }),
  agentHoldsNoKey: (agent: string) => ({ en: `${agent} holds no key`, fr: `${agent} ne contient aucune clé` }),
  noKeyHint: {
    en:
      'create a key (ssh-keygen -t ed25519) or list yours in ssh.identity_files, ' +
      'or ssh-add one to a running ssh-agent',
    fr:
      'créez une clé (ssh-keygen -t ed25519) ou indiquez les vôtres dans ssh.identity_files, ' +
      'ou ajoutez-en une à un agent SSH en marche avec ssh-add',
  },
  agentKeysOffered: { en: 'the ssh-agent keys', fr: "les clés de l'agent SSH" },
  noKeyAtAll: { en: 'no key at all', fr: 'aucune clé' },
  noAgent: {
    en: 'no ssh-agent runs (SSH_AUTH_SOCK is not set)',
    fr: "aucun agent SSH ne tourne (SSH_AUTH_SOCK n'est pas défini)",
  },
  notASocket: { en: 'not a socket', fr: "ce n'est pas une socket" },
  noSuchSocket: { en: 'no such socket', fr: 'socket inexistante' },
  agentUnreachable: (agent: string, why: string) => ({
    en: `${agent} cannot be reached (${why})`,
    fr: `${agent} est injoignable (${why})`,
  }),
  agentSilent: (agent: string) => ({ en: `${agent} does not answer`, fr: `${agent} ne répond pas` }),
  unprotectedKey: (file: string, mode: string) => ({
    en: `${file} has permissions ${mode}: others can read this private key, and ssh refuses such a key`,
    fr: `${file} a les droits ${mode} : d'autres peuvent lire cette clé privée, et ssh refuse une telle clé`,
  }),
  identityFile: (problem: string) => ({ en: `identity file ${problem}`, fr: `fichier d'identité ${problem}` }),
  fixIdentityFiles: {
    en: 'fix ssh.identity_files in the inventory',
    fr: "corrigez ssh.identity_files dans l'inventaire",
  },
  chmodHint: (file: string) => ({
    en: `chmod 600 ${file} (and make a new key if others may have copied it)`,
    fr: `chmod 600 ${file} (et créez une nouvelle clé si d'autres ont pu la copier)`,
  }),
  skipped: (why: string) => ({ en: `${why}: skipped`, fr: `${why} : ignoré` }),
  encryptedNoPassphrase: (file: string) => ({
    en: `${file} is encrypted and no passphrase is available`,
    fr: `${file} est chiffré et aucune phrase de passe n'est disponible`,
  }),
  setVariable: (name: string) => ({ en: `set ${name}`, fr: `définissez ${name}` }),
  cannotUseIdentityFile: (file: string, reason: string) => ({
    en: `cannot use identity file ${file}: ${reason}`,
    fr: `impossible d'utiliser le fichier d'identité ${file} : ${reason}`,
  }),
  giveOpenSshKey: {
    en: 'give an OpenSSH private key in ssh.identity_files',
    fr: 'indiquez une clé privée OpenSSH dans ssh.identity_files',
  },

  // known_hosts (known-hosts.ts): the lines ssh would skip, and why.
  unknownMarker: (marker: string) => ({ en: `unknown marker ${marker}`, fr: `marqueur inconnu ${marker}` }),
  oneMarkerOnly: { en: 'only one marker is allowed', fr: 'un seul marqueur est permis' },
  noKeyType: { en: 'no key type after the host names', fr: "pas de type de clé après les noms d'hôte" },
  malformedHashedHost: { en: 'malformed hashed host name', fr: "nom d'hôte haché malformé" },
  unsupportedKeyType: (type: string) => ({
    en: `unsupported key type ${type}`,
    fr: `type de clé non pris en charge ${type}`,
  }),
  noKeyAfterType: { en: 'no key after the key type', fr: 'pas de clé après le type de clé' },
  notBase64: { en: 'the key is not valid base64', fr: "la clé n'est pas du base64 valide" },
  keyCutShort: { en: 'the key is cut short', fr: 'la clé est tronquée' },
  keyNotOfType: (type: string) => ({ en: `the key is not of type ${type}`, fr: `la clé n'est pas de type ${type}` }),
  malformedKey: (type: string) => ({ en: `malformed ${type} key`, fr: `clé ${type} malformée` }),
  notAKeyBlob: { en: 'not an SSH public key blob', fr: "ce n'est pas une clé publique SSH" },

  // known_hosts: reading, recording, and the key as messages name it.
  keyPhrase: (type: string, fingerprint: string) => ({
    en: `${type} key ${fingerprint}`,
    fr: `clé ${type} ${fingerprint}`,
  }),
  cannotReadKnownHosts: (file: string, reason: string) => ({
    en: `cannot read known_hosts file ${file} (${reason})`,
    fr: `impossible de lire le fichier known_hosts ${file} (${reason})`,
  }),
  cannotWriteKnownHosts: (file: string, reason: string) => ({
    en: `cannot write known_hosts file ${file} (${reason})`,
    fr: `impossible d'écrire le fichier known_hosts ${file} (${reason})`,
  }),
  makeItReadable: {
    en: 'make it a file chaton can read: host keys are checked against it',
    fr: "faites-en un fichier que chaton peut lire : les clés d'hôte sont vérifiées d'après lui",
  },
  makeItWritable: {
    en: 'make it a file chaton can write: host keys are checked against it',
    fr: "faites-en un fichier où chaton peut écrire : les clés d'hôte sont vérifiées d'après lui",
  },
  markedRevoked: (location: string) => ({
    en: `it is marked @revoked in ${location}`,
    fr: `elle est marquée @revoked dans ${location}`,
  }),
  keyChanged: (known: string) => ({
    en: `the host key has changed (known: ${known})`,
    fr: `la clé d'hôte a changé (connues : ${known})`,
  }),
  keyIn: (key: string, location: string) => ({ en: `${key} in ${location}`, fr: `${key} dans ${location}` }),
  notRecording: (name: string, key: string, reason: string) => ({
    en: `${name}: not recording ${key}: ${reason}`,
    fr: `${name} : la ${key} n'est pas enregistrée : ${reason}`,
  }),
  noKnownHostsFile: (name: string) => ({
    en: `${name}: no known_hosts file to record its key in`,
    fr: `${name} : aucun fichier known_hosts où enregistrer sa clé`,
  }),
  notPlainHostName: { en: 'not a plain host name', fr: "pas un simple nom d'hôte" },
  emptyLine: { en: 'empty line', fr: 'ligne vide' },
  notAHostPublicKey: (problem: string) => ({
    en: `not an SSH host public key line (type, base64 key, optional comment): ${problem}`,
    fr: `pas une ligne de clé publique d'hôte SSH (type, clé en base64, commentaire facultatif) : ${problem}`,
  }),
  keyLinesFound: (count: number) => ({
    en: `${count} key lines where one was expected`,
    fr: `${count} lignes de clé au lieu d'une`,
  }),
  cannotRecord: (name: string, key: string, problem: string) => ({
    en: `${name}: cannot record ${key} in known_hosts: ${problem}`,
    fr: `${name} : impossible d'enregistrer la ${key} dans known_hosts : ${problem}`,
  }),

  // The host-key decision (host-keys.ts).
  offeredRevoked: (where: string, key: string, location: string) => ({
    en: `${where} offered ${key}, which is marked @revoked in ${location}`,
    fr: `${where} a présenté la ${key}, marquée @revoked dans ${location}`,
  }),
  revokedHint: {
    en: 'do not connect until the host has a new key; check it on the console',
    fr: "ne vous connectez pas tant que l'hôte n'a pas de nouvelle clé ; vérifiez-la sur sa console",
  },
  hostKeyChanged: (where: string, key: string, known: string) => ({
    en:
      `HOST KEY CHANGED for ${where}: it offered ${key}, but known_hosts has ${known}. ` +
      'Someone may be intercepting the connection, or the host was reinstalled.',
    fr:
      `CLÉ D'HÔTE CHANGÉE pour ${where} : il a présenté la ${key}, mais known_hosts contient : ${known}. ` +
      "Quelqu'un intercepte peut-être la connexion, ou l'hôte a été réinstallé.",
  }),
  hostKeyChangedHint: (removeOld: string) => ({
    en:
      "check the key on the host's console (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub); " +
      `if it is right, remove the old one: ${removeOld}`,
    fr:
      "vérifiez la clé sur la console de l'hôte (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) ; " +
      `si elle est juste, retirez l'ancienne : ${removeOld}`,
  }),
  keyKnownAt: (address: string, key: string, location: string) => ({
    en: `${key} at ${address} (${location})`,
    fr: `la ${key} à ${address} (${location})`,
  }),
  addressesDisagree: (host: string, first: string, second: string) => ({
    en:
      `known_hosts gives the addresses of ${host} different keys: ${first}, but ${second}. ` +
      'The inventory says they lead to one machine.',
    fr:
      `known_hosts donne des clés différentes aux adresses de ${host} : ${first}, mais ${second}. ` +
      "L'inventaire dit qu'elles mènent à une seule machine.",
  }),
  addressesDisagreeHint: (host: string) => ({
    en:
      `check the key on the console of ${host} (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and remove the ` +
      'wrong line; or, if one address now leads to another machine, take it out of the inventory',
    fr:
      `vérifiez la clé sur la console de ${host} (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) et retirez ` +
      "la ligne fausse ; ou, si l'une des adresses mène maintenant à une autre machine, retirez-la de l'inventaire",
  }),
  keyAdded: (key: string, where: string, file: string) => ({
    en: `added ${key} of ${where} to ${file}`,
    fr: `${key} de ${where} ajoutée à ${file}`,
  }),
  offeredUnknown: (where: string, key: string, files: string) => ({
    en: `${where} offered ${key}, which is not in ${files}`,
    fr: `${where} a présenté la ${key}, absente de ${files}`,
  }),
  unknownHint: {
    en:
      "compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on its console), " +
      'then rerun with --accept-new',
    fr:
      "comparez-la avec celle de l'hôte (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub sur sa console), " +
      'puis relancez avec --accept-new',
  },

  // A newcomer's ssh config (client-config.ts).
  otherAddresses: (addresses: string, host: string) => ({
    en: `also at ${addresses}: ssh -o HostName=<address> ${host}, when the one above does not answer`,
    fr: `aussi à ${addresses} : ssh -o HostName=<adresse> ${host}, quand celle ci-dessus ne répond pas`,
  }),

  // `chaton doctor`'s local checks (doctor.ts): their titles in the human view, findings, hints.
  checkIdentityFile: { en: 'identity file', fr: "fichier d'identité" },
  checkAgent: { en: 'ssh-agent', fr: 'agent SSH' },
  checkKeys: { en: 'keys', fr: 'clés' },
  checkKnownHostsFile: { en: 'known_hosts file', fr: 'fichier known_hosts' },
  checkHostKey: { en: 'host key', fr: "clé d'hôte" },
  checkHostKeys: { en: 'host keys', fr: "clés d'hôte" },
  checkReach: { en: 'reach', fr: 'connexion' },
  keyOfType: (type: string) => ({ en: `${type} key`, fr: `clé ${type}` }),
  keyCount: (n: number) => counted(n, ['key', 'keys'], ['clé', 'clés']),
  noAgentRunning: { en: 'none running: identity files only', fr: "aucun en marche : fichiers d'identité seulement" },
  startAgentHint: {
    en: 'start one (eval "$(ssh-agent)"; ssh-add), or unset SSH_AUTH_SOCK',
    fr:
      'lancez-en un (eval "$(ssh-agent)"; ssh-add), ' +
      "ou retirez SSH_AUTH_SOCK de l'environnement (unset SSH_AUTH_SOCK)",
  },
  itHoldsNoKey: { en: 'it holds no key', fr: 'il ne contient aucune clé' },
  sshAddHint: { en: 'ssh-add your key', fr: 'ajoutez votre clé avec ssh-add' },
  everyMachine: { en: 'every machine', fr: 'toutes les machines' },
  everyHost: { en: 'every host', fr: 'tous les hôtes' },
  keyForEach: { en: 'a key for each', fr: 'une clé pour chacune' },
  noKeyToOfferDetail: (why: string) => ({ en: `no key to offer: ${why}`, fr: `aucune clé à présenter : ${why}` }),
  recordHostKeysHint: {
    en: 'record the host keys (see the host key checks below)',
    fr: "enregistrez les clés d'hôte (voyez les vérifications des clés d'hôte plus bas)",
  },
  missingWithEveryOther: {
    en: 'does not exist, nor any other of the list',
    fr: "n'existe pas, ni aucun autre de la liste",
  },
  missingCountsAsEmpty: { en: 'does not exist (counts as empty)', fr: "n'existe pas (compte comme vide)" },
  linesIgnored: (count: number, location: string, problem: string) => ({
    en: `${count} line(s) ssh ignores, e.g. ${location}: ${problem}`,
    fr: `${count} ligne(s) que ssh ignore, par exemple ${location} : ${problem}`,
  }),
  fixLinesHint: { en: 'fix or remove those lines', fr: 'corrigez ou supprimez ces lignes' },
  acceptNewHint: (names: string) => ({
    en: `check the fingerprint with whoever runs it, then: chaton --accept-new hosts check ${names}`,
    fr: `vérifiez l'empreinte auprès de qui l'administre, puis : chaton --accept-new hosts check ${names}`,
  }),
  recordedFor: (name: string) => ({ en: `recorded for ${name}`, fr: `enregistrée pour ${name}` }),
  noneRecorded: (name: string, files: string) => ({
    en: `none recorded for ${name} in ${files}: every run stops there`,
    fr: `aucune enregistrée pour ${name} dans ${files} : toute exécution s'arrête là`,
  }),
  allRecorded: { en: 'all recorded', fr: 'toutes enregistrées' },
  hostsNotRecorded: (count: number, names: string) => ({
    en: `${count} not recorded (${names}): a run fails on them`,
    fr: `${count} sans clé enregistrée (${names}) : une exécution échoue sur eux`,
  }),
  // The keeper of warm connections (keeper/): -v says why a run did not use it, and connects itself.
  keeperDirectoryUnusable: (dir: string, reason: string) => ({
    en: `cannot make the keeper's directory ${dir}: ${reason}`,
    fr: `impossible de créer le répertoire du gardien ${dir} : ${reason}`,
  }),
  keeperPathNotDirectory: (dir: string) => ({
    en: `${dir} is not a directory: no keeper is used`,
    fr: `${dir} n'est pas un répertoire : aucun gardien n'est utilisé`,
  }),
  keeperPathNotOurs: (file: string, uid: string) => ({
    en: `${file} belongs to uid ${uid}, not to this user: no keeper is used`,
    fr: `${file} appartient à l'uid ${uid}, pas à cet utilisateur : aucun gardien n'est utilisé`,
  }),
  keeperPathOpen: (dir: string, mode: string) => ({
    en: `${dir} has mode ${mode}: others may enter it, no keeper is used (chmod 700 ${dir})`,
    fr: `${dir} a le mode ${mode} : d'autres peuvent y entrer, aucun gardien n'est utilisé (chmod 700 ${dir})`,
  }),
  keeperPathHint: (dir: string) => ({
    en: `remove ${dir} if nobody else's, or set XDG_RUNTIME_DIR to a directory of yours`,
    fr: `supprimez ${dir} s'il n'est à personne d'autre, ou donnez à XDG_RUNTIME_DIR un répertoire à vous`,
  }),
  keeperNotUsed: (reason: string) => ({
    en: `connections kept: no keeper (${reason}); this run connects itself`,
    fr: `connexions gardées : pas de gardien (${reason}) ; cette exécution se connecte elle-même`,
  }),
  keeperStale: (socket: string, reason: string) => ({
    en: `the keeper at ${socket} does not answer (${reason}): its socket is removed, a new keeper starts`,
    fr: `le gardien de ${socket} ne répond pas (${reason}) : sa socket est supprimée, un nouveau gardien démarre`,
  }),
  keeperGone: (reason: string) => ({
    en: `the keeper went away (${reason}); this run connects itself`,
    fr: `le gardien est parti (${reason}) ; cette exécution se connecte elle-même`,
  }),
  keeperOtherVersion: (protocol: string) => ({
    en: `it speaks ${protocol}, another version of chaton`,
    fr: `il parle ${protocol}, une autre version de chaton`,
  }),
  keeperRetired: {
    en: 'the inventory changed since it started: it retired',
    fr: "l'inventaire a changé depuis son démarrage : il s'est retiré",
  },
  keeperSilent: (seconds: number) => ({
    en: `no answer in ${seconds} s`,
    fr: `pas de réponse en ${decimalComma(seconds)} s`,
  }),
  keeperExited: (code: string) => ({ en: `it exited (${code})`, fr: `il s'est arrêté (${code})` }),
  keeperRunGone: { en: 'the run went away', fr: "l'exécution est partie" },
  keeperNoSuchConnection: {
    en: 'the keeper no longer holds this connection',
    fr: 'le gardien ne tient plus cette connexion',
  },
  keeperClosed: { en: 'the keeper closed the connection', fr: 'le gardien a fermé la connexion' },
  keeperAskedUnknownKey: {
    en: 'the keeper asked to sign with a key this run does not offer',
    fr: "le gardien a demandé une signature avec une clé que cette exécution n'offre pas",
  },
  keptConnectionReused: (since: string) => ({
    en: `kept connection, held since ${since}: host key checked again against known_hosts`,
    fr: `connexion gardée, tenue depuis ${since} : clé d'hôte vérifiée à nouveau dans known_hosts`,
  }),
});
