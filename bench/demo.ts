/**
 * The upload rate `sherd demo` reports (64 MiB to 8 nodes, the nodes verifying on the same
 * cores as the client), as a user sees it. The baseline in the same process is the client's
 * preparation alone (bench/prepare.ts); here the whole path counts: code, commit, register,
 * announce, disperse, node verification, certify.
 */
import { runDemo } from '../cli/demo.ts';
import { table, writeResult } from './lib.ts';

export async function benchDemo(_quick: boolean): Promise<{ uploadMiBps: number }> {
  const report = await runDemo({});
  if (!report.readBackEqual) throw new Error('the demo read back different bytes');
  table('sherd demo (64 MiB, 8 nodes)', [
    { step: 'upload', seconds: report.uploadSeconds, 'MiB/s': report.uploadMiBps },
    { step: 'download with nodes stopped', seconds: report.downloadSeconds, 'MiB/s': report.downloadMiBps },
  ]);
  await writeResult('demo', {
    uploadMiBps: report.uploadMiBps,
    downloadMiBps: report.downloadMiBps,
    uploadSeconds: report.uploadSeconds,
    k: report.k,
    m: report.m,
    nodes: report.nodes,
  });
  return { uploadMiBps: report.uploadMiBps };
}
