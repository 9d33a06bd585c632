// The keeper's process (see server.ts), started detached by a run: `main.js <socket> <inventory> <digest>`.
// It says "ready" on stdout once it listens (or once it finds another keeper listening there).
import { Keeper } from './server.js';

const [socket, inventoryFile, digest] = process.argv.slice(2);
if (!socket || !inventoryFile || !digest) {
  process.stdout.write('usage: main.js <socket> <inventory> <digest>\n');
  process.exit(2);
}
// The socket is made 0600 (a socket is bound 0777 less the umask): only this user may connect (its
// directory is 0700 too).
process.umask(0o177);
const keeper = new Keeper(socket, inventoryFile, digest);
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => keeper.stop());
try {
  await keeper.listen();
  process.stdout.write('ready\n');
} catch (error) {
  // Another run started one first: that one serves.
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  process.stdout.write(inUse ? 'ready\n' : `${(error as Error).message}\n`);
  process.exit(inUse ? 0 : 1);
}
