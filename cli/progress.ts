/**
 * A one-line progress bar on stderr, redrawn at most ten times a second. Silent when stderr
 * is not a terminal, so logs and --json output stay clean.
 */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? stream.isTTY === true;
  }

  update(label: string, done: number, total: number | undefined, unit: 'bytes' | 'count' = 'bytes', force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 28;
    const fraction = total ? Math.min(1, done / total) : 0;
    const bar = total ? `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}%` : '';
    const amount =
      unit === 'bytes' ? `${formatBytes(done)}${total ? ` / ${formatBytes(total)}` : ''}` : `${done}${total ? ` / ${total}` : ''}`;
    this.stream.write(`\r\x1b[K${label.padEnd(10)} ${bar} ${amount}`);
    this.drawn = true;
  }

  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text} (try 64MiB)`);
  const factor: Record<string, number> = {
    b: 1,
    k: 1024,
    kb: 1024,
    kib: 1024,
    m: 1024 ** 2,
    mb: 1024 ** 2,
    mib: 1024 ** 2,
    g: 1024 ** 3,
    gb: 1024 ** 3,
    gib: 1024 ** 3,
  };
  return Math.round(Number(match[1]) * factor[(match[2] ?? 'b').toLowerCase()]!);
}
