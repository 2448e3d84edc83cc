// Fields the tier table (tiers.ts) puts in the honoured tier whose support is not in this build yet:
// using one is an error that says so ("field spec.dnsPolicy is not supported by berth"), never a
// bare "unknown field". Warned and refused fields never get here (tier-check.ts drops them first).
// Paths use `*` for array indices. Pure data.

const POD = ['spec.dnsPolicy', 'spec.dnsConfig', 'spec.hostAliases'];

const CONTAINER = [
  'ports.*.hostPort', // pods have a network namespace of their own, with no port publishing (yet)
];

const VOLUME: string[] = [];

const PATTERNS = [
  ...POD,
  ...CONTAINER.flatMap((f) => [`spec.containers.*.${f}`, `spec.initContainers.*.${f}`]),
  ...VOLUME.map((f) => `spec.volumes.*.${f}`),
].map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[0-9]+')}$`));

export function unsupportedField(path: string): { code: string; message: string } | undefined {
  if (!PATTERNS.some((re) => re.test(path))) return undefined;
  return { code: 'ERR_MANIFEST_UNSUPPORTED', message: `field ${path} is not supported by berth` };
}
