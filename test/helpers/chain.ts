import { expect } from 'vitest';
import { ChainError } from '../../chain/registry.ts';

/** The ChainError a transaction or call was refused with (the contract's custom error name is its code); fails the test if it went through. */
export async function rejection(promise: Promise<unknown>): Promise<ChainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChainError);
  return error as ChainError;
}
