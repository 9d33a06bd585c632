// The keeper's wire (frames, errors across the socket) and where its socket may live.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ExitCode, HostKeyError, KeysRefusedError, UsageError } from '../../src/lib/run/errors.js';
import { keeperDirectory, keeperSocket, safeDirectory, UnsafeKeeperPath } from '../../src/lib/ssh/keeper/paths.js';
import {
  Frame,
  frame,
  FrameReader,
  fromWire,
  GarbageError,
  jsonFrame,
  toWire,
} from '../../src/lib/ssh/keeper/protocol.js';

describe('keeper frames', () => {
  it('cuts a byte stream into the frames written, however it is split', () => {
    const written = Buffer.concat([
      jsonFrame({ op: 'exec', id: 1 }),
      frame(Frame.stdout, Buffer.from('out')),
      frame(Frame.stderr, Buffer.alloc(0)),
    ]);
    for (const size of [1, 2, 7, written.length]) {
      const read: [number, string][] = [];
      const reader = new FrameReader((type, payload) => read.push([type, payload.toString()]));
      for (let at = 0; at < written.length; at += size) reader.push(written.subarray(at, at + size));
      assert.deepEqual(read, [
        [Frame.json, '{"op":"exec","id":1}'],
        [Frame.stdout, 'out'],
        [Frame.stderr, ''],
      ]);
    }
  });

  it('refuses what is not a frame: garbage from a socket that is not a keeper', () => {
    const reader = new FrameReader(() => assert.fail('no frame'));
    assert.throws(() => reader.push(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')), GarbageError);
  });

  it('carries errors with their class, host, words and exit code', () => {
    const changed = fromWire(toWire(new HostKeyError('pve1', 'HOST KEY CHANGED for pve1', 'ssh-keygen -R ...')));
    assert.ok(changed instanceof HostKeyError);
    assert.equal(changed.host, 'pve1');
    assert.equal(changed.exitCode, ExitCode.connection);
    assert.equal(changed.hint, 'ssh-keygen -R ...');
    assert.ok(fromWire(toWire(new KeysRefusedError('pve2', 'refused'))) instanceof KeysRefusedError);
    const usage = fromWire(toWire(new UsageError('bad', 'fix it')));
    assert.equal((usage as UsageError).exitCode, ExitCode.usage);
    assert.equal(fromWire(toWire(new Error('plain'))).message, 'plain');
  });
});

describe('keeper socket', () => {
  it('lives in $XDG_RUNTIME_DIR/chaton, else /tmp/chaton-<uid>; one per inventory and language', () => {
    assert.equal(keeperDirectory({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/chaton');
    assert.equal(keeperDirectory({}), `/tmp/chaton-${process.getuid!()}`);
    assert.equal(keeperDirectory({ XDG_RUNTIME_DIR: 'relative' }), `/tmp/chaton-${process.getuid!()}`);
    const socket = (file: string, lang: string) => keeperSocket('/d', file, { LANG: lang });
    assert.match(socket('/a/inventory.yaml', 'C.UTF-8'), /^\/d\/keeper-[0-9a-f]{16}\.sock$/);
    assert.notEqual(socket('/a/inventory.yaml', 'C.UTF-8'), socket('/b/inventory.yaml', 'C.UTF-8'));
    assert.notEqual(socket('/a/inventory.yaml', 'C.UTF-8'), socket('/a/inventory.yaml', 'fr_FR.UTF-8'));
  });

  it('is made 0700, and refused when others may enter it', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'chaton-keeper-'));
    const made = path.join(base, 'made');
    await safeDirectory(made);
    const open = path.join(base, 'open');
    await mkdir(open);
    await chmod(open, 0o755);
    await assert.rejects(
      safeDirectory(open),
      (error) => error instanceof UnsafeKeeperPath && /mode 755/.test(error.message),
    );
  });
});
