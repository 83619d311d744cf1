import { Wallet } from 'ethers';
import { connectRegistry, latestBlock, type RegistryConnection } from '../chain/rpc.ts';
import type { DatasetRegistration, Registry } from '../chain/registry.ts';
import type { RegisteredTerms } from '../protocol/registration.ts';
import { toHex } from '../proofs/bytes.ts';
import type { LicenseAccount } from './encryption.ts';
import { DownloadError } from './errors.ts';
import type { NodeEndpoint } from './types.ts';
import type { UploadChain } from './upload.ts';

/** The client's view of a chain holding a SherdRegistry. */
export type ChainContext = RegistryConnection;
export const connectChain = connectRegistry;

export function uploadChainFor(context: ChainContext, uploaderKey: string): UploadChain {
  return { registry: context.registry.connect(new Wallet(uploaderKey, context.provider)), chainId: context.chainId };
}

/** The account `accountKey` as a reader of encrypted datasets registered on this chain (client/encryption.ts). */
export async function licenseAccount(
  context: Pick<ChainContext, 'registry' | 'provider' | 'chainId'>,
  accountKey: Uint8Array,
): Promise<LicenseAccount> {
  const licenses = await context.registry.licensesAddress();
  return { accountKey, domain: { chainId: context.chainId, licenses }, blockNumber: () => latestBlock(context.provider) };
}

/** What finding nodes on chain reads. */
export type NodeDirectory = Pick<Registry, 'node' | 'activeNodeIds' | 'nodeSetMembers' | 'dataset' | 'datasetMembers'>;

async function endpoints(registry: Pick<Registry, 'node'>, ids: number[]): Promise<NodeEndpoint[]> {
  const nodes = await Promise.all(ids.map((id) => registry.node(id)));
  return nodes.map((node) => ({ url: node.endpoint, publicKey: node.publicKey, encryptionKey: node.encryptionKey }));
}

/** The registry's active nodes, in the order a dataset registered now would be placed on. */
export async function nodesFromChain(registry: Pick<NodeDirectory, 'node' | 'activeNodeIds'>): Promise<NodeEndpoint[]> {
  return endpoints(registry, await registry.activeNodeIds());
}

/** The nodes of a node set on chain, in placement order. */
export async function nodeSetFromChain(registry: Pick<NodeDirectory, 'node' | 'nodeSetMembers'>, nodeSet: number): Promise<NodeEndpoint[]> {
  return endpoints(registry, await registry.nodeSetMembers(nodeSet));
}

/** The nodes holding a registered dataset's slots now (its node set, with any replacements), for reading it. */
export async function datasetNodesFromChain(
  registry: Pick<NodeDirectory, 'node' | 'dataset' | 'datasetMembers'>,
  id: Uint8Array,
): Promise<NodeEndpoint[]> {
  return (await registeredDataset(registry, id)).nodes;
}

/**
 * A registered dataset as a reader needs it, from one read of its registration and one of its
 * slots' holders: the terms its shards are checked against (with the holders' keys) and their
 * endpoints in placement order. A slot whose member was replaced is read from its replacement.
 * DownloadError `dataset_not_registered` otherwise.
 */
export async function registeredDataset(
  registry: Pick<NodeDirectory, 'node' | 'dataset' | 'datasetMembers'>,
  id: Uint8Array,
): Promise<{ terms: DatasetRegistration & RegisteredTerms; nodes: NodeEndpoint[] }> {
  const registration = await registry.dataset(id);
  if (!registration.registered) throw new DownloadError('dataset_not_registered', `dataset ${toHex(id)} is not registered on chain`);
  const nodes = await endpoints(
    registry,
    (await registry.datasetMembers(id)).map((member) => member.nodeId),
  );
  return { terms: { ...registration, nodeKeys: nodes.map((node) => node.publicKey) }, nodes };
}
