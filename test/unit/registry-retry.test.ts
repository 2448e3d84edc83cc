import { describe, expect, it } from 'vitest';
import { parseRetryAfter, RetryAfterError, redact, statusError } from '../../src/registry/errors.js';
import { backoffDelay, type RetryPolicy } from '../../src/registry/retry.js';

const policy = (random: number): RetryPolicy => ({
  retries: 4,
  baseMs: 200,
  maxMs: 5000,
  sleep: async () => undefined,
  random: () => random,
});

describe('backoffDelay (full jitter)', () => {
  it.each([
    [0, 1, undefined, 200],
    [3, 1, undefined, 1600],
    [10, 1, undefined, 5000],
    [3, 0, undefined, 0],
    [3, 0.5, undefined, 800],
    [0, 0, 2000, 2000],
    [0, 0, 60_000, 5000],
  ])('attempt %i, random %d, Retry-After %s → %i ms', (attempt, random, retryAfter, expected) => {
    const err = retryAfter === undefined ? new Error('x') : new RetryAfterError('x', retryAfter);
    expect(backoffDelay(policy(random), attempt, err)).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Wed, 01 Jan 2025 00:00:10 GMT', 10_000],
    ['Tue, 31 Dec 2024 00:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%s → %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('statusError', () => {
  it.each([
    [401, 'ERR_UNAUTHORIZED', 'unauthorized'],
    [403, 'ERR_FORBIDDEN', 'forbidden'],
    [429, 'ERR_REGISTRY_UNAVAILABLE', 'unavailable'],
    [502, 'ERR_REGISTRY_UNAVAILABLE', 'unavailable'],
    [418, 'ERR_REGISTRY_RESPONSE', 'invalid'],
  ])('%i → %s (%s), naming what', (status, code, kind) => {
    const err = statusError(status, 'r/x:v1', {}, 0);
    expect(err).toMatchObject({ code, kind });
    expect(err.message).toMatch(/^r\/x:v1: /);
  });
});

describe('redact', () => {
  it.each([
    ['connect to https://alice:s3cret@reg.example/v2/', 'connect to https://***@reg.example/v2/'],
    ['sent Authorization: Basic YWxpY2U6czNjcmV0', 'sent Authorization: Basic ***'],
    ['bearer abc.def-ghi', 'bearer ***'],
    ['GET /token?scope=x&access_token=abc&b=1', 'GET /token?scope=x&access_token=***&b=1'],
    ['nothing secret here', 'nothing secret here'],
  ])('%s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });
});
