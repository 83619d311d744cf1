"""A folder on local disk with the Gateway's reading interface: the same loader over local files
(to compare with, or to debug a pipeline before its data is on Sherd). Nothing here is checked."""
import os
from typing import List


class LocalFiles:
    """The files under `root`, served as if `root` were one dataset (its id is ignored)."""

    def __init__(self, root: str):
        if not os.path.isdir(root):
            raise ValueError(f"{root} is not a folder")
        self.root = root

    def file_url(self, dataset: str, path: str) -> str:
        return os.path.join(self.root, *path.split("/"))

    def open(self, url: str, headers=None):
        return open(url, "rb")

    def files(self, dataset: str) -> List[dict]:
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                full = os.path.join(folder, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    path = os.path.relpath(full, self.root).replace(os.sep, "/")
                    found.append({"path": path, "length": os.path.getsize(full)})
        return sorted(found, key=lambda f: f["path"].encode())

    def read(self, dataset: str, path: str, start: int, end: int) -> bytes:
        with open(self.file_url(dataset, path), "rb") as f:
            f.seek(start)
            return f.read(end - start)
