import { parse, positionals, print, UsageError, integer } from '../args.ts';
import { runDemo } from '../demo.ts';
import { formatBytes, parseBytes, ProgressBar } from '../progress.ts';
import { checkFile } from './upload.ts';

export const DEMO_USAGE = 'sherd demo [--nodes 8] [--size 64MiB] [--file F] [--workers W] [--json] [--keep]';

function sizeArg(text: string): number {
  try {
    return parseBytes(text);
  } catch {
    throw new UsageError(`--size: not a size: ${text} (try 64MiB)`);
  }
}

/** `sherd demo`: the main job end to end (cli/demo.ts); exits 1 unless every byte came back and every check passed. */
export async function cmdDemo(args: string[]): Promise<number> {
  const options = {
    nodes: { type: 'string' },
    size: { type: 'string' },
    file: { type: 'string' },
    json: { type: 'boolean' },
    keep: { type: 'boolean' },
    workers: { type: 'string' },
  } as const;
  const { values, positionals: given } = parse(args, options, 'demo');
  positionals(given, 0, DEMO_USAGE);
  if (values.file !== undefined) await checkFile(values.file);
  const json = values.json === true;
  const bar = new ProgressBar();
  const report = await runDemo({
    nodes: integer('nodes', values.nodes, { min: 2, max: 256 }, 8),
    size: values.size === undefined ? undefined : sizeArg(values.size),
    file: values.file,
    keep: values.keep === true,
    workers: integer('workers', values.workers, { min: 1, max: 256 }),
    onStep: (message) => {
      bar.done();
      if (!json) process.stderr.write(`• ${message}\n`);
    },
    onUploadProgress: (e) => {
      if (e.phase === 'encode') bar.update('encode', e.bytes, e.totalBytes);
      if (e.phase === 'disperse') bar.update('disperse', e.shardsSent, e.shardsTotal, 'count');
    },
    onDownloadProgress: (e) => bar.update('download', e.bytes, e.totalBytes),
  });
  bar.done();
  print(
    json,
    report,
    [
      '',
      `Sherd demo: ${report.readBackEqual ? 'OK' : 'FAILED'}`,
      `  dataset      ${formatBytes(report.bytes)}, id ${report.datasetId}`,
      `  code         k=${report.k} data + m=${report.m} parity per segment; ${report.segments} segments, ${report.shards} shards`,
      `  certificate  ${report.signers} of ${report.nodes} nodes signed (quorum ${report.quorum}); ` +
        `verified on chain by SherdRegistry ${report.registryAddress}`,
      `               certify tx ${report.certifiedTx}: ${report.certifyGas} gas`,
      `  upload       ${report.uploadSeconds} s (${report.uploadMiBps} MiB/s)`,
      `  sampling     ${report.samples} samples, ${report.sampleFailures} failed, in ${report.sampleSeconds} s: ` +
        `recoverable with confidence ${report.sampleConfidence}`,
      `  challenges   epoch ${report.challengeEpoch}: ${report.challengesAnswered} answered, ${report.challengesMissed} missed ` +
        '(KZG proofs checked on chain by the point-evaluation precompile)',
      `               ${report.rewardsPaid} wei of storage fees paid to the nodes that answered`,
      `  failure      killed ${report.nodesStopped} of ${report.nodes} nodes (${report.stoppedNodes.join(', ')})`,
      `  download     ${report.downloadSeconds} s (${report.downloadMiBps} MiB/s), ` +
        `${report.reconstructedSegments} segments rebuilt from parity`,
      `  read back    sha256 ${report.outputSha256} ${report.readBackEqual ? '== input' : `!= input ${report.inputSha256}`}`,
      ...(report.dir ? [`  kept         ${report.dir}`] : []),
    ].join('\n'),
  );
  return report.readBackEqual && report.challengesMissed === 0 && report.sampleFailures === 0 ? 0 : 1;
}
