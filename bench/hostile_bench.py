"""Benchmark: clean mail through the gateway while hostile clients attack it (issue #13).

    python3 bench/hostile_bench.py                 # 60 s without attack, 60 s with (about 3 minutes)
    python3 bench/hostile_bench.py --seconds 20    # shorter
    python3 bench/hostile_bench.py --markdown FILE # also write the table

It starts, on loopback, relay_bench's counting sink and the real gateway (shipped
policy, the sink as its next hop, default smtp settings), then sends clean mail (the
common mix of relay_bench: 70% text, 20% PDF, 10% DOCX) open loop at --rate messages a
second, twice for --seconds each:

1. alone: the baseline;
2. while three attacks run at once:
   - HTML poison: --poison clients, each sending, one after another, text/html messages
     whose body is 30 KB of `<a ` (quadratic in Python's html.parser, CVE-2025-6069);
   - slowloris: as many clients as smtp.max_connections, each connecting and dribbling
     a command a byte a second, reconnecting when cut off;
   - unfinished DATA: --unfinished clients, each sending 40 MB of DATA without the final
     dot, again and again.

Reported: clean mail's p50/p99 latency (MAIL FROM to the reply to the end of DATA, a
new connection's greeting included when one was needed) and its answers, the gateway
process tree's peak memory (sum of RSS and of PSS) in each phase, and messages lost:
every clean or poison message answered 250 must be at the sink or in the quarantine.
Targets: p99 under attack ≤ 2 × without, peak memory growth ≤ 200 MB, nothing lost.

HTML poison resistance depends on the HTML reader (content/), not on the SMTP server:
what this measures on a branch is that branch's reader.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relay_bench import (  # noqa: E402 - a script next to this one
    Bench,
    MemoryPeak,
    Stats,
    _count_quarantined,
    _cpu_seconds,
    _reply,
    common_mix,
    dot_stuff,
    open_loop,
)

POISON_BODY = b"<a " * 10_000  # 30 KB


def poison_message(n: int) -> bytes:
    head = (
        f"From: <news@example.test>\r\nTo: <desk@mofa.example>\r\nSubject: poison {n}\r\n"
        f"Message-ID: <poison-{n}-{time.time_ns()}@example.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
    ).encode()
    return dot_stuff(head + POISON_BODY + b"\r\n")


async def _session(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if await _reply(reader) != 220:
        writer.close()
        return None
    writer.write(b"EHLO attacker.bench\r\n")
    if await _reply(reader) != 250:
        writer.close()
        return None
    return reader, writer


async def _transaction_start(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
    for line, code in ((b"MAIL FROM:<news@example.test>\r\n", 250), (b"RCPT TO:<desk@mofa.example>\r\n", 250),
                       (b"DATA\r\n", 354)):
        writer.write(line)
        if await _reply(reader) != code:
            return False
    return True


class Attack:
    """The three attacks as asyncio tasks; counts what they got."""

    def __init__(self, port: int, args: argparse.Namespace) -> None:
        self.port, self.args = port, args
        self.stop = asyncio.Event()
        self.codes: Counter[str] = Counter()
        self.poison_ok = 0

    async def _forever(self, name: str, one: Any) -> None:
        while not self.stop.is_set():
            try:
                await one()
            except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                self.codes[f"{name}:{type(exc).__name__}"] += 1
                await asyncio.sleep(0.2)

    async def poison(self) -> None:
        n = 0

        async def one() -> None:
            nonlocal n
            session = await _session(self.port)
            if session is None:
                self.codes["poison:refused at connect"] += 1
                await asyncio.sleep(0.5)
                return
            reader, writer = session
            try:
                while not self.stop.is_set():
                    n += 1
                    if not await _transaction_start(reader, writer):
                        self.codes["poison:refused"] += 1
                        return
                    writer.write(poison_message(n))
                    code = await asyncio.wait_for(_reply(reader), 600)
                    self.codes[f"poison:{code}"] += 1
                    if code == 250:
                        self.poison_ok += 1
                    elif code == 421:
                        return
                    else:
                        writer.write(b"RSET\r\n")
                        await _reply(reader)
            finally:
                writer.close()

        await self._forever("poison", one)

    async def slowloris(self) -> None:
        async def one() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                greeting = await reader.readline()
                self.codes[f"slowloris:greeting {greeting[:3].decode(errors='replace')}"] += 1
                while not self.stop.is_set() and not reader.at_eof():
                    writer.write(b"E")
                    await writer.drain()
                    with contextlib.suppress(TimeoutError):
                        line = await asyncio.wait_for(reader.readline(), 1.0)
                        if line:
                            self.codes[f"slowloris:cut {line[:3].decode(errors='replace')}"] += 1
                        return
            finally:
                writer.close()
            await asyncio.sleep(0.1)

        await self._forever("slowloris", one)

    async def unfinished(self) -> None:
        block = (b"x" * 1023 + b"\n") * 1024  # 1 MiB

        async def one() -> None:
            session = await _session(self.port)
            if session is None:
                self.codes["unfinished:refused at connect"] += 1
                await asyncio.sleep(0.5)
                return
            reader, writer = session
            try:
                if not await _transaction_start(reader, writer):
                    self.codes["unfinished:refused"] += 1
                    return
                for _ in range(40):  # 40 MB, and never the final dot
                    if self.stop.is_set() or reader.at_eof():
                        break
                    writer.write(block)
                    await writer.drain()
                self.codes["unfinished:40 MB sent"] += 1
                with contextlib.suppress(TimeoutError):
                    line = await asyncio.wait_for(reader.readline(), 120)
                    self.codes[f"unfinished:cut {line[:3].decode(errors='replace') or 'closed'}"] += 1
            finally:
                writer.close()

        await self._forever("unfinished", one)

    def start(self, slow_clients: int) -> list[asyncio.Task[None]]:
        loop = asyncio.get_running_loop()
        attacks = self.args.attacks
        tasks = [loop.create_task(self.poison()) for _ in range(self.args.poison if "poison" in attacks else 0)]
        tasks += [loop.create_task(self.slowloris()) for _ in range(slow_clients if "slowloris" in attacks else 0)]
        tasks += [loop.create_task(self.unfinished())
                  for _ in range(self.args.unfinished if "unfinished" in attacks else 0)]
        return tasks


def attacker_process(port: int, args: argparse.Namespace, stop: Any, results: Any) -> None:
    """The attack in its own process, so that its CPU does not slow the clean client's loop."""

    async def main() -> None:
        attack = Attack(port, args)
        tasks = attack.start(args.slow_clients)
        while not stop.is_set():
            await asyncio.sleep(0.2)
        attack.stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        results.put((attack.poison_ok, dict(attack.codes)))

    asyncio.run(main())


async def phase(bench: Bench, gateway: Any, wires: list[bytes], args: argparse.Namespace, label: str,
                attack: bool) -> tuple[Stats, int, int, dict[str, int]]:
    """Clean mail for args.seconds (with the attack running, if any);
    (stats, sink delta, poison messages answered 250, what the attackers got)."""
    before = bench.sink_count.value
    stop, results = bench.mp.Event(), bench.mp.Queue()
    attacker = None
    with MemoryPeak(gateway.process.pid, interval=0.1) as memory:
        if attack:
            attacker = bench.mp.Process(target=attacker_process, args=(gateway.port, args, stop, results), daemon=True)
            attacker.start()
            await asyncio.sleep(args.warmup)  # let the attackers take hold
        cpu_before = _cpu_seconds(gateway.process.pid)
        stats = await open_loop(gateway.port, wires, args.rate, args.seconds, 1000, label, timeout=300)
        stats.cpu_main = _cpu_seconds(gateway.process.pid) - cpu_before
        poison_ok, codes = 0, {}
        if attacker is not None:
            stop.set()
            poison_ok, codes = await asyncio.to_thread(results.get, True, 120)
            attacker.join(10)
        await asyncio.sleep(3)  # deliveries still under way
    stats.rss, stats.pss = memory.rss, memory.pss
    return stats, bench.sink_count.value - before, poison_ok, codes


async def main_async(args: argparse.Namespace) -> int:
    bench_args = argparse.Namespace(cprofile=None)
    with Bench(bench_args) as bench:
        import yaml

        extra = {k: yaml.safe_load(v) for k, _, v in (item.partition("=") for item in args.set or [])}
        gateway = bench.gateway("hostile", args.workers, extra)
        wires = [dot_stuff(m) for m in common_mix(200, seed=5)]
        await open_loop(gateway.port, wires, args.rate, 3, 100, "warm-up")
        bench.out("## dlp-gateway under attack (bench/hostile_bench.py)")
        bench.out()
        bench.out(
            f"Machine: {os.cpu_count()} CPUs, {platform.machine()}, Linux {platform.release()}, "
            f"Python {platform.python_version()}. Command: `python3 bench/hostile_bench.py {' '.join(sys.argv[1:])}`".rstrip()
        )
        bench.out()
        base, base_sink, _, _ = await phase(bench, gateway, wires, args, "clean mail alone", False)
        hit, hit_sink, poison_ok, attack_codes = await phase(bench, gateway, wires, args, "clean mail under attack", True)
        quarantined = _count_quarantined(gateway.data_dir)
        alive = gateway.process.poll() is None
        bench.stop_gateway(gateway)

        described = {
            "poison": f"{args.poison} HTML-poison clients (30 KB of `<a `)",
            "slowloris": f"{args.slow_clients} slowloris clients",
            "unfinished": f"{args.unfinished} clients sending 40 MB of DATA without the final dot",
        }
        bench.out(f"Clean mail open loop at {args.rate:g} msg/s for {args.seconds:g} s per phase; attack: "
                  + ", ".join(described[a] for a in args.attacks) + ".")
        bench.out()
        bench.out("| phase | clean sent | clean 250 | p50 ms | p99 ms | gateway process CPU % | peak RSS MB (tree) "
                  "| peak PSS MB (tree) | clean replies |")
        bench.out("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for s in (base, hit):
            codes = ", ".join(f"{k}: {v}" for k, v in sorted(s.codes.items()))
            bench.out(f"| {s.label} | {s.sent} | {s.ok} | {s.pct(0.5) * 1000:.0f} | {s.pct(0.99) * 1000:.0f} "
                      f"| {s.cpu_main / args.seconds * 100:.0f} | {s.rss / 2**20:.0f} | {s.pss / 2**20:.0f} | {codes} |")
        bench.out()
        ratio = hit.pct(0.99) / base.pct(0.99) if base.latencies and hit.latencies else float("nan")
        growth_rss = (hit.rss - base.rss) / 2**20
        growth_pss = (hit.pss - base.pss) / 2**20
        answered_250 = base.ok + hit.ok + poison_ok
        at_sink = base_sink + hit_sink
        lost = max(0, answered_250 - at_sink - quarantined)
        bench.out(f"- clean p99 under attack / without: **{ratio:.2f}×** (target ≤ 2×)")
        bench.out(f"- peak memory growth under attack: RSS **{growth_rss:+.0f} MB**, PSS **{growth_pss:+.0f} MB** "
                  "(target ≤ 200 MB)")
        bench.out(f"- answered 250: {answered_250} (clean {base.ok + hit.ok}, poison {poison_ok}); at the sink "
                  f"{at_sink}; in quarantine {quarantined}; lost **{lost}** (target 0); gateway alive: {alive}")
        bench.out(f"- what the attackers got: {', '.join(f'{k}: {v}' for k, v in sorted(attack_codes.items()))}")
        bench.out()
        if args.markdown:
            Path(args.markdown).write_text("\n".join(bench.lines) + "\n")
            print(f"(written to {args.markdown})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase (default 60)")
    parser.add_argument("--rate", type=float, default=4.0, help="clean messages per second (default 4)")
    parser.add_argument("--poison", type=int, default=4, help="HTML-poison clients (default 4)")
    parser.add_argument("--slow-clients", type=int, default=200,
                        help="slowloris clients (default 200: the default smtp.max_connections)")
    parser.add_argument("--unfinished", type=int, default=8, help="clients sending unfinished 40 MB DATA (default 8)")
    parser.add_argument("--attacks", type=lambda v: [a for a in v.split(",") if a],
                        default=["poison", "slowloris", "unfinished"],
                        help="which attacks, comma-separated (default poison,slowloris,unfinished)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds the attack runs before clean mail starts")
    parser.add_argument("--workers", type=int, help="inspection workers (default: the gateway's own default)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="a gateway setting, e.g. smtp.shed_after=1 (repeatable)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table to this markdown file")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
