// The guards of a risky change (src/lib/remote/guard.ts): golden command lines of both renderings
// of a revert, the state parser on captured output (fixtures/guard/), and the scripts run for real
// with dash and with a busybox-only PATH: a revert fires, or is disarmed and never fires; a
// detached change runs to its end. Their directories are moved from /run/chaton to a temporary one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  applyDetached,
  applyDirectory,
  applyState,
  applyStatus,
  armRevert,
  disarmRevert,
  parseGuardState,
  revertDirectory,
  revertState,
  revertStatus,
  systemdRuns,
} from '../../src/lib/remote/guard.js';
import { command, render, type RemoteCommand } from '../../src/lib/remote/shell.js';

const FIXTURES = fileURLToPath(new URL('../../../test/unit/fixtures/guard/', import.meta.url));
const fixture = (name: string) => parseGuardState(readFileSync(path.join(FIXTURES, name), 'utf8'));

const REVERT = command('ip', 'route', 'replace', 'default', 'via', '198.19.1.65', 'dev', 'wan1');
const CHANGE = command('ip', 'route', 'replace', 'default', 'via', '198.19.1.73', 'dev', 'wan2');

const ARMED_BY_SYSTEMD =
  `sh -c 'mkdir -p -m 0700 -- "\${1%/*}" && mkdir -m 0700 -- "$1" || exit 1
printf '\\''%s\\n'\\'' "$2" > "$1/script" || exit 1
printf '\\''%s\\n'\\'' "$4" > "$1/fire" || exit 1
now=$(date +%s)
printf '\\''armed %s %s\\n'\\'' "$now" "$((now + $3))" >> "$1/state" || exit 1
systemd-run --quiet --collect --unit="$5" --on-active="$3s" /bin/sh "$1/fire" "$1" || exit 1
printf '\\''timer %s systemd %s\\n'\\'' "$(date +%s)" "$5" >> "$1/state"'` +
  ` sh /run/chaton/revert-failover-1 'ip route replace default via 198.19.1.65 dev wan1'` +
  ` 60 'mkdir -- "$1/claimed" 2> /dev/null || exit 0
printf '\\''started %s %s\\n'\\'' "$(date +%s)" "$$" >> "$1/state"
sh "$1/script" < /dev/null > "$1/output" 2>&1
code=$?
printf '\\''ended %s %s\\n'\\'' "$(date +%s)" "$code" >> "$1/state"' chaton-revert-failover-1`;

const ARMED_BY_SLEEPER =
  `sh -c 'mkdir -p -m 0700 -- "\${1%/*}" && mkdir -m 0700 -- "$1" || exit 1
printf '\\''%s\\n'\\'' "$2" > "$1/script" || exit 1
printf '\\''%s\\n'\\'' "$4" > "$1/fire" || exit 1
now=$(date +%s)
printf '\\''armed %s %s\\n'\\'' "$now" "$((now + $3))" >> "$1/state" || exit 1
setsid sh -c '\\''printf "timer %s pid %s\\n" "$(date +%s)" "$$" >> "$1/state"
sleep "$2"
exec sh "$1/fire" "$1"'\\'' sh "$1" "$3" < /dev/null > /dev/null 2>&1 &'` +
  ` sh /run/chaton/revert-failover-1 'ip route replace default via 198.19.1.65 dev wan1'` +
  ` 60 'mkdir -- "$1/claimed" 2> /dev/null || exit 0
printf '\\''started %s %s\\n'\\'' "$(date +%s)" "$$" >> "$1/state"
sh "$1/script" < /dev/null > "$1/output" 2>&1
code=$?
printf '\\''ended %s %s\\n'\\'' "$(date +%s)" "$code" >> "$1/state"'`;

const DISARM = `sh -c 'if [ -d "$1" ] && mkdir -- "$1/claimed" 2> /dev/null; then
  printf '\\''disarmed %s\\n'\\'' "$(date +%s)" >> "$1/state"
  while read -r event at how handle; do
    case "$event $how" in
      '\\''timer systemd'\\'') systemctl stop -- "$handle.timer" > /dev/null 2>&1 ;;
      '\\''timer pid'\\'') kill -TERM -"$handle" 2> /dev/null ;;
    esac
  done < "$1/state"
fi
[ -f "$1/state" ] || exit 0
cat -- "$1/state"
[ -f "$1/output" ] || exit 0
echo '\\''--- output'\\''
tail -c 2000 -- "$1/output"' sh /run/chaton/revert-failover-1`;

const APPLY =
  `sh -c 'mkdir -p -m 0700 -- "\${1%/*}" && mkdir -m 0700 -- "$1" || exit 1
printf '\\''%s\\n'\\'' "$2" > "$1/script" || exit 1
setsid sh -c "$3" sh "$1" < /dev/null > /dev/null 2>&1 &'` +
  ` sh /run/chaton/apply-failover-1 'ip route replace default via 198.19.1.73 dev wan2'` +
  ` 'printf '\\''started %s %s\\n'\\'' "$(date +%s)" "$$" >> "$1/state"
sh "$1/script" < /dev/null > "$1/output" 2>&1
code=$?
printf '\\''ended %s %s\\n'\\'' "$(date +%s)" "$code" >> "$1/state"'`;

const READ_STATE = `sh -c '[ -f "$1/state" ] || exit 0
cat -- "$1/state"
[ -f "$1/output" ] || exit 0
echo '\\''--- output'\\''
tail -c 2000 -- "$1/output"' sh /run/chaton/revert-failover-1`;

describe('guard commands: golden command lines', () => {
  it('arms a revert with a systemd timer where systemd runs', () => {
    const armed = armRevert({ id: 'failover-1', afterSeconds: 60, revert: REVERT, systemd: true });
    assert.equal(render(armed).toString(), ARMED_BY_SYSTEMD);
  });

  it('arms a revert with a detached setsid sleeper elsewhere', () => {
    const armed = armRevert({ id: 'failover-1', afterSeconds: 60, revert: REVERT, systemd: false });
    assert.equal(render(armed).toString(), ARMED_BY_SLEEPER);
  });

  it('disarms, applies detached and reads a state', () => {
    assert.equal(render(disarmRevert('failover-1')).toString(), DISARM);
    assert.equal(render(applyDetached('failover-1', CHANGE)).toString(), APPLY);
    assert.equal(render(revertState('failover-1').command).toString(), READ_STATE);
  });

  it('asks whether systemd runs as sd_booted does', () => {
    assert.equal(
      render(systemdRuns.command).toString(),
      `sh -c 'if [ -d /run/systemd/system ]; then echo systemd; fi'`,
    );
    assert.equal(systemdRuns.parse('systemd\n'), true);
    assert.equal(systemdRuns.parse(''), false);
  });

  it('refuses a script with its own stdin, and a name that is not a file name', () => {
    const withInput = { ...REVERT, stdin: 'data' };
    assert.throws(() => armRevert({ id: 'x', afterSeconds: 5, revert: withInput, systemd: false }), TypeError);
    assert.throws(() => applyDetached('../etc', CHANGE), TypeError);
  });
});

describe('parseGuardState: captured output', () => {
  it('reads an armed revert, its deadline and its sleeper', () => {
    const state = fixture('revert-armed.dash.txt');
    assert.equal(revertStatus(state), 'armed');
    assert.equal(state.armed!.deadline - state.armed!.at, 1);
    assert.equal(state.timer?.kind, 'pid');
  });

  it('reads a disarmed revert', () => {
    const state = fixture('revert-disarmed.dash.txt');
    assert.equal(revertStatus(state), 'disarmed');
    assert.equal(state.started, undefined);
  });

  it('reads a fired revert, with its exit status and output; a disarm too late says the same', () => {
    for (const name of ['revert-fired.busybox.txt', 'revert-fired-disarmed-too-late.busybox.txt']) {
      const state = fixture(name);
      assert.equal(revertStatus(state), 'fired');
      assert.equal(state.ended?.code, 0);
      assert.equal(state.outputTail, 'routes restored in table 101\n');
    }
    const failed = fixture('revert-fired-failed.dash.txt');
    assert.equal(failed.ended?.code, 2);
  });

  it('reads a revert never armed as unknown', () => {
    assert.equal(revertStatus(fixture('revert-never-armed.dash.txt')), 'unknown');
  });

  it('reads a detached change running, then done with its status and both its streams', () => {
    const running = fixture('apply-running.busybox.txt');
    assert.equal(applyStatus(running), 'running');
    assert.equal(running.outputTail, 'switching to backup\n');
    const failed = fixture('apply-failed.busybox.txt');
    assert.equal(applyStatus(failed), 'done');
    assert.equal(failed.ended?.code, 2);
    assert.equal(failed.outputTail, 'switching\nRTNETLINK answers: No such process\n');
  });

  it('skips lines it does not know', () => {
    const state = parseGuardState('armed 10 70\nsomething 11 new\nnot a line\n');
    assert.deepEqual(state.armed, { at: 10, deadline: 70 });
    assert.equal(revertStatus(state), 'armed');
  });
});

const work = mkdtempSync(path.join(os.tmpdir(), 'chaton-guard-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A PATH of busybox applets only: what a small gateway has. */
function busyboxPath(): string {
  const bin = path.join(work, 'busybox-bin');
  mkdirSync(bin);
  const installed = spawnSync('/bin/busybox', ['--install', '-s', bin]);
  assert.equal(installed.status, 0, installed.stderr.toString());
  return bin;
}

const SHELLS = [
  { name: 'dash', PATH: process.env.PATH!, sh: '/bin/dash' },
  { name: 'busybox sh', PATH: busyboxPath(), sh: '/bin/busybox' },
];

let runs = 0;

for (const shell of SHELLS) {
  describe(`guard scripts run for real with ${shell.name}`, { concurrency: true }, () => {
    /** Runs a guard command with its /run/chaton directory moved to `dir`. */
    const run = (cmd: RemoteCommand, from: string, dir: string): string => {
      const argv = cmd.argv.map((word) => (word === from ? dir : word));
      const args = shell.sh === '/bin/busybox' ? ['sh', ...argv.slice(1)] : argv.slice(1);
      const result = spawnSync(shell.sh, args as string[], { env: { PATH: shell.PATH } });
      assert.equal(result.status, 0, result.stderr.toString());
      return result.stdout.toString();
    };
    const fresh = () => {
      const id = `t${++runs}`;
      const base = path.join(work, shell.name.replace(' ', '-'));
      return { id, revertDir: path.join(base, `revert-${id}`), applyDir: path.join(base, `apply-${id}`) };
    };
    const readRevert = (id: string, dir: string) =>
      parseGuardState(run(revertState(id).command, revertDirectory(id), dir));
    /** Reads until `done` says so, for at most 10 s; returns the last read. */
    const until = async <T>(read: () => T, done: (value: T) => boolean): Promise<T> => {
      for (const started = Date.now(); Date.now() - started < 10_000;) {
        const state = read();
        if (done(state)) return state;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return read();
    };
    /** A revert that leaves a file, and says so. */
    const revertWriting = (file: string) => command('sh', '-c', 'echo reverted > "$1" && echo "wrote $1"', 'sh', file);

    it('a revert fires after its delay: the state says fired, exit 0, with its output', async () => {
      const { id, revertDir } = fresh();
      const file = `${revertDir}.fired`;
      run(
        armRevert({ id, afterSeconds: 1, revert: revertWriting(file), systemd: false }),
        revertDirectory(id),
        revertDir,
      );
      const state = await until(
        () => readRevert(id, revertDir),
        (s) => revertStatus(s) === 'fired',
      );
      assert.equal(revertStatus(state), 'fired');
      assert.equal(state.ended?.code, 0);
      assert.equal(state.outputTail, `wrote ${file}\n`);
      assert.ok(existsSync(file));
      // Too late to disarm: the disarm says it fired.
      const disarmed = parseGuardState(run(disarmRevert(id), revertDirectory(id), revertDir));
      assert.equal(revertStatus(disarmed), 'fired');
    });

    it('a disarmed revert never fires, its sleeper is gone, and a second disarm says the same', async () => {
      const { id, revertDir } = fresh();
      const file = `${revertDir}.fired`;
      run(
        armRevert({ id, afterSeconds: 1, revert: revertWriting(file), systemd: false }),
        revertDirectory(id),
        revertDir,
      );
      const armed = await until(
        () => readRevert(id, revertDir),
        (s) => s.timer !== undefined,
      );
      assert.equal(revertStatus(armed), 'armed');
      const disarmed = parseGuardState(run(disarmRevert(id), revertDirectory(id), revertDir));
      assert.equal(revertStatus(disarmed), 'disarmed');
      const sleeper = armed.timer?.kind === 'pid' ? armed.timer.pid : assert.fail('no sleeper pid');
      assert.equal(
        await until(
          () => alive(sleeper),
          (living) => !living,
        ),
        false,
      );
      // Past its deadline, with room to spare: it never ran.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal(existsSync(file), false);
      const again = parseGuardState(run(disarmRevert(id), revertDirectory(id), revertDir));
      assert.equal(revertStatus(again), 'disarmed');
      assert.equal(again.started, undefined);
    });

    it('a disarm of a revert never armed says it is unknown', () => {
      const { id, revertDir } = fresh();
      assert.equal(revertStatus(parseGuardState(run(disarmRevert(id), revertDirectory(id), revertDir))), 'unknown');
    });

    it('a detached change runs to its end: its status and output are recorded', async () => {
      const { id, applyDir } = fresh();
      const change = command('sh', '-c', 'echo "switching to $1"; echo failed >&2; exit 3', 'sh', 'backup');
      run(applyDetached(id, change), applyDirectory(id), applyDir);
      const read = () => parseGuardState(run(applyState(id).command, applyDirectory(id), applyDir));
      const state = await until(read, (s) => applyStatus(s) === 'done');
      assert.equal(applyStatus(state), 'done');
      assert.equal(state.ended?.code, 3);
      assert.equal(state.outputTail, 'switching to backup\nfailed\n');
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
