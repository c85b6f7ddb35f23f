"""Prometheus metrics of a serving process (the prometheus_client library).

Off unless ``--metrics`` (or ``--metrics-port`` / ``--metrics-token``): then nothing here is
imported and no request pays for it. On:

- per request (server/observe.py calls ``Metrics.request``): requests by operation and
  status, a latency histogram by operation, bytes in and out, errors by S3 code, requests
  in flight;
- the metadata store: latency of writes (group commit included) and object reads, taken by
  wrapping the store's ``submit_async`` / ``scan_objects`` on the instance; a connection pool,
  when the store has one, reports through ``pool_stats()`` (see POOL_HOOK);
- background jobs (lifecycle, log delivery, scrub; wrapped where they run): runs by outcome,
  duration, last success, running now;
- cluster-wide facts read from the metadata store — per-bucket objects and bytes, blobs
  waiting for gc, images by state, job leases — exported only by the gateway holding the
  ``metrics-cluster`` lease (service/jobs.py), so a cluster exports them once.

``serve --workers N``: every worker writes its values to files in one directory per
server (PROMETHEUS_MULTIPROC_DIR, made or emptied by ``serve`` before any worker starts);
whichever worker answers a scrape merges them all (prometheus_client's
MultiProcessCollector).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from objectstore.service.jobs import Leases

if TYPE_CHECKING:
    from objectstore.service.stores import Stores

log = logging.getLogger("objectstore.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CLUSTER_LEASE = "metrics-cluster"  # the gateway holding it exports the cluster's facts
CLUSTER_TTL = 120.0  # seconds: a holder that stops being scraped lets another take over
CLUSTER_CACHE = 15.0  # seconds the cluster facts are reused between scrapes
# The hook a metadata store with a connection pool fills: a method ``pool_stats()`` returning
# {"size": .., "available": .., "waiting": .., ...} (numbers), exported as
# objectstore_meta_pool{stat="..."} by the process answering the scrape.
POOL_HOOK = "pool_stats"
FOLD_EVERY = 1.0  # seconds request figures wait at most before other processes see them
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0, 30.0, 60.0)
CLUSTER_SQL = {  # portable SQL, read with the store's reader connection
    # (sums cast: PostgreSQL's SUM of a BIGINT is a NUMERIC)
    "buckets": "SELECT b.name, COUNT(o.key), CAST(COALESCE(SUM(o.size), 0) AS BIGINT) "
               "FROM buckets b LEFT JOIN objects o ON o.bucket = b.name GROUP BY b.name",
    "noncurrent": "SELECT bucket, COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) "
                  "FROM versions "
                  "WHERE is_marker = 0 GROUP BY bucket",
    "garbage": "SELECT COUNT(*) FROM garbage",
    "images": "SELECT state, COUNT(*) FROM images GROUP BY state",
    "leases": "SELECT name, epoch, expires FROM leases",
}


def prepare_multiprocess(workers: int) -> Path | None:
    """For ``serve --workers N`` (N > 1) with metrics on, before prometheus_client is
    imported: the directory the workers' values go to — PROMETHEUS_MULTIPROC_DIR if set
    (emptied: values of an earlier run must not add up), else a new temporary one —,
    exported to the workers through the environment."""
    if workers <= 1:
        os.environ.pop(MULTIPROC_ENV, None)
        return None
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for f in path.glob("*.db"):
            f.unlink(missing_ok=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="objectstore-metrics-"))
        os.environ[MULTIPROC_ENV] = str(path)
    return path


def remove_multiprocess(path: Path | None) -> None:
    """At the end of ``serve``: the directory it made (not one the operator named)."""
    if path is not None and path.name.startswith("objectstore-metrics-"):
        shutil.rmtree(path, ignore_errors=True)


class Metrics:
    def __init__(self, stores: Stores | None, gateway: str) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client.metrics import disable_created_metrics

        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series

        self.multiprocess = MULTIPROC_ENV in os.environ
        own = None if self.multiprocess else CollectorRegistry(auto_describe=True)
        self.requests = Counter("objectstore_requests", "Requests by S3 operation and status",
                                ["operation", "status"], registry=own)
        self.latency = Histogram("objectstore_request_duration_seconds",
                                 "Time from a request's arrival to its last response byte",
                                 ["operation"], buckets=LATENCY_BUCKETS, registry=own)
        self.bytes_in = Counter("objectstore_received_bytes", "Request body bytes received",
                                ["operation"], registry=own)
        self.bytes_out = Counter("objectstore_sent_bytes", "Response body bytes sent",
                                 ["operation"], registry=own)
        self.errors = Counter("objectstore_errors", "Error responses by S3 error code",
                              ["code"], registry=own)
        self.in_flight = Gauge("objectstore_requests_in_flight", "Requests being served",
                               registry=own, multiprocess_mode="livesum")
        self.meta_latency = Histogram("objectstore_meta_duration_seconds",
                                      "Metadata store calls (write: queued + committed; "
                                      "scan_objects: a listing page)",
                                      ["call"], buckets=LATENCY_BUCKETS, registry=own)
        self.job_runs = Counter("objectstore_job_runs", "Background job runs by outcome",
                                ["job", "outcome"], registry=own)
        self.job_duration = Histogram("objectstore_job_duration_seconds",
                                      "Background job run time", ["job"], registry=own,
                                      buckets=(0.01, 0.1, 1.0, 10.0, 60.0, 600.0, 3600.0))
        self.job_last_success = Gauge("objectstore_job_last_success_timestamp_seconds",
                                      "When a run of the job last finished well (Unix time)",
                                      ["job"], registry=own, multiprocess_mode="max")
        self.job_running = Gauge("objectstore_job_running", "Runs of the job in progress",
                                 ["job"], registry=own, multiprocess_mode="livesum")
        self.scrub_problems = Gauge("objectstore_scrub_last_problems",
                                    "Problems the last background scrub found", registry=own,
                                    multiprocess_mode="mostrecent")
        self._children: dict[tuple[str, int], tuple[Any, Any, Any, Any]] = {}
        self._tally: dict[tuple[str, int], list[Any]] = {}  # (op, status) -> figures
        self._error_tally: dict[str, int] = {}
        self._armed = False
        self._bounds = (*LATENCY_BUCKETS, float("inf"))  # the histogram's, +Inf last
        self.active = 0  # requests in flight (server/observe.py counts them)
        self._write_tally: list[Any] = [0, 0.0, [0] * len(self._bounds)]  # store writes
        registry = CollectorRegistry() if self.multiprocess else own
        assert registry is not None
        self.registry: CollectorRegistry = registry
        if self.multiprocess:
            from prometheus_client.multiprocess import MultiProcessCollector

            self.registry.register(_DeadWorkers())
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        self.cluster = ClusterFacts(stores, gateway) if stores is not None else None
        if self.cluster is not None:
            self.registry.register(self.cluster)
            self.registry.register(PoolStats(self.cluster.stores.meta))

    # ------------------------------------------------------------------- per request
    # A request only adds to plain numbers (the event loop's thread, no lock); ``fold``
    # moves them into the prometheus_client metrics before each scrape this process
    # answers and every FOLD_EVERY seconds while requests come (so other worker processes
    # see them within that time).
    def request(self, op: str, status: int, error: str | None, seconds: float, n_in: int,
                n_out: int) -> None:
        key = (op, status)
        t = self._tally.get(key)
        if t is None:
            t = self._tally[key] = [0, 0.0, 0, 0, [0] * len(self._bounds)]
        t[0] += 1
        t[1] += seconds
        t[2] += n_in
        t[3] += n_out
        t[4][bisect_left(self._bounds, seconds)] += 1
        if error is not None:
            self._error_tally[error] = self._error_tally.get(error, 0) + 1
        if not self._armed:
            self._armed = True
            try:
                asyncio.get_running_loop().call_later(FOLD_EVERY, self.fold)
            except RuntimeError:
                self.fold()

    def fold(self) -> None:
        """Pending request figures into the metrics (in the event loop's thread)."""
        self._armed = False
        tally, self._tally = self._tally, {}
        errors, self._error_tally = self._error_tally, {}
        for (op, status), t in tally.items():
            c = self._children.get((op, status))
            if c is None:
                c = self._children[(op, status)] = (
                    self.requests.labels(op, str(status)), self.latency.labels(op),
                    self.bytes_in.labels(op), self.bytes_out.labels(op))
            c[0].inc(t[0])
            if t[2]:
                c[2].inc(t[2])
            if t[3]:
                c[3].inc(t[3])
            _add_to_histogram(c[1], t[1], t[4])
        for code, n in errors.items():
            self.errors.labels(code).inc(n)
        w = self._write_tally
        if w[0]:
            _add_to_histogram(self.meta_latency.labels("write"), w[1], w[2])
            w[0], w[1], w[2] = 0, 0.0, [0] * len(self._bounds)
        self.in_flight.set(self.active)

    def render(self) -> tuple[bytes, str]:
        """The exposition text of every metric (merged across workers) and its type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    # --------------------------------------------------------------- instrumentation
    def watch_store(self, stores: Stores) -> None:
        """Time the metadata store's calls (instance attributes: the class is untouched)."""
        meta: Any = stores.meta
        submit = meta.submit_async
        writes = self._write_tally
        bounds = self._bounds

        def timed_submit(fn: Any) -> Any:
            t0 = time.perf_counter()
            fut = submit(fn)

            def done(_f: Any) -> None:  # in the event loop's thread: tallied, folded later
                seconds = time.perf_counter() - t0
                writes[0] += 1
                writes[1] += seconds
                writes[2][bisect_left(bounds, seconds)] += 1
            fut.add_done_callback(done)
            return fut
        meta.submit_async = timed_submit
        for call in ("scan_objects",):  # object reads mostly hit the process's cache
            setattr(meta, call, _timed(getattr(meta, call), self.meta_latency.labels(call)))

    def timed(self, name: str, run: Callable[..., Any]) -> Callable[..., Any]:
        runs_ok = self.job_runs.labels(name, "ok")
        runs_failed = self.job_runs.labels(name, "failed")
        duration = self.job_duration.labels(name)
        success = self.job_last_success.labels(name)
        running = self.job_running.labels(name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            running.inc()
            try:
                result = run(*args, **kwargs)
            except BaseException:
                runs_failed.inc()
                raise
            finally:
                running.dec()
                duration.observe(time.perf_counter() - t0)
            runs_ok.inc()
            success.set(time.time())
            if name == "scrub" and result is not None:
                self.scrub_problems.set(len(getattr(result, "problems", ())))
            return result
        return wrapped


def _add_to_histogram(hist: Any, total: float, counts: list[int]) -> None:
    """What ``Histogram.observe`` does for each observation, once per bucket."""
    hist._sum.inc(total)
    for i, n in enumerate(counts):
        if n:
            hist._buckets[i].inc(n)


def _timed(fn: Callable[..., Any], hist: Any) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            hist.observe(time.perf_counter() - t0)
    return timed


class _DeadWorkers:
    """Before a multi-process collection: the live gauges of worker processes that died
    (and were replaced) are dropped, as prometheus_client's mark_process_dead does."""

    def describe(self) -> list[Any]:
        return []  # nothing collected when registered (auto_describe)

    def collect(self) -> Iterator[Any]:
        from prometheus_client import multiprocess

        path = os.environ.get(MULTIPROC_ENV)
        if path:
            for f in Path(path).glob("gauge_live*_*.db"):
                pid = f.stem.rsplit("_", 1)[-1]
                if pid.isdigit() and not _alive(int(pid)):
                    multiprocess.mark_process_dead(int(pid), path)  # type: ignore[no-untyped-call]
        return iter(())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ClusterFacts:
    """A prometheus_client collector of what the metadata store knows for the whole
    cluster, emitted only while this gateway holds the ``metrics-cluster`` lease (taken or
    renewed at each scrape; every worker process of a gateway shares its holder name)."""

    def __init__(self, stores: Stores, gateway: str) -> None:
        self.stores = stores
        self.leases = Leases(stores.meta, holder=f"{gateway}/metrics")
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Any]] = (0.0, [])

    def describe(self) -> list[Any]:
        return []  # nothing collected when registered (auto_describe)

    def collect(self) -> Iterator[Any]:
        try:
            if self.leases.acquire(CLUSTER_LEASE, CLUSTER_TTL) is None:
                return iter(())
            with self._lock:
                at, families = self._cached
                if time.monotonic() - at > CLUSTER_CACHE:
                    families = self._read()
                    self._cached = (time.monotonic(), families)
            return iter(families)
        except Exception:  # noqa: BLE001 - a scrape never fails for these
            log.exception("reading cluster metrics failed")
            return iter(())

    def _read(self) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        meta: Any = self.stores.meta
        c = meta.reader()
        objects = GaugeMetricFamily("objectstore_bucket_objects",
                                    "Current objects per bucket", labels=["bucket"])
        size = GaugeMetricFamily("objectstore_bucket_bytes",
                                 "Bytes of current objects per bucket", labels=["bucket"])
        for name, count, total in c.execute(CLUSTER_SQL["buckets"]).fetchall():
            objects.add_metric([name], count)
            size.add_metric([name], total)
        old = GaugeMetricFamily("objectstore_bucket_noncurrent_bytes",
                                "Bytes of noncurrent versions per bucket", labels=["bucket"])
        for name, _count, total in c.execute(CLUSTER_SQL["noncurrent"]).fetchall():
            old.add_metric([name], total)
        garbage = GaugeMetricFamily("objectstore_gc_pending_blobs",
                                    "Blobs no object uses any more, waiting to be removed")
        garbage.add_metric([], c.execute(CLUSTER_SQL["garbage"]).fetchone()[0])
        images = GaugeMetricFamily("objectstore_images", "Machine images by state",
                                   labels=["state"])
        for state, count in c.execute(CLUSTER_SQL["images"]).fetchall():
            images.add_metric([state], count)
        leases = GaugeMetricFamily("objectstore_job_lease_epoch",
                                   "Fencing epoch of each job's lease (moves on takeover)",
                                   labels=["job"])
        expires = GaugeMetricFamily("objectstore_job_lease_expires_timestamp_seconds",
                                    "When each job's lease runs out unless renewed",
                                    labels=["job"])
        for name, epoch, until in c.execute(CLUSTER_SQL["leases"]).fetchall():
            leases.add_metric([name], epoch)
            expires.add_metric([name], until)
        return [objects, size, old, garbage, images, leases, expires]


class PoolStats:
    """The metadata store's connection pool (this process's), when the store has one."""

    def __init__(self, meta: Any) -> None:
        self.meta = meta

    def describe(self) -> list[Any]:
        return []  # nothing collected when registered (auto_describe)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        pool = getattr(self.meta, POOL_HOOK, None)
        if not callable(pool):
            return iter(())
        stats = GaugeMetricFamily("objectstore_meta_pool",
                                  "Metadata store connection pool (the answering process)",
                                  labels=["stat"])
        for k, v in dict(pool()).items():
            stats.add_metric([str(k)], float(v))
        return iter([stats])
