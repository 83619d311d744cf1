import { equalBytes, toHex } from '../proofs/bytes.ts';
import type { Manifest } from './manifest.ts';

/** What the chain fixes for a dataset that its manifest must agree with. */
export interface RegisteredTerms {
  contentRoot: Uint8Array;
  size: number;
  k: number;
  m: number;
  /** The node set's compressed BLS keys (0x hex), in placement order. */
  nodeKeys: readonly string[];
}

export type RegistrationProblem = { code: 'content_root' | 'size_or_code' | 'node_set'; message: string };

/**
 * Why a manifest (whose Merkle root is `manifestRoot`) is not the dataset registered on chain,
 * or undefined when it is: same content root, size, code, and node list in the same order.
 * The uploader, every node and every reader apply this one rule.
 */
export function registrationProblem(
  registered: RegisteredTerms,
  manifest: Manifest,
  manifestRoot: Uint8Array,
): RegistrationProblem | undefined {
  if (!equalBytes(registered.contentRoot, manifestRoot)) {
    return {
      code: 'content_root',
      message: `the manifest hashes to ${toHex(manifestRoot)}, the chain has content root ${toHex(registered.contentRoot)}`,
    };
  }
  if (registered.size !== manifest.size || registered.k !== manifest.k || registered.m !== manifest.m) {
    return {
      code: 'size_or_code',
      message:
        `the manifest says size ${manifest.size}, k=${manifest.k}, m=${manifest.m}; ` +
        `the chain says size ${registered.size}, k=${registered.k}, m=${registered.m}`,
    };
  }
  const keys = registered.nodeKeys;
  if (keys.length !== manifest.nodes.length || keys.some((key, i) => key.toLowerCase() !== toHex(manifest.nodes[i]!))) {
    return {
      code: 'node_set',
      message: `the manifest's ${manifest.nodes.length} nodes are not the ${keys.length} of the node set on chain, in order`,
    };
  }
  return undefined;
}
