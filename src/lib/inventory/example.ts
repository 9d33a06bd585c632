// The annotated example ships in the package, next to dist/: messages that send the operator to
// it name the file where it really is on this machine, wherever chaton was installed.
import { fileURLToPath } from 'node:url';

/** inventory.example.yaml at the package root, from dist/src/lib/inventory/. */
export const EXAMPLE_FILE = fileURLToPath(new URL('../../../../inventory.example.yaml', import.meta.url));
