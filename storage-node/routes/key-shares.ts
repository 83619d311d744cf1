import type { FastifyInstance } from 'fastify';
import { recoverAddress } from '../../proofs/account.ts';
import { blsSign } from '../../proofs/bls.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { sealBox } from '../../proofs/ecies.ts';
import { keccak256 } from '../../proofs/hash.ts';
import {
  decodeEnvelope,
  type LicenseDomain,
  keyRequestDigest,
  openShare,
  releaseBoxContext,
  releaseReceiptMessage,
  releasesRequestDigest,
  REQUEST_MAX_AGE_BLOCKS,
} from '../../protocol/encryption.ts';
import { ApiError } from '../../protocol/errors.ts';
import { type KeyReleasesResponse, type KeyShareResponse, routes } from '../../protocol/routes.ts';
import type { DatasetCatalog, DatasetState } from '../datasets.ts';
import type { Metrics } from '../metrics.ts';
import type { ShardStore } from '../store.ts';
import { fastifyRoute } from './route.ts';

/** What a node asks the chain before releasing a key share: who holds a license, and the head block. */
export interface LicenseChainView {
  domain: LicenseDomain;
  hasLicense(id: Uint8Array, account: string): Promise<boolean>;
  /** The head block; `atLeast`: a block the caller saw, so a head remembered from before it is read again. */
  blockNumber(atLeast?: number): Promise<number>;
}

export interface KeyShareRouteDeps {
  store: Pick<ShardStore, 'getEnvelope' | 'hasRelease' | 'putRelease' | 'listReleases'>;
  catalog: Pick<DatasetCatalog, 'get'>;
  metrics: Metrics;
  blsSecretKey: Uint8Array;
  /** This node's BLS key: requests name it, so one made for another node is refused here. */
  publicKey: Uint8Array;
  encryptionSecret: Uint8Array;
  /** Without a chain the node cannot check licenses, so it releases nothing. */
  licenses?: LicenseChainView;
}

interface KeyShareBody {
  licensee: string;
  ephemeralKey: string;
  block: number;
  signature: string;
}

/**
 * POST …/key-share: a licensee asks for this node's share of an encrypted dataset's key. The
 * node checks the request's signature, that its block is recent and that it was not served
 * before, and the license on chain itself; then it opens its share and seals it to the
 * request's ephemeral key, and logs the release with a BLS-signed receipt.
 * POST …/key-releases: the dataset's owner reads that log with a signed request.
 */
export function keyShareRoutes(app: FastifyInstance, deps: KeyShareRouteDeps): void {
  // Requests being answered now: a copy sent at the same moment is refused like one answered before.
  const answering = new Set<string>();
  app.route<{ Params: { dataset: string }; Body: KeyShareBody }>({
    ...fastifyRoute(routes.keyShare),
    handler: async (request): Promise<KeyShareResponse> => {
      const { state, envelope, licenses } = await encryptedDataset(deps, request.params.dataset);
      const { licensee, block, signature } = request.body;
      const ephemeralKey = fromHex(request.body.ephemeralKey, 32);
      const digest = keyRequestDigest(licenses.domain, state.id, deps.publicKey, ephemeralKey, block);
      if (recoverAddress(digest, fromHex(signature)) !== licensee)
        throw new ApiError('bad_signature', `the key request is not signed by ${licensee} for this node`);
      await checkRecent(licenses, block);
      const key = toHex(digest);
      if (answering.has(key) || (await deps.store.hasRelease(state.id, digest)))
        throw new ApiError('replayed_request', 'this key request was answered before');
      answering.add(key);
      try {
        await checkLicensed(deps, licenses, state.id, licensee);
        const share = openShare(deps.encryptionSecret, envelope, state.uploader, state.nodeIndex);
        const shareBox = sealReleasedShare(ephemeralKey, share.y, digest);
        const shareBoxHash = keccak256(shareBox);
        const receipt = blsSign(
          deps.blsSecretKey,
          releaseReceiptMessage(licenses.domain, state.id, { licensee, block, requestDigest: digest, shareBoxHash }),
        );
        const release = {
          licensee,
          block,
          releasedAt: new Date().toISOString(),
          ephemeralKey: toHex(ephemeralKey),
          requestSignature: signature,
          shareBoxHash: toHex(shareBoxHash),
          signature: toHex(receipt),
        };
        await deps.store.putRelease(state.id, digest, release);
        deps.metrics.inc('sherd_key_shares_released_total');
        return { datasetId: toHex(state.id), nodeIndex: state.nodeIndex, shareBox: toHex(shareBox), receipt: release };
      } finally {
        answering.delete(key);
      }
    },
  });

  app.route<{ Params: { dataset: string }; Body: { block: number; signature: string } }>({
    ...fastifyRoute(routes.keyReleases),
    handler: async (request): Promise<KeyReleasesResponse> => {
      const { state, licenses } = await encryptedDataset(deps, request.params.dataset);
      const { block, signature } = request.body;
      const signer = recoverAddress(releasesRequestDigest(licenses.domain, state.id, block), fromHex(signature));
      if (signer === undefined) throw new ApiError('bad_signature', 'the request signature does not recover to an account');
      if (signer !== state.uploader)
        throw new ApiError('not_owner', `only the dataset's owner ${state.uploader} may read its key releases`);
      await checkRecent(licenses, block);
      return { datasetId: toHex(state.id), nodeIndex: state.nodeIndex, releases: await deps.store.listReleases(state.id) };
    },
  });
}

async function checkLicensed(deps: KeyShareRouteDeps, licenses: LicenseChainView, id: Uint8Array, licensee: string): Promise<void> {
  const licensed = await licenses.hasLicense(id, licensee).catch((cause: unknown) => {
    throw new ApiError('unavailable', 'cannot read the license registry on chain', { cause });
  });
  if (!licensed) {
    deps.metrics.inc('sherd_key_requests_refused_total');
    throw new ApiError('no_license', `${licensee} holds no license to dataset ${toHex(id)}`);
  }
}

/** The share sealed to the request's ephemeral key; a key X25519 cannot use (a small-order point) is the requester's mistake. */
function sealReleasedShare(ephemeralKey: Uint8Array, y: Uint8Array, digest: Uint8Array): Uint8Array {
  try {
    return sealBox(ephemeralKey, y, releaseBoxContext(digest));
  } catch (cause) {
    throw new ApiError('bad_request', 'the ephemeral key is not a usable X25519 public key', { cause });
  }
}

async function encryptedDataset(deps: KeyShareRouteDeps, idText: string) {
  const state: DatasetState = await deps.catalog.get(fromHex(idText, 32));
  const bytes = await deps.store.getEnvelope(state.id);
  if (!bytes)
    throw new ApiError('not_encrypted', `dataset ${toHex(state.id)} is not encrypted, or its key shares were not given to this node`);
  if (!deps.licenses) throw new ApiError('unavailable', 'this node runs without a chain, so it cannot check licenses');
  return { state, envelope: decodeEnvelope(bytes, state.manifest.size), licenses: deps.licenses };
}

/** A request names a block no older than REQUEST_MAX_AGE_BLOCKS and not ahead of the head. */
async function checkRecent(licenses: LicenseChainView, block: number): Promise<void> {
  const head = await licenses.blockNumber(block).catch((cause: unknown) => {
    throw new ApiError('unavailable', 'cannot read the chain head', { cause });
  });
  if (block > head || head - block > REQUEST_MAX_AGE_BLOCKS) {
    throw new ApiError(
      'stale_request',
      `the request names block ${block}; it must be within ${REQUEST_MAX_AGE_BLOCKS} blocks of the head (${head})`,
    );
  }
}
