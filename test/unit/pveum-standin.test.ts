// The lab's pveum stand-in without a lab: user.cfg read and written as Proxmox VE does, the
// built-in roles, and the command line's output, errors and exit codes against a scratch /etc/pve.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BUILT_IN_ROLES, INSTALLED_USER_CFG, parseUserConfig, run, writeUserConfig } from '../lab/standins/pveum.js';

/** user.cfg as write_user_config lays it out: users and tokens, groups, pools, roles, ACLs by path. */
const CANONICAL = [
  'user:alice@pve:1:0:Alice:Du%3APont:alice@example.org:caf%C3%A9 team:x!yubico:',
  'token:alice@pve!ci:0:1:build bot:',
  'user:bob@pam:0:1767225600::::::',
  'user:root@pam:1:0:::root@localhost:::',
  '',
  'group:admins:alice@pve,bob@pam:The admins:',
  '',
  'pool:web:Web sites:100,1000,101:local-lvm:',
  '',
  'role:Auditor2:Sys.Audit,VM.Audit:',
  '',
  'acl:0:/:bob@pam:NoAccess:',
  'acl:1:/:@admins:PVEAdmin:',
  'acl:1:/vms:alice@pve!ci:PVEVMUser:',
  'acl:1:/vms/100:alice@pve,bob@pam:Auditor2,PVEVMUser:',
  '',
].join('\n');

describe('user.cfg', () => {
  it('writes back what it read, byte for byte', () => {
    const warnings: string[] = [];
    const config = parseUserConfig(CANONICAL, (message) => warnings.push(message));
    assert.deepEqual(warnings, []);
    assert.equal(writeUserConfig(config), CANONICAL);
  });

  it('decodes the encoded fields and keeps the rest as written', () => {
    const config = parseUserConfig(CANONICAL);
    const alice = config.users.get('alice@pve');
    assert.equal(alice?.lastname, 'Du:Pont');
    assert.equal(alice?.comment, 'café team');
    assert.deepEqual([...(alice?.groups ?? [])], ['admins']);
    assert.deepEqual(alice?.tokens.get('ci'), { privsep: 1, expire: 0, comment: 'build bot' });
    assert.equal(config.users.get('bob@pam')?.expire, 1767225600);
    assert.deepEqual(
      config.acl.children.get('vms')?.children.get('100')?.users.get('bob@pam'),
      new Map([
        ['Auditor2', 1],
        ['PVEVMUser', 1],
      ]),
    );
  });

  it('has no e-mail field when the line ends before it, as Perl split drops trailing empty fields', () => {
    const config = parseUserConfig('user:carol@pve:1:0::::::\nuser:dave@pve:1:0::::note::\n');
    assert.equal(config.users.get('carol@pve')?.email, undefined);
    assert.equal(config.users.get('dave@pve')?.email, '');
  });

  it('always has root@pam and the built-in roles, and writes neither role', () => {
    const config = parseUserConfig('');
    assert.deepEqual(config.users.get('root@pam')?.enable, 1);
    assert.ok(config.roles.has('PVEVMAdmin'));
    assert.equal(writeUserConfig(config), 'user:root@pam:1:0::::::\n\n\n\n\n');
  });

  it('warns about and skips what the real parser ignores', () => {
    const warnings: string[] = [];
    const config = parseUserConfig(
      'user:nobody:1:0:::\nuser:eve@pve:1:soon:::\nacl:1:/:eve@pve:Unknown:\nfrobnicate:1\n',
      (m) => warnings.push(m),
    );
    assert.deepEqual(warnings, [
      "user config - ignore user 'nobody' - invalid user name\n",
      "user config - ignore user 'eve@pve' - (illegal characters in expire 'soon')\n",
      "user config - ignore invalid acl role 'Unknown'\n",
      'user config - ignore config line: frobnicate:1\n',
    ]);
    assert.deepEqual([...config.users.keys()], ['root@pam']);
  });

  it('starts a lab as a fresh installation does: root@pam and nothing else', () => {
    assert.equal(INSTALLED_USER_CFG, 'user:root@pam:1:0:::root@localhost:::\n\n\n\n\n');
  });
});

describe('built-in roles', () => {
  it('are the 17 roles of Proxmox VE 8', () => {
    assert.deepEqual([...BUILT_IN_ROLES.keys()].sort(), [
      'Administrator',
      'NoAccess',
      'PVEAdmin',
      'PVEAuditor',
      'PVEDatastoreAdmin',
      'PVEDatastoreUser',
      'PVEMappingAdmin',
      'PVEMappingUser',
      'PVEPoolAdmin',
      'PVEPoolUser',
      'PVESDNAdmin',
      'PVESDNUser',
      'PVESysAdmin',
      'PVETemplateUser',
      'PVEUserAdmin',
      'PVEVMAdmin',
      'PVEVMUser',
    ]);
  });

  it('keep system settings, permissions and network access to Administrator', () => {
    const admin = BUILT_IN_ROLES.get('PVEAdmin') ?? new Set();
    const everything = BUILT_IN_ROLES.get('Administrator') ?? new Set();
    for (const privilege of [
      'Sys.PowerMgmt',
      'Sys.Modify',
      'Sys.Incoming',
      'Sys.AccessNetwork',
      'Realm.Allocate',
      'Permissions.Modify',
      'Mapping.Modify',
    ]) {
      assert.ok(!admin.has(privilege), privilege);
      assert.ok(everything.has(privilege), privilege);
    }
    assert.deepEqual([...(BUILT_IN_ROLES.get('PVEAuditor') ?? [])].sort(), [
      'Datastore.Audit',
      'Mapping.Audit',
      'Pool.Audit',
      'SDN.Audit',
      'Sys.Audit',
      'VM.Audit',
    ]);
    assert.deepEqual([...(BUILT_IN_ROLES.get('PVESysAdmin') ?? [])].sort(), ['Sys.Audit', 'Sys.Console', 'Sys.Syslog']);
  });
});

describe('pveum command line', () => {
  let configDir: string;

  before(async () => {
    configDir = await mkdtemp(path.join(os.tmpdir(), 'chaton-pveum-'));
    await mkdir(path.join(configDir, 'priv'), { mode: 0o700 });
    await writeFile(path.join(configDir, 'user.cfg'), INSTALLED_USER_CFG);
  });
  after(async () => {
    await rm(configDir, { recursive: true, force: true });
  });

  async function pveum(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const code = await run(argv, configDir, {
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      utf8: true,
    });
    return { code, stdout, stderr };
  }

  it('adds a user, and refuses to add it again with the real message and exit code', async () => {
    assert.deepEqual(await pveum('user', 'add', 'ada@pve', '--comment', 'Ada L.', '--email', 'ada@example.org'), {
      code: 0,
      stdout: '',
      stderr: '',
    });
    assert.deepEqual(await pveum('user', 'add', 'ada@pve'), {
      code: 255,
      stdout: '',
      stderr: "create user failed: user 'ada@pve' already exists\n",
    });
    const cfg = await readFile(path.join(configDir, 'user.cfg'), 'utf8');
    assert.match(cfg, /^user:ada@pve:1:0:::ada@example\.org:Ada L\.::$/m);
  });

  it('lists users as the API returns them: fields only when set, realm-type, sorted keys', async () => {
    const { code, stdout } = await pveum('user', 'list', '--output-format', 'json');
    assert.equal(code, 0);
    assert.equal(
      stdout,
      '[{"comment":"Ada L.","email":"ada@example.org","enable":1,"expire":0,"realm-type":"pve","userid":"ada@pve"},' +
        '{"email":"root@localhost","enable":1,"expire":0,"realm-type":"pam","userid":"root@pam"}]\n',
    );
  });

  it('prints json-pretty as JSON::XS does', async () => {
    const { stdout } = await pveum('user', 'list', '--output-format', 'json-pretty', '--enabled', '1', '--full');
    assert.match(stdout, /^\[\n   \{\n      "comment" : "Ada L\.",\n/);
    assert.match(stdout, /\n      "tokens" : null,\n/);
    assert.match(stdout, /\n   }\n]\n$/);
  });

  it('prints a text table with the columns of the API schema', async () => {
    const { stdout } = await pveum('user', 'list');
    const lines = stdout.split('\n');
    assert.match(lines[0] ?? '', /^┌─+┬/);
    assert.match(
      lines[1] ?? '',
      /^│ userid +│ comment +│ email +│ enable │ expire │ firstname │ groups │ keys │ lastname │ realm-type │ tfa-locked-until │ tokens │ totp-locked │$/,
    );
    assert.match(lines[2] ?? '', /^╞═+╪/);
    assert.match(lines[3] ?? '', /^│ ada@pve +│ Ada L\. +│ ada@example\.org +│ 1 +│ +0 │/);
    assert.match(lines[5] ?? '', /^└─+┴/);
  });

  it('disables a user with modify --enable 0, and refuses an unknown one', async () => {
    assert.equal((await pveum('user', 'modify', 'ada@pve', '--enable', '0')).code, 0);
    const users = JSON.parse((await pveum('user', 'list', '--output-format', 'json')).stdout) as {
      userid: string;
      enable: number;
    }[];
    assert.equal(users.find((user) => user.userid === 'ada@pve')?.enable, 0);
    assert.deepEqual(await pveum('user', 'modify', 'nobody@pve', '--enable', '0'), {
      code: 255,
      stdout: '',
      stderr: "update user failed: no such user ('nobody@pve')\n",
    });
  });

  it('grants and lists an ACL, and refuses an unknown role', async () => {
    assert.equal((await pveum('acl', 'modify', '/', '--users', 'ada@pve', '--roles', 'PVEAuditor')).code, 0);
    assert.equal(
      (await pveum('acl', 'list', '--output-format', 'json')).stdout,
      '[{"path":"/","propagate":1,"roleid":"PVEAuditor","type":"user","ugid":"ada@pve"}]\n',
    );
    assert.deepEqual(await pveum('acl', 'modify', '/', '--users', 'ada@pve', '--roles', 'NoSuchRole'), {
      code: 255,
      stdout: '',
      stderr: "ACL update failed: role 'NoSuchRole' does not exist\n",
    });
    assert.equal((await pveum('acl', 'delete', '/', '--users', 'ada@pve', '--roles', 'PVEAuditor')).code, 0);
    assert.equal((await pveum('acl', 'list', '--output-format', 'json')).stdout, '[]\n');
  });

  it('lists the built-in roles with their privileges', async () => {
    const roles = JSON.parse((await pveum('role', 'list', '--output-format', 'json')).stdout) as {
      roleid: string;
      privs: string;
      special: number;
    }[];
    assert.equal(roles.length, 17);
    assert.deepEqual(
      roles.find((role) => role.roleid === 'PVETemplateUser'),
      { privs: 'VM.Audit,VM.Clone', roleid: 'PVETemplateUser', special: 1 },
    );
  });

  it('reports bad parameters as a 400 error with the usage line', async () => {
    assert.deepEqual(await pveum('user', 'add', 'ada'), {
      code: 255,
      stdout: '',
      stderr:
        "400 Parameter verification failed.\nuserid: invalid format - value 'ada' does not look like a valid user name\n\npveum user add <userid> [OPTIONS]\n",
    });
    assert.deepEqual(await pveum('user', 'add', 'eve@pve', '--colour', 'red'), {
      code: 255,
      stdout: '',
      stderr: 'Unknown option: colour\n400 unable to parse option\npveum user add <userid> [OPTIONS]\n',
    });
    assert.deepEqual(await pveum('acl', 'modify', '/', '--roles', 'PVEAuditor'), {
      code: 255,
      stdout: '',
      stderr:
        '400 Parameter verification failed.\n' +
        "groups: either 'users', 'groups' or 'tokens' is required.\n" +
        "tokens: either 'users', 'groups' or 'tokens' is required.\n" +
        "users: either 'users', 'groups' or 'tokens' is required.\n" +
        'pveum acl modify <path> --roles <string> [OPTIONS]\n',
    });
    assert.equal(
      (await pveum('user', 'modify', 'ada@pve', '--expire', 'soon')).stderr.split('\n')[1],
      "expire: type check ('integer') failed - got 'soon'",
    );
  });

  it('answers an unknown or incomplete command with the usage of what exists', async () => {
    const unknown = await pveum('users', 'list');
    assert.equal(unknown.code, 255);
    assert.match(
      unknown.stderr,
      /^ERROR: unknown command 'pveum users'\nUSAGE: pveum <COMMAND> \[ARGS\] \[OPTIONS\]\n\n {7}pveum acl delete <path> --roles <string> \[OPTIONS\]\n/,
    );
    const incomplete = await pveum('user');
    assert.equal(
      incomplete.stderr,
      "ERROR: incomplete command 'pveum user'\nUSAGE: pveum <COMMAND> [ARGS] [OPTIONS]\n\n" +
        '       pveum user add <userid> [OPTIONS]\n' +
        '       pveum user delete <userid>\n' +
        '       pveum user list  [OPTIONS] [FORMAT_OPTIONS]\n' +
        '       pveum user modify <userid> [OPTIONS]\n',
    );
  });

  it('takes unique abbreviations and the old aliases', async () => {
    assert.equal((await pveum('u', 'a', 'grace@pam', '--com', 'G.')).code, 0);
    assert.equal((await pveum('userdel', 'grace@pam')).code, 0);
    const users = JSON.parse((await pveum('user', 'list', '--output-format', 'json')).stdout) as { userid: string }[];
    assert.ok(!users.some((user) => user.userid === 'grace@pam'));
  });

  it('serialises concurrent changes with the cluster lock: every one lands', async () => {
    const names = Array.from({ length: 3 }, (_, index) => `racer${index}@pve`);
    const runs = await Promise.all(names.map((name) => pveum('user', 'add', name)));
    assert.deepEqual(
      runs.map((result) => result.code),
      names.map(() => 0),
    );
    const users = JSON.parse((await pveum('user', 'list', '--output-format', 'json')).stdout) as { userid: string }[];
    for (const name of names)
      assert.ok(
        users.some((user) => user.userid === name),
        name,
      );
  });
});
