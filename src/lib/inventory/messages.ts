// The messages of the inventory core, in English and French (see ../run/catalogue.ts): its
// problems and their hints, the kinds of values, finding and writing an inventory, the imports
// and the comments they write. The `file:line:col:` before a problem is the same in both; YAML
// keys, flags, commands and the values quoted from a file are never translated. A domain's own
// sections say their problems in the domain's catalogue.
import { catalogue } from '../run/catalogue.js';

export const messages = catalogue({
  // ---------------------------------------------------------------------------------------------
  // Problems, as the reader reports them (reader.ts)

  /** After the YAML path of a problem, before its message. */
  atPath: (problemPath: string) => ({ en: `${problemPath}: `, fr: `${problemPath} : ` }),
  fixProblems: (count: number, exampleFile: string) => ({
    en: `fix ${count === 1 ? 'this problem' : `these ${count} problems`}; ${exampleFile} documents every key`,
    fr: `corrigez ${count === 1 ? 'ce problème' : `ces ${count} problèmes`} ; ${exampleFile} documente chaque clé`,
  }),
  severalDocuments: {
    en: 'the file holds more than one YAML document',
    fr: "le fichier contient plus d'un document YAML",
  },
  severalDocumentsHint: {
    en: 'remove the `---` line: chaton reads a single document',
    fr: "supprimez la ligne `---` : chaton ne lit qu'un seul document",
  },
  /** `error` is the yaml package's own description, in English. */
  yamlSyntax: (error: string) => ({ en: `YAML syntax: ${error}`, fr: `syntaxe YAML : ${error}` }),
  yamlSyntaxHint: {
    en: 'check the indentation (spaces, not tabs), colons and quotes here',
    fr: "vérifiez ici l'indentation (des espaces, pas de tabulations), les deux-points et les guillemets",
  },
  aliasWithoutAnchor: (name: string) => ({
    en: `the alias *${name} has no anchor &${name} before it`,
    fr: `l'alias *${name} n'a pas d'ancre &${name} avant lui`,
  }),
  aliasWithoutAnchorHint: (name: string) => ({
    en: `mark the value to repeat with &${name} before this alias, or write the value here`,
    fr: `marquez la valeur à répéter avec &${name} avant cet alias, ou écrivez la valeur ici`,
  }),
  tooManyAliasedValues: (name: string, limit: number) => ({
    en: `*${name} here has chaton read more than ${limit} values again through aliases`,
    fr: `*${name} ici fait relire à chaton plus de ${limit} valeurs à travers des alias`,
  }),
  tooManyAliasedValuesHint: {
    en: 'is this really an inventory? write repeated values out, or alias fewer of them',
    fr: "est-ce vraiment un inventaire ? écrivez les valeurs répétées en entier, ou utilisez moins d'alias",
  },
  // How a value looks in the file, after "got".
  gotNothing: { en: 'nothing', fr: 'rien' },
  gotPrivateKey: { en: 'a private key (not shown)', fr: 'une clé privée (non affichée)' },
  gotMapping: { en: 'a mapping', fr: 'un dictionnaire' },
  gotList: { en: 'a list', fr: 'une liste' },
  gotEmptyList: { en: 'an empty list', fr: 'une liste vide' },
  gotSomethingElse: { en: 'something else', fr: 'autre chose' },
  mustBe: (expected: string, got: string) => ({
    en: `must be ${expected}, got ${got}`,
    fr: `doit être ${expected}, trouvé : ${got}`,
  }),
  keyNotPlainName: (got: string) => ({
    en: `a key must be a plain name, got ${got}`,
    fr: `une clé doit être un simple nom, trouvé : ${got}`,
  }),
  keyWrittenTwice: (firstLine: number) => ({
    en: `is written twice (first on line ${firstLine})`,
    fr: `est écrite deux fois (la première à la ligne ${firstLine})`,
  }),
  keyWrittenTwiceHint: {
    en: 'keep one of them: YAML would silently use only one',
    fr: "gardez-en une seule : YAML n'en utiliserait qu'une, sans rien dire",
  },
  aMapping: { en: 'a mapping (key: value lines)', fr: 'un dictionnaire (des lignes clé: valeur)' },
  knownKeys: (keys: string) => ({ en: `known keys here: ${keys}`, fr: `clés connues ici : ${keys}` }),
  /** `shown` is quoted by the caller. */
  didYouMean: (shown: string) => ({ en: `did you mean ${shown}?`, fr: `vouliez-vous dire ${shown} ?` }),
  /** `shown` is quoted by the caller. */
  notAHost: (shown: string) => ({
    en: `${shown} is not a host of the inventory`,
    fr: `${shown} n'est pas un hôte de l'inventaire`,
  }),
  unknownKey: (shown: string) => ({ en: `unknown key ${shown}`, fr: `clé inconnue ${shown}` }),
  missingKey: (key: string) => ({ en: `has no ${key}`, fr: `il manque la clé ${key}` }),
  forExample: (example: string) => ({ en: `for example ${example}`, fr: `par exemple ${example}` }),

  // ---------------------------------------------------------------------------------------------
  // Kinds of values (kinds.ts): `expected` completes "must be ...", the hint gives the rule

  nameExpected: { en: 'a valid name', fr: 'un nom valide' },
  nameHint: {
    en: 'use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 63 characters',
    fr:
      'utilisez des lettres, des chiffres, ".", "_" et "-", en commençant par une lettre ou un chiffre, ' +
      '63 caractères au plus',
  },
  storageIdExpected: { en: 'a Proxmox storage id', fr: 'un identifiant de stockage Proxmox' },
  storageIdHint: {
    en: 'a storage of /etc/pve/storage.cfg, as `pvesm status` shows it (for example local-lvm or local)',
    fr: 'un stockage de /etc/pve/storage.cfg, tel que `pvesm status` le montre (par exemple local-lvm ou local)',
  },
  unixUserExpected: { en: 'a Unix user name', fr: "un nom d'utilisateur Unix" },
  unixGroupExpected: { en: 'a Unix group name', fr: 'un nom de groupe Unix' },
  posixNameHint: {
    en:
      'use lowercase letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters: ' +
      'no dots, no capitals',
    fr:
      'utilisez des lettres minuscules, des chiffres, "_" et "-", en commençant par une lettre ou "_", ' +
      '32 caractères au plus : ni point, ni majuscule',
  },
  addressExpected: { en: 'an IP address or a DNS name', fr: 'une adresse IP ou un nom DNS' },
  addressHint: {
    en: 'for example 10.0.0.11, 2001:db8::11 or pve1.example.org',
    fr: 'par exemple 10.0.0.11, 2001:db8::11 ou pve1.example.org',
  },
  ipv4Expected: { en: 'an IPv4 address', fr: 'une adresse IPv4' },
  ipv4Hint: {
    en: 'four numbers from 0 to 255 with dots, e.g. 198.51.100.1',
    fr: 'quatre nombres de 0 à 255 séparés par des points, par ex. 198.51.100.1',
  },
  addressesExpected: {
    en: 'an IP address or a DNS name, or a list of them',
    fr: 'une adresse IP ou un nom DNS, ou une liste de ceux-ci',
  },
  addressesHint: {
    en: 'for example 10.0.0.11, or [198.51.100.7, 203.0.113.10] for one address per internet link, tried in order',
    fr:
      'par exemple 10.0.0.11, ou [198.51.100.7, 203.0.113.10] pour une adresse par lien internet, ' +
      'essayées dans cet ordre',
  },
  portExpected: { en: 'a port number from 1 to 65535', fr: 'un numéro de port de 1 à 65535' },
  portHint: {
    en: 'the port sshd listens on, usually 22, written without quotes',
    fr: 'le port où écoute sshd, en général 22, écrit sans guillemets',
  },
  becomeExpected: { en: '"sudo" or "none"', fr: '"sudo" ou "none"' },
  becomeHint: {
    en: '"sudo" runs commands through `sudo -n` when the user is not root',
    fr: '"sudo" lance les commandes par `sudo -n` quand l\'utilisateur n\'est pas root',
  },
  booleanExpected: { en: 'true or false', fr: 'true ou false' },
  booleanHint: { en: 'write true or false without quotes', fr: 'écrivez true ou false sans guillemets' },
  envVarNameExpected: { en: 'the name of an environment variable', fr: "le nom d'une variable d'environnement" },
  envVarNameHint: {
    en: 'use letters, digits and "_", not starting with a digit, e.g. CHATON_KEY_PASSPHRASE',
    fr: 'utilisez des lettres, des chiffres et "_", sans commencer par un chiffre, par exemple CHATON_KEY_PASSPHRASE',
  },
  filePathExpected: { en: 'a file path', fr: 'un chemin de fichier' },
  filePathHint: {
    en:
      '"~/" starts from your home directory, other relative paths from the inventory\'s directory; ' +
      'on one line, without control characters',
    fr:
      '"~/" part de votre répertoire personnel, les autres chemins relatifs du répertoire de l\'inventaire ; ' +
      'sur une ligne, sans caractère de contrôle',
  },
  filePathsExpected: {
    en: 'a file path or a list of file paths',
    fr: 'un chemin de fichier ou une liste de chemins de fichiers',
  },
  sysadminAccessExpected: { en: '"shell" or "forwarding"', fr: '"shell" ou "forwarding"' },
  sysadminAccessHint: {
    en: '"forwarding": the sysadmins get no shell on this jump host, only the port forwarding ProxyJump needs',
    fr:
      '"forwarding" : les sysadmins n\'ont pas de shell sur ce rebond, seulement la redirection de port ' +
      'dont ProxyJump a besoin',
  },
  secondsHint: {
    en: 'a number of seconds, written without quotes',
    fr: 'un nombre de secondes, écrit sans guillemets',
  },

  // ---------------------------------------------------------------------------------------------
  // The core sections and the checks across them (load.ts)

  inventoryUnreadable: (problem: string) => ({ en: `the inventory ${problem}`, fr: `l'inventaire ${problem}` }),
  inventoryTooLargeHint: {
    en: 'is this really the inventory? check its path; chaton reads it whole, so it refuses a larger file',
    fr:
      "est-ce vraiment l'inventaire ? vérifiez son chemin ; chaton le lit en entier, " +
      'il refuse donc un fichier plus gros',
  },
  inventoryUnreadableHint: {
    en: 'check the path of the inventory, and that you may read it: a regular file',
    fr: "vérifiez le chemin de l'inventaire, et que vous pouvez le lire : un fichier ordinaire",
  },
  secondsAboveZero: { en: 'a number of seconds greater than 0', fr: 'un nombre de secondes supérieur à 0' },
  secondsOrNoLimit: {
    en: 'a number of seconds, 0 or more (0 = no limit)',
    fr: 'un nombre de secondes, 0 ou plus (0 = sans limite)',
  },
  secondsOrOff: {
    en: 'a number of seconds, 0 or more (0 = off)',
    fr: 'un nombre de secondes, 0 ou plus (0 = désactivé)',
  },
  persistExpected: {
    en: 'a duration from 1s to 1d (such as 90s, 5m or 1h), or off',
    fr: 'une durée de 1s à 1d (comme 90s, 5m ou 1h), ou off',
  },
  persistHint: {
    en: 'how long a background keeper holds the connections after their last use, for the next runs; off: none',
    fr:
      'combien de temps un gardien en arrière-plan garde les connexions après leur dernier usage, pour les ' +
      'exécutions suivantes ; off : aucun',
  },
  keepaliveCountExpected: { en: 'a whole number, 1 or more', fr: 'un nombre entier, 1 ou plus' },
  keepaliveCountHint: {
    en: 'unanswered keepalives before giving up, usually 3',
    fr: "keepalives restés sans réponse avant d'abandonner, en général 3",
  },
  maxSessionsExpected: { en: 'a whole number from 1 to 64', fr: 'un nombre entier de 1 à 64' },
  maxSessionsHint: {
    en: "at most sshd's MaxSessions, which is 10 unless changed",
    fr: 'au plus le MaxSessions de sshd, qui vaut 10 sauf réglage contraire',
  },
  roleNamesExpected: { en: 'a list of role names', fr: 'une liste de noms de rôles' },
  addressMissingHint: {
    en: 'add `address:` with its IP address or DNS name',
    fr: 'ajoutez `address:` avec son adresse IP ou son nom DNS',
  },
  reservedName: (name: string) => ({
    en: `"${name}" is reserved: in targets it means every host`,
    fr: `"${name}" est réservé : dans les cibles, il désigne tous les hôtes`,
  }),
  reservedNameHint: { en: 'choose another name', fr: 'choisissez un autre nom' },
  bastionExpected: {
    en: 'a mapping (one jump host) or a list of mappings (a chain of jumps, first reached first)',
    fr:
      'un dictionnaire (un rebond) ou une liste de dictionnaires ' +
      '(une chaîne de rebonds, le premier atteint en premier)',
  },
  bastionHint: (exampleFile: string) => ({
    en: `see the bastion: section of ${exampleFile}`,
    fr: `voyez la section bastion: de ${exampleFile}`,
  }),
  noJumpHost: { en: 'lists no jump host', fr: 'ne contient aucun rebond' },
  noJumpHostHint: {
    en: 'describe at least one, or remove `bastion:`',
    fr: 'décrivez-en au moins un, ou supprimez `bastion:`',
  },
  hostsHint: (exampleFile: string) => ({
    en: `list your machines under \`hosts:\`, as in ${exampleFile}`,
    fr: `listez vos machines sous \`hosts:\`, comme dans ${exampleFile}`,
  }),
  noHostsSection: { en: 'there is no `hosts:` section', fr: "il n'y a pas de section `hosts:`" },
  hostsExpected: {
    en: 'a mapping of host names to their settings',
    fr: "un dictionnaire des noms d'hôtes vers leurs réglages",
  },
  noHost: { en: 'lists no host', fr: 'ne contient aucun hôte' },
  groupsExpected: {
    en: 'a mapping of group names to lists of members',
    fr: 'un dictionnaire des noms de groupes vers des listes de membres',
  },
  groupMembersExpected: { en: 'a list of host or group names', fr: "une liste de noms d'hôtes ou de groupes" },
  groupMembersHint: (group: string) => ({
    en: `for example ${group}: [pve1, pve2]; \`[]\` for an empty group`,
    fr: `par exemple ${group}: [pve1, pve2] ; \`[]\` pour un groupe vide`,
  }),
  // The first of two machines or groups with one name or address, after "the name"/"the address".
  ofTheHost: { en: 'of the host', fr: "de l'hôte" },
  ofTheBastion: { en: 'of the bastion', fr: 'du bastion' },
  ofTheGroup: { en: 'of the group', fr: 'du groupe' },
  nameTaken: (name: string, ofFirst: string, line: number) => ({
    en: `${name} is already the name ${ofFirst} on line ${line}`,
    fr: `${name} est déjà le nom ${ofFirst} à la ligne ${line}`,
  }),
  nameTakenHint: {
    en: 'hosts, groups and bastions share one set of names: rename one of them',
    fr: "hôtes, groupes et bastions partagent un même ensemble de noms : renommez l'un d'eux",
  },
  addressTaken: (address: string, port: number, ofFirst: string, name: string, line: number) => ({
    en: `${address}, port ${port}, is already the address ${ofFirst} ${name} on line ${line}`,
    fr: `${address}, port ${port}, est déjà l'adresse ${ofFirst} ${name} à la ligne ${line}`,
  }),
  addressListedTwice: (line: number) => ({
    en: `this address is already in the list, on line ${line}`,
    fr: `cette adresse est déjà dans la liste, à la ligne ${line}`,
  }),
  addressListedTwiceHint: { en: 'list each address once', fr: "ne citez chaque adresse qu'une fois" },
  addressTakenHint: {
    en: 'list each machine once; two entries may share an address only with different ports',
    fr:
      'listez chaque machine une seule fois ; ' +
      "deux entrées ne peuvent partager une adresse qu'avec des ports différents",
  },
  noBastionToReach: {
    en: 'is reached through the bastion, but the inventory has no bastion',
    fr: "est joint par le bastion, mais l'inventaire n'a pas de bastion",
  },
  noBastionToReachHint: {
    en: 'add a `bastion:` section, or mark the host `direct: true`',
    fr: "ajoutez une section `bastion:`, ou marquez l'hôte `direct: true`",
  },
  memberIsBastion: (name: string) => ({
    en: `${name} is a bastion; groups list hosts and other groups`,
    fr: `${name} est un bastion ; les groupes listent des hôtes et d'autres groupes`,
  }),
  memberIsBastionHint: {
    en: 'target bastions by name or with role:bastion',
    fr: 'ciblez les bastions par leur nom ou avec role:bastion',
  },
  unknownMember: (name: string) => ({
    en: `${name} is not a host or a group`,
    fr: `${name} n'est ni un hôte ni un groupe`,
  }),
  unknownMemberHint: {
    en: 'define it under `hosts:` or `groups:`, or remove it',
    fr: 'définissez-le sous `hosts:` ou `groups:`, ou retirez-le',
  },
  groupCycle: (cycle: string) => ({
    en: `groups contain each other: ${cycle}`,
    fr: `des groupes se contiennent l'un l'autre : ${cycle}`,
  }),
  groupCycleHint: {
    en: 'a group cannot contain itself, directly or through other groups',
    fr: "un groupe ne peut pas se contenir lui-même, ni directement ni par d'autres groupes",
  },
  emptyInventory: { en: 'the inventory is empty', fr: "l'inventaire est vide" },
  emptyInventoryHint: (exampleFile: string) => ({
    en: `describe your machines under \`hosts:\`; ${exampleFile} shows every key`,
    fr: `décrivez vos machines sous \`hosts:\` ; ${exampleFile} montre chaque clé`,
  }),
  sectionNotRead: (key: string) => ({
    en: `the inventory was read without its ${key}: section; is it listed in src/lib/domains.ts?`,
    fr: `l'inventaire a été lu sans sa section ${key}: ; figure-t-elle dans src/lib/domains.ts ?`,
  }),

  // ---------------------------------------------------------------------------------------------
  // Finding the inventory (discover.ts)

  findInventoryHint: (exampleFile: string) => ({
    en: `run \`chaton inventory init\`, pass -i FILE or set CHATON_INVENTORY; see ${exampleFile}`,
    fr: `lancez \`chaton inventory init\`, passez -i FICHIER ou définissez CHATON_INVENTORY ; voyez ${exampleFile}`,
  }),
  noInventoryFound: (cwd: string, userFile: string, systemFile: string) => ({
    en: `no inventory found in ${cwd} or its parent directories, nor ${userFile} nor ${systemFile}`,
    fr:
      `aucun inventaire trouvé dans ${cwd} ni dans ses répertoires parents ; ` +
      `${userFile} et ${systemFile} n'existent pas`,
  }),
  cannotReadInventory: (file: string, givenBy: string, error: string) => ({
    en: `cannot read the inventory ${file} (from ${givenBy}): ${error}`,
    fr: `impossible de lire l'inventaire ${file} (donné par ${givenBy}) : ${error}`,
  }),
  inventoryNotAFile: (file: string, givenBy: string) => ({
    en: `the inventory ${file} (from ${givenBy}) is not a file`,
    fr: `l'inventaire ${file} (donné par ${givenBy}) n'est pas un fichier`,
  }),
  cannotSearchInventory: (error: string) => ({
    en: `cannot search for the inventory: ${error}`,
    fr: `impossible de chercher l'inventaire : ${error}`,
  }),

  // ---------------------------------------------------------------------------------------------
  // Writing a new inventory (init.ts, import-write.ts); the comments are those of the file written

  writtenBy: (source: string) => ({
    en: `Written by \`chaton inventory init\` from ${source}.`,
    fr: `Écrit par \`chaton inventory init\` à partir de ${source}.`,
  }),
  starterReplace: {
    en: "The hosts, groups, sysadmins and secrets below are that example's: replace them with your own.",
    fr: "Les hôtes, groupes, sysadmins et secrets ci-dessous sont ceux de l'exemple : remplacez-les par les vôtres.",
  },
  starterFillIn: {
    en: 'Fill in bastion.address: `chaton inventory check` points at what is left.',
    fr: 'Remplissez bastion.address : `chaton inventory check` montre ce qui reste.',
  },
  exampleWithoutBastionAddress: (exampleFile: string) => ({
    en: `${exampleFile} has no bastion.address`,
    fr: `${exampleFile} n'a pas de bastion.address`,
  }),
  cannotLookAt: (file: string, error: string) => ({
    en: `cannot look at ${file}: ${error}`,
    fr: `impossible d'examiner ${file} : ${error}`,
  }),
  cannotLookAtHint: { en: 'check the path and your rights on it', fr: 'vérifiez le chemin et vos droits dessus' },
  notARegularFile: (file: string) => ({
    en: `${file} exists and is not a regular file`,
    fr: `${file} existe et n'est pas un fichier ordinaire`,
  }),
  notARegularFileHint: { en: 'choose another file with --file', fr: 'choisissez un autre fichier avec --file' },
  notOverwritten: (file: string) => ({ en: `${file} exists: not overwritten`, fr: `${file} existe : non écrasé` }),
  notOverwrittenHint: {
    en: 'pass --force to replace it, or --file to write elsewhere',
    fr: 'passez --force pour le remplacer, ou --file pour écrire ailleurs',
  },
  cannotWrite: (file: string, error: string) => ({
    en: `cannot write ${file}: ${error}`,
    fr: `impossible d'écrire ${file} : ${error}`,
  }),
  cannotWriteHint: {
    en: 'check that its directory exists and that you may write there',
    fr: 'vérifiez que son répertoire existe et que vous pouvez y écrire',
  },
  guessedToCheck: {
    en: 'Guessed, to check: the comments say where. `chaton inventory check` says what is left to fill in.',
    fr: 'Deviné, à vérifier : les commentaires disent où. `chaton inventory check` dit ce qui reste à remplir.',
  },
  leftOutName: (name: string) => ({
    en: `${name} left out: not a name chaton takes (letters, digits, ".", "_", "-")`,
    fr: `${name} laissé de côté : pas un nom que chaton accepte (lettres, chiffres, ".", "_", "-")`,
  }),
  leftOutDuplicate: (name: string, first: string) => ({
    en: `${name} left out: same address and port as ${first}`,
    fr: `${name} laissé de côté : même adresse et même port que ${first}`,
  }),
  noHostToImport: (source: string) => ({
    en: `${source} names no host chaton can take`,
    fr: `${source} ne nomme aucun hôte que chaton puisse prendre`,
  }),
  noHostToImportHint: { en: 'name a file that describes your hosts', fr: 'indiquez un fichier qui décrit vos hôtes' },
  guessedBastion: {
    en: 'Guessed: the ProxyJump most hosts use.',
    fr: "Deviné : le ProxyJump qu'utilisent la plupart des hôtes.",
  },
  bastionFromFlag: { en: 'From --bastion.', fr: "D'après --bastion." },
  reachedDirectly: { en: 'no ProxyJump: reached directly', fr: 'pas de ProxyJump : joint directement' },
  reachedOtherwise: (through: string) => ({
    en: `reached through ${through} in the source: chaton reaches it through the bastion (check)`,
    fr: `joint par ${through} dans la source : chaton le joint par le bastion (à vérifier)`,
  }),
  bastionRenamed: (name: string, wanted: string, ofFirst: string) => ({
    en: `named ${name}: ${wanted} is already the name ${ofFirst}`,
    fr: `nommé ${name} : ${wanted} est déjà le nom ${ofFirst}`,
  }),
  groupOnlyBastion: (group: string, bastion: string) => ({
    en:
      `group ${group} left out: it holds only the bastion ${bastion}, ` +
      'and a bastion is in no group (target it by name)',
    fr:
      `groupe ${group} laissé de côté : il ne contient que le bastion ${bastion}, ` +
      "et un bastion n'est dans aucun groupe (ciblez-le par son nom)",
  }),
  bastionNotMember: (bastion: string) => ({
    en: `the bastion ${bastion} left out of this group: a bastion is in no group (target it by name)`,
    fr: `le bastion ${bastion} retiré de ce groupe : un bastion n'est dans aucun groupe (ciblez-le par son nom)`,
  }),
  groupRenamed: (source: string, ofFirst: string) => ({
    en:
      `group ${source} in the source, renamed: ${source} is already the name ${ofFirst} ` +
      '(hosts, groups and bastions share one set of names)',
    fr:
      `groupe ${source} dans la source, renommé : ${source} est déjà le nom ${ofFirst} ` +
      '(hôtes, groupes et bastions partagent un même ensemble de noms)',
  }),

  // ---------------------------------------------------------------------------------------------
  // Imports (import-ssh-config.ts, import-ansible.ts): problems in the file read, notes written

  portRangeHint: { en: 'a port is 1 to 65535', fr: 'un port va de 1 à 65535' },
  jumpHint: { en: 'a jump is [user@]host[:port]', fr: "un rebond s'écrit [utilisateur@]hôte[:port]" },
  sshConfigUnreadable: (problem: string) => ({
    en: `the ssh config ${problem}`,
    fr: `la configuration ssh ${problem}`,
  }),
  sshConfigUnreadableHint: {
    en: 'name a readable OpenSSH client config file',
    fr: 'indiquez un fichier de configuration client OpenSSH lisible',
  },
  notAKeywordLine: { en: 'not a `Keyword value` line', fr: 'pas une ligne `MotClé valeur`' },
  notAKeywordLineHint: { en: 'as ssh_config(5) writes them', fr: "telle que l'écrit ssh_config(5)" },
  includeTooDeep: { en: 'Include nested too deeply', fr: 'Include imbriqué trop profondément' },
  includeTooDeepHint: (levels: number) => ({
    en: `ssh stops at ${levels} levels too`,
    fr: `ssh aussi s'arrête à ${levels} niveaux`,
  }),
  wildcardHost: (patterns: string, at: string) => ({
    en: `Host ${patterns} (${at}): not a host; its values apply to the hosts it matches`,
    fr: `Host ${patterns} (${at}) : pas un hôte ; ses valeurs s'appliquent aux hôtes qu'il désigne`,
  }),
  matchSkipped: (criteria: string, at: string) => ({
    en: `Match ${criteria} (${at}): skipped, chaton cannot tell when it applies`,
    fr: `Match ${criteria} (${at}) : ignoré, chaton ne peut pas savoir quand il s'applique`,
  }),
  sshProxyCommand: {
    en: 'ProxyCommand in the ssh config is not imported: reached through the bastion (check)',
    fr: "le ProxyCommand de la configuration ssh n'est pas importé : joint par le bastion (à vérifier)",
  },
  noHostName: {
    en: 'no HostName in the ssh config: its Host name is its address',
    fr: 'pas de HostName dans la configuration ssh : son nom de Host est son adresse',
  },
  notAHostRange: (range: string) => ({
    en: `host range ${range} is not one`,
    fr: `la plage d'hôtes ${range} n'en est pas une`,
  }),
  notKeyValue: (text: string) => ({ en: `${text} is not a key=value`, fr: `${text} n'est pas un clé=valeur` }),
  notASection: (text: string) => ({ en: `${text} is not a section`, fr: `${text} n'est pas une section` }),
  notASectionHint: {
    en: 'a section is [group], [group:vars] or [group:children]',
    fr: "une section s'écrit [groupe], [groupe:vars] ou [groupe:children]",
  },
  groupVarsLineHint: { en: 'a [group:vars] line is key=value', fr: "une ligne de [groupe:vars] s'écrit clé=valeur" },
  hostVarsHint: {
    en: 'after a host name: key=value pairs',
    fr: "après un nom d'hôte : des paires clé=valeur",
  },
  iniRangeHint: { en: 'e.g. web[01:03] or db-[a:c]', fr: 'par exemple web[01:03] ou db-[a:c]' },
  yamlRangeHint: { en: 'e.g. web[01:03]', fr: 'par exemple web[01:03]' },
  ansibleYamlHint: { en: 'check the indentation and colons here', fr: "vérifiez ici l'indentation et les deux-points" },
  groupNotAMapping: (group: string) => ({
    en: `group ${group} must be a mapping of hosts, vars and children`,
    fr: `le groupe ${group} doit être un dictionnaire de hosts, vars et children`,
  }),
  groupNotAMappingHint: { en: 'as in Ansible YAML inventories', fr: "comme dans les inventaires YAML d'Ansible" },
  ansibleNotAMapping: {
    en: 'an Ansible YAML inventory is a mapping of groups',
    fr: "un inventaire YAML d'Ansible est un dictionnaire de groupes",
  },
  ansibleNotAMappingHint: { en: 'start with `all:`', fr: 'commencez par `all:`' },
  notAPort: (host: string, text: string) => ({
    en: `${host}: ansible_port ${text} is not a port`,
    fr: `${host} : ansible_port ${text} n'est pas un port`,
  }),
  notAJump: (host: string, text: string) => ({
    en: `${host}: ProxyJump ${text} is not one`,
    fr: `${host} : ProxyJump ${text} n'est pas un rebond`,
  }),
  noAnsibleHost: {
    en: 'no ansible_host: its name is its address',
    fr: "pas d'ansible_host : son nom est son adresse",
  },
  ansibleProxyCommand: {
    en: 'ProxyCommand is not imported (check)',
    fr: "ProxyCommand n'est pas importé (à vérifier)",
  },

  // ---------------------------------------------------------------------------------------------
  // Targets on the command line (targets.ts)

  showNamesHint: {
    en: '`chaton inventory show` lists the hosts, bastions, groups and roles',
    fr: '`chaton inventory show` liste les hôtes, bastions, groupes et rôles',
  },
  noTarget: { en: 'no target given', fr: 'aucune cible donnée' },
  emptyTarget: (spec: string) => ({ en: `empty target in "${spec}"`, fr: `cible vide dans "${spec}"` }),
  targetsHint: (showNames: string) => ({
    en: `name targets separated by commas, like pve1,web or role:pve; ${showNames}`,
    fr: `nommez les cibles séparées par des virgules, comme pve1,web ou role:pve ; ${showNames}`,
  }),
  namesNoHost: (spec: string) => ({
    en: `"${spec}" names no host (an empty group?)`,
    fr: `"${spec}" ne désigne aucun hôte (un groupe vide ?)`,
  }),
  unknownTargets: (count: number, targets: string) => ({
    en: `${count === 1 ? 'unknown target' : 'unknown targets'} ${targets}`,
    fr: `${count === 1 ? 'cible inconnue' : 'cibles inconnues'} ${targets}`,
  }),

  // ---------------------------------------------------------------------------------------------
  // Edits of the inventory by chaton (edit.ts)

  /** A problem of an edited text, at its YAML path: its line is not on disk. */
  editProblem: (problemPath: string, problem: string) => ({
    en: `${problemPath}: ${problem}`,
    fr: `${problemPath} : ${problem}`,
  }),
  editInvalidHint: {
    en: 'nothing was written: correct these values and save again',
    fr: "rien n'a été écrit : corrigez ces valeurs et enregistrez de nouveau",
  },
  hostNotSaved: (name: string, file: string, problems: string) => ({
    en: `cannot save the host ${name} in ${file}:\n${problems}`,
    fr: `impossible d'enregistrer l'hôte ${name} dans ${file} :\n${problems}`,
  }),
  hostReadsBackWrong: (name: string, file: string) => ({
    en: `the host ${name} saved in ${file} does not read back as intended; nothing was written`,
    fr: `l'hôte ${name} enregistré dans ${file} ne se relit pas comme prévu ; rien n'a été écrit`,
  }),
});
