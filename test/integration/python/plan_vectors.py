"""Answers the epoch-plan cases on stdin (JSON) with sherd_data.plan, for comparison with client/epoch-plan.ts."""
import json
import sys

sys.path.insert(0, sys.argv[1])  # the python/ folder of the checkout
from sherd_data.plan import glob_pattern, sample_key, share_of, shuffled  # noqa: E402

cases = json.load(sys.stdin)
print(json.dumps({
    "shuffled": [shuffled(c["items"], c["seed"], c["epoch"]) for c in cases["shuffled"]],
    "shares": [share_of(c["items"], c["rank"], c["worldSize"], c["workerId"], c["numWorkers"]) for c in cases["shares"]],
    "globs": [bool(glob_pattern(c["glob"]).match(c["path"])) for c in cases["globs"]],
    "keys": [list(sample_key(p)) for p in cases["keys"]],
}))
