import { readFileSync } from 'node:fs';
import { DEFAULT_STORAGE_EPOCHS } from '../client/upload.ts';
import { runCli, UsageError } from './args.ts';
import { cmdChain } from './commands/chain.ts';
import { cmdDemo } from './commands/demo.ts';
import { cmdDevnet } from './commands/devnet.ts';
import { cmdDownload, cmdLs } from './commands/download.ts';
import { cmdGateway } from './commands/gateway.ts';
import { cmdLicense } from './commands/license.ts';
import { cmdSample } from './commands/sample.ts';
import { cmdStatus } from './commands/status.ts';
import { cmdUpload } from './commands/upload.ts';
import { DEFAULT_DEVNET_DIR, DEFAULT_DEVNET_FILE } from './devnet-file.ts';
import { cmdNode } from './node-commands.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP = `sherd ${VERSION}: erasure-coded, KZG-committed storage for AI datasets

usage:
  sherd demo [--nodes 8] [--size 64MiB] [--file F] [--json] [--keep]
      start a devnet, upload, kill m nodes, download, compare (the main job)
  sherd devnet [--nodes 8] [--dir ${DEFAULT_DEVNET_DIR}] [--detach]
      run a local chain and N storage-node processes on 127.0.0.1 until Ctrl-C or \`sherd devnet stop\`
      (--detach: in the background); writes DIR/devnet.json and DIR/devnet.pid
  sherd devnet stop [--dir ${DEFAULT_DEVNET_DIR}]
      stop that devnet and every node it started, and wait until they are gone
  sherd upload PATH... [--devnet F | --rpc URL --registry ADDR --account-key FILE] [--encrypt] [--k K --m M | --durability D] [--epochs E] [--workers W] [--json]
      files and directories (recursive, links not followed) as one dataset: register it on chain (paying for
      E epochs of storage, default ${DEFAULT_STORAGE_EPOCHS}), erasure-code and disperse it, certify it;
      without --k/--m, the cheapest code that loses at most 1 − D per dataset-year (default D = 0.99999999999);
      --encrypt: AES-256-GCM before coding, the key shared among the nodes and released only to licensees
  sherd sample DATASET [--devnet F | --rpc URL --registry ADDR] [--confidence 0.99 | --samples N] [--json]
      check by random samples, each proven against the content root on chain, that every segment can still be
      recovered; exits 1 when some segment has fewer than k shards answering
  sherd download DATASET OUT [--file PATH] [--devnet F | --rpc URL --registry ADDR] [--account-key FILE] [--range START-END] [--json]
      read a dataset back, every byte checked against the content root on chain, routing around failed nodes:
      one file (the only one, or --file PATH) to OUT or - for stdout; many files to the directory OUT;
      an encrypted dataset is decrypted when --account-key's account holds a license (else: no_license, exit 1)
  sherd license offer DATASET --price WEI [--epochs N] [--terms FILE]   (N = 0, the default: perpetual)
  sherd license buy DATASET | grant DATASET --to ADDR [--epochs N] | withdraw-offer DATASET
  sherd license status DATASET [--json] | proceeds [--withdraw]
      sell, buy and grant licenses to an encrypted dataset on chain; status shows the offer, the licenses and,
      to its owner, which licensees each node released its key share to and when (docs/licensing.md)
  sherd ls DATASET [--devnet F | --rpc URL --registry ADDR] [--json]
      the dataset's files: length, SHA-256, path
  sherd gateway [--port 8080] [--host 127.0.0.1] [--devnet F | --rpc URL --registry ADDR] [--cache 256MiB] [--read-ahead 8] [--read-threads N]
                [--account-key FILE [--token T]]
      serve every certified dataset over HTTP (GET/HEAD /datasets/DATASET/PATH, Range, listings), every byte checked;
      with a licensed account, encrypted datasets too, in plaintext, only to requests bearing the token
  sherd status DATASET [--devnet F | --rpc URL --registry ADDR] [--json]
      the dataset's state on chain: registered, certified, signers, size, k, m, epochs paid
  sherd chain deploy --rpc URL --account-key FILE [--min-stake WEI] [--exit-delay S] [--fee-per-byte-epoch WEI]
                    [--epoch-blocks B] [--challenge-window B] [--slash-amount WEI] [--reporter-share-bps BPS] [--json]
      deploy the registry on any chain with the Prague precompiles (docs/economics.md explains the defaults)
  sherd chain local [--port 8545] [--dir .sherd/local-chain] [--block-seconds S]
      run the embedded Prague chain as a JSON-RPC server on 127.0.0.1; writes its funded test accounts' key files
  sherd node start --port P --data-dir D --key K [--host 127.0.0.1] [--verify-threads 1] [--scrub-mb-s 4] [--no-repair] [--log-level warn] [--json]
      run one storage node; on chain it repairs itself (start-up scan, a scrub at --scrub-mb-s, new slots)
  sherd node keygen --out K
      write a fresh BLS node key file
  sherd node register --rpc URL --registry ADDR --key K --account-key FILE --endpoint URL [--stake WEI]
      stake and register a node's BLS key (with its proof of possession) on chain
  sherd node start ... --rpc URL --registry ADDR --account-key FILE
      with the operator's key, the node answers its storage challenges itself and reports peers that miss
  sherd node repair (--data-dir D --key K --rpc URL --registry ADDR [--account-key FILE] | --devnet F --node I) [--root ID] [--json]
      one repair pass over a stopped node's data: rebuild every missing shard from peers, confirm replacement slots
  sherd node rewards (--rpc URL --registry ADDR --key K | --devnet F --node I) [--claim [--account-key FILE]] [--json]
      challenges answered and missed, rewards earned and unclaimed, stake slashed; --claim pays out

  DATASET is a dataset id (0x + 64 hex digits), as upload prints it.
  --devnet defaults to ${DEFAULT_DEVNET_FILE}; --rpc/--registry override it. --account-key FILE
  holds a 0x secp256k1 private key (the devnet's uploader key by default). Progress goes to stderr on a terminal;
  --json prints one JSON object on stdout. Exit status: 0 done, 1 failed, 2 bad usage (docs/cli.md lists every message).`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  demo: cmdDemo,
  devnet: cmdDevnet,
  upload: cmdUpload,
  download: cmdDownload,
  ls: cmdLs,
  gateway: cmdGateway,
  license: cmdLicense,
  status: cmdStatus,
  sample: cmdSample,
  chain: cmdChain,
  node: cmdNode,
};

/** `sherd COMMAND ...`: dispatches to cli/commands/ (and cli/node-commands.ts for `sherd node`). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command ${command}; see sherd --help`);
  return run(args);
}

runCli(main);
