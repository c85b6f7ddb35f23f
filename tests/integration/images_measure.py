"""Before/after numbers of the image registry's hostile-user fixes (issue 9, items 10-12).

    PYTHONPATH=src python tests/integration/images_measure.py [bombs] [fair] [parse]

Starts a server from the code on PYTHONPATH (point it at an older checkout's src/ for the
"before" figures; the test helpers come from this checkout) and prints: the disk written
by ~100-byte sparse-tar bundles claiming 2 GiB and 40 GiB; how long another account's
500-byte image waits behind one account's four 200 MiB images; another user's GET latency
during 16 concurrent registrations of a 0.9 MiB (7000-part) manifest; how long SIGTERM
takes. Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import concurrent.futures
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_images_hostile import (  # noqa: E402
    CERT,
    Nova,
    bundle_of_tar,
    cloud_server,
    disk_usage,
    slow_bundle,
    sparse_tar,
    tiny_bundle,
    upload,
)

import objectstore  # noqa: E402
from objectstore.images.manifest import Manifest, Part, render_manifest  # noqa: E402


def bombs(srv: Any, s3: Any, nova: Nova) -> None:
    for claim, watch in ((2 << 30, 8.0), (40 << 30, 10.0)):
        bundle = bundle_of_tar(sparse_tar(claim), claim, CERT)
        size = sum(map(len, bundle.parts.values()))
        loc = upload(s3, "meas-a", uuid.uuid4().hex, bundle)
        used = disk_usage(srv.data_dir)
        t = time.monotonic()
        r = nova.register(loc)
        image_id = r.json().get("imageId") if r.status == 200 else None
        state = "still pending" if image_id else r.body.decode()[:100]
        while image_id and time.monotonic() - t < watch:
            im = nova.find(image_id)
            assert im is not None
            if im["imageState"] != "pending":
                state = f"{im['imageState']} {im.get('stateReason', '')}"
                break
            time.sleep(0.1)
        print(f"sparse bomb, {size}-byte bundle claiming {claim} bytes: {r.status} {state} "
              f"after {time.monotonic() - t:.1f}s; disk grew by "
              f"{disk_usage(srv.data_dir) - used} bytes")
        if image_id:
            nova.request("DELETE", query={"image_id": image_id})
    time.sleep(2)


def fair(sa: Any, sb: Any, na: Nova, nb: Nova) -> None:
    slow_loc = upload(sa, "meas-a", "slow", slow_bundle())
    ids = [na.register(slow_loc).json()["imageId"] for _ in range(4)]
    t = time.monotonic()
    small = nb.register(upload(sb, "meas-b", "small", tiny_bundle(b"x" * 500))).json()
    im = nb.wait(small["imageId"], 120)
    states = [(na.find(i) or {}).get("imageState") for i in ids]
    print(f"fairness: the 500-byte image {im['imageState']} after {time.monotonic() - t:.2f}s; "
          f"the other account's four 200 MiB images then: {states}")
    for i in ids:
        na.request("DELETE", query={"image_id": i})


def parse(sa: Any, sb: Any, na: Nova) -> None:
    big = render_manifest(Manifest(
        name="big", user="u", image_type="machine", architecture="x86_64", kernel_id=None,
        ramdisk_id=None, digest=None, size=1, bundled_size=1, ec2_encrypted_key="00",
        ec2_encrypted_iv="00", parts=tuple(Part(i, f"p.{i}", "0" * 40) for i in range(7000))))
    sa.put_object(Bucket="meas-a", Key="big/m.xml", Body=big)
    sb.put_object(Bucket="meas-b", Key="ping", Body=b"pong")
    latencies: list[float] = []
    stop = threading.Event()

    def ping() -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            sb.get_object(Bucket="meas-b", Key="ping")["Body"].read()
            latencies.append(time.monotonic() - t0)

    with concurrent.futures.ThreadPoolExecutor(17) as pool:
        pinger = pool.submit(ping)
        replies = list(pool.map(lambda _: na.register("meas-a/big/m.xml"), range(16)))
        stop.set()
        pinger.result()
    latencies.sort()
    print(f"16 concurrent registrations of a {len(big)}-byte manifest: statuses "
          f"{sorted({r.status for r in replies})}; other user's GET latency median "
          f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms "
          f"over {len(latencies)}")


def main() -> None:
    wanted = set(sys.argv[1:]) or {"bombs", "fair", "parse"}
    print("code:", objectstore.__file__)
    base = Path(tempfile.mkdtemp(prefix="images-measure-"))
    srv = cloud_server(base)
    srv.start()
    try:
        a, b = srv.new_user(), srv.new_user()
        sa, sb = srv.client(a), srv.client(b)
        sa.create_bucket(Bucket="meas-a")
        sb.create_bucket(Bucket="meas-b")
        na, nb = Nova(srv, a), Nova(srv, b)
        if "bombs" in wanted:
            bombs(srv, sa, na)
        if "fair" in wanted:
            fair(sa, sb, na, nb)
        if "parse" in wanted:
            parse(sa, sb, na)
    finally:
        t = time.monotonic()
        code = srv.stop()
        print(f"SIGTERM: exit {code} after {time.monotonic() - t:.1f}s")
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
