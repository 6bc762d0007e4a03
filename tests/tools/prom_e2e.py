#!/usr/bin/env python3
"""prom_e2e.py - umastat exporter scraped by a real Prometheus.

Three uma processes hold still: fleet_workload (zones and a malloc type of
known sizes), packet_pipeline (mbufs, busy), and an unmodified python3
preloaded with libuma-malloc.so and UMA_EXPORT=1.  `umastat exporter`
serves them; its text passes `promtool check metrics`; Prometheus (on
127.0.0.1, a temporary data directory, a 1 s scrape interval) scrapes it,
and its HTTP API must give exactly what each process holds: the
workload's zone items, malloc bytes and kmem report, and python3's zones
and malloc types as umastat reads them directly.  A killed process's series then
disappear.  Exit 77 (skipped) where prometheus is not installed.

usage: prom_e2e.py UMASTAT FLEET_WORKLOAD PACKET_PIPELINE LIBUMA_MALLOC
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIP = 77
ITEMS, BUFS, BUF_SIZE = 1234, 56, 256       # what fleet_workload holds

PY_WORKLOAD = """
import sys
held = [bytearray(1000 + i) for i in range(2000)]
print("ready", flush=True)
sys.stdin.read()
"""


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def wait_for(what, fn, seconds=20.0):
    """fn() until it returns something true; that value."""
    end = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            fail("timed out waiting for " + what)
        time.sleep(0.1)


def http_get(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    def __init__(self, argv):
        self.umastat, self.workload, self.pipeline, self.preload = argv
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="uma_prom_e2e.")
        os.environ["UMA_EXPORT_DIR"] = self.dir

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def sock(self, pid):
        return os.path.join(self.dir, "%d.sock" % pid)

    def cleanup(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def ready(self, p, name):
        line = p.stdout.readline()
        if line.strip() not in ("ready", b"ready"):
            fail("%s did not start: %r" % (name, line))
        wait_for(name + "'s socket", lambda: os.path.exists(self.sock(p.pid)))

    def umastat_prom(self, pid, view):
        """`umastat --socket ... VIEW --prometheus`: {series: value}."""
        out = subprocess.run([self.umastat, "--socket", self.sock(pid),
                              view, "--prometheus"], check=True,
                             capture_output=True, text=True).stdout
        vals = {}
        for line in out.splitlines():
            if line and not line.startswith("#"):
                series, v = line.rsplit(" ", 1)
                vals[series] = int(v)
        return vals


class Prom:
    def __init__(self, run, exporter_port):
        self.url = None
        cfg = os.path.join(run.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: uma\n"
                    "    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % exporter_port)
        for attempt in range(3):    # another program may take the port
            port = free_port()
            p = run.start(["prometheus", "--config.file=" + cfg,
                           "--storage.tsdb.path=" + os.path.join(
                               run.dir, "data%d" % attempt),
                           "--web.listen-address=127.0.0.1:%d" % port],
                          stdout=subprocess.DEVNULL,
                          stderr=open(os.path.join(run.dir, "prom.log"), "w"))
            url = "http://127.0.0.1:%d" % port
            if wait_for("prometheus to be ready or exit",
                        lambda: p.poll() is not None or self._ready(url)) \
                    and p.poll() is None:
                self.url = url
                return
        fail("prometheus did not start: " + open(os.path.join(
            run.dir, "prom.log")).read()[-2000:])

    @staticmethod
    def _ready(url):
        try:
            return http_get(url + "/-/ready")[0] == 200
        except OSError:
            return False

    def query(self, q):
        """An instant query: {labels-as-frozenset: value}."""
        body = http_get(self.url + "/api/v1/query?" +
                        urllib.parse.urlencode({"query": q}))[2]
        res = json.loads(body)
        if res["status"] != "success":
            fail("query %s: %s" % (q, body))
        return {frozenset(r["metric"].items()): float(r["value"][1])
                for r in res["data"]["result"]}

    def value(self, q):
        r = self.query(q)
        return next(iter(r.values())) if len(r) == 1 else None


def check_exporter_text(run, port):
    """The exporter's text format, as promtool lints it."""
    status, ctype, body = http_get("http://127.0.0.1:%d/metrics" % port)
    if status != 200 or "version=0.0.4" not in ctype:
        fail("exporter answered %d %s" % (status, ctype))
    lint = subprocess.run(["promtool", "check", "metrics"], input=body,
                          capture_output=True, text=True)
    if lint.returncode != 0:
        fail("promtool check metrics: " + lint.stdout + lint.stderr)


def check_same(prom, run, pid, view, metric, key):
    """Every `metric` series of process pid: Prometheus == umastat."""
    direct = run.umastat_prom(pid, view)
    n = 0
    for series, v in direct.items():
        if not series.startswith(metric + "{"):
            continue
        name = series[series.index('%s="' % key) + len(key) + 2:-2]
        q = '%s{pid="%d",%s="%s"}' % (metric, pid, key, name)
        got = prom.value(q)
        if got != v:
            fail("%s: Prometheus has %r, umastat reads %d" % (q, got, v))
        n += 1
    if n == 0:
        fail("no %s series for pid %d" % (metric, pid))
    return n


def main(argv):
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        print("prometheus not installed: skipped "
              "(apt-get install prometheus)", file=sys.stderr)
        return SKIP
    run = Run(argv)
    try:
        return e2e(run)
    finally:
        run.cleanup()


def e2e(run):
    work = run.start([run.workload, str(ITEMS), str(BUFS)],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    run.ready(work, "fleet_workload")
    env = dict(os.environ, UMA_EXPORT="1")
    pipe = run.start(["nice", "-n", "19", run.pipeline, "1000000000"],
                     env=env, stdout=subprocess.DEVNULL)
    wait_for("packet_pipeline's socket",
             lambda: os.path.exists(run.sock(pipe.pid)))
    py = run.start([sys.executable, "-c", PY_WORKLOAD],
                   env=dict(env, LD_PRELOAD=run.preload),
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    run.ready(py, "python3")

    exp = run.start([run.umastat, "exporter", "--listen", "127.0.0.1:0"],
                    stderr=subprocess.PIPE, text=True)
    line = exp.stderr.readline()
    if "http://127.0.0.1:" not in line:
        fail("exporter: " + line)
    port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
    check_exporter_text(run, port)

    prom = Prom(run, port)
    used = 'uma_zone_used_items{zone="fleet_big",pid="%d"}' % work.pid
    got = wait_for("the first scrape", lambda: prom.query(used))
    labels, v = next(iter(got.items()))
    if v != ITEMS or ("comm", "fleet_workload") not in labels:
        fail("%s = %r %s, want %d" % (used, v, sorted(labels), ITEMS))
    if prom.value('up{job="uma"}') != 1:
        fail("the exporter's target is not up")
    q = 'uma_malloc_used_bytes{type="fleet_buf",pid="%d"}' % work.pid
    if prom.value(q) != BUFS * BUF_SIZE:
        fail("%s = %r, want %d" % (q, prom.value(q), BUFS * BUF_SIZE))
    # The kmem report: what uma holds and what its callers hold.
    direct = run.umastat_prom(work.pid, "-k")
    for state in ("committed", "inuse"):
        q = 'uma_kmem_bytes{state="%s",pid="%d"}' % (state, work.pid)
        want = direct['uma_kmem_bytes{state="%s"}' % state]
        if prom.value(q) != want:
            fail("%s = %r, umastat -k reads %d" % (q, prom.value(q), want))
    # python3 holds still: every zone and type as umastat reads it now.
    nz = check_same(prom, run, py.pid, "-z", "uma_zone_used_items", "zone")
    nm = check_same(prom, run, py.pid, "-m", "uma_malloc_used_bytes", "type")
    q = ('uma_zone_requests_total{zone="mbuf_packet",pid="%d",'
         'comm="packet_pipeline"}' % pipe.pid)
    if not prom.value(q):
        fail("no mbuf_packet requests for packet_pipeline: %r" %
             prom.query(q))

    work.kill()
    work.wait()
    wait_for("the killed process's series to go",
             lambda: not prom.query('{pid="%d"}' % work.pid), 10)
    if prom.value('uma_exporter_targets') != 2:
        fail("uma_exporter_targets is not 2 after the kill")
    print("ok: fleet_workload, packet_pipeline and python3 (%d zones, "
          "%d malloc types) scraped; the killed one's series gone" %
          (nz, nm))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main(sys.argv[1:]))
