// When chaton paints its output: the colour conventions a terminal user expects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wantsColour } from '../../src/lib/run/output.js';

describe('wantsColour', () => {
  it('paints on a terminal only, never on TERM=dumb, and obeys --no-color, NO_COLOR and FORCE_COLOR', () => {
    assert.equal(wantsColour(true, {}, true), true);
    assert.equal(wantsColour(true, {}, false), false);
    assert.equal(wantsColour(true, { TERM: 'dumb' }, true), false);
    assert.equal(wantsColour(true, { TERM: 'xterm-256color' }, true), true);
    assert.equal(wantsColour(false, {}, true), false);
    assert.equal(wantsColour(true, { NO_COLOR: '1' }, true), false);
    assert.equal(wantsColour(true, { NO_COLOR: '' }, true), true);
    assert.equal(wantsColour(true, { FORCE_COLOR: '1', TERM: 'dumb' }, false), true);
    assert.equal(wantsColour(true, { FORCE_COLOR: '0' }, true), false);
  });
});
