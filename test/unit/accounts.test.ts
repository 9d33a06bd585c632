// Account facts and changes: the probe's parser, and golden command lines for what onboard and
// offboard would run in each state.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAccount, type AccountState } from '../../src/lib/access/account.js';
import { offboardChanges, onboardChanges, type WantedAccount } from '../../src/lib/access/account-changes.js';
import { epochDay } from '../../src/lib/access/fields.js';
import { sudoRights } from '../../src/lib/access/sudo.js';
import { RefusedError } from '../../src/lib/run/errors.js';
import type { PublicKey } from '../../src/lib/access/public-keys.js';
import { proxmoxFact, proxmoxOffboardChanges, proxmoxOnboardChanges } from '../../src/lib/proxmox/pveum.js';
import { render } from '../../src/lib/remote/shell.js';

const KEY: PublicKey = {
  line: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey1 alice@laptop',
  type: 'ssh-ed25519',
  blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIKey1',
  fingerprint: 'SHA256:x',
  kind: 'ED25519',
  bits: 256,
};
const OTHER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther bob@desk';
const TODAY = epochDay('2026-11-22');

const wanted = (more: Partial<WantedAccount> = {}): WantedAccount => ({
  login: 'alice',
  name: 'Alice Martin',
  keys: [KEY],
  groups: [],
  exclusive: false,
  forwardingOnly: false,
  ...more,
});
const lines = (changes: { command: Parameters<typeof render>[0] }[]) =>
  changes.map((c) => render(c.command).toString());

/** What the probe prints for an onboarded alice (see ACCOUNT_PROBE). */
const ONBOARDED = [
  'sudoers # Written by chaton onboard sysadmin: alice has no password, so sudo asks for none.',
  'sudoers alice ALL=(ALL:ALL) NOPASSWD: ALL',
  'passwd alice:x:1001:1001:Alice Martin:/home/alice:/bin/bash',
  'shadow alice:*:20414:0:99999:7:::',
  'groups alice adm',
  'home 750 alice directory',
  'ssh-dir 700 alice directory',
  'keys-file 600 alice regular file',
  `authorized_keys ${KEY.line}`,
  'processes 2',
  '',
].join('\n');

describe('parseAccount', () => {
  it('reads every field the probe prints', () => {
    const state = parseAccount(ONBOARDED);
    assert.deepEqual(state.account, { uid: 1001, name: 'Alice Martin', home: '/home/alice', shell: '/bin/bash' });
    assert.equal(state.password, '*');
    assert.equal(state.expireDay, undefined);
    assert.deepEqual(state.groups, ['alice', 'adm']);
    assert.deepEqual(state.keysFile, { mode: 0o600, owner: 'alice', type: 'regular file' });
    assert.deepEqual(state.keyLines, [KEY.line]);
    assert.equal(
      state.sudoers,
      '# Written by chaton onboard sysadmin: alice has no password, so sudo asks for none.\nalice ALL=(ALL:ALL) NOPASSWD: ALL\n',
    );
    assert.equal(state.processes, 2);
  });
  it('an absent account is only its leftovers', () => {
    assert.deepEqual(parseAccount(''), { groups: [], missingGroups: [], keyLines: [], keyLines2: [], processes: 0 });
  });
});

describe('onboardChanges', () => {
  it('a new account: useradd key-only, the keys written as the user, the sudoers drop-in checked by visudo', () => {
    const changes = onboardChanges(
      'pve1',
      parseAccount(''),
      wanted({ sudo: 'ALL', groups: ['adm'], expires: '2027-06-30' }),
      TODAY,
    );
    const [useradd, keys, sudoers] = lines(changes);
    assert.equal(
      useradd,
      "useradd --create-home --shell /bin/bash --password '*' --comment 'Alice Martin' --groups adm --expiredate 2027-06-30 -- alice",
    );
    assert.match(keys!, /^runuser -u alice -- sh -c '.*' sh \/home\/alice\/\.ssh$/s);
    assert.equal(changes[1]!.command.stdin, `${KEY.line}\n`);
    assert.match(sudoers!, /^sh -c '.*visudo -cf "\$tmp".*' sh \/etc\/sudoers\.d\/chaton-alice$/s);
    assert.equal(
      changes[2]!.command.stdin,
      '# Written by chaton onboard sysadmin: alice has no password, so sudo asks for none.\nalice ALL=(ALL:ALL) NOPASSWD: ALL\n',
    );
  });

  it('the state already wanted: no change at all', () => {
    assert.deepEqual(onboardChanges('pve1', parseAccount(ONBOARDED), wanted({ sudo: 'ALL' }), TODAY), []);
  });

  it('other keys are kept, or removed with exclusive; a key already there is not added twice', () => {
    const state = { ...parseAccount(ONBOARDED), keyLines: [OTHER, KEY.line] };
    assert.deepEqual(onboardChanges('pve1', state, wanted({ sudo: 'ALL' }), TODAY), []);
    const exclusive = onboardChanges('pve1', state, wanted({ sudo: 'ALL', exclusive: true }), TODAY);
    assert.equal(exclusive.length, 1);
    assert.equal(exclusive[0]!.what, 'write ~/.ssh/authorized_keys (1 other key removed)');
    assert.equal(exclusive[0]!.command.stdin, `${KEY.line}\n`);
  });

  it('a locked, expired account (offboarded) is unlocked for keys only and its expiry cleared; sudo removed when not asked', () => {
    const state: AccountState = { ...parseAccount(ONBOARDED), password: '!*', expireDay: 1 };
    const changes = onboardChanges('pve1', state, wanted(), TODAY);
    assert.deepEqual(lines(changes), [
      "usermod --password '*' --expiredate '' -- alice",
      'rm -f -- /etc/sudoers.d/chaton-alice',
    ]);
  });

  it('a forwarding-only bastion: no shell, keys limited to forwarding, never sudo', () => {
    const changes = onboardChanges('bastion', parseAccount(''), wanted({ sudo: 'ALL', forwardingOnly: true }), TODAY);
    assert.equal(changes.length, 2);
    assert.match(render(changes[0]!.command).toString(), /--shell \/usr\/sbin\/nologin/);
    assert.equal(changes[1]!.command.stdin, `restrict,port-forwarding ${KEY.line}\n`);
  });

  it('refuses a system account, a missing group and a symlinked ~/.ssh, before any change', () => {
    const system = parseAccount('passwd www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n');
    assert.throws(
      () => onboardChanges('gw', system, wanted({ login: 'www-data' }), TODAY),
      (e: Error) => e instanceof RefusedError && /system account there \(uid 33\)/.test(e.message),
    );
    assert.throws(
      () =>
        onboardChanges('gw', { ...parseAccount(''), missingGroups: ['docker'] }, wanted({ groups: ['docker'] }), TODAY),
      /group docker does not exist/,
    );
    const linked = { ...parseAccount(ONBOARDED), sshDir: { mode: 0o777, owner: 'alice', type: 'symbolic link' } };
    assert.throws(() => onboardChanges('gw', linked, wanted(), TODAY), /~\/\.ssh of alice is a symbolic link/);
    const nobody = parseAccount('passwd nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    assert.throws(
      () => onboardChanges('gw', nobody, wanted({ login: 'nobody' }), TODAY),
      /system account there \(uid 65534\)/,
    );
    assert.throws(() => offboardChanges('gw', nobody, 'nobody', false), /system account there \(uid 65534\)/);
  });

  it('a ~/.ssh owned by someone else is given back without following a link (chown -h)', () => {
    const state = { ...parseAccount(ONBOARDED), sshDir: { mode: 0o700, owner: 'root', type: 'directory' } };
    assert.equal(
      lines(onboardChanges('pve1', state, wanted({ sudo: 'ALL' }), TODAY))[0],
      'chown -h alice: -- /home/alice/.ssh',
    );
  });
});

describe('offboardChanges', () => {
  it('locks, ends processes before touching files, removes keys (as the user) and sudo; the home only when asked and owned', () => {
    const state = parseAccount(ONBOARDED);
    assert.deepEqual(lines(offboardChanges('pve1', state, 'alice', false)), [
      'usermod --lock --expiredate 1 -- alice',
      'pkill -KILL -u alice',
      'runuser -u alice -- rm -f -- /home/alice/.ssh/authorized_keys',
      'rm -f -- /etc/sudoers.d/chaton-alice',
    ]);
    assert.equal(
      lines(offboardChanges('pve1', state, 'alice', true)).at(-1),
      'rm -rf --one-file-system -- /home/alice',
    );
    const shared = { ...state, account: { ...state.account!, home: '/home' } };
    assert.throws(() => offboardChanges('pve1', shared, 'alice', true), /removes only a home the user owns/);
  });
  it('a symlinked ~/.ssh: the link itself is removed, never what it points to', () => {
    const linked = { ...parseAccount(ONBOARDED), sshDir: { mode: 0o777, owner: 'alice', type: 'symbolic link' } };
    assert.equal(
      lines(offboardChanges('pve1', linked, 'alice', false))[2],
      'runuser -u alice -- rm -f -- /home/alice/.ssh',
    );
  });
  it('already offboarded: nothing to do', () => {
    const done = parseAccount(
      'passwd alice:x:1001:1001:Alice Martin:/home/alice:/bin/bash\nshadow alice:!*:20414:0:99999:7::1:\nprocesses 0\n',
    );
    assert.deepEqual(offboardChanges('pve1', done, 'alice', false), []);
  });
});

describe('pveum changes', () => {
  const wantedUser = { login: 'alice', role: 'PVEAdmin', name: 'Alice Martin', expire: 0 };
  it('creates the user and its ACL, then nothing', () => {
    assert.deepEqual(lines(proxmoxOnboardChanges({ rootRoles: [], roles: ['PVEAdmin'] }, wantedUser)), [
      "pveum user add alice@pam --comment 'Alice Martin' --expire 0 --enable 1",
      'pveum acl modify / --users alice@pam --roles PVEAdmin',
    ]);
    const done = {
      user: { enable: true, expire: 0, comment: 'Alice Martin', email: '' },
      rootRoles: ['PVEAdmin'],
      roles: ['PVEAdmin'],
    };
    assert.deepEqual(proxmoxOnboardChanges(done, wantedUser), []);
    assert.deepEqual(lines(proxmoxOnboardChanges({ ...done, user: { ...done.user, enable: false } }, wantedUser)), [
      "pveum user modify alice@pam --comment 'Alice Martin' --expire 0 --enable 1",
    ]);
  });
  it('offboard disables an enabled user only', () => {
    const user = { enable: true, expire: 0, comment: '', email: '' };
    assert.deepEqual(lines(proxmoxOffboardChanges({ user, rootRoles: [], roles: [] }, 'alice')), [
      'pveum user modify alice@pam --enable 0',
    ]);
    assert.deepEqual(
      proxmoxOffboardChanges({ user: { ...user, enable: false }, rootRoles: [], roles: [] }, 'alice'),
      [],
    );
    assert.deepEqual(proxmoxOffboardChanges({ rootRoles: [], roles: [] }, 'alice'), []);
  });
});

describe('sudoRights: parsing `sudo -l -U` as sudo prints it', () => {
  // Captured on Debian 12 (sudo 1.9.13p3) on 2026-12-01, the user renamed alice: `sudo -n -l -U alice`
  // with a drop-in giving ALL, one giving two commands, none; and the first under LANG=fr_FR.UTF-8.
  const captured = (name: string) =>
    readFileSync(fileURLToPath(new URL(`../../../test/unit/fixtures/captured/${name}`, import.meta.url)), 'utf8');
  const rights = sudoRights('alice');

  it('reads the rules after the Defaults, one per line', () => {
    assert.deepEqual(rights.parse(captured('sudo-l-full.txt')), ['(ALL : ALL) NOPASSWD: ALL']);
    assert.deepEqual(rights.parse(captured('sudo-l-commands.txt')), [
      '(ALL : ALL) NOPASSWD: /usr/sbin/qm, /usr/bin/pvesh',
    ]);
    assert.deepEqual(rights.parse(captured('sudo-l-none.txt')), []);
  });

  it('asks in the C locale, since a translated answer does not read', () => {
    assert.deepEqual(rights.parse(captured('sudo-l-full.fr.txt')), []);
    assert.equal(render(rights.command).toString(), "env 'LC_ALL=C' sudo -n -l -U alice");
  });
});

describe('proxmoxFact: parsing pveum user, acl and role lists', () => {
  // No Proxmox host runs here to capture from: the items have the fields and value types the
  // API returns (pve-access-control PVE/API2/User.pm index, ACL.pm read_acl, Role.pm index),
  // printed by `--output-format json` one list per line; absent fields are left out, as Perl does.
  const users =
    '[{"enable":1,"expire":0,"realm-type":"pam","userid":"root@pam","email":"admin@example.org"},' +
    '{"comment":"Jeanne Dupont","enable":0,"expire":1798675200,"realm-type":"pam","userid":"jdupont@pam"}]';
  const acl =
    '[{"path":"/","propagate":1,"roleid":"PVEAdmin","type":"user","ugid":"jdupont@pam"},' +
    '{"path":"/vms/100","propagate":1,"roleid":"PVEVMUser","type":"user","ugid":"jdupont@pam"},' +
    '{"path":"/","propagate":1,"roleid":"PVEAuditor","type":"group","ugid":"jdupont@pam"}]';
  const roles = '[{"privs":"VM.Audit","roleid":"PVEAuditor","special":1},{"privs":"","roleid":"NoAccess","special":1}]';

  it("reads the user's state, its roles on / (as a user, not a group's), and the roles there are", () => {
    const state = proxmoxFact('jdupont').parse(`${users}\n\n${acl}\n\n${roles}\n`);
    assert.deepEqual(state, {
      user: { enable: false, expire: 1798675200, comment: 'Jeanne Dupont', email: '' },
      rootRoles: ['PVEAdmin'],
      roles: ['PVEAuditor', 'NoAccess'],
    });
  });

  it('knows a user that does not exist yet, and an enabled one whose enable field is left out', () => {
    assert.equal(proxmoxFact('alice').parse(`${users}\n\n[]\n\n${roles}\n`).user, undefined);
    const implicit = '[{"expire":0,"realm-type":"pam","userid":"alice@pam"}]';
    assert.equal(proxmoxFact('alice').parse(`${implicit}\n\n[]\n\n${roles}\n`).user?.enable, true);
  });
});
