// The messages of the network domain, in English and French (see ../run/catalogue.ts): the
// inventory's `failover:` section, the judgement's findings (each saying what to do), the table.
// JSON and Nagios take the English text of the same entries (see said).
import { both, catalogue, sayer } from '../run/catalogue.js';

/** A link's state in words, in the verdict; a value it does not know is shown as it is. */
const LINK_STATES: Record<string, { en: string; fr: string }> = {
  up: { en: 'up', fr: 'en service' },
  down: { en: 'down', fr: 'en panne' },
  unknown: { en: 'unknown', fr: 'inconnu' },
};
const linkState = (state: string, language: 'en' | 'fr') => LINK_STATES[state]?.[language] ?? state;

function one(count: number): boolean {
  return count === 1;
}

const ENTRIES = {
  // --- The inventory: what a value must be (completes "must be ..."), and how to write it.
  interfaceExpected: { en: 'a network interface name', fr: "un nom d'interface réseau" },
  interfaceHint: {
    en: 'as `ip link` shows it on the gateway, e.g. eth1, wan2 or ppp0: at most 15 letters, digits, ".", "_", "-"',
    fr:
      "tel que `ip link` l'affiche sur la passerelle, par ex. eth1, wan2 ou ppp0 : au plus 15 lettres, chiffres, " +
      '".", "_", "-"',
  },
  tableExpected: { en: 'a route table number', fr: 'un numéro de table de routage' },
  tableHint: {
    en: "a whole number such as 101, not 253, 254 or 255 (the kernel's default, main and local tables)",
    fr: 'un nombre entier comme 101, ni 253, 254 ou 255 (les tables default, main et local du noyau)',
  },
  wholeNumberExpected: (min: number, max: number) => ({
    en: `a whole number from ${min} to ${max}`,
    fr: `un nombre entier de ${min} à ${max}`,
  }),
  dnsNameExpected: { en: 'a DNS name', fr: 'un nom DNS' },
  dnsNameHint: {
    en: 'for example www.example.org: letters, digits and "-" between dots',
    fr: 'par exemple www.example.org : lettres, chiffres et "-" entre des points',
  },
  keyFileExpected: { en: 'an absolute path on the gateway', fr: 'un chemin absolu sur la passerelle' },
  keyFileHint: {
    en: 'the TSIG key file nsupdate -k reads on the gateway (as tsig-keygen writes it), e.g. /etc/chaton/failover.key',
    fr:
      "le fichier de clé TSIG que nsupdate -k lit sur la passerelle (tel que tsig-keygen l'écrit), par ex. " +
      '/etc/chaton/failover.key',
  },
  linkKeysHint: {
    en: 'a link needs interface, next_hop, source and public_address; table is optional',
    fr: 'un lien demande interface, next_hop, source et public_address ; table est facultatif',
  },
  linksHint: {
    en: 'failover.links needs main and backup, each {interface, next_hop, source, public_address, table}',
    fr: 'failover.links demande main et backup, chacun {interface, next_hop, source, public_address, table}',
  },
  linksShare: (key: string) => ({
    en: `the backup link has the same ${key} as the main one`,
    fr: `le lien backup a la même valeur de ${key} que le lien main`,
  }),
  linksShareHint: {
    en: 'each link needs its own interface, source address and table, or one could not stand in for the other',
    fr:
      "chaque lien demande sa propre interface, sa propre adresse source et sa propre table, sinon l'un ne " +
      "pourrait pas remplacer l'autre",
  },
  targetsExpected: { en: 'a list of IPv4 addresses', fr: "une liste d'adresses IPv4" },
  targetsHint: {
    en:
      "addresses beyond the ISPs' own boxes that answer ping, several of them, e.g. " +
      '[192.0.2.1, 198.51.100.1, 203.0.113.1]',
    fr:
      'des adresses au-delà des boîtiers des FAI qui répondent au ping, plusieurs, par ex. ' +
      '[192.0.2.1, 198.51.100.1, 203.0.113.1]',
  },
  targetsEmpty: { en: 'lists no target', fr: 'ne cite aucune cible' },
  targetTwice: (target: string) => ({
    en: `lists ${target} twice`,
    fr: `cite ${target} deux fois`,
  }),
  countHint: {
    en: 'echo requests per target in one round, e.g. 3',
    fr: "requêtes d'écho par cible à chaque tour, par ex. 3",
  },
  timeoutHint: {
    en: 'seconds to wait for a reply, e.g. 2',
    fr: "secondes d'attente d'une réponse, par ex. 2",
  },
  reliabilityHint: {
    en: 'how many targets must answer through a link for it to be up: at most the number of targets',
    fr:
      "combien de cibles doivent répondre à travers un lien pour qu'il soit en service : au plus le nombre de " +
      'cibles',
  },
  reliabilityAboveTargets: (reliability: number, targets: number) => ({
    en:
      `wants ${reliability} targets to answer, and only ${targets} ${one(targets) ? 'is' : 'are'} listed: ` +
      'no link could ever be up',
    fr:
      `demande que ${reliability} cibles répondent, et seulement ${targets} ` +
      `${one(targets) ? 'est citée' : 'sont citées'} : aucun lien ne pourrait jamais être en service`,
  }),
  dnsKeysHint: {
    en: 'dns needs server, zone, names and key_file; ttl is optional (default 60)',
    fr: 'dns demande server, zone, names et key_file ; ttl est facultatif (60 par défaut)',
  },
  dnsNamesExpected: { en: 'a list of DNS names', fr: 'une liste de noms DNS' },
  dnsNamesHint: {
    en: 'the names of the zone that point at the link in use, e.g. [www.example.org, mail.example.org]',
    fr: 'les noms de la zone qui pointent vers le lien utilisé, par ex. [www.example.org, mail.example.org]',
  },
  dnsNamesEmpty: { en: 'lists no name', fr: 'ne cite aucun nom' },
  namesOutsideZone: (names: string, zone: string) => ({
    en: `${names} not in the zone ${zone}: the server would refuse the update`,
    fr: `${names} hors de la zone ${zone} : le serveur refuserait la mise à jour`,
  }),
  ttlHint: {
    en: 'seconds the answers may be cached, e.g. 60: lower it before an incident, not during one',
    fr:
      'secondes pendant lesquelles les réponses peuvent être gardées en cache, par ex. 60 : à baisser avant un ' +
      'incident, pas pendant',
  },
  revertAfterHint: {
    en: 'seconds after which a switch not yet proven is undone on the gateway, e.g. 120',
    fr: 'secondes au bout desquelles une bascule pas encore prouvée est défaite sur la passerelle, par ex. 120',
  },
  watchdogDownHint: {
    en: 'bad rounds of main in a row (one a minute) before the watchdog moves to backup, e.g. 5',
    fr: "tours mauvais de main d'affilée (un par minute) avant que le chien de garde passe sur backup, par ex. 5",
  },
  watchdogUpHint: {
    en: 'good rounds of main in a row (one a minute) before the watchdog comes back to main, e.g. 5',
    fr: "tours bons de main d'affilée (un par minute) avant que le chien de garde revienne sur main, par ex. 5",
  },
  sectionKeysHint: {
    en: 'failover needs gateway, links and probes: see inventory.example.yaml',
    fr: 'failover demande gateway, links et probes : voir inventory.example.yaml',
  },
  gatewayHint: {
    en: 'define it under `hosts:`: chaton reads its routes and probes the links there, over SSH',
    fr: 'définissez-le sous `hosts:` : chaton y lit les routes et y sonde les liens, par SSH',
  },
  proveFromHint: {
    en: 'an inner host of `hosts:` whose traffic goes out through the gateway',
    fr: 'un hôte intérieur de `hosts:` dont le trafic sort par la passerelle',
  },
  proveFromGateway: {
    en: 'is the gateway itself: it cannot prove the path through the gateway',
    fr: 'est la passerelle elle-même : il ne peut pas prouver le chemin à travers la passerelle',
  },

  // --- What the gateway says of the inventory (links.ts, routing.ts).
  interfaceMissing: (gateway: string, name: string) => ({
    en: `${gateway} has no interface ${name}`,
    fr: `${gateway} n'a pas d'interface ${name}`,
  }),
  interfaceMissingHint: (present: string) => ({
    en: `its interfaces: ${present}; nothing was changed`,
    fr: `ses interfaces : ${present} ; rien n'a été modifié`,
  }),
  notJsonList: (what: string) => ({
    en: `${what} did not print a JSON list`,
    fr: `${what} n'a pas affiché de liste JSON`,
  }),
  routesUnread: (table: string, said: string) => ({
    en: `the routes of table ${table} could not be read: ${said}`,
    fr: `les routes de la table ${table} n'ont pas pu être lues : ${said}`,
  }),

  // --- The judgement: why a link is not up, and the findings, each with what to do.
  gatewayUnread: (gateway: string, error: string) => ({
    en: `${gateway} could not be read: ${error}`,
    fr: `${gateway} n'a pas pu être lue : ${error}`,
  }),
  interfaceDown: (name: string) => ({
    en: `${name} is down (ip link set ${name} up)`,
    fr: `${name} est désactivée (ip link set ${name} up)`,
  }),
  noCarrier: (name: string) => ({
    en: `${name} has no carrier: the cable, the modem or the ISP's box`,
    fr: `${name} n'a pas de porteuse : le câble, le modem ou le boîtier du FAI`,
  }),
  noRule: (source: string, table: string) => ({
    en:
      `no rule sends ${source} to table ${table}: its probes could leave by the other link and prove nothing ` +
      `(ip rule add from ${source} lookup ${table})`,
    fr:
      `aucune règle n'envoie ${source} vers la table ${table} : ses sondes pourraient sortir par l'autre lien ` +
      `et ne rien prouver (ip rule add from ${source} lookup ${table})`,
  }),
  noTableRoute: (table: string, nextHop: string, name: string) => ({
    en:
      `table ${table} has no default route via ${nextHop} dev ${name}: its probes could leave by the other link ` +
      `(ip route replace default via ${nextHop} dev ${name} table ${table})`,
    fr:
      `la table ${table} n'a pas de route par défaut via ${nextHop} dev ${name} : ses sondes pourraient sortir par ` +
      `l'autre lien (ip route replace default via ${nextHop} dev ${name} table ${table})`,
  }),
  noMainRoute: (nextHop: string, name: string) => ({
    en:
      `the main table has no default route via ${nextHop} dev ${name}: its probes say nothing of the link ` +
      '(give the link a table of its own in the inventory)',
    fr:
      `la table main n'a pas de route par défaut via ${nextHop} dev ${name} : ses sondes ne disent rien du lien ` +
      "(donnez au lien une table à lui dans l'inventaire)",
  }),
  probesFailed: (error: string) => ({
    en: `its probes could not run: ${error}`,
    fr: `ses sondes n'ont pas pu être lancées : ${error}`,
  }),
  probesUnsure: (count: number, why: string) => ({
    en: `${count} ${one(count) ? 'probe' : 'probes'} did not run to the end: ${why}`,
    fr: `${count} ${one(count) ? "sonde n'est pas allée" : 'sondes ne sont pas allées'} jusqu'au bout : ${why}`,
  }),
  tooFewAnswered: (answered: number, targets: number, reliability: number) => ({
    en: `${answered} of ${targets} targets answered, ${reliability} needed`,
    fr: `${answered} cibles sur ${targets} ont répondu, il en faut ${reliability}`,
  }),
  backupDown: {
    en: "backup is down: the site has no fallback if main fails (call the backup line's ISP)",
    fr: "backup est en panne : le site n'a pas de secours si main tombe (appelez le FAI de la ligne de secours)",
  },
  mainDown: {
    en: 'main is down: the site stays on backup (chaton failover to main once it is back)',
    fr: 'main est en panne : le site reste sur backup (chaton failover to main quand il sera revenu)',
  },
  linkUnproven: (name: string) => ({
    en: `the probes cannot tell whether ${name} is up`,
    fr: `les sondes ne peuvent pas dire si ${name} est en service`,
  }),
  activeUnproven: (name: string) => ({
    en: `${name} carries the default route, and the probes cannot tell whether it is up`,
    fr: `${name} porte la route par défaut, et les sondes ne peuvent pas dire s'il est en service`,
  }),
  activeDownSwitch: (name: string, other: string) => ({
    en: `${name} carries the default route and is down: the site has no internet (chaton failover to ${other})`,
    fr:
      `${name} porte la route par défaut et est en panne : le site n'a pas d'internet ` +
      `(chaton failover to ${other})`,
  }),
  activeDownNoOther: (name: string) => ({
    en: `${name} carries the default route and is down, and no link is up: the site has no internet (call the ISPs)`,
    fr:
      `${name} porte la route par défaut et est en panne, et aucun lien n'est en service : le site n'a pas ` +
      "d'internet (appelez les FAI)",
  }),
  noDefaultRoute: (link: string) => ({
    en: `the gateway has no default route: the site has no internet (chaton failover to ${link})`,
    fr: `la passerelle n'a pas de route par défaut : le site n'a pas d'internet (chaton failover to ${link})`,
  }),
  noDefaultRouteNoLink: {
    en: 'the gateway has no default route and no link is up: the site has no internet (call the ISPs)',
    fr:
      "la passerelle n'a pas de route par défaut et aucun lien n'est en service : le site n'a pas d'internet " +
      '(appelez les FAI)',
  },
  defaultElsewhere: (route: string) => ({
    en: `the default route goes ${route}, through neither link of the inventory (check failover.links)`,
    fr: `la route par défaut passe ${route}, par aucun des liens de l'inventaire (vérifiez failover.links)`,
  }),
  noLinkUp: {
    en: 'neither link is up: if the default route fails, the site has no internet (call the ISPs)',
    fr: "aucun lien n'est en service : si la route par défaut tombe, le site n'a plus d'internet (appelez les FAI)",
  },
  onBackup: {
    en: 'the site is on its backup link',
    fr: 'le site est sur son lien de secours',
  },
  onBackupMainUp: {
    en: 'the site is on its backup link, and main is up (chaton failover to main)',
    fr: 'le site est sur son lien de secours, et main est en service (chaton failover to main)',
  },
  verdictOn: (active: string, main: string, backup: string) => ({
    en: `on ${active}; main ${linkState(main, 'en')}, backup ${linkState(backup, 'en')}`,
    fr: `sur ${active} ; main ${linkState(main, 'fr')}, backup ${linkState(backup, 'fr')}`,
  }),
  verdictNoRoute: (main: string, backup: string) => ({
    en: `no default route; main ${linkState(main, 'en')}, backup ${linkState(backup, 'en')}`,
    fr: `pas de route par défaut ; main ${linkState(main, 'fr')}, backup ${linkState(backup, 'fr')}`,
  }),
  verdictElsewhere: (route: string, main: string, backup: string) => ({
    en: `default route ${route}; main ${linkState(main, 'en')}, backup ${linkState(backup, 'en')}`,
    fr: `route par défaut ${route} ; main ${linkState(main, 'fr')}, backup ${linkState(backup, 'fr')}`,
  }),

  // --- The report for a person.
  stateOk: both('OK'),
  stateWarning: { en: 'WARNING', fr: 'ALERTE' },
  stateCritical: { en: 'CRITICAL', fr: 'CRITIQUE' },
  stateUnknown: { en: 'UNKNOWN', fr: 'INCONNU' },
  linkUp: { en: 'up', fr: 'en service' },
  linkDown: { en: 'down', fr: 'en panne' },
  linkUnknown: { en: 'unknown', fr: 'inconnu' },
  columnLink: { en: 'LINK', fr: 'LIEN' },
  columnState: { en: 'STATE', fr: 'ÉTAT' },
  columnPath: { en: 'PATH', fr: 'CHEMIN' },
  columnTarget: { en: 'TARGET', fr: 'CIBLE' },
  columnLoss: { en: 'LOSS', fr: 'PERTE' },
  columnRtt: both('RTT'),
  /** Under the link that carries the default route. */
  activeMark: { en: '(active)', fr: '(actif)' },
  /** The LOSS cell of a probe that did not run to its end. */
  probeError: { en: 'error', fr: 'erreur' },
  linkReason: (name: string, state: string, reason: string) => ({
    en: `${name} ${state}: ${reason}`,
    fr: `${name} ${state} : ${reason}`,
  }),
  stateLine: (state: string, text: string) => ({ en: `${state}: ${text}`, fr: `${state} : ${text}` }),

  // --- failover to: the decision and the proof, shown to people (a reason given is already in
  // the language of the run).
  linkNotProven: { en: 'its probes prove nothing', fr: 'ses sondes ne prouvent rien' },
  switchRefused: (to: string, why: string) => ({
    en: `${to} is not up (${why}): switching to it would cut the site off; nothing was changed`,
    fr: `${to} n'est pas en service (${why}) : y basculer couperait le site ; rien n'a été changé`,
  }),
  switchRouteElsewhere: (to: string, route: string) => ({
    en: `the default route does not go through ${to}: ${route}`,
    fr: `la route par défaut ne passe pas par ${to} : ${route}`,
  }),
  switchLinkNotUp: (to: string, gateway: string, why: string) => ({
    en: `${to} does not carry traffic from ${gateway} (${why})`,
    fr: `${to} ne fait pas passer le trafic depuis ${gateway} (${why})`,
  }),
  switchInsideUnanswered: (host: string, answered: number, targets: number, reliability: number) => ({
    en: `from ${host}, ${answered} of ${targets} targets answered through the gateway, ${reliability} needed`,
    fr:
      `depuis ${host}, ${answered} cibles sur ${targets} ont répondu à travers la passerelle, ` +
      `il en faut ${reliability}`,
  }),
} as const;

export const messages = catalogue(ENTRIES);

export type { Said } from '../run/catalogue.js';

/** Both texts of an entry, built from the same values: JSON and Nagios take the English. */
export const said = sayer(ENTRIES);
