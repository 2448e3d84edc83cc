// The grpc.health.v1 messages, by hand (no library): HealthCheckRequest { string service = 1 },
// HealthCheckResponse { ServingStatus status = 1 }, each in gRPC's 5-byte frame (compressed flag,
// big-endian length). Pure.

export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

/** A framed HealthCheckRequest. */
export function encodeCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body =
    name.length > 0 ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** The status of the first framed HealthCheckResponse in `data`; undefined when malformed or compressed. */
export function decodeCheckResponse(data: Buffer): number | undefined {
  if (data.length < 5 || data[0] !== 0) return undefined;
  const len = data.readUInt32BE(1);
  if (data.length < 5 + len) return undefined;
  const msg = data.subarray(5, 5 + len);
  let status = 0; // proto3: an absent field is its zero value, UNKNOWN
  let i = 0;
  while (i < msg.length) {
    const key = readVarint(msg, i);
    if (!key) return undefined;
    i = key.next;
    const field = key.value >>> 3;
    const wire = key.value & 7;
    if (wire === 0) {
      const v = readVarint(msg, i);
      if (!v) return undefined;
      i = v.next;
      if (field === 1) status = v.value;
    } else if (wire === 2) {
      const l = readVarint(msg, i);
      if (!l || l.next + l.value > msg.length) return undefined;
      i = l.next + l.value;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else return undefined;
  }
  return i === msg.length ? status : undefined;
}

/** A framed HealthCheckResponse (for test servers). */
export function encodeCheckResponse(status: number): Buffer {
  const body = Buffer.concat([Buffer.from([0x08]), varint(status)]);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** The service a framed HealthCheckRequest names (for test servers). */
export function decodeCheckRequest(data: Buffer): string | undefined {
  if (data.length < 5) return undefined;
  const msg = data.subarray(5, 5 + data.readUInt32BE(1));
  if (msg.length === 0) return '';
  if (msg[0] !== 0x0a) return undefined;
  const l = readVarint(msg, 1);
  return l ? msg.subarray(l.next, l.next + l.value).toString('utf8') : undefined;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function readVarint(b: Buffer, at: number): { value: number; next: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    const byte = b[i] as number;
    value += (byte & 0x7f) * mul;
    mul *= 128;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
  }
  return undefined;
}
