"""A local S3 API: moto's server in its own process on a free port of 127.0.0.1, with one bucket.

Stands in for AWS S3 (or MinIO, R2) in the tests and `hurricane demo --stack services`: deltalake, boto3
and Dagster talk to it over real HTTP with the same settings they would use against AWS. moto is a
test dependency (the `dev` extra); a deployment points `AWS_ENDPOINT_URL` at its own object store.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hurricane_assets.local_stack.interrupts import deferred_interrupts
from hurricane_assets.local_stack.ports import free_port, wait_for_port
from hurricane_assets.local_stack.service import LocalService

REGION = "eu-west-1"


class LocalS3(LocalService):
    """`with LocalS3("hurricane") as s3: s3.environ()` — credentials and endpoint for the AWS SDKs."""

    def __init__(self, bucket: str = "hurricane", log: Path | None = None):
        self.bucket = bucket
        self.port = 0
        self.log = log
        self._process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        """The standard AWS variables for this server (moto accepts any credentials)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "hurricane-local",
            "AWS_SECRET_ACCESS_KEY": "hurricane-local-secret",
        }

    def client(self):
        import boto3

        env = self.environ()
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])

    def start(self) -> LocalS3:
        try:
            import moto.server  # noqa: F401  (fail here with a clear message, not in the child)
        except ImportError:
            raise RuntimeError("the local S3 server needs moto: pip install 'moto[server]' (the project's dev extra)") from None
        self.port = free_port()
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        # its own session: the terminal's Ctrl-C reaches the stack, which stops it (the server died of
        # it on its own before, and the stack's next S3 call failed with a bare OSError); and a Ctrl-C
        # between the fork and the assignment would leave a server nobody stops
        with deferred_interrupts():
            self._process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                             stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, timeout=60, what="moto S3 server", alive=lambda: self._process.poll() is None)
        self.client().create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        return self

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def uri(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", *parts])

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
