// The Kubernetes quantity grammar: exact conversions, the limits berth holds them to, and the one
// source rule: the Pod schema's pattern, the converter and a port of apimachinery's own scanner
// agree on random strings (seeded; the seed is printed so a failure can be replayed).
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { loadSchema } from '../../src/lib/schemas.js';
import {
  ceilScaled,
  isQuantity,
  MAX_MILLI_CPUS,
  MIN_MEMORY_BYTES,
  parseBytes,
  parseMilliCpus,
  parseQuantity,
  QUANTITY_PATTERN,
} from '../../src/runtime/quantity.js';
import { prng, randomTools, seedFor } from '../helpers/random.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'no error';
  } catch (err) {
    return (err as { code?: string }).code;
  }
};
const messageOf = (f: () => unknown) => {
  try {
    f();
    return 'no error';
  } catch (err) {
    return (err as Error).message;
  }
};

/**
 * apimachinery's ParseQuantity (pkg/api/resource/quantity.go parseQuantityString + suffix.go
 * interpret), ported for what it accepts; its one quirk berth does not copy is left out by the
 * caller: a number part without any digit (`.`, `+`, `-.`), which it takes as 0.
 */
function kubernetesAccepts(str: string): boolean {
  const digit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  const interpret = (suffix: string) =>
    ['', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'].includes(suffix) ||
    (suffix.length > 1 && /^[eE][+-]?[0-9]{1,18}$/.test(suffix));
  if (str.length === 0) return false;
  const end = str.length;
  let pos = str[0] === '-' || str[0] === '+' ? 1 : 0;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return true;
  while (pos < end && digit(str[pos])) pos++;
  if (pos >= end) return true;
  if (str[pos] === '.') {
    pos++;
    while (pos < end && digit(str[pos])) pos++;
    if (pos >= end) return true;
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos] as string)) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && digit(str[pos])) pos++;
  return pos >= end && interpret(str.slice(suffixStart));
}

describe('the quantity grammar', () => {
  it.each([
    // text, bytes (rounded up), thousandths (rounded up)
    ['128Mi', 134217728, 134217728000],
    ['1e3', 1000, 1000000],
    ['1E3', 1000, 1000000],
    ['0.5Gi', 536870912, 536870912000],
    ['100M', 100000000, 100000000000],
    ['1.5', 2, 1500],
    ['+1', 1, 1000],
    ['.5', 1, 500],
    ['1.', 1, 1000],
    ['128m', 1, 128],
    ['0.1m', 1, 1],
    ['1n', 1, 1],
    ['2500u', 1, 3],
    ['1k', 1000, 1000000],
    ['1Ki', 1024, 1024000],
    ['1.5Ki', 1536, 1536000],
    ['1e-3', 1, 1],
    ['12e+2', 1200, 1200000],
    ['1P', 1e15, 1e18],
    ['1Ti', 2 ** 40, 2 ** 40 * 1000],
    ['007', 7, 7000],
    ['0.000000000000000000000000000001', 1, 1],
    ['1.00000000000000000000000000000000000001', 2, 1001],
    ['0', 0, 0],
  ])('%s is %d byte(s), %d thousandth(s)', (text, bytes, milli) => {
    expect(isQuantity(text)).toBe(true);
    expect([ceilScaled(parseQuantity(text), 0), ceilScaled(parseQuantity(text), 3)]).toEqual([bytes, milli]);
  });

  it.each([
    '',
    ' 1',
    '1 ',
    '1K',
    '1e',
    '1E+',
    '1.5.5',
    'e3',
    '1Ki2',
    '--1',
    '0x10',
    '1e3.5',
    'Mi',
    '.',
    '+',
    '1I',
    '1mi',
  ])('%j is not a quantity', (text) => {
    expect(isQuantity(text)).toBe(false);
    expect(codeOf(() => parseQuantity(text))).toBe('ERR_BAD_QUANTITY');
  });

  it('a huge exponent or mantissa is sized, never computed digit by digit', () => {
    expect(ceilScaled(parseQuantity(`1e${'9'.repeat(400)}`), 0)).toBe(Number.POSITIVE_INFINITY);
    expect(ceilScaled(parseQuantity(`1e-${'9'.repeat(400)}`), 0)).toBe(1);
    expect(ceilScaled(parseQuantity(`${'9'.repeat(100_000)}e-99990`), 0)).toBe(1e10);
  });
});

describe('limits berth can set', () => {
  it.each([
    ['6Mi', MIN_MEMORY_BYTES],
    ['64Mi', 64 * 2 ** 20],
    ['1G', 1e9],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['6291456', 6291456],
    ['0.0065G', 6500000],
  ])('memory %s', (text, bytes) => expect(parseBytes(text)).toBe(bytes));

  it.each([
    [
      '128m',
      'memory "128m" is 1 byte(s): below berth\'s floor of 6Mi (runc itself needs about 3 MiB to start a container)',
    ],
    [
      '6291455',
      'memory "6291455" is 6291455 byte(s): below berth\'s floor of 6Mi (runc itself needs about 3 MiB to start a container)',
    ],
    ['0', 'memory "0" is 0: leave the limit out for none'],
    ['-0', 'memory "-0" is 0: leave the limit out for none'],
    ['-1Gi', 'memory "-1Gi" is negative'],
    ['8Pi', 'memory "8Pi" is above 8Pi (2^53 − 1 bytes), the largest limit berth sets'],
    ['1e400', 'memory "1e400" is above 8Pi (2^53 − 1 bytes), the largest limit berth sets'],
    ['lots', 'memory "lots" is not a quantity (e.g. 64Mi, 1G or 1048576)'],
  ])('memory %s is refused', (text, message) => {
    expect(codeOf(() => parseBytes(text))).toBe('ERR_BAD_QUANTITY');
    expect(messageOf(() => parseBytes(text))).toBe(message);
  });

  it.each([
    ['0.5', 500],
    ['250m', 250],
    ['2', 2000],
    ['1m', 1],
    ['1.5m', 2],
    ['0.0011', 2],
    [`${MAX_MILLI_CPUS}m`, MAX_MILLI_CPUS],
  ])('cpus %s', (text, milli) => expect(parseMilliCpus(text)).toBe(milli));

  it.each([
    ['0', 'cpus "0" is 0: leave the limit out for none'],
    ['0m', 'cpus "0m" is 0: leave the limit out for none'],
    ['0.0001', 'cpus "0.0001" is less than 1m, the smallest CPU unit'],
    ['999u', 'cpus "999u" is less than 1m, the smallest CPU unit'],
    ['-1', 'cpus "-1" is negative'],
    [
      `${MAX_MILLI_CPUS + 1}m`,
      `cpus "${MAX_MILLI_CPUS + 1}m" is above ${MAX_MILLI_CPUS}m, the largest CPU quota the kernel takes`,
    ],
    ['half', 'cpus "half" is not a quantity (e.g. 0.5 or 500m)'],
  ])('cpus %s is refused', (text, message) => {
    expect(messageOf(() => parseMilliCpus(text))).toBe(message);
  });
});

describe('one grammar: the schema, the converter and Kubernetes agree', () => {
  const schema = loadSchema('pod.schema.json');
  const patterns: string[] = [];
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) {
      for (const [i, n] of node.entries()) walk(n, `${path}/${i}`);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'pattern' && /\/resources\//.test(path)) patterns.push(v as string);
        walk(v, `${path}/${k}`);
      }
    }
  };
  walk(schema, '');

  it('every quantity in the Pod schema has the converter’s pattern', () => {
    // requests and limits of containers, init containers and the pod itself: cpu, memory and any
    // other resource name
    expect(patterns).toHaveLength(18);
    expect(new Set(patterns)).toEqual(new Set([QUANTITY_PATTERN]));
  });

  it('random strings: the schema accepts exactly what parses, and what Kubernetes parses', () => {
    const seed = seedFor('quantity grammar');
    const { chance, char, pick, int } = randomTools(prng(seed));
    const validate = new Ajv({ strict: false }).compile(schema);
    const podWith = (memory: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { limits: { memory } } }] },
    });
    const digits = '0123456789';
    const number = () =>
      chance(0.2)
        ? `.${char(digits)}`
        : `${char(digits)}${chance(0.4) ? `.${chance(0.5) ? char(digits) : ''}` : ''}`;
    /** From the grammar: each part there or not. */
    const grammatical = () =>
      `${pick(['', '+', '-'])}${number()}${pick([
        '',
        char('numkMGTPE'),
        `${char('KMGTPE')}i`,
        `${char('eE')}${chance(0.5) ? char('+-') : ''}${char(digits)}`,
      ])}`;
    const alphabet = '0123456789..+-eEinumkKMGTPx ';
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const text =
        i % 2 === 0 ? grammatical() : Array.from({ length: 1 + int(6) }, () => char(alphabet)).join('');
      const bySchema = validate(podWith(text)) === true;
      const byConverter = codeOf(() => parseQuantity(text)) === 'no error';
      const noDigits = !/[0-9]/.test(/^[+-]?[0-9.]*/.exec(text)?.[0] ?? '');
      const byKubernetes = kubernetesAccepts(text) && !noDigits;
      if (bySchema !== byConverter || bySchema !== byKubernetes)
        throw new Error(
          `seed ${seed}: ${JSON.stringify(text)} schema ${bySchema} converter ${byConverter} kubernetes ${byKubernetes}`,
        );
      if (bySchema) accepted++;
    }
    expect(accepted).toBeGreaterThan(5000); // the grammatical half is mostly in the grammar
  });
});
