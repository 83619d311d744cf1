"""SherdIterableDataset: one epoch of a Sherd dataset, shuffled, split and resumable (docs/training.md)."""
import io
import os
import tarfile
from typing import Dict, Iterator, List, Optional

from .gateway import Gateway, RangeFile
from .plan import glob_pattern, sample_members, share_of, shuffled

try:  # a torch IterableDataset when torch is there, a plain iterable when it is not
    import torch.utils.data as _torch_data

    _Base = _torch_data.IterableDataset
except ImportError:  # pragma: no cover - exercised where torch is missing
    _torch_data = None
    _Base = object


def _worker() -> "tuple[int, int]":
    info = _torch_data.get_worker_info() if _torch_data is not None else None
    return (0, 1) if info is None else (info.id, info.num_workers)


class SherdIterableDataset(_Base):
    """Samples of `dataset` (its id, 0x and 64 hex digits) read through the gateway at `gateway_url`.

    Files whose path matches `pattern` make the epoch; with `tar` (default: every matched file
    ends in .tar) a sample is a WebDataset group `{"__key__", "__url__", ext: bytes, ...}`,
    otherwise a file `{"__key__", "__url__", "data": bytes}`. Files are shuffled by
    `shuffle_seed` and the epoch (`set_epoch`), dealt to ranks (`rank`/`world_size`, or
    RANK/WORLD_SIZE as torchrun sets them) and then to the DataLoader's workers.

    To resume, tell `state_dict` how many batches this rank's loader has given in the epoch
    and how many workers it has; `batch_size` must be the DataLoader's, whose `drop_last` must
    stay False (the default: a worker's last, short batch counts as given). `gateway` replaces the
    HTTP client (`LocalFiles(folder)` reads a local folder the same way, unchecked). `token` is
    the bearer token of a gateway serving encrypted datasets (default: SHERD_GATEWAY_TOKEN).
    """

    def __init__(self, gateway_url: str, dataset: str, pattern: str = "**", shuffle_seed=0, epoch: int = 0,
                 tar: Optional[bool] = None, rank: Optional[int] = None, world_size: Optional[int] = None,
                 batch_size: int = 1, gateway=None, token: Optional[str] = None):
        super().__init__()
        self.gateway = gateway or Gateway(gateway_url, token=token)
        self.dataset = dataset
        self.pattern = pattern
        self.shuffle_seed = str(shuffle_seed)
        self.rank = int(os.environ.get("RANK", "0")) if rank is None else rank
        self.world_size = int(os.environ.get("WORLD_SIZE", "1")) if world_size is None else world_size
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer of at least 1, not {batch_size}")
        self.batch_size = batch_size
        self.epoch = 0
        self.set_epoch(epoch)
        self._resume: Optional[dict] = None
        matcher = glob_pattern(pattern)
        # The gateway lists files in path order (UTF-8 bytes), the order the shuffle starts from.
        self._files = [f for f in self.gateway.files(dataset) if matcher.match(f["path"])]
        self._lengths = {f["path"]: f["length"] for f in self._files}
        self.tar = tar if tar is not None else bool(self._files) and all(f["path"].endswith(".tar") for f in self._files)
        self._counts: Dict[str, int] = {}

    def set_epoch(self, epoch: int) -> None:
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an integer of at least 0, not {epoch}")
        self.epoch = epoch

    # -- resuming -------------------------------------------------------------------------

    def state_dict(self, batches: int, num_workers: int) -> dict:
        """Where this rank stands: `batches` taken from its DataLoader this epoch, which has `num_workers` workers."""
        for name, value in (("batches", batches), ("num_workers", num_workers)):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer of at least 0, not {value}")
        # A loader without workers runs the dataset in its own process: one stream, as one worker.
        return {"epoch": self.epoch, "batches": batches, "batch_size": self.batch_size, "num_workers": max(1, num_workers),
                "rank": self.rank, "world_size": self.world_size, "shuffle_seed": self.shuffle_seed, "pattern": self.pattern}

    def load_state_dict(self, state: dict) -> None:
        """Resume from `state`: the next iteration of its epoch gives the samples after it."""
        for key, mine in (("batch_size", self.batch_size), ("rank", self.rank), ("world_size", self.world_size),
                          ("shuffle_seed", self.shuffle_seed), ("pattern", self.pattern)):
            if state.get(key) != mine:
                raise ValueError(f"the state was saved with {key} {state.get(key)!r}, this dataset has {mine!r}")
        self.set_epoch(state["epoch"])
        self._resume = dict(state)

    # -- the plan -------------------------------------------------------------------------

    def _worker_files(self, worker_id: int, num_workers: int) -> List[str]:
        order = shuffled([f["path"] for f in self._files], self.shuffle_seed, self.epoch)
        return share_of(order, self.rank, self.world_size, worker_id, num_workers)

    def _count(self, path: str) -> int:
        """Samples in one file: 1, or a tar's sample groups counted from its headers (tarfile seeks over bodies)."""
        if not self.tar:
            return 1
        if path not in self._counts:
            raw = RangeFile(self.gateway, self.dataset, path, self._lengths[path])
            with tarfile.open(fileobj=io.BufferedReader(raw, buffer_size=8192), mode="r:") as archive:
                self._counts[path] = sum(first for _, _, _, first in sample_members(archive))
        return self._counts[path]

    @staticmethod
    def _has_samples(totals: List[int], files: List[str], count, at_least: int) -> bool:
        """Whether `files` hold at least `at_least` samples. `totals` holds their running sums as far as
        they have been needed, and grows only when a larger count is asked for."""
        while (not totals or totals[-1] < at_least) and len(totals) < len(files):
            totals.append((totals[-1] if totals else 0) + count(files[len(totals)]))
        return bool(totals) and totals[-1] >= at_least

    def _resume_point(self, worker_id: int, num_workers: int) -> "tuple[int, int]":
        """Whose share this worker reads and how many of its samples were given already, from the rank's
        batch count. PyTorch takes batches from its workers in turn and leaves out a worker once it has run
        out; a resumed loader starts its turn at worker 0, so its workers take the old ones' places from the
        one whose turn came next: the order after a resume is the order the run would have had."""
        state = self._resume
        if state is None or state["epoch"] != self.epoch:
            return worker_id, 0
        if state["num_workers"] != num_workers:
            raise ValueError(f"the state was saved with {state['num_workers']} DataLoader workers, this loader has "
                             f"{num_workers}: resume with {state['num_workers']} (0 and 1 are the same)")
        shares = [self._worker_files(w, num_workers) for w in range(num_workers)]
        totals: List[List[int]] = [[] for _ in range(num_workers)]
        taken = [0] * num_workers
        active = list(range(num_workers))
        left, last = state["batches"], num_workers - 1
        while left > 0 and active:
            for w in list(active):
                if left == 0:
                    break
                if self._has_samples(totals[w], shares[w], self._count, taken[w] * self.batch_size + 1):
                    taken[w] += 1
                    left -= 1
                    last = w
                else:
                    active.remove(w)
        role = (last + 1 + worker_id) % num_workers
        return role, taken[role] * self.batch_size

    # -- reading --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict]:
        worker_id, num_workers = _worker()
        role, skip = self._resume_point(worker_id, num_workers)
        files = self._worker_files(role, num_workers)
        position = 0
        for path in files:
            if position < skip:
                count = self._count(path)
                if position + count <= skip:
                    position += count
                    continue
            in_file = max(0, skip - position)
            position += in_file
            for sample in (self._tar_samples(path, in_file) if self.tar else self._file_sample(path)):
                position += 1
                yield sample

    def _file_sample(self, path: str) -> Iterator[dict]:
        url = self.gateway.file_url(self.dataset, path)
        with self.gateway.open(url) as response:
            data = response.read()
        if len(data) != self._lengths[path]:
            raise IOError(f"{url}: the body ended after {len(data)} of {self._lengths[path]} bytes")
        yield {"__key__": path, "__url__": url, "data": data}

    def _tar_samples(self, path: str, skip: int) -> Iterator[dict]:
        """The samples of one tar after the first `skip`, streamed front to back (bodies of skipped ones unread)."""
        url = self.gateway.file_url(self.dataset, path)
        current: Optional[dict] = None
        index = -1
        with self.gateway.open(url) as response, tarfile.open(fileobj=response, mode="r|") as archive:
            for member, key, extension, first in sample_members(archive):
                if first:
                    if current is not None and index >= skip:
                        yield current
                    current = {"__key__": key, "__url__": url}
                    index += 1
                if index >= skip:
                    current[extension] = archive.extractfile(member).read()
        if current is not None and index >= skip:
            yield current
        self._counts[path] = index + 1
