import { readFile } from 'node:fs/promises';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { sherdRegistryAbi } from '../../chain/abi.ts';
import { ABI_FILE, loadArtifacts, renderAbiModule } from '../../chain/compile.ts';
import { decodeOutput, type Arguments, type Returns } from '../../chain/typed-contract.ts';

type Abi = typeof sherdRegistryAbi;

describe('the checked-in ABI', () => {
  it('is what the Solidity compiles to (run `npm run abi` after changing chain/contracts)', async () => {
    const expected = renderAbiModule(await loadArtifacts());
    expect(await readFile(ABI_FILE, 'utf8')).toBe(expected);
  });

  it('types calls and results from the ABI: named fields, bigint integers, hex bytes', () => {
    expectTypeOf<Returns<Abi, 'getDataset'>>().toEqualTypeOf<{
      registered: boolean;
      certified: boolean;
      signers: bigint;
      size: bigint;
      k: bigint;
      m: bigint;
      nodeSet: bigint;
      owner: string;
      fee: bigint;
      contentRoot: string;
      epochs: bigint;
      startEpoch: bigint;
      segments: bigint;
    }>();
    expectTypeOf<Returns<Abi, 'nodeIdByKey'>>().toEqualTypeOf<{ found: boolean; id: bigint }>();
    expectTypeOf<Returns<Abi, 'activeNodes'>>().toEqualTypeOf<bigint[]>();
    expectTypeOf<Arguments<Abi, 'certify'>>().toEqualTypeOf<[string | Uint8Array, string | Uint8Array, string | Uint8Array]>();
    expectTypeOf<Arguments<Abi, 'reportMissed'>>().toEqualTypeOf<[string | Uint8Array, bigint | number, bigint | number]>();
  });

  it('decodes positional results into the named objects the types describe', () => {
    const output = {
      type: 'tuple',
      components: [
        { name: 'found', type: 'bool' },
        { name: 'ids', type: 'uint32[]' },
      ],
    };
    expect(decodeOutput(output, [true, [1n, 2n]])).toEqual({ found: true, ids: [1n, 2n] });
    const nested = { type: 'tuple[]', components: [{ name: 'a', type: 'uint8' }] };
    expect(decodeOutput(nested, [[5n], [6n]])).toEqual([{ a: 5n }, { a: 6n }]);
  });
});
