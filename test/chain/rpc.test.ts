import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { getAddress, hexlify, type JsonRpcProvider, type JsonRpcSigner } from 'ethers';
import { openRpc, type RpcConnection } from '../../chain/rpc.ts';
import { startLocalChain, type LocalChain } from '../../cli/local-chain.ts';

/**
 * The providers Sherd talks to a chain through (openRpc's, and the embedded chain's) answer
 * every request from the chain. ethers by default shares identical requests made within 250 ms,
 * a rejection included: a read just after a transaction saw the state before it, and a
 * transaction retried after the state changed got its first estimate's revert again (a test of
 * the license registry failed so: its withdraw, estimated once when the balance was zero).
 */
let chain: LocalChain;
let rpc: RpcConnection;
let funder: JsonRpcSigner;

beforeAll(async () => {
  chain = await startLocalChain();
  rpc = await openRpc(chain.url);
  funder = await chain.funder();
});

afterAll(async () => {
  rpc?.close();
  await chain?.close();
});

const freshAddress = () => getAddress(hexlify(randomBytes(20)));

/**
 * A contract that reverts while it holds no ether and stops otherwise. Runtime: SELFBALANCE
 * ISZERO PUSH1 6 JUMPI STOP JUMPDEST PUSH1 0 DUP1 REVERT; before it, init code that copies those
 * 11 bytes from offset 12 and returns them.
 */
async function deployRevertsWhileEmpty(): Promise<string> {
  const runtime = '4715600657005b600080fd';
  const init = '600b600c600039600b6000f3';
  const receipt = await (await funder.sendTransaction({ data: `0x${init}${runtime}` })).wait();
  return receipt!.contractAddress!;
}

describe.each([
  ['openRpc', () => rpc.provider],
  ['the embedded chain', () => chain.provider],
])('the provider of %s', (_name, provider: () => JsonRpcProvider) => {
  it('reads the state a transaction just left, not an answer shared from before it', async () => {
    const account = freshAddress();
    expect(await provider().getBalance(account)).toBe(0n);
    await (await funder.sendTransaction({ to: account, value: 5n })).wait();
    expect(await provider().getBalance(account)).toBe(5n);
  });

  it('estimates again once the state has changed, not the revert it gave a moment before', async () => {
    const contract = await deployRevertsWhileEmpty();
    const call = { from: await funder.getAddress(), to: contract };
    await expect(provider().estimateGas(call)).rejects.toThrow(/revert/i);
    await (await funder.sendTransaction({ to: contract, value: 1n })).wait();
    expect(await provider().estimateGas(call)).toBeGreaterThan(21_000n);
  });
});
