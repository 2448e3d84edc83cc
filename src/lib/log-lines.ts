// How the daemon writes its log lines: one line per event. When journald reads stderr
// (JOURNAL_STREAM names stderr's device:inode, see systemd.exec(5)), every line goes to stderr with
// its syslog priority as a `<N>` prefix, which journald strips and records; otherwise info goes to
// stdout and warnings and errors to stderr, plain.
import { fstatSync } from 'node:fs';

export type LogLevel = 'error' | 'warning' | 'info';
const PRIORITY: Record<LogLevel, number> = { error: 3, warning: 4, info: 6 };

export interface LogLines {
  write(level: LogLevel, line: string): void;
}

/** Whether JOURNAL_STREAM (`dev:ino`) is the file descriptor `fd`'s. */
export function isJournalStream(journalStream: string | undefined, fd: number): boolean {
  if (!journalStream || !/^\d+:\d+$/.test(journalStream)) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return journalStream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

export function createLogLines(
  out: { write(s: string): unknown },
  err: { write(s: string): unknown },
  journald: boolean,
): LogLines {
  return {
    write(level, line) {
      // A line with a newline would be two journal entries, the second without a priority.
      const one = line.replace(/\r?\n/g, ' ↵ ');
      if (journald) err.write(`<${PRIORITY[level]}>${one}\n`);
      else (level === 'info' ? out : err).write(`${one}\n`);
    },
  };
}
