"""Reads a Sherd dataset through the gateway with fsspec's HTTP filesystem, a client no one here wrote.

Usage: fsspec_read.py DATASET_URL   (DATASET_URL ends in /datasets/ID/)
Prints JSON: what ls and glob found, and pieces read with open().seek/read and cat_file
(hex), for the test to compare byte for byte with the source.
"""
import json
import random
import sys

import fsspec


def main() -> None:
    base = sys.argv[1]
    fs = fsspec.filesystem("http")
    listed = sorted(entry["name"] for entry in fs.ls(base, detail=True))
    sizes = {entry["name"]: entry["size"] for entry in (fs.info(url) for url in listed)}
    globbed = sorted(fs.glob(base + "train-*.tar"))
    rng = random.Random(12)
    reads = []
    for url in globbed:
        size = sizes[url]
        with fsspec.open(url, "rb", block_size=64 * 1024) as handle:
            for _ in range(8):
                start = rng.randrange(0, size)
                length = rng.randrange(1, 200_000)
                handle.seek(start)
                reads.append({"url": url, "start": start, "length": length, "bytes": handle.read(length).hex()})
        start = rng.randrange(0, size - 10)
        end = rng.randrange(start + 1, size)
        reads.append({"url": url, "start": start, "end": end, "bytes": fs.cat_file(url, start=start, end=end).hex(), "cat": True})
    json.dump({"ls": listed, "sizes": sizes, "glob": globbed, "reads": reads}, sys.stdout)


if __name__ == "__main__":
    main()
