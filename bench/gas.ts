/**
 * Gas of the on-chain verification channel, on the local Prague chain (EIP-2537 precompiles):
 * registerNode, registerDataset and certify with 8, 16, 32 and 64 nodes, with every node
 * signing and with a third not signing. Prints a table, writes bench/results/gas.json.
 * Run: npm run bench:gas
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { startLocalChain } from '../chain/local-chain.ts';
import { DEFAULT_REGISTRY_PARAMETERS, Registry } from '../chain/registry.ts';
import { blsAggregateSignatures, blsProvePossession, blsSign, generateBlsKeyPair } from '../proofs/bls.ts';
import { bitmapFromIndices } from '../protocol/certificate.ts';
import { attestationMessage } from '../protocol/messages.ts';

interface Row {
  nodes: number;
  k: number;
  m: number;
  registerNodeGas: number;
  registerDatasetGas: number;
  registerDatasetWithSnapshotGas: number;
  certifyAllGas: number;
  nonSigners: number;
  certifyThirdMissingGas: number;
}

const chain = await startLocalChain();
const funder = await chain.funder();
const rows: Row[] = [];
try {
  for (const count of [8, 16, 32, 64]) {
    const registry = await Registry.deploy(funder, { ...DEFAULT_REGISTRY_PARAMETERS, minStake: 1n, exitDelay: 1n, feePerByteEpoch: 1n });
    const keys = Array.from({ length: count }, () => generateBlsKeyPair());
    const registerGas: number[] = [];
    for (const [i, key] of keys.entries()) {
      const receipt = await registry.registerNode(key.publicKey, blsProvePossession(key.secretKey), `http://127.0.0.1:${10_000 + i}`, 1n);
      registerGas.push(Number(receipt.gasUsed));
    }
    const k = count / 2;
    const m = count / 2;
    const certifyWith = async (signers: number[]) => {
      const root = new Uint8Array(randomBytes(32));
      const registered = await registry.registerDataset(root, 1_000_000, k, m, 1, 1_000_000n);
      const message = attestationMessage(chain.chainId, registry.address, root);
      const signature = blsAggregateSignatures(signers.map((i) => blsSign(keys[i]!.secretKey, message)));
      const certified = await registry.certify(root, bitmapFromIndices(signers, count), signature);
      return { register: Number(registered.gasUsed), certify: Number(certified.gasUsed) };
    };
    // The first dataset also snapshots the node set; measure its registration separately from the steady state.
    const first = await certifyWith(keys.map((_, i) => i));
    const all = await certifyWith(keys.map((_, i) => i));
    const nonSigners = Math.floor(count / 3);
    const third = await certifyWith(keys.map((_, i) => i).filter((i) => i % 3 !== 1 || i >= 3 * nonSigners));
    rows.push({
      nodes: count, k, m,
      registerNodeGas: Math.round(registerGas.slice(1).reduce((a, b) => a + b, 0) / (count - 1)),
      registerDatasetGas: all.register,
      registerDatasetWithSnapshotGas: first.register,
      certifyAllGas: all.certify,
      nonSigners,
      certifyThirdMissingGas: third.certify,
    });
  }
} finally {
  await chain.close();
}

const perKey = (rows.at(-1)!.certifyThirdMissingGas - rows[0]!.certifyThirdMissingGas - (rows.at(-1)!.certifyAllGas - rows[0]!.certifyAllGas))
  / (rows.at(-1)!.nonSigners - rows[0]!.nonSigners);
const header = '| nodes | k + m | registerNode | registerDataset (first after a node-set change) | certify, all sign | certify, ⌊N/3⌋ do not |';
const lines = [header, '|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.nodes} | ${r.k} + ${r.m} | ${r.registerNodeGas.toLocaleString('en')} | ${r.registerDatasetGas.toLocaleString('en')} (${r.registerDatasetWithSnapshotGas.toLocaleString('en')}) | ${r.certifyAllGas.toLocaleString('en')} | ${r.certifyThirdMissingGas.toLocaleString('en')} (${r.nonSigners} missing) |`)];
process.stdout.write(`${lines.join('\n')}\n\nper non-signing key subtracted: ~${Math.round(perKey).toLocaleString('en')} gas\n`);
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
await writeFile(new URL('./results/gas.json', import.meta.url), `${JSON.stringify({
  date: new Date().toISOString(), chain: 'hardhat (EDR), hardfork prague', rows, gasPerSubtractedKey: Math.round(perKey),
}, null, 2)}\n`);
