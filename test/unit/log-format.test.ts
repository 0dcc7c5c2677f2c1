import assert from 'node:assert/strict';
import { logFormat } from '../../src/log.js';

describe('log format', () => {
  it('is pretty on a terminal and JSON otherwise, unless SIXPN_LOG_FORMAT says', () => {
    assert.equal(logFormat({}, true), 'pretty');
    assert.equal(logFormat({}, false), 'json');
    assert.equal(logFormat({ SIXPN_LOG_FORMAT: 'json' }, true), 'json');
    assert.equal(logFormat({ SIXPN_LOG_FORMAT: 'pretty' }, false), 'pretty');
    assert.equal(logFormat({ SIXPN_LOG_FORMAT: 'xml' }, false), 'json');
  });
});
