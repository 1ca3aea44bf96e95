"""The inspection worker pool: `pipeline.inspect_message` in worker processes, off the event loop.

Why our own pool and not `concurrent.futures.ProcessPoolExecutor`: that executor can
neither kill one hung worker nor survive one dying (the whole pool breaks). Here each
worker is one process with one socket pair to the event loop; a message goes to an idle
worker, and the loop awaits its answer with a deadline. A worker that overruns the
deadline is killed (SIGKILL) and one that dies is noticed by end-of-file on its socket;
either way it is replaced in the background and its message gets `InspectionError`, which
the gateway answers with 451, so the client keeps the message and retries.

Workers are started from a fork server (or spawned) so they never inherit the event
loop, sockets or threads of the gateway; each builds its `WorkerContext` once (rules,
YARA, fingerprints) and announces itself ready before it gets work. `reload()` starts a
fresh set of workers and swaps them in; old workers finish the message they hold and exit.

The cheap path: a small message whose top level is plain text can be inspected in the
gateway process itself (`workers.inline_max_bytes`). Measured on 2 cores it is not
faster (the round trip costs ~0.3 ms of ~3 ms of inspection, and the work moves onto the
single event loop, raising p99), so it is off by default.

Wire format (both directions): the framing of `multiprocessing.connection` (a 4-byte
big-endian length, or -1 and an 8-byte length). The loop sends the raw message bytes; a
worker answers with one tag byte (`R` report, `E` error, `X` out of memory and exiting,
`K` ready) and a pickle or text.

Memory: each worker caps its address space at `workers.max_memory_mb` (RLIMIT_AS). A
reader that hits it records a `limit_exceeded` problem (limit `memory`) on its part and
the worker goes on; a MemoryError anywhere else is answered `X` and the worker exits, so
the message gets 451 and a fresh worker takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import re
import signal
import socket
import struct
import traceback
from collections import deque
from typing import TYPE_CHECKING, Any

from dlp_gateway.model import InspectionReport

if TYPE_CHECKING:
    from dlp_gateway.config import Settings
    from dlp_gateway.pipeline import WorkerContext

log = logging.getLogger(__name__)

TAG_READY = b"K"
TAG_REPORT = b"R"
TAG_ERROR = b"E"
TAG_EXHAUSTED = b"X"  # out of memory outside a reader: the worker exits after this answer
_WRITE_CHUNK = 1024 * 1024


class InspectionError(Exception):
    """The message could not be inspected (worker died, no worker free, internal error): answer 451."""


class InspectionTimeout(InspectionError):
    """The worker overran the message's time limit and was killed: answer 451."""


class WorkerLost(InspectionError):
    """The worker died (or its socket broke) while holding the message: answer 451."""


# ---------------------------------------------------------------- worker side


def for_the_relay(report: InspectionReport) -> InspectionReport:
    """The report without the extracted text: the relay decides and acts on findings,
    facts, parts and headers, so the text stays in the worker (a smaller answer to send
    and unpickle, and the long-lived relay process never holds message text)."""
    report.inspection.segments.clear()
    return report



def _worker_main(conn: multiprocessing.connection.Connection, settings: Settings) -> None:
    """Body of a worker process: build the context once, then inspect messages until EOF."""
    # Ctrl-C in a terminal reaches the whole process group; the gateway decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        from dlp_gateway.content.walk import warm_up
        from dlp_gateway.pipeline import WorkerContext, inspect_message

        ctx = WorkerContext.from_settings(settings)
        warm_up()  # readers imported, libmagic loaded: not on the first message's time
        if ctx.ocr is not None:
            ctx.ocr.warm_up()  # Tesseract's models loaded once, not on the first scan's time
        # Rules, tables and modules stay for the worker's life: set them aside from the
        # collector (no full collection first: walking every object would copy the pages
        # this worker shares with the fork server).
        gc.freeze()
        _cap_memory(settings.workers.max_memory_mb)
    except BaseException:
        with contextlib.suppress(OSError):
            conn.send_bytes(TAG_ERROR + traceback.format_exc().encode("utf-8", "replace"))
        return
    conn.send_bytes(TAG_READY)
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return  # the gateway closed our socket (shutdown, reload, or it died)
        except MemoryError:  # the message alone does not fit under workers.max_memory_mb
            with contextlib.suppress(OSError):
                conn.send_bytes(TAG_EXHAUSTED + b"the message does not fit in the inspection worker's memory "
                                b"(workers.max_memory_mb)")
            return
        out_of_memory = False
        try:
            report = for_the_relay(inspect_message(raw, ctx))
            answer = TAG_REPORT + pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            # Outside a reader (a reader's MemoryError is a `memory` problem on its part):
            # answer, then exit, so a fresh worker takes the next message.
            out_of_memory = True
            answer = TAG_EXHAUSTED + (f"the inspection worker ran out of memory (workers.max_memory_mb = "
                                      f"{settings.workers.max_memory_mb})").encode()
        except Exception:
            answer = TAG_ERROR + traceback.format_exc().encode("utf-8", "replace")
        del raw
        try:
            conn.send_bytes(answer)
        except OSError:
            return
        if out_of_memory:
            return


def _cap_memory(max_memory_mb: int) -> None:
    """Cap this worker's address space (RLIMIT_AS), so a hostile file makes an allocation
    fail (MemoryError, a `memory` problem) instead of growing until the host's OOM killer
    picks a process, perhaps the relay. Address space, not RSS: it is what the kernel can
    enforce per process without a cgroup, and it is larger than RSS (shared libraries,
    Tesseract's models), hence a generous default; see `workers.max_memory_mb`."""
    if max_memory_mb <= 0:
        return
    import resource

    limit = max_memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


# ---------------------------------------------------------------- loop side


def _frame_header(size: int) -> bytes:
    if size > 0x7FFFFFFF:
        return struct.pack("!i", -1) + struct.pack("!Q", size)
    return struct.pack("!i", size)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    (size,) = struct.unpack("!i", await reader.readexactly(4))
    if size == -1:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
    return await reader.readexactly(size)


def _decode_answer(frame: bytes) -> Any:
    tag, body = frame[:1], memoryview(frame)[1:]
    if tag == TAG_REPORT:
        return pickle.loads(body)
    if tag == TAG_ERROR:
        raise InspectionError(f"inspection failed in the worker:\n{bytes(body).decode('utf-8', 'replace')}")
    if tag == TAG_EXHAUSTED:  # the worker is exiting: WorkerLost, so it is replaced, not reused
        raise WorkerLost(bytes(body).decode("utf-8", "replace"))
    raise InspectionError(f"unexpected answer from an inspection worker (tag {tag!r})")


class _Worker:
    """One worker process and the loop's end of its socket."""

    def __init__(self, process: multiprocessing.process.BaseProcess, generation: int) -> None:
        self.process = process
        self.generation = generation
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.messages = 0
        self.busy = False
        self._stopped: asyncio.Future[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def lost(self) -> bool:
        """True when the worker's socket has reached end of file (it died while idle)."""
        reader = self.reader
        return reader is None or reader.at_eof() or reader.exception() is not None

    async def connect(self, sock: socket.socket) -> None:
        self.reader, self.writer = await asyncio.open_connection(sock=sock, limit=2**16)

    async def wait_ready(self, timeout: float) -> None:
        assert self.reader is not None
        try:
            frame = await asyncio.wait_for(_read_frame(self.reader), timeout)
        except TimeoutError:
            raise InspectionError(f"an inspection worker did not start within {timeout:g} s") from None
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise InspectionError(f"an inspection worker exited while starting ({exc})") from None
        if frame[:1] == TAG_ERROR:
            detail = frame[1:].decode("utf-8", "replace")
            raise InspectionError(f"an inspection worker could not load its rules:\n{detail}")
        if frame[:1] != TAG_READY:
            raise InspectionError("an inspection worker sent a bad greeting")

    async def run(self, raw: bytes, timeout: float) -> InspectionReport:
        assert self.reader is not None and self.writer is not None
        self.messages += 1
        self.busy = True
        try:
            async with asyncio.timeout(timeout):
                if len(raw) <= _WRITE_CHUNK:
                    self.writer.write(_frame_header(len(raw)) + raw)  # one send, not two
                else:
                    self.writer.write(_frame_header(len(raw)))
                    # In slices: the transport copies what the socket does not take at once,
                    # so a large message is never duplicated whole in its buffer.
                    view = memoryview(raw)
                    for start in range(0, len(raw), _WRITE_CHUNK):
                        self.writer.write(view[start : start + _WRITE_CHUNK])
                        await self.writer.drain()
                await self.writer.drain()
                frame = await _read_frame(self.reader)
        except TimeoutError:
            raise InspectionTimeout(
                f"inspection did not finish within {timeout:g} s; the worker (pid {self.pid}) was stopped"
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise WorkerLost(
                f"the inspection worker (pid {self.pid}) exited during inspection ({exc.__class__.__name__})"
            ) from None
        self.busy = False
        return _decode_answer(frame)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, AttributeError, ValueError):
            if self.process.is_alive():
                self.process.kill()

    async def stop(self, kill: bool = False, grace: float = 5.0) -> None:
        """Close the socket (the worker exits on EOF); kill it if asked or if it lingers.

        Safe to call more than once (close and a failed inspection may both stop a worker):
        later calls only add the kill and wait for the first one.
        """
        if self.writer is not None:
            # abort, not close: close would wait to flush a message a stuck worker never reads.
            self.writer.transport.abort()
        if kill:
            self.kill()
        if self._stopped is not None:
            await asyncio.shield(self._stopped)
            return
        self._stopped = asyncio.get_running_loop().create_future()
        try:
            if not await _wait_exit(self.process, grace):
                self.kill()
                await _wait_exit(self.process, grace)
            with contextlib.suppress(Exception):
                self.process.close()
        finally:
            self._stopped.set_result(None)


async def _wait_exit(process: multiprocessing.process.BaseProcess, timeout: float) -> bool:
    """Wait for a process to exit without blocking the loop (its sentinel becomes readable)."""
    try:
        sentinel = process.sentinel
    except ValueError:  # already closed
        return True
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(sentinel, lambda: done.done() or done.set_result(None))
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(sentinel)
    process.join(0)
    return True


_CONTENT_TYPE = re.compile(rb"^content-type[ \t]*:[ \t]*([^;\r\n]*)", re.IGNORECASE | re.MULTILINE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def is_plain_text(raw: bytes) -> bool:
    """True when the message's top level is text/plain (or has no Content-Type, which means that).

    Looks at the header block only, without parsing or copying the body.
    """
    end = _HEADER_END.search(raw)
    header_end = end.start() if end else len(raw)
    match = _CONTENT_TYPE.search(raw, 0, header_end)
    if match is None:
        return True
    return match.group(1).strip().lower() == b"text/plain"


def _preload_modules() -> list[str]:
    """The modules a worker needs: the pipeline, every reader and detector, PyMuPDF."""
    import pkgutil

    import dlp_gateway.content
    import dlp_gateway.detect

    names = ["dlp_gateway", "dlp_gateway.pipeline", "pymupdf"]
    for package in (dlp_gateway.content, dlp_gateway.detect):
        names += [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return names


class Inspector:
    """The pool of inspection workers the gateway awaits; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ws = settings.workers
        self._mp = multiprocessing.get_context(self._ws.start_method)
        self._generation = 0
        self._workers: set[_Worker] = set()
        self._idle: deque[_Worker] = deque()
        self._waiters: deque[asyncio.Future[_Worker]] = deque()
        self._background: set[asyncio.Task[Any]] = set()  # replacement workers starting
        self._stopping: set[asyncio.Task[Any]] = set()  # workers being stopped
        self._inline_ctx: WorkerContext | None = None
        self._started = False
        self._closed = False
        self.replaced = 0  # workers replaced after a hang or death (for tests and metrics)

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start the workers and wait until every one has loaded its rules."""
        if self._started:
            return
        if self._ws.start_method == "forkserver":
            # Workers fork from a server that has already imported every reader and
            # detector (and PyMuPDF): a new worker starts in milliseconds, and the
            # imported code is shared between workers instead of loaded by each.
            self._mp.set_forkserver_preload(_preload_modules())
        workers = await self._start_workers(self._ws.processes, self._generation)
        if self._ws.inline_max_bytes > 0:
            self._inline_ctx = self._build_inline_context()
        for worker in workers:
            self._release(worker)
        self._started = True

    async def reload(self, settings: Settings | None = None) -> None:
        """Swap in new workers with freshly loaded rules; old ones finish their message.

        If the new workers cannot start (a broken rule file), the old ones stay and
        InspectionError says why.
        """
        self._check_open()
        settings = settings or self.settings
        generation = self._generation + 1
        workers = await self._start_workers(settings.workers.processes, generation, settings)
        try:
            inline_ctx = self._build_inline_context(settings) if settings.workers.inline_max_bytes > 0 else None
        except InspectionError:
            for worker in workers:
                self._retire(worker)
            raise
        self.settings, self._ws = settings, settings.workers
        self._generation = generation
        self._inline_ctx = inline_ctx
        old_idle = [w for w in self._idle if w.generation != generation]
        self._idle.clear()
        for worker in old_idle:
            self._retire(worker)
        for worker in workers:
            self._release(worker)

    async def close(self) -> None:
        """Stop every worker. Messages still being inspected get InspectionError."""
        if self._closed:
            return
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(InspectionError("the inspector is shutting down"))
        self._waiters.clear()
        self._idle.clear()
        for task in list(self._background):
            task.cancel()
        workers = list(self._workers)
        self._workers.clear()
        # Idle workers exit on end of file; busy ones are killed (the gateway has already
        # given messages in flight their grace period before closing the inspector).
        await asyncio.gather(*(w.stop(kill=w.busy, grace=2.0) for w in workers), return_exceptions=True)
        await asyncio.gather(*self._background, *self._stopping, return_exceptions=True)

    async def __aenter__(self) -> Inspector:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def worker_pids(self) -> list[int]:
        """PIDs of the live workers of the current generation (busy or idle)."""
        return sorted(w.pid for w in self._workers if w.generation == self._generation and w.pid)

    # -------------------------------------------------------------- inspecting

    async def inspect(self, raw: bytes) -> InspectionReport:
        """Inspect one message; raise InspectionError (→ 451) when that is not possible."""
        self._check_open()
        if not self._started:
            raise InspectionError("the inspector was not started")
        if self._inline_ctx is not None and len(raw) <= self._ws.inline_max_bytes and is_plain_text(raw):
            return self._inspect_inline(raw)
        worker = await self._acquire()
        try:
            report = await worker.run(raw, self.settings.limits.max_seconds + self._ws.timeout_margin_seconds)
        except InspectionError as exc:
            if isinstance(exc, InspectionTimeout | WorkerLost):
                self._replace(worker, reason=str(exc).splitlines()[0])
            else:
                self._release(worker)  # the worker answered with an error and is fine
            raise
        except asyncio.CancelledError:
            # The caller gave up (client gone, shutdown): the worker may still be busy with
            # this message, and its answer would be read as the next one's. Replace it.
            self._replace(worker, reason="inspection cancelled")
            raise
        except Exception as exc:
            self._replace(worker, reason=f"unexpected error: {exc!r}")
            raise InspectionError(f"inspection failed: {exc}") from exc
        self._release(worker)
        return report

    def _inspect_inline(self, raw: bytes) -> InspectionReport:
        from dlp_gateway.pipeline import inspect_message

        assert self._inline_ctx is not None
        try:
            return for_the_relay(inspect_message(raw, self._inline_ctx))
        except Exception as exc:
            log.exception("in-process inspection failed")
            raise InspectionError(f"inspection failed: {exc}") from exc

    def _build_inline_context(self, settings: Settings | None = None) -> WorkerContext:
        from dlp_gateway.pipeline import WorkerContext

        try:
            return WorkerContext.from_settings(settings or self.settings)
        except Exception as exc:
            raise InspectionError(f"cannot load rules for in-process inspection: {exc}") from exc

    # -------------------------------------------------------------- the pool

    def _check_open(self) -> None:
        if self._closed:
            raise InspectionError("the inspector is shut down")

    async def _acquire(self) -> _Worker:
        while self._idle:
            worker = self._idle.popleft()
            if worker.generation != self._generation:
                self._retire(worker)
            elif worker.lost:
                self._replace(worker, reason="the idle worker exited")
            else:
                return worker
        waiter: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._ws.max_queue_seconds):
                return await asyncio.shield(waiter)
        except BaseException as exc:
            # A worker handed over at the very moment of a timeout or cancel goes back.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release(waiter.result())
            if isinstance(exc, TimeoutError):
                raise InspectionError(
                    f"no inspection worker became free within {self._ws.max_queue_seconds:g} s"
                ) from None
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif not waiter.done():
                waiter.cancel()

    def _release(self, worker: _Worker) -> None:
        """Give a free worker to the next waiter, or put it back in the idle queue."""
        if self._closed or worker.generation != self._generation:
            self._retire(worker)
            return
        if self._ws.max_messages_per_worker and worker.messages >= self._ws.max_messages_per_worker:
            self._replace(worker, reason="recycled after max_messages_per_worker", quiet=True)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        self._idle.append(worker)

    def _retire(self, worker: _Worker) -> None:
        """Stop a worker that is no longer wanted (old generation, shutdown)."""
        self._workers.discard(worker)
        self._spawn_task(worker.stop(), self._stopping)

    def _replace(self, worker: _Worker, reason: str, quiet: bool = False) -> None:
        """Stop a worker (killed unless `quiet`: recycled) and start another in its place."""
        self._workers.discard(worker)
        if not quiet:
            self.replaced += 1
            log.warning("replacing inspection worker pid %s: %s", worker.pid, reason)
        self._spawn_task(worker.stop(kill=not quiet), self._stopping)  # a recycled one just exits
        if not self._closed and worker.generation == self._generation:
            self._spawn_task(self._start_replacement(worker.generation))

    async def _start_replacement(self, generation: int) -> None:
        delay = 0.5
        while not self._closed and generation == self._generation:
            try:
                (worker,) = await self._start_workers(1, generation)
            except InspectionError as exc:
                log.error("cannot start a replacement inspection worker (retrying in %.1f s): %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self._release(worker)
            return

    async def _start_workers(self, count: int, generation: int, settings: Settings | None = None) -> list[_Worker]:
        settings = settings or self.settings
        started: list[_Worker] = []
        try:
            for _ in range(count):
                parent_conn, child_conn = self._mp.Pipe(duplex=True)
                process = self._mp.Process(
                    target=_worker_main,
                    args=(child_conn, settings),
                    name=f"dlp-inspect-{generation}",
                    daemon=True,
                )
                try:
                    await asyncio.get_running_loop().run_in_executor(None, process.start)
                finally:
                    child_conn.close()
                worker = _Worker(process, generation)
                started.append(worker)
                self._workers.add(worker)
                sock = socket.socket(fileno=os.dup(parent_conn.fileno()))
                parent_conn.close()
                await worker.connect(sock)
            await asyncio.gather(*(w.wait_ready(settings.workers.start_timeout_seconds) for w in started))
        except BaseException:
            for worker in started:
                self._workers.discard(worker)
                await worker.stop(kill=True, grace=2.0)
            raise
        return started

    def _spawn_task(self, coro: Any, tasks: set[asyncio.Task[Any]] | None = None) -> None:
        """Run `coro` in the background; replacements are cancelled on close, stops awaited."""
        tasks = self._background if tasks is None else tasks
        task = asyncio.get_running_loop().create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)


__all__ = ["Inspector", "InspectionError", "InspectionTimeout", "WorkerLost", "is_plain_text"]
