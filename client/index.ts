/** Sherd's SDK: what an application imports. */
export { upload, DEFAULT_STORAGE_EPOCHS, type UploadOptions, type UploadResult, type FailedNode } from './upload.ts';
export {
  sampleDataset,
  DEFAULT_SAMPLE_CONFIDENCE,
  type SampleOptions,
  type SampleReport,
  type NodeSampleReport,
  type SampleFailureRecord,
} from './sample.ts';
export { DatasetReader, type DownloadOptions } from './download.ts';
export { Dataset, download, openDataset, type DatasetOptions } from './dataset.ts';
export {
  DatasetSealer,
  DecryptedView,
  fetchDatasetKey,
  fetchKeyReleases,
  readEnvelope,
  type EncryptOptions,
  type LicenseAccount,
  type NodeReleases,
} from './encryption.ts';
export { Licenses, PERPETUAL_EXPIRY, type LicenseOffer, type LicenseEvent } from '../chain/licenses.ts';
export {
  samples,
  tarSampleCount,
  type Sample,
  type FileSample,
  type TarSample,
  type SampleCheckpoint,
  type SamplesOptions,
  type SampleSource,
} from './samples.ts';
export type { FileEntry } from '../protocol/file-index.ts';
export { collectFiles, type DatasetFile, type UploadSource } from './source.ts';
export { EncoderPool } from './encoder.ts';
export { NodeClient } from './node-client.ts';
export { RemoteError, UploadError, DownloadError, SampleError, AbortedError } from './errors.ts';
export type { NodeEndpoint, UploadProgress, DownloadProgress, KeyProgress } from './types.ts';
export {
  certificateProblem,
  verifyCertificate,
  certificateToJson,
  certificateFromJson,
  type Certificate,
} from '../protocol/certificate.ts';
export {
  connectChain,
  uploadChainFor,
  nodesFromChain,
  datasetNodesFromChain,
  licenseAccount,
  type ChainContext,
} from './chain-context.ts';
export type { UploadChain } from './upload.ts';
export {
  Registry,
  ChainError,
  type DatasetRegistration,
  type ChainNode,
  type ChallengeInfo,
  type NodeEarnings,
} from '../chain/registry.ts';
export { datasetId } from '../protocol/messages.ts';
export type { RegisteredTerms } from '../protocol/registration.ts';
