import { Contract, type ContractRunner, type TransactionReceipt } from 'ethers';
import { toHex } from '../proofs/bytes.ts';
import { sherdLicensesAbi } from './abi.ts';
import { readCall, sendTransaction } from './registry.ts';
import { TypedContract, type Arguments, type WriteName } from './typed-contract.ts';

type LicensesAbi = typeof sherdLicensesAbi;

/** The expiry of a license that never expires (the contract's PERPETUAL). */
export const PERPETUAL_EXPIRY = 2n ** 64n - 1n;

export interface LicenseOffer {
  active: boolean;
  /** License duration in the registry's epochs; 0 is perpetual. */
  epochs: number;
  price: bigint;
  termsHash: string;
}

/** A license as LicenseGranted recorded it. */
export interface LicenseEvent {
  licensee: string;
  /** First epoch in which it no longer holds; PERPETUAL_EXPIRY if never. */
  expiry: bigint;
  paid: bigint;
  block: number;
  txHash: string;
}

/**
 * Typed access to a deployment's SherdLicenses (the registry creates it: `Registry.licensesAddress`).
 * Reverts come back as ChainError named after the contract's error (NoOffer, WrongPrice, ...).
 */
export class Licenses {
  private readonly typed: TypedContract<LicensesAbi>;

  private constructor(
    readonly contract: Contract,
    readonly address: string,
  ) {
    this.typed = new TypedContract(contract, sherdLicensesAbi);
  }

  static at(address: string, runner: ContractRunner): Licenses {
    return new Licenses(new Contract(address, sherdLicensesAbi, runner), address.toLowerCase());
  }

  private send<Name extends WriteName<LicensesAbi>>(
    action: string,
    name: Name,
    args: Arguments<LicensesAbi, Name>,
    overrides: { value?: bigint } = {},
  ): Promise<TransactionReceipt> {
    return sendTransaction(this.typed, action, name, args, overrides);
  }

  offer(id: Uint8Array, price: bigint, epochs: number, termsHash: Uint8Array): Promise<TransactionReceipt> {
    return this.send('publishing the offer', 'offer', [id, price, epochs, termsHash]);
  }

  withdrawOffer(id: Uint8Array): Promise<TransactionReceipt> {
    return this.send('withdrawing the offer', 'withdrawOffer', [id]);
  }

  /** Buys at `price`; with `terms` (the offer as the buyer read it), only if the offer still has that duration and terms. */
  buy(id: Uint8Array, price: bigint, terms?: Pick<LicenseOffer, 'epochs' | 'termsHash'>): Promise<TransactionReceipt> {
    if (terms) return this.send('buying the license', 'buyLicenseOnTerms', [id, terms.epochs, terms.termsHash], { value: price });
    return this.send('buying the license', 'buyLicense', [id], { value: price });
  }

  grant(id: Uint8Array, to: string, epochs: number): Promise<TransactionReceipt> {
    return this.send('granting the license', 'grant', [id, to, epochs]);
  }

  withdraw(): Promise<TransactionReceipt> {
    return this.send('withdrawing proceeds', 'withdraw', []);
  }

  async getOffer(id: Uint8Array): Promise<LicenseOffer> {
    const o = await readCall('reading the offer', () => this.typed.read('getOffer', id));
    return { active: o.active, epochs: Number(o.epochs), price: o.price, termsHash: o.termsHash.toLowerCase() };
  }

  hasLicense(id: Uint8Array, account: string): Promise<boolean> {
    return readCall('checking the license', () => this.typed.read('hasLicense', id, account));
  }

  licenseExpiry(id: Uint8Array, account: string): Promise<bigint> {
    return readCall('reading the license', () => this.typed.read('licenseExpiry', id, account));
  }

  balanceOf(account: string): Promise<bigint> {
    return readCall('reading the balance', () => this.typed.read('balanceOf', account));
  }

  /** Every license granted or bought for `id`, oldest first. */
  async licensesOf(id: Uint8Array): Promise<LicenseEvent[]> {
    const logs = await readCall('reading licenses', () =>
      this.contract.queryFilter(this.contract.filters.LicenseGranted!(toHex(id)), 0, 'latest'),
    );
    return logs.map((log) => {
      const args = (log as unknown as { args: { licensee: string; expiry: bigint; paid: bigint } }).args;
      return {
        licensee: args.licensee.toLowerCase(),
        expiry: args.expiry,
        paid: args.paid,
        block: log.blockNumber,
        txHash: log.transactionHash,
      };
    });
  }
}
