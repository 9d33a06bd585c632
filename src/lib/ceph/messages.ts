// The messages of the Ceph domain, in English and French (see ../run/catalogue.ts): what a `ceph`
// output that cannot be read lacks, the disk swap's preflight refusals (each with its numbers),
// the drain's progress and why an OSD is not yet ready to destroy.
import { both, catalogue, sayer } from '../run/catalogue.js';

const ENTRIES = {
  // --- Outputs that cannot be read (the command's words, or the field, then what was expected).
  unknownHealth: (status: string) => ({
    en: `unknown health status "${status}" (HEALTH_OK, HEALTH_WARN or HEALTH_ERR expected)`,
    fr: `état de santé inconnu "${status}" (HEALTH_OK, HEALTH_WARN ou HEALTH_ERR attendu)`,
  }),
  unknownOsdStatus: (osd: string, status: string) => ({
    en: `${osd}: unknown status "${status}" (up, down or destroyed expected)`,
    fr: `${osd} : état inconnu "${status}" (up, down ou destroyed attendu)`,
  }),
  commandFailed: (what: string, code: number | string, stderr: string) => ({
    en: `${what} failed (exit ${code}): ${stderr || 'nothing on stderr'}`,
    fr: `${what} a échoué (code ${code}) : ${stderr || 'rien sur stderr'}`,
  }),

  // --- Preflight refusals: why, with the numbers, and what to do.
  noSuchOsd: (osd: number, known: string) => ({
    en: `osd.${osd} does not exist in this cluster (its OSDs: ${known})`,
    fr: `osd.${osd} n'existe pas dans ce cluster (ses OSD : ${known})`,
  }),
  osdDestroyed: (osd: number) => ({
    en: `osd.${osd} is already destroyed: a swap was left half-way; continue it with --resume`,
    fr: `osd.${osd} est déjà détruit : un remplacement est resté à mi-chemin ; reprenez-le avec --resume`,
  }),
  otherHost: (osd: number, actual: string, named: string) => ({
    en: `osd.${osd} lives on ${actual}, not on ${named}: check the host and the OSD id`,
    fr: `osd.${osd} est sur ${actual}, pas sur ${named} : vérifiez l'hôte et le numéro d'OSD`,
  }),
  noHost: (osd: number) => ({
    en: `osd.${osd} is in no CRUSH host: its host cannot be checked`,
    fr: `osd.${osd} n'est dans aucun hôte CRUSH : son hôte ne peut pas être vérifié`,
  }),
  otherOsdsDown: (osds: string) => ({
    en: `other OSDs are down or destroyed (${osds}): taking one more out could lose data; repair them first`,
    fr:
      `d'autres OSD sont arrêtés ou détruits (${osds}) : en retirer un de plus pourrait perdre des données ; ` +
      "réparez-les d'abord",
  }),
  pgsInactive: (count: number, total: number, states: string) => ({
    en:
      `${count} of ${total} PGs are inactive, damaged or with unfound objects (${states}): ` +
      'the cluster must serve all its data first',
    fr:
      `${count} PG sur ${total} sont inactifs, endommagés ou ont des objets introuvables (${states}) : ` +
      "le cluster doit d'abord servir toutes ses données",
  }),
  pgsNotClean: (count: number, total: number, osd: number, states: string) => ({
    en:
      `${count} of ${total} PGs are not active+clean while osd.${osd} is up and in (${states}): ` +
      'wait for the recovery under way to end',
    fr:
      `${count} PG sur ${total} ne sont pas active+clean alors qu'osd.${osd} est up et in (${states}) : ` +
      'attendez la fin de la récupération en cours',
  }),
  healthError: (code: string, severity: string, message: string) => ({
    en: `${code} (${severity}): ${message}; not caused by this OSD: resolve it first`,
    fr: `${code} (${severity}) : ${message} ; ne vient pas de cet OSD : réglez-le d'abord`,
  }),
  healthWarning: (code: string, severity: string, message: string) => ({
    en:
      `${code} (${severity}): ${message}; not caused by this OSD: resolve it first, or, if it is known and ` +
      `harmless, mute it (ceph health mute ${code}: the mute lifts when the check clears or changes), as a ` +
      'muted check does not block the swap',
    fr:
      `${code} (${severity}) : ${message} ; ne vient pas de cet OSD : réglez-le d'abord ou, s'il est connu et ` +
      `sans danger, mettez-le en sourdine (ceph health mute ${code} : la mise en sourdine est levée quand le ` +
      'contrôle disparaît ou change), car un contrôle en sourdine ne bloque pas le remplacement',
  }),
  clusterFlags: (flags: string) => ({
    en: `cluster-wide flags set (${flags}): they would stop or hide the drain; unset them first`,
    fr:
      `drapeaux posés sur tout le cluster (${flags}) : ils bloqueraient ou masqueraient la vidange ; ` +
      "retirez-les d'abord",
  }),
  otherOsdFlags: (what: string) => ({
    en: `flags set on other OSDs or CRUSH groups (${what}): another operation may be under way`,
    fr: `drapeaux posés sur d'autres OSD ou groupes CRUSH (${what}) : une autre opération est peut-être en cours`,
  }),
  nowhereToDrain: (osd: number) => ({
    en: `no other OSD is up and in to take osd.${osd}'s data`,
    fr: `aucun autre OSD up et in ne peut recevoir les données d'osd.${osd}`,
  }),
  wouldPassNearfull: (osd: number, moved: string, over: string, ratio: string) => ({
    en: `draining osd.${osd} moves ${moved}: ${over} would pass the nearfull ratio ${ratio}; add capacity first`,
    fr:
      `vider osd.${osd} déplace ${moved} : ${over} dépasserait le seuil nearfull ${ratio} ; ` +
      "ajoutez de la capacité d'abord",
  }),
  /** One OSD of wouldPassNearfull's list: now and after the drain, in percent. */
  projectedUse: (osd: number, now: string, after: string) => ({
    en: `osd.${osd} from ${now} to ${after}`,
    fr: `osd.${osd} de ${now} à ${after}`,
  }),

  // --- The drain and the decision to destroy.
  notSafeToDestroy: (osd: number) => ({
    en: `osd.${osd} is not safe to destroy yet: PGs are still mapped to it or stored on it`,
    fr: `osd.${osd} ne peut pas encore être détruit : des PG lui sont encore affectés ou y sont encore stockés`,
  }),
  notSafeNoStats: (osd: number) => ({
    en: `osd.${osd} is not safe to destroy yet: Ceph has no statistics for it`,
    fr: `osd.${osd} ne peut pas encore être détruit : Ceph n'a pas de statistiques pour lui`,
  }),
  notAllClean: (count: number, total: number, states: string) => ({
    en: `${count} of ${total} PGs are not active+clean yet (${states})`,
    fr: `${count} PG sur ${total} ne sont pas encore active+clean (${states})`,
  }),
  drainLine: (misplaced: string, degraded: string, rate: string, eta: string) => ({
    en: `misplaced ${misplaced}, degraded ${degraded}, ${rate}, ${eta}`,
    fr: `mal placés ${misplaced}, dégradés ${degraded}, ${rate}, ${eta}`,
  }),
  objectsOf: (objects: number, total: number) => ({
    en: `${objects}/${total} objects`,
    fr: `${objects}/${total} objets`,
  }),
  bytesRate: (size: string) => both(`${size}/s`),
  objectsRate: (objects: number) => ({ en: `${objects} objects/s`, fr: `${objects} objets/s` }),
  noRate: { en: 'no recovery rate yet', fr: 'pas encore de débit de récupération' },
  eta: (duration: string) => ({ en: `about ${duration} left`, fr: `environ ${duration} restant` }),
  noEta: { en: 'time left unknown', fr: 'temps restant inconnu' },
  listSeparator: both(', '),

  // --- The cluster's lock (one swap at a time).
  lockForeign: (key: string, value: string) => ({
    en: `the key ${key} holds "${value}", which chaton did not write: find out who uses it`,
    fr: `la clé ${key} contient "${value}", que chaton n'a pas écrit : cherchez qui l'utilise`,
  }),
  lockSameOperation: (osd: number, host: string, who: string, since: string) => ({
    en:
      `the swap of osd.${osd} on ${host} is held by ${who} since ${since}: if that run is gone ` +
      '(another laptop, a lost session), continue it with --resume',
    fr:
      `le remplacement d'osd.${osd} sur ${host} est tenu par ${who} depuis ${since} : si ce lancement ` +
      "n'existe plus (autre portable, session perdue), poursuivez-le avec --resume",
  }),
  lockOtherSwap: (osd: number, host: string, who: string, since: string, key: string) => ({
    en:
      `another disk swap is in progress on this cluster: osd.${osd} on ${host}, by ${who} since ${since}; ` +
      `finish it first (or, if it was abandoned, remove its lock: ceph config-key rm ${key})`,
    fr:
      `un autre remplacement de disque est en cours sur ce cluster : osd.${osd} sur ${host}, par ${who} ` +
      `depuis ${since} ; terminez-le d'abord (ou, s'il a été abandonné, retirez son verrou : ` +
      `ceph config-key rm ${key})`,
  }),
} as const;

export const messages = catalogue(ENTRIES);

export type { Said } from '../run/catalogue.js';

/** Both texts of an entry, built from the same values: JSON takes the English. */
export const said = sayer(ENTRIES);
