import { readFile, writeFile } from 'node:fs/promises';
import { blsPublicKey } from '../proofs/bls.ts';
import { fromHex, toHex } from '../proofs/bytes.ts';
import { SherdError } from '../proofs/errors.ts';

/** A node's key file: JSON, written with mode 0600. Shared by `sherd node keygen`, devnet and the node. */
export interface NodeKeyFile {
  type: 'sherd-node-key';
  blsSecretKey: string;
  blsPublicKey: string;
}

export class KeyFileError extends SherdError {
  override name = 'KeyFileError';
}

export async function writeNodeKey(path: string, secretKey: Uint8Array): Promise<void> {
  const file: NodeKeyFile = { type: 'sherd-node-key', blsSecretKey: toHex(secretKey), blsPublicKey: toHex(blsPublicKey(secretKey)) };
  await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}

export async function readNodeKey(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new KeyFileError('key_file_unreadable', `cannot read key file ${path}`, { cause });
  }
  try {
    const json = JSON.parse(text) as Partial<NodeKeyFile>;
    if (json.type !== 'sherd-node-key' || typeof json.blsSecretKey !== 'string') throw new Error('not a sherd-node-key file');
    const secretKey = fromHex(json.blsSecretKey, 32);
    blsPublicKey(secretKey);
    return secretKey;
  } catch (cause) {
    throw new KeyFileError('key_file_invalid', `${path} is not a valid Sherd node key file`, { cause });
  }
}

/** Reads an account (secp256k1) private key file: 0x followed by 64 hex digits. Undefined path, undefined key. */
export async function readAccountKey(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (cause) {
    throw new KeyFileError('key_file_unreadable', `cannot read account key file ${path}`, { cause });
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(text))
    throw new KeyFileError('key_file_invalid', `${path} must hold a 0x-prefixed 32-byte hex private key`);
  return text;
}
