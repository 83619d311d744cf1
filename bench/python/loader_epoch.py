"""One epoch of PyTorch's DataLoader (2 workers) over SherdIterableDataset, through a gateway and
over the same tar shards on local disk, alternating; prints samples per second of each (JSON)."""
import json
import sys
import time

from torch.utils.data import DataLoader

from sherd_data import LocalFiles, SherdIterableDataset


def epoch_rate(dataset, epoch: int) -> float:
    dataset.set_epoch(epoch)
    loader = DataLoader(dataset, batch_size=16, num_workers=2, collate_fn=list)
    started, samples = time.perf_counter(), 0
    for batch in loader:
        samples += len(batch)
    return samples / (time.perf_counter() - started), samples


def main() -> None:
    gateway_url, dataset_id, folder, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    sherd = SherdIterableDataset(gateway_url, dataset_id, pattern="*.tar", batch_size=16)
    local = SherdIterableDataset(None, dataset_id, pattern="*.tar", batch_size=16, gateway=LocalFiles(folder))
    rates = {"sherd": [], "local": []}
    counts = set()
    for r in range(rounds):
        for name, dataset in (("local", local), ("sherd", sherd)):
            rate, samples = epoch_rate(dataset, r)
            rates[name].append(rate)
            counts.add(samples)
    if len(counts) != 1:
        raise SystemExit(f"the epochs gave different sample counts: {sorted(counts)}")
    print(json.dumps({"samples": counts.pop(), **rates}))


if __name__ == "__main__":
    main()
