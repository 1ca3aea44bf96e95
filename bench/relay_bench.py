"""Benchmark: the gateway against a bare relay, under the same load, on this machine.

    python3 bench/relay_bench.py            # all profiles (about 2 minutes on 2 idle cores)
    python3 bench/relay_bench.py --quick    # shorter rounds, 10 s overload (about 1 minute)
    python3 bench/relay_bench.py --profile common|cheap-path|heavy|overload [--markdown bench/RESULTS.md]

It starts, on loopback ports:
- a sink: an aiosmtpd server that counts and discards what it receives (its own process);
- a bare relay: an aiosmtpd server that forwards each message with `aiosmtplib.send`,
  one upstream connection per message, as a simple relay does (its own process);
- the gateway: the real `python -m dlp_gateway serve` with a fresh data dir, the shipped
  policy, and the sink as its next hop.

The load generator is a small hand-written SMTP client (persistent connections, one
transaction after another) so that it costs as little CPU as possible; the same
messages go through the relay and the gateway at the same concurrency, in alternating
rounds, so both see the same machine load. Reported: messages per second (250s only),
p50 and p99 latency of a transaction (MAIL FROM to the reply to the end of DATA), and the
peak memory of the gateway's whole process tree (main process, fork server, workers),
as the sum of RSS (pages shared between processes counted in each) and of PSS (shared
pages divided among the processes that share them).

Profiles:
- common: 70% plain-text mail, 20% with a PDF, 10% with a DOCX, all clean.
- cheap-path: the common mix through a gateway that sends every message to a worker and
  one that inspects plain-text mail in its own process (workers.inline_max_bytes).
- heavy: multi-page PDFs and a ZIP archive; the gateway with 1 and with 2 workers.
- overload: twice the gateway's sustainable rate (measured first) for 30 s, open loop,
  idle connections reused (as an MTA's connection cache does), at most --max-clients at once; every message must
  get a definite answer, the sink must hold every message that got 250 (plus what the
  quarantine holds), and memory stays bounded.

Documents come from tests/docgen.py, the same generators the test suite uses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

SENDER = "attache@mission.example"
RECIPIENT = "desk@mofa.example"

# ----------------------------------------------------------------------------- messages

ENGLISH = [
    "The delegation met with the deputy director to review the agenda for the next round of talks.",
    "Host government officials indicated that the framework is still under interagency review.",
    "Please find attached the draft programme for the cultural week and the list of venues.",
    "The visa section reports a steady number of applications compared with last quarter.",
    "Our contacts expect the trade figures to be published at the end of the month.",
    "Kindly confirm the arrangements for the airport pick-up and the hotel reservation.",
]
CHINESE = [
    "本處已洽請對方於會後提供相關資料，俾利研析。",
    "經洽相關智庫學者，渠等研判短期內情勢將維持穩定。",
    "有關雙邊經貿諮商會議籌備事宜，請查照。",
    "文化週活動場地及議程草案如附件，敬請參考。",
]


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return [" ".join(rng.choice(ENGLISH) for _ in range(4)) + " " + rng.choice(CHINESE) for _ in range(count)]


def _crlf(raw: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", raw)


def common_mix(count: int, seed: int = 1) -> list[bytes]:
    """70% plain text, 20% with a 2-page PDF, 10% with a DOCX; all clean."""
    import docgen

    rng = random.Random(seed)
    pdfs = [docgen.make_pdf(["\n".join(_paragraphs(rng, 6)), "\n".join(_paragraphs(rng, 6))]) for _ in range(4)]
    docxs = [docgen.make_docx(_paragraphs(rng, 12)) for _ in range(4)]
    out = []
    for i in range(count):
        kind = rng.random()
        body = "\n\n".join(_paragraphs(rng, rng.randint(2, 8)))
        if kind < 0.7:
            attachments = None
        elif kind < 0.9:
            attachments = [(f"programme-{i}.pdf", rng.choice(pdfs), "application/pdf")]
        else:
            attachments = [(
                f"notes-{i}.docx",
                rng.choice(docxs),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )]
        out.append(_crlf(docgen.make_message(f"Weekly report {i}", body, attachments)))
    return out


def heavy_mix(count: int, seed: int = 2) -> list[bytes]:
    """Attachment-heavy: 20-page PDFs, and a ZIP with PDFs and a DOCX."""
    import docgen

    rng = random.Random(seed)

    def pdf(pages: int) -> bytes:
        return docgen.make_pdf(["\n".join(_paragraphs(rng, 7)) for _ in range(pages)])

    big_pdfs = [pdf(20) for _ in range(3)]
    archives = [
        docgen.make_zip({
            "annex-a.pdf": pdf(8),
            "annex-b.pdf": pdf(8),
            "minutes.docx": docgen.make_docx(_paragraphs(rng, 40)),
        })
        for _ in range(2)
    ]
    out = []
    for i in range(count):
        if i % 2 == 0:
            attachments = [(f"study-{i}.pdf", rng.choice(big_pdfs), "application/pdf")]
        else:
            attachments = [(f"annexes-{i}.zip", rng.choice(archives), "application/zip")]
        out.append(_crlf(docgen.make_message(f"Annexes {i}", "\n\n".join(_paragraphs(rng, 3)), attachments)))
    return out


def dot_stuff(raw: bytes) -> bytes:
    data = raw if raw.endswith(b"\r\n") else raw + b"\r\n"
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data + b".\r\n"


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_forever(factory: Any, port: int) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, "127.0.0.1", port, backlog=1024)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


def sink_process(port: int, counter: Any) -> None:
    """Next hop: accept and count every message.

    In a real deployment the next hop runs elsewhere; here it shares the two cores, so it
    reads DATA with the gateway's chunked reader instead of aiosmtpd's line-by-line one,
    to take as little CPU as possible from what is measured (the same for both targets).
    """
    from dlp_gateway.smtp.server import BareInbound, RelaySMTP
    from dlp_gateway.smtp.settings import ServerSettings

    inbound = BareInbound(ServerSettings(max_unfinished_data_bytes=2**40), hostname="sink.bench")

    class Count:
        async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> list[str]:
            session.host_name = hostname
            responses.insert(len(responses) - 1, "250-PIPELINING")  # as Postfix and Exchange do
            return responses

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            counter.value += 1
            return "250 2.0.0 Ok: queued"

    handler = Count()
    _serve_forever(lambda: RelaySMTP(handler, inbound, hostname="sink.bench", enable_SMTPUTF8=True), port)


def relay_process(port: int, upstream: int) -> None:
    """The bare relay: aiosmtpd in, `aiosmtplib.send` out, one connection per message."""
    import aiosmtplib
    from aiosmtpd.smtp import SMTP

    class Forward:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            try:
                await aiosmtplib.send(
                    envelope.original_content or envelope.content,
                    sender=envelope.mail_from,
                    recipients=envelope.rcpt_tos,
                    hostname="127.0.0.1",
                    port=upstream,
                    local_hostname="relay.bench",
                )
            except aiosmtplib.SMTPException as exc:
                return f"451 4.4.0 upstream failed: {exc}"
            return "250 2.0.0 Ok: relayed"

    handler = Forward()
    _serve_forever(lambda: SMTP(handler, hostname="relay.bench", enable_SMTPUTF8=True), port)


def wait_listening(port: int, timeout: float = 60.0, process: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(100).startswith(b"220"):
                    sock.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:g} s")


@dataclass
class GatewayProc:
    port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def start_gateway(root: Path, name: str, upstream: int, workers: int | None, extra: dict[str, Any] | None = None,
                  cprofile: str | None = None) -> GatewayProc:
    import yaml

    base = root / name
    base.mkdir(parents=True)
    port = free_port()
    config: dict[str, Any] = {
        "data_dir": str(base / "data"),
        "smtp": {"listen": f"127.0.0.1:{port}", "hostname": "gateway.bench"},
        "delivery": {"upstream": f"127.0.0.1:{upstream}", "tls": "none"},
        "log": {"decision_log": str(base / "decisions.log"), "level": "WARNING"},
    }
    if workers is not None:
        config["workers"] = {"processes": workers}
    for dotted, value in (extra or {}).items():
        node = config
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    config_path = base / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    log_path = base / "gateway.log"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    command = [sys.executable, "-m", "dlp_gateway", "serve", "--config", str(config_path)]
    if cprofile:  # CPU time, not wall time: waiting for the network is not a cost
        Path(cprofile).mkdir(parents=True, exist_ok=True)
        code = (
            "import cProfile, sys, time; from dlp_gateway.cli import main; "
            "p = cProfile.Profile(time.process_time); p.enable()\n"
            f"try: main(sys.argv[1:])\nfinally: p.disable(); p.dump_stats({f'{cprofile}/{name}.prof'!r})"
        )
        command[1:3] = ["-c", code]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=str(base), stdout=log_file, stderr=subprocess.STDOUT, env=env,
        )
    gateway = GatewayProc(port, base / "data", process, log_path)
    try:
        wait_listening(port, process=process)
    except RuntimeError:
        gateway.stop()
        raise RuntimeError(f"the gateway did not start:\n{gateway.log_tail()}") from None
    return gateway


# ----------------------------------------------------------------------------- memory


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(x) for x in f.read().split())
    return kids


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(_children(current))
    return out


def _kb(path: str, key: str) -> int:
    with contextlib.suppress(OSError), open(path) as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return 0


def tree_memory(pid: int) -> tuple[int, int, int]:
    """(RSS sum, PSS sum, processes) of a process tree, in bytes."""
    pids = process_tree(pid)
    rss = sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
    pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
    return rss * 1024, pss * 1024, len(pids)


def _cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(") ", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of a process, and of its whole tree (live processes)."""
    return _cpu_seconds(pid), sum(_cpu_seconds(p) for p in process_tree(pid))


def _per_message(seconds: float, messages: int) -> str:
    return f"{seconds / messages * 1000:.2f}" if seconds and messages else "–"


class MemoryPeak:
    """Samples a process tree's memory in a thread while a block runs."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval = pid, interval
        self.rss = self.pss = self.procs = 0
        self._stop = False
        self._thread: Any = None

    def __enter__(self) -> MemoryPeak:
        import threading

        def loop() -> None:
            while not self._stop:
                rss, pss, procs = tree_memory(self.pid)
                self.rss, self.pss, self.procs = max(self.rss, rss), max(self.pss, pss), max(self.procs, procs)
                time.sleep(self.interval)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        self._thread.join()


# ----------------------------------------------------------------------------- client


async def _reply(reader: asyncio.StreamReader) -> int:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        if line[3:4] != b"-":
            return int(line[:3])


@dataclass
class Stats:
    label: str
    sent: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    rss: int = 0
    pss: int = 0
    cpu_main: float = 0.0  # CPU seconds of the target's own process
    cpu_tree: float = 0.0  # CPU seconds of its whole process tree (workers included)
    cpu_load: float = 0.0  # CPU seconds of the load generator and the sink (the same work for every target)

    @property
    def ok(self) -> int:
        return self.codes.get("250", 0)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))]


_MAIL = f"MAIL FROM:<{SENDER}>\r\n".encode()
_RCPT = f"RCPT TO:<{RECIPIENT}>\r\n".encode()


async def _transaction(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: bytes, pipelining: bool = False) -> int:
    if pipelining:
        writer.write(_MAIL + _RCPT + b"DATA\r\n")
        codes = [await _reply(reader) for _ in range(3)]
        if codes[2] == 354:
            writer.write(wire if codes[:2] == [250, 250] else b".\r\n")
            final = await _reply(reader)
            return final if codes[:2] == [250, 250] else codes[0] if codes[0] != 250 else codes[1]
        return codes[0] if codes[0] != 250 else codes[1] if codes[1] != 250 else codes[2]
    writer.write(_MAIL)
    code = await _reply(reader)
    if code != 250:
        return code
    writer.write(_RCPT)
    code = await _reply(reader)
    if code != 250:
        return code
    writer.write(b"DATA\r\n")
    code = await _reply(reader)
    if code != 354:
        return code
    writer.write(wire)
    return await _reply(reader)


PIPELINING = True  # use PIPELINING when the server offers it, as Postfix does (--no-pipelining)


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int, bool]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**20)
    code = await _reply(reader)
    if code != 220:
        writer.close()
        return reader, writer, code, False
    writer.write(b"EHLO client.bench\r\n")
    pipelining = False
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        pipelining = pipelining or line[4:].strip().upper() == b"PIPELINING"
        if line[3:4] != b"-":
            break
    code = int(line[:3])
    return reader, writer, 220 if code == 250 else code, pipelining and PIPELINING


async def closed_loop(port: int, wires: Sequence[bytes], total: int, concurrency: int, label: str, timeout: float = 300) -> Stats:
    """`concurrency` persistent connections send `total` messages, one after another."""
    stats = Stats(label)
    counter = iter(range(total))

    async def session() -> None:
        reader = writer = None
        pipelining = False
        for index in counter:
            wire = wires[index % len(wires)]
            try:
                if writer is None:
                    reader, writer, code, pipelining = await asyncio.wait_for(_connect(port), timeout)
                    if code != 220:
                        stats.codes[str(code)] += 1
                        writer = None
                        continue
                assert reader is not None
                started = time.perf_counter()
                code = await asyncio.wait_for(_transaction(reader, writer, wire, pipelining), timeout)
                stats.latencies.append(time.perf_counter() - started)
                stats.codes[str(code)] += 1
                if code != 250:
                    writer.write(b"RSET\r\n")
                    await _reply(reader)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
                stats.codes[f"error:{type(exc).__name__}"] += 1
                if writer is not None:
                    writer.close()
                writer = None
            stats.sent += 1
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.write(b"QUIT\r\n")
                await writer.drain()
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(session() for _ in range(concurrency)))
    stats.elapsed = time.perf_counter() - started
    return stats


async def open_loop(port: int, wires: Sequence[bytes], rate: float, seconds: float, max_clients: int, label: str, timeout: float = 120) -> Stats:
    """Messages arrive at `rate` per second for `seconds`, whatever the answers.

    Like a sending MTA with a connection cache, a message goes over an idle connection
    when there is one and opens a new one otherwise; at most `max_clients` messages are
    in progress at once (an arrival beyond that is counted as not sent).
    """
    stats = Stats(label)
    tasks: set[asyncio.Task[None]] = set()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]] = []

    async def one(wire: bytes) -> None:
        conn = idle.pop() if idle else None
        writer = None
        try:
            started = time.perf_counter()
            if conn is None:
                reader, writer, code, pipelining = await asyncio.wait_for(_connect(port), timeout)
                if code != 220:
                    stats.codes[str(code)] += 1
                    writer.close()
                    return
            else:
                reader, writer, pipelining = conn
            code = await asyncio.wait_for(_transaction(reader, writer, wire, pipelining), timeout)
            stats.latencies.append(time.perf_counter() - started)
            stats.codes[str(code)] += 1
            if code == 421:
                writer.close()
                return
            if code != 250:
                writer.write(b"RSET\r\n")
                await asyncio.wait_for(_reply(reader), timeout)
            idle.append((reader, writer, pipelining))
        except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
            stats.codes[f"error:{type(exc).__name__}"] += 1
            if writer is not None:
                writer.close()

    loop = asyncio.get_running_loop()
    started = loop.time()
    index = 0
    while True:
        due = started + index / rate
        now = loop.time()
        if due - started >= seconds:
            break
        if due > now:
            await asyncio.sleep(due - now)
        if len(tasks) >= max_clients:
            stats.codes["not_sent:client_cap"] += 1
        else:
            task = loop.create_task(one(wires[index % len(wires)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            stats.sent += 1
        index += 1
    if tasks:
        await asyncio.gather(*tasks)
    stats.elapsed = loop.time() - started
    for _reader, writer, _pipelining in idle:
        writer.close()
    return stats


# ----------------------------------------------------------------------------- runs


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.root = Path(tempfile.mkdtemp(prefix="dlp-bench-"))
        self.mp = multiprocessing.get_context("spawn")
        self.sink_count = self.mp.Value("q", 0, lock=False)
        self.sink_port = free_port()
        self.relay_port = free_port()
        self.procs: list[Any] = []
        self.gateways: list[GatewayProc] = []
        self.lines: list[str] = []

    def __enter__(self) -> Bench:
        sink = self.mp.Process(target=sink_process, args=(self.sink_port, self.sink_count), daemon=True)
        sink.start()
        self.procs.append(sink)
        wait_listening(self.sink_port)
        relay = self.mp.Process(target=relay_process, args=(self.relay_port, self.sink_port), daemon=True)
        relay.start()
        self.procs.append(relay)
        wait_listening(self.relay_port)
        self.relay_pid = relay.pid
        return self

    def __exit__(self, *exc: object) -> None:
        for gateway in self.gateways:
            gateway.stop()
        for proc in self.procs:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
                proc.join(10)
            if proc.is_alive():
                proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    def gateway(self, name: str, workers: int | None, extra: dict[str, Any] | None = None) -> GatewayProc:
        gateway = start_gateway(self.root, name, self.sink_port, workers, extra, self.args.cprofile)
        self.gateways.append(gateway)
        return gateway

    def stop_gateway(self, gateway: GatewayProc) -> None:
        gateway.stop()
        self.gateways.remove(gateway)

    def out(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    async def rounds(self, targets: list[tuple[str, int, int]], wires: Sequence[bytes], per_round: int, rounds: int, concurrency: int) -> dict[str, Stats]:
        """Alternate the targets round by round; return the merged stats per target."""
        merged = {label: Stats(label) for label, _, _ in targets}
        for label, port, _pid in targets:  # warm-up: connections, workers, caches
            await closed_loop(port, wires, min(per_round, 4 * concurrency), concurrency, label)
        for number in range(rounds):
            for label, port, pid in targets:
                main_before, tree_before = tree_cpu(pid)
                load_before = time.process_time() + _cpu_seconds(self.procs[0].pid)
                with MemoryPeak(pid) as memory:
                    stats = await closed_loop(port, wires, per_round, concurrency, label)
                main_after, tree_after = tree_cpu(pid)
                load_after = time.process_time() + _cpu_seconds(self.procs[0].pid)
                total = merged[label]
                total.sent += stats.sent
                total.elapsed += stats.elapsed
                total.latencies += stats.latencies
                total.codes.update(stats.codes)
                total.rss, total.pss = max(total.rss, memory.rss), max(total.pss, memory.pss)
                total.cpu_main += main_after - main_before
                total.cpu_tree += tree_after - tree_before
                total.cpu_load += load_after - load_before
                print(
                    f"  round {number + 1} {label:<22} {stats.rate:7.1f} msg/s  p50 {stats.pct(0.5) * 1000:6.1f} ms"
                    f"  p99 {stats.pct(0.99) * 1000:6.1f} ms  RSS {memory.rss / 2**20:5.0f} MB"
                    f"  PSS {memory.pss / 2**20:5.0f} MB  {dict(stats.codes)}",
                    flush=True,
                )
        return merged

    def table(self, title: str, results: list[Stats], note: str = "") -> None:
        self.out(f"### {title}")
        self.out()
        if note:
            self.out(note)
            self.out()
        self.out("| target | messages | msg/s | p50 ms | p99 ms | CPU ms/msg: process | CPU ms/msg: tree "
                 "| CPU ms/msg: client + sink | peak RSS MB (tree) | peak PSS MB (tree) | replies |")
        self.out("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for s in results:
            codes = ", ".join(f"{k}: {v}" for k, v in sorted(s.codes.items()))
            self.out(
                f"| {s.label} | {s.sent} | {s.rate:.1f} | {s.pct(0.5) * 1000:.1f} | {s.pct(0.99) * 1000:.1f} "
                f"| {_per_message(s.cpu_main, s.sent)} | {_per_message(s.cpu_tree, s.sent)} "
                f"| {_per_message(s.cpu_load, s.sent)} "
                f"| {s.rss / 2**20:.0f} | {s.pss / 2**20:.0f} | {codes} |"
            )
        self.out()

    # ------------------------------------------------------------------ profiles

    async def common(self) -> float:
        args = self.args
        wires = [dot_stuff(m) for m in common_mix(200)]
        largest = max(len(w) for w in wires)
        gateway = self.gateway("common", args.workers)
        targets = [("bare relay", self.relay_port, self.relay_pid), ("gateway", gateway.port, gateway.process.pid)]
        variants = []
        for number, setting in enumerate(args.variant or []):  # e.g. smtp.event_loop=asyncio
            key, _, value = setting.partition("=")
            import yaml

            variant = self.gateway(f"variant-{number}", args.workers, {key: yaml.safe_load(value)})
            variants.append(variant)
            targets.append((f"gateway, {setting}", variant.port, variant.process.pid))
        merged = await self.rounds(targets, wires, args.messages, args.rounds, args.concurrency)
        for running in [gateway, *variants]:
            self.stop_gateway(running)
        relay, gw = merged["bare relay"], merged["gateway"]
        self.table(
            f"Common mix (70% text, 20% PDF, 10% DOCX; clean), concurrency {args.concurrency}, "
            f"{args.rounds} alternating rounds of {args.messages}",
            [relay, gw, *(merged[label] for label, _, _ in targets[2:])],
        )
        throughput = gw.rate / relay.rate if relay.rate else float("nan")
        p99 = gw.pct(0.99) / relay.pct(0.99) if relay.latencies else float("nan")
        budget = 300 * 2**20 + 3 * largest
        self.out(f"- gateway / bare relay throughput: **{throughput:.2f}×** (target ≥ 1.0×)")
        self.out(f"- gateway / bare relay p99 latency: **{p99:.2f}×** (target ≤ 1.5×)")
        self.out(
            f"- gateway peak memory: RSS {gw.rss / 2**20:.0f} MB, PSS {gw.pss / 2**20:.0f} MB; "
            f"budget 300 MB + 3 × {largest / 2**10:.0f} KB = {budget / 2**20:.0f} MB"
        )
        self.out()
        return gw.rate

    async def cheap_path(self) -> None:
        """Plain-text mail inspected in the gateway process vs sent to a worker."""
        args = self.args
        wires = [dot_stuff(m) for m in common_mix(200, seed=4)]
        pool = self.gateway("pool-only", None)
        inline = self.gateway("inline", None, {"workers.inline_max_bytes": 65536})
        merged = await self.rounds(
            [("every message to a worker", pool.port, pool.process.pid),
             ("plain text ≤ 64 KB in-process", inline.port, inline.process.pid)],
            wires, args.messages, max(1, args.rounds - 1), args.concurrency,
        )
        self.stop_gateway(pool)
        self.stop_gateway(inline)
        self.table(
            f"Cheap path (workers.inline_max_bytes), common mix, concurrency {args.concurrency}",
            list(merged.values()),
        )

    async def heavy(self) -> None:
        args = self.args
        wires = [dot_stuff(m) for m in heavy_mix(12)]
        largest = max(len(w) for w in wires)
        one = self.gateway("heavy-1", 1)
        two = self.gateway("heavy-2", 2)
        merged = await self.rounds(
            [
                ("bare relay", self.relay_port, self.relay_pid),
                ("gateway, 1 worker", one.port, one.process.pid),
                ("gateway, 2 workers", two.port, two.process.pid),
            ],
            wires, args.heavy_messages, args.rounds, args.concurrency,
        )
        self.stop_gateway(one)
        self.stop_gateway(two)
        self.table(
            f"Attachment-heavy (20-page PDFs; ZIP of two 8-page PDFs and a DOCX), concurrency {args.concurrency}, "
            f"{args.rounds} alternating rounds of {args.heavy_messages}",
            list(merged.values()),
            note=f"Largest message {largest / 2**10:.0f} KB.",
        )
        g1, g2 = merged["gateway, 1 worker"], merged["gateway, 2 workers"]
        scale = g2.rate / g1.rate if g1.rate else float("nan")
        budget = 300 * 2**20 + 3 * largest
        self.out(f"- 2 workers / 1 worker throughput: **{scale:.2f}×** (target ≥ 1.6×)")
        self.out(
            f"- gateway (2 workers) peak memory: RSS {g2.rss / 2**20:.0f} MB, PSS {g2.pss / 2**20:.0f} MB; "
            f"budget {budget / 2**20:.0f} MB"
        )
        self.out()

    async def overload(self, sustainable: float | None) -> None:
        args = self.args
        wires = [dot_stuff(m) for m in common_mix(200, seed=3)]
        largest = max(len(w) for w in wires)
        gateway = self.gateway("overload", None)
        if sustainable is None:
            probe = await closed_loop(gateway.port, wires, args.messages, args.concurrency, "probe")
            sustainable = probe.rate
        rate = 2 * sustainable
        before = self.sink_count.value
        with MemoryPeak(gateway.process.pid) as memory:
            stats = await open_loop(gateway.port, wires, rate, args.overload_seconds, args.max_clients, "gateway, overload")
            # Deliveries after the reply (none expected) would show up here.
            await asyncio.sleep(2)
        stats.rss, stats.pss = memory.rss, memory.pss
        delivered = self.sink_count.value - before
        quarantine = _count_quarantined(gateway.data_dir)
        alive = gateway.process.poll() is None
        self.stop_gateway(gateway)
        self.table(
            f"Overload: {rate:.0f} msg/s offered (2 × {sustainable:.0f}) for {args.overload_seconds:g} s, "
            f"open loop, idle connections reused, at most {args.max_clients} messages in progress",
            [stats],
        )
        definite = sum(v for k, v in stats.codes.items() if k[:1] in "2345")
        self.out(f"- offered {stats.sent + stats.codes.get('not_sent:client_cap', 0)}, sent {stats.sent}, definite SMTP answers {definite} "
                 f"(2xx {sum(v for k, v in stats.codes.items() if k[:1] == '2')}, "
                 f"4xx {sum(v for k, v in stats.codes.items() if k[:1] == '4')}, "
                 f"5xx {sum(v for k, v in stats.codes.items() if k[:1] == '5')}), "
                 f"no answer {stats.sent - definite}")
        self.out(f"- 250 answers {stats.ok}; at the sink {delivered}; in quarantine {quarantine}; "
                 f"lost {max(0, stats.ok - delivered - quarantine)}")
        budget = 300 * 2**20 + 3 * largest
        self.out(f"- peak memory: RSS {stats.rss / 2**20:.0f} MB, PSS {stats.pss / 2**20:.0f} MB (budget {budget / 2**20:.0f} MB); "
                 f"gateway still running afterwards: {alive}")
        self.out()


def _count_quarantined(data_dir: Path) -> int:
    """Messages the quarantine holds (files under <data-dir>/quarantine, index excluded)."""
    root = data_dir / "quarantine"
    if not root.is_dir():
        return 0
    return sum(1 for p in root.rglob("*") if p.is_file() and p.suffix in ("", ".eml"))


async def main_async(args: argparse.Namespace) -> int:
    with Bench(args) as bench:
        bench.out("## dlp-gateway relay benchmark")
        bench.out()
        bench.out(
            f"Machine: {os.cpu_count()} CPUs (`nproc` {len(os.sched_getaffinity(0))}), {platform.machine()}, "
            f"Linux {platform.release()}, Python {platform.python_version()}. "
            f"Command: `python3 bench/relay_bench.py {' '.join(sys.argv[1:])}`".rstrip()
        )
        bench.out()
        sustainable = None
        if args.profile in ("all", "common"):
            sustainable = await bench.common()
        if args.profile in ("all", "cheap-path"):
            await bench.cheap_path()
        if args.profile in ("all", "heavy"):
            await bench.heavy()
        if args.profile in ("all", "overload"):
            await bench.overload(sustainable)
        if args.markdown:
            Path(args.markdown).write_text("\n".join(bench.lines) + "\n")
            print(f"(written to {args.markdown})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds and a 10 s overload")
    parser.add_argument("--profile", choices=["all", "common", "cheap-path", "heavy", "overload"], default="all")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections (default 8)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per profile (default 6; quick 2)")
    parser.add_argument("--messages", type=int, help="messages per round, common mix (default 750; quick 400)")
    parser.add_argument("--heavy-messages", type=int, help="messages per round, heavy profile (default 30; quick 24)")
    parser.add_argument("--overload-seconds", type=float, help="length of the overload run (default 30; quick 10)")
    parser.add_argument("--max-clients", type=int, default=1000, help="client connections open at most during overload")
    parser.add_argument("--workers", type=int, help="inspection workers of the gateway, common mix (default: the gateway's own default)")
    parser.add_argument("--variant", action="append", metavar="KEY=VALUE",
                        help="common mix: also run a gateway with this setting changed, in the same rounds (repeatable)")
    parser.add_argument("--no-pipelining", action="store_true", help="never pipeline commands, even when offered")
    parser.add_argument("--cprofile", metavar="DIR", help="run each gateway under cProfile, writing DIR/<run>.prof")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables to this markdown file")
    args = parser.parse_args(argv)
    global PIPELINING
    PIPELINING = not args.no_pipelining
    quick = args.quick
    # More, shorter rounds: this machine's speed drifts by ~20% over tens of seconds,
    # and finer alternation spreads the drift evenly over the targets.
    args.rounds = args.rounds or (2 if quick else 6)
    args.messages = args.messages or (400 if quick else 750)
    args.heavy_messages = args.heavy_messages or (24 if quick else 30)
    args.overload_seconds = args.overload_seconds or (10.0 if quick else 30.0)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
