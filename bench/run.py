"""`make bench`: measure Orderline beside the stock RQ baseline and the lean limit, in one run.

Every system gets the same machine, the same redis-server (the shipped persistence settings), the
same number of web and worker processes, and the same load generator (wrk replaying
pre-generated requests, each sent once). Two passes per system: saturation (as fast as wrk can
send: throughput) and a fixed modest rate (latency without a backlog). Results print as a table
with the ratios; `--doc` rewrites the results section of docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import generate  # noqa: E402
from bench.harness import Procs, Result, percentile, wait_http, wrk  # noqa: E402
from bench.systems import PY, Baseline, FlaskLpush, Lean, Orderline, OrderlineLocalStore, System  # noqa: E402
from tests.support.redis_server import RedisServer, free_port  # noqa: E402


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="orderline-bench-"))
        self.log_dir = ROOT / "bench" / "logs"
        self.log_dir.mkdir(exist_ok=True)
        self.redis = RedisServer(extra_args=("--appendonly", "yes", "--appendfsync", "everysec")).start()
        self.r = redis.Redis.from_url(self.redis.url)
        self._mongo = None

    @property
    def mongo_uri(self) -> str:
        """A MongoDB wire server (over mongomock) in its own process, started on first use."""
        if self._mongo is None:
            self._mongo = subprocess.Popen([PY, "-m", "tests.support.mongo_wire", "--port", "0"], cwd=ROOT,
                                           stdout=subprocess.PIPE, text=True,
                                           env={**os.environ, "PYTHONPATH": str(ROOT)})
            self._mongo_uri = self._mongo.stdout.readline().strip()
        return self._mongo_uri

    def close(self) -> None:
        self.redis.stop()
        if self._mongo is not None:
            self._mongo.terminate()
            self._mongo.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def measure(self, system: System) -> Result:
        result = Result(system.name)
        for phase in getattr(system, "passes", ("saturation", "paced")):
            self.r.flushall()
            procs = Procs(self.log_dir)
            port = free_port()
            env = system.env()
            try:
                system.prepare()
                procs.start(f"{system.__class__.__name__}-web", system.web_cmd(port), env)
                if system.e2e and system.workers_cmd and phase != "ingress":
                    for i in range(self.args.workers):
                        procs.start(f"{system.__class__.__name__}-worker{i}", system.workers_cmd, env)
                wait_http(port)
                if phase == "ingress":  # the web tier alone (workers stopped), like bare Flask+LPUSH
                    self._ingress(system, port, result)
                elif phase == "saturation":
                    self._saturate(system, port, result)
                elif system.e2e:
                    self._paced(system, port, result)
            finally:
                procs.stop()
            if not system.e2e:
                break
        return result

    def _ingress(self, system: System, port: int, result: Result) -> None:
        file = generate.write(str(self.tmp / "ingress.txt"), system.requests(self.args.messages))
        w = wrk(port, file, self.args.connections)
        result.extra["ingress_only"] = {"rps": self.args.messages / w["duration"], "p50_ms": w["p50"],
                                        "p99_ms": w["p99"], "non2xx": w["non2xx"]}

    def _saturate(self, system: System, port: int, result: Result) -> None:
        n = self.args.messages
        file = generate.write(str(self.tmp / "sat.txt"), system.requests(n))
        cpu0 = redis_main_thread_cpu(self.r)
        start = time.time()
        w = wrk(port, file, self.args.connections)
        result.sent, result.ingress_rps = n, n / w["duration"]
        result.ingress_p50_ms, result.ingress_p99_ms = w["p50"], w["p99"]
        result.extra["non2xx"] = w["non2xx"]
        if not system.e2e:
            return
        done = self._wait_done(system, n, start)
        if isinstance(system, Orderline) and not isinstance(system, OrderlineLocalStore):
            from bench.extras import redis_bytes

            result.extra["redis"] = redis_bytes(self.r)
            # Redis runs commands on one thread: its CPU per message bounds one Redis (docs/deploy.md)
            cpu = redis_main_thread_cpu(self.r) - cpu0
            result.extra["redis_cpu_us_per_message"] = round(cpu / max(1, done["count"]) * 1e6, 1)
            result.extra["redis_main_thread_busy"] = round(cpu / done["elapsed"], 2)
        result.processed = done["count"]
        result.e2e_mps = done["count"] / done["elapsed"]
        lat = system.latencies(self.r)
        result.e2e_p50_ms, result.e2e_p99_ms = percentile(lat, 50), percentile(lat, 99)

    def _paced(self, system: System, port: int, result: Result) -> None:
        seconds, connections, pause = self.args.paced_seconds, 4, int(4000 / self.args.paced_rate)
        n = int(self.args.paced_rate * seconds)
        # the same conversation mix as the saturation pass (each customer walks the whole conversation)
        mix = {"customers": max(1, n // len(generate.CONVERSATION))} if isinstance(system, Orderline) else {}
        file = generate.write(str(self.tmp / "paced.txt"), system.requests(n, **mix))
        start = time.time()
        voice = []
        if hasattr(system, "voice_turns"):  # phone calls while the paced load runs
            import threading

            t = threading.Thread(target=lambda: voice.extend(system.voice_turns(port)))
            t.start()
        w = wrk(port, file, connections, pause_ms=pause)
        if hasattr(system, "voice_turns"):
            t.join()
            result.extra["voice_p50_ms"], result.extra["voice_p95_ms"] = percentile(voice, 50), percentile(voice, 95)
            result.extra["voice_turns"] = len(voice)
        result.paced_rate = n / w["duration"]
        self._wait_done(system, n, start)
        lat = system.latencies(self.r)
        result.paced_e2e_p50_ms, result.paced_e2e_p99_ms = percentile(lat, 50), percentile(lat, 99)

    def _wait_done(self, system: System, n: int, start: float) -> dict:
        deadline = time.time() + self.args.drain_timeout
        count, last_change, last = 0, time.time(), -1
        while time.time() < deadline:
            count = system.done_count(self.r)
            if count != last:
                last, last_change = count, time.time()
            if count >= n:
                break
            time.sleep(0.02)
        return {"count": count, "elapsed": max(1e-9, last_change - start)}


def redis_main_thread_cpu(r) -> float:
    info = r.info("cpu")
    return info["used_cpu_sys_main_thread"] + info["used_cpu_user_main_thread"]


def table(results: list[Result]) -> str:
    head = ("system", "ingress req/s", "ingress p50/p99 ms", "e2e msg/s", "e2e p50/p99 ms (saturated)",
            "e2e p50/p99 ms (paced)")
    rows = [head]
    for r in results:
        rows.append((r.system, f"{r.ingress_rps:,.0f}", f"{r.ingress_p50_ms:.1f} / {r.ingress_p99_ms:.1f}",
                     f"{r.e2e_mps:,.0f}" if r.e2e_mps else "-",
                     f"{r.e2e_p50_ms:,.0f} / {r.e2e_p99_ms:,.0f}" if r.e2e_mps else "-",
                     f"{r.paced_e2e_p50_ms:.1f} / {r.paced_e2e_p99_ms:.1f} @ {r.paced_rate:,.0f}/s"
                     if r.paced_rate else "-"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run")
    p.add_argument("--messages", type=int, default=20000, help="messages per saturation pass")
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2, help="worker processes per system")
    p.add_argument("--web", type=int, default=2, help="gunicorn web processes per system")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--paced-rate", type=float, default=200, help="messages/s in the latency pass")
    p.add_argument("--paced-seconds", type=float, default=10)
    p.add_argument("--drain-timeout", type=float, default=120)
    p.add_argument("--only", default="", help="comma-separated: baseline,lean,flask,orderline,model")
    p.add_argument("--no-model", action="store_true", help="skip the model-in-the-loop pass")
    p.add_argument("--json", default=str(ROOT / "bench" / "results.json"))
    p.add_argument("--doc", action="store_true", help="write the results into docs/performance.md")
    p.add_argument("--parse-only", action="store_true",
                   help="only the parser's measurements (10,000-product catalog, adversarial corpus); no wrk")
    args = p.parse_args(argv)
    if args.parse_only:
        return parse_only()
    if not shutil.which("wrk"):
        print("bench needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    bench = Bench(args)
    chosen = {"baseline": Baseline, "lean": Lean, "flask": FlaskLpush, "orderline": Orderline,
              "orderline-local": OrderlineLocalStore}
    names = [n for n in (args.only.split(",") if args.only else [k for k in chosen if k != "orderline-local"]) if n]
    from bench import model

    with_model, names = model.requested(args, names)
    results, model_pass = [], None
    try:
        for name in names:
            print(f"measuring {name}...", flush=True)
            results.append(bench.measure(chosen[name](bench)))
            print(f"  {json.dumps(asdict(results[-1]))}", flush=True)
        model_pass = model.run(bench) if with_model else None
    finally:
        bench.close()
    if not args.only or "orderline" in names:
        from bench.extras import parse_times

        print("measuring offline parsing on a 10,000-product catalog...", flush=True)
        parse = parse_times()
        print(f"  {json.dumps(parse)}")
        parse["adversarial"] = adversarial()
    else:
        parse = None
    print()
    print(table(results))
    by = dict(zip(names, results, strict=True))
    ratios = ratios_of(by)
    for line in ratios["lines"]:
        print(line)
    o = by.get("orderline")
    if o and o.extra.get("redis"):
        red = o.extra["redis"]
        print(f"Redis: {red['bytes_per_conversation']} bytes per conversation state, "
              f"{red['bytes_per_message_dedupe_key']} bytes per message for its 48 h dedupe key; "
              f"{o.extra.get('redis_cpu_us_per_message')} us of its main thread per message "
              f"(busy {o.extra.get('redis_main_thread_busy')} of a core)")
    if parse:
        print(f"offline parse, {parse['products']:,} products: p50 {parse['parse_p50_ms']} ms, "
              f"p95 {parse['parse_p95_ms']} ms (index built in {parse['index_build_ms']} ms)")
        print(adversarial_line(parse["adversarial"]))
    for line in model.lines(model_pass or {}):
        print(line)
    Path(args.json).write_text(json.dumps({"results": [asdict(r) for r in results], "ratios": ratios,
                                           "parse": parse, "model": model_pass, "args": vars(args)}, indent=2))
    return 0


def adversarial() -> list[dict]:
    """The adversarial corpus on the sample catalog and on the generated 10,000-product one."""
    from bench.adversarial import parse_times as adversarial_times
    from bench.extras import generated_catalog

    out = []
    for catalog in (None, generated_catalog()):
        print("measuring offline parsing of the adversarial corpus...", flush=True)
        out.append(adversarial_times(catalog=catalog))
        print(f"  {json.dumps(out[-1])}", flush=True)
    return out


def adversarial_line(runs: list[dict]) -> str:
    lines = []
    for a in runs:
        met = a["p99_ms"] <= 20 and a["max_ms"] <= 100
        lines.append(f"adversarial parse ({a['lines']} lines x every state, {a['products']:,} products): "
                     f"p50 {a['p50_ms']} ms, p99 {a['p99_ms']} ms (target <= 20), max {a['max_ms']} ms "
                     f"(target <= 100) {'MET' if met else 'MISSED'}; CPU p50/p99/max {a['cpu_p50_ms']}/"
                     f"{a['cpu_p99_ms']}/{a['cpu_max_ms']} ms, first reads {a['first_cpu_p50_ms']}/"
                     f"{a['first_cpu_p99_ms']}/{a['first_cpu_max_ms']} ms; slowest: {a['slowest']}")
    return "\n".join(lines)


def parse_only() -> int:
    """`make bench BENCH_ARGS=--parse-only`: the parser's numbers alone, in seconds, without wrk."""
    from bench.extras import parse_times

    print("measuring offline parsing on a 10,000-product catalog...", flush=True)
    parse = parse_times()
    print(f"  {json.dumps(parse)}")
    times = adversarial()
    print(f"offline parse, {parse['products']:,} products: p50 {parse['parse_p50_ms']} ms, "
          f"p95 {parse['parse_p95_ms']} ms (index built in {parse['index_build_ms']} ms)")
    print(adversarial_line(times))
    return 0


def ratios_of(by: dict) -> dict:
    out, lines = {}, []

    def ratio(name, a, b, target, higher=True):
        if a and b:
            value = a / b
            ok = value >= target if higher else value <= target
            out[name] = {"value": round(value, 2), "target": target, "met": ok}
            lines.append(f"{name}: {value:.2f}x (target {'>=' if higher else '<='} {target}x) {'MET' if ok else 'MISSED'}")

    o, b, lean, flask = (by.get(k) for k in ("orderline", "baseline", "lean", "flask"))
    if o and b:
        ratio("end-to-end vs stock baseline", o.e2e_mps, b.e2e_mps, 3.0)
    if o and lean:
        ratio("end-to-end vs lean limit", o.e2e_mps, lean.e2e_mps, 0.5)
    if o and flask:
        ingress = o.extra.get("ingress_only", {}).get("rps", o.ingress_rps)
        ratio("ingress (web tier alone) vs bare Flask+LPUSH", ingress, flask.ingress_rps, 0.85)
    if o and o.extra.get("voice_p95_ms"):
        lines.append(f"voice turn p95: {o.extra['voice_p95_ms']:.0f} ms (target <= 150 ms) "
                     f"{'MET' if o.extra['voice_p95_ms'] <= 150 else 'MISSED'}")
    out["lines"] = lines
    return out


if __name__ == "__main__":
    sys.exit(main())
