// Text a workload or a manifest controls (a probe's output, a termination message, a value named in
// an error) as a terminal shows it: control characters written as escapes (`\n`, `\r`, `\x1b`), so
// a container cannot clear the screen, retitle the window or overwrite with `\r` what an operator
// reads, and a value with a newline keeps its error on one line (kubectl escapes them the same way
// since CVE-2021-25743). A tab stays. Pure.

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

const escaped = (c: string) =>
  c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

export function printable(text: string): string {
  return text.replace(CONTROL, escaped);
}
