// A diagnostic is an error unless its code says it is a warning (`WARN_…`): a warning is reported
// with the file's problems but never makes its file unusable, never fails `validate`, `plan` or
// `apply`. Pure.
import type { Diagnostic } from '../lib/yaml-validate.js';

export const isWarning = (d: Diagnostic): boolean => d.code.startsWith('WARN_');
export const isError = (d: Diagnostic): boolean => !isWarning(d);
