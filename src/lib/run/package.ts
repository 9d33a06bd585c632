// chaton's own files (package.json, the annotated example, the keeper's program), found from the
// package's root. bin/chaton.js runs one bundle (dist/src/chaton.cjs) while the tests load dist/
// module by module: a path relative to a module would be right in only one of them.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** A file of the package: the nearest directory above this code that holds package.json is its root. */
export function packageFile(...parts: string[]): string {
  if (root === undefined) {
    let directory = path.dirname(fileURLToPath(import.meta.url));
    while (!existsSync(path.join(directory, 'package.json'))) {
      const parent = path.dirname(directory);
      if (parent === directory) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
      directory = parent;
    }
    root = directory;
  }
  return path.join(root, ...parts);
}
