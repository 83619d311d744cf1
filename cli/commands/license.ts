import { readFile } from 'node:fs/promises';
import { Wallet } from 'ethers';
import { Licenses, PERPETUAL_EXPIRY } from '../../chain/licenses.ts';
import { epochAt } from '../../chain/registry.ts';
import { latestBlock } from '../../chain/rpc.ts';
import { licenseAccount, registeredDataset } from '../../client/chain-context.ts';
import { DatasetReader } from '../../client/download.ts';
import { fetchKeyReleases, readEnvelope, type NodeReleases } from '../../client/encryption.ts';
import { accountAddress } from '../../proofs/account.ts';
import { fromHex, toHex } from '../../proofs/bytes.ts';
import { keccak256 } from '../../proofs/hash.ts';
import { CliError, integer, parse, positionals, print, UsageError } from '../args.ts';
import { chainFrom, chainOptions, datasetArg } from '../context.ts';

/** Each subcommand's usage line: its own usage error, and together the command's. */
const USAGE = {
  offer: 'sherd license offer DATASET --price WEI [--epochs N] [--terms FILE]',
  'withdraw-offer': 'sherd license withdraw-offer DATASET',
  buy: 'sherd license buy DATASET',
  grant: 'sherd license grant DATASET --to ADDR [--epochs N]',
  status: 'sherd license status DATASET [--json]',
  proceeds: 'sherd license proceeds [--withdraw] [--json]',
};
export const LICENSE_USAGE = Object.values(USAGE).join('\n       ');

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  offer: cmdOffer,
  'withdraw-offer': cmdWithdrawOffer,
  buy: cmdBuy,
  grant: cmdGrant,
  status: cmdLicenseStatus,
  proceeds: cmdProceeds,
};

/** `sherd license …`: offers, licenses and key releases of encrypted datasets (docs/licensing.md). */
export async function cmdLicense(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const run = sub === undefined ? undefined : SUBCOMMANDS[sub];
  if (!run) throw new UsageError(`usage: ${LICENSE_USAGE}`);
  return run(rest);
}

/**
 * Runs `send` with the license registry connected to the account (--account-key, or the
 * devnet's uploader) and that account; the chain connection is closed after, whatever happens.
 */
async function withLicenses(
  values: Parameters<typeof chainFrom>[0],
  send: (chain: { licenses: Licenses; account: Wallet }) => Promise<number>,
): Promise<number> {
  const { context, accountKey } = await chainFrom(values);
  try {
    if (!accountKey) throw new UsageError('this sends a transaction: pass --account-key FILE');
    const account = new Wallet(accountKey, context.provider);
    return await send({ licenses: Licenses.at(await context.registry.licensesAddress(), account), account });
  } finally {
    context.close();
  }
}

/** --epochs N as a license duration: 0 (the default) is perpetual. */
const durationArg = (text: string | undefined) => integer('epochs', text, { min: 0, max: 0xffffffff }) ?? 0;

function expiryText(expiry: bigint): string {
  return expiry === PERPETUAL_EXPIRY ? 'never (perpetual)' : `at the start of epoch ${expiry}`;
}

async function cmdOffer(args: string[]): Promise<number> {
  const options = {
    ...chainOptions,
    price: { type: 'string' },
    epochs: { type: 'string' },
    terms: { type: 'string' },
    json: { type: 'boolean' },
  } as const;
  const { values, positionals: given } = parse(args, options, 'license offer');
  const id = datasetArg(positionals(given, 1, USAGE.offer)[0]);
  if (values.price === undefined || !/^\d+$/.test(values.price))
    throw new UsageError(`--price must be a whole number of wei, got ${values.price ?? 'nothing'}`);
  const price = BigInt(values.price);
  const epochs = durationArg(values.epochs);
  const termsHash = values.terms ? keccak256(new Uint8Array(await readFile(values.terms))) : new Uint8Array(32);
  return withLicenses(values, async ({ licenses }) => {
    const receipt = await licenses.offer(id, price, epochs, termsHash);
    const duration = epochs === 0 ? 'perpetual licenses' : `licenses of ${epochs} epochs`;
    const report = { datasetId: toHex(id), priceWei: price.toString(), epochs, termsHash: toHex(termsHash), tx: receipt.hash };
    print(
      values.json === true,
      report,
      `offered ${duration} to dataset ${toHex(id)} at ${price} wei; terms ${toHex(termsHash)}; tx ${receipt.hash}`,
    );
    return 0;
  });
}

async function cmdWithdrawOffer(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, { ...chainOptions, json: { type: 'boolean' } }, 'license withdraw-offer');
  const id = datasetArg(positionals(given, 1, USAGE['withdraw-offer'])[0]);
  return withLicenses(values, async ({ licenses }) => {
    const receipt = await licenses.withdrawOffer(id);
    print(
      values.json === true,
      { datasetId: toHex(id), tx: receipt.hash },
      `withdrew the offer for ${toHex(id)} (licenses held stay valid until they expire); tx ${receipt.hash}`,
    );
    return 0;
  });
}

async function cmdBuy(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, { ...chainOptions, json: { type: 'boolean' } }, 'license buy');
  const id = datasetArg(positionals(given, 1, USAGE.buy)[0]);
  return withLicenses(values, async ({ licenses, account }) => {
    const offer = await licenses.getOffer(id);
    if (!offer.active) throw new CliError('no_offer', `dataset ${toHex(id)} has no offer to buy`);
    const receipt = await licenses.buy(id, offer.price, offer);
    const expiry = await licenses.licenseExpiry(id, account.address);
    const report = {
      datasetId: toHex(id),
      licensee: account.address.toLowerCase(),
      paidWei: offer.price.toString(),
      expiry: expiry.toString(),
      tx: receipt.hash,
    };
    print(
      values.json === true,
      report,
      `bought a license to ${toHex(id)} for ${offer.price} wei as ${report.licensee}; it expires ${expiryText(expiry)}; tx ${receipt.hash}`,
    );
    return 0;
  });
}

async function cmdGrant(args: string[]): Promise<number> {
  const options = { ...chainOptions, to: { type: 'string' }, epochs: { type: 'string' }, json: { type: 'boolean' } } as const;
  const { values, positionals: given } = parse(args, options, 'license grant');
  const id = datasetArg(positionals(given, 1, USAGE.grant)[0]);
  if (!values.to || !/^0x[0-9a-fA-F]{40}$/.test(values.to))
    throw new UsageError(`--to must be an address, 0x followed by 40 hex digits, got ${values.to ?? 'nothing'}`);
  const to = values.to.toLowerCase();
  const epochs = durationArg(values.epochs);
  return withLicenses(values, async ({ licenses }) => {
    const receipt = await licenses.grant(id, to, epochs);
    const expiry = await licenses.licenseExpiry(id, to);
    print(
      values.json === true,
      { datasetId: toHex(id), licensee: to, expiry: expiry.toString(), tx: receipt.hash },
      `granted ${to} a license to ${toHex(id)}; it expires ${expiryText(expiry)}; tx ${receipt.hash}`,
    );
    return 0;
  });
}

async function cmdProceeds(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(
    args,
    { ...chainOptions, withdraw: { type: 'boolean' }, json: { type: 'boolean' } },
    'license proceeds',
  );
  positionals(given, 0, USAGE.proceeds);
  return withLicenses(values, async ({ licenses, account }) => {
    const balance = await licenses.balanceOf(account.address);
    if (!values.withdraw) {
      print(
        values.json === true,
        { account: account.address.toLowerCase(), balanceWei: balance.toString() },
        `${balance} wei of license sales to withdraw`,
      );
      return 0;
    }
    const receipt = await licenses.withdraw();
    print(
      values.json === true,
      { account: account.address.toLowerCase(), withdrawnWei: balance.toString(), tx: receipt.hash },
      `withdrew ${balance} wei; tx ${receipt.hash}`,
    );
    return 0;
  });
}

/**
 * `sherd license status DATASET`: the offer, the account's own license, every license granted
 * (from the chain's events), and, for the dataset's owner, which licensees each node released
 * its key share to and when (the nodes' signed receipts).
 */
async function cmdLicenseStatus(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, { ...chainOptions, json: { type: 'boolean' } }, 'license status');
  const id = datasetArg(positionals(given, 1, USAGE.status)[0]);
  const { context, accountKey } = await chainFrom(values);
  try {
    const { terms, nodes } = await registeredDataset(context.registry, id);
    const licenses = Licenses.at(await context.registry.licensesAddress(), context.provider);
    const account = accountKey ? accountAddress(fromHex(accountKey, 32)) : undefined;
    const [offer, granted, own, epoch] = await Promise.all([
      licenses.getOffer(id),
      licenses.licensesOf(id),
      account ? licenses.hasLicense(id, account) : Promise.resolve(false),
      context.registry.epochParameters().then(async (p) => epochAt(p, await latestBlock(context.provider))),
    ]);
    const reader = await DatasetReader.open(id, { nodes, registration: terms });
    let releases: NodeReleases[] | undefined;
    let encrypted: boolean;
    try {
      encrypted = (await readEnvelope(reader)) !== undefined;
      if (encrypted && account === terms.owner && accountKey) {
        const owner = await licenseAccount(context, fromHex(accountKey, 32));
        releases = await fetchKeyReleases({ id, urls: reader.nodeUrls, nodeKeys: terms.nodeKeys }, owner);
      }
    } finally {
      await reader.close();
    }
    const report = {
      datasetId: toHex(id),
      owner: terms.owner,
      encrypted,
      epoch,
      offer: offer.active ? { priceWei: offer.price.toString(), epochs: offer.epochs, termsHash: offer.termsHash } : null,
      account: account ?? null,
      licensed: own,
      licenses: granted.map((l) => ({ ...l, expiry: l.expiry.toString(), paid: l.paid.toString(), current: l.expiry > BigInt(epoch) })),
      keyReleases: releases ?? null,
    };
    print(values.json === true, report, statusText(report, releases));
    return 0;
  } finally {
    context.close();
  }
}

function statusText(
  report: {
    datasetId: string;
    owner: string;
    encrypted: boolean;
    epoch: number;
    offer: { priceWei: string; epochs: number; termsHash: string } | null;
    account: string | null;
    licensed: boolean;
    licenses: Array<{ licensee: string; expiry: string; paid: string; block: number; current: boolean }>;
  },
  releases: NodeReleases[] | undefined,
): string {
  const lines = [
    `dataset ${report.datasetId} (${report.encrypted ? 'encrypted' : 'not encrypted: anyone can read it'}), owner ${report.owner}; epoch ${report.epoch} now`,
    report.offer
      ? `  offer     ${report.offer.priceWei} wei for ${report.offer.epochs === 0 ? 'a perpetual license' : `${report.offer.epochs} epochs`}; terms ${report.offer.termsHash}`
      : '  offer     none',
    report.account
      ? `  you       ${report.account}: ${report.licensed ? 'may read it' : 'hold no license'}`
      : '  you       no account given',
    `  licenses  ${report.licenses.length}`,
    ...report.licenses.map(
      (l) =>
        `    ${l.licensee}  ${l.paid === '0' ? 'granted' : `paid ${l.paid} wei`} at block ${l.block}; expires ${expiryText(BigInt(l.expiry))}${l.current ? '' : ' (expired)'}`,
    ),
  ];
  if (releases) {
    const count = releases.reduce((n, r) => n + r.releases.length, 0);
    lines.push(`  key shares released: ${count}`);
    for (const node of releases) {
      if (node.error) lines.push(`    node ${node.nodeIndex}: cannot say (${node.error})`);
      for (const r of node.releases)
        lines.push(`    node ${node.nodeIndex} → ${r.licensee} at ${r.releasedAt} (request of block ${r.block})`);
    }
  } else if (report.encrypted) {
    lines.push("  key shares released: only the owner's account can read the nodes' logs");
  }
  return lines.join('\n');
}
