// A PersistentVolumeClaim's spec as ValidatePersistentVolumeClaimSpec checks it on create. berth
// uses a claim only by its name (a berth volume), so its spec is otherwise unread, but a claim a
// cluster refuses is refused here too, at the field: no accessModes, one a cluster does not know,
// ReadWriteOncePod beside another; no resources.requests.storage, or one that is no quantity above 0;
// a volumeMode other than Filesystem or Block; a storageClassName that is neither "" nor a DNS
// subdomain (253 characters at most). Its selector, dataSource, dataSourceRef and
// volumeAttributesClassName are not checked. Pure.
import type { Diagnostic } from '../../lib/yaml-validate.js';
import { isQuantity, parseQuantity } from '../../runtime/quantity.js';
import { isObj, type Obj } from '../plain.js';
import { type ParsedDoc, specRefuser } from '../position.js';
import { isDnsSubdomain } from '../slips.js';

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

export function checkClaim(p: ParsedDoc, spec: Obj | undefined): Diagnostic[] {
  const out: Diagnostic[] = [];
  const refuse = specRefuser(p, out);
  const s = spec ?? {};
  const modes = Array.isArray(s.accessModes) ? s.accessModes : [];
  if (modes.length === 0)
    refuse(spec && 'accessModes' in s ? ['accessModes'] : [], 'needs at least one access mode');
  modes.forEach((m, i) => {
    if (!ACCESS_MODES.includes(m as string))
      refuse(['accessModes', i], `must be one of ${ACCESS_MODES.join(', ')}`);
  });
  // Beside another mode the cluster knows (ReadWriteOncePod twice, or beside an unknown one, it takes).
  if (
    modes.includes('ReadWriteOncePod') &&
    modes.some((m) => m !== 'ReadWriteOncePod' && ACCESS_MODES.includes(m))
  )
    refuse(['accessModes'], 'may not use ReadWriteOncePod with another access mode');
  const requests = isObj(s.resources) && isObj(s.resources.requests) ? s.resources.requests : undefined;
  const storage = requests?.storage;
  const text = typeof storage === 'number' ? String(storage) : storage;
  if (storage === undefined || storage === null)
    refuse(requests ? ['resources', 'requests'] : [], 'needs resources.requests.storage');
  else if (typeof text !== 'string' || !isQuantity(text))
    refuse(['resources', 'requests', 'storage'], 'must be a quantity (1Gi, 500Mi)');
  else {
    const q = parseQuantity(text);
    if (q.negative || q.digits === 0n) refuse(['resources', 'requests', 'storage'], 'must be greater than 0');
  }
  if (s.volumeMode !== undefined && s.volumeMode !== 'Filesystem' && s.volumeMode !== 'Block')
    refuse(['volumeMode'], 'must be Filesystem or Block');
  const cls = s.storageClassName;
  if (cls !== undefined && cls !== null && cls !== '' && !isDnsSubdomain(cls))
    refuse(['storageClassName'], 'must be "" or a DNS subdomain');
  return out;
}
