/** Sherd's SDK: what an application imports. */
export { upload, type UploadOptions, type UploadResult, type FailedNode } from './upload.ts';
export { download, DatasetReader, type DownloadOptions } from './download.ts';
export { Devnet, readDevnetFile, type DevnetFile, type DevnetOptions } from './devnet.ts';
export { EncoderPool } from './encoder.ts';
export { NodeClient } from './node-client.ts';
export { RemoteError, UploadError, DownloadError, AbortedError } from './errors.ts';
export type { NodeEndpoint, UploadProgress, DownloadProgress } from './types.ts';
export { certificateProblem, verifyCertificate, certificateToJson, certificateFromJson, type Certificate } from '../protocol/certificate.ts';
export { connectChain, uploadChainFor, nodesFromChain, datasetNodesFromChain, type ChainContext } from './chain-context.ts';
export type { UploadChain } from './upload.ts';
export { Registry, ChainError, type DatasetState, type ChainNode } from '../chain/registry.ts';
