// What the wire decoders share: the conversion of the scalar values protobufjs's reflection
// decoder returns (number, string or Long) to number and bigint. (`malformed`, their error for bad
// input, lives in ./batch.ts: see there.)

export function toNum(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return 0;
}

export function toBig(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  if (v && typeof v === 'object' && 'toString' in v && v !== null && 'low' in v)
    return BigInt((v as { toString(): string }).toString());
  return 0n;
}
