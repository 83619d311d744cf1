import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to shard reads (GET …/shards/S/I and …/shard-batch); every other request passes untouched. */
export type Fault = { kind: 'none' } | { kind: 'slow'; delayMs: number } | { kind: 'corrupt' };

/**
 * A man in the middle in front of a real node, on 127.0.0.1: it delays shard answers or
 * flips a byte in their bodies, as a slow disk or a lying operator would. `fault` can be
 * changed while it runs.
 */
export class FaultyProxy {
  fault: Fault = { kind: 'none' };
  /** Answer every key-share request 403 no_license, as a node that will not release (or lies about the license) would. */
  refuseKeyShares = false;
  /** Shard reads that reached the proxy: single GETs and batches. */
  shardRequests = 0;
  batchRequests = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: string): Promise<FaultyProxy> {
    const upstream = new URL(target);
    let proxy: FaultyProxy | undefined;
    const server = createServer((req, res) => {
      if (proxy!.refuseKeyShares && req.method === 'POST' && /\/key-share$/.test(req.url ?? '')) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'no_license', message: 'this node will not release its share' }));
        return;
      }
      const isBatch = req.method === 'GET' && /\/shard-batch\?/.test(req.url ?? '');
      const isShard = isBatch || (req.method === 'GET' && /\/shards\/\d+\/\d+$/.test(req.url ?? ''));
      const fault = isShard ? proxy!.fault : { kind: 'none' as const };
      if (isShard && !isBatch) proxy!.shardRequests++;
      if (isBatch) proxy!.batchRequests++;
      const forward = () => {
        const out = httpRequest(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            if (fault.kind !== 'corrupt') {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
              return;
            }
            const chunks: Buffer[] = [];
            answer.on('data', (chunk: Buffer) => chunks.push(chunk));
            answer.on('end', () => {
              const body = Buffer.concat(chunks);
              // The last byte is inside the last blob, of a single shard or of a batch alike.
              if (body.length > 0) body[body.length - 1]! ^= 0xff;
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(body);
            });
          },
        );
        out.on('error', () => res.destroy());
        req.pipe(out);
      };
      if (fault.kind === 'slow') {
        const timer = setTimeout(forward, fault.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else {
        forward();
      }
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    proxy = new FaultyProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return proxy;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}
