// The floor for a Node.js client on this machine: the least an ssh2 program can do to run a
// command on N hosts through the bastion (one bastion connection, N direct-tcpip hops, no
// inventory, no host-key check, no output, no audit). What chaton adds is measured against it.
// Usage: node dist/bench/floor.js <bastion address> <private key> <host address>...
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const [bastionAddress, keyFile, ...hosts] = process.argv.slice(2);
if (!bastionAddress || !keyFile || hosts.length === 0) {
  process.stderr.write('usage: floor.js <bastion address> <private key> <host address>...\n');
  process.exit(2);
}
const privateKey = readFileSync(keyFile);
const trustAnything = () => true;

function runOn(bastion: ssh2.Client, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    bastion.forwardOut('127.0.0.1', 0, address, 22, (error, sock) => {
      if (error) return reject(error);
      const client = new ssh2.Client();
      client
        .on('ready', () =>
          client.exec('uptime', (execError, channel) => {
            if (execError) return reject(execError);
            channel.on('close', () => {
              client.end();
              resolve();
            });
            channel.resume();
            channel.stderr.resume();
            channel.end();
          }),
        )
        .on('error', reject)
        .connect({ sock, username: 'root', privateKey, hostVerifier: trustAnything });
    });
  });
}

const bastion = new ssh2.Client();
bastion
  .on('ready', () => {
    Promise.all(hosts.map((address) => runOn(bastion, address))).then(
      () => bastion.end(),
      (error: Error) => {
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      },
    );
  })
  .on('error', (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  })
  .connect({ host: bastionAddress, username: 'root', privateKey, hostVerifier: trustAnything });
