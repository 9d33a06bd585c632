// The failover watchdog (src/lib/network/watchdog.ts): the settings and the install commands as
// rendered (golden), and the round script run for real under sh and busybox sh, with stand-ins of
// ping, ip, conntrack, nsupdate and logger on PATH, driven by files: which sources are cut, the
// main table's default route.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import type { FailoverSection } from '../../src/lib/network/inventory.js';
import {
  installedVersion,
  installWatchdog,
  parseFileStates,
  parseWatchdogState,
  removeWatchdog,
  WATCHDOG_SCRIPT,
  watchdogFiles,
  watchdogSettings,
  watchdogStateFact,
} from '../../src/lib/network/watchdog.js';
import { render } from '../../src/lib/remote/shell.js';
import { FAILOVER } from './network-scenario.js';

const SITE: FailoverSection = {
  ...FAILOVER,
  dns: { server: '192.0.2.53', zone: 'site.test', names: ['www.site.test'], ttl: 60, keyFile: '/etc/k.key' },
};

describe('watchdog: golden settings and commands', () => {
  it('gives the script the ping, route, conntrack and nsupdate commands of failover status and to', () => {
    const [header, ...lines] = watchdogSettings(SITE).split('\n');
    assert.match(header!, /^# Written by chaton failover watchdog install/);
    assert.equal(
      lines.join('\n'),
      "set -- /var/lib/chaton/failover-watchdog /run/chaton/failover.lock 3 2 2 '192.0.2.1 198.51.100.1 203.0.113.1' " +
        "'ping -q -c 3 -i 0.2 -W 1 -I 198.19.250.66' 'via 198.19.250.65 dev wan1' " +
        "'ip route replace default via 198.19.250.65 dev wan1 src 198.19.250.66' " +
        "'conntrack -D -q 198.19.250.74' 'nsupdate -t 10 -k /etc/k.key' " +
        "'server 192.0.2.53\nzone site.test.\nupdate delete www.site.test. A\n" +
        "update add www.site.test. 60 A 198.19.250.66\nsend\n' " +
        "'ping -q -c 3 -i 0.2 -W 1 -I 198.19.250.74' 'via 198.19.250.73 dev wan2' " +
        "'ip route replace default via 198.19.250.73 dev wan2 src 198.19.250.74' " +
        "'conntrack -D -q 198.19.250.66' 'nsupdate -t 10 -k /etc/k.key' " +
        "'server 192.0.2.53\nzone site.test.\nupdate delete www.site.test. A\n" +
        "update add www.site.test. 60 A 198.19.250.74\nsend\n'\n",
    );
    const plain = watchdogSettings({ ...FAILOVER, conntrackFlush: false });
    assert.match(plain, /'ip route replace default via 198\.19\.250\.73 dev wan2 src 198\.19\.250\.74' '' '' ''\n$/);
  });

  it('installs the script, its settings and the cron entry, each whole, in that order', () => {
    const files = watchdogFiles(SITE);
    assert.deepEqual(
      files.map((file) => [file.path, file.mode]),
      [
        ['/usr/local/sbin/chaton-failover-watchdog', '0755'],
        ['/etc/chaton/failover-watchdog.conf', '0644'],
        ['/etc/cron.d/chaton-failover-watchdog', '0644'],
      ],
    );
    assert.match(
      files[2]!.content,
      /^\* \* \* \* \* root \/usr\/local\/sbin\/chaton-failover-watchdog \/etc\/chaton\/failover-watchdog\.conf$/m,
    );
    const rendered = render(installWatchdog(files)).toString();
    assert.ok(rendered.startsWith("sh -c 'action=$1\nshift\ncase $action in\ncheck | write)\n"));
    assert.ok(rendered.includes(`\nesac' sh write /usr/local/sbin/chaton-failover-watchdog 0755 '#!/bin/sh\n`));
    assert.ok(
      rendered.endsWith(
        " /etc/cron.d/chaton-failover-watchdog 0644 '# Written by chaton failover watchdog " +
          'install: one round a minute (see /usr/local/sbin/chaton-failover-watchdog).\n* * * * * root ' +
          "/usr/local/sbin/chaton-failover-watchdog /etc/chaton/failover-watchdog.conf\n'",
      ),
    );
    assert.ok(
      render(removeWatchdog)
        .toString()
        .endsWith(
          "' sh remove /etc/cron.d/chaton-failover-watchdog /usr/local/sbin/chaton-failover-watchdog " +
            '/etc/chaton/failover-watchdog.conf /var/lib/chaton/failover-watchdog.state ' +
            '/var/lib/chaton/failover-watchdog.log',
        ),
    );
  });

  it('tells current, stale and absent from what the check said', () => {
    const said = (text: string) => installedVersion(parseFileStates(text));
    assert.equal(said('same /a\nsame /b\n'), 'current');
    assert.equal(said('same /a\ndiffers /b\n'), 'stale');
    assert.equal(said('same /a\nmissing /b\n'), 'stale');
    assert.equal(said('missing /a\nmissing /b\n'), 'absent');
  });
});

/** The shells the gateway may have: dash (or bash) as sh, and busybox's (the wan lab's gateway has it). */
const SHELLS = [['sh'], ['busybox', 'sh']];

/** The stand-ins: ping fails through a source listed in `cut`; ip reads and writes `route`. */
const STAND_INS: Record<string, string> = {
  ping: `for word; do [ "$prev" = -I ] && through=$word; prev=$word; done
grep -qx "$through" "$FAKE/cut" 2>/dev/null && exit 1
exit 0`,
  ip: `echo "ip $*" >>"$FAKE/calls"
case "$*" in
'route show table main default') cat "$FAKE/route" ;;
'route replace default '*) shift 2; echo "$*" >"$FAKE/route" ;;
*) exit 2 ;;
esac`,
  conntrack: `echo "conntrack $*" >>"$FAKE/calls"; exit 1`,
  nsupdate: `echo "nsupdate $* $(tr '\\n' ';')" >>"$FAKE/calls"`,
  logger: `echo "$*" >>"$FAKE/syslog"`,
};

const root = mkdtempSync(path.join(tmpdir(), 'chaton-watchdog-'));
after(() => rmSync(root, { recursive: true, force: true }));

for (const shell of SHELLS) {
  describe(`watchdog rounds under ${shell.join(' ')}`, () => {
    const fake = path.join(root, shell.join('-'));
    const base = path.join(fake, 'state', 'failover-watchdog');
    const lock = path.join(fake, 'run', 'failover.lock');
    const settings = path.join(fake, 'watchdog.conf');
    const script = path.join(fake, 'watchdog.sh');
    const env = { ...process.env, FAKE: fake, PATH: `${path.join(fake, 'bin')}:${process.env.PATH}` };

    beforeEach(() => {
      rmSync(fake, { recursive: true, force: true });
      mkdirSync(path.join(fake, 'bin'), { recursive: true });
      for (const [name, body] of Object.entries(STAND_INS)) {
        writeFileSync(path.join(fake, 'bin', name), `#!/bin/sh\n${body}\n`);
        chmodSync(path.join(fake, 'bin', name), 0o755);
      }
      writeFileSync(settings, watchdogSettings(SITE, { stateBase: base, lock }));
      writeFileSync(script, WATCHDOG_SCRIPT);
      onLink('main');
      cut();
    });

    const onLink = (link: 'main' | 'backup') => {
      const { nextHop, interface: dev, source } = SITE.links[link];
      writeFileSync(path.join(fake, 'route'), `default via ${nextHop} dev ${dev} src ${source} \n`);
    };
    const cut = (...links: ('main' | 'backup')[]) =>
      writeFileSync(path.join(fake, 'cut'), links.map((link) => `${SITE.links[link].source}\n`).join(''));
    const round = () => {
      const ran = spawnSync(shell[0]!, [...shell.slice(1), script, settings], { env, encoding: 'utf8' });
      assert.equal(ran.stderr, '');
      return ran.status;
    };
    const state = () => parseWatchdogState(readState()).state;
    const readState = () => {
      const ran = spawnSync('sh', ['-c', render(watchdogStateFact(100, base).command).toString()], { env });
      return ran.stdout.toString();
    };
    const route = () => readFileSync(path.join(fake, 'route'), 'utf8');
    const calls = () => (existsSync(path.join(fake, 'calls')) ? readFileSync(path.join(fake, 'calls'), 'utf8') : '');

    it('moves to backup after `down` bad rounds of main, conntrack and DNS too, back after `up` good ones', () => {
      cut('main');
      assert.equal(round(), 0);
      assert.equal(round(), 0);
      assert.deepEqual([state().decision, state().bad, state().active], ['stay', '2', 'main']);
      assert.match(route(), /via 198\.19\.250\.65 dev wan1/);
      assert.equal(round(), 0);
      assert.match(route(), /^default via 198\.19\.250\.73 dev wan2 src 198\.19\.250\.74$/m);
      assert.deepEqual(
        [state().decision, state().bad, state().active, state().switched],
        ['to-backup', '0', 'backup', 'to-backup'],
      );
      assert.match(calls(), /^conntrack -D -q 198\.19\.250\.66$/m);
      assert.match(calls(), /^nsupdate -t 10 -k \/etc\/k\.key server 192\.0\.2\.53;.*A 198\.19\.250\.74;send;$/m);
      cut();
      assert.equal(round(), 0);
      assert.match(route(), /dev wan2/);
      assert.equal(round(), 0);
      assert.match(route(), /^default via 198\.19\.250\.65 dev wan1 src 198\.19\.250\.66$/m);
      assert.equal(state().decision, 'to-main');
      assert.match(calls(), /^conntrack -D -q 198\.19\.250\.74$/m);
      const { rounds } = parseWatchdogState(readState());
      assert.deepEqual(
        rounds.map((r) => [r.words.decision, r.words.main, r.words.backup]),
        [
          ['stay', '0/3', '3/3'],
          ['stay', '0/3', '3/3'],
          ['to-backup', '0/3', '3/3'],
          ['stay', '3/3', '3/3'],
          ['to-main', '3/3', '3/3'],
        ],
      );
      const syslog = readFileSync(path.join(fake, 'syslog'), 'utf8').trim().split('\n');
      assert.equal(syslog.length, 5);
      assert.match(syslog[2]!, /^-t chaton-failover-watchdog decision=to-backup active=backup .* conntrack=1 dns=0$/);
    });

    it('never flaps: main bad and good in turn switches nothing', () => {
      for (let i = 0; i < 4; i++) {
        cut('main');
        round();
        cut();
        round();
      }
      assert.match(route(), /dev wan1/);
      assert.doesNotMatch(calls(), /replace/);
      onLink('backup');
      for (let i = 0; i < 4; i++) {
        cut('main');
        round();
        cut();
        round();
      }
      assert.match(route(), /dev wan2/);
    });

    it('stays on main while backup is down too, and moves once backup answers', () => {
      cut('main', 'backup');
      for (let i = 0; i < 4; i++) round();
      assert.match(route(), /dev wan1/);
      assert.deepEqual([state().decision, state().bad], ['stay-backup-down', '4']);
      cut('main');
      round();
      assert.match(route(), /dev wan2/);
    });

    it("leaves the round to whoever holds the failover lock, and takes a dead round's", async () => {
      const holder = spawn('sleep', ['30']);
      const heldBy = (owner: string) => {
        mkdirSync(lock, { recursive: true });
        writeFileSync(path.join(lock, 'owner'), `${owner} pid ${holder.pid} since 2026-12-02T04:00:00Z\n`);
      };
      try {
        cut('main');
        heldBy('alice@laptop');
        for (let i = 0; i < 3; i++) assert.equal(round(), 0);
        heldBy('chaton-failover-watchdog');
        assert.equal(round(), 0);
        assert.match(route(), /dev wan1/);
        assert.equal(state().decision, undefined);
        const { rounds } = parseWatchdogState(readState());
        assert.deepEqual(
          rounds.map((r) => `${r.words.decision} ${r.words.holder}`),
          [...Array(3).fill('skipped alice@laptop'), 'skipped chaton-failover-watchdog'],
        );
      } finally {
        holder.kill();
      }
      await new Promise((resolve) => holder.once('exit', resolve));
      round();
      assert.equal(state().bad, '1', "the dead round's lock is taken over");
      assert.ok(!existsSync(lock), 'the round gave its lock back');
      heldBy('alice@laptop');
      round();
      assert.equal(state().bad, '1', "a lock of chaton's, whatever its pid, is left alone");
    });

    it('leaves a route through neither link for backup when main is down', () => {
      writeFileSync(path.join(fake, 'route'), '');
      cut('main');
      for (let i = 0; i < 3; i++) round();
      assert.match(route(), /dev wan2/);
      assert.equal(state().decision, 'to-backup');
    });

    it('says a switch that failed, exit 1, and tries again next round', () => {
      const refusing = `#!/bin/sh\n[ "$1 $2" = 'route show' ] && exec cat "$FAKE/route"\nexit 2\n`;
      writeFileSync(path.join(fake, 'bin', 'ip'), refusing);
      cut('main');
      assert.deepEqual([round(), round(), round(), round()], [0, 0, 1, 1]);
      assert.deepEqual([state().decision, state().active, state().bad], ['failed-to-backup', 'main', '4']);
      assert.doesNotMatch(calls(), /conntrack/);
    });
  });
}
