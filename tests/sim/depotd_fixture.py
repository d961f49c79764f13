"""A real depotd for depotsim's tests and benchmarks: temp directory and SQLite database, port 0 (the port is
read from depotd's "listening on 127.0.0.1:<port>/" log line), stopped with SIGTERM and removed afterwards.

Every wait has a deadline; everything started here is stopped by Depotd.stop() (also on exceptions when used
as a context manager). Network: 127.0.0.1 only.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time

LISTEN_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+)(/\S*)")
_hash_cache = {}


def hash_password(depotd, password, iterations=1000):
    """A password hash from depotd itself (--hash-password); 1000 iterations keeps handshakes cheap."""
    key = (depotd, password, iterations)
    if key not in _hash_cache:
        d = tempfile.mkdtemp(prefix="depotsim-hash-")
        try:
            cfg = os.path.join(d, "c.json")
            with open(cfg, "w") as f:
                json.dump({"pbkdf2_iterations": iterations}, f)
            out = subprocess.run([depotd, "-c", cfg, "--hash-password"], input=password + "\n", text=True,
                                 capture_output=True, timeout=30, check=True).stdout.strip()
            if not out.startswith("pbkdf2-sha256$"):
                raise RuntimeError("unexpected --hash-password output: " + out)
            _hash_cache[key] = out
        finally:
            shutil.rmtree(d, ignore_errors=True)
    return _hash_cache[key]


def base_config(**extra):
    cfg = {
        "listen_address": "127.0.0.1", "port": 0, "log_level": "info", "heartbeat_interval_s": 300,
        "pending_retry_interval_s": 60, "call_timeout_s": 30, "max_frame_bytes": 65536,
        "auto_register": False, "unknown_id_token": "Accepted", "read_capabilities": True,
        "pbkdf2_iterations": 1000, "stations": [], "id_tokens": [],
        # Stations without a password are allowed here: loopback, tests.
        "unauthenticated_stations": True,
    }
    cfg.update(extra)
    return cfg


class Depotd:
    def __init__(self, depotd, config, keep_log=None):
        self.depotd = depotd
        self.dir = tempfile.mkdtemp(prefix="depotsim-depotd-")
        self.db = os.path.join(self.dir, "depotd.db")
        self.config_path = os.path.join(self.dir, "depotd.json")
        with open(self.config_path, "w") as f:
            json.dump(config, f)
        self.proc = None
        self.port = 0
        self.path = "/ocpp/"
        self.log = []
        self.keep_log = keep_log
        self._seen = threading.Event()

    def _reader(self):
        for line in self.proc.stderr:
            self.log.append(line)
            if len(self.log) > 200000:  # bounded: a 10,000-station run logs a lot
                del self.log[:100000]
            m = LISTEN_RE.search(line)
            if m and not self._seen.is_set():
                self.port = int(m.group(1))
                self.path = m.group(2).split("{")[0]
                self._seen.set()

    def start(self, timeout=30):
        self.proc = subprocess.Popen([self.depotd, "-c", self.config_path, "-d", self.db, "-p", "0"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        threading.Thread(target=self._reader, daemon=True).start()
        if not self._seen.wait(timeout):
            self.stop()
            raise RuntimeError("depotd did not log its listening line:\n" + "".join(self.log[-50:]))
        return self

    def url(self):
        return "ws://127.0.0.1:%d%s" % (self.port, self.path.rstrip("/"))

    def api_url(self, timeout=10):
        """The JSON API's base URL (config api_port set), from depotd's "JSON API on" log line."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.log):
                m = re.search(r"JSON API on (http://127\.0\.0\.1:\d+)/", line)
                if m:
                    return m.group(1)
            time.sleep(0.05)
        raise RuntimeError("depotd did not log its JSON API line")

    def query(self, sql, args=()):
        """Read the store like any other SQLite reader would (WAL: sees what depotd committed)."""
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def stop(self, timeout=20):
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(5)
        elif self.proc:
            rc = self.proc.returncode
        if self.keep_log:
            with open(self.keep_log, "w") as f:
                f.writelines(self.log)
        keep = os.environ.get("DEPOTD_KEEP_DIR")  # to diagnose a failure after the fact: the log and the event log
        if keep:
            os.makedirs(keep, exist_ok=True)
            stem = os.path.join(keep, os.path.basename(self.dir))
            with open(stem + ".log", "w") as f:
                f.writelines(self.log)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.db + suffix):
                    shutil.copy(self.db + suffix, stem + ".db" + suffix)
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def run(cmd, timeout):
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p, time.monotonic() - t
