import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { loadCKzg } from '../../proofs/kzg.ts';
import { BLS_MODULUS, randomFieldElement } from '../../proofs/field.ts';
import { versionedHash } from '../../proofs/sampling.ts';
import { DEVNET_REGISTRY_PARAMETERS } from '../../chain/registry.ts';
import { shardsOnNode } from '../../protocol/placement.ts';
import { datasetNodesFromChain } from '../../client/chain-context.ts';
import { Devnet } from '../../cli/devnet.ts';
import { NodeClient } from '../../client/node-client.ts';
import { sampleDataset, type SampleReport } from '../../client/sample.ts';
import { upload, type UploadResult } from '../../client/upload.ts';
import { ShardStore } from '../../storage-node/store.ts';
import { sherd } from '../helpers/sherd.ts';

/**
 * Availability on a devnet of four real node processes (k = 2, m = 2, so every node holds one
 * shard of each segment): sampling, challenge epochs answered by the nodes on their own, and
 * a node that deleted shards failing exactly on them, missing its challenges and being slashed.
 */
const LAZY = 1; // the node that will delete shards
const POINT_EVALUATION = '0x000000000000000000000000000000000000000a';
/** What the precompile returns on success: FIELD_ELEMENTS_PER_BLOB and BLS_MODULUS. */
const PRECOMPILE_OK = `0x${(4096).toString(16).padStart(64, '0')}${BLS_MODULUS.toString(16).padStart(64, '0')}`;
let dir: string;
let devnet: Devnet;
let uploaded: UploadResult;
let id: Uint8Array;
let idHex: string;
let deleted: Set<string>;

const metricsOf = async (node: number) => {
  const client = new NodeClient(devnet.endpoints[node]!.url);
  try {
    return await client.metrics();
  } finally {
    await client.close();
  }
};
const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sherd-challenges-'));
  devnet = await Devnet.start({ nodes: 4, dir: join(dir, 'devnet') });
  uploaded = await upload(new Uint8Array(randomBytes(2 * 1024 * 1024)), {
    nodes: devnet.endpoints,
    chain: devnet.uploadChain(),
    uploaderKey: devnet.uploaderKey,
    epochs: 20,
  });
  id = uploaded.datasetId;
  idHex = toHex(id);
}, 120_000);

afterAll(async () => {
  await devnet?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('availability of a dataset on honest nodes', () => {
  it('answers every sample, each proven against the content root on chain', async () => {
    const report = await sampleDataset(id, { registry: devnet.registry, nodes: await datasetNodesFromChain(devnet.registry, id) });
    expect(uploaded.segments).toBe(9);
    expect(report).toMatchObject({
      segments: 9,
      k: 2,
      m: 2,
      perSegment: 2,
      samples: 18,
      failed: 0,
      followUpSamples: 0,
      recoverable: true,
      confidence: 1,
    });
    expect(report.nodes.reduce((sum, n) => sum + n.samples, 0)).toBe(18);
  });

  it('produces openings that both c-kzg and the point-evaluation precompile accept', async () => {
    const kzg = loadCKzg();
    for (let node = 0; node < 4; node++) {
      const client = new NodeClient(devnet.endpoints[node]!.url);
      try {
        const held = [...shardsOnNode(node, uploaded.segments, 4, 4)].filter(([segment]) => segment === 0 || segment === 5);
        const samples = held.map(([segment, index]) => ({ segment, index, z: toHex(randomFieldElement()) }));
        expect(samples).toHaveLength(2);
        const { answers } = await client.samples(id, samples);
        for (const answer of answers) {
          if ('error' in answer) throw new Error(`node ${node} failed a sample: ${answer.message}`);
          const [commitment, z, y, proof] = [
            fromHex(answer.commitment, 48),
            fromHex(answer.z, 32),
            fromHex(answer.y, 32),
            fromHex(answer.kzgProof, 48),
          ];
          expect(kzg.verifyProof(commitment, z, y, proof)).toBe(true);
          const input = toHex(new Uint8Array([...versionedHash(commitment), ...z, ...y, ...commitment, ...proof]));
          expect(await devnet.chain.provider.call({ to: POINT_EVALUATION, data: input })).toBe(PRECOMPILE_OK);
        }
      } finally {
        await client.close();
      }
    }
  });

  it('answers a whole challenge epoch on chain without help, and every node earns', async () => {
    const epoch = await devnet.runChallengeEpoch(id);
    expect(epoch).toMatchObject({ challenges: 4, answered: [0, 1, 2, 3], missed: [] });
    // Each node holds a quarter of the shards: together they are paid one epoch's fee.
    expect(epoch.rewardsPaidWei).toBe(BigInt(uploaded.size) * DEVNET_REGISTRY_PARAMETERS.feePerByteEpoch);
    for (let node = 0; node < 4; node++) {
      const earnings = await devnet.registry.nodeEarnings(node);
      expect(earnings).toMatchObject({ answered: 1, missed: 0, slashed: 0n });
      expect(earnings.earned).toBe(epoch.rewardsPaidWei / 4n);
    }
    // The nodes' own metrics say so too (gauges refresh on the next poll).
    await vi.waitFor(
      async () => {
        const metrics = await metricsOf(0);
        expect(metric(metrics, 'sherd_challenges_answered_total')).toBe(1);
        expect(metric(metrics, 'sherd_challenges_missed_total')).toBe(0);
        expect(BigInt(metric(metrics, 'sherd_rewards_earned_wei'))).toBe(epoch.rewardsPaidWei / 4n);
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('pays a node operator its rewards with `sherd node rewards --claim`', async () => {
    const run = await sherd(['node', 'rewards', '--devnet', devnet.path, '--node', '2', '--claim', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Record<string, unknown>;
    const earned = (await devnet.registry.nodeEarnings(2)).earned;
    expect(report).toMatchObject({
      nodeId: 2,
      challengesAnswered: 1,
      challengesMissed: 0,
      unclaimedWei: '0',
      claimedNowWei: earned.toString(),
      slashedWei: '0',
    });
    const again = await sherd(['node', 'rewards', '--devnet', devnet.path, '--node', '2', '--claim']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('sherd: node 2 has no unclaimed rewards\n');
  });
});

describe('a node that deleted some of its shards', () => {
  let sampled: SampleReport;

  beforeAll(async () => {
    // Stop it, delete 7 of its 9 shards from its LevelDB, start it again.
    await devnet.stopNode(LAZY);
    const store = await ShardStore.open(devnet.file.nodes[LAZY]!.dataDir);
    deleted = new Set();
    for (const [segment, index] of [...shardsOnNode(LAZY, uploaded.segments, 4, 4)].slice(0, 7)) {
      await store.deleteShard(id, segment, index);
      deleted.add(`${segment}/${index}`);
    }
    await store.close();
    // An operator who turned repair off: the node would otherwise rebuild them from its peers at start-up.
    await devnet.startNode(LAZY, { args: ['--no-repair'] });
    // Sample every shard of the dataset: the failures must be exactly the deleted shards.
    sampled = await sampleDataset(id, { registry: devnet.registry, nodes: await datasetNodesFromChain(devnet.registry, id), samples: 36 });
  }, 60_000);

  it('fails samples on exactly those shards, and the dataset stays recoverable', () => {
    expect(sampled.samples).toBe(36);
    expect(new Set(sampled.failures.map((f) => `${f.segment}/${f.index}`))).toEqual(deleted);
    expect(sampled.failures.every((f) => f.node === LAZY && f.code === 'shard_missing')).toBe(true);
    expect(sampled.nodes[LAZY]).toMatchObject({ samples: 9, failed: 7, errors: { shard_missing: 7 } });
    expect(sampled.nodes.filter((n) => n.index !== LAZY).every((n) => n.failed === 0)).toBe(true);
    expect(sampled).toMatchObject({ recoverable: true, lostSegments: [] });
  });

  it('misses the challenges that land on them and is slashed; honest nodes answer and report it', async () => {
    const stakeBefore = (await devnet.registry.node(LAZY)).stake;
    let missedEpochs = 0;
    // Each epoch draws one of its 9 shards; 7 are gone. Run epochs until it has missed one (7/9 a time).
    for (let attempt = 0; attempt < 8 && missedEpochs === 0; attempt++) {
      const epoch = await devnet.runChallengeEpoch(id, { answerTimeoutMs: 10_000 });
      const drawn = epoch.challenged[LAZY]!;
      const gone = deleted.has(`${drawn.segment}/${drawn.index}`);
      // Answered exactly when the drawn shard is still there.
      expect(drawn.status).toBe(gone ? 'missed' : 'answered');
      expect(epoch.answered).toEqual([0, 1, 2, 3].filter((m) => m !== LAZY || !gone));
      if (gone) missedEpochs++;
    }
    expect(missedEpochs).toBe(1);
    const node = await devnet.registry.node(LAZY);
    expect(node.stake).toBe(stakeBefore - DEVNET_REGISTRY_PARAMETERS.slashAmount);
    expect(await devnet.registry.nodeEarnings(LAZY)).toMatchObject({ missed: 1, slashed: DEVNET_REGISTRY_PARAMETERS.slashAmount });
    // Below the minimum stake now: no longer placed on new datasets.
    expect(node.active).toBe(false);
    // The lazy node counted its miss; a peer reported it and was paid for it.
    await vi.waitFor(async () => expect(metric(await metricsOf(LAZY), 'sherd_challenges_missed_total')).toBe(1), {
      timeout: 10_000,
      interval: 200,
    });
    const reports = await Promise.all([0, 2, 3].map(async (peer) => metric(await metricsOf(peer), 'sherd_challenges_reported_total')));
    expect(reports.reduce((a, b) => a + b, 0)).toBe(1);
    const reporter = [0, 2, 3][reports.indexOf(1)]!;
    expect(await devnet.registry.balanceOf(devnet.file.nodes[reporter]!.operator)).toBe(
      (DEVNET_REGISTRY_PARAMETERS.slashAmount * DEVNET_REGISTRY_PARAMETERS.reporterShareBps) / 10_000n,
    );
  }, 240_000);

  it('is reported by `sherd sample`, which fails once the dataset cannot be recovered', async () => {
    // Every shard sampled: at the default 2 per segment, all 7 damaged segments would be missed 1 time in 128.
    const partial = await sherd(['sample', idHex, '--devnet', devnet.path, '--samples', '36', '--json']);
    expect(partial.code).toBe(0);
    const report = JSON.parse(partial.stdout) as SampleReport;
    expect(report.recoverable).toBe(true);
    expect(report.failures.length).toBeGreaterThan(0);
    expect(report.failures.every((f) => f.node === LAZY && deleted.has(`${f.segment}/${f.index}`))).toBe(true);
    expect(new Set(report.failures.map((f) => `${f.segment}/${f.index}`))).toEqual(deleted);

    // Two more nodes down: the segments whose shard the lazy node deleted keep one shard of four.
    await devnet.stopNode(2, { kill: true });
    await devnet.stopNode(3, { kill: true });
    const lost = await sherd(['sample', idHex, '--devnet', devnet.path]);
    expect(lost.code).toBe(1);
    expect(lost.stdout).toContain('NOT RECOVERABLE: segments 0, 1, 2, 3, 4, 5, 6 have fewer than k = 2 shards answering');
    expect(lost.stdout).toMatch(/node {3}2 {2}http:\/\/127\.0\.0\.1:\d+ {2}0\/\d+ ok {2}\(unreachable ×\d+\)/);
  }, 120_000);

  it('refuses bad sample arguments with one line and exit status 2', async () => {
    const bad = await sherd(['sample', idHex, '--devnet', devnet.path, '--confidence', '1.5']);
    expect([bad.code, bad.stderr]).toEqual([2, 'sherd: --confidence must be a number between 0 and 1 (exclusive), got 1.5\n']);
    const both = await sherd(['sample', idHex, '--devnet', devnet.path, '--confidence', '0.9', '--samples', '3']);
    expect([both.code, both.stderr]).toEqual([2, 'sherd: --confidence and --samples exclude each other\n']);
    const unregistered = await sherd(['sample', toHex(new Uint8Array(32)), '--devnet', devnet.path]);
    expect(unregistered.code).toBe(1);
    expect(unregistered.stderr).toBe(`sherd: dataset ${toHex(new Uint8Array(32))} is not registered on chain\n`);
  });
});
