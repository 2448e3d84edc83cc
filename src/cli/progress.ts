// Pull progress for a terminal: one line per layer, redrawn in place at most every 100 ms.
// Silent when stderr is not a TTY (scripts and logs get only the final line).
import { shortDigest } from '../oci/digest.js';
import type { PullEvent } from '../pull/pull-image.js';
import { formatSize } from './output.js';

interface Row {
  digest: string;
  size: number;
  held: number;
  state: string;
}

export interface ProgressRenderer {
  onEvent(event: PullEvent): void;
  finish(): void;
}

/** The progress display of a pull or import: on a terminal with table output only (never in JSON or a pipe). */
export function progressFor(ctx: {
  stderr: NodeJS.WriteStream;
  flags: { output: string };
}): ProgressRenderer | undefined {
  return ctx.stderr.isTTY && ctx.flags.output === 'table'
    ? createProgressRenderer(ctx.stderr, Date.now)
    : undefined;
}

/** `--platform` and `--no-unpack`, as `image pull` and `image import` take them. */
export const PULL_OPTIONS = { platform: { type: 'string' }, 'no-unpack': { type: 'boolean' } } as const;
export const PLATFORM_FLAG: [string, string] = [
  '--platform OS/ARCH[/VARIANT]',
  "platform to pick from a multi-platform image (default: this host's)",
];

export function createProgressRenderer(out: NodeJS.WriteStream, now: () => number): ProgressRenderer {
  const rows = new Map<string, Row>();
  let drawnLines = 0;
  let lastDraw = 0;
  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    let text = drawnLines > 0 ? `\x1b[${drawnLines}A` : '';
    for (const r of rows.values()) {
      const pct = r.size > 0 ? Math.floor((r.held / r.size) * 100) : 100;
      const detail =
        r.state === 'downloading'
          ? `${formatSize(r.held)} / ${formatSize(r.size)} (${pct}%)`
          : formatSize(r.size);
      text += `\x1b[2K${shortDigest(r.digest)}  ${r.state.padEnd(11)} ${detail}\n`;
    }
    drawnLines = rows.size;
    out.write(text);
  };
  return {
    onEvent(event) {
      if (event.type === 'resolved') {
        for (const l of event.layers)
          rows.set(l.digest, { digest: l.digest, size: l.size, held: 0, state: 'waiting' });
        draw(true);
      } else if (event.type === 'unpacked') {
        const row = rows.get(event.digest);
        if (row) row.state = 'unpacked';
        draw(true);
      } else if (event.type === 'layer') {
        const state = event.state === 'exists' ? 'exists' : event.state === 'done' ? 'done' : 'downloading';
        rows.set(event.digest, { digest: event.digest, size: event.size, held: event.held, state });
        draw(event.state !== 'downloading');
      }
    },
    finish() {
      if (rows.size > 0) draw(true);
    },
  };
}
