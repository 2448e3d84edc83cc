// Which pods a container with an unreadable record holds (reconcile/frozen.ts): the pod its bundle
// names; none when its bundle says it is standalone; when its owner is unknown, only the pods with a
// container of exactly its runtime name (never a pod guessed from a part of the name); every pod
// when nothing identifies it and it may still run.
import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../src/manifest/load.js';
import type { DesiredState } from '../../src/reconcile/desired.js';
import { frozenPods } from '../../src/reconcile/frozen.js';
import type { ObservedState } from '../../src/reconcile/plan-types.js';

const loaded = { brokenFiles: [], duplicates: [] } as unknown as LoadResult;
const desired = {
  pods: [
    { name: 'web', initContainers: [], containers: [{ runtimeName: 'web_main' }] },
    { name: 'api', initContainers: [{ runtimeName: 'api_init' }], containers: [] },
    { name: 'db', initContainers: [], containers: [{ runtimeName: 'db_main' }] },
  ],
  images: [],
} as unknown as DesiredState;
const id = 'e'.repeat(32);
const why = `the record of ${id} is unreadable`;
const frozenBy = (bad: NonNullable<ObservedState['badRecords']>[number]) =>
  Object.fromEntries(
    frozenPods(
      loaded,
      { images: new Map(), containers: [], sandboxes: new Map(), badRecords: [bad] },
      desired,
    ),
  );

describe('pods held by a container whose record is unreadable', () => {
  it('its bundle names its pod: that pod', () => {
    expect(frozenBy({ id, pod: 'web' })).toEqual({ web: why });
  });
  it('its bundle says standalone: none, whatever its name', () => {
    expect(frozenBy({ id, standalone: true })).toEqual({});
  });
  it('owner unknown, name known: the pods with a container of exactly that name', () => {
    expect(frozenBy({ id, name: 'web_extra' })).toEqual({});
    expect(frozenBy({ id, name: 'web_main' })).toEqual({ web: why });
    expect(frozenBy({ id, name: 'api_init' })).toEqual({ api: why });
  });
  it('nothing known and it may run: every pod', () => {
    expect(frozenBy({ id, mayRun: true })).toEqual({ web: why, api: why, db: why });
    expect(frozenBy({ id })).toEqual({});
  });
});
