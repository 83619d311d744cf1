"""Stream Sherd datasets into training through a Sherd gateway (standard library only; torch when present)."""
from .dataset import SherdIterableDataset
from .gateway import Gateway, SherdHTTPError
from .local import LocalFiles
from .plan import glob_pattern, sample_key, share_of, shuffled

__all__ = ["Gateway", "LocalFiles", "SherdHTTPError", "SherdIterableDataset", "glob_pattern", "sample_key", "share_of", "shuffled"]
