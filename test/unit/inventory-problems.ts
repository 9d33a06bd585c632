// One check for a section's problem list: each problem, in order, starts with what the test
// expects (`line:col path: message`), and every problem has a next step.
import assert from 'node:assert/strict';
import { InventoryError } from '../../src/lib/inventory/reader.js';

export function assertProblems(error: unknown, expected: readonly string[]): InventoryError {
  assert.ok(error instanceof InventoryError);
  const found = error.problems.map(
    ({ position, path: at, message }) => `${position.line}:${position.col} ${at}: ${message}`,
  );
  assert.equal(found.length, expected.length, found.join('\n'));
  found.forEach((line, i) => assert.ok(line.startsWith(expected[i]!), `${line}\nshould start with\n${expected[i]}`));
  assert.ok(
    error.problems.every((problem) => problem.hint),
    'every problem has a next step',
  );
  return error;
}
