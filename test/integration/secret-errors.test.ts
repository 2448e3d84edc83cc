// "Secret values never appear in plan, ps, logs or errors": a Secret broken in every way a person
// breaks one (a value that is not base64, not a string, a YAML syntax error on the value's line, a
// duplicate key, a dockerconfigjson that is not JSON, a typo'd field, one over 1 MiB) is reported at
// its position with its code, and no output of validate, plan, apply, ps or events quotes a value.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth } from '../helpers/cli.js';
import { removeTempRoot } from '../helpers/temp-root.js';

const head = (name: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}}\n`;
// Each file holds one broken Secret; every value carries the marker `s3cr3t` (or is the number below).
const FILES: Record<string, string> = {
  'a-b64.yaml': `${head('b64')}data:\n  password: "s3cr3t-notb64!!"\n`,
  'b-num.yaml': `${head('num')}data:\n  pin: 8675309101\n`,
  'c-map.yaml': `${head('map')}stringData:\n  password: {a: s3cr3t-map}\n`,
  'd-syntax.yaml': `${head('syntax')}stringData:\n  password: s3cr3t-syntax: value\n`,
  'e-quote.yaml': `${head('quote')}stringData:\n  token: "s3cr3t-quote\n`,
  'f-dup.yaml': `${head('dup')}stringData:\n  password: s3cr3t-dup1\n  password: s3cr3t-dup2\n`,
  'g-json.yaml': `${head('pull')}type: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{"auths": {"r.example": {"password": "s3cr3t-json"}} trailing'\n`,
  'h-typo.yaml': `${head('typo')}strinData:\n  password: s3cr3t-typo\n`,
  'i-big.yaml': `${head('big')}stringData:\n  big: s3cr3t-big${'x'.repeat(1_100_000)}\n`,
  'j-fields.yaml': `${head('fields')}immutable: "s3cr3t-imm"\ntype: [s3cr3t-type]\n`,
  'k-pod.yaml':
    'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: main\n      image: app.invalid/app:1\n' +
    '      env:\n        - name: P\n          valueFrom: {secretKeyRef: {name: b64, key: password}}\n',
};

describe('broken Secrets: positioned errors that never quote a value', () => {
  let work: string;
  let dir: string;
  const berth = (...args: string[]) =>
    runBerth(['--root', join(work, 'root'), '--state', join(work, 'state'), ...args]);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-secret-errors-'));
    dir = join(work, 'manifests');
    await mkdir(dir);
    for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
  });
  afterAll(async () => {
    await removeTempRoot(work);
  });

  it('validate names each problem at its node; no output of any command holds a value', async () => {
    const validate = await berth('validate', dir);
    const at = (file: string, pos: string) => `${join(dir, file)}:${pos}`;
    expect([validate.code, validate.stdout, validate.stderr]).toEqual([
      2,
      '11 file(s), 1 pod(s), 0 image(s); 11 problem(s) in 10 file(s)\n',
      [
        `${at('a-b64.yaml', '5:13')}: ERR_MANIFEST_SCHEMA: data.password must be base64 (standard alphabet, padded), as Kubernetes stores binary values`,
        `${at('b-num.yaml', '5:8')}: ERR_MANIFEST_SCHEMA: data.pin must be string`,
        `${at('c-map.yaml', '5:13')}: ERR_MANIFEST_SCHEMA: stringData.password must be string`,
        `${at('d-syntax.yaml', '5:13')}: ERR_YAML_SYNTAX: Nested mappings are not allowed in compact mappings`,
        `${at('e-quote.yaml', '6:1')}: ERR_YAML_SYNTAX: Missing closing "quote`,
        `${at('f-dup.yaml', '6:3')}: ERR_YAML_SYNTAX: Map keys must be unique`,
        `${at('g-json.yaml', '6:22')}: ERR_SECRET_INVALID: Secret pull of type kubernetes.io/dockerconfigjson: .dockerconfigjson is not JSON`,
        `${at('h-typo.yaml', '4:1')}: ERR_MANIFEST_SCHEMA: unknown field strinData (did you mean stringData?)`,
        `${at('i-big.yaml', '3:18')}: ERR_SECRET_INVALID: Secret big holds 1100013 bytes; at most 1048576 (1 MiB), as in Kubernetes`,
        `${at('j-fields.yaml', '4:12')}: ERR_MANIFEST_SCHEMA: immutable must be boolean`,
        `${at('j-fields.yaml', '5:7')}: ERR_MANIFEST_SCHEMA: type must be string`,
        '',
      ].join('\n'),
    ]);

    // The pod that wants one of them waits for it, by name; the broken files block nothing else.
    const plan = await berth('plan', dir);
    expect([plan.code, plan.stdout]).toEqual([
      1,
      'pull         app.invalid/app:1: not in the store (web/main)\nwait         web: waiting for Secret b64\n',
    ]);
    const outputs = [
      validate,
      plan,
      await berth('plan', dir, '--output', 'json'),
      await berth('apply', dir),
      await berth('apply', dir, '--output', 'json'),
      await berth('ps'),
      await berth('ps', '--output', 'json'),
      await berth('events', '--output', 'json'),
    ].map((r) => r.stdout + r.stderr);
    const leaks = outputs.flatMap((o) =>
      [/s3cr3t/, /8675309101/, /czNjcjN0/].filter((re) => re.test(o)).map(String),
    );
    expect(leaks).toEqual([]);
  });
});
