"""Render the benchmark results as Markdown (docs/benchmarks.md)."""

from __future__ import annotations

import os
import time
from typing import Any

from common import GiB, MiB

HEAD = "objectstore"


def _n(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "—"
    if digits == 0 and abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _size(n: int) -> str:
    return f"{n // GiB} GiB" if n >= GiB and n % GiB == 0 else f"{n // MiB} MiB"


def render(results: dict[str, Any], lim: dict[str, float], machine: dict[str, str],
           vers: dict[str, str], prof: Any, command: str, elapsed: float, notes: list[str],
           kinds: list[str]) -> str:
    cols = [k for k in ("objectstore", "objectstore-nofsync", "objectstore-w2", "moto",
                        "s3rver", "bare", "bare-w2") if k in results]
    head = results.get(HEAD)
    disk_md5 = min(lim["disk"], lim["md5"])

    def val(kind: str, key: str) -> float | None:
        r = results.get(kind)
        return None if r is None else r.values.get(key)

    # rows: key, label, unit, higher_is_better, limit value, limit text
    rows: list[tuple[str, str, bool, float | None, str]] = []
    rows.append(("startup", "Start-up to first answered request, ms", False, 1000.0,
                 "target 1,000 ms"))
    for op in ("put", "get", "head", "delete"):
        for c in (1, 32):
            key = f"{op}4k_c{c}"
            b = val("bare", key)
            rows.append((key, f"4 KiB {op.upper()}, {c} conn., ops/s", True, b,
                         f"bare stack {_n(b)}" if b else "bare stack —"))
    rows += [
        ("put1m_c8", "1 MiB PUT, 8 threads, MB/s", True, disk_md5,
         f"min(disk+fsync, MD5) {_n(disk_md5)}"),
        ("get1m_c8", "1 MiB GET, 8 threads, MB/s", True, lim["loopback"],
         f"loopback {_n(lim['loopback'])}"),
        ("put1g", f"{_size(prof.stream)} PUT, one stream, MB/s", True, disk_md5,
         f"min(disk+fsync, MD5) {_n(disk_md5)}"),
        ("get1g", f"{_size(prof.stream)} GET, one stream, MB/s", True, lim["loopback"],
         f"loopback {_n(lim['loopback'])}"),
        ("mpu1g", f"{_size(prof.mpu)} multipart upload ({_size(prof.part)} parts, 4 at once, "
         "boto3), MB/s", True, disk_md5, f"min(disk+fsync, MD5) {_n(disk_md5)}"),
    ]
    for level in prof.levels:
        rows.append((f"list_{level}", f"ListObjectsV2 page of 1,000 at {level:,} keys, ms",
                     False, None, ""))
    rows += [
        ("rss_idle", "Server RSS idle after start-up, MB", False, 200.0, "target < 200 MB"),
        ("rss_busy", "Server RSS after the 4 KiB and 1 MiB runs, MB", False, 200.0,
         "target < 200 MB"),
        ("rss_1g", f"Server peak RSS during the {_size(prof.stream)} transfers, MB", False, 200.0,
         "target < 200 MB"),
    ]
    if prof.big:
        rows.append(("rss_5g", f"Server peak RSS during a {_size(prof.big)} PUT, MB", False,
                     200.0, "target < 200 MB"))
        rows.append(("put5g", f"{_size(prof.big)} PUT, one stream, MB/s", True, disk_md5,
                     f"min(disk+fsync, MD5) {_n(disk_md5)}"))

    out: list[str] = []
    w = out.append
    w("# Benchmarks\n")
    w(f"One run of `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
      f"{elapsed / 60:.1f} minutes ({prof.name} profile). Regenerate with `python bench/run.py` "
      "(about 15–20 minutes; `--quick` takes about 2).\n")
    w("**Machine:** " + "; ".join(f"{k} {v}" for k, v in (
        ("cores", machine.get("cores")), ("CPU", machine.get("cpu")),
        ("memory", machine.get("memory")), ("disk", machine.get("disk")),
        ("kernel", machine.get("kernel")), ("load average at start", machine.get("load")),
        ("at end", "%.2f %.2f %.2f" % os.getloadavg()),
        ("CPU used by processes outside this benchmark during it (kernel threads included)",
         machine.get("foreign")))) + ".\n")
    w("**Versions:** " + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".\n")
    w("**Physical limits, same run:** loopback TCP {loopback:,.0f} MB/s (one stream, 4 MiB "
      "buffers, two Python processes, best of 4 at the start and 4 at the end); sequential "
      "write + fsync {disk:,.0f} MB/s "
      f"({_size(prof.limit_size)} in 1 MiB blocks on the data dirs' filesystem, best of 2 + 2); "
      "{fsync_rate:,.0f} fsync'd 4 KiB appends/s (one thread); MD5 {md5:,.0f} MB/s, "
      "SHA-256 {sha256:,.0f} MB/s (one core).\n".format(**lim))

    # -- main table --
    header = ["Workload"] + [results[k].label for k in cols] + ["limit / target",
                                                                 "objectstore vs limit"]
    w("| " + " | ".join(header) + " |")
    w("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    for key, label, higher, limit, limit_text in rows:
        if all(val(k, key) is None and key not in results[k].notes for k in cols):
            continue
        cells = [label]
        h = val(HEAD, key) if head else None
        for k in cols:
            v = val(k, key)
            r = results[k]
            if r.skipped:
                cells.append("n/a")
                continue
            if v is None:
                note = r.notes.get(key, "")
                cells.append("skipped" if note.startswith("skipped") else
                             "failed" if note.startswith("failed") else "—")
                continue
            cell = _n(v)
            if k in ("moto", "s3rver") and h and v:
                ratio = h / v if higher else v / h
                cell += f" (×{ratio:,.1f})" if ratio < 100 else f" (×{ratio:,.0f})"
            cells.append(cell)
        cells.append(limit_text)
        if h is not None and limit:
            cells.append(f"{100 * h / limit:.0f}%")
        else:
            cells.append("")
        w("| " + " | ".join(cells) + " |")
    w("")
    w("Peer cells carry **×N = how many times better objectstore is** on that row "
      "(its rate ÷ theirs, or their time/memory ÷ its own): above 1 objectstore leads, below 1 it "
      "trails. The last column is the headline objectstore figure as a fraction of the row's "
      "physical limit, of the bare stack's figure (same load, trivial app) or of the issue's "
      "target. *objectstore* fsyncs every write before answering (the default); moto's server "
      "and s3rver never fsync, and keep moto's objects in memory.\n")

    # -- latency table --
    w("### Latency of 4 KiB requests, p50 / p99 ms\n")
    w("| Request | " + " | ".join(results[k].label for k in cols) + " |")
    w("|---|" + "|".join(["---:"] * len(cols)) + "|")
    for op in ("put", "get", "head", "delete"):
        for c in (1, 32):
            key = f"{op}4k_c{c}"
            cells = [f"{op.upper()}, {c} conn."]
            for k in cols:
                p50, p99 = val(k, key + ".p50"), val(k, key + ".p99")
                cells.append("—" if p50 is None else f"{p50:.2f} / {p99:.2f}")
            w("| " + " | ".join(cells) + " |")
    w("")

    # -- targets --
    if head:
        w("## Targets from the issue\n")
        w("| Target | measured | met |")
        w("|---|---|---|")
        for text, measured, ok in targets(results, lim, prof):
            met = "yes" if ok else "**no**" if ok is not None else "—"
            w(f"| {text} | {measured} | {met} |")
        w("")

    # -- method --
    w("## How it was measured\n")
    wrk = any(lr.tool == "wrk" for r in results.values() for lr in r.loads.values())
    w("- Every request is SigV4-authenticated. bench/ pre-signs the URLs (query-string SigV4, "
      "`UNSIGNED-PAYLOAD`, as `generate_presigned_url` does), so the load generator sends "
      "authenticated requests without signing anything itself; the server verifies each "
      "signature. moto does not check signatures; s3rver does (its default `S3RVER` key).")
    tool = "`wrk` (Debian package) with `bench/requests.lua`" if wrk else "bench/aioload.py"
    w(f"- 4 KiB rows: {tool}, closed loop, {prof.duration:g} s per run, 1 connection on 1 "
      "thread or 32 connections "
      "on 2 threads, keep-alive. GET and HEAD rotate through "
      f"{prof.small_objects:,} pre-created objects; PUT writes new keys; DELETE removes the keys "
      "the PUT runs created (a run that runs out of keys stops early and is timed to that "
      "point). HEAD uses `bench/aioload.py` (asyncio + uvloop, pre-built requests, "
      "persistent connections), because wrk's parser waits for a body after a HEAD response "
      "that carries Content-Length. The *bare stack* column is `bench/bare_app.py`, a trivial "
      "ASGI app on the same uvicorn + uvloop + httptools configuration answering the same "
      "URLs with 4 KiB (PUT drains the body): it is the ceiling the HTTP layer and this load "
      "generator allow together, on the same 2 cores.")
    w("- 1 MiB rows: 8 Python threads, each with its own persistent `http.client` connection "
      "and pre-signed URLs; PUT writes distinct keys for "
      f"{prof.mib_seconds:g} s, then GET reads them back for {prof.mib_seconds:g} s into a reused "
      "buffer. Streams: one `http.client` request whose body is a generator of 1 MiB "
      "memoryviews (PUT) or read with `readinto` into a 1 MiB buffer (GET); "
      f"the figure is the median of {prof.stream_trials} such transfers (PUTs overwrite one "
      "key), fewer when a server's RSS passed 2 GB. The bare-stack "
      "column runs the same client code against the trivial app, so it is the client's own "
      "ceiling. Multipart: boto3 defaults (which SHA-256 every part over plain HTTP), "
      f"{_size(prof.part)} parts, 4 threads.")
    w("- Listing: one bucket grown to each size with 0-byte PUTs (wrk, 32 connections); "
      "figure = median time of a ListObjectsV2 page of 1,000 keys over up to 50 pages "
      "walked with continuation tokens from the start plus as many pages starting after "
      "keys spread evenly through the bucket (client: raw `http.client`, signature per "
      "request). objectstore's bucket is filled through an `objectstore --no-fsync` process "
      "(fsync'd 0-byte PUTs would take far longer); the objectstore column is timed on "
      "the default (fsync) configuration restarted on that data dir — listing only reads. "
      "A peer fills a level only if its 4 KiB PUT rate says it takes under "
      f"{prof.peer_populate_budget:g} s.")
    w("- RSS: /proc/PID/status VmRSS of the server process, sampled every 100 ms during the "
      "transfer. Start-up: from spawning the process to the first answered authenticated "
      f"ListBuckets, polled every 5 ms; median of {prof.startup_trials} starts on an empty "
      "data dir.")
    w("- Servers: objectstore as `python -m objectstore serve` (defaults: fsync on, no "
      "access log); `objectstore serve --no-fsync`; moto as `python -m moto.server` "
      "(werkzeug, threaded, logs each request); s3rver 3 as `node --openssl-legacy-provider "
      "s3rver.js --silent` (filesystem store; the flag lets its DES-encrypted continuation "
      "tokens work on Node ≥ 17, without it a paged listing answers 500). Each runs alone, "
      "on its own free 127.0.0.1 port, with a fresh "
      "data dir in the scratch directory (same filesystem as the disk probe). Load "
      "generator and server share the machine's cores.")
    w("")

    # -- load generator cost --
    w("### Load generator and server CPU during the 32-connection runs\n")
    w("CPU seconds per wall second (1.00 = one core busy); the machine has "
      f"{machine.get('cores')} cores.\n")
    w("| Run | " + " | ".join(f"{results[k].label}: client / server" for k in cols) + " |")
    w("|---|" + "|".join(["---:"] * len(cols)) + "|")
    for key in ("put4k_c32", "get4k_c32", "head4k_c32", "delete4k_c32"):
        cells = [key.replace("4k_c32", "").upper()]
        for k in cols:
            lr = results[k].loads.get(key)
            if lr is None or lr.seconds <= 0:
                cells.append("—")
            else:
                srv = f"{lr.server_cpu / lr.seconds:.2f}" if lr.server_cpu else "—"
                cells.append(f"{lr.client_cpu / lr.seconds:.2f} ({lr.tool}) / {srv}")
        w("| " + " | ".join(cells) + " |")
    w("")

    extra = []
    for k in cols:
        r = results[k]
        if r.skipped:
            extra.append(f"- {r.label}: {r.skipped}")
        for key, note in r.notes.items():
            extra.append(f"- {r.label}, {key}: {note}")
        for key, v in r.values.items():
            if key.startswith("startup_at_") and v is not None:
                extra.append(f"- {r.label}: start-up on the listing data dir holding "
                             f"{int(key.split('_')[-1]):,} objects: {v:.0f} ms")
    if notes or extra:
        w("## Notes\n")
        for n in notes:
            w(f"- {n}")
        out.extend(extra)
        w("")
    return "\n".join(out) + "\n"


def targets(results: dict[str, Any], lim: dict[str, float], prof: Any
            ) -> list[tuple[str, str, bool | None]]:
    def v(kind: str, key: str) -> float | None:
        r = results.get(kind)
        return None if r is None else r.values.get(key)

    out: list[tuple[str, str, bool | None]] = []

    def ratio_check(text: str, key: str, frac: float, mult: float, peers: list[str],
                    kind: str = "objectstore") -> None:
        h, b, b2 = v(kind, key), v("bare", key), v("bare-w2", key)
        parts, ok = [], True if h is not None else None
        # two worker processes are held to the bare stack with two workers (when measured)
        ceiling = b2 if kind.endswith("-w2") and b2 else b
        if h is not None and b:
            parts.append(f"{100 * h / b:.0f}% of bare ({_n(h)} vs {_n(b)})")
        if kind.endswith("-w2") and h is not None and b2:
            parts.append(f"{100 * h / b2:.0f}% of the bare stack with 2 workers ({_n(b2)})")
        if h is not None and ceiling:
            ok = ok and h >= frac * ceiling
        for p in peers:
            pv = v(p, key)
            if h is not None and pv:
                parts.append(f"×{h / pv:.1f} {results[p].label}")
                ok = ok and h >= mult * pv
        out.append((text, "; ".join(parts) or "not measured", ok))

    ratio_check("4 KiB GET (32 conn.) ≥ 40% of bare stack and ≥ 20× moto", "get4k_c32",
                0.40, 20, ["moto"])
    ratio_check("4 KiB PUT with fsync (32 conn.) ≥ 15% of bare stack and ≥ 10× moto and "
                "s3rver", "put4k_c32", 0.15, 10, ["moto", "s3rver"])
    if v("objectstore-w2", "get4k_c32") is not None:
        ratio_check("the same 4 KiB GET with `serve --workers 2`", "get4k_c32", 0.40, 20,
                    ["moto"], "objectstore-w2")
        ratio_check("the same 4 KiB PUT with `serve --workers 2`", "put4k_c32", 0.15, 10,
                    ["moto", "s3rver"], "objectstore-w2")
    g = v("objectstore", "get1g")
    out.append((f"{_size(prof.stream)} GET ≥ 70% of loopback",
                f"{_n(g)} MB/s = {100 * g / lim['loopback']:.0f}% of {_n(lim['loopback'])}"
                if g else "not measured", g >= 0.7 * lim["loopback"] if g else None))
    p = v("objectstore", "put1g")
    m = min(lim["disk"], lim["md5"])
    out.append((f"{_size(prof.stream)} PUT ≥ 70% of min(disk write+fsync, MD5)",
                f"{_n(p)} MB/s = {100 * p / m:.0f}% of {_n(m)}" if p else "not measured",
                p >= 0.7 * m if p else None))
    nf, s3 = v("objectstore-nofsync", "put1g"), v("s3rver", "put1g")
    out.append((f"{_size(prof.stream)} PUT with --no-fsync ahead of s3rver",
                f"{_n(nf)} vs {_n(s3)} MB/s" if nf and s3 else "not measured",
                nf > s3 if nf and s3 else None))
    lo, hi = prof.levels[0], prof.levels[-1]
    a, b = v("objectstore", f"list_{lo}"), v("objectstore", f"list_{hi}")
    out.append((f"List page at {hi:,} keys within 2× of {lo:,}",
                f"{_n(b)} vs {_n(a)} ms (×{b / a:.2f})" if a and b else "not measured",
                b <= 2 * a if a and b else None))
    rss = [x for x in (v("objectstore", "rss_1g"), v("objectstore", "rss_5g"),
                       v("objectstore-nofsync", "rss_1g"), v("objectstore-nofsync", "rss_5g"))
           if x is not None]
    out.append(("Server RSS < 200 MB during any transfer",
                f"peak {max(rss):.0f} MB" if rss else "not measured",
                max(rss) < 200 if rss else None))
    s = v("objectstore", "startup")
    out.append(("Start-up to first answered request < 1 s",
                f"{s:.0f} ms" if s is not None else "not measured",
                s < 1000 if s is not None else None))
    return out
