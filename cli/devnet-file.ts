import { readFile } from 'node:fs/promises';
import { SherdError } from '../proofs/errors.ts';

/**
 * The devnet file (`sherd devnet` writes it): how the client's and the operator's commands
 * find a local network's chain, registry, nodes and keys. Both sides read it, so it lives here.
 */
export interface DevnetNodeEntry {
  url: string;
  /** Compressed BLS key, 0x hex. */
  publicKey: string;
  proofOfPossession: string;
  /** X25519 key published on chain for the dataset key shares sealed to the node (derived from its BLS key). */
  encryptionKey: string;
  index: number;
  port: number;
  dataDir: string;
  keyFile: string;
  logFile: string;
  /** The node's id in the on-chain registry. */
  registryId: number;
  operator: string;
  /** The operator's secp256k1 key: pays for challenge answers, claims rewards. */
  operatorKeyFile: string;
}

export interface DevnetFile {
  version: 1;
  /** JSON-RPC URL of the devnet's chain (served by the `sherd devnet` process). */
  rpc: string;
  chainId: string;
  registryAddress: string;
  uploaderKey: string;
  uploader: string;
  nodes: DevnetNodeEntry[];
}

export const DEFAULT_DEVNET_DIR = '.sherd/devnet';
export const DEFAULT_DEVNET_FILE = `${DEFAULT_DEVNET_DIR}/devnet.json`;

export class DevnetError extends SherdError {
  override name = 'DevnetError';
}

export async function readDevnetFile(path: string): Promise<DevnetFile> {
  let json: Partial<DevnetFile>;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as Partial<DevnetFile>;
  } catch (cause) {
    throw new DevnetError('devnet_missing', `no devnet file at ${path}; start one with \`sherd devnet --nodes 8\` or pass --devnet FILE`, {
      cause,
    });
  }
  if (
    json.version !== 1 ||
    !Array.isArray(json.nodes) ||
    typeof json.uploaderKey !== 'string' ||
    typeof json.rpc !== 'string' ||
    typeof json.registryAddress !== 'string'
  ) {
    throw new DevnetError('devnet_invalid', `${path} is not a Sherd devnet file`);
  }
  return json as DevnetFile;
}
