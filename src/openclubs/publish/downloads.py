"""Downloads of the whole dataset from the dataset site: the clubs as JSON Lines of Club Spec
JSON-LD, as CSV (one row per place) and as GeoJSON (one point per place), the same files as
`openclubs export`, streamed: the exporter runs in a worker thread and hands the response
64 KB at a time through a small queue, so memory does not grow with the store."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import orjson
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from openclubs.publish.rpde import error_body
from openclubs.store.base import Store
from openclubs.store.export import EXPORTERS

# format -> (file name, media type)
DOWNLOADS = {
    "jsonld": ("clubs.jsonl", "application/x-ndjson"),
    "csv": ("clubs.csv", "text/csv; charset=utf-8"),
    "geojson": ("clubs.geojson", "application/geo+json"),
}
_CHUNK = 64 * 1024
_END = b""


class _QueueWriter:
    """A write-only binary file whose writes go, in chunks, into a bounded queue."""

    def __init__(self, chunks: queue.Queue[bytes | BaseException]) -> None:
        self.chunks = chunks
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= _CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.buffer:
            self.chunks.put(bytes(self.buffer))
            self.buffer.clear()

    # what io.TextIOWrapper (the CSV exporter) asks of the file it wraps
    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False


def stream_export(store: Store, fmt: str) -> Iterator[bytes]:
    """The export of `store` in `fmt`, chunk by chunk."""
    chunks: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=8)

    def run() -> None:
        writer = _QueueWriter(chunks)
        try:
            EXPORTERS[fmt](store.iter_clubs(), writer)  # type: ignore[arg-type]
            writer.flush()
            chunks.put(_END)
        except BaseException as error:  # handed to the response, which ends the body
            chunks.put(error)

    thread = threading.Thread(target=run, daemon=True, name=f"export-{fmt}")
    thread.start()
    while True:
        chunk = chunks.get()
        if isinstance(chunk, BaseException):
            raise chunk
        if chunk == _END:
            return
        yield chunk


def register_downloads(app: FastAPI, store: Store) -> None:
    @app.get(
        "/downloads/{name}",
        response_class=StreamingResponse,
        summary="The whole dataset as one file: clubs.jsonl, clubs.csv or clubs.geojson",
    )
    async def download(name: str) -> StreamingResponse:
        for fmt, (file_name, media_type) in DOWNLOADS.items():
            if name == file_name:
                headers = {
                    "Content-Disposition": f'attachment; filename="{file_name}"',
                    "Cache-Control": "public, max-age=3600",
                }
                return StreamingResponse(
                    stream_export(store, fmt), media_type=media_type, headers=headers
                )
        names = ", ".join(file for file, _ in DOWNLOADS.values())
        return StreamingResponse(
            iter([_json_error(404, f"There is no download {name!r}; there are {names}.")]),
            status_code=404,
            media_type="application/json",
        )


def _json_error(status: int, message: str) -> bytes:
    return orjson.dumps(error_body(status, message))
