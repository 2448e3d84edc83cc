// The pod checks that read the document itself (the tier check took a warned field out of the
// value) must read it as Kubernetes decodes it: aliases and `<<` merges resolved, a null field unset.
// Two different topologySpreadConstraints written through anchors were refused as one pair, and
// `windowsOptions: null` under spec.os.name linux as set; windowsOptions under spec.os.name linux
// written through an anchor or a `<<` merge (a shared securityContext, a container alias) went unseen.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { parseFile } from '../../src/manifest/parse.js';

const errors = (text: string) =>
  parseFile(text, 'm.yaml')
    .diagnostics.filter((d) => d.code !== undefined && !d.code.startsWith('WARN'))
    .map(formatDiagnostic);

const pod = (spec: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${spec}  containers: [{name: c, image: busybox}]\n`;

describe('pod checks that read the document', () => {
  const c = (rest: string) => `{maxSkew: 1, labelSelector: {matchLabels: {a: b}}, ${rest}}`;

  it('takes merged-in constraints as they merge', () => {
    const spec =
      '  topologySpreadConstraints:\n' +
      `  - &a ${c('topologyKey: zone, whenUnsatisfiable: DoNotSchedule')}\n` +
      `  - &b ${c('topologyKey: host, whenUnsatisfiable: ScheduleAnyway')}\n` +
      '  - {<<: *a, topologyKey: rack}\n' +
      '  - {<<: *b, topologyKey: rack}\n';
    const got = errors(pod(spec));
    expect(got).toEqual([]);
  });

  it('refuses one pair given twice through an alias, at the repeat', () => {
    const spec = `  topologySpreadConstraints:\n  - &a ${c('topologyKey: zone, whenUnsatisfiable: DoNotSchedule')}\n  - *a\n`;
    expect(errors(pod(spec))).toEqual([
      'm.yaml:7:5: ERR_MANIFEST_INVALID: topologySpreadConstraints.1 repeats topologyKey zone with whenUnsatisfiable DoNotSchedule (a cluster rejects it)',
    ]);
  });

  it('takes windowsOptions: null under spec.os.name linux as unset', () => {
    const spec = '  os: {name: linux}\n  securityContext: {windowsOptions: null}\n';
    expect(errors(pod(spec)).join('\n')).not.toContain('windowsOptions');
    const set = '  os: {name: linux}\n  securityContext: {windowsOptions: {runAsUserName: x}}\n';
    expect(errors(pod(set)).join('\n')).toContain('windowsOptions cannot be set');
  });

  it('refuses windowsOptions under spec.os.name linux given through an alias or a << merge, at each', () => {
    const text =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  os: {name: linux}\n' +
      '  initContainers: [{name: i, image: busybox, securityContext: &sc {windowsOptions: {runAsUserName: x}}}]\n' +
      '  securityContext: *sc\n' +
      '  containers:\n' +
      '  - {name: c, image: busybox, securityContext: {<<: *sc, runAsUser: 1}}\n' +
      '  - &d {name: d, image: busybox, securityContext: *sc}\n' +
      '  - {<<: *d, name: e}\n';
    const refused = (field: string) =>
      `ERR_MANIFEST_INVALID: ${field}.windowsOptions cannot be set for a pod whose spec.os.name is linux (a cluster rejects it too)`;
    expect(errors(text).filter((e) => e.includes('windowsOptions'))).toEqual([
      `m.yaml:6:68: ${refused('spec.initContainers.0.securityContext')}`,
      `m.yaml:7:3: ${refused('spec.securityContext')}`,
      `m.yaml:9:31: ${refused('spec.containers.0.securityContext')}`,
      `m.yaml:10:34: ${refused('spec.containers.1.securityContext')}`,
      `m.yaml:11:5: ${refused('spec.containers.2.securityContext')}`,
    ]);
  });
});
