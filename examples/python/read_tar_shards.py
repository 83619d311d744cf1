#!/usr/bin/env python3
"""Stream WebDataset-style tar shards from a Sherd gateway, with the standard library only.

    python3 read_tar_shards.py http://127.0.0.1:8080/datasets/0x<dataset>/ [--json]

Lists the dataset's files (the gateway's JSON listing), then streams every `.tar` in order
and iterates its members without writing anything to disk, the way a training loop reads
samples. Every byte the gateway sends was checked against the dataset's content root on chain;
this prints each member's size and SHA-256 so a reader can compare with the source.
"""
import hashlib
import json
import sys
import tarfile
import urllib.request


def list_files(base):
    request = urllib.request.Request(base, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request) as response:
        return [entry["path"] for entry in json.load(response)["files"]]


def members(url):
    """(name, bytes) of every regular member of the tar at `url`, streamed (tarfile's "r|" mode)."""
    with urllib.request.urlopen(url) as response:
        with tarfile.open(fileobj=response, mode="r|") as archive:
            for member in archive:
                if member.isfile():
                    yield member.name, archive.extractfile(member).read()


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    base = argv[1] if argv[1].endswith("/") else argv[1] + "/"
    seen = {}
    for path in list_files(base):
        if path.endswith(".tar"):
            for name, data in members(base + urllib.request.quote(path)):
                seen[f"{path}/{name}"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if "--json" in argv:
        json.dump(seen, sys.stdout, indent=2, sort_keys=True)
        print()
    else:
        for key, info in sorted(seen.items()):
            print(f"{info['sha256']}  {info['bytes']:>10}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
