/**
 * Base of every error Sherd throws. `name` is stable per class and `code` is a stable,
 * machine-readable string (it becomes the JSON `error` field on the wire). Following viem,
 * an error carries a short message, optional details and a cause chain.
 */
export class SherdError extends Error {
  override name = 'SherdError';
  readonly code: string;
  readonly details: string | undefined;

  constructor(code: string, message: string, options: { cause?: unknown; details?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }
}

/** A caller passed something that can never work (wrong length, out of range, ...). */
export class InvalidArgumentError extends SherdError {
  override name = 'InvalidArgumentError';
  constructor(message: string, options: { cause?: unknown; details?: string } = {}) {
    super('invalid_argument', message, options);
  }
}

/** Thrown by the erasure codec: bad parameters, too few shards, or a failure inside the wasm. */
export class CodecError extends SherdError {
  override name = 'CodecError';
}

/** Thrown by the KZG backends for compute* failures and unsupported operations. */
export class KzgError extends SherdError {
  override name = 'KzgError';
}

export function assertInteger(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
}

export function assertBytes(name: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new InvalidArgumentError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}
