// The messages of the remote layer, in English and French (see run/catalogue.ts). A command's
// own words and what hosts print are never translated: only what chaton says of them.
import { catalogue } from '../run/catalogue.js';

export const messages = catalogue({
  // --- A tool's JSON that cannot be read (json-output.ts): the command or the field, then what was expected.
  notJson: (what: string, start: string) => ({
    en: `${what}: not JSON (it printed "${start}")`,
    fr: `${what} : pas du JSON (la commande a affiché "${start}")`,
  }),
  notAnObject: (what: string) => ({ en: `${what}: a JSON object was expected`, fr: `${what} : objet JSON attendu` }),
  notANumber: (what: string) => ({ en: `${what}: a number was expected`, fr: `${what} : nombre attendu` }),
  notAString: (what: string) => ({ en: `${what}: a string was expected`, fr: `${what} : chaîne attendue` }),
  notAList: (what: string) => ({ en: `${what}: a list was expected`, fr: `${what} : liste attendue` }),
  notABoolean: (what: string) => ({
    en: `${what}: true or false was expected`,
    fr: `${what} : true ou false attendu`,
  }),

  batchCut: (count: number, answered: number) => ({
    en: `${count} commands were sent at once, ${answered} answered: the session ended early`,
    fr: `${count} commandes ont été envoyées ensemble, ${answered} ont répondu : la session s'est terminée trop tôt`,
  }),
  /** A command on a host, as messages name it: pve1: `uptime`. */
  commandOn: (host: string, command: string) => ({ en: `${host}: \`${command}\``, fr: `${host} : \`${command}\`` }),
  commandStopped: { en: 'was stopped', fr: 'a été arrêtée' },
  commandNotStopped: {
    en: 'could not be stopped: it may still be running there',
    fr: "n'a pas pu être arrêtée : elle tourne peut-être encore là-bas",
  },
  commandInterrupted: (named: string, fate: string) => ({
    en: `${named} interrupted: it ${fate}`,
    fr: `${named} interrompue : elle ${fate}`,
  }),
  commandTimedOut: (named: string, seconds: number, fate: string) => ({
    en: `${named} did not finish within ${seconds} s and ${fate}`,
    fr: `${named} ne s'est pas terminée en ${seconds} s et ${fate}`,
  }),
  raiseCommandTimeout: {
    en: 'raise ssh.command_timeout in the inventory if it needs longer',
    fr: "augmentez ssh.command_timeout dans l'inventaire si elle a besoin de plus de temps",
  },
  tookTooLong: (host: string) => ({
    en: `look at why it took so long on ${host}`,
    fr: `regardez pourquoi elle a pris autant de temps sur ${host}`,
  }),
  sudoWantsPassword: (host: string, user: string) => ({
    en: `${host}: sudo asks ${user} for a password`,
    fr: `${host} : sudo demande un mot de passe à ${user}`,
  }),
  sudoWantsPasswordHint: (user: string, host: string) => ({
    en: `give ${user} passwordless sudo on ${host} (a NOPASSWD rule in /etc/sudoers.d/), or connect as root`,
    fr:
      `donnez à ${user} un sudo sans mot de passe sur ${host} (une règle NOPASSWD dans /etc/sudoers.d/), ` +
      'ou connectez-vous en root',
  }),
  /** How a command shown in a message says what it reads on stdin, which is never shown. */
  secretOnStdin: { en: '<secret on stdin>', fr: "<secret sur l'entrée standard>" },
  dataOnStdin: { en: '<data on stdin>', fr: "<données sur l'entrée standard>" },
  /** The end of a text cut short: how long it is in all. */
  bytesInAll: (count: number) => ({ en: `(${count} bytes)`, fr: `(${count} octets)` }),
});
