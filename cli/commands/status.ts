import { toHex } from '../../proofs/bytes.ts';
import { parse, positionals, print } from '../args.ts';
import { chainFrom, chainOptions, datasetArg } from '../context.ts';
import { formatBytes } from '../progress.ts';

export const STATUS_USAGE = 'sherd status DATASET [--devnet F | --rpc URL --registry ADDR] [--json]';

/** `sherd status DATASET`: the dataset on chain. An unregistered dataset exits 1, as download and sample do; --json still reports it. */
export async function cmdStatus(args: string[]): Promise<number> {
  const { values, positionals: given } = parse(args, { ...chainOptions, json: { type: 'boolean' } }, 'status');
  const id = datasetArg(positionals(given, 1, STATUS_USAGE)[0]);
  const { context } = await chainFrom(values);
  try {
    const d = await context.registry.dataset(id);
    const members = d.registered ? await context.registry.datasetMembers(id) : [];
    const slots = await Promise.all(
      members.map(async (member, slot) => ({
        slot,
        nodeId: member.nodeId,
        endpoint: (await context.registry.node(member.nodeId)).endpoint,
        state: member.state,
        active: member.active,
        repairDeadline: member.state === 'repairing' ? member.repairDeadline : null,
      })),
    );
    const status = {
      datasetId: toHex(id),
      contentRoot: d.registered ? toHex(d.contentRoot) : null,
      registered: d.registered,
      certified: d.certified,
      signers: d.signers,
      size: d.size,
      k: d.k,
      m: d.m,
      nodeSet: d.nodeSet,
      owner: d.owner,
      feeWei: d.fee.toString(),
      epochs: d.epochs,
      firstEpoch: d.certified ? d.startEpoch : null,
      registryAddress: context.registry.address,
      chainId: context.chainId.toString(),
      slots,
    };
    const challenged = d.certified ? `, challenged in epochs ${d.startEpoch}–${d.startEpoch + d.epochs - 1}` : '';
    const human = !d.registered
      ? `dataset ${status.datasetId} is not registered on chain ${status.chainId} (registry ${status.registryAddress})`
      : [
          `dataset ${status.datasetId}`,
          `  registered  yes, by ${d.owner}, fee ${d.fee} wei; content root ${status.contentRoot}`,
          `  certified   ${d.certified ? `yes, ${d.signers} signers` : 'no'}`,
          `  size        ${formatBytes(d.size)} (${d.size} bytes), k=${d.k}, m=${d.m}, node set ${d.nodeSet}`,
          `  storage     ${d.epochs} epochs paid${challenged}`,
          '  slots',
          ...slots.map(
            (s) =>
              `    ${String(s.slot).padStart(3)}  node ${s.nodeId} ${s.endpoint}  ${s.state}` +
              `${s.repairDeadline === null ? '' : ` until block ${s.repairDeadline}`}${s.active ? '' : '  (left the active set: to be replaced)'}`,
          ),
        ].join('\n');
    print(values.json === true, status, human);
    return d.registered ? 0 : 1;
  } finally {
    context.close();
  }
}
