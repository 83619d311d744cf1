import { DEFAULT_SAMPLE_CONFIDENCE, sampleDataset, type SampleReport } from '../../client/sample.ts';
import { toHex } from '../../proofs/bytes.ts';
import { integer, parse, positionals, print, UsageError } from '../args.ts';
import { chainFrom, chainOptions, datasetArg } from '../context.ts';
import { ProgressBar } from '../progress.ts';

export const SAMPLE_USAGE = 'sherd sample DATASET [--devnet F | --rpc URL --registry ADDR] [--confidence 0.99 | --samples N] [--json]';

function parseConfidence(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const confidence = Number(text);
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`--confidence must be a number between 0 and 1 (exclusive), got ${text}`);
  return confidence;
}

/** What `sherd sample` prints: the plan, each node that was asked, the failures, and the verdict with the confidence asked and reached. */
function humanReport(report: SampleReport, asked: string): string {
  const plural = report.lostSegments.length > 1;
  const followUp = report.followUpSamples ? `, ${report.followUpSamples} more where one failed` : '';
  const verdict = report.recoverable
    ? `recoverable: every segment has at least k = ${report.k} shards answering (confidence ${report.confidence.toFixed(4)}, ${asked})`
    : `NOT RECOVERABLE: ${plural ? 'segments' : 'segment'} ${report.lostSegments.join(', ')} ${plural ? 'have' : 'has'} ` +
      `fewer than k = ${report.k} shards answering`;
  const nodeLine = (n: SampleReport['nodes'][number]) => {
    const errors = Object.entries(n.errors)
      .map(([code, count]) => `${code} ×${count}`)
      .join(', ');
    return `  node ${String(n.index).padStart(3)}  ${n.url}  ${n.samples - n.failed}/${n.samples} ok${n.failed ? `  (${errors})` : ''}`;
  };
  return [
    `dataset ${toHex(report.datasetId)}${report.certified ? '' : ' (registered, not certified)'}: ` +
      `${report.segments} segments, k=${report.k}, m=${report.m}`,
    `${report.samples} samples (${report.perSegment} per segment${followUp}), ${report.failed} failed, in ${report.seconds.toFixed(2)} s`,
    ...report.nodes.filter((n) => n.samples > 0).map(nodeLine),
    ...report.failures.slice(0, 20).map((f) => `  failed  shard ${f.segment}/${f.index} on node ${f.node}: ${f.code}`),
    ...(report.failures.length > 20 ? [`  … and ${report.failures.length - 20} more failures (--json lists them all)`] : []),
    verdict,
  ].join('\n');
}

/** `sherd sample DATASET`: random samples proven against the content root; exits 1 when a segment cannot be recovered. */
export async function cmdSample(args: string[]): Promise<number> {
  const options = { ...chainOptions, confidence: { type: 'string' }, samples: { type: 'string' }, json: { type: 'boolean' } } as const;
  const { values, positionals: given } = parse(args, options, 'sample');
  const id = datasetArg(positionals(given, 1, SAMPLE_USAGE)[0]);
  if (values.confidence !== undefined && values.samples !== undefined)
    throw new UsageError('--confidence and --samples exclude each other');
  const confidence = parseConfidence(values.confidence);
  integer('samples', values.samples, { min: 1, max: Number.MAX_SAFE_INTEGER });
  const { context } = await chainFrom(values);
  const bar = new ProgressBar();
  try {
    // --samples can ask for at most every shard once; the dataset on chain says how many there are.
    const registration = await context.registry.dataset(id);
    const shards = registration.registered ? registration.segments * (registration.k + registration.m) : Number.MAX_SAFE_INTEGER;
    const samples = integer('samples', values.samples, { min: 1, max: shards });
    const asked = samples === undefined ? `asked for ${confidence ?? DEFAULT_SAMPLE_CONFIDENCE}` : `from ${samples} samples`;
    const report = await sampleDataset(id, {
      registry: context.registry,
      confidence,
      samples,
      onProgress: (e) => bar.update('sample', e.checked, e.total, 'count'),
    });
    bar.done();
    const confidenceAsked = samples === undefined ? (confidence ?? DEFAULT_SAMPLE_CONFIDENCE) : null;
    const json = { ...report, datasetId: toHex(report.datasetId), contentRoot: toHex(report.contentRoot), confidenceAsked };
    print(values.json === true, json, humanReport(report, asked));
    return report.recoverable ? 0 : 1;
  } finally {
    bar.done();
    context.close();
  }
}
