"""objectstore benchmark: objectstore side by side with its peers (moto's server, s3rver)
and the physical limits of this machine, in one session; writes a Markdown report.

    python bench/run.py                      # full run (~15-20 min), writes docs/benchmarks.md
    python bench/run.py --quick              # ~2 min, smaller sizes
    python bench/run.py --smoke --only objectstore --out /tmp/b.md   # seconds; the test

It installs what it needs (wrk via apt-get, moto[server] via pip, s3rver via npm into
bench/.peers/) and degrades to fewer columns, with a note, when something cannot be had.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import limits  # noqa: E402
import loads  # noqa: E402
import report  # noqa: E402
from common import GiB, MiB, Target, conn, ensure_bucket, pattern, request, rss_now  # noqa: E402
from servers import (  # noqa: E402
    REPO,
    Server,
    ensure_moto,
    ensure_s3rver,
    ensure_wrk,
    log,
    versions,
)

ALL = ["objectstore", "objectstore-nofsync", "objectstore-w2", "moto", "s3rver", "bare",
       "bare-w2"]
LABELS = {
    "objectstore": "objectstore",
    "objectstore-nofsync": "objectstore --no-fsync",
    "objectstore-w2": "objectstore --workers 2",
    "moto": "moto server",
    "s3rver": "s3rver",
    "bare": "bare stack",
    "bare-w2": "bare stack, 2 workers",
}
TWO = ("objectstore-w2", "bare-w2")  # small objects and 1 MiB only: a stream is one process


@dataclass
class Profile:
    name: str
    duration: float            # seconds per wrk run
    small_objects: int         # 4 KiB objects the GET/HEAD runs rotate through
    mib_seconds: float         # seconds per 1 MiB PUT / GET phase
    mib_max: int               # at most this many 1 MiB objects
    stream: int                # single PUT/GET stream size
    mpu: int                   # multipart upload size
    part: int                  # multipart part size
    big: int                   # the large upload for peak RSS (0 = skip)
    levels: list[int]          # ListObjectsV2 bucket sizes
    startup_trials: int
    stream_trials: int         # single-stream PUT/GET repetitions (median reported)
    limit_size: int            # bytes for the disk and hash probes
    limit_seconds: float       # seconds for the loopback probe
    peer_populate_budget: float  # seconds a peer may spend filling one listing level
    peer_big_budget: float     # seconds a peer's large upload may take (estimated)


PROFILES = {
    "full": Profile("full", 5, 1000, 5, 1500, GiB, GiB, 64 * MiB, 5 * GiB,
                    [10**4, 10**5, 10**6], 3, 3, GiB, 2.0, 75, 90),
    "quick": Profile("quick", 1, 300, 1, 400, 256 * MiB, 256 * MiB, 64 * MiB, 0,
                     [10**3, 10**4], 1, 1, 256 * MiB, 1.0, 15, 0),
    "smoke": Profile("smoke", 1, 40, 0.3, 16, 8 * MiB, 10 * MiB, 5 * MiB, 0,
                     [300], 1, 1, 8 * MiB, 0.2, 5, 0),
}


@dataclass
class Result:
    label: str
    values: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    loads: dict[str, loads.LoadResult] = field(default_factory=dict)
    skipped: str = ""


def attempt(res: Result, key: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # a peer that fails a workload still leaves the others
        log(f"  {res.label}: {key} failed: {exc}")
        if os.environ.get("BENCH_DEBUG"):
            traceback.print_exc()
        res.notes[key] = f"failed: {str(exc)[:160]}"
        return None


def list_keys(t: Target, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    token = None
    c = conn(t)
    try:
        while True:
            params = {"list-type": "2", "max-keys": "1000", "prefix": prefix}
            if token:
                params["continuation-token"] = token
            st, _, body = request(c, "GET", t.presign("GET", bucket, "", params))
            if st != 200:
                raise RuntimeError(f"list -> {st}")
            keys += [html.unescape(k.decode()) for k in re.findall(rb"<Key>([^<]*)</Key>", body)]
            m = re.search(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
            if not m:
                return keys
            token = html.unescape(m.group(1).decode())
    finally:
        c.close()


class Bench:
    def __init__(self, args: argparse.Namespace, prof: Profile, workdir: Path) -> None:
        self.args = args
        self.prof = prof
        self.workdir = workdir
        self.results: dict[str, Result] = {}
        self.notes: list[str] = []
        self.use_wrk = not args.no_wrk

    # -- small objects ----------------------------------------------------------------
    def small(self, srv: Server, res: Result) -> None:
        t, p, pid = srv.target, self.prof, srv.pid
        bucket = "bench-small"
        if t.is_s3:
            ensure_bucket(t, bucket)
        keys = [f"obj/{i:05d}" for i in range(p.small_objects)]
        r = loads.run_load(t, ["PUT " + t.presign("PUT", bucket, k) for k in keys], 32, 600,
                           "once", 4096, self.workdir, pid, self.use_wrk)
        if r.errors:
            res.notes["populate"] = f"{r.errors} errors creating the 4 KiB objects"

        def run(op: str, c: int, lines: list[str], mode: str, body: int) -> loads.LoadResult:
            lr = loads.run_load(t, lines, c, p.duration, mode, body, self.workdir, pid,
                                self.use_wrk)
            key = f"{op}4k_c{c}"
            res.values[key] = lr.rate
            res.values[key + ".p50"] = lr.p50_ms
            res.values[key + ".p99"] = lr.p99_ms
            res.loads[key] = lr
            if lr.errors:
                res.notes[key] = f"{lr.errors} errors of {lr.requests}"
            errs = f", {lr.errors} errors" if lr.errors else ""
            log(f"  {res.label}: 4 KiB {op.upper()} c={c}: {lr.rate:,.0f}/s p50 {lr.p50_ms:.2f} "
                f"ms p99 {lr.p99_ms:.2f} ms ({lr.tool}{errs})")
            return lr

        # PUT: distinct new keys; enough signed URLs for the run (bounded by 1.5x the rate
        # this server reached on the GET-free bare path, or measured so far)
        budget_rate = {1: 3000.0, 32: 25000.0}
        bare = self.results.get("bare")
        for c in (1, 32):
            if bare and bare.values.get(f"put4k_c{c}"):
                budget_rate[c] = float(bare.values[f"put4k_c{c}"] or 0)
        for c in (1, 32):
            n = int(min(budget_rate[c] * p.duration * 1.5, 400_000)) + 50
            urls = ["PUT " + t.presign("PUT", bucket, f"put{c}/{i:07d}") for i in range(n)]
            attempt(res, f"put4k_c{c}", lambda c=c, urls=urls: run("put", c, urls, "once", 4096))
        for op in ("GET", "HEAD"):
            urls = [f"{op} " + t.presign(op, bucket, k) for k in keys]
            for c in (1, 32):
                attempt(res, f"{op.lower()}4k_c{c}",
                        lambda op=op, c=c, urls=urls: run(op.lower(), c, urls, "loop", 0))
        for c in (1, 32):
            def delete(c: int = c) -> None:
                if t.is_s3:
                    existing = list_keys(t, bucket, f"put{c}/")
                else:
                    existing = [f"put{c}/{i:07d}" for i in range(20000)]
                if not existing:
                    raise RuntimeError("no objects to delete")
                run("delete", c, ["DELETE " + t.presign("DELETE", bucket, k) for k in existing],
                    "once", 0)
            attempt(res, f"delete4k_c{c}", delete)

    # -- throughput ---------------------------------------------------------------------
    def throughput(self, srv: Server, res: Result) -> None:
        t, p = srv.target, self.prof
        bucket = "bench-large"
        if t.is_s3:
            ensure_bucket(t, bucket)

        if srv.kind == "bare-w2":
            return  # the bare app stores nothing: its processes cannot serve each other's
            # 1 MiB objects (a GET answered by the other process would be 4 KiB)

        def mib() -> None:
            put, get, n, errors = loads.parallel_put_get(t, bucket, MiB, 8, p.mib_seconds,
                                                         p.mib_max, "mib/")
            res.values["put1m_c8"], res.values["get1m_c8"] = put, get
            if errors:
                res.notes["put1m_c8"] = f"{errors} errors"
            log(f"  {res.label}: 1 MiB x8: PUT {put:,.0f} MB/s GET {get:,.0f} MB/s ({n} objects)")
        attempt(res, "put1m_c8", mib)
        if srv.kind in TWO:
            return

        block = pattern(MiB)
        pid = srv.pid
        res.values["rss_busy"] = rss_now(pid) / 1e6
        peaks: list[int] = []

        def trials(run: Callable[[], tuple[float, int]]) -> tuple[float, list[float]]:
            """The median rate of up to ``stream_trials`` runs (fewer when the server's
            RSS passes 2 GB: moto keeps every object in memory)."""
            rates = []
            for _ in range(p.stream_trials):
                if p.stream_trials > 1:
                    time.sleep(1.0)  # the previous run's background work (an overwritten
                    # 1 GiB blob is unlinked after the commit) is not timed into the next
                rate, peak = run()
                rates.append(rate)
                peaks.append(peak)
                if peak > 2e9:
                    break
            return sorted(rates)[len(rates) // 2], rates

        def put1g() -> None:
            rate, rates = trials(lambda: loads.stream_put(t, bucket, "stream", p.stream, block,
                                                          pid)[:2])
            res.values["put1g"] = rate
            log(f"  {res.label}: {p.stream // MiB} MiB stream PUT {rate:,.0f} MB/s (median of "
                f"{', '.join(f'{r:,.0f}' for r in rates)}), peak RSS {max(peaks) / 1e6:.0f} MB")
        attempt(res, "put1g", put1g)

        def get1g() -> None:
            rate, rates = trials(lambda: loads.stream_get(t, bucket, "stream", p.stream, pid))
            res.values["get1g"] = rate
            log(f"  {res.label}: {p.stream // MiB} MiB stream GET {rate:,.0f} MB/s (median of "
                f"{', '.join(f'{r:,.0f}' for r in rates)}), peak RSS {max(peaks) / 1e6:.0f} MB")
        attempt(res, "get1g", get1g)

        if t.is_s3:
            def mpu() -> None:
                rate, peak = loads.multipart_upload(t, bucket, "multipart", p.mpu, p.part, 4, pid)
                res.values["mpu1g"] = rate
                peaks.append(peak)
                log(f"  {res.label}: {p.mpu // MiB} MiB multipart upload {rate:,.0f} MB/s, "
                    f"peak RSS {peak / 1e6:.0f} MB")
            attempt(res, "mpu1g", mpu)
        if peaks:
            res.values["rss_1g"] = max(peaks) / 1e6
        # free the space before the large upload
        if t.is_s3:
            c = conn(t)
            for key in ("stream", "multipart"):
                request(c, "DELETE", t.presign("DELETE", bucket, key))
            c.close()

        if p.big:
            est = p.big / 1e6 / max(1.0, res.values.get("put1g") or 1.0)
            mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            est_rss = (res.values.get("rss_1g") or 0) * 1e6 * p.big / p.stream
            if srv.kind in ("moto", "s3rver") and est > p.peer_big_budget:
                res.notes["rss_5g"] = (f"skipped: est. {est:.0f} s at its "
                                       f"{res.values.get('put1g') or 0:.0f} MB/s")
                return
            if srv.kind in ("moto", "s3rver") and est_rss > 0.4 * mem:
                res.notes["rss_5g"] = (f"skipped: its RSS, {res.values.get('rss_1g'):.0f} MB "
                                       f"during the {p.stream // MiB} MiB transfers, projects to "
                                       f"~{est_rss / 1e9:.0f} GB")
                return

            def big() -> None:
                rate, peak, _ = loads.stream_put(t, bucket, "big", p.big, block, pid)
                res.values["rss_5g"] = peak / 1e6
                res.values["put5g"] = rate
                log(f"  {res.label}: {p.big // GiB} GiB PUT {rate:,.0f} MB/s, "
                    f"peak RSS {peak / 1e6:.0f} MB")
                if t.is_s3:
                    c = conn(t)
                    request(c, "DELETE", t.presign("DELETE", bucket, "big"))
                    c.close()
            attempt(res, "rss_5g", big)

    # -- listing ------------------------------------------------------------------------
    def populate(self, t: Target, bucket: str, start: int, end: int, pid: int) -> int:
        errors = 0
        chunk = 100_000
        for lo in range(start, end, chunk):
            hi = min(end, lo + chunk)
            urls = ["PUT " + t.presign("PUT", bucket, f"k/{i:07d}") for i in range(lo, hi)]
            lr = loads.run_load(t, urls, 32, 3600, "once", 0, self.workdir, pid, self.use_wrk)
            errors += lr.errors
        return errors

    def measure_list(self, t: Target, res: Result, level: int, populate_errors: int) -> None:
        pages = min(max(1, level // 1000), 50)
        med, worst, first = loads.list_pages(t, "bench-list", level, pages, "k/{:07d}")
        key = f"list_{level}"
        res.values[key] = med
        if first != min(1000, level) or populate_errors:
            res.notes[key] = f"first page had {first} keys; {populate_errors} populate errors"
        log(f"  {res.label}: ListObjectsV2 at {level:,} keys: {med:.1f} ms/page "
            f"(worst {worst:.1f})")

    def listing_peer(self, srv: Server, res: Result) -> None:
        t = srv.target
        ensure_bucket(t, "bench-list")
        rate = res.values.get("put4k_c32") or 100.0
        have = 0
        for level in self.prof.levels:
            est = (level - have) / rate
            if est > self.prof.peer_populate_budget:
                res.notes[f"list_{level}"] = (f"skipped: filling it would take ~{est:.0f} s "
                                              f"at {rate:.0f} PUT/s")
                log(f"  {res.label}: {res.notes[f'list_{level}']}")
                continue
            t0 = time.perf_counter()
            errors = self.populate(t, "bench-list", have, level, srv.pid)
            log(f"  {res.label}: filled to {level:,} keys in {time.perf_counter() - t0:.0f} s")
            have = level
            attempt(res, f"list_{level}",
                    lambda level=level, errors=errors: self.measure_list(t, res, level, errors))

    def listing_objectstore(self) -> None:
        """One growing bucket, filled through an `objectstore --no-fsync` process (the fast
        way to make 10^6 objects); each level is timed on that process and, restarted with
        fsync on the same data dir, on the headline configuration (listing only reads)."""
        want = [k for k in ("objectstore-nofsync", "objectstore") if k in self.results]
        if not want:
            return
        data = self.workdir / "data-listing"
        filler = Server("objectstore-nofsync", "lister", self.workdir, data_dir=data)
        reader = Server("objectstore", "lister", self.workdir, data_dir=data)
        have = 0
        fresh = True
        for level in self.prof.levels:
            filler.start(fresh=fresh)
            fresh = False
            t = filler.target
            try:
                ensure_bucket(t, "bench-list")
                t0 = time.perf_counter()
                errors = self.populate(t, "bench-list", have, level, filler.pid)
                secs = time.perf_counter() - t0
                log(f"  objectstore: filled to {level:,} keys in {secs:.0f} s "
                    f"({(level - have) / secs:,.0f} PUT/s, 0-byte, --no-fsync, wrk c=32)")
                have = level
                if "objectstore-nofsync" in self.results:
                    r = self.results["objectstore-nofsync"]
                    attempt(r, f"list_{level}",
                            lambda t=t, r=r, level=level, errors=errors:
                            self.measure_list(t, r, level, errors))
            finally:
                filler.stop()
            if "objectstore" in self.results:
                r = self.results["objectstore"]
                reader.start(fresh=False)
                try:
                    r.values[f"startup_at_{level}"] = reader.startup_s * 1000
                    attempt(r, f"list_{level}",
                            lambda r=r, level=level, errors=errors:
                            self.measure_list(reader.target, r, level, errors))
                finally:
                    reader.stop()
        shutil.rmtree(data, ignore_errors=True)

    # -- one server ---------------------------------------------------------------------
    def run_server(self, kind: str) -> None:
        res = self.results[kind]
        srv = Server(kind, LABELS[kind], self.workdir)
        log(f"{res.label}: starting")
        try:
            startups = []
            for _ in range(self.prof.startup_trials - 1):
                startups.append(srv.start())
                srv.stop()
            startups.append(srv.start())
        except Exception as exc:
            res.skipped = f"did not start: {exc}"
            log(f"  {res.label}: {res.skipped}")
            srv.stop()
            return
        startups.sort()
        res.values["startup"] = startups[len(startups) // 2] * 1000
        time.sleep(0.5)
        res.values["rss_idle"] = rss_now(srv.pid) / 1e6
        log(f"  {res.label}: start-up to first answered request "
            f"{res.values['startup']:.0f} ms (median of {len(startups)})")
        try:
            attempt(res, "small", lambda: self.small(srv, res))
            attempt(res, "throughput", lambda: self.throughput(srv, res))
            if kind in ("moto", "s3rver"):
                attempt(res, "listing", lambda: self.listing_peer(srv, res))
        finally:
            srv.stop()
            if srv.data_dir:
                shutil.rmtree(srv.data_dir, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="~2 minutes, smaller sizes")
    mode.add_argument("--smoke", action="store_true",
                      help="seconds; tiny sizes, installs nothing (for the test suite)")
    ap.add_argument("--only", default="",
                    help=f"comma-separated subset of {','.join(ALL)} (default: all)")
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    ap.add_argument("--workdir", default=None,
                    help="scratch dir for data dirs (default: a temp dir, removed after)")
    ap.add_argument("--no-install", action="store_true",
                    help="do not apt/pip/npm install anything")
    ap.add_argument("--seconds", type=float, default=None,
                    help="seconds per small-object run (overrides the profile's)")
    ap.add_argument("--no-wrk", action="store_true",
                    help="use bench/aioload.py for every small-object run")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python bench/run.py" + "".join(f" {shlex.quote(a)}" for a in
                                              (argv if argv is not None else sys.argv[1:]))
    prof = PROFILES["smoke" if args.smoke else "quick" if args.quick else "full"]
    if args.seconds:
        prof = dataclasses.replace(prof, duration=args.seconds)
    kinds = [k for k in ALL if not args.only or k in args.only.split(",")]
    unknown = set(args.only.split(",")) - set(ALL) - {""}
    if unknown:
        print(f"unknown --only names: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="objectstore-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    bench = Bench(args, prof, workdir)
    install = not (args.no_install or args.smoke)
    if install and not args.no_wrk:
        if note := ensure_wrk():
            bench.notes.append(note)
    elif not loads.have_wrk() and not args.no_wrk:
        bench.notes.append("wrk not installed: small-object rows use bench/aioload.py")
    for kind, ensure in (("moto", ensure_moto), ("s3rver", ensure_s3rver)):
        if kind in kinds:
            note = ensure() if install else None
            if note is None and not install:
                if kind == "moto":
                    try:
                        import moto.server  # noqa: F401
                    except ImportError:
                        note = "moto[server] not installed (--no-install): moto column skipped"
                elif not (shutil.which("node") and
                          (Path(__file__).parent / ".peers/node_modules/s3rver").exists()):
                    note = "s3rver not installed (--no-install): s3rver column skipped"
            if note:
                bench.notes.append(note)
                log(note)
                kinds.remove(kind)
    log(f"profile {prof.name}; servers: {', '.join(kinds)}; scratch {workdir}")
    machine = limits.machine(workdir)
    log(f"machine: {machine}")
    lim = limits.measure(workdir, prof.limit_size, prof.limit_seconds)
    log("limits: loopback {loopback:,.0f} MB/s, disk write+fsync {disk:,.0f} MB/s, "
        "{fsync_rate:,.0f} fsyncs/s, MD5 {md5:,.0f} MB/s, SHA-256 {sha256:,.0f} MB/s"
        .format(**lim))
    for kind in kinds:
        bench.results[kind] = Result(LABELS[kind])
    busy0, own0, wall0 = limits.busy_jiffies(), limits.own_cpu(), time.time()
    order = ["bare"] + [k for k in kinds if k != "bare"]  # bare first: it sizes URL budgets
    try:
        for kind in order:
            if kind in kinds:
                bench.run_server(kind)
        log("listing: objectstore")
        attempt(bench.results.get("objectstore") or Result("objectstore"), "listing",
                bench.listing_objectstore)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if not args.smoke:
        # the limits again at the end; each is the best seen (a limit is what the machine
        # can do, and other work on a shared machine only ever lowers a probe)
        again = limits.measure(workdir if workdir.exists() else Path(tempfile.gettempdir()),
                               prof.limit_size, prof.limit_seconds)
        for k in ("loopback", "disk", "fsync_rate", "md5", "sha256"):
            lim[k] = max(lim[k], again[k])
        log("limits (best of start and end): loopback {loopback:,.0f} MB/s, disk write+fsync "
            "{disk:,.0f} MB/s, MD5 {md5:,.0f} MB/s".format(**lim))
    foreign = (limits.busy_jiffies() - busy0) - (limits.own_cpu() - own0)
    wall = time.time() - wall0
    machine["foreign"] = (f"{max(0.0, foreign):,.0f} CPU-seconds over {wall:,.0f} s "
                          f"({100 * max(0.0, foreign) / wall / (os.cpu_count() or 1):.0f}% of "
                          "the machine)")
    log(f"other processes on the machine used {machine['foreign']}")
    elapsed = time.time() - started
    text = report.render(bench.results, lim, machine, versions(), prof, command, elapsed,
                         bench.notes, kinds)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    log(f"done in {elapsed / 60:.1f} min; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
