import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVNET_REGISTRY_PARAMETERS } from '../../chain/registry.ts';
import { chooseCode, DEFAULT_DURABILITY_MODEL } from '../../client/durability.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { datasetId } from '../../protocol/messages.ts';
import { Devnet } from '../../cli/devnet.ts';
import { sherd } from '../helpers/sherd.ts';

let dir: string;
let devnet: Devnet;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-cli-test-'));
  devnet = await Devnet.start({ nodes: 4, dir: join(dir, 'devnet') });
});

afterAll(async () => {
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('sherd CLI', () => {
  it('uploads and downloads a file through the devnet file, with --json', async () => {
    const input = join(dir, 'input.bin');
    const bytes = randomBytes(900_000);
    await writeFile(input, bytes);
    const up = await sherd(['upload', input, '--devnet', devnet.path, '--epochs', '7', '--json']);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const result = JSON.parse(up.stdout) as Record<string, unknown>;
    // The file, then its index entry (2 + 9 bytes of path + 48) and the 20-byte trailer.
    const datasetBytes = 900_000 + 2 + 'input.bin'.length + 48 + 20;
    // No --k/--m: the cheapest code that keeps eleven nines a year on 4 nodes (client/durability.ts) is replication, k = 1.
    expect(result).toMatchObject({ bytes: 900_000, datasetBytes, k: 1, m: 3, nodes: 4, signers: 4, quorum: 3, failedNodes: [] });
    const choice = chooseCode(4);
    expect(result.codeChoice).toEqual({
      durability: 0.99999999999,
      lossPerYear: choice.lossPerYear,
      meetsTarget: true,
      model: DEFAULT_DURABILITY_MODEL,
    });
    expect(choice.lossPerYear).toBeLessThan(1e-11);
    expect(result.files).toEqual([
      { path: 'input.bin', offset: 0, length: 900_000, sha256: `0x${createHash('sha256').update(bytes).digest('hex')}` },
    ]);
    expect(result.certifiedTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.certifyGas).toBeGreaterThan(100_000);
    expect(result.datasetId).toBe(toHex(datasetId(devnet.file.uploader, fromHex(result.contentRoot as string, 32))));
    const status = await sherd(['status', result.datasetId as string, '--devnet', devnet.path, '--json']);
    expect(status.code).toBe(0);
    const onChain = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(onChain).toMatchObject({
      registered: true,
      certified: true,
      signers: 4,
      size: datasetBytes,
      k: 1,
      m: 3,
      epochs: 7,
      contentRoot: result.contentRoot,
      owner: devnet.file.uploader,
    });
    // Paid for 7 epochs at the devnet's price, challenged from the epoch after certification.
    expect(BigInt(onChain.feeWei as string)).toBe(BigInt(datasetBytes) * 7n * DEVNET_REGISTRY_PARAMETERS.feePerByteEpoch);
    expect(onChain.firstEpoch).toBeGreaterThanOrEqual(1);
    // Each slot with its member: the node set as placed, nobody replaced.
    expect(onChain.slots).toEqual(
      devnet.file.nodes.map((node, slot) => ({
        slot,
        nodeId: slot,
        endpoint: node.url,
        state: 'original',
        active: true,
        repairDeadline: null,
      })),
    );
    const saved = JSON.parse(await readFile(result.certificateFile as string, 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ datasetId: result.datasetId, contentRoot: result.contentRoot, owner: devnet.file.uploader });

    const output = join(dir, 'output.bin');
    const down = await sherd(['download', result.datasetId as string, output, '--devnet', devnet.path, '--json']);
    expect(down.stderr).toBe('');
    expect(down.code).toBe(0);
    expect(JSON.parse(down.stdout)).toMatchObject({ bytes: 900_000, out: output });
    expect(
      createHash('sha256')
        .update(await readFile(output))
        .digest('hex'),
    ).toBe(createHash('sha256').update(bytes).digest('hex'));

    const ranged = await sherd(['download', result.datasetId as string, '-', '--devnet', devnet.path, '--range', '1000-1010']);
    expect(ranged.stderr).toBe('');
    expect(ranged.code).toBe(0);
    expect(Buffer.compare(ranged.stdoutBytes, bytes.subarray(1000, 1010))).toBe(0);
  });

  // Every usage error and failure message, with its status, is checked against docs/cli.md by cli-errors.test.ts.
  it('reports an unregistered dataset in --json too, with exit status 1', async () => {
    const statusJson = await sherd(['status', `0x${'00'.repeat(32)}`, '--devnet', devnet.path, '--json']);
    expect(statusJson.code).toBe(1);
    expect(JSON.parse(statusJson.stdout)).toMatchObject({ datasetId: `0x${'00'.repeat(32)}`, registered: false, certified: false });
  });

  it('runs the demo end to end and reports in JSON', async () => {
    const run = await sherd(['demo', '--nodes', '4', '--size', '1MiB', '--json'], 300_000);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      bytes: 1_048_576,
      k: 2,
      m: 2,
      nodes: 4,
      signers: 4,
      nodesStopped: 2,
      readBackEqual: true,
      certifiedOnChain: true,
    });
    for (const key of ['datasetId', 'contentRoot', 'segments', 'shards', 'uploadSeconds', 'downloadSeconds'])
      expect(report).toHaveProperty(key);
    expect(report.inputSha256).toBe(report.outputSha256);
    // Sampling at the default confidence: k = 2 of n = 4 needs 2 distinct samples per segment.
    expect(report).toMatchObject({
      samples: 2 * (report.segments as number),
      sampleFailures: 0,
      sampleConfidence: 1,
      challengesAnswered: 4,
      challengesMissed: 0,
    });
    // Every node holds a quarter of the shards, so the four answers release exactly one epoch's fee: size × feePerByteEpoch.
    expect(report.datasetBytes).toBe(1_048_576 + 2 + 'dataset.bin'.length + 48 + 20);
    expect(BigInt(report.rewardsPaid as string)).toBe(BigInt(report.datasetBytes as number) * DEVNET_REGISTRY_PARAMETERS.feePerByteEpoch);
  });
});
