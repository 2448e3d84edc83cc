// Workload- and manifest-controlled text on a terminal (src/lib/printable.ts): control characters
// escaped in tables, event lines and error lines, so a container's probe output or termination
// message cannot clear the screen, retitle the window or overwrite a line with `\r`, and an error
// naming a value with a newline stays one line.
import { describe, expect, it } from 'vitest';
import { formatEventLine } from '../../src/cli/commands/events.js';
import { renderTable } from '../../src/cli/output.js';
import { BerthError, formatErrorLine, formatErrorLines } from '../../src/lib/errors.js';
import { printable } from '../../src/lib/printable.js';

const HOSTILE = '\u001b]0;TITLE\u0007\u001b[2J\u001b[31mRED\u009b1m\rall good\u007f';

describe('printable', () => {
  it('escapes C0, DEL and C1 controls; keeps tabs and every printable character', () => {
    expect(printable(HOSTILE)).toBe('\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[31mRED\\x9b1m\\rall good\\x7f');
    expect(printable('a\nb\tc é ✓ 日本')).toBe('a\\nb\tc é ✓ 日本');
  });

  it('in a table, a cell with controls is escaped and the columns stay aligned', () => {
    expect(renderTable(['POD', 'LAST ERROR'], [['web', `exit code 1: ${HOSTILE}`]])).toBe(
      `POD   LAST ERROR\nweb   exit code 1: ${printable(HOSTILE)}\n`,
    );
  });

  it('in an event line and in an error line', () => {
    const line = formatEventLine({
      time: '2026-12-02T00:00:00.000Z',
      type: 'container',
      object: 'web/main',
      reason: 'Unhealthy',
      message: HOSTILE,
    } as Parameters<typeof formatEventLine>[0]);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    const err = new BerthError('ERR_CONTAINER_INVALID', 'invalid', 'container name "a\nb" must be …');
    expect(formatErrorLine(err)).toBe('ERR_CONTAINER_INVALID: container name "a\\nb" must be …');
    expect(formatErrorLines(err)).toEqual(['ERR_CONTAINER_INVALID: container name "a\\nb" must be …']);
  });
});
