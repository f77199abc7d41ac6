/**
 * JSON with object keys sorted, so equal documents are equal text: the read models' rebuild == live comparison (whose
 * stored text may differ in key order; MongoDB's too) and a trigger definition saved again with reordered keys (not a
 * new version). Keys that are array indices come first in numeric order, as JavaScript orders them in an object (RFC
 * 8785's `canonicalize` sorts them as text). Written out by hand: it costs half of JSON.stringify with a sorting
 * replacer, and the rebuild compares every document of a model with it.
 */
export function canonicalJson(value: unknown): string {
  return writeCanonical(value, '') as string;
}

function writeCanonical(value: unknown, key: string): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function')
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + (writeCanonical(value[i], String(i)) ?? 'null');
    return `${out}]`;
  }
  let out = '{';
  for (const k of sortedKeys(value)) {
    const written = writeCanonical((value as Record<string, unknown>)[k], k);
    if (written !== undefined) out += (out.length > 1 ? ',' : '') + JSON.stringify(k) + ':' + written;
  }
  return `${out}}`;
}

function sortedKeys(value: object): string[] {
  const keys = Object.keys(value); // array-index keys first, ascending; then the others in insertion order
  let indices = 0;
  while (indices < keys.length && keys[indices] === String(Number(keys[indices]) >>> 0) && keys[indices] !== '4294967295') indices++;
  return indices === 0 ? keys.sort() : keys.slice(0, indices).concat(keys.slice(indices).sort());
}
