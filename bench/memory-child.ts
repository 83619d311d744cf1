/**
 * Runs one upload or download in its own process and reports that process's peak RSS
 * (worker threads included), so bench/memory.ts measures the client alone.
 * Usage: tsx bench/memory-child.ts upload DEVNET_FILE FILE | download DEVNET_FILE ROOT
 */
import { createHash } from 'node:crypto';
import { readDevnetFile } from '../cli/devnet.ts';
import { download } from '../client/dataset.ts';
import { connectChain, datasetNodesFromChain, nodesFromChain, uploadChainFor } from '../client/chain-context.ts';
import { upload } from '../client/upload.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';

const [mode, devnetFile, target] = process.argv.slice(2) as [string, string, string];
const devnet = await readDevnetFile(devnetFile);
const chain = await connectChain(devnet.rpc, devnet.registryAddress);
const started = performance.now();
let report: Record<string, unknown>;
if (mode === 'upload') {
  const result = await upload(target, {
    nodes: await nodesFromChain(chain.registry),
    chain: uploadChainFor(chain, devnet.uploaderKey),
    uploaderKey: fromHex(devnet.uploaderKey, 32),
  });
  report = { datasetId: toHex(result.datasetId), bytes: result.size };
} else {
  const id = fromHex(target, 32);
  // The SDK's download: the dataset's one file (not its file index), as `sherd download` writes it.
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of download(id, { nodes: await datasetNodesFromChain(chain.registry, id), registry: chain.registry })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  report = { bytes, sha256: hash.digest('hex') };
}
chain.close();
process.stdout.write(
  `${JSON.stringify({ ...report, seconds: (performance.now() - started) / 1000, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
process.exit(0);
