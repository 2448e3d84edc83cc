// The pod checks that read the document itself (the tier check took a warned field out of the
// value) must read it as Kubernetes decodes it: aliases and `<<` merges resolved, a null field unset.
// Two different topologySpreadConstraints written through anchors were refused as one pair, and
// `windowsOptions: null` under spec.os.name linux as set.
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
});
