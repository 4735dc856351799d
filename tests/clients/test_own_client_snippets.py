"""The "Use your own client" panel's snippets, copied from a lesson page and run as a learner would:
kcat, Python (confluent-kafka) and JavaScript (kafkajs) against the broker of `streamlab serve`.
The Java properties cannot run here (no JVM); their bootstrap line is checked instead.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import urllib.request

import pytest

from conftest import REPO_ROOT, Broker, free_port
from support import kcat_consume, wait_until

PANEL = re.compile(r'<details class="own-client".*?</details>', re.S)
SNIPPET = re.compile(r'<p class="own-client-label">(.*?)</p>\s*<pre class="code"><code>(.*?)</code></pre>', re.S)


class Server(Broker):
    """`streamlab serve`: the course on a free HTTP port, with its embedded broker."""

    def __init__(self, data_dir, log_path):
        super().__init__(data_dir, log_path)
        self.http_port = free_port()

    @property
    def args(self) -> list[str]:
        return [*super().args[:1], "serve", "--http", f"127.0.0.1:{self.http_port}", "--kafka", self.bootstrap,
                "--data-dir", str(self.data_dir)]


@pytest.fixture
def server(tmp_path):
    served = Server(tmp_path / "data", tmp_path / "streamlab.log")
    served.start()
    yield served
    served.stop()


def fetch(url: str) -> str | None:
    try:
        return urllib.request.urlopen(url, timeout=5).read().decode()
    except OSError:
        return None  # the web port may open a moment after the Kafka port


def snippets(server: Server) -> dict[str, str]:
    url = f"http://127.0.0.1:{server.http_port}/lessons/topics-and-partitions"
    page = wait_until(lambda: fetch(url), 10, "the lesson page")
    panel = PANEL.search(page)
    assert panel, "the lesson page has the own-client panel"
    return {html.unescape(label): html.unescape(code) for label, code in SNIPPET.findall(panel.group(0))}


@pytest.mark.time_limit(90)
def test_the_panels_snippets_run_against_the_broker(server):
    found = snippets(server)
    assert set(found) == {"kcat", "Python (confluent-kafka)", "Java client properties", "JavaScript (kafkajs)"}
    assert f"bootstrap.servers={server.bootstrap}" in found["Java client properties"].splitlines()

    # kcat: metadata, one produce (auto-creating `orders`), then a read to the end.
    ran = subprocess.run(["bash", "-euo", "pipefail", "-c", found["kcat"]], capture_output=True, timeout=60)
    assert ran.returncode == 0, ran.stderr.decode()
    assert b"user-42" not in ran.stderr and b"order-1" in ran.stdout, ran.stdout.decode()

    ran = subprocess.run([sys.executable, "-c", found["Python (confluent-kafka)"]], capture_output=True, timeout=60)
    assert ran.returncode == 0, ran.stderr.decode()

    # `node -e` resolves require() from the working directory: the kafkajs test suite's packages.
    ran = subprocess.run(["node", "-e", found["JavaScript (kafkajs)"]], capture_output=True, timeout=60,
                         cwd=REPO_ROOT / "tests" / "clients" / "js")
    assert ran.returncode == 0, ran.stderr.decode()

    records = kcat_consume(server.bootstrap, "orders", "-o", "beginning")
    assert [(r.key, r.value) for r in records] == [(b"user-42", b"order-1")] * 3, records
