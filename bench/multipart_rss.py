"""Measure objectstore's peak RSS during a 5 GiB multipart upload (80 x 64 MiB parts, 4 at once)."""
import os, secrets, subprocess, sys, time, threading, socket, shutil
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config
port = 3366
d = "/tmp/mp5g-data"; shutil.rmtree(d, ignore_errors=True)
env = dict(os.environ, OBJECTSTORE_ROOT_ACCESS_KEY="AK", OBJECTSTORE_ROOT_SECRET_KEY="SK")
proc = subprocess.Popen([sys.executable, "-m", "objectstore", "serve", "--data-dir", d, "--port", str(port)],
                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close(); break
    except OSError: time.sleep(0.1)
peak = [0]; stop = [False]
def poll():
    while not stop[0]:
        try:
            for line in open(f"/proc/{proc.pid}/status"):
                if line.startswith("VmRSS:"): peak[0] = max(peak[0], int(line.split()[1]))
        except OSError: pass
        time.sleep(0.1)
t = threading.Thread(target=poll); t.start()
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="AK", aws_secret_access_key="SK",
                  region_name="us-east-1", config=Config(max_pool_connections=8))
s3.create_bucket(Bucket="big")
up = s3.create_multipart_upload(Bucket="big", Key="5g")["UploadId"]
part = secrets.token_bytes(64 << 20)
t0 = time.time()
def send(n):
    return {"PartNumber": n, "ETag": s3.upload_part(Bucket="big", Key="5g", UploadId=up, PartNumber=n, Body=part)["ETag"]}
with ThreadPoolExecutor(4) as ex:
    parts = list(ex.map(send, range(1, 81)))
s3.complete_multipart_upload(Bucket="big", Key="5g", UploadId=up, MultipartUpload={"Parts": parts})
dt = time.time() - t0
size = s3.head_object(Bucket="big", Key="5g")["ContentLength"]
stop[0] = True; t.join(); proc.terminate(); proc.wait()
print(f"5 GiB multipart upload: {size} bytes in {dt:.1f} s ({size/dt/1e6:.0f} MB/s); server peak RSS {peak[0]/1024:.1f} MB")
shutil.rmtree(d, ignore_errors=True)
