"""Runs moto's server for the `sovscan aws` tests on 127.0.0.1:PORT.

moto 5 writes the timestamps of S3 and IAM configuration items as Python `str(datetime)`
("2026-12-03 14:13:42.704061+00:00"); AWS Config itself sends epoch seconds, and the AWS SDKs
refuse anything else. This wrapper rewrites those two fields of AWS Config answers to epoch
seconds; everything else is moto unchanged.
Usage: moto_server.py PORT
"""

import re
import sys
from datetime import datetime

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

TIMESTAMP = re.compile(
    rb'"(configurationItemCaptureTime|resourceCreationTime)": '
    rb'"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d)?)"'
)


def to_epoch(match):
    when = datetime.fromisoformat(match.group(2).decode())
    return b'"' + match.group(1) + b'": ' + str(when.timestamp()).encode()


class EpochTimestamps:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("StarlingDoveService."):
            return self.app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        body = TIMESTAMP.sub(to_epoch, body)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]


if __name__ == "__main__":
    app = EpochTimestamps(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
