// `$(VAR)` in an exec probe's command is expanded as the kubelet's prober expands it
// (ExpandContainerCommandOnlyStatic): the container's `env` values as written, a `valueFrom` entry
// as "", an unknown name kept, `$$` one `$`; lifecycle hooks run as written. Regression: berth ran
// `$(PORT)` literally, so a probe written for a cluster failed on every run here.
import { describe, expect, it } from 'vitest';
import type { RawContainerHealth } from '../../src/health/probe-spec.js';
import type { LoadedDoc, PodManifest } from '../../src/manifest/kinds.js';
import { desiredState } from '../../src/reconcile/desired.js';

const host = { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' };
type Container = Omit<PodManifest['spec']['containers'][0], 'lifecycle'> & RawContainerHealth;

const podDoc = (c: Partial<Container>): LoadedDoc => ({
  doc: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      containers: [{ name: 'main', image: 'app.invalid/a:1', ...c } as PodManifest['spec']['containers'][0]],
    },
  },
  file: '/m/web.yaml',
  line: 1,
});

const built = (c: Partial<Container>) => {
  const d = desiredState([podDoc(c)], host);
  expect(d.unusable ?? []).toEqual([]);
  return d.pods[0]?.containers[0];
};

const exec = (command: string[]) => ({ exec: { command } });

describe("an exec probe's $(VAR)", () => {
  it('takes static env values; valueFrom is empty; unknown names and $$ as the kubelet does', () => {
    const c = built({
      env: [
        { name: 'PORT', value: '8080' },
        { name: 'URL', value: 'http://localhost:$(PORT)' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'PORT', value: '9090' },
      ],
      livenessProbe: exec(['sh', '-c', 'wget -q 127.0.0.1:$(PORT) $(URL) [$(POD_IP)] $(NOPE) $$(PORT)']),
      readinessProbe: exec(['test', '$(PORT)']),
      startupProbe: { tcpSocket: { port: 80 } },
    });
    expect(c?.probes?.liveness?.action).toEqual({
      kind: 'exec',
      command: ['sh', '-c', 'wget -q 127.0.0.1:9090 http://localhost:$(PORT) [] $(NOPE) $(PORT)'],
    });
    expect(c?.probes?.readiness?.action).toEqual({ kind: 'exec', command: ['test', '9090'] });
    expect(c?.probes?.startup?.action).toEqual({ kind: 'tcpSocket', port: 80 });
  });

  it('lifecycle hooks are run as written', () => {
    const c = built({
      env: [{ name: 'PORT', value: '8080' }],
      lifecycle: { postStart: exec(['echo', '$(PORT)']), preStop: exec(['echo', '$(PORT)']) },
    });
    expect(c?.lifecycle?.postStart).toEqual({ kind: 'exec', command: ['echo', '$(PORT)'] });
    expect(c?.lifecycle?.preStop).toEqual({ kind: 'exec', command: ['echo', '$(PORT)'] });
  });

  it('an expansion past one argument makes the pod unusable, naming the probe field', () => {
    const big = 'x'.repeat(70_000);
    const d = desiredState(
      [podDoc({ env: [{ name: 'B', value: big }], livenessProbe: exec(['echo', '$(B)$(B)']) })],
      host,
    );
    expect(d.pods).toEqual([]);
    expect(d.unusable?.[0]?.diagnostic.code).toBe('ERR_EXPANSION_TOO_LONG');
    expect(d.unusable?.[0]?.diagnostic.message).toContain('container main: livenessProbe.exec.command[1]');
  });

  it('the bound on command + environment counts the expanded command', () => {
    const big = 'y'.repeat(100_000);
    const d = desiredState(
      [
        podDoc({
          env: [{ name: 'B', value: big }],
          readinessProbe: exec(Array.from({ length: 12 }, () => '$(B)')),
        }),
      ],
      host,
    );
    expect(d.pods).toEqual([]);
    expect(d.unusable?.[0]?.diagnostic.code).toBe('ERR_EXEC_TOO_LARGE');
    expect(d.unusable?.[0]?.diagnostic.message).toContain('readinessProbe.exec.command[');
  });
});
