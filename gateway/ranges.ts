/**
 * A `Range` header against a representation of `size` bytes (RFC 9110 §14): none, one range
 * (206), unsatisfiable (416), or several (served whole, 200: multipart is not worth it for the
 * readers Sherd serves, which ask one range at a time).
 */
export type RangeRequest = { kind: 'whole' } | { kind: 'single'; start: number; end: number } | { kind: 'unsatisfiable' };

export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!match) return { kind: 'whole' }; // an unknown unit is ignored (§14.2)
  const specs = match[1]!
    .split(',')
    .map((spec) => spec.trim())
    .filter((spec) => spec.length > 0);
  if (specs.length !== 1) return { kind: 'whole' }; // none, or several: the whole file
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === '' && spec[2] === '')) return { kind: 'whole' }; // malformed: ignored
  if (spec[1] === '') {
    // bytes=-N: the last N bytes.
    const suffix = Number(spec[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'single', start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(spec[1]);
  const last = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
  if (spec[2] !== '' && Number(spec[2]) < start) return { kind: 'whole' }; // invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'single', start, end: last + 1 };
}
