"""One epoch of PyTorch's DataLoader (2 workers) over SherdIterableDataset, through a gateway and
over the same tar shards on local disk, alternating; prints samples per second of each, and how
many of the machine's cores were busy over each epoch (all processes: the loader, the gateway and
the nodes), as JSON."""
import json
import os
import sys
import time

from torch.utils.data import DataLoader

from sherd_data import LocalFiles, SherdIterableDataset


def cpu_ticks() -> "tuple[int, int]":
    """Busy and total ticks of all cores since boot (/proc/stat's first line; idle and iowait are not busy)."""
    with open("/proc/stat") as stat:
        ticks = [int(field) for field in stat.readline().split()[1:]]
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)


def epoch_rate(dataset, epoch: int) -> "tuple[float, int, float]":
    dataset.set_epoch(epoch)
    loader = DataLoader(dataset, batch_size=16, num_workers=2, collate_fn=list)
    (busy0, total0), started, samples = cpu_ticks(), time.perf_counter(), 0
    for batch in loader:
        samples += len(batch)
    elapsed, (busy1, total1) = time.perf_counter() - started, cpu_ticks()
    return samples / elapsed, samples, (busy1 - busy0) / max(1, total1 - total0) * os.cpu_count()


def main() -> None:
    gateway_url, dataset_id, folder, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    sherd = SherdIterableDataset(gateway_url, dataset_id, pattern="*.tar", batch_size=16)
    local = SherdIterableDataset(None, dataset_id, pattern="*.tar", batch_size=16, gateway=LocalFiles(folder))
    rates = {"sherd": [], "local": []}
    busy = {"sherd": [], "local": []}
    counts = set()
    for r in range(rounds):
        for name, dataset in (("local", local), ("sherd", sherd)):
            rate, samples, cores = epoch_rate(dataset, r)
            rates[name].append(rate)
            busy[name].append(cores)
            counts.add(samples)
    if len(counts) != 1:
        raise SystemExit(f"the epochs gave different sample counts: {sorted(counts)}")
    print(json.dumps({"samples": counts.pop(), **rates, "busy": busy}))


if __name__ == "__main__":
    main()
