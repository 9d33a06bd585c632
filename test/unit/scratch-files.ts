// Inventory files written for one describe block, in a temporary directory removed after it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

export interface ScratchFiles {
  /** The directory (set once the block's `before` has run). */
  readonly directory: string;
  /** A new file holding `text`. */
  file(text: string): Promise<string>;
}

/** Call inside a describe block: registers its before and after hooks. */
export function scratchFiles(prefix: string): ScratchFiles {
  let directory = '';
  let count = 0;
  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });
  return {
    get directory() {
      return directory;
    },
    async file(text: string) {
      const file = path.join(directory, `chaton-${++count}.yaml`);
      await writeFile(file, text);
      return file;
    },
  };
}
