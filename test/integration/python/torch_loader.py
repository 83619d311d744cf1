"""A training loop's data side, as a test drives it: PyTorch's DataLoader over SherdIterableDataset.

Prints one JSON line per batch (its samples' keys and member SHA-256s, and the state to resume
after it) and one at the end of each epoch. RANK and WORLD_SIZE come from the environment, as
torchrun sets them. With --state FILE it resumes from a state a previous run printed.
"""
import argparse
import hashlib
import json

from torch.utils.data import DataLoader

from sherd_data import SherdIterableDataset


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--batch-size", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", default="0,1", help="first,last epoch")
    parser.add_argument("--state", help="a state printed by an earlier run")
    args = parser.parse_args()

    dataset = SherdIterableDataset(args.gateway, args.dataset, pattern="*.tar", shuffle_seed=args.seed, batch_size=args.batch_size)
    first, last = (int(e) for e in args.epochs.split(","))
    batches = 0
    if args.state:
        with open(args.state) as f:
            state = json.load(f)
        dataset.load_state_dict(state)
        first, batches = state["epoch"], state["batches"]
    for epoch in range(first, last + 1):
        if epoch != first or not args.state:
            dataset.set_epoch(epoch)
            batches = 0
        loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers, collate_fn=list)
        for batch in loader:
            batches += 1
            samples = [[s["__key__"], {k: hashlib.sha256(v).hexdigest() for k, v in s.items() if not k.startswith("__")}] for s in batch]
            line = {"epoch": epoch, "samples": samples, "state": dataset.state_dict(batches=batches, num_workers=args.workers)}
            print(json.dumps(line), flush=True)
        print(json.dumps({"epoch": epoch, "end": True}), flush=True)


if __name__ == "__main__":
    main()
