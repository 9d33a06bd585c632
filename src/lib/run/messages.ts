// The messages of the run layer, in English and French (see catalogue.ts).
import { catalogue } from './catalogue.js';

export const messages = catalogue({
  // Exit codes (errors.ts): `chaton --help` prints the table, the README copies it.
  exitOk: { en: 'success (or nothing to do)', fr: 'succès (ou rien à faire)' },
  exitFailed: { en: 'an operation failed on every target', fr: 'une opération a échoué sur toutes les cibles' },
  exitUsage: {
    en: 'usage or inventory error: nothing was changed',
    fr: "erreur d'utilisation ou d'inventaire : rien n'a été modifié",
  },
  exitRefused: {
    en: 'refused by a safety check (or not confirmed): nothing was changed',
    fr: "refusé par une vérification de sécurité (ou non confirmé) : rien n'a été modifié",
  },
  exitPartial: {
    en: 'partial: some targets failed, the others were done',
    fr: 'partiel : certaines cibles ont échoué, les autres ont été traitées',
  },
  exitConnection: {
    en: 'connection or host-key failure (bastion down, key changed or unknown)',
    fr: "échec de connexion ou de clé d'hôte (bastion injoignable, clé changée ou inconnue)",
  },
  exitInterrupted: {
    en: 'interrupted (Ctrl-C or SIGTERM): what was done is reported',
    fr: 'interrompu (Ctrl-C ou SIGTERM) : ce qui a été fait est indiqué',
  },

  // Errors (errors.ts).
  wasKilled: { en: 'was killed', fr: 'a été tué' },
  exitedWith: (code: number) => ({ en: `exited with ${code}`, fr: `s'est terminé avec le code ${code}` }),
  remoteCommandFailed: (host: string, command: string, status: string) => ({
    en: `${host}: \`${command}\` ${status}`,
    fr: `${host} : \`${command}\` ${status}`,
  }),
  lostWhileRunning: (named: string, lost: string) => ({
    en: `${named}: connection lost while it ran (${lost}): its outcome is unknown`,
    fr: `${named} : connexion perdue pendant son exécution (${lost}) : son issue est inconnue`,
  }),
  lostWhileRunningHint: (host: string) => ({
    en: `look at ${host} before running it again: it may have run to its end (exec's end is in its syslog, tag chaton)`,
    fr:
      `regardez sur ${host} avant de relancer : la commande a pu aller jusqu'au bout ` +
      `(la fin d'un exec est dans son syslog, étiquette chaton)`,
  }),
  verificationFailed: (host: string, problems: string) => ({
    en: `${host}: verification failed: ${problems}`,
    fr: `${host} : la vérification a échoué : ${problems}`,
  }),
  lockHeld: (host: string, lock: string, holder: string) => ({
    en: `${host}: the lock ${lock} is held by ${holder}: nothing was changed`,
    fr: `${host} : le verrou ${lock} est tenu par ${holder} : rien n'a été modifié`,
  }),
  lockHeldHint: (directory: string, host: string) => ({
    en: `wait for that run to end and rerun; if it died, remove ${directory} on ${host}`,
    fr:
      'attendez la fin de cette exécution puis relancez ; ' +
      `si elle s'est arrêtée net, supprimez ${directory} sur ${host}`,
  }),
  /** Who holds a lock (host-lock.ts). */
  lockHolder: (operator: string, pid: number, since: string) => ({
    en: `${operator} (pid ${pid}) since ${since}`,
    fr: `${operator} (pid ${pid}) depuis ${since}`,
  }),
  lockHolderUnknown: { en: 'a run that recorded no owner', fr: "une exécution qui n'a pas noté qui la lançait" },

  // Journals of long operations (journal.ts).
  journalOtherOperation: (host: string, kind: string, id: string, params: string, operator: string) => ({
    en: `${host}: another ${kind} is in progress as ${id} (${params}, started by ${operator}): nothing was changed`,
    fr: `${host} : un autre ${kind} est en cours sous ${id} (${params}, lancé par ${operator}) : rien n'a été modifié`,
  }),
  journalOtherOperationHint: (file: string, host: string) => ({
    en: `resume that one with its own parameters; if it was abandoned, remove ${file} on ${host}`,
    fr: `reprenez celle-là avec ses propres paramètres ; si elle a été abandonnée, supprimez ${file} sur ${host}`,
  }),
  journalHostWins: (host: string, id: string, steps: string) => ({
    en: `${host}: the journal ${id} there and the local one differ on ${steps}: the host's record is followed`,
    fr: `${host} : le journal ${id} de l'hôte et le journal local diffèrent pour ${steps} : celui de l'hôte est suivi`,
  }),
  journalOnlyLocal: (host: string, id: string, file: string) => ({
    en: `${host}: has no journal ${id}; the local one (${file}) is followed and written back there`,
    fr: `${host} : n'a pas de journal ${id} ; le journal local (${file}) est suivi et y est réécrit`,
  }),
  journalUnreadable: (where: string) => ({
    en: `${where} is not a journal chaton can read: nothing was changed`,
    fr: `${where} n'est pas un journal que chaton sait lire : rien n'a été modifié`,
  }),
  journalUnreadableHint: (where: string) => ({
    en: `look at ${where}: an operation's record that was damaged, or written by another version of chaton`,
    fr: `regardez ${where} : le journal d'une opération, abîmé ou écrit par une autre version de chaton`,
  }),
  interrupted: { en: 'interrupted', fr: 'interrompu' },
  /** A host, or a command on one, that Ctrl-C stopped before it began: in run/ and in remote/. */
  notStarted: (what: string) => ({
    en: `${what}: not started: interrupted`,
    fr: `${what} : pas commencé : interrompu`,
  }),

  // What a message is about, then what is said of it: `pve1: Linux 6.1` (French puts a space before the colon).
  about: (subject: string, text: string) => ({ en: `${subject}: ${text}`, fr: `${subject} : ${text}` }),
  /** The prefix of an error line on stderr and in the log file (commander's usage errors too). */
  errorLabel: { en: 'error:', fr: 'erreur :' },
  /** The prefix of a notice at the end of a run, on stderr and in the log file. */
  noteLabel: { en: 'note:', fr: 'remarque :' },

  // Each listr2 level in words, as plain progress lines (cron) and the log file name it: [COMPLETED].
  levelStarted: { en: 'STARTED', fr: 'DÉBUT' },
  levelCompleted: { en: 'COMPLETED', fr: 'TERMINÉ' },
  levelFailed: { en: 'FAILED', fr: 'ÉCHEC' },
  levelSkipped: { en: 'SKIPPED', fr: 'IGNORÉ' },
  levelOutput: { en: 'OUTPUT', fr: 'SORTIE' },
  levelTitle: { en: 'TITLE', fr: 'TITRE' },
  levelRollback: { en: 'ROLLBACK', fr: 'RETOUR ARRIÈRE' },
  levelRetry: { en: 'RETRY', fr: 'NOUVEL ESSAI' },
  levelPrompt: { en: 'PROMPT', fr: 'QUESTION' },
  levelPaused: { en: 'PAUSED', fr: 'EN PAUSE' },

  // The life of a run (lifecycle.ts, log-file.ts).
  concurrencyRange: (given: string) => ({
    en: `--concurrency must be an integer from 1 to 1000, got ${given}`,
    fr: `--concurrency doit être un entier de 1 à 1000, pas ${given}`,
  }),
  concurrencyHint: { en: 'e.g. -j 16; the default is 32', fr: 'par exemple -j 16 ; la valeur par défaut est 32' },
  /** `source` is --persist or CHATON_PERSIST. */
  persistInvalid: (source: string, given: string) => ({
    en: `${source} must be a duration from 1s to 1d (such as 90s, 5m or 1h), or off, got ${given}`,
    fr: `${source} doit être une durée de 1s à 1d (comme 90s, 5m ou 1h), ou off, pas ${given}`,
  }),
  persistHint: {
    en: 'e.g. --persist 5m: the connections are kept for 5 minutes after their last use; off: not kept',
    fr: 'par exemple --persist 5m : les connexions sont gardées 5 minutes après leur dernier usage ; off : pas gardées',
  },
  quietWithVerbose: {
    en: '--quiet and --verbose cannot be used together',
    fr: '--quiet et --verbose ne peuvent pas être utilisées ensemble',
  },
  quietWithVerboseHint: { en: 'keep the one you want', fr: 'gardez celle que vous voulez' },
  logStart: (commandLine: string) => ({ en: `start: ${commandLine}`, fr: `début : ${commandLine}` }),
  logExit: (code: number) => ({ en: `exit ${code}`, fr: `code de sortie ${code}` }),
  logFileStopped: (why: string) => ({
    en: `the log file stopped taking lines: ${why}`,
    fr: `le fichier journal n'accepte plus de lignes : ${why}`,
  }),
  logFileUnwritable: (file: string, why: string) => ({
    en: `cannot write the log file ${file}: ${why}`,
    fr: `impossible d'écrire le fichier journal ${file} : ${why}`,
  }),
  logFileUnwritableHint: {
    en: 'give a file you may write to, e.g. --log-file ~/chaton.log',
    fr: 'donnez un fichier où vous pouvez écrire, par exemple --log-file ~/chaton.log',
  },
  interruptedAgain: { en: 'interrupted again: quitting now', fr: 'interrompu à nouveau : arrêt immédiat' },
  interrupting: {
    en: 'interrupting: no new step starts; running commands finish or are stopped (Ctrl-C again to quit now)',
    fr:
      'interruption : aucune nouvelle étape ne commence ; les commandes en cours se terminent ou sont arrêtées ' +
      '(Ctrl-C à nouveau pour quitter tout de suite)',
  },
  auditRecordFailed: (why: string) => ({
    en: `could not write the local audit record: ${why}`,
    fr: `impossible d'écrire l'enregistrement d'audit local : ${why}`,
  }),
  auditRecordOnlySyslog: (why: string) => ({
    en: `could not write the local audit record (${why}): this run is recorded only in the hosts' syslog`,
    fr:
      `impossible d'écrire l'enregistrement d'audit local (${why}) : ` +
      "cette exécution n'est consignée que dans le syslog des hôtes",
  }),
  auditLineFailed: (host: string, why: string) => ({
    en: `could not write the audit line in ${host}'s syslog: ${why}`,
    fr: `impossible d'écrire la ligne d'audit dans le syslog de ${host} : ${why}`,
  }),
  planNothing: {
    en: '# dry-run: nothing was changed; no command would run',
    fr: "# simulation (--dry-run) : rien n'a été modifié ; aucune commande ne serait lancée",
  },
  planCommands: {
    en: '# dry-run: nothing was changed; these commands would run',
    fr: "# simulation (--dry-run) : rien n'a été modifié ; ces commandes seraient lancées",
  },
  planSecretOnStdin: {
    en: '# with a secret (redacted) on stdin',
    fr: "# avec un secret (masqué) sur l'entrée standard",
  },
  planDataOnStdin: { en: '# with data on stdin', fr: "# avec des données sur l'entrée standard" },

  // A guarded change (guarded-change.ts): progress, why a change did not stay, how it ended.
  guardArming: (host: string, span: string) => ({
    en: `${host}: arming the revert: it runs in ${span} unless disarmed`,
    fr: `${host} : armement du retour arrière : il s'exécute dans ${span} sauf s'il est désarmé`,
  }),
  guardTimerStarting: (host: string) => ({
    en: `${host}: waiting for the revert's timer to start`,
    fr: `${host} : en attente du démarrage de la minuterie du retour arrière`,
  }),
  guardTimerNotStarted: (host: string) => ({
    en: `${host}: the revert's timer did not start, so the change was not made`,
    fr: `${host} : la minuterie du retour arrière n'a pas démarré, la modification n'a donc pas été faite`,
  }),
  guardLookAt: (directory: string, host: string) => ({
    en: `look at ${directory} on ${host} (its state file says how far the arming went)`,
    fr: `regardez ${directory} sur ${host} (son fichier state dit jusqu'où l'armement est allé)`,
  }),
  guardApplying: (host: string) => ({
    en: `${host}: applying the change, detached from this session`,
    fr: `${host} : application de la modification, détachée de cette session`,
  }),
  guardChangeRunning: (host: string) => ({
    en: `${host}: waiting for the change to end`,
    fr: `${host} : en attente de la fin de la modification`,
  }),
  guardCannotReach: (host: string, why: string) => ({
    en: `${host}: cannot reach it for now (${why})`,
    fr: `${host} : injoignable pour l'instant (${why})`,
  }),
  guardReconnecting: (host: string) => ({
    en: `${host}: reaching it again on new connections`,
    fr: `${host} : reconnexion, sur de nouvelles connexions`,
  }),
  guardProving: (host: string) => ({
    en: `${host}: proving the change`,
    fr: `${host} : vérification de la modification`,
  }),
  guardDisarming: (host: string) => ({
    en: `${host}: disarming the revert`,
    fr: `${host} : désarmement du retour arrière`,
  }),
  guardWaitingForRevert: (host: string, due: string) => ({
    en: `${host}: waiting for the revert, due at ${due}`,
    fr: `${host} : en attente du retour arrière, prévu à ${due}`,
  }),
  guardNotWithin: (waiting: string, span: string) => ({
    en: `${waiting}: gave up after ${span}`,
    fr: `${waiting} : abandon après ${span}`,
  }),
  guardChangeFailed: (code: number, output: string) => ({
    en: `the change exited with ${code}${output ? `: ${output}` : ''}`,
    fr: `la modification s'est terminée avec le code ${code}${output ? ` : ${output}` : ''}`,
  }),
  guardNotProven: (why: string) => ({ en: `the proof failed: ${why}`, fr: `la preuve a échoué : ${why}` }),
  guardCannotDisarm: (host: string) => ({
    en: `the revert could not be disarmed in time (${host} did not answer)`,
    fr: `le retour arrière n'a pas pu être désarmé à temps (${host} n'a pas répondu)`,
  }),
  guardDisarmTooLate: {
    en: 'the revert fired before it could be disarmed',
    fr: "le retour arrière s'est déclenché avant d'avoir pu être désarmé",
  },
  guardInterrupted: (host: string, due: string, directory: string) => ({
    en: `${host}: interrupted: the revert armed there runs at ${due} unless disarmed; its state is in ${directory}`,
    fr:
      `${host} : interrompu : le retour arrière armé sur cet hôte s'exécute à ${due} sauf s'il est désarmé ; ` +
      `son état est dans ${directory}`,
  }),
  guardReverted: (host: string, why: string) => ({
    en: `${host}: the change was undone (${why}): the revert ran and succeeded, the state from before is back`,
    fr:
      `${host} : la modification a été annulée (${why}) : le retour arrière s'est exécuté avec succès, ` +
      "l'état d'avant est rétabli",
  }),
  guardRevertFailed: (host: string, why: string, code: number, output: string) => ({
    en: `${host}: the change was not kept (${why}), and the revert exited with ${code}: ${output}`,
    fr:
      `${host} : la modification n'a pas été gardée (${why}), ` +
      `et le retour arrière a fini avec le code ${code} : ${output}`,
  }),
  guardRevertUnknown: (host: string, why: string) => ({
    en: `${host}: the change was not kept (${why}), and chaton cannot tell whether the revert ran`,
    fr:
      `${host} : la modification n'a pas été gardée (${why}), ` +
      'et chaton ne peut pas dire si le retour arrière a eu lieu',
  }),
  guardCheckHint: (host: string, commands: string) => ({
    en: `check on ${host}: ${commands}`,
    fr: `vérifiez sur ${host} : ${commands}`,
  }),
  guardLockNotReleased: (host: string, directory: string, why: string) => ({
    en: `${host}: the lock ${directory} could not be released (${why}): remove it there, or the next run is refused`,
    fr:
      `${host} : le verrou ${directory} n'a pas pu être libéré (${why}) : ` +
      'supprimez-le sur cet hôte, sinon la prochaine exécution sera refusée',
  }),

  // Task chains (connect.ts, phases.ts, prompts.ts, wait.ts).
  loadKeysTitle: { en: 'Load SSH keys', fr: 'Charger les clés SSH' },
  connectTitle: (name: string, login: string) => ({
    en: `Connect to ${name} (${login})`,
    fr: `Se connecter à ${name} (${login})`,
  }),
  // A long command's table of steps (report.ts timedStepsTable).
  columnResult: { en: 'RESULT', fr: 'RÉSULTAT' },
  columnDuration: { en: 'DURATION', fr: 'DURÉE' },
  columnDetail: { en: 'DETAIL', fr: 'DÉTAIL' },
  stepFailed: { en: 'FAILED', fr: 'ÉCHEC' },
  phaseFailed: (title: string, hosts: string) => ({
    en: `${title}: failed on ${hosts}; the later steps were not started`,
    fr: `${title} : échec sur ${hosts} ; les étapes suivantes n'ont pas été lancées`,
  }),
  confirmTitle: { en: 'Confirm', fr: 'Confirmation' },
  nothingToConfirm: {
    en: 'nothing to confirm: nothing would change',
    fr: 'rien à confirmer : rien ne changerait',
  },
  phaseHosts: (title: string, count: number) => ({
    en: `${title} (${count} host${count === 1 ? '' : 's'})`,
    fr: `${title} (${count} hôte${count === 1 ? '' : 's'})`,
  }),
  noHostLeft: (title: string) => ({ en: `${title}: no host left to do`, fr: `${title} : plus aucun hôte à traiter` }),
  everyHostMustSucceed: (title: string) => ({
    en: `${title}: every host must succeed`,
    fr: `${title} : chaque hôte doit réussir`,
  }),
  hostNotStarted: (host: string) => ({
    en: `${host}: not started (interrupted)`,
    fr: `${host} : pas commencé (interrompu)`,
  }),
  failed: { en: 'failed', fr: 'échec' },
  confirmedByYes: { en: 'Confirmed by --yes', fr: 'Confirmé par --yes' },
  nobodyToAnswer: (question: string) => ({
    en: `${question} Nobody can answer here (no terminal), so nothing was done.`,
    fr: `${question} Personne ne peut répondre ici (pas de terminal) : rien n'a été fait.`,
  }),
  nobodyToAnswerHint: {
    en: 'add --yes to confirm on the command line',
    fr: 'ajoutez --yes pour confirmer sur la ligne de commande',
  },
  /** After a question: the answers, no being the default. */
  yesOrNo: { en: '(y/N)', fr: '(o/N)' },
  notConfirmed: { en: 'not confirmed: nothing was done', fr: "non confirmé : rien n'a été fait" },
  passphraseFor: (file: string) => ({ en: `Passphrase for ${file}`, fr: `Phrase de passe de ${file}` }),
  wrongPassphrase: (file: string) => ({
    en: `Wrong passphrase. Passphrase for ${file}`,
    fr: `Phrase de passe incorrecte. Phrase de passe de ${file}`,
  }),
  interruptedAtQuestion: {
    en: 'interrupted at the question: nothing was done',
    fr: "interrompu à la question : rien n'a été fait",
  },
  atMost: (span: string) => ({ en: `at most ${span}`, fr: `au plus ${span}` }),
  waitingSoFar: (waiting: string, elapsed: string, bound: string) => ({
    en: `${waiting} (${elapsed} so far, ${bound})`,
    fr: `${waiting} (depuis ${elapsed}, ${bound})`,
  }),
  stillWaiting: (waiting: string, elapsed: string, bound: string) => ({
    en: `${waiting}: still waiting after ${elapsed} (${bound})`,
    fr: `${waiting} : toujours en attente après ${elapsed} (${bound})`,
  }),

  // Reports (report.ts).
  noReport: { en: 'the run ended without a report', fr: "l'exécution s'est terminée sans rapport" },
  failedCell: { en: 'FAILED (see below)', fr: 'ÉCHEC (voir plus bas)' },

  // Local files (files.ts): the end of a sentence that starts with the file's name.
  doesNotExist: { en: 'does not exist', fr: "n'existe pas" },
  cannotBeOpened: (why: string) => ({ en: `cannot be opened (${why})`, fr: `ne peut pas être ouvert (${why})` }),
  notARegularFile: (kind: string) => ({
    en: `is ${kind}, not a regular file`,
    fr: `est ${kind}, pas un fichier ordinaire`,
  }),
  largerThan: (size: string) => ({ en: `is larger than ${size}`, fr: `dépasse ${size}` }),
  mebibytes: (count: number) => ({ en: `${count} MiB`, fr: `${count} Mio` }),
  kibibytes: (count: number) => ({ en: `${count} KiB`, fr: `${count} Kio` }),
  bytes: (count: number) => ({ en: `${count} bytes`, fr: `${count} octets` }),
  aFifo: { en: 'a FIFO (named pipe)', fr: 'une FIFO (tube nommé)' },
  aDirectory: { en: 'a directory', fr: 'un répertoire' },
  aCharacterDevice: { en: 'a character device', fr: 'un périphérique caractère' },
  aBlockDevice: { en: 'a block device', fr: 'un périphérique bloc' },
  aSocket: { en: 'a socket', fr: 'une socket' },
  anUnknownKind: { en: 'a file of an unknown kind', fr: "un fichier d'un type inconnu" },
  fileLockNotCreated: (lock: string, why: string) => ({
    en: `cannot create the lock ${lock}: ${why}`,
    fr: `impossible de créer le verrou ${lock} : ${why}`,
  }),
  fileLockNotCreatedHint: (file: string) => ({
    en: `writing ${file} needs write access to its directory`,
    fr: `écrire ${file} demande le droit d'écrire dans son répertoire`,
  }),
  fileLockHeld: (file: string, seconds: number, lock: string) => ({
    en: `could not lock ${file} within ${seconds} s: ${lock} exists`,
    fr: `impossible de verrouiller ${file} en ${seconds} s : ${lock} existe`,
  }),
  fileLockHeldHint: (lock: string) => ({
    en: `another chaton is writing it; if none is running, remove ${lock} and try again`,
    fr: `un autre chaton l'écrit ; si aucun ne tourne, supprimez ${lock} et réessayez`,
  }),

  // commander's own texts (commander-texts.ts): as commander 14 writes them in English.
  titleUsage: { en: 'Usage:', fr: 'Utilisation :' },
  titleArguments: { en: 'Arguments:', fr: 'Arguments :' },
  titleOptions: { en: 'Options:', fr: 'Options :' },
  titleGlobalOptions: { en: 'Global Options:', fr: 'Options globales :' },
  titleCommands: { en: 'Commands:', fr: 'Commandes :' },
  /** The placeholder of a subcommand in a usage line and in `help [command]`. */
  commandPlaceholder: { en: '[command]', fr: '[commande]' },
  helpDescription: { en: 'display help for command', fr: "afficher l'aide de la commande" },
  versionDescription: { en: 'output the version number', fr: 'afficher le numéro de version' },
  helpAfterError: { en: '(add --help for usage)', fr: "(ajoutez --help pour l'aide)" },
  defaultIs: (value: string) => ({ en: `default: ${value}`, fr: `par défaut : ${value}` }),
  choicesAre: (values: string) => ({ en: `choices: ${values}`, fr: `choix : ${values}` }),
  presetIs: (value: string) => ({ en: `preset: ${value}`, fr: `sans valeur : ${value}` }),
  envIs: (name: string) => ({ en: `env: ${name}`, fr: `variable d'environnement : ${name}` }),
  unknownOption: (flag: string) => ({ en: `unknown option '${flag}'`, fr: `option inconnue '${flag}'` }),
  unknownCommand: (name: string) => ({ en: `unknown command '${name}'`, fr: `commande inconnue '${name}'` }),
  didYouMean: (candidate: string) => ({
    en: `(Did you mean ${candidate}?)`,
    fr: `(Vouliez-vous dire ${candidate} ?)`,
  }),
  didYouMeanOneOf: (candidates: string) => ({
    en: `(Did you mean one of ${candidates}?)`,
    fr: `(Vouliez-vous dire l'un de ${candidates} ?)`,
  }),
  missingArgument: (name: string) => ({
    en: `missing required argument '${name}'`,
    fr: `argument obligatoire manquant : '${name}'`,
  }),
  optionMissingArgument: (flags: string) => ({
    en: `option '${flags}' argument missing`,
    fr: `l'option '${flags}' attend une valeur`,
  }),
  requiredOption: (flags: string) => ({
    en: `required option '${flags}' not specified`,
    fr: `l'option obligatoire '${flags}' n'est pas donnée`,
  }),
  /** What a conflict names: an option, or the environment variable that gave its value. */
  optionNamed: (flags: string) => ({ en: `option '${flags}'`, fr: `l'option '${flags}'` }),
  variableNamed: (name: string) => ({
    en: `environment variable '${name}'`,
    fr: `la variable d'environnement '${name}'`,
  }),
  conflictingOption: (one: string, other: string) => ({
    en: `${one} cannot be used with ${other}`,
    fr: `${one} ne peut pas être utilisée avec ${other}`,
  }),
  tooManyArguments: (expected: number, got: number) => ({
    en: `too many arguments. Expected ${expected} argument${expected === 1 ? '' : 's'} but got ${got}.`,
    fr: `trop d'arguments : ${expected} attendu${expected > 1 ? 's' : ''}, ${got} donné${got > 1 ? 's' : ''}.`,
  }),
  tooManyArgumentsFor: (command: string, expected: number, got: number) => ({
    en:
      `too many arguments for '${command}'. ` +
      `Expected ${expected} argument${expected === 1 ? '' : 's'} but got ${got}.`,
    fr:
      `trop d'arguments pour '${command}' : ` +
      `${expected} attendu${expected > 1 ? 's' : ''}, ${got} donné${got > 1 ? 's' : ''}.`,
  }),
  invalidOptionValue: (flags: string, value: string) => ({
    en: `option '${flags}' argument '${value}' is invalid.`,
    fr: `l'option '${flags}' n'accepte pas la valeur '${value}'.`,
  }),
  invalidOptionEnv: (flags: string, value: string, name: string) => ({
    en: `option '${flags}' value '${value}' from env '${name}' is invalid.`,
    fr: `l'option '${flags}' n'accepte pas la valeur '${value}' de la variable d'environnement '${name}'.`,
  }),
  invalidArgumentValue: (value: string, name: string) => ({
    en: `command-argument value '${value}' is invalid for argument '${name}'.`,
    fr: `l'argument '${name}' n'accepte pas la valeur '${value}'.`,
  }),
  allowedChoices: (choices: string) => ({ en: `Allowed choices are ${choices}.`, fr: `Choix possibles : ${choices}.` }),
});
