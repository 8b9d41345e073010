"""Money benchmark: checkout-shaped ledger writes per second, next to pgbench's TPC-B.

    .venv/bin/python bench/money_checkout.py                      # both engines, 1/4/16 clients
    .venv/bin/python bench/money_checkout.py --engine postgres --clients 16 --seconds 30

One operation is what a checkout does to the money: ``payments.services.payment_start`` for
one order with the sandbox's success card (4242 4242 4242 4242) and a fresh idempotency key —
it stores the payment (the idempotency record) and opens the order's escrow, the sandbox
stores its charge, and the ledger records the charge (provider clearing → escrow, with the
provider fee postings) and marks the escrow held. An operation counts when it returns a
``succeeded`` payment.

Clients: 1, 4 and 16 (``--clients``), each with its own pre-created buyer/seller pair
("distinct sellers"), and a variant where every client sells to its buyer as the SAME seller
("one seller"). Each client count runs with threads in one process (psycopg and sqlite3
release the GIL while waiting, but the Python work holds it) and with processes
(multiprocessing "spawn", each with its own Django setup and connection); one client is the
same either way and runs once. Every client does 3 untimed warm-up checkouts, waits at a
barrier, then runs for ``--seconds``.

Each engine runs in its own process against its OWN database, never the app's: the SQLite
file ``var/bench/money_checkout.sqlite3`` (WAL, the app's pragmas; recreated each run) or the
PostgreSQL database ``mm_bench_money`` (dropped and created each run) on the server of
BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432). Settings:
``micromarket.settings.development`` with DEBUG off. An operator fee schedule (USD small-order
fee, a category commission) is in force, so the fee lookups run as they would in production.

Baseline in the same run (PostgreSQL): ``pgbench`` with its default TPC-B-like script,
``pgbench -i -s 10`` into the database ``mm_pgbench``, then ``pgbench -c N -j N -T seconds``
right before our runs at N clients. The table shows ours / pgbench. Beside throughput, CPU per
operation: our clients' (thread CPU time, which on SQLite includes the database engine) and the
PostgreSQL backends' serving them (/proc/<pid>/stat of the backends of the bench database), the
same for pgbench, and how busy the whole machine was (others' work included: the machines here
are shared). PostgreSQL gets ``ANALYZE`` before each measurement, as autovacuum would do on a
running server (it is off on the development server; without statistics the payment replay
lookup reads all of a buyer's payments).

Correctness under load: after each measurement the number of ledger transactions written must
equal the number of successful checkouts (warm-ups included), and at the end
``ledger.selectors.ledger_verify()`` must be empty. Then, on one client: the SQL statements of
one checkout (``CaptureQueriesContext``, plus commits), where the wall time goes (time inside
SQL execute, in commits, in Python) and a cProfile of ``--profile-ops`` checkouts.
"""

# A developer's benchmark, not application code: the child processes and pg tools are ours,
# SQL names come from constants.
# ruff: noqa: S603, S607

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import math
import multiprocessing
import os
import pstats
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the spawned workers import this file, then micromarket

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = "mm_bench_money"
PGBENCH_DB = "mm_pgbench"
SQLITE_PATH = ROOT / "var" / "bench" / "money_checkout.sqlite3"
SETTINGS = "micromarket.settings.development"
CARD = "4242424242424242"
CURRENCY = "USD"
WARMUP_OPS = 3
TARGET_SHARE = 0.30  # issue 4: ≥ 30 % of pgbench's TPS at 16 clients on PostgreSQL


def log(message: str) -> None:
    print(message, flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return round(ordered[index], 2)


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores; /proc/stat, Linux)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def backend_pids(dbname: str) -> list[int]:
    """The PostgreSQL server processes serving clients of ``dbname`` right now."""
    import psycopg

    with psycopg.connect(f"{pg_base()}/postgres", autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            [dbname],
        ).fetchall()
    return [pid for (pid,) in rows]


def processes_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) each live process has used so far (/proc/<pid>/stat)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone (or not Linux)
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two samples by the processes alive at both."""
    return sum(after[pid] - before[pid] for pid in after if pid in before)


def pg_base() -> str:
    return os.environ.get("BENCH_PG_URL", DEFAULT_PG).rstrip("/")


def pg_env() -> dict:
    rest = pg_base().split("://", 1)[1]
    user, _, hostport = rest.rpartition("@")
    host, _, port = hostport.partition(":")
    return {
        **os.environ,
        "PGHOST": host or "127.0.0.1",
        "PGPORT": port or "5432",
        "PGUSER": user.split(":")[0] or "postgres",
    }


def pg_tool(*command: str) -> str:
    """Run a PostgreSQL client tool quietly; its messages are shown only if it fails."""
    run = subprocess.run(command, env=pg_env(), capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stderr}")
    return run.stdout


def pg_recreate(name: str) -> None:
    pg_tool("dropdb", "--if-exists", name)
    pg_tool("createdb", name)


def pg_drop(name: str) -> None:
    pg_tool("dropdb", "--if-exists", name)


# --- one client: the operation ---------------------------------------------------------------


def django_setup() -> None:
    os.environ["DEBUG"] = "0"  # no query log in memory while timing
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def checkout(buyer, seller, category, tag: str, n: int):
    """One checkout's money movement; returns the Payment."""
    from micromarket.payments import services

    reference = f"order:{tag}-{n}"
    return services.payment_start(
        buyer=buyer,
        currency=CURRENCY,
        orders=[
            services.OrderCharge(
                reference=reference,
                seller=seller,
                subtotal=2_500 + n % 50 * 100,
                description=f"Logo design ({reference})",
                category_id=category[0],
                parent_category_id=category[1],
            )
        ],
        payment_method=CARD,
        idempotency_key=f"checkout-{tag}-{n}",
        return_url="http://127.0.0.1:8000/orders/back/",
    )


def client_loop(spec: dict, barriers, results) -> None:
    """Warm up, wait for the others, check out until the time is up, wait until the CPU is
    sampled (the connection stays open until then); report to ``results``."""
    start_line, finish_line = barriers
    from django.db import connection

    from micromarket.accounts.models import User
    from micromarket.payments.models import PaymentStatus

    out = {"client": spec["client"], "ok": 0, "warmup_ok": 0, "errors": Counter(), "lat": []}
    try:
        buyer = User.objects.get(pk=spec["buyer"])
        seller = User.objects.get(pk=spec["seller"])
        tag = f"{spec['tag']}-c{spec['client']}"
        n = 0
        for _ in range(WARMUP_OPS):
            n += 1
            if checkout(buyer, seller, spec["category"], tag, n).status == PaymentStatus.SUCCEEDED:
                out["warmup_ok"] += 1
        start_line.wait(timeout=300)
        start, cpu = time.monotonic(), time.thread_time()
        deadline = start + spec["seconds"]
        while (now := time.monotonic()) < deadline:
            n += 1
            try:
                payment = checkout(buyer, seller, spec["category"], tag, n)
            except Exception as exc:  # counted and shown; the run goes on
                out["errors"][f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                continue
            done = time.monotonic()
            if payment.status == PaymentStatus.SUCCEEDED:
                out["ok"] += 1
                out["lat"].append((done - now) * 1000)
            else:
                out["errors"][f"status {payment.status}"] += 1
        out["start"], out["end"] = start, time.monotonic()
        out["cpu"] = time.thread_time() - cpu
        finish_line.wait(timeout=600)
    except Exception as exc:
        out["errors"][f"client failed: {type(exc).__name__}: {exc}"] += 1
        for barrier in barriers:
            with contextlib.suppress(Exception):
                barrier.abort()
    finally:
        connection.close()
    out["errors"] = dict(out["errors"])
    results.put(out)


def process_main(spec: dict, barriers, results) -> None:
    """Entry point of a spawned client process: its own Django, its own connection."""
    django_setup()
    client_loop(spec, barriers, results)


# --- one measurement --------------------------------------------------------------------------


def measure(*, mode: str, clients: int, variant: str, seconds: float, pairs, category) -> dict:
    from django.db import connection

    from micromarket.ledger.models import Transaction

    tag = f"{mode[0]}{clients}{variant[0]}-{uuid.uuid4().hex[:6]}"
    specs = [
        {
            "client": i,
            "buyer": pairs[i][0],
            "seller": pairs[0][1] if variant == "one seller" else pairs[i][1],
            "category": category,
            "tag": tag,
            "seconds": seconds,
        }
        for i in range(clients)
    ]
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum keeps them on a running server (it is off on
        # some development servers). Without them PostgreSQL finds a buyer's payment by
        # idempotency key through the buyer_id index and filters all of the buyer's payments.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    before = Transaction.objects.count()
    connection.close()  # not shared with threads or across a spawn
    if mode == "processes":
        ctx = multiprocessing.get_context("spawn")
        barriers, results = (ctx.Barrier(clients + 1), ctx.Barrier(clients + 1)), ctx.Queue()
        workers = [ctx.Process(target=process_main, args=(s, barriers, results)) for s in specs]
    else:
        import queue

        barriers = (threading.Barrier(clients + 1), threading.Barrier(clients + 1))
        results = queue.Queue()
        workers = [threading.Thread(target=client_loop, args=(s, barriers, results)) for s in specs]
    for w in workers:
        w.start()
    # This thread starts with the clients, samples CPU over the timed window — the whole
    # machine's (other people's work included) and that of the PostgreSQL backends serving our
    # clients — and lets them close their connections after that.
    busy = server = 0.0
    with contextlib.suppress(threading.BrokenBarrierError):
        barriers[0].wait(timeout=600)
        pids = backend_pids(BENCH_DB) if connection.vendor == "postgresql" else []
        busy, first = machine_busy(), processes_cpu(pids)
        time.sleep(seconds)
        busy, server = machine_busy() - busy, cpu_used(first, processes_cpu(pids))
        barriers[1].wait(timeout=600)
    outs = [results.get(timeout=600) for _ in workers]
    for w in workers:
        w.join()
    errors: Counter = Counter()
    for o in outs:
        errors.update(o["errors"])
    timed = [o for o in outs if "start" in o]
    ok = sum(o["ok"] for o in timed)
    warm = sum(o["warmup_ok"] for o in outs)
    elapsed = (max(o["end"] for o in timed) - min(o["start"] for o in timed)) if timed else 0
    latencies = [x for o in timed for x in o["lat"]]
    written = Transaction.objects.count() - before
    client_cpu = sum(o.get("cpu", 0.0) for o in timed)
    return {
        "mode": mode,
        "clients": clients,
        "variant": variant,
        "ops": ok,
        "seconds": round(elapsed, 2),
        "ops_per_s": round(ok / elapsed, 1) if elapsed else 0.0,
        "p50": pct(latencies, 50),
        "p95": pct(latencies, 95),
        # CPU per checkout: our clients (Python, and SQLite itself), PostgreSQL's backends
        "client_cpu_ms": round(client_cpu / ok * 1000, 2) if ok else 0.0,
        "server_cpu_ms": round(server / (ok / elapsed * seconds) * 1000, 2) if server else None,
        "machine_busy": round(busy / seconds / (os.cpu_count() or 1), 3),
        "errors": dict(errors),
        "transactions_written": written,
        "checkouts_succeeded": ok + warm,
        "consistent": written == ok + warm and not errors,
    }


# --- pgbench ----------------------------------------------------------------------------------


def pgbench_init() -> None:
    pg_recreate(PGBENCH_DB)
    pg_tool("pgbench", "-i", "-q", "-s", "10", PGBENCH_DB)


def pgbench_run(clients: int, seconds: float) -> dict:
    """``pgbench -c N -j N -T seconds`` (defaults: the TPC-B-like script, its tables vacuumed
    first), with the CPU of pgbench itself and of its backends over the middle of the run."""
    import resource

    duration = max(4, round(seconds))
    command = ["pgbench", "-c", str(clients), "-j", str(clients), "-T", str(duration)]
    command.append(PGBENCH_DB)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        command, env=pg_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(1.5)  # vacuum, connections
    pids = backend_pids(PGBENCH_DB)
    t0, busy, first = time.monotonic(), machine_busy(), processes_cpu(pids)
    time.sleep(duration - 2.5)
    window = time.monotonic() - t0
    busy, server = machine_busy() - busy, cpu_used(first, processes_cpu(pids))
    out, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"pgbench failed ({proc.returncode}):\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    tps = latency = None
    for line in out.splitlines():
        if line.startswith("tps ="):
            tps = float(line.split()[2])
        if line.startswith("latency average"):
            latency = float(line.split("=")[1].split()[0])
    return {
        "tps": tps,
        "latency_ms": latency,
        "client_cpu_ms": round(client / (tps * duration) * 1000, 3) if tps else None,
        "server_cpu_ms": round(server / (tps * window) * 1000, 3) if tps else None,
        "machine_busy": round(busy / window / (os.cpu_count() or 1), 3),
    }


# --- profile of one client --------------------------------------------------------------------


def profile_one_client(pairs, category, ops: int) -> dict:
    """SQL statements of one checkout, the wall-time split and a cProfile over ``ops``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from micromarket.accounts.models import User

    buyer = User.objects.get(pk=pairs[0][0])
    seller = User.objects.get(pk=pairs[0][1])
    tag = f"prof-{uuid.uuid4().hex[:6]}"
    for n in range(1, 4):  # warm
        checkout(buyer, seller, category, tag, n)

    commits = {"n": 0, "s": 0.0}
    real_commit = connection.commit

    def counting_commit():
        t = time.perf_counter()
        try:
            return real_commit()
        finally:
            commits["n"] += 1
            commits["s"] += time.perf_counter() - t

    connection.commit = counting_commit
    try:
        with CaptureQueriesContext(connection) as captured:
            checkout(buyer, seller, category, tag, 10)
        one_commits = commits["n"]
        # Django logs commits as "COMMIT" entries too; they are counted apart.
        statements = [
            q["sql"] for q in captured.captured_queries if q["sql"] not in ("COMMIT", "ROLLBACK")
        ]

        sql = {"n": 0, "s": 0.0}

        def timing(execute, sql_text, params, many, context):
            t = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                sql["n"] += 1
                sql["s"] += time.perf_counter() - t

        commits.update(n=0, s=0.0)
        t0 = time.perf_counter()
        with connection.execute_wrapper(timing):
            for n in range(100, 100 + ops):
                checkout(buyer, seller, category, tag, n)
        wall = time.perf_counter() - t0
    finally:
        del connection.commit
    split = {
        "ops": ops,
        "ms_per_op": round(wall / ops * 1000, 2),
        "sql_ms_per_op": round(sql["s"] / ops * 1000, 2),
        "commit_ms_per_op": round(commits["s"] / ops * 1000, 2),
        "python_ms_per_op": round((wall - sql["s"] - commits["s"]) / ops * 1000, 2),
        "statements_per_op": round(sql["n"] / ops, 1),
    }

    profiler = cProfile.Profile()
    profiler.enable()
    for n in range(10_000, 10_000 + ops):
        checkout(buyer, seller, category, tag, n)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(r"micromarket|django/db/models/(query|base)", 28)
    profile = [
        line
        for line in text.getvalue().splitlines()
        if line.strip() and ("micromarket" in line or "django" in line or "ncalls" in line)
    ]
    return {
        "breakdown": breakdown(stats, ops),
        "statements": statements,
        "kinds": dict(Counter(classify(s) for s in statements)),
        "commits": one_commits,
        "split": split,
        "profile": profile,
    }


# Where a checkout's time goes, read off the cProfile: (label, file part, function name).
# Indented rows are inside the row above; shares are of payment_start's total.
BREAKDOWN = [
    ("payment_start (whole checkout)", "payments/services.py", "payment_start"),
    ("  fees.schedule_at (in payment_start and in fee_quote)", "payments/fees.py", "schedule_at"),
    ("  fees.fee_quote (schedule, currency fees, category rate)", "payments/fees.py", "fee_quote"),
    ("  ledger.escrow_open", "ledger/services.py", "escrow_open"),
    ("  provider call (sandbox: control row + its own charge row)", "sandbox.py", "charge"),
    (
        "  payment_record_result (lock payment, charge_record, save)",
        "payments/services.py",
        "payment_record_result",
    ),
    ("    charge_record (lock escrow, accounts, post)", "ledger/services.py", "charge_record"),
    ("      transaction_post", "ledger/services.py", "transaction_post"),
    ("  idempotency replays checked (_replayed)", "ledger/services.py", "_replayed"),
    ("  account_for (system accounts looked up)", "ledger/services.py", "account_for"),
    ("ORM: compiling SQL (SQLCompiler.as_sql)", "sql/compiler.py", "as_sql"),
    ("ORM: building rows into models (Model.__init__)", "django/db/models/base.py", "__init__"),
    ("driver: executing statements (CursorWrapper._execute)", "backends/utils.py", "_execute"),
    ("driver: commits", "backends/base/base.py", "_commit"),
]


def breakdown(stats, ops: int) -> list[dict]:
    """Cumulative milliseconds per checkout (profiled, so inflated) for the BREAKDOWN rows."""
    rows = []
    total = None
    for label, suffix, name in BREAKDOWN:
        calls, cum = 0, 0.0
        for (filename, _, func), (_, ncalls, _, ct, _) in stats.stats.items():
            if func == name and suffix in filename:
                calls += ncalls
                cum += ct
        ms = cum / ops * 1000
        if total is None:
            total = ms or 1.0
        rows.append(
            {"label": label, "calls": round(calls / ops, 1), "ms": round(ms, 2),
             "share": round(ms / total, 3)}
        )  # fmt: skip
    return rows


def classify(sql: str) -> str:
    head = sql.lstrip().split(None, 1)[0].upper()
    if head == "SELECT" and "FOR UPDATE" in sql.upper():
        return "SELECT … FOR UPDATE"
    if head in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN"):
        return "SAVEPOINT/RELEASE" if head != "BEGIN" else "BEGIN"
    return head


# --- the child: one engine --------------------------------------------------------------------


def prepare(connection) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Users (a buyer/seller pair per client slot), an operator fee schedule; returns the pairs
    and the (category, parent category) the orders are in."""
    from django.utils import timezone

    from micromarket.accounts.models import User
    from micromarket.catalog.models import Category
    from micromarket.ledger import services as ledger
    from micromarket.payments import services as payments

    def user(email: str, name: str, **extra) -> User:
        u = User(email=email, display_name=name, email_verified_at=timezone.now(), **extra)
        u.set_unusable_password()
        return u

    slots = 16
    users = [user(f"buyer{i}@bench.test", f"Buyer {i}") for i in range(slots)]
    users += [user(f"seller{i}@bench.test", f"Seller {i}") for i in range(slots)]
    User.objects.bulk_create(users)
    ids = {u.email: u.pk for u in User.objects.filter(email__endswith="@bench.test")}
    pairs = [(ids[f"buyer{i}@bench.test"], ids[f"seller{i}@bench.test"]) for i in range(slots)]
    operator = User.objects.create(
        email="operator@bench.test", display_name="Operator", is_staff=True
    )
    sub = Category.objects.filter(parent__isnull=False).order_by("id").first()
    payments.fee_schedule_create(
        operator=operator,
        effective_from=timezone.now(),
        commission_bps=1000,
        buyer_fee_bps=500,
        category_commissions={sub.parent_id: 1200},
        currency_fees={CURRENCY: {"small_order_fee": 100, "small_order_threshold": 1000}},
        note="benchmark",
    )
    # The system accounts exist on a running site; create them before timing.
    for kind in ("provider_clearing", "provider_fees"):
        ledger.account_for(kind, CURRENCY)
    return pairs, (sub.id, sub.parent_id)


def child(args) -> None:
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    from micromarket.ledger.models import Transaction
    from micromarket.ledger.selectors import ledger_verify

    engine = connection.vendor
    t0 = time.perf_counter()
    if engine == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    log(f"[{engine}] migrating a fresh database …")
    call_command("migrate", verbosity=0, interactive=False)
    pairs, category = prepare(connection)
    log(f"  ready in {time.perf_counter() - t0:.0f} s")
    pg = engine == "postgresql"
    baseline: dict[int, dict] = {}
    if pg and args.pgbench:
        log("[pgbench] pgbench -i -s 10 …")
        pgbench_init()

    rows = []
    for clients in args.clients:
        if pg and args.pgbench:
            log(f"[pgbench] {clients} clients, {args.seconds:g} s …")
            baseline[clients] = pgbench_run(clients, args.seconds)
            log(f"  {baseline[clients]['tps']:,.0f} tps")
        for variant in args.variants:
            if clients == 1 and variant == "one seller":
                continue  # one client sells as one seller either way
            for mode in args.modes:
                if clients == 1 and mode == "processes" and "threads" in args.modes:
                    continue  # one client: a thread or a process is the same thing
                log(f"[{engine}] {clients} clients, {variant}, {mode}, {args.seconds:g} s …")
                row = measure(
                    mode=mode,
                    clients=clients,
                    variant=variant,
                    seconds=args.seconds,
                    pairs=pairs,
                    category=category,
                )
                if clients == 1:
                    row["mode"] = "threads = processes" if len(args.modes) > 1 else mode
                row["engine"] = engine
                if clients in baseline and baseline[clients]["tps"]:
                    row["pgbench_tps"] = baseline[clients]["tps"]
                    row["ratio"] = round(row["ops_per_s"] / baseline[clients]["tps"], 4)
                log(
                    f"  {row['ops_per_s']:,.1f} checkouts/s, p50 {row['p50']} ms,"
                    f" p95 {row['p95']} ms, {row['ops']} ops"
                    + (f", errors {row['errors']}" if row["errors"] else "")
                    + ("" if row["consistent"] else "  ** INCONSISTENT **")
                )
                rows.append(row)

    log(f"[{engine}] profile of one client ({args.profile_ops} checkouts) …")
    if pg:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    profile = profile_one_client(pairs, category, args.profile_ops)
    log(f"[{engine}] ledger_verify() …")
    problems = ledger_verify()
    from micromarket.payments.models import Payment, PaymentStatus

    payments_ok = Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count()
    payments_other = Payment.objects.exclude(status=PaymentStatus.SUCCEEDED).count()
    transactions = Transaction.objects.count()
    result = {
        "engine": engine,
        "rows": rows,
        "pgbench": baseline,
        "profile": profile,
        "verify": [str(p) for p in problems[:20]],
        "verify_count": len(problems),
        "transactions": transactions,
        "payments_succeeded": payments_ok,
        "payments_other": payments_other,
    }
    print("RESULT " + json.dumps(result), flush=True)


# --- the parent: one process per engine, then the table ---------------------------------------


def parent(args) -> None:
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    results = []
    t0 = time.perf_counter()
    for engine in engines:
        if engine == "postgres":
            ensure = ROOT / "scripts" / "ensure-postgres.sh"
            subprocess.run(["bash", str(ensure)], check=True, stdout=subprocess.DEVNULL)
            pg_recreate(BENCH_DB)
            url = f"{pg_base()}/{BENCH_DB}"
        else:
            SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{SQLITE_PATH}"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": SETTINGS}
        command = [sys.executable, __file__, "--child", "--engine", engine]
        command += ["--seconds", str(args.seconds), "--profile-ops", str(args.profile_ops)]
        command += ["--clients", *map(str, args.clients), "--modes", *args.modes]
        command += ["--variants", *[v.replace(" ", "-") for v in args.variants]]
        command += [] if args.pgbench else ["--no-pgbench"]
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        log(f"== {engine} ({url}); load average before: {load}")
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
            else:
                print(line, end="", flush=True)
        if proc.wait() != 0:
            raise SystemExit(f"benchmark on {engine} failed")
        if engine == "postgres" and not args.keep:
            pg_drop(BENCH_DB)
            pg_drop(PGBENCH_DB)
    print_report(results, time.perf_counter() - t0, args)


def print_report(results: list[dict], elapsed: float, args) -> None:
    print()
    print(
        f"machine: {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC;"
        f" {args.seconds:g} s per measurement; whole run {elapsed / 60:.1f} min"
    )
    print(
        "| engine | clients | sellers | clients as | checkouts/s | p50 ms | p95 ms | checkouts"
        " | CPU ms per checkout: clients / PG backends | machine busy | pgbench TPS"
        " | ours / pgbench | txns = checkouts |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for row in r["rows"]:
            pgb = f"{row['pgbench_tps']:,.0f}" if "pgbench_tps" in row else "—"
            ratio = f"{row['ratio']:.1%}" if "ratio" in row else "—"
            check = "yes" if row["consistent"] else f"NO ({row['errors']})"
            print(
                f"| {'PostgreSQL' if r['engine'] == 'postgresql' else 'SQLite'}"
                f" | {row['clients']} | {row['variant']} | {row['mode']}"
                f" | {row['ops_per_s']:,.1f} | {row['p50']} | {row['p95']} | {row['ops']:,}"
                f" | {row['client_cpu_ms']} / {row['server_cpu_ms'] or '—'}"
                f" | {row['machine_busy']:.0%}"
                f" | {pgb} | {ratio} | {check} |"
            )
    for r in results:
        name = "PostgreSQL" if r["engine"] == "postgresql" else "SQLite"
        if r["pgbench"]:
            print(f"\n{name} pgbench (TPC-B-like, scale 10):")
            for clients, b in r["pgbench"].items():
                print(
                    f"  -c {clients} -j {clients}: {b['tps']:,.0f} tps, {b['latency_ms']} ms avg;"
                    f" CPU ms per transaction: pgbench {b['client_cpu_ms']} / PG backends"
                    f" {b['server_cpu_ms']}; machine busy {b['machine_busy']:.0%}"
                )
        verdict = f"{r['verify_count']} problems" if r["verify_count"] else "empty (books balance)"
        print(
            f"\n{name} after the run: ledger_verify() {verdict};"
            f" {r['transactions']:,} ledger transactions for {r['payments_succeeded']:,}"
            f" succeeded payments ({r['payments_other']} not succeeded)"
        )
        for problem in r["verify"]:
            print(f"  ! {problem}")
        p = r["profile"]
        s = p["split"]
        kinds = {k: v for k, v in p["kinds"].items() if k != "BEGIN"}
        n, t = sum(kinds.values()), p["commits"]
        print(
            f"{name}, one checkout: {n} SQL statements {kinds} in {t} transactions"
            f" (+ {t} BEGIN + {t} COMMIT = {n + 2 * t} round trips)"
        )
        print(
            f"  one client, {s['ops']} checkouts: {s['ms_per_op']} ms each ="
            f" {s['sql_ms_per_op']} ms in SQL execute ({s['statements_per_op']} statements)"
            f" + {s['commit_ms_per_op']} ms in commit + {s['python_ms_per_op']} ms Python"
        )
    for target in [r for r in results if r["engine"] == "postgresql"]:
        at16 = [row for row in target["rows"] if row["clients"] == 16 and "ratio" in row]
        for row in at16:
            met = "MET" if row["ratio"] >= TARGET_SHARE else "NOT met"
            print(
                f"target ≥ {TARGET_SHARE:.0%} of pgbench at 16 clients ({row['variant']},"
                f" {row['mode']}): {row['ratio']:.1%} — {met}"
            )
    for r in results:
        name = "PostgreSQL" if r["engine"] == "postgresql" else "SQLite"
        print(f"\n{name}: where one client's checkout time goes (cProfile, cumulative)")
        print("| part | calls per checkout | ms per checkout (profiled) | share |")
        print("|---|---|---|---|")
        for row in r["profile"]["breakdown"]:
            print(f"| {row['label']} | {row['calls']} | {row['ms']} | {row['share']:.0%} |")
    if args.verbose:
        for r in results:
            p = r["profile"]
            print(f"\n--- {r['engine']}: the statements of one checkout")
            for i, sql in enumerate(p["statements"], 1):
                print(f"{i:3}. {sql[:220]}")
            print(f"\n--- {r['engine']}: cProfile, cumulative")
            print("\n".join(p["profile"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument(
        "--modes", nargs="+", choices=["threads", "processes"], default=["threads", "processes"]
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=["distinct-sellers", "one-seller"],
        default=["distinct-sellers", "one-seller"],
    )
    parser.add_argument("--profile-ops", type=int, default=100, help="checkouts profiled")
    parser.add_argument("--no-pgbench", dest="pgbench", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    parser.add_argument("-v", "--verbose", action="store_true", help="statements and cProfile")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.variants = [v.replace("-", " ") for v in args.variants]
    if any(c < 1 or c > 16 for c in args.clients):
        parser.error("--clients are 1 to 16 (16 buyer/seller pairs are created)")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    if args.child:
        child(args)
    else:
        if args.engine != "sqlite" and args.pgbench and not shutil.which("pgbench"):
            parser.error("pgbench is not on PATH (apt install postgresql-client, or --no-pgbench)")
        parent(args)


if __name__ == "__main__":
    main()
