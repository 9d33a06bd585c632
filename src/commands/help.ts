// Help texts shared by several commands, so that every --help says the same thing.

export const TARGETS_HELP = `
Targets: a host name, a group name, role:<role>, all (every host under hosts:),
or a comma list of those, e.g. pve1,role:ceph. The bastion is a target by its name.`;

/** The "Examples:" block of a command's --help: command lines a runbook can copy. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}`;
}
