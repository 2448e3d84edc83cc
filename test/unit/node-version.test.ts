// The CLI's first check: a Node older than 24 gets one line naming itself, not a stack trace from the
// first call it lacks (Node 20's module.enableCompileCache).
import { describe, expect, it } from 'vitest';
import { nodeTooOld } from '../../src/cli/node-version.js';

describe('nodeTooOld', () => {
  it('refuses Node 20 and 22 by path and version, takes 24 and later', () => {
    expect(nodeTooOld('20.20.2', '/usr/bin/node')).toBe(
      'berth: ERR_NODE_TOO_OLD: berth needs Node 24 or newer; /usr/bin/node is v20.20.2 (scripts/setup.sh installs Node 24 under /opt/berth/node; the berth launcher uses it)',
    );
    expect(nodeTooOld('22.11.0', '/usr/local/bin/node')).toMatch(/is v22\.11\.0/);
    expect(nodeTooOld('24.0.0', 'node')).toBeUndefined();
    expect(nodeTooOld('25.2.1', 'node')).toBeUndefined();
    expect(nodeTooOld(process.versions.node, process.execPath)).toBeUndefined();
  });
});
