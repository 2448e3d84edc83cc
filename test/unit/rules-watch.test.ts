// What the daemon says of a firewall-rules check (daemon/rules-watch.ts): a log line and an event
// for each network whose rules were made again, each holder whose port rules were made again or
// could not be, and the stray port rules of pods no longer here that were deleted or could not be.
import { describe, expect, it } from 'vitest';
import { reportRepairs } from '../../src/daemon/rules-watch.js';
import type { BerthEventInput } from '../../src/events/event.js';
import type { Attachment } from '../../src/network/attachments.js';

const web: Attachment = {
  key: 'pod-web',
  owner: { kind: 'pod', name: 'web' },
  state: 'ready',
  netns: '/nonexistent',
  ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '' }],
  names: ['web'],
};

function report(r: Parameters<typeof reportRepairs>[0]) {
  const lines: string[] = [];
  const events: BerthEventInput[] = [];
  reportRepairs(r, {
    info: (l) => lines.push(`info ${l}`),
    fail: (l) => lines.push(`fail ${l}`),
    events: { emit: (e) => events.push(e) },
  });
  return { lines, reasons: events.map((e) => `${e.type} ${e.object} ${e.reason}`) };
}

describe('reporting a rules check', () => {
  it('nothing repaired: silent', () => {
    expect(report([{ network: 'n', families: [], holders: [], failed: [], strays: [] }])).toEqual({
      lines: [],
      reasons: [],
    });
  });

  it('each repair and each stray removal: a line and an event; a refused one: a failure line', () => {
    const { lines, reasons } = report([
      {
        network: 'n',
        families: [4],
        holders: [web],
        failed: [{ holder: { ...web, owner: { kind: 'pod', name: 'dns' } }, error: new Error('refused') }],
        strays: ['berth-pod-old'],
      },
      { network: 'm', families: [], holders: [], failed: [], strays: [], strayError: new Error('Bad rule') },
    ]);
    expect(reasons).toEqual([
      'daemon berth NetworkRulesRestored',
      'daemon berth PortRulesRemoved',
      'pod web PortRulesRestored',
      'pod dns PortRulesFailed',
    ]);
    expect(lines[1]).toBe(
      'info network n: published-port rules of pods no longer here (berth-pod-old) were on the host, as a restored ruleset of an earlier boot brings them: removed',
    );
    expect(lines.at(-1)).toBe(
      'fail network m: stray published-port rules could not be removed: ERR_INTERNAL: Bad rule',
    );
  });
});
