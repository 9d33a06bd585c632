// The messages of the run layer, in English and French (see catalogue.ts).
import { catalogue } from './catalogue.js';

export const messages = catalogue({
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
  wasKilled: { en: 'was killed', fr: 'a été tué' },
  exitedWith: (code: number) => ({ en: `exited with ${code}`, fr: `s'est terminé avec le code ${code}` }),
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
  interrupted: { en: 'interrupted', fr: 'interrompu' },
});
