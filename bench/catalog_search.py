"""Catalog search benchmark: generate offers, build the index, time the first result page.

    .venv/bin/python bench/catalog_search.py --engine sqlite --offers 100000 --offers 1000000
    .venv/bin/python bench/catalog_search.py --engine postgres --offers 100000 --queries 240

Each size runs in its own process against its OWN database, never the app's:
``var/bench/catalog_<n>.sqlite3`` (SQLite, WAL, same pragmas as the app) or the PostgreSQL
database ``micromarket_bench_<n>`` (created, dropped with ``--drop``) on the server of
BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432). ``--reuse`` keeps a database that
already holds the requested number of offers (skips generation and index build; add
``--reindex`` to rebuild the index only).

Data: sellers with shops (20 offers each on average), offers of all six kinds over the whole
taxonomy with titles, descriptions and tags drawn from a per-category vocabulary, six
currencies, languages, coordinates around 40 cities for local kinds, rental blocks and
experience sessions for the availability filter, and ~40 % of offers with reviews and shops
with levels, fed through the index's reputation hook as the trust app will. About 92 % of
offers are active.

Queries: ``--queries`` (default 240) varied queries from a seeded generator: 1–3 words (some
phrases, negations, unknown words), ~15 % without text (browse), about half with 1–3 filters
(kind, category, currency + price, delivery time, language, distance, dates, rating, level)
and all five sorts. Each query runs ``search.search`` for page 1 (ids + total + facets, one
SQL statement). One untimed warm-up pass, then a timed pass; p50/p95/max of the timed pass are
printed with the warm-up p95, p50/p95 of 100 ``search.suggest`` prefixes, and a baseline
measured in the same run: primary-key lookups of one offer through the same Django connection,
and ``pgbench -S`` (select-only, 1 client, 10 s, scale 10, in a scratch database) on
PostgreSQL.
"""

# A developer's benchmark, not application code: SQL is assembled from model metadata and
# constants (values go as parameters), the child processes and pg tools are ours, and the
# random numbers only shape test data.
# ruff: noqa: S311, S603, S607, S608

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"

# --- vocabulary -----------------------------------------------------------------------------

WORDS = {
    "logo-brand-design": "logo brand identity minimalist vector emblem monogram mascot "
    "typography badge wordmark rebrand palette business card style guide",
    "illustration": "illustration drawing portrait cartoon character comic watercolor digital "
    "painting sketch childrens book anime caricature",
    "web-app-development": "website wordpress shopify react django landing page ecommerce api "
    "bug fix mobile app frontend backend database",
    "writing-translation": "article blog copywriting proofreading translation english spanish "
    "french german resume cover letter seo content editing",
    "video-animation": "video editing animation explainer motion graphics intro youtube "
    "whiteboard subtitles reel montage",
    "music-audio": "mixing mastering beat jingle podcast editing vocal producer soundtrack song "
    "lyrics guitar",
    "templates": "template notion canva resume planner spreadsheet budget invoice pitch deck "
    "presentation excel",
    "printables": "printable wall art planner calendar worksheet coloring page sticker "
    "invitation poster",
    "online-courses": "course masterclass tutorial beginner lessons video photography "
    "marketing coding excel",
    "stock-photos-graphics": "stock photo texture mockup icons pattern graphics bundle "
    "overlay brushes",
    "software-plugins": "plugin wordpress script preset lightroom extension automation tool macro",
    "ceramics-pottery": "ceramic pottery mug bowl vase stoneware glaze handmade planter plate clay",
    "jewellery": "necklace ring earrings bracelet silver gold gemstone pendant beaded handmade",
    "textiles-knitting": "knitted scarf sweater blanket wool crochet quilt embroidery tote cotton",
    "woodwork": "wooden cutting board oak walnut shelf spoon carved furniture table",
    "art-prints": "print poster linocut giclee painting canvas abstract landscape botanical",
    "handyman-assembly": "furniture assembly ikea shelf mounting tv repair handyman drill door",
    "cleaning": "cleaning deep clean apartment office window carpet move out laundry",
    "moving-delivery": "moving help van delivery boxes packing heavy lifting pickup courier",
    "gardening": "gardening lawn mowing hedge trimming planting weeding garden design",
    "pet-care": "dog walking pet sitting cat feeding grooming boarding puppy",
    "vintage-clothing": "vintage jacket denim dress leather retro jeans coat",
    "books-media": "book vinyl record novel comic first edition paperback dvd",
    "electronics": "phone laptop camera headphones console refurbished tablet charger",
    "collectibles": "coins stamps trading cards figurine antique memorabilia poster",
    "social-media-content": "instagram tiktok posts captions content calendar social media reels",
    "photography": "photography photoshoot portrait wedding product photos headshot event",
    "voice-over": "voice over narration audiobook commercial character voice accent",
    "ugc-videos": "ugc video testimonial unboxing product review creator ad",
    "walking-tours": "walking tour old town history city guide street art hidden gems",
    "food-drink": "food tour wine tasting cooking dinner coffee street food market",
    "outdoor-adventure": "hiking kayak surfing climbing cycling sunset boat adventure",
    "arts-culture": "museum gallery art workshop theater dance culture architecture",
    "rooms-stays": "room apartment studio cozy sea view guest house loft cabin",
    "desks-workspaces": "desk coworking office meeting room workspace studio quiet",
    "equipment-tools": "camera lens drone projector tent ladder drill speaker",
    "cars-bikes": "car bike scooter van electric bicycle convertible motorbike",
    "languages": "spanish english french german italian japanese conversation lessons",
    "music-lessons": "guitar piano violin singing drums ukulele lessons",
    "tutoring": "math tutoring physics chemistry homework exam prep essay",
    "fitness-wellbeing": "yoga pilates personal training meditation massage nutrition",
    "crafts-cooking-classes": "pottery class baking pasta sushi knitting candle making",
}
KIND_BY_TOP = {
    "creative-services": ["service"] * 8 + ["digital"],
    "digital-products": ["digital"] * 8 + ["service"],
    "handmade": ["physical"] * 8 + ["experience"],
    "home-local-services": ["task"] * 8 + ["service"],
    "reselling": ["physical"],
    "content-creation": ["service"] * 4 + ["digital"],
    "tours-experiences": ["experience"],
    "rentals": ["rental"],
    "lessons": ["experience", "service", "task", "digital"],
}
COMMON = """custom professional quality fast premium affordable unique beautiful modern classic
    local expert friendly reliable experienced creative simple elegant small large best new
    original handmade private daily weekly express""".split()  # noqa: SIM905
FILLER = """the a and for with your you our we in of to on by from is are will can this that it
    every more than within after before each all any time day days hours work order request
    message details include included delivery revision free price please happy help make get
    need want great good easy perfect high style color size""".split()  # noqa: SIM905
SHOP_WORDS = """Studio Atelier Workshop House Lab Corner Collective Goods Co Works""".split()  # noqa: SIM905
FIRST_NAMES = """Maria Ana Lena Sofia Amara Yuki Priya Fatima Chloe Ines Noah Liam Kofi Mateo
    Arjun Omar Lucas Jonas Tomas Ivan Hana Mei Zara Elif Nia Rosa Ella Iris Juno Theo""".split()  # noqa: SIM905
TITLE_TEMPLATES = {
    "service": ["I will create {a} {w1} {w2}", "{A} {w1} {w2} for your business", "{w1} {w2}"],
    "digital": ["{A} {w1} {w2} bundle", "{w1} {w2} {w3} pack", "{A} {w1} {w2}"],
    "physical": ["{A} {w1} {w2}", "{w1} {w2} {w3}", "{A} {w1} {w2}, {w3}"],
    "task": ["{A} {w1} {w2} near you", "{w1} and {w2} help", "{A} {w1} {w2}"],
    "experience": ["{A} {w1} {w2} experience", "{w1} {w2} with a local", "{A} {w1} {w2}"],
    "rental": ["{A} {w1} {w2} for rent", "{w1} {w2} {w3}", "{A} {w1} {w2}"],
}
CITIES = [
    (48.8566, 2.3522),
    (51.5072, -0.1276),
    (52.52, 13.405),
    (40.4168, -3.7038),
    (41.9028, 12.4964),
    (52.3676, 4.9041),
    (50.8503, 4.3517),
    (48.2082, 16.3738),
    (59.3293, 18.0686),
    (55.6761, 12.5683),
    (60.1699, 24.9384),
    (38.7223, -9.1393),
    (45.764, 4.8357),
    (43.2965, 5.3698),
    (41.3874, 2.1686),
    (45.4642, 9.19),
    (40.7128, -74.006),
    (34.0522, -118.2437),
    (41.8781, -87.6298),
    (29.7604, -95.3698),
    (37.7749, -122.4194),
    (47.6062, -122.3321),
    (43.6532, -79.3832),
    (45.5017, -73.5673),
    (19.4326, -99.1332),
    (-23.5505, -46.6333),
    (-34.6037, -58.3816),
    (-33.4489, -70.6693),
    (35.6762, 139.6503),
    (37.5665, 126.978),
    (1.3521, 103.8198),
    (13.7563, 100.5018),
    (-33.8688, 151.2093),
    (-37.8136, 144.9631),
    (-36.8485, 174.7633),
    (28.6139, 77.209),
    (25.2048, 55.2708),
    (30.0444, 31.2357),
    (-1.2921, 36.8219),
    (6.5244, 3.3792),
]
CURRENCIES = ["USD"] * 45 + ["EUR"] * 30 + ["GBP"] * 10 + ["CAD"] * 6 + ["AUD"] * 5 + ["JPY"] * 4
LANGUAGES = ["en"] * 70 + ["es"] * 10 + ["fr"] * 8 + ["de"] * 6 + ["pt"] * 3 + ["ja"] * 3
STATUSES = ["active"] * 92 + ["paused"] * 4 + ["draft"] * 2 + ["archived"] * 2
PRICE = {  # minor units (cents): log-uniform between these
    "service": (500, 200_000),
    "digital": (200, 20_000),
    "physical": (500, 50_000),
    "task": (1_500, 10_000),
    "experience": (1_500, 30_000),
    "rental": (1_000, 40_000),
}


def log(message: str) -> None:
    print(message, flush=True)


# --- the child: one engine, one size --------------------------------------------------------


def child(args) -> None:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "micromarket.settings.development")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from micromarket.catalog import search

    n = args.offers[0]
    rnd = random.Random(args.seed)
    t0 = time.perf_counter()
    reused = False
    with connection.cursor() as cursor:
        try:
            cursor.execute("SELECT count(*) FROM catalog_offer")
            reused = args.reuse and cursor.fetchone()[0] == n
        except Exception:
            reused = False
    if not reused:
        if connection.vendor == "sqlite":
            connection.close()
            path = Path(connection.settings_dict["NAME"])
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        call_command("migrate", verbosity=0, interactive=False)
        generate(n, rnd, connection, transaction)
    t_gen = time.perf_counter() - t0
    t1 = time.perf_counter()
    if not reused or args.reindex:
        log(f"[{n:,}] building the search index …")
        step = max(50_000, n // 10)

        def progress(done: int) -> None:
            if done % step < 5000:
                log(f"  indexed {done:,}")

        # The benchmark plays the trust app through the index's reputation hook.
        search._reputation_for = reputation_for(n)
        indexed = search.index_rebuild(progress=progress)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        log(f"  index: {indexed:,} active offers in {time.perf_counter() - t1:.0f} s")
    t_index = time.perf_counter() - t1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_offersearch")
        indexed = cursor.fetchone()[0]
        cursor.execute("SELECT max(id) FROM catalog_offer")
        max_id = cursor.fetchone()[0]

    queries = make_queries(random.Random(args.seed + 1), args.queries)
    log(f"[{n:,}] {len(queries)} queries: warm-up pass, then the timed pass …")
    warm = run_queries(search, queries)
    timed = run_queries(search, queries)
    prefixes = make_prefixes(random.Random(args.seed + 3), 100)
    time_suggestions(search, prefixes)  # warm-up
    suggest_times = time_suggestions(search, prefixes)
    baseline = measure_baseline(connection, max_id, random.Random(args.seed + 2))
    capped = sum(1 for r in timed["results"] if r[1]) / len(queries)
    by_kind = {
        "text": [t for t, q in zip(timed["times"], queries, strict=True) if q.text],
        "browse": [t for t, q in zip(timed["times"], queries, strict=True) if not q.text],
        "filtered": [t for t, q in zip(timed["times"], queries, strict=True) if filtered(q)],
    }
    result = {
        "engine": connection.vendor,
        "offers": n,
        "indexed": indexed,
        "generate_s": round(t_gen, 1),
        "index_s": round(t_index, 1),
        "reused": reused and not args.reindex,
        "queries": len(queries),
        "p50": pct(timed["times"], 50),
        "p95": pct(timed["times"], 95),
        "max": round(max(timed["times"]), 2),
        "warmup_p95": pct(warm["times"], 95),
        "p95_text": pct(by_kind["text"], 95),
        "p95_browse": pct(by_kind["browse"], 95),
        "p95_filtered": pct(by_kind["filtered"], 95),
        "capped_share": round(capped, 2),
        "suggest_p50": pct(suggest_times, 50),
        "suggest_p95": pct(suggest_times, 95),
        "baseline": baseline,
        "slowest": [
            {"ms": round(t, 2), "query": describe(q)}
            for t, q in sorted(zip(timed["times"], queries, strict=True), key=lambda x: -x[0])[:5]
        ],
        "examples": [describe(q) for q in queries[:8]],
    }
    print("RESULT " + json.dumps(result), flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return round(ordered[index], 2)


def filtered(q) -> bool:
    return any(
        getattr(q, name) is not None
        for name in (
            "kind",
            "category",
            "currency",
            "max_delivery_days",
            "min_rating",
            "seller_level",
            "near",
            "available_from",
            "language",
        )
    )


def describe(q) -> str:
    parts = [f"text={q.text!r}"] if q.text else ["(browse)"]
    for name in (
        "kind",
        "category",
        "currency",
        "price_min",
        "price_max",
        "max_delivery_days",
        "min_rating",
        "seller_level",
        "near",
        "radius_km",
        "available_from",
        "available_to",
        "language",
    ):
        value = getattr(q, name)
        if value is not None:
            parts.append(f"{name}={value}")
    if q.sort != "best":
        parts.append(f"sort={q.sort}")
    return " ".join(parts)


def run_queries(search, queries) -> dict:
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        result = search.search(q)
        times.append((time.perf_counter() - start) * 1000)
        results.append((len(result.offer_ids), result.total_is_estimate))
    return {"times": times, "results": results}


def make_prefixes(rnd: random.Random, count: int) -> list[str]:
    """What a buyer has typed so far: 2–6 letters of a word, sometimes after a whole word."""
    words = sorted({w for text in WORDS.values() for w in text.split()} | set(COMMON))
    out = []
    for _ in range(count):
        word = rnd.choice(words)
        prefix = word[: rnd.randint(2, max(2, min(6, len(word))))]
        if rnd.random() < 0.3:
            prefix = f"{rnd.choice(words)} {prefix}"
        out.append(prefix)
    return out


def time_suggestions(search, prefixes: list[str]) -> list[float]:
    times = []
    for prefix in prefixes:
        start = time.perf_counter()
        search.suggest(prefix)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure_baseline(connection, max_id: int, rnd: random.Random) -> dict:
    """Primary-key lookups of one offer row through Django's cursor (same connection, same
    process as the searches), and pgbench -S on PostgreSQL."""
    times = []
    with connection.cursor() as cursor:
        for _ in range(2000):
            oid = rnd.randint(1, max_id)
            start = time.perf_counter()
            cursor.execute("SELECT * FROM catalog_offer WHERE id = %s", [oid])
            cursor.fetchall()
            times.append((time.perf_counter() - start) * 1000)
    out = {"pk_lookup_p50": pct(times, 50), "pk_lookup_p95": pct(times, 95)}
    if connection.vendor == "postgresql":
        out.update(pgbench())
    return out


def pgbench() -> dict:
    if not shutil.which("pgbench"):
        return {"pgbench": "not installed"}
    base = os.environ.get("BENCH_PG_URL", DEFAULT_PG).rstrip("/")
    host, port, user = pg_parts(base)
    env = {**os.environ, "PGHOST": host, "PGPORT": port, "PGUSER": user}
    subprocess.run(["dropdb", "--if-exists", "micromarket_pgbench"], env=env, check=True)
    subprocess.run(["createdb", "micromarket_pgbench"], env=env, check=True)
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", "10", "micromarket_pgbench"],
        env=env,
        check=True,
        capture_output=True,
    )
    run = subprocess.run(
        ["pgbench", "-S", "-c", "1", "-j", "1", "-T", "10", "micromarket_pgbench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    subprocess.run(["dropdb", "--if-exists", "micromarket_pgbench"], env=env, check=True)
    tps = latency = None
    for line in run.stdout.splitlines():
        if line.startswith("tps ="):
            tps = float(line.split()[2])
        if line.startswith("latency average"):
            latency = float(line.split("=")[1].split()[0])
    return {"pgbench_S_tps_1client": tps, "pgbench_S_latency_ms": latency}


def pg_parts(url: str) -> tuple[str, str, str]:
    rest = url.split("://", 1)[1]
    user, _, hostport = rest.rpartition("@")
    host, _, port = hostport.partition(":")
    return host or "127.0.0.1", (port.split("/")[0] or "5432"), user.split(":")[0] or "postgres"


# --- data generation --------------------------------------------------------------------------


def generate(n: int, rnd: random.Random, connection, transaction) -> None:
    from micromarket.catalog.models import Category, Offer

    pg = connection.vendor == "postgresql"
    now = datetime.now(UTC)
    subs = list(Category.objects.filter(parent__isnull=False).select_related("parent"))
    cats = [(c.id, c.slug, c.parent.slug) for c in subs if c.slug in WORDS]
    vocab = {slug: list(dict.fromkeys(WORDS[slug].split())) for _, slug, _ in cats}
    n_shops = max(10, n // 20)
    log(f"[{n:,}] generating {n_shops:,} sellers and shops …")
    start = time.perf_counter()
    t_users = time.perf_counter()
    user_rows, shop_rows = [], []
    for i in range(1, n_shops + 1):
        name = f"{rnd.choice(FIRST_NAMES)} {rnd.choice(FIRST_NAMES)[0]}."
        joined = now - timedelta(days=rnd.uniform(30, 1500))
        user_rows.append(
            {
                "id": i,
                "password": "!",
                "email": f"seller{i}@bench.test",
                "email_verified_at": joined,
                "display_name": name,
                "date_joined": joined,
            }
        )
        first = name.split()[0]
        shop_rows.append(
            {
                "id": i,
                "owner_id": i,
                "name": f"{first}'s {rnd.choice(SHOP_WORDS)} {i}",
                "slug": f"shop-{i}",
                "created_at": joined,
            }
        )
    user_table = Offer.seller.field.related_model._meta
    shop_table = Offer.shop.field.related_model._meta
    bulk_insert(connection, user_table, [complete(user_table, r) for r in user_rows])
    bulk_insert(connection, shop_table, [complete(shop_table, r) for r in shop_rows])
    log(f"  sellers and shops: {time.perf_counter() - t_users:.0f} s")

    tag_names = sorted({w for words in vocab.values() for w in words})
    tag_names += sorted(
        {f"{a} {b}" for words in vocab.values() for a, b in itertools.pairwise(words)}
    )
    tag_ids = {name: i + 1 for i, name in enumerate(tag_names)}
    bulk_insert(
        connection,
        Offer.tags.field.related_model._meta,
        [{"id": i, "name": name[:40]} for name, i in tag_ids.items()],
    )

    offer_meta = Offer._meta
    through = Offer.tags.through._meta
    blocks_meta = Offer.blocks.rel.related_model._meta
    sessions_meta = Offer.sessions.rel.related_model._meta
    span = 3 * 365 * 86400
    batch: list[dict] = []
    tags_batch: list[dict] = []
    blocks: list[dict] = []
    sessions: list[dict] = []
    tag_row = block_id = session_id = 0
    t_offers = time.perf_counter()
    for oid in range(1, n + 1):
        cat_id, slug, top = rnd.choice(cats)
        words = vocab[slug]
        kind = rnd.choice(KIND_BY_TOP[top])
        w = rnd.sample(words, 3)
        title = rnd.choice(TITLE_TEMPLATES[kind]).format(
            a=rnd.choice(COMMON), A=rnd.choice(COMMON).capitalize(), w1=w[0], w2=w[1], w3=w[2]
        )
        title = title[0].upper() + title[1:]
        sentences = []
        for _ in range(rnd.randint(2, 4)):
            sentence = rnd.choices(words, k=rnd.randint(2, 4)) + rnd.choices(COMMON, k=2)
            sentence += rnd.choices(FILLER, k=rnd.randint(6, 14))
            rnd.shuffle(sentence)
            sentences.append(" ".join(sentence).capitalize() + ".")
        description = " ".join(sentences)
        # ids grow with time: published over the last three years, a little noise
        published = now - timedelta(seconds=span * (1 - oid / n) + rnd.uniform(0, 86400))
        status = rnd.choice(STATUSES)
        located = kind in ("task", "experience", "rental") or rnd.random() < 0.15
        lat = lon = None
        if located:
            clat, clon = rnd.choice(CITIES)
            lat = max(-90.0, min(90.0, clat + rnd.gauss(0, 0.12)))
            lon = max(-180.0, min(180.0, clon + rnd.gauss(0, 0.18)))
        currency = rnd.choice(CURRENCIES)
        lo, hi = PRICE[kind]
        price = int(math.exp(rnd.uniform(math.log(lo), math.log(hi))))
        if currency == "JPY":
            price = max(100, price)  # yen have no minor unit: the same figure is ~1/100
        days = {
            "service": rnd.randint(1, 14),
            "digital": 0,
            "physical": rnd.randint(2, 12),
        }.get(kind)
        langs = sorted({rnd.choice(LANGUAGES) for _ in range(rnd.choice([1, 1, 1, 2, 3]))})
        shop_id = shop_of(oid, n_shops)
        values = {
            "id": oid,
            "seller_id": shop_id,
            "shop_id": shop_id,
            "kind": kind,
            "status": status,
            "title": title[:120],
            "description": description,
            "description_html": "",
            "category_id": cat_id,
            "currency": currency,
            "languages": json.dumps(langs),
            "place_name": "",
            "latitude": lat,
            "longitude": lon,
            "price_from": price,
            "delivery_days": days,
            "rejection_reason": "",
            "created_at": published,
            "updated_at": published,
            "published_at": published if status in ("active", "paused", "archived") else None,
        }
        batch.append(complete(offer_meta, values))
        for tag in rnd.sample(words, rnd.randint(2, 4)):
            tag_row += 1
            tags_batch.append({"id": tag_row, "offer_id": oid, "tag_id": tag_ids[tag]})
        if kind == "rental":
            day = date(2031, 1, 1) + timedelta(days=rnd.randint(0, 300))
            for _ in range(rnd.randint(0, 3)):
                block_id += 1
                length = rnd.randint(2, 14)
                blocks.append(
                    {
                        "id": block_id,
                        "offer_id": oid,
                        "start": day,
                        "end": day + timedelta(days=length),
                        "note": "",
                    }
                )
                day += timedelta(days=length + rnd.randint(3, 40))
        elif kind == "experience":
            at = datetime(2031, 1, 1, 9, tzinfo=UTC) + timedelta(days=rnd.randint(0, 300))
            for _ in range(rnd.randint(1, 4)):
                session_id += 1
                sessions.append(
                    {
                        "id": session_id,
                        "offer_id": oid,
                        "starts_at": at,
                        "duration_minutes": 120,
                        "capacity": 10,
                        "price_per_person": price,
                        "cancelled_at": None if rnd.random() > 0.1 else at,
                    }
                )
                at += timedelta(days=rnd.randint(1, 30))
        if len(batch) >= 20_000 or oid == n:
            with transaction.atomic():
                bulk_insert(connection, offer_meta, batch)
                bulk_insert(connection, through, tags_batch)
                bulk_insert(connection, blocks_meta, blocks)
                bulk_insert(connection, sessions_meta, sessions)
            batch, tags_batch, blocks, sessions = [], [], [], []
            if oid % max(100_000, n // 10) < 20_000 or oid == n:
                rate = oid / (time.perf_counter() - t_offers)
                log(f"  offers {oid:,}/{n:,} ({rate:,.0f}/s)")
    if pg:
        for meta in (user_table, shop_table, Offer.tags.field.related_model._meta, offer_meta,
                     through, blocks_meta, sessions_meta):  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{meta.db_table}', 'id'),"
                    f" (SELECT coalesce(max(id), 1) FROM {meta.db_table}))"
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics for the freshly loaded tables
        if not pg:
            # Fold the generation's write-ahead log into the database, as a running site's
            # checkpoints would have; reads through a multi-gigabyte WAL are slow.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    log(f"  generated in {time.perf_counter() - start:.0f} s")


def complete(meta, values: dict) -> dict:
    """A row for every concrete column of the model: given values, else the field's default."""
    row = {}
    for f in meta.concrete_fields:
        if f.attname in values:
            value = values[f.attname]
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField", "FileField"):
            value = ""
        else:
            raise ValueError(f"bench: no value for {meta.db_table}.{f.column}")
        if isinstance(value, list | dict):
            value = json.dumps(value)
        row[f.column] = value
    return row


def bulk_insert(connection, meta, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    table = meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        else:
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            marks = ", ".join("?" for _ in columns)
            raw = cursor.cursor  # the sqlite3 cursor: no Django formatting of 20k rows
            raw.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",
                [[sqlite_value(row[c]) for c in columns] for row in rows],
            )


def sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def shop_of(offer_id: int, n_shops: int) -> int:
    """Which shop sells the offer: a fixed hash, so the reputation hook can recompute it."""
    return (offer_id * 2654435761) % n_shops + 1


def reputation_for(n: int):
    """What the trust app will feed: ~40 % of offers have reviews (3.0–5.0 stars, 1–150 of
    them); shops have levels (half new, 30 % level 1, 10 % level 2, 10 % top) and orders."""
    n_shops = max(10, n // 20)

    def hook(offer_ids: list[int]) -> dict[int, dict]:
        out = {}
        for oid in offer_ids:
            shop = shop_of(oid, n_shops)
            bucket = (shop * 31) % 10
            level = "new" if bucket < 5 else "level1" if bucket < 8 else "level2"
            rep = {
                "seller_level": "top" if bucket == 9 else level,
                "completed_orders": (shop * 13) % 60,
            }
            if oid % 5 < 2:
                rep["rating"] = 3.0 + ((oid * 104729) % 2001) / 1000
                rep["rating_count"] = (oid * 7919) % 150 + 1
            out[oid] = rep
        return out

    return hook


# --- queries ----------------------------------------------------------------------------------


def make_queries(rnd: random.Random, count: int) -> list:
    from micromarket.catalog.search import SearchQuery

    slugs = list(WORDS)
    tops = list(KIND_BY_TOP)
    queries = []
    for _ in range(count):
        slug = rnd.choice(slugs)
        words = WORDS[slug].split()
        roll = rnd.random()
        n_words = rnd.choices([1, 2, 3], weights=[45, 35, 20])[0]
        picked = rnd.sample(words, min(n_words, len(words)))
        if rnd.random() < 0.25:
            picked[-1] = rnd.choice(COMMON)
        text = " ".join(picked)
        if roll < 0.15:
            text = ""
        elif roll < 0.20:
            text = f'"{" ".join(picked[:2])}"'
        elif roll < 0.23:
            text = f"{picked[0]} -{rnd.choice(COMMON)}"
        elif roll < 0.26:
            text = f"{picked[0]} {rnd.choice(['zyxtra', 'qwopple', 'blorft'])}"
        q = SearchQuery(text=text, sort=rnd.choices(
            ["best", "price_asc", "price_desc", "rating", "newest"], weights=[70, 10, 5, 7, 8]
        )[0])  # fmt: skip
        if rnd.random() < 0.5 or not text:
            for name in rnd.sample(
                [
                    "kind",
                    "category",
                    "price",
                    "delivery",
                    "language",
                    "near",
                    "dates",
                    "rating",
                    "level",
                ],
                rnd.randint(1, 3),
            ):
                if name == "kind":
                    q.kind = rnd.choice(KIND_BY_TOP[rnd.choice(tops)])
                elif name == "category":
                    q.category = rnd.choice([slug, rnd.choice(tops)])
                elif name == "price":
                    q.currency = rnd.choice(["USD", "EUR", "GBP"])
                    q.price_min = rnd.choice([None, 1000, 2500])
                    q.price_max = rnd.choice([None, 5000, 20000])
                elif name == "delivery":
                    q.max_delivery_days = rnd.choice([1, 3, 7])
                elif name == "language":
                    q.language = rnd.choice(["en", "en", "es", "fr", "de"])
                elif name == "near":
                    q.near = rnd.choice(CITIES)
                    q.radius_km = rnd.choice([5, 10, 25, 50])
                elif name == "dates":
                    start = date(2031, 1, 1) + timedelta(days=rnd.randint(0, 300))
                    q.available_from = start
                    q.available_to = start + timedelta(days=rnd.randint(1, 7))
                elif name == "rating":
                    q.min_rating = rnd.choice([3.5, 4.0, 4.5])
                elif name == "level":
                    q.seller_level = rnd.choice(["level1", "level2", "top"])
        queries.append(q)
    return queries


# --- the parent: one process per size, then the table ---------------------------------------


def database_url(engine: str, n: int) -> str:
    if engine == "sqlite":
        path = ROOT / "var" / "bench" / f"catalog_{n}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    base = os.environ.get("BENCH_PG_URL", DEFAULT_PG).rstrip("/")
    return f"{base}/micromarket_bench_{n}"


def ensure_pg_database(n: int, *, drop: bool) -> None:
    import psycopg

    base = os.environ.get("BENCH_PG_URL", DEFAULT_PG).rstrip("/")
    name = f"micromarket_bench_{n}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}"')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def parent(args) -> None:
    results = []
    for n in args.offers:
        if args.engine == "postgres":
            ensure_pg_database(n, drop=not args.reuse)
        env = {**os.environ, "DATABASE_URL": database_url(args.engine, n)}
        command = [sys.executable, __file__, "--child", "--engine", args.engine, "--offers", str(n)]
        command += ["--queries", str(args.queries), "--seed", str(args.seed)]
        command += ["--reuse"] * args.reuse + ["--reindex"] * args.reindex
        log(f"== {args.engine}, {n:,} offers ({env['DATABASE_URL']})")
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line[7:]))
            else:
                print(line, end="", flush=True)
        if proc.wait() != 0:
            raise SystemExit(f"benchmark for {n:,} offers failed")
        if args.engine == "postgres" and args.drop:
            import psycopg

            base = os.environ.get("BENCH_PG_URL", DEFAULT_PG).rstrip("/")
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "micromarket_bench_{n}"')
    print_table(results)


def print_table(results: list[dict]) -> None:
    print()
    print(f"machine: {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        "| engine | offers (indexed) | generate s | index s | queries | p50 ms | p95 ms | max ms"
        " | warm-up p95 | p95 text / browse / filtered | capped | suggest p50 / p95 | baseline |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        b = r["baseline"]
        base = f"PK lookup p50 {b['pk_lookup_p50']} ms / p95 {b['pk_lookup_p95']} ms"
        if "pgbench_S_tps_1client" in b:
            base += (
                f"; pgbench -S 1 client {b['pgbench_S_tps_1client']:,.0f} tps"
                f" ({b['pgbench_S_latency_ms']} ms)"
            )
        print(
            f"| {r['engine']} | {r['offers']:,} ({r['indexed']:,}) | {r['generate_s']}"
            f"{' (reused)' if r['reused'] else ''} | {r['index_s']} | {r['queries']} | {r['p50']}"
            f" | {r['p95']} | {r['max']} | {r['warmup_p95']} | {r['p95_text']} /"
            f" {r['p95_browse']} / {r['p95_filtered']} | {r['capped_share']:.0%}"
            f" | {r['suggest_p50']} / {r['suggest_p95']} | {base} |"
        )
    for r in results:
        print(f"\nslowest at {r['offers']:,} ({r['engine']}):")
        for s in r["slowest"]:
            print(f"  {s['ms']:7.2f} ms  {s['query']}")
    if results:
        print("\nexample queries:")
        for example in results[0]["examples"]:
            print(f"  {example}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--offers", type=int, action="append", help="repeatable")
    parser.add_argument("--queries", type=int, default=240)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="keep a database of that size")
    parser.add_argument("--reindex", action="store_true", help="with --reuse: rebuild the index")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database after")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.offers = args.offers or [100_000]
    if args.queries < 1:
        parser.error("--queries must be positive")
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
