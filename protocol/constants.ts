/** Versioned domain tags: every signed message starts with one, so no signature can be replayed as another kind. */
export const ATTESTATION_DOMAIN = 'SHERD_ATTESTATION_V1';
export const ANNOUNCE_DOMAIN = 'SHERD_ANNOUNCE_V1';
export const DATASET_DOMAIN = 'SHERD_DATASET_V1';
/**
 * 2: datasets named by id (owner, content root), shards served with their proofs, files under the root.
 * 3: the erasure code runs over Fr; parity commitments are checked against data commitments at announcement.
 */
export const PROTOCOL_VERSION = 3;
/** Chain id and registry used before a chain is attached (issue: on-chain verification channel). */
export const OFFCHAIN_CHAIN_ID = 0n;
export const OFFCHAIN_REGISTRY = '0x0000000000000000000000000000000000000000';
