import { NodeClient } from '../../client/node-client.ts';

/** A node's /metrics text. */
export async function nodeMetricsText(url: string): Promise<string> {
  const client = new NodeClient(url);
  try {
    return await client.metrics();
  } finally {
    await client.close();
  }
}

/** The sum of a metric's series in Prometheus text, over every label set (0 when it has none). */
export function metricSum(text: string, name: string): number {
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}
