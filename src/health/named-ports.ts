// A container's named ports (`ports[].name` → containerPort), for probes that name their port. Pure.

export function namedPortsOf(c: {
  ports?: Array<{ name?: string; containerPort: number }>;
}): Record<string, number> | undefined {
  const named = (c.ports ?? []).filter((p) => p.name);
  return named.length > 0
    ? Object.fromEntries(named.map((p) => [p.name as string, p.containerPort]))
    : undefined;
}
