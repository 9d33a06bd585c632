// The program, the run layer and the remote layer in French: commander's own words (help
// headings, --help, usage errors) as well as chaton's, progress words in cron lines, files'
// reasons; and what stays English whatever the language: the audit records and the man page.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { hostAuditTrailer } from '../../src/lib/run/audit.js';
import { commanderMessage, errorOutput } from '../../src/lib/run/commander-texts.js';
import { inWords } from '../../src/lib/run/display.js';
import { notStarted } from '../../src/lib/run/errors.js';
import { readRegularFile } from '../../src/lib/run/files.js';
import { FAILED, rendererFor } from '../../src/lib/run/report.js';
import { wrap } from '../../src/lib/run/text.js';
import { brief, display, command, Secret, withStdin } from '../../src/lib/remote/shell.js';
import { inFrenchAsync } from './in-french.js';

const ROOT = new URL('../../../', import.meta.url);
const CHATON = fileURLToPath(new URL('bin/chaton.js', ROOT));

/** chaton without a terminal, in the language `LANG` selects. */
function chaton(args: string[], lang: string) {
  const env = { PATH: process.env.PATH, HOME: os.tmpdir(), LANG: lang };
  const run = spawnSync(process.execPath, [CHATON, ...args], { env, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Runs `body` with messages in French (LC_ALL wins over whatever the test runner set). */
function inFrench(body: () => void | Promise<void>) {
  return () => inFrenchAsync(body);
}

describe("commander's own words", () => {
  it('are French in every --help under a French locale: headings, --help, help [command], defaults', () => {
    const top = chaton(['--help'], 'fr_FR.UTF-8');
    assert.equal(top.code, 0, top.stderr);
    for (const text of [
      /^Utilisation : chaton \[options\] \[commande\]$/m,
      /^Options :$/m,
      /^Commandes :$/m,
      /^ {2}-V, --version +afficher le numéro de version$/m,
      /^ {2}-h, --help +afficher l'aide de la commande$/m,
      /^ {2}help \[commande\] +afficher l'aide de la commande$/m,
      /\(par\s+défaut : "32"\)/,
      /^Codes de sortie :$/m,
      /^ {2}130 {2}interrompu \(Ctrl-C ou SIGTERM\)/m,
    ]) {
      assert.match(top.stdout, text);
    }
    // A subcommand inherits them from the program.
    const sub = chaton(['inventory', 'check', '--help'], 'fr_FR.UTF-8');
    assert.match(sub.stdout, /^Utilisation : chaton inventory check \[options\]$/m);
    assert.match(sub.stdout, /^Options :\n {2}-h, --help +afficher l'aide de la commande$/m);
    assert.match(sub.stdout, /^Options globales :\n {2}-V, --version +afficher le numéro de version$/m);
    assert.match(chaton(['hosts', '--help'], 'fr_FR.UTF-8').stdout, /^ {2}help \[commande\] /m);
    assert.match(chaton(['completion', '--help'], 'fr_FR.UTF-8').stdout, /^Arguments :$/m);
  });

  it('never start a help line with the colon of the line before', () => {
    const help = chaton(['--help'], 'fr_FR.UTF-8').stdout;
    assert.deepEqual(
      help.split('\n').filter((line) => /^\s*[:;?!]/.test(line)),
      [],
    );
  });

  it('are English under C, and LC_MESSAGES=C undoes a French LANG', () => {
    const help = chaton(['--help'], 'C').stdout;
    assert.match(help, /^Usage: chaton \[options\] \[command\]$/m);
    assert.match(help, /^ {2}help \[command\] +display help for command$/m);
    const run = spawnSync(process.execPath, [CHATON, '--help'], {
      env: { PATH: process.env.PATH, LANG: 'fr_FR.UTF-8', LC_MESSAGES: 'C' },
      encoding: 'utf8',
    });
    assert.equal(run.stdout, help);
  });

  it('give usage errors in French, with the prefix of chaton’s own errors, and exit 2', () => {
    const typo = chaton(['--dry-rn'], 'fr_FR.UTF-8');
    assert.equal(typo.code, 2);
    assert.equal(
      typo.stderr,
      "erreur : option inconnue '--dry-rn'\n(Vouliez-vous dire --dry-run ?)\n(ajoutez --help pour l'aide)\n",
    );
    const extra = chaton(['inventory', 'check', 'a', 'b'], 'fr_FR.UTF-8');
    assert.match(extra.stderr, /^erreur : trop d'arguments pour 'check' : 0 attendu, 2 donnés\.$/m);
    const shell = chaton(['completion', 'ksh'], 'fr_FR.UTF-8');
    assert.match(shell.stderr, /^erreur : l'argument 'shell' n'accepte pas la valeur 'ksh'\. Choix possibles : bash/m);
    const own = chaton(['inventory', 'chek'], 'fr_FR.UTF-8');
    assert.equal(own.code, 2);
    assert.match(
      own.stderr,
      /^erreur : commande inconnue 'chek' \(commandes de chaton inventory : init, check, show\)/,
    );
    assert.match(own.stderr, /→ vouliez-vous dire chaton inventory check \?/);
  });

  it('under --json, give the French message in the envelope, its keys unchanged', () => {
    const run = chaton(['--json', 'exec'], 'fr_FR.UTF-8');
    assert.equal(run.code, 2);
    const report = JSON.parse(run.stdout) as { command: string; error: { message: string; hint: string } };
    assert.equal(report.command, 'exec');
    assert.deepEqual(report.error, {
      message: "argument obligatoire manquant : 'targets'",
      hint: 'voir chaton exec --help',
    });
  });

  /** commander's own error text for `argv` on a program with one of each kind of option and argument. */
  function commanderError(argv: string[], output: (text: string, write: (text: string) => void) => void) {
    let written = '';
    const program = new Command('p')
      .exitOverride()
      .configureOutput({ writeErr: () => {}, outputError: (text) => output(text, (t) => (written += t)) })
      .option('-o, --only <n>', 'a value', (value) => {
        if (value !== '1') throw new InvalidArgumentError('must be 1.');
        return value;
      })
      .addOption(new Option('-c, --colour <c>', 'a choice').choices(['red', 'blue']).env('P_COLOUR'))
      .requiredOption('-m, --must <m>', 'required');
    program
      .command('sub')
      .addArgument(new Argument('<shell>').choices(['bash']))
      .action(() => {});
    program
      .command('one <a>')
      .addOption(new Option('-q, --quiet').conflicts('verbose'))
      .option('-v, --verbose')
      .action(() => {});
    try {
      program.parse(argv, { from: 'user' });
    } catch {
      // exitOverride: the error is what was written.
    }
    return written;
  }

  const CASES = [
    ['--frobnicate', '-m', 'x'],
    ['--verbos', '-m', 'x'],
    ['-m'],
    ['-m', 'x', '-o', '2'],
    ['-m', 'x', '-c', 'green'],
    ['-m', 'x', 'one', 'a', '-q', '-v'],
    ['-o', '1', 'one', 'a'],
    ['-m', 'x', 'one'],
    ['-m', 'x', 'one', 'a', 'b'],
    ['-m', 'x', 'sub', 'zsh'],
  ];

  it('are read back by their English form: each said again the same under C, all of them in French', async () => {
    const raw = (text: string, write: (text: string) => void) => write(text);
    for (const argv of CASES) {
      const english = commanderError(argv, raw);
      assert.match(english, /^error: /, argv.join(' '));
      assert.equal(commanderError(argv, errorOutput), english, argv.join(' '));
      await inFrench(() => {
        const french = commanderError(argv, errorOutput);
        assert.match(french, /^erreur : /, english);
        const words = /\b(error|unknown|missing|required|cannot|too many|invalid|Allowed|Did you)\b/;
        assert.doesNotMatch(french, words, `${english} → ${french}`);
      })();
    }
  });

  it('from the environment are said as such, and a message commander may add one day passes as it is', async () => {
    await inFrench(() => {
      assert.equal(
        commanderMessage("error: option '-c, --colour <c>' value 'x' from env 'P_COLOUR' is invalid."),
        "l'option '-c, --colour <c>' n'accepte pas la valeur 'x' de la variable d'environnement 'P_COLOUR'.",
      );
      assert.equal(
        commanderMessage("error: environment variable 'A' cannot be used with option '-b'"),
        "la variable d'environnement 'A' ne peut pas être utilisée avec l'option '-b'",
      );
      assert.equal(
        commanderMessage('error: too many arguments. Expected 1 argument but got 2.'),
        "trop d'arguments : 1 attendu, 2 donnés.",
      );
      assert.equal(commanderMessage('error: something new'), 'something new');
    })();
  });
});

describe('the run layer in French', () => {
  it('names the level of each plain progress line in French words, English ones unchanged under C', async () => {
    assert.equal(inWords('COMPLETED'), 'COMPLETED');
    assert.equal(inWords('FAILED: pve1: down'), 'FAILED: pve1: down');
    assert.equal(inWords('RETRY:2'), 'RETRY:2');
    assert.equal(inWords('3.2s'), '3.2s');
    await inFrench(() => {
      assert.equal(inWords('COMPLETED'), 'TERMINÉ');
      assert.equal(inWords('FAILED: pve1: down'), 'ÉCHEC : pve1: down');
      assert.equal(inWords('SKIPPED: nothing to do'), 'IGNORÉ : nothing to do');
    })();
  });

  it('says a host not started, a failed cell and a failure under a table, its name once', async () => {
    await inFrench(() => {
      assert.equal(notStarted('pve1').message, 'pve1 : pas commencé : interrompu');
      assert.equal((FAILED as { text: string }).text, 'ÉCHEC (voir plus bas)');
      const render = (message: string) =>
        rendererFor({ json: false, quiet: false }, 80).render({
          command: 'x',
          exitCode: 1,
          hosts: [],
          view: [{ failure: 'pve1', error: { message, hint: 'regardez' } }],
        });
      assert.equal(render('pve1 : injoignable'), 'pve1 : injoignable\n  → regardez');
      assert.equal(render('injoignable'), 'pve1 : injoignable\n  → regardez');
    })();
    assert.equal((FAILED as { text: string }).text, 'FAILED (see below)');
  });

  it('wraps French text without a line that starts with its colon', async () => {
    const text = 'pve1 : la vérification a échoué : sshd accepte encore la clé ; regardez';
    for (let width = 10; width < text.length; width++) {
      for (const line of wrap(text, width)) assert.doesNotMatch(line, /^[:;]/, `${width}: ${line}`);
    }
    assert.equal(wrap(text, 200).join('\n'), text);
  });

  it('gives why a local file was not read in French', async () => {
    await inFrench(async () => {
      await assert.rejects(readRegularFile(os.tmpdir(), 1024), {
        message: `${os.tmpdir()} est un répertoire, pas un fichier ordinaire`,
      });
      await assert.rejects(readRegularFile('/nonexistent-chaton', 1024), {
        message: "/nonexistent-chaton n'existe pas",
      });
    })();
  });
});

describe('the remote layer in French', () => {
  it('names stdin and a long command in French, but the syslog line of the audit trail stays English', async () => {
    await inFrench(() => {
      assert.equal(display(withStdin(command('passwd'), new Secret('x'))), "passwd <secret sur l'entrée standard>");
      assert.match(brief('x'.repeat(300)), /… \(300 octets\)$/);
      const argv = ['chaton', 'exec', 'all', '--', 'x'.repeat(900)];
      const trailer = hostAuditTrailer('me@laptop', argv).argv.map(String);
      assert.match(trailer.at(-1)!, /… \(\d+ bytes\)$/);
    })();
  });
});

describe('the man page', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'chaton-man-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is English when the build runs under a French locale', async () => {
    const file = path.join(dir, 'chaton.1');
    const script = fileURLToPath(new URL('dist/src/man-page.js', ROOT));
    const run = spawnSync(process.execPath, [script, file], {
      env: { PATH: process.env.PATH, LANG: 'fr_FR.UTF-8', LC_ALL: 'fr_FR.UTF-8', LANGUAGE: 'fr' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const page = await readFile(file, 'utf8');
    assert.match(page, /^\.SH EXIT STATUS\n\.TP\n\.B 0\nsuccess \(or nothing to do\)$/m);
    assert.match(page, /display help for command/);
    assert.doesNotMatch(page, /afficher|Utilisation|succès/);
  });
});
