"""Load the app as staff and reviewers do, under gunicorn in production mode, on national data.

Usage: .venv/bin/python bench/load.py --database-url postgres://egov:egov@127.0.0.1:5432/egov_load
       [--reuse] [--concurrency 1 4 8] [--requests 400] [--workers 4]

1. Builds the national dataset as bench/dashboards.py does (the database is migrated and
   FLUSHED first: point it at a throwaway database) unless --reuse finds it built; logs in
   staff of 24 municipalities with a draft for FY2026 and the reviewers of 3 prefectures.
2. Starts gunicorn with deploy/gunicorn.conf.py in production mode (DJANGO_DEBUG=0, hashed
   static files) on a free loopback port, with --workers processes.
3. Worker CPU per request, by kind: for each kind, a phase of --cpu-requests requests
   alternating with a phase of the login page (the baseline), each reading the workers' CPU
   time from /proc before and after. Prints CPU ms per request and the ratio to the login
   page measured beside it (the median of 3 pairs).
4. Throughput and latency: at each concurrency level, --requests requests of the staff and
   reviewer mix (35% section page, 63% autosave, 2% overview; the reviewers: review page,
   dashboard, section read-only) and as many of the login page, in turn; prints req/s,
   p50/p95/p99 per kind and errors, each beside the login page's.

Every loop is bounded (request counts, and --max-seconds per phase). Only loopback is used.
Not a test: nothing is asserted on time.
"""

import argparse
import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FISCAL_YEAR = 2026
STAFF_BODIES = 24
REVIEWED_PREFECTURES = ("010006", "130001", "270008")  # 北海道, 東京都, 大阪府
# The staff mix measured on a real Monday-morning session (issue 14): mostly autosaves.
STAFF_MIX = (("section", 35), ("autosave", 63), ("overview", 2))
REVIEWER_MIX = (("review", 50), ("dashboard", 30), ("section_read", 20))
TICKS = os.sysconf("SC_CLK_TCK")
# The sessions are made here and read by the server: both sign them with this key.
SECRET_KEY = "load-bench-" + "k" * 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The data and the sessions ---------------------------------------------------------------


def prepare(url: str, reuse: bool) -> dict:
    """Build (or reuse) the national data; return the sessions and targets of the users."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "egov.settings")
    os.environ.setdefault("EGOV_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    from assessments.models import Assessment

    call_command("migrate", verbosity=0)
    built = (
        reuse
        and Assessment.objects.filter(fiscal_year=FISCAL_YEAR, status="in_progress").count() > 100
    )
    if not built:
        import dashboards

        dashboards.setup_database(url)
        seconds = dashboards.build()
        print(f"built the national dataset in {seconds:.0f} s")
    return _users()


def _users() -> dict:
    from django.conf import settings
    from django.test import Client

    from assessments.models import Assessment, Body, Measure, User

    def session_of(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    staff = []
    drafts = (
        Assessment.objects.filter(
            fiscal_year=FISCAL_YEAR, guideline__code="egov-2003", status="in_progress"
        )
        .exclude(body__kind=Body.Kind.PREFECTURE)
        .select_related("body", "guideline")
        .order_by("body__code")[:STAFF_BODIES]
    )
    for assessment in drafts:
        user, _ = User.objects.update_or_create(
            username=f"load-staff-{assessment.body.code}",
            defaults={"role": User.Role.BODY_STAFF, "body": assessment.body},
        )
        measures = list(Measure.objects.to_answer(assessment).select_related("section"))
        section = max(
            {m.section.ref for m in measures},
            key=lambda ref: sum(1 for m in measures if m.section.ref == ref),
        )
        staff.append(
            {
                "session": session_of(user),
                "base": assessment.get_absolute_url(),
                "section": section,
                "measures": [(m.ref, m.order) for m in measures if m.section.ref == section],
            }
        )
    reviewers = []
    for code in REVIEWED_PREFECTURES:
        prefecture = Body.objects.get(code=code)
        user, _ = User.objects.update_or_create(
            username=f"load-reviewer-{code}",
            defaults={"role": User.Role.PREFECTURE_REVIEWER, "body": prefecture},
        )
        submitted = (
            Assessment.objects.filter(
                fiscal_year=FISCAL_YEAR, body__prefecture=prefecture, status="submitted"
            )
            .select_related("body", "guideline")
            .order_by("body__code")[:8]
        )
        reviewers.append(
            {
                "session": session_of(user),
                "assessments": [a.get_absolute_url() for a in submitted],
            }
        )
    cookies = {"session": settings.SESSION_COOKIE_NAME, "csrf": settings.CSRF_COOKIE_NAME}
    return {"staff": staff, "reviewers": reviewers, "cookies": cookies}


# --- The server ------------------------------------------------------------------------------


class Server:
    def __init__(self, url: str, workers: int):
        self.port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "EGOV_REQUIRE_MFA": "0",  # the sessions are made without a second factor
            "EGOV_LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_ACCESSLOG": os.devnull,
            "GUNICORN_MAX_REQUESTS": "0",  # no recycling: the CPU is read per worker pid
        }
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz/")
                if connection.getresponse().status == 200 and len(self.workers()) == workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not start")

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def cpu_seconds(self) -> float:
        """User and system CPU of the worker processes so far."""
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICKS

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- The requests ----------------------------------------------------------------------------


class User:
    """One logged-in person on one keep-alive connection."""

    cookies = {"session": "sessionid", "csrf": "csrftoken"}  # settings' names, set by main()

    def __init__(self, port: int, session: str):
        self.port = port
        self.cookie = f"{self.cookies['session']}={session}"
        self.csrf = ""
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.lock = threading.RLock()  # one person's requests go one after the other

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        with self.lock:
            return self._request(method, path, body)

    def _request(self, method: str, path: str, body: str | None) -> tuple[int, bytes]:
        csrf = f"; {self.cookies['csrf']}={self.csrf}" if self.csrf else ""
        headers = {"Cookie": self.cookie + csrf}
        if body is not None:
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.csrf,
                "Origin": f"http://127.0.0.1:{self.port}",
            }
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                for name, value in response.getheaders():
                    if name.lower() == "set-cookie" and value.startswith(
                        self.cookies["csrf"] + "="
                    ):
                        self.csrf = value.split(";", 1)[0].split("=", 1)[1]
                return response.status, data
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")


class Staff(User):
    def __init__(self, port: int, data: dict, rng: random.Random):
        super().__init__(port, data["session"])
        self.data, self.rng = data, rng
        self.versions: dict[str, int] = {}
        self.saves = 0
        self.section()  # the page the autosaves are made from (sets the CSRF cookie)

    def section(self) -> int:
        path = f"{self.data['base']}sections/{self.data['section']}/"
        status, html = self.request("GET", path)
        for ref, order in self.data["measures"]:
            found = re.search(rf'name="m{order}-version" value="(\d+)"'.encode(), html)
            if found:
                self.versions[ref] = int(found.group(1))
        return status

    def autosave(self) -> int:
        from urllib.parse import quote, urlencode

        ref, order = self.rng.choice(self.data["measures"])
        self.saves += 1
        body = urlencode(
            {
                f"m{order}-version": self.versions.get(ref, 0),
                f"m{order}-level": str(self.saves % 5),
                f"m{order}-note": f"負荷試験の備考 {self.saves}",
            }
        )
        path = f"{self.data['base']}measures/{quote(ref)}/autosave/"
        status, data = self.request("POST", path, body)
        if status == 200:
            found = re.search(rb'"version": ?(\d+)', data)
            if found:
                self.versions[ref] = int(found.group(1))
        elif status == 409:
            self.section()  # someone else saved: reload, as the page would
        return status

    def overview(self) -> int:
        return self.request("GET", self.data["base"])[0]


class Reviewer(User):
    def __init__(self, port: int, data: dict, rng: random.Random):
        super().__init__(port, data["session"])
        self.data, self.rng = data, rng

    def review(self) -> int:
        return self.request("GET", self.rng.choice(self.data["assessments"]) + "review/")[0]

    def dashboard(self) -> int:
        return self.request("GET", f"/dashboard/?fiscal_year={FISCAL_YEAR}&guideline=egov-2003")[0]

    def section_read(self) -> int:
        return self.request("GET", self.rng.choice(self.data["assessments"]) + "sections/II.1/")[0]


class Anonymous(User):
    def __init__(self, port: int):
        super().__init__(port, "")
        self.cookie = ""

    def login(self) -> int:
        return self.request("GET", "/accounts/login/")[0]


def _people(port: int, users: dict, count: int, rng: random.Random) -> list:
    staff = [Staff(port, users["staff"][i % len(users["staff"])], rng) for i in range(count)]
    reviewers = [Reviewer(port, r, rng) for r in users["reviewers"]]
    return staff + reviewers


def run(tasks: list, concurrency: int, max_seconds: float) -> tuple[dict, int, float]:
    """Run (kind, callable) tasks on `concurrency` threads; {kind: [ms]}, errors, seconds."""
    timings: dict[str, list[float]] = defaultdict(list)
    errors = 0
    lock = threading.Lock()
    queue = list(reversed(tasks))
    deadline = time.monotonic() + max_seconds

    def worker():
        nonlocal errors
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                kind, call = queue.pop()
            started = time.perf_counter()
            try:
                ok = call() in (200, 409)
            except (OSError, http.client.HTTPException):
                ok = False
            ms = (time.perf_counter() - started) * 1000
            with lock:
                timings[kind].append(ms)
                errors += not ok

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings, errors, time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def cpu_per_request(server: Server, tasks: list, max_seconds: float) -> float:
    before = server.cpu_seconds()
    timings, errors, _ = run(tasks, 2, max_seconds)
    done = sum(len(v) for v in timings.values())
    if errors:
        print(f"  ({errors} errors of {done})")
    return (server.cpu_seconds() - before) * 1000 / max(done, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--reuse", action="store_true", help="keep a database already built")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--cpu-requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=120)
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgres"):
        raise SystemExit("--database-url postgres://… (a throwaway database) is required")

    users = prepare(args.database_url, args.reuse)
    User.cookies = users["cookies"]
    rng = random.Random(14)
    server = Server(args.database_url, args.workers)
    try:
        people = _people(server.port, users, 8, rng)
        staff = [p for p in people if isinstance(p, Staff)]
        reviewers = [p for p in people if isinstance(p, Reviewer)]
        anonymous = [Anonymous(server.port) for _ in range(8)]

        def tasks_of(kind: str, count: int) -> list:
            if kind == "login":
                return [(kind, anonymous[i % 8].login) for i in range(count)]
            pool = reviewers if kind in dict(REVIEWER_MIX) else staff
            return [(kind, getattr(pool[i % len(pool)], kind)) for i in range(count)]

        def mix(count: int) -> list:
            kinds = [k for k, w in STAFF_MIX for _ in range(w)]
            return [tasks_of(rng.choice(kinds), 1)[0] for _ in range(count)]

        # Warm every worker (imports, templates, the catalog kept in memory).
        for kind in ("login", "section", "autosave", "overview", "review", "dashboard"):
            run(tasks_of(kind, 4 * args.workers), 4, args.max_seconds)

        print(f"\nworker CPU per request ({args.workers} workers, 2 client threads)")
        print(f"{'kind':<14}{'cpu ms':>9}{'login ms':>10}{'ratio':>8}")
        cpu_kinds = [("staff mix", mix), *[(k, k) for k, _ in STAFF_MIX + REVIEWER_MIX]]
        for label, kind in cpu_kinds:
            pairs = []
            for _ in range(3):
                login = cpu_per_request(
                    server, tasks_of("login", args.cpu_requests), args.max_seconds
                )
                tasks = (
                    kind(args.cpu_requests) if callable(kind) else tasks_of(kind, args.cpu_requests)
                )
                pairs.append((cpu_per_request(server, tasks, args.max_seconds), login))
            ms = statistics.median(p[0] for p in pairs)
            login_ms = statistics.median(p[1] for p in pairs)
            print(f"{label:<14}{ms:>9.2f}{login_ms:>10.2f}{ms / login_ms:>7.1f}×")

        for concurrency in args.concurrency:
            baseline, base_errors, base_seconds = run(
                tasks_of("login", args.requests), concurrency, args.max_seconds
            )
            timings, errors, seconds = run(mix(args.requests), concurrency, args.max_seconds)
            done = sum(len(v) for v in timings.values())
            print(
                f"\nconcurrency {concurrency}: staff mix {done / seconds:.1f} req/s, "
                f"{errors} errors; login page {len(baseline['login']) / base_seconds:.1f} req/s, "
                f"{base_errors} errors"
            )
            print(f"{'kind':<10}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
            for kind, values in sorted(timings.items()) + [("login", baseline["login"])]:
                print(
                    f"{kind:<10}{len(values):>6}{percentile(values, 50):>9.1f}"
                    f"{percentile(values, 95):>9.1f}{percentile(values, 99):>9.1f}"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
