import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../chain/registry.ts';
import { recoverAddress } from '../../proofs/account.ts';
import { equalBytes, fromHex, toHex } from '../../proofs/bytes.ts';
import { decodeEnvelope, type Envelope, keyThreshold, openShare } from '../../protocol/encryption.ts';
import { ApiError, ProtocolError } from '../../protocol/errors.ts';
import { decodeManifest, type Manifest, manifestCommitments } from '../../protocol/manifest.ts';
import { announceDigest, datasetId } from '../../protocol/messages.ts';
import { registrationProblem } from '../../protocol/registration.ts';
import { routes, type AnnounceResponse } from '../../protocol/routes.ts';
import { contentRoot, type DatasetCatalog, type DatasetState } from '../datasets.ts';
import type { Metrics } from '../metrics.ts';
import type { ShardStore } from '../store.ts';
import type { EncodingChecker } from '../verifier.ts';
import { fastifyRoute } from './route.ts';

/** What a node reads on chain before accepting an announcement. */
export type NodeRegistryView = Pick<Registry, 'registeredTerms'>;

export interface AnnounceRouteDeps {
  store: Pick<ShardStore, 'getMeta' | 'putDataset' | 'getEnvelope'>;
  catalog: Pick<DatasetCatalog, 'describe' | 'remember'>;
  metrics: Metrics;
  /** When set, only datasets registered there are accepted, with the node set fixed there. */
  registry?: NodeRegistryView;
  /** This node's X25519 secret: an encrypted dataset is accepted only if its share opens with it. */
  encryptionSecret: Uint8Array;
  /** Checks that the manifest's parity commitments derive from its data commitments. */
  encoding: EncodingChecker;
}

interface AnnounceBody {
  manifest: string;
  uploader: string;
  signature?: string;
  envelope?: string;
}

/**
 * POST /v1/datasets/:dataset: an uploader announces a dataset with its manifest. The node
 * checks that the manifest's content root and the uploader give the dataset id in the URL,
 * that the uploader signed it, and (with a chain) that it is registered with this manifest's
 * size, code and node set, and that its parity commitments are the code's combinations of its
 * data commitments; then it keeps the manifest so shards can be admitted.
 */
export function announceRoute(app: FastifyInstance, deps: AnnounceRouteDeps): void {
  app.route<{ Params: { dataset: string }; Body: AnnounceBody }>({
    ...fastifyRoute(routes.announce),
    handler: async (request, reply): Promise<AnnounceResponse> => {
      const id = fromHex(request.params.dataset, 32);
      const { uploader, signature } = request.body;
      if (signature === undefined)
        throw new ApiError('missing_signature', 'announcements must be signed by the uploader (field "signature")');
      const manifestBytes = new Uint8Array(Buffer.from(request.body.manifest, 'base64'));
      const envelope = request.body.envelope === undefined ? undefined : new Uint8Array(Buffer.from(request.body.envelope, 'base64'));
      const state = deps.catalog.describe(id, uploader, parseManifest(manifestBytes));
      const derived = datasetId(uploader, contentRoot(state));
      if (!equalBytes(derived, id)) {
        throw new ApiError(
          'dataset_id_mismatch',
          `the manifest's content root and uploader ${uploader} give dataset ${toHex(derived)}, not ${toHex(id)}`,
        );
      }
      if (recoverAddress(announceDigest(id, manifestBytes, envelope), fromHex(signature)) !== uploader) {
        throw new ApiError('bad_signature', `the announcement is not signed by its uploader ${uploader}`);
      }
      if (deps.registry) await checkRegistration(deps.registry, state);
      if (state.nodeIndex < 0) throw new ApiError('not_in_node_set', "this node is not in the dataset's node set");
      if (envelope) checkEnvelope(envelope, state, deps.encryptionSecret);
      const existing = await deps.store.getMeta(id);
      if (existing) await checkSameEnvelope(deps.store, id, envelope);
      if (!existing) {
        await checkEncoding(deps.encoding, state.manifest);
        await deps.store.putDataset(id, manifestBytes, { uploader, announcedAt: new Date().toISOString() }, envelope);
        deps.metrics.inc('sherd_datasets_announced_total');
      }
      deps.catalog.remember(state);
      void reply.status(existing ? 200 : 201);
      return {
        datasetId: toHex(id),
        contentRoot: toHex(contentRoot(state)),
        uploader,
        assignedShards: state.assignedShards,
        created: !existing,
      };
    },
  });
}

function parseManifest(bytes: Uint8Array): Manifest {
  try {
    return decodeManifest(bytes);
  } catch (cause) {
    if (cause instanceof ProtocolError) throw new ApiError('bad_manifest', cause.message, { cause });
    throw cause;
  }
}

/**
 * With each shard checked against its commitment when it arrives, consistent commitments prove
 * that every k shards of a segment decode to the same data. Checked once, when the dataset is new.
 */
async function checkEncoding(encoding: EncodingChecker, manifest: Manifest): Promise<void> {
  if (!(await encoding.encodingConsistent(manifest.k, manifest.m, manifestCommitments(manifest)))) {
    throw new ApiError(
      'inconsistent_encoding',
      "the manifest's parity commitments are not the code's combinations of its data commitments: its shards would not decode to one dataset",
    );
  }
}

/** An announcement again (a resumed upload) must carry the envelope the node keeps, or none if it keeps none. */
async function checkSameEnvelope(store: Pick<ShardStore, 'getEnvelope'>, id: Uint8Array, envelope: Uint8Array | undefined): Promise<void> {
  const stored = await store.getEnvelope(id);
  const same = stored === undefined || envelope === undefined ? stored === envelope : equalBytes(stored, envelope);
  if (!same) throw new ApiError('bad_envelope', 'the dataset was announced here before with another envelope (or without one)');
}

/** An encrypted dataset's envelope must fit the dataset and hold a share this node can open. */
function checkEnvelope(bytes: Uint8Array, state: DatasetState, encryptionSecret: Uint8Array): void {
  let envelope: Envelope;
  try {
    envelope = decodeEnvelope(bytes, state.manifest.size);
  } catch (cause) {
    if (cause instanceof ProtocolError) throw new ApiError('bad_envelope', cause.message, { cause });
    throw cause;
  }
  const nodes = state.manifest.nodes.length;
  if (envelope.shareBoxes.length !== nodes)
    throw new ApiError('bad_envelope', `the envelope has shares for ${envelope.shareBoxes.length} nodes, the node set has ${nodes}`);
  const threshold = keyThreshold(nodes, state.manifest.m);
  if (envelope.threshold !== threshold)
    throw new ApiError(
      'bad_envelope',
      `the envelope's threshold is ${envelope.threshold}; with ${nodes} nodes and m = ${state.manifest.m} it is ${threshold}`,
    );
  try {
    openShare(encryptionSecret, envelope, state.uploader, state.nodeIndex);
  } catch (cause) {
    throw new ApiError('bad_key_share', `this node's key share does not open with its encryption key for owner ${state.uploader}`, {
      cause,
    });
  }
}

/** The chain is the source of truth: the dataset must be registered there with this content, size, code and node set. */
async function checkRegistration(registry: NodeRegistryView, state: DatasetState): Promise<void> {
  const registered = await registry.registeredTerms(state.id).catch((cause: unknown) => {
    throw new ApiError('unavailable', 'cannot read the dataset registry on chain', { cause });
  });
  if (!registered.registered) throw new ApiError('dataset_not_registered', `dataset ${toHex(state.id)} is not registered on chain`);
  const problem = registrationProblem(registered, state.manifest, contentRoot(state));
  if (problem) throw new ApiError('manifest_mismatch', `${problem.message} (node set ${registered.nodeSet})`);
}
