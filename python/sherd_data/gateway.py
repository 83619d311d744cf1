"""Reads through a Sherd gateway over HTTP, standard library only.

Every byte the gateway sends was checked against the dataset's content root on chain; a read
it cannot check fails (a 5xx, or a body cut short), and so does this client: errors are raised
with their URL and status, never swallowed. 429 and 503 (the gateway is busy) and 502 (the
chain or the nodes failed before a read started) are retried with backoff, honouring
Retry-After. A connection that cannot be made raises urllib's URLError as it is.
"""
import email.utils
import io
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Dict, List, Optional


class SherdHTTPError(IOError):
    """A gateway answer that is not the bytes asked for: the URL, the HTTP status and the gateway's message."""

    def __init__(self, url: str, status: int, message: str):
        super().__init__(f"{url}: HTTP {status}: {message}")
        self.url = url
        self.status = status
        self.message = message


RETRIED = (429, 502, 503)


def _retry_after(value: Optional[str], default: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), else `default`."""
    if not value:
        return default
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return default


class Gateway:
    """A gateway at `url` (http://host:port): file listings and ranged reads of its datasets.

    `token` is the bearer token of a gateway that serves encrypted datasets (it prints it, or
    was started with `--token`); it defaults to the SHERD_GATEWAY_TOKEN environment variable.
    """

    def __init__(self, url: str, timeout: float = 60.0, retries: int = 6, backoff: float = 0.25,
                 sleep: Callable[[float], None] = time.sleep, token: Optional[str] = None):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a gateway URL starts with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self.token = token if token is not None else os.environ.get("SHERD_GATEWAY_TOKEN")

    def file_url(self, dataset: str, path: str) -> str:
        return f"{self.url}/datasets/{dataset}/{urllib.parse.quote(path)}"

    def open(self, url: str, headers: Optional[Dict[str, str]] = None):
        """The response to GET `url`, retried on 429, 502 and 503; SherdHTTPError for any other non-2xx status."""
        for attempt in range(self.retries + 1):
            sent = dict(headers or {})
            if self.token:
                sent["Authorization"] = f"Bearer {self.token}"
            request = urllib.request.Request(url, headers=sent)
            try:
                return urllib.request.urlopen(request, timeout=self.timeout)
            except urllib.error.HTTPError as error:
                body = error.read()
                try:
                    message = json.loads(body).get("message", "")
                except ValueError:
                    message = body[:200].decode("utf-8", "replace")
                if error.code in RETRIED and attempt < self.retries:
                    self._sleep(_retry_after(error.headers.get("Retry-After"), self.backoff * 2 ** attempt))
                    continue
                raise SherdHTTPError(url, error.code, message) from error
        raise AssertionError("unreachable")

    def files(self, dataset: str) -> List[dict]:
        """The files of `dataset`: path, length and sha256 of each, in path order."""
        url = f"{self.url}/datasets/{dataset}/"
        with self.open(url, {"Accept": "application/json"}) as response:
            listing = json.load(response)
        return listing["files"]

    def read(self, dataset: str, path: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of a file, checked by the gateway; SherdHTTPError if fewer come."""
        url = self.file_url(dataset, path)
        if end <= start:
            return b""
        with self.open(url, {"Range": f"bytes={start}-{end - 1}"}) as response:
            data, status = response.read(), response.status
        if len(data) != end - start:
            raise SherdHTTPError(url, status, f"asked for {end - start} bytes at {start}, got {len(data)}")
        return data


class RangeFile(io.RawIOBase):
    """A seekable, read-only file over ranged reads of one gateway file (tarfile hops over members with it)."""

    def __init__(self, gateway: Gateway, dataset: str, path: str, length: int):
        super().__init__()
        self._gateway, self._dataset, self._path, self._length = gateway, dataset, path, length
        self._offset = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._offset, io.SEEK_END: self._length}[whence]
        self._offset = max(0, min(self._length, base + offset))
        return self._offset

    def readinto(self, buffer) -> int:
        end = min(self._length, self._offset + len(buffer))
        data = self._gateway.read(self._dataset, self._path, self._offset, end)
        buffer[: len(data)] = data
        self._offset = end
        return len(data)
