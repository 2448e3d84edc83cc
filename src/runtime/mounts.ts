// `--volume SRC:DST[:ro|rw]` and `--tmpfs DST` as users write them. SRC is a host path (absolute)
// or the name of a volume berth keeps under `<root>/volumes/<name>`, which outlives containers and
// is never removed implicitly. Pure.
import { join } from 'node:path';
import type { ContainerMount } from './spec.js';
import { checkContainerPath, invalid } from './spec.js';

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function parseVolume(text: string, volumesDir: string): ContainerMount {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) throw invalid(`volume "${text}" is not SRC:DST[:ro]`);
  const [source = '', destination = '', mode = 'rw'] = parts;
  if (mode !== 'ro' && mode !== 'rw') throw invalid(`volume "${text}": mode must be ro or rw, not "${mode}"`);
  checkContainerPath(destination, `volume "${text}": destination`);
  const readOnly = mode === 'ro';
  if (source.startsWith('/')) return { kind: 'bind', source, destination, readOnly };
  if (!VOLUME_NAME.test(source)) {
    throw invalid(`volume "${text}": "${source}" is neither an absolute host path nor a volume name`);
  }
  return { kind: 'volume', source: join(volumesDir, source), destination, readOnly };
}

export function parseTmpfs(text: string): ContainerMount {
  return {
    kind: 'tmpfs',
    source: '',
    destination: checkContainerPath(text, 'tmpfs destination'),
    readOnly: false,
  };
}
