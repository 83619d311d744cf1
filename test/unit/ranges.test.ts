import { describe, expect, it } from 'vitest';
import { parseRangeHeader } from '../../gateway/ranges.ts';

describe('Range headers (RFC 9110 §14)', () => {
  it('reads one range, open-ended and suffix ranges, clamped to the representation', () => {
    const cases: Array<[string, number, ReturnType<typeof parseRangeHeader>]> = [
      ['bytes=0-99', 1000, { kind: 'single', start: 0, end: 100 }],
      ['bytes=990-2000', 1000, { kind: 'single', start: 990, end: 1000 }],
      ['bytes=500-', 1000, { kind: 'single', start: 500, end: 1000 }],
      ['bytes=-100', 1000, { kind: 'single', start: 900, end: 1000 }],
      ['bytes=-5000', 1000, { kind: 'single', start: 0, end: 1000 }],
      [' BYTES = 7-7 ', 1000, { kind: 'single', start: 7, end: 8 }],
    ];
    for (const [header, size, expected] of cases) expect([header, parseRangeHeader(header, size)]).toEqual([header, expected]);
  });

  it('answers 416 for a range past the end, an empty suffix and any range of an empty file', () => {
    for (const [header, size] of [
      ['bytes=1000-', 1000],
      ['bytes=1000-1001', 1000],
      ['bytes=-0', 1000],
      ['bytes=0-', 0],
      ['bytes=-1', 0],
    ] as const) {
      expect([header, size, parseRangeHeader(header, size)]).toEqual([header, size, { kind: 'unsatisfiable' }]);
    }
  });

  it('serves the whole representation for no header, another unit, several ranges and malformed or reversed ones', () => {
    for (const header of [undefined, 'items=0-9', 'bytes=0-9,20-29', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=10-5', 'bytes=1-2-3']) {
      expect([header, parseRangeHeader(header, 1000)]).toEqual([header, { kind: 'whole' }]);
    }
  });
});
