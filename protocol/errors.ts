import { SherdError } from '../proofs/errors.ts';

/**
 * Every error a node returns, by stable code, with its HTTP status. The JSON body is always
 * { "error": code, "message": text }. Clients map bodies back to RemoteError by code.
 */
export const API_ERRORS = {
  bad_request: 400,
  malformed_json: 400,
  bad_blob_length: 400,
  non_canonical_field_element: 400,
  shard_hash_mismatch: 400,
  bad_inclusion_proof: 400,
  commitment_mismatch: 400,
  bad_manifest: 400,
  inconsistent_encoding: 400,
  dataset_id_mismatch: 400,
  manifest_mismatch: 400,
  bad_point: 400,
  bad_envelope: 400,
  bad_key_share: 400,
  stale_request: 400,
  missing_signature: 401,
  bad_signature: 401,
  not_in_node_set: 403,
  no_license: 403,
  not_owner: 403,
  dataset_not_registered: 403,
  shard_not_assigned: 403,
  unknown_dataset: 404,
  unknown_shard: 404,
  shard_missing: 404,
  not_found: 404,
  not_encrypted: 404,
  dataset_incomplete: 409,
  replayed_request: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(API_ERRORS, code);
}

/** Thrown by node handlers; the one fastify error handler turns it into status + JSON. */
export class ApiError extends SherdError {
  override name = 'ApiError';
  declare readonly code: ApiErrorCode;
  readonly status: number;

  constructor(code: ApiErrorCode, message: string, options: { cause?: unknown; details?: string } = {}) {
    super(code, message, options);
    this.status = API_ERRORS[code];
  }
}

/** A bad manifest, certificate or other protocol object. */
export class ProtocolError extends SherdError {
  override name = 'ProtocolError';
}
