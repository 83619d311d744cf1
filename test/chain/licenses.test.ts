import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress, type JsonRpcSigner, type TransactionReceipt, ZeroAddress, ZeroHash } from 'ethers';
import { randomBytes } from 'node:crypto';
import { blsAggregateSignatures, blsProvePossession, blsSign, generateBlsKeyPair } from '../../proofs/bls.ts';
import { toHex } from '../../proofs/bytes.ts';
import { bitmapFromIndices } from '../../protocol/certificate.ts';
import { attestationMessage } from '../../protocol/messages.ts';
import { startLocalChain, type LocalChain } from '../../cli/local-chain.ts';
import { deployRegistry } from '../../chain/deploy.ts';
import { Licenses, PERPETUAL_EXPIRY } from '../../chain/licenses.ts';
import {
  DEFAULT_REGISTRY_PARAMETERS,
  epochAt,
  type EpochParameters,
  type Registry,
  type RegistryParameters,
} from '../../chain/registry.ts';
import { rejection } from '../helpers/chain.ts';

/**
 * SherdLicenses on a real local chain, behind a registry with ten-block epochs so that tests
 * mine through license and storage terms. The funder deploys and runs the nodes; the dataset
 * owner, the buyer and the stranger are three other development accounts.
 */
const PARAMETERS: RegistryParameters = { ...DEFAULT_REGISTRY_PARAMETERS, epochBlocks: 10n, challengeWindow: 5n, feePerByteEpoch: 1n };
const SIZE = 1000;
/** Nodes here hold no dataset keys; the registry wants a non-zero X25519 key all the same. */
const ENCRYPTION_KEY = new Uint8Array(32).fill(9);
const ALL_NODES = [0, 1, 2, 3, 4, 5, 6, 7];
const nodes = ALL_NODES.map(() => {
  const { secretKey, publicKey } = generateBlsKeyPair();
  return { secretKey, publicKey, proofOfPossession: blsProvePossession(secretKey) };
});

let chain: LocalChain;
let funder: JsonRpcSigner;
let owner: JsonRpcSigner;
let buyer: JsonRpcSigner;
let stranger: JsonRpcSigner;
let ownerAddress: string;
let buyerAddress: string;
let strangerAddress: string;
let registry: Registry;
let epochs: EpochParameters;
/** The license registry read through the provider, and as each account. */
let licenses: Licenses;
let asOwner: Licenses;
let asBuyer: Licenses;
let asStranger: Licenses;

const randomId = () => new Uint8Array(randomBytes(32));

/** Registers random content as the owner, paying for `storageEpochs` epochs; returns the dataset's id. */
async function registeredDataset(storageEpochs = 1000): Promise<Uint8Array> {
  const { datasetId } = await registry
    .connect(owner)
    .registerDataset(randomId(), SIZE, 4, 4, storageEpochs, await registry.storageFee(SIZE, storageEpochs));
  return datasetId;
}

/** Registers and certifies (every node signs) a dataset of the owner's. */
async function certifiedDataset(storageEpochs = 1000): Promise<Uint8Array> {
  const id = await registeredDataset(storageEpochs);
  const message = attestationMessage(chain.chainId, registry.address, id);
  await registry.certify(id, bitmapFromIndices(ALL_NODES, 8), blsAggregateSignatures(nodes.map((n) => blsSign(n.secretKey, message))));
  expect((await registry.dataset(id)).certified).toBe(true);
  return id;
}

/** A certified dataset with the owner's offer on it. */
async function offeredDataset(price: bigint, licenseEpochs: number): Promise<Uint8Array> {
  const id = await certifiedDataset();
  await asOwner.offer(id, price, licenseEpochs, randomId());
  return id;
}

/** The epoch a transaction ran in. */
const epochOf = (receipt: TransactionReceipt) => BigInt(epochAt(epochs, receipt.blockNumber));
/** The first block of `epoch`. */
const epochStart = (epoch: bigint) => epochs.genesisBlock + Number(epoch) * epochs.epochBlocks;

/** An account's wei (the provider asks the chain every time: test/chain/rpc.test.ts). */
const balance = (account: string) => chain.provider.getBalance(account);

/** The events of the license registry in a receipt, by name. */
function events(receipt: TransactionReceipt, name: string): unknown[][] {
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === licenses.address)
    .map((log) => licenses.contract.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name)
    .map((parsed) => parsed!.args.toArray());
}

beforeAll(async () => {
  chain = await startLocalChain();
  funder = await chain.funder();
  owner = await chain.provider.getSigner(1);
  buyer = await chain.provider.getSigner(2);
  stranger = await chain.provider.getSigner(3);
  ownerAddress = await owner.getAddress();
  buyerAddress = await buyer.getAddress();
  strangerAddress = await stranger.getAddress();
  registry = await deployRegistry(funder, PARAMETERS);
  for (const [i, node] of nodes.entries())
    await registry.registerNode(
      node.publicKey,
      node.proofOfPossession,
      ENCRYPTION_KEY,
      `http://127.0.0.1:${9200 + i}`,
      PARAMETERS.minStake,
    );
  epochs = await registry.epochParameters();
  const address = await registry.licensesAddress();
  licenses = Licenses.at(address, chain.provider);
  asOwner = Licenses.at(address, owner);
  asBuyer = Licenses.at(address, buyer);
  asStranger = Licenses.at(address, stranger);
});

afterAll(async () => {
  await chain?.close();
});

describe('the license registry', () => {
  it('is created by the registry, reads it, and agrees with the client on PERPETUAL', async () => {
    expect(licenses.address).toMatch(/^0x[0-9a-f]{40}$/);
    expect(licenses.address).not.toBe(registry.address);
    expect(((await licenses.contract.getFunction('registry')()) as string).toLowerCase()).toBe(registry.address);
    expect(await licenses.contract.getFunction('PERPETUAL')()).toBe(PERPETUAL_EXPIRY);
  });
});

describe('offers', () => {
  it('publishes an offer getOffer returns, and replaces it', async () => {
    const id = await certifiedDataset();
    expect(await licenses.getOffer(id)).toEqual({ active: false, epochs: 0, price: 0n, termsHash: ZeroHash });
    const terms = randomId();
    const receipt = await asOwner.offer(id, 12_345n, 7, terms);
    expect(await licenses.getOffer(id)).toEqual({ active: true, epochs: 7, price: 12_345n, termsHash: toHex(terms) });
    expect(events(receipt, 'OfferPublished')).toEqual([[toHex(id), ownerAddress, 12_345n, 7n, toHex(terms)]]);

    const otherTerms = randomId();
    await asOwner.offer(id, 99n, 0, otherTerms);
    expect(await licenses.getOffer(id)).toEqual({ active: true, epochs: 0, price: 99n, termsHash: toHex(otherTerms) });
    const err = await rejection(asBuyer.buy(id, 12_345n));
    expect(err.code).toBe('WrongPrice');
    expect(err.args).toEqual([12_345n, 99n]);
  });

  it('may be published on a dataset not certified yet', async () => {
    const id = await registeredDataset();
    await asOwner.offer(id, 5n, 1, randomId());
    expect((await licenses.getOffer(id)).active).toBe(true);
  });

  it('is refused to anyone but the dataset owner', async () => {
    const id = await certifiedDataset();
    for (const who of [asStranger, asBuyer, Licenses.at(licenses.address, funder)]) {
      const err = await rejection(who.offer(id, 1n, 1, randomId()));
      expect(err.code).toBe('NotOwner');
    }
    const err = await rejection(asStranger.offer(id, 1n, 1, randomId()));
    expect(err.args).toEqual([toHex(id), strangerAddress]);
    expect((await licenses.getOffer(id)).active).toBe(false);
  });

  it('is refused for an unknown dataset', async () => {
    const id = randomId();
    const err = await rejection(asOwner.offer(id, 1n, 1, randomId()));
    expect(err.code).toBe('UnknownDataset');
    expect(err.args).toEqual([toHex(id)]);
  });

  it('takes any price up to 2^128 - 1 and refuses one above', async () => {
    const id = await certifiedDataset();
    await asOwner.offer(id, 2n ** 128n - 1n, 1, randomId());
    expect((await licenses.getOffer(id)).price).toBe(2n ** 128n - 1n);
    const err = await rejection(asOwner.offer(id, 2n ** 128n, 1, randomId()));
    expect(err.code).toBe('PriceTooHigh');
    expect(err.args).toEqual([2n ** 128n]);
    expect((await licenses.getOffer(id)).price).toBe(2n ** 128n - 1n);
  });
});

describe('buying a license', () => {
  it('is refused without an offer, on an unknown dataset too', async () => {
    const id = await certifiedDataset();
    const err = await rejection(asBuyer.buy(id, 0n));
    expect(err.code).toBe('NoOffer');
    expect(err.args).toEqual([toHex(id)]);
    const unknown = randomId();
    expect((await rejection(asBuyer.buy(unknown, 0n))).code).toBe('NoOffer');
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
  });

  it('is refused at any price but the offer, and changes nothing', async () => {
    const price = 1_000n;
    const id = await offeredDataset(price, 3);
    const balance = await licenses.balanceOf(ownerAddress);
    for (const sent of [0n, price - 1n, price + 1n, 2n * price]) {
      const err = await rejection(asBuyer.buy(id, sent));
      expect(err.code).toBe('WrongPrice');
      expect(err.args).toEqual([sent, price]);
    }
    expect(await licenses.balanceOf(ownerAddress)).toBe(balance);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(0n);
    expect(await licenses.licensesOf(id)).toEqual([]);
  });

  it('is refused on a dataset registered but not certified', async () => {
    const id = await registeredDataset();
    await asOwner.offer(id, 10n, 3, randomId());
    const err = await rejection(asBuyer.buy(id, 10n));
    expect(err.code).toBe('DatasetNotCertified');
    expect(err.args).toEqual([toHex(id)]);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
  });

  it('is sold in the last epoch of the storage term and refused after it', async () => {
    const id = await certifiedDataset(1);
    await asOwner.offer(id, 10n, 0, randomId());
    const { startEpoch, epochs: term } = await registry.dataset(id);
    const endEpoch = BigInt(startEpoch + term);
    // The next transaction lands in the term's last block.
    await chain.mineTo(epochStart(endEpoch) - 2);
    const last = await asBuyer.buy(id, 10n);
    expect(epochOf(last)).toBe(endEpoch - 1n);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);

    const err = await rejection(asStranger.buy(id, 10n));
    expect(err.code).toBe('DatasetExpired');
    expect(err.args).toEqual([toHex(id), endEpoch]);
    await chain.mineTo(epochStart(endEpoch) + 3 * epochs.epochBlocks);
    expect((await rejection(asStranger.buy(id, 10n))).code).toBe('DatasetExpired');
    expect(await licenses.hasLicense(id, strangerAddress)).toBe(false);
    // Nor can the owner grant one any more; the owner still reads it.
    const grant = await rejection(asOwner.grant(id, strangerAddress, 0));
    expect(grant.code).toBe('DatasetExpired');
    expect(grant.args).toEqual([toHex(id), endEpoch]);
    expect(await licenses.hasLicense(id, ownerAddress)).toBe(true);
  });

  it('credits the owner exactly the price, records the license, and the owner withdraws it', async () => {
    const price = 123_456_789n;
    const id = await offeredDataset(price, 3);
    const owed = await licenses.balanceOf(ownerAddress);
    const held = await balance(licenses.address);
    const buyerBefore = await balance(buyerAddress);
    const ownerBefore = await balance(ownerAddress);

    const receipt = await asBuyer.buy(id, price);
    const expiry = epochOf(receipt) + 3n;
    expect(await licenses.balanceOf(ownerAddress)).toBe(owed + price);
    expect(await licenses.balanceOf(buyerAddress)).toBe(0n);
    expect(await balance(licenses.address)).toBe(held + price);
    expect(await balance(buyerAddress)).toBe(buyerBefore - price - receipt.fee);
    expect(await balance(ownerAddress)).toBe(ownerBefore); // pull payment: nothing sent yet
    expect(events(receipt, 'LicenseGranted')).toEqual([[toHex(id), buyerAddress, expiry, price]]);
    expect(await licenses.licensesOf(id)).toEqual([
      { licensee: buyerAddress.toLowerCase(), expiry, paid: price, block: receipt.blockNumber, txHash: receipt.hash },
    ]);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(expiry);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
    expect(await licenses.hasLicense(id, strangerAddress)).toBe(false);

    const withdrawal = await asOwner.withdraw();
    expect(events(withdrawal, 'Withdrawn')).toEqual([[ownerAddress, owed + price]]);
    expect(await licenses.balanceOf(ownerAddress)).toBe(0n);
    expect(await balance(ownerAddress)).toBe(ownerBefore + owed + price - withdrawal.fee);
    expect(await balance(licenses.address)).toBe(held - owed);

    const again = await rejection(asOwner.withdraw());
    expect(again.code).toBe('NothingToWithdraw');
    expect(again.args).toEqual([]);
    expect((await rejection(asStranger.withdraw())).code).toBe('NothingToWithdraw');
  });

  it('keeps each owner’s proceeds apart', async () => {
    // The stranger owns a dataset too: its sale is credited to the stranger, not to the owner.
    const { datasetId: id } = await registry
      .connect(stranger)
      .registerDataset(randomId(), SIZE, 4, 4, 1000, await registry.storageFee(SIZE, 1000));
    const message = attestationMessage(chain.chainId, registry.address, id);
    await registry.certify(id, bitmapFromIndices(ALL_NODES, 8), blsAggregateSignatures(nodes.map((n) => blsSign(n.secretKey, message))));
    await asStranger.offer(id, 777n, 2, randomId());
    const ownerOwed = await licenses.balanceOf(ownerAddress);
    const strangerOwed = await licenses.balanceOf(strangerAddress);
    await asBuyer.buy(id, 777n);
    expect(await licenses.balanceOf(strangerAddress)).toBe(strangerOwed + 777n);
    expect(await licenses.balanceOf(ownerAddress)).toBe(ownerOwed);
    expect((await rejection(asOwner.offer(id, 1n, 1, randomId()))).code).toBe('NotOwner');
    await asStranger.withdraw();
    expect(await licenses.balanceOf(strangerAddress)).toBe(0n);
  });
});

describe('license durations', () => {
  it('holds for the offer’s epochs: until the chain reaches currentEpoch + epochs', async () => {
    const id = await offeredDataset(1n, 3);
    const receipt = await asBuyer.buy(id, 1n);
    const expiry = epochOf(receipt) + 3n;
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(expiry);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
    await chain.mineTo(epochStart(expiry) - 1); // the last block of the license's last epoch
    expect(BigInt(await registry.currentEpoch())).toBe(expiry - 1n);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
    await chain.mineTo(epochStart(expiry));
    expect(BigInt(await registry.currentEpoch())).toBe(expiry);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(expiry);
  });

  it('extends a license still held from its expiry, not from now', async () => {
    const id = await offeredDataset(2n, 3);
    const first = await asBuyer.buy(id, 2n);
    const expiry = epochOf(first) + 3n;
    const second = await asBuyer.buy(id, 2n);
    expect(epochOf(second)).toBeLessThan(expiry);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(expiry + 3n);
    // A third purchase, an epoch later, extends again from the stored expiry.
    await chain.mineTo(epochStart(epochOf(second) + 1n));
    const third = await asBuyer.buy(id, 2n);
    expect(epochOf(third)).toBeGreaterThan(epochOf(first));
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(expiry + 6n);
    expect((await licenses.licensesOf(id)).map((l) => l.expiry)).toEqual([expiry, expiry + 3n, expiry + 6n]);
    await chain.mineTo(epochStart(expiry + 6n) - 1);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
    await chain.mineTo(epochStart(expiry + 6n));
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
  });

  it('starts a lapsed license again from now', async () => {
    const id = await offeredDataset(2n, 2);
    const first = await asBuyer.buy(id, 2n);
    const lapsed = epochOf(first) + 2n;
    await chain.mineTo(epochStart(lapsed + 3n));
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
    const renewal = await asBuyer.buy(id, 2n);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(epochOf(renewal) + 2n);
    expect(epochOf(renewal) + 2n).toBeGreaterThan(lapsed + 2n);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
  });

  it('never ends with epochs = 0', async () => {
    const id = await offeredDataset(3n, 0);
    const receipt = await asBuyer.buy(id, 3n);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(PERPETUAL_EXPIRY);
    expect(events(receipt, 'LicenseGranted')).toEqual([[toHex(id), buyerAddress, PERPETUAL_EXPIRY, 3n]]);
    await chain.mineTo((await chain.latestBlock()) + 50 * epochs.epochBlocks);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
    // A perpetual license stays perpetual whatever is granted after it, and is not sold again.
    await asOwner.offer(id, 3n, 2, randomId());
    const again = await rejection(asBuyer.buy(id, 3n));
    expect(again.code).toBe('AlreadyPerpetual');
    expect(again.args).toEqual([toHex(id), buyerAddress]);
    await asOwner.grant(id, buyerAddress, 1);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(PERPETUAL_EXPIRY);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
  });
});

describe('grants', () => {
  it('are free, need no offer, and are recorded with paid = 0', async () => {
    const id = await certifiedDataset();
    const owed = await licenses.balanceOf(ownerAddress);
    const receipt = await asOwner.grant(id, strangerAddress, 2);
    const expiry = epochOf(receipt) + 2n;
    expect(events(receipt, 'LicenseGranted')).toEqual([[toHex(id), strangerAddress, expiry, 0n]]);
    expect(await licenses.licensesOf(id)).toEqual([
      { licensee: strangerAddress.toLowerCase(), expiry, paid: 0n, block: receipt.blockNumber, txHash: receipt.hash },
    ]);
    expect(await licenses.hasLicense(id, strangerAddress)).toBe(true);
    expect(await licenses.balanceOf(ownerAddress)).toBe(owed);
    await chain.mineTo(epochStart(expiry));
    expect(await licenses.hasLicense(id, strangerAddress)).toBe(false);

    const perpetual = await asOwner.grant(id, buyerAddress, 0);
    expect(events(perpetual, 'LicenseGranted')).toEqual([[toHex(id), buyerAddress, PERPETUAL_EXPIRY, 0n]]);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(PERPETUAL_EXPIRY);
  });

  it('are refused to anyone but the owner, and on a dataset unknown or not certified', async () => {
    const id = await certifiedDataset();
    const err = await rejection(asStranger.grant(id, strangerAddress, 0));
    expect(err.code).toBe('NotOwner');
    expect(err.args).toEqual([toHex(id), strangerAddress]);
    expect((await rejection(asBuyer.grant(id, strangerAddress, 5))).code).toBe('NotOwner');
    expect(await licenses.hasLicense(id, strangerAddress)).toBe(false);
    expect(await licenses.licenseExpiry(id, strangerAddress)).toBe(0n);

    const unknown = randomId();
    const missing = await rejection(asOwner.grant(unknown, strangerAddress, 1));
    expect(missing.code).toBe('UnknownDataset');
    expect(missing.args).toEqual([toHex(unknown)]);
    const uncertified = await registeredDataset();
    const early = await rejection(asOwner.grant(uncertified, strangerAddress, 1));
    expect(early.code).toBe('DatasetNotCertified');
    expect(early.args).toEqual([toHex(uncertified)]);
  });
});

describe('withdrawing an offer', () => {
  it('stops sales; licenses held stay valid until they expire', async () => {
    const id = await offeredDataset(50n, 4);
    const bought = await asBuyer.buy(id, 50n);
    const expiry = epochOf(bought) + 4n;
    const receipt = await asOwner.withdrawOffer(id);
    expect(events(receipt, 'OfferWithdrawn')).toEqual([[toHex(id)]]);
    expect(await licenses.getOffer(id)).toEqual({ active: false, epochs: 0, price: 0n, termsHash: ZeroHash });

    const err = await rejection(asStranger.buy(id, 50n));
    expect(err.code).toBe('NoOffer');
    expect(err.args).toEqual([toHex(id)]);
    expect((await rejection(asStranger.buy(id, 0n))).code).toBe('NoOffer');
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
    expect(await licenses.licenseExpiry(id, buyerAddress)).toBe(expiry);
    await chain.mineTo(epochStart(expiry) - 1);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
    await chain.mineTo(epochStart(expiry));
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);

    // The owner may publish again.
    await asOwner.offer(id, 60n, 1, randomId());
    await asStranger.buy(id, 60n);
    expect(await licenses.hasLicense(id, strangerAddress)).toBe(true);
  });

  it('is refused twice, without an offer, to a non-owner, and for an unknown dataset', async () => {
    const id = await offeredDataset(1n, 1);
    const refused = await rejection(asStranger.withdrawOffer(id));
    expect(refused.code).toBe('NotOwner');
    expect(refused.args).toEqual([toHex(id), strangerAddress]);
    expect((await licenses.getOffer(id)).active).toBe(true);

    await asOwner.withdrawOffer(id);
    const twice = await rejection(asOwner.withdrawOffer(id));
    expect(twice.code).toBe('NoOffer');
    expect(twice.args).toEqual([toHex(id)]);

    const never = await certifiedDataset();
    expect((await rejection(asOwner.withdrawOffer(never))).code).toBe('NoOffer');
    const unknown = randomId();
    const missing = await rejection(asOwner.withdrawOffer(unknown));
    expect(missing.code).toBe('UnknownDataset');
    expect(missing.args).toEqual([toHex(unknown)]);
  });
});

describe('hasLicense', () => {
  it('is true for the dataset owner always, certified or not, with no license held', async () => {
    const registered = await registeredDataset();
    const certified = await certifiedDataset();
    for (const id of [registered, certified]) {
      expect(await licenses.hasLicense(id, ownerAddress)).toBe(true);
      expect(await licenses.licenseExpiry(id, ownerAddress)).toBe(0n);
      expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
      expect(await licenses.hasLicense(id, ZeroAddress)).toBe(false);
    }
    await chain.mineTo((await chain.latestBlock()) + 20 * epochs.epochBlocks);
    expect(await licenses.hasLicense(certified, ownerAddress)).toBe(true);
  });

  it('is false for an unknown dataset, whoever asks', async () => {
    const unknown = randomId();
    for (const account of [ownerAddress, buyerAddress, strangerAddress, ZeroAddress, getAddress(registry.address)]) {
      expect(await licenses.hasLicense(unknown, account)).toBe(false);
    }
    expect(await licenses.licensesOf(unknown)).toEqual([]);
  });
});

describe('buying on the terms the buyer read', () => {
  it('refuses an offer replaced in between with another duration or terms, and sells on the current ones', async () => {
    const id = await offeredDataset(4n, 3);
    const seen = await licenses.getOffer(id);
    const terms = randomId();
    await asOwner.offer(id, 4n, 1, terms);
    const changed = await rejection(asBuyer.buy(id, 4n, seen));
    expect(changed.code).toBe('OfferChanged');
    expect(changed.args).toEqual([1n, toHex(terms)]);
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(false);
    await asBuyer.buy(id, 4n, await licenses.getOffer(id));
    expect(await licenses.hasLicense(id, buyerAddress)).toBe(true);
  });
});
