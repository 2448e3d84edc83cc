// lifecycle.stopSignal in a manifest, validated as the API server validates it (Kubernetes 1.33
// ContainerStopSignals): it needs spec.os.name; under linux it is one of the names Linux has
// (SIGRTMIN+n and SIGRTMAX-n spelled so), under windows SIGTERM or SIGKILL only; berth runs Linux
// containers, so spec.os.name windows is refused.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { parseFile } from '../../src/manifest/parse.js';

const pod = (os: string, signal: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n${os}  containers:\n    - name: main\n      image: busybox\n      lifecycle:\n        stopSignal: ${signal}\n`;
const diagnostics = (text: string) => parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic);

describe('lifecycle.stopSignal in a manifest', () => {
  it('a Linux signal name under spec.os.name linux loads', () => {
    for (const s of [
      'SIGUSR1',
      'SIGQUIT',
      'SIGRTMIN',
      'SIGRTMIN+15',
      'SIGRTMAX-14',
      'SIGRTMAX',
      'SIGPOLL',
      'SIGIOT',
    ])
      expect([s, diagnostics(pod('  os: {name: linux}\n', s))]).toEqual([s, []]);
  });

  it('without spec.os.name it is refused, as Kubernetes refuses it', () => {
    expect(diagnostics(pod('', 'SIGUSR1'))).toEqual([
      'm.yaml:9:21: ERR_MANIFEST_INVALID: lifecycle.stopSignal needs spec.os.name (linux), as Kubernetes requires',
    ]);
  });

  it('a name Linux does not have, or another spelling, is refused by name', () => {
    for (const s of ['USR1', 'sigusr1', '10', 'SIGRTMIN+16', 'SIGRTMAX-15', 'SIGEMT', 'SIGRTMIN+03']) {
      expect([s, diagnostics(pod('  os: {name: linux}\n', JSON.stringify(s)))]).toEqual([
        s,
        [
          `m.yaml:10:21: ERR_MANIFEST_INVALID: lifecycle.stopSignal ${JSON.stringify(s)} is not a Linux signal name as Kubernetes spells them (SIGTERM, SIGUSR1, SIGRTMIN+1 … SIGRTMIN+15, SIGRTMAX-14 … SIGRTMAX)`,
        ],
      ]);
    }
  });

  it('spec.os.name windows is refused: berth runs Linux containers', () => {
    expect(diagnostics(pod('  os: {name: windows}\n', 'SIGTERM'))).toEqual([
      'm.yaml:5:14: ERR_MANIFEST_UNSUPPORTED: spec.os.name windows is not supported by berth: it runs Linux containers',
    ]);
  });
});
