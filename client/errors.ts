import { SherdError } from '../proofs/errors.ts';

/** A node answered with an error, or could not be reached (code `unreachable` / `timeout`). */
export class RemoteError extends SherdError {
  override name = 'RemoteError';
  readonly status: number | undefined;
  readonly url: string;

  constructor(code: string, message: string, url: string, options: { status?: number; cause?: unknown; details?: string } = {}) {
    super(code, message, options);
    this.status = options.status;
    this.url = url;
  }

  /** Worth retrying: the node was unreachable, timed out or failed on its side. */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500;
  }
}

export class UploadError extends SherdError {
  override name = 'UploadError';
}

export class DownloadError extends SherdError {
  override name = 'DownloadError';
}

export class AbortedError extends SherdError {
  override name = 'AbortedError';
  constructor(cause?: unknown) {
    super('aborted', 'the operation was aborted', { cause });
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}

export class SampleError extends SherdError {
  override name = 'SampleError';
}

/**
 * The reason given when requests are cancelled because their answers are no longer needed
 * (k shards of a segment are in, or every caller of a batch has gone). Made once: a bare
 * `abort()` builds a DOMException with a stack trace each time, a cost that shows on the read path.
 */
export const NO_LONGER_NEEDED = new DOMException('the answer is no longer needed', 'AbortError');
