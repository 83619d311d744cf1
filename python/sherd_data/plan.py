"""The epoch plan (docs/training.md), computed exactly as client/epoch-plan.ts does.

Which files a glob matches, their order in an epoch, the share of each rank and worker, and
WebDataset sample keys. The TypeScript and Python loaders give a job the same order.
"""
import hashlib
import re
from typing import Iterable, Iterator, List, Sequence, Tuple, TypeVar

T = TypeVar("T")


def glob_pattern(glob: str) -> "re.Pattern[str]":
    """`*` and `?` stay within a path component, `**` crosses them (`**/` may match nothing), `[...]` is a class."""
    if not isinstance(glob, str) or not glob:
        raise ValueError("a file pattern is a non-empty glob")
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if c == "*" and glob[i + 1 : i + 2] == "*":
            if glob[i + 2 : i + 3] == "/":
                out.append("(?:.*/)?")
                i += 3
            else:
                out.append(".*")
                i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            # `[!...]` negates; a `]` right after `[` or `[!` is a member, not the end (as in fnmatch).
            negated = glob[i + 1 : i + 2] == "!"
            first = i + 1 + (1 if negated else 0)
            close = glob.find("]", first + 1)
            if close < 0:
                raise ValueError(f"the pattern {glob} has a [ without its ]")
            members = re.sub(r"([\\\]^])", r"\\\1", glob[first:close])
            out.append("[" + ("^" if negated else "") + members + "]")
            i = close
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.S)


def _draw(seed: str, epoch: int, i: int) -> int:
    return int.from_bytes(hashlib.sha256(f"sherd-shuffle:{seed}:{epoch}:{i}".encode()).digest()[:8], "big")


def shuffled(items: Sequence[T], seed: str, epoch: int) -> List[T]:
    """`items` in the order of `epoch` for `seed`: Fisher-Yates driven by SHA-256."""
    if not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be an integer of at least 0, not {epoch}")
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = _draw(seed, epoch, i) % (i + 1)
        out[i], out[j] = out[j], out[i]
    return out


def check_split(rank: int, world_size: int, worker_id: int, num_workers: int) -> None:
    for name, value, least in (("world_size", world_size, 1), ("num_workers", num_workers, 1), ("rank", rank, 0), ("worker_id", worker_id, 0)):
        if not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer of at least {least}, not {value}")
    if rank >= world_size:
        raise ValueError(f"rank {rank} is not below world_size {world_size}")
    if worker_id >= num_workers:
        raise ValueError(f"worker_id {worker_id} is not below num_workers {num_workers}")


def share_of(epoch_order: Sequence[T], rank: int, world_size: int, worker_id: int, num_workers: int) -> List[T]:
    """The items one worker of one rank reads: dealt to ranks in turn, then within the rank to workers in turn."""
    check_split(rank, world_size, worker_id, num_workers)
    rank_share = list(epoch_order[rank::world_size])
    return rank_share[worker_id::num_workers]


def sample_members(archive: Iterable) -> Iterator[Tuple[object, str, str, bool]]:
    """The one rule of what a tar sample is: regular members, grouped by key while they follow one
    another (WebDataset's). Each member with its key and extension; the flag starts a sample."""
    last = None
    for member in archive:
        if member.isfile():
            key, extension = sample_key(member.name)
            yield member, key, extension, key != last
            last = key


def sample_key(member_path: str) -> Tuple[str, str]:
    """A WebDataset member's sample key and extension: split at the first `.` of its last component."""
    slash = member_path.rfind("/")
    dot = member_path.find(".", slash + 1)
    return (member_path, "") if dot < 0 else (member_path[:dot], member_path[dot + 1 :])
