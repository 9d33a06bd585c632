// The annotated example ships in the package, next to dist/: messages that send the operator to
// it name the file where it really is on this machine, wherever chaton was installed.
import { packageFile } from '../run/package.js';

/** inventory.example.yaml at the package root. */
export const EXAMPLE_FILE = packageFile('inventory.example.yaml');
