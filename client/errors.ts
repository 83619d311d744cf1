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
