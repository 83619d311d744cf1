/**
 * What licensing costs: an encrypted upload against a plain one of the same size, on the same
 * 6-node devnet with the same encoder pool, runs interleaved (so drift hits both); and the key
 * release a licensee's reader waits for: one signed request to every node, each checking the
 * license on chain, t shares combined. Baselines in this process: AES-256-GCM STREAM sealing
 * of the same bytes alone, and one JSON round trip to a node (GET /v1/info).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { Licenses } from '../chain/licenses.ts';
import { Devnet } from '../cli/devnet.ts';
import { licenseAccount, registeredDataset } from '../client/chain-context.ts';
import { DatasetReader } from '../client/download.ts';
import { fetchDatasetKey, readEnvelope } from '../client/encryption.ts';
import { EncoderPool } from '../client/encoder.ts';
import { NodeClient } from '../client/node-client.ts';
import { upload, type UploadResult } from '../client/upload.ts';
import { accountAddress, generateAccountKey } from '../proofs/account.ts';
import { toHex } from '../proofs/bytes.ts';
import { sealStream } from '../proofs/stream-cipher.ts';
import { mbps, table, timed, writeResult } from './lib.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchLicensing(quick: boolean): Promise<{ encryptedVsPlain: number; keyReleaseSeconds: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sherd-bench-licensing-'));
  const devnet = await Devnet.start({ nodes: 6, dir });
  const encoder = new EncoderPool();
  try {
    const size = (quick ? 16 : 64) * 1024 * 1024;
    // Five each: since the code over Fr an upload of 16 MiB takes ~5 s, and three runs left ±6% of drift in the medians.
    const runs = 5;
    const times = { plain: [] as number[], encrypted: [] as number[] };
    let last: UploadResult | undefined;
    for (let i = 0; i < runs; i++) {
      for (const kind of i % 2 === 0 ? (['plain', 'encrypted'] as const) : (['encrypted', 'plain'] as const)) {
        // Fresh bytes every time: the same bytes again would be an upload already certified.
        const data = new Uint8Array(randomBytes(size));
        const [result, ms] = await timed(() =>
          upload(data, {
            nodes: devnet.endpoints,
            chain: devnet.uploadChain(),
            uploaderKey: devnet.uploaderKey,
            encoder,
            encrypt: kind === 'encrypted',
          }),
        );
        times[kind].push(ms);
        if (kind === 'encrypted') last = result;
      }
    }
    const data = new Uint8Array(randomBytes(size));
    const [, sealMs] = await timed(async () => {
      for await (const _ of sealStream(new Uint8Array(32).fill(1), [data])) {
        // consumed: the cost is the sealing
      }
    });

    // A buyer with a license, asking for the key as its reader does on open.
    const id = last!.datasetId;
    const owner = Licenses.at(await devnet.registry.licensesAddress(), devnet.uploadChain().registry.contract.runner!);
    await owner.offer(id, 1n, 0, new Uint8Array(32));
    const buyerKey = generateAccountKey();
    const funder = await devnet.chain.funder();
    await (await funder.sendTransaction({ to: accountAddress(buyerKey), value: 10n ** 18n })).wait();
    await Licenses.at(owner.address, new Wallet(toHex(buyerKey), devnet.chain.provider)).buy(id, 1n);
    const account = await licenseAccount(
      { registry: devnet.registry, provider: devnet.chain.provider, chainId: devnet.chain.chainId },
      buyerKey,
    );
    const { terms, nodes } = await registeredDataset(devnet.registry, id);
    const reader = await DatasetReader.open(id, { nodes, registration: terms });
    const envelope = (await readEnvelope(reader))!;
    const holders = { id, envelope, urls: reader.nodeUrls, nodeKeys: terms.nodeKeys };
    const releases: number[] = [];
    for (let i = 0; i < 7; i++) releases.push((await timed(() => fetchDatasetKey(holders, account)))[1]);
    await reader.close();
    const client = new NodeClient(devnet.endpoints[0]!.url, { connections: 1 });
    const roundTrips: number[] = [];
    for (let i = 0; i < 20; i++) roundTrips.push((await timed(() => client.info()))[1]);
    await client.close();

    const plainMs = median(times.plain);
    const encryptedMs = median(times.encrypted);
    const encryptedVsPlain = plainMs / encryptedMs;
    const keyReleaseSeconds = median(releases) / 1000;
    const rows = [
      { what: 'plain upload (median)', ms: plainMs, 'MB/s': mbps(size, plainMs) },
      { what: 'encrypted upload (median)', ms: encryptedMs, 'MB/s': mbps(size, encryptedMs) },
      { what: 'AES-256-GCM STREAM seal alone', ms: sealMs, 'MB/s': mbps(size, sealMs) },
      { what: `key release, t = ${envelope.threshold} of 6 (median of 7)`, ms: median(releases), 'MB/s': '' },
      { what: 'one JSON round trip to a node (median of 20)', ms: median(roundTrips), 'MB/s': '' },
    ];
    table(`Licensing: ${size / 1048576} MiB uploads on 6 nodes (k = 3, m = 3), ${runs} runs each, interleaved`, rows);
    process.stdout.write(
      `encrypted upload vs plain: ${encryptedVsPlain.toFixed(3)} (goal ≥ 0.95); key release ${keyReleaseSeconds.toFixed(3)} s\n`,
    );
    const result = { size, runs, times, sealMs, releases, roundTrips, threshold: envelope.threshold, encryptedVsPlain, keyReleaseSeconds };
    await writeResult('licensing', result);
    return { encryptedVsPlain, keyReleaseSeconds };
  } finally {
    await encoder.close();
    await devnet.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// `npx tsx bench/licensing.ts [--quick]` runs it alone.
if (process.argv[1]?.endsWith('licensing.ts')) await benchLicensing(process.argv.includes('--quick'));
