// lifecycle.stopSignal as the API server checks it (Kubernetes 1.33 ContainerStopSignals): only in a
// pod with spec.os.name, and under linux only one of the names Linux has, spelled as Kubernetes
// spells them (its supportedStopSignalsLinux: SIGRTMIN+1 … +15 and SIGRTMAX-14 … -1 in that form,
// no bare numbers, no name without SIG). berth runs Linux containers, so spec.os.name windows (where
// Kubernetes allows SIGTERM and SIGKILL only) is refused outright. runtime/stop-signal.ts maps the
// name to what runc sends. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';
import type { PodManifest } from './kinds.js';
import { at, type ParsedDoc } from './position.js';

const CLASSIC = [
  'ABRT',
  'ALRM',
  'BUS',
  'CHLD',
  'CLD',
  'CONT',
  'FPE',
  'HUP',
  'ILL',
  'INT',
  'IO',
  'IOT',
  'KILL',
  'PIPE',
  'POLL',
  'PROF',
  'PWR',
  'QUIT',
  'SEGV',
  'STKFLT',
  'STOP',
  'SYS',
  'TERM',
  'TRAP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'USR1',
  'USR2',
  'VTALRM',
  'WINCH',
  'XCPU',
  'XFSZ',
];

/** Every stop signal Kubernetes accepts for a linux pod. */
export const LINUX_STOP_SIGNALS: ReadonlySet<string> = new Set([
  ...CLASSIC.map((n) => `SIG${n}`),
  'SIGRTMIN',
  ...Array.from({ length: 15 }, (_, i) => `SIGRTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `SIGRTMAX-${14 - i}`),
  'SIGRTMAX',
]);

export function checkStopSignals(p: ParsedDoc): Diagnostic[] {
  const pod = p.value as PodManifest;
  const out: Diagnostic[] = [];
  const os = pod.spec.os?.name;
  if (os === 'windows')
    out.push(
      at(
        p,
        ['spec', 'os', 'name'],
        'ERR_MANIFEST_UNSUPPORTED',
        'spec.os.name windows is not supported by berth: it runs Linux containers',
      ),
    );
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (pod.spec[list] ?? []).entries()) {
      const signal = c.lifecycle?.stopSignal;
      if (signal === undefined) continue;
      const path = ['spec', list, i, 'lifecycle', 'stopSignal'];
      if (os === undefined)
        out.push(
          at(
            p,
            path,
            'ERR_MANIFEST_INVALID',
            'lifecycle.stopSignal needs spec.os.name (linux), as Kubernetes requires',
          ),
        );
      else if (!LINUX_STOP_SIGNALS.has(signal))
        out.push(
          at(
            p,
            path,
            'ERR_MANIFEST_INVALID',
            `lifecycle.stopSignal ${JSON.stringify(signal)} is not a Linux signal name as Kubernetes spells them (SIGTERM, SIGUSR1, SIGRTMIN+1 … SIGRTMIN+15, SIGRTMAX-14 … SIGRTMAX)`,
          ),
        );
    }
  }
  return out;
}
