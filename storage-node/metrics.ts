/** A small Prometheus registry: counters and gauges with optional labels, text exposition format. */
type Labels = Record<string, string>;

interface Series {
  help: string;
  type: 'counter' | 'gauge';
  values: Map<string, number>;
}

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]!.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  private readonly series = new Map<string, Series>();

  define(name: string, type: 'counter' | 'gauge', help: string): void {
    if (!this.series.has(name)) this.series.set(name, { help, type, values: new Map() });
  }

  inc(name: string, by = 1, labels?: Labels): void {
    const s = this.get(name);
    const key = labelKey(labels);
    s.values.set(key, (s.values.get(key) ?? 0) + by);
  }

  set(name: string, value: number, labels?: Labels): void {
    this.get(name).values.set(labelKey(labels), value);
  }

  value(name: string, labels?: Labels): number {
    return this.get(name).values.get(labelKey(labels)) ?? 0;
  }

  render(): string {
    const lines: string[] = [];
    // Standard process metrics, read at scrape time.
    const cpu = process.cpuUsage();
    lines.push(
      '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
      '# TYPE process_cpu_seconds_total counter',
      `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
    );
    lines.push(
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${process.memoryUsage.rss()}`,
    );
    for (const [name, s] of this.series) {
      lines.push(`# HELP ${name} ${s.help}`, `# TYPE ${name} ${s.type}`);
      if (s.values.size === 0) lines.push(`${name} 0`);
      for (const [key, value] of s.values) lines.push(`${name}${key} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private get(name: string): Series {
    const s = this.series.get(name);
    if (!s) throw new Error(`metric ${name} is not defined`);
    return s;
  }
}

export function nodeMetrics(): Metrics {
  const m = new Metrics();
  m.define('sherd_shards_stored_total', 'counter', 'Shards verified and stored');
  m.define('sherd_shards_duplicate_total', 'counter', 'Shard uploads that were already stored (retries)');
  m.define('sherd_shards_rejected_total', 'counter', 'Shard uploads rejected, by error code');
  m.define('sherd_shards_served_total', 'counter', 'Shards served to readers');
  m.define('sherd_bytes_received_total', 'counter', 'Shard bytes received and stored');
  m.define('sherd_bytes_served_total', 'counter', 'Shard bytes served');
  m.define('sherd_datasets_announced_total', 'counter', 'Datasets announced to this node');
  m.define('sherd_attestations_signed_total', 'counter', 'Dataset attestations signed');
  m.define('sherd_verify_batches_total', 'counter', 'KZG verification batches run');
  m.define('sherd_verify_seconds_total', 'counter', 'Seconds spent in KZG verification batches');
  m.define('sherd_key_shares_released_total', 'counter', 'Key shares of encrypted datasets released to licensees');
  m.define('sherd_key_requests_refused_total', 'counter', 'Key share requests refused for want of a license');
  m.define('sherd_http_errors_total', 'counter', 'HTTP error responses, by error code');
  m.define('sherd_samples_answered_total', 'counter', 'Availability samples answered with an opening proof');
  m.define('sherd_samples_failed_total', 'counter', 'Availability samples this node could not answer, by error code');
  m.define('sherd_challenges_answered_total', 'counter', 'On-chain storage challenges this node answered');
  m.define('sherd_challenges_missed_total', 'counter', 'On-chain storage challenges whose window closed unanswered by this node');
  m.define(
    'sherd_challenges_reported_total',
    'counter',
    'Missed challenges of other nodes this node reported (earning a share of the slash)',
  );
  m.define('sherd_challenge_errors_total', 'counter', 'Failed attempts to read or answer challenges, by error code');
  m.define('sherd_rewards_earned_wei', 'gauge', 'Rewards this node has earned on chain, in wei (read from the registry)');
  m.define('sherd_rewards_unclaimed_wei', 'gauge', 'Rewards earned and not yet claimed, in wei');
  m.define('sherd_stake_slashed_wei', 'gauge', 'Stake slashed from this node for missed challenges, in wei');
  m.define('sherd_repaired_shards_total', 'counter', 'Shards rebuilt from peers and stored, by what found them missing');
  m.define('sherd_repair_bytes_fetched_total', 'counter', 'Shard bytes fetched from peers to rebuild shards');
  m.define('sherd_repair_bytes_restored_total', 'counter', 'Shard bytes rebuilt and stored');
  m.define('sherd_repair_failures_total', 'counter', 'Rebuilds and replacements that failed, by error code');
  m.define('sherd_repair_bad_peer_shards_total', 'counter', 'Shards peers sent for a rebuild that did not match the manifest');
  m.define(
    'sherd_repair_bad_peer_manifests_total',
    'counter',
    'Manifests peers sent for a slot this node took over that did not check out',
  );
  m.define('sherd_repair_passes_total', 'counter', 'Repair passes run (start-up, new datasets and slots, sherd node repair)');
  m.define('sherd_repair_manifests_fetched_total', 'counter', 'Manifests fetched from peers for datasets this node holds a slot of');
  m.define('sherd_replacements_confirmed_total', 'counter', 'Slots this node took over, rebuilt and confirmed on chain');
  m.define('sherd_members_replaced_total', 'counter', "Departed members of this node's datasets it replaced on chain");
  m.define('sherd_scrub_shards_checked_total', 'counter', 'Shards the scrub re-read and re-hashed');
  m.define('sherd_scrub_bytes_total', 'counter', 'Bytes the scrub re-read');
  m.define('sherd_scrub_sweeps_total', 'counter', 'Scrub sweeps completed over every assigned shard');
  m.define('sherd_scrub_progress', 'gauge', 'Part of the current scrub sweep done (0 to 1)');
  m.define('sherd_corrupt_shards_total', 'counter', 'Stored shards found unreadable or not matching their hash');
  return m;
}
