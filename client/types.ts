/** A storage node as the client knows it: where it listens and the key it signs with. */
export interface NodeEndpoint {
  url: string;
  /** BLS public key, 0x hex (48 bytes). */
  publicKey: string;
  /**
   * Proof of possession of that key, 0x hex (96 bytes). Required off chain; nodes read from
   * the registry need none, since the contract checked it at registration.
   */
  proofOfPossession?: string;
  /** X25519 key the node's shares of encrypted datasets' keys are sealed to, 0x hex (32 bytes), as published on chain. */
  encryptionKey?: string;
}

export type UploadProgress =
  | { phase: 'encode'; bytes: number; totalBytes: number | undefined; segments: number }
  | { phase: 'announce'; nodes: number; failed: number }
  | { phase: 'disperse'; shardsSent: number; shardsTotal: number; bytesSent: number }
  | { phase: 'certify'; signers: number; quorum: number };

export type DownloadProgress = {
  phase: 'download';
  bytes: number;
  totalBytes: number;
  segments: number;
  reconstructedSegments: number;
};

/** Getting an encrypted dataset's key: shares released so far, of the threshold needed. */
export type KeyProgress = { phase: 'key'; shares: number; threshold: number };
