"""Catalog search: one interface, two engines, bounded work per query.

Public interface (called by ``services``, ``views`` and ``api``)::

    offer_index_sync(*, offer_id)          # after any write that changes what search sees
    shop_index_sync(*, shop_id)            # after a shop rename / (de)activation
    search(SearchQuery(...)) -> SearchResult
    suggest(prefix, limit=8) -> list[str]
    offer_index_set_reputation(*, offer_id, rating, rating_count)          # for trust
    shop_index_set_reputation(*, shop_id, seller_level, completed_orders)  # for trust
    index_rebuild() -> int                 # rebuild the whole index (after restores, imports)

The index
---------
``catalog_offersearch`` (``search_models.OfferSearch``) holds one row per *active* offer of an
active shop, with every filter column denormalised (kind, category and its top-level parent,
currency, price_from, delivery_days, languages, coordinates, published time) and normalised text
keys. The text itself is indexed by the engine: SQLite FTS5 (``catalog_offersearch_fts``:
title, tags + shop name, description; porter stemming, diacritics folded) or PostgreSQL
full-text search (stored ``tsvector`` columns with GIN indexes; title weight A, tags and shop
name B, description D; ``websearch_to_tsquery('english', …)``). Suggestions use a byte-order
index on the normalised title instead (titles that start with the typed text). The services
call ``offer_index_sync`` in the same transaction as the write, so the index never lags
behind a committed change.

User text is parsed once, in Python, with web-search syntax: words (AND), ``"quoted phrases"``,
``a or b``, ``-word`` / ``-"a phrase"`` (exclude). Only letters and digits survive into a query:
every term is quoted for FTS5 and re-emitted as plain web-search text for PostgreSQL, so no input
can break either query language. English stop words are dropped on both engines (PostgreSQL
drops them itself; FTS5 has no stop words, so we do it for it). A query with no searchable word
("!!!", "*", "the") is a browse of the catalog with the filters.

Bounded work (the trade-off, in plain words)
--------------------------------------------
Ranking every match costs time proportional to the number of matches (~100–190 ms p95 at 1M
offers). Instead, each query builds a *capped candidate set* in a cheap order and ranks only it:

1. Text queries take the newest ``RAW_CAP`` matches by offer id (FTS5: ``ORDER BY rowid DESC
   LIMIT``, which FTS5 serves from its doclists without scoring; PostgreSQL: GIN scans block by
   block of 65,536 offer ids, newest block first — within a block in storage order — stopping
   once enough rows are found; phrases and exclusions are checked on those rows only), plus the
   newest ``TITLE_CAP`` matches *in the title alone* — so an offer whose title matches the query
   is a candidate even when thousands of newer offers mention the words in their descriptions.
2. Filters are applied to those candidates; the blend below is computed on what is left.
3. Facet counts are computed over the same candidates, each facet without its own filter.
4. ``total`` is exact when the cap was not reached; otherwise ``total_is_estimate`` is true and
   ``total`` is a lower bound (show "1,000+").

What the cap means for relevance: for a query matching more than ``RAW_CAP`` offers, an offer
that is older than the newest ``RAW_CAP`` matches is ranked only if its *title* matches (and is
among the newest ``TITLE_CAP`` title matches). Sorts other than best match (price, rating,
newest) order the candidate set, so with a capped query "cheapest" means the cheapest of the
candidates. Filters cut the candidate set, so a very selective filter on a very common word
(e.g. "custom" near a small village) can return fewer results than exist; narrowing the words
fixes it. Browsing without text examines at most ``BROWSE_SCAN`` index rows, newest first,
along the most selective indexed filter (distance, else category, else kind, else the whole
index), and ranks the newest ``BROWSE_CAP`` of them that pass every filter.

Best match: the blend
---------------------
For each candidate (every term in [0, 1] unless said otherwise)::

    best = 0.65·T + 0.12·R + 0.08·L + 0.10·F + N

    T  text relevance = 0.55·mean_i(field_i) + 0.15·phrase + 0.30·exact
         field_i = 1.0 if query word i starts a word of the title, 0.6 if of the tags or shop
                   name, 0.25 otherwise (it matched the description); words are casefolded,
                   accents removed, and crudely stemmed (mugs → mug) for this test
         phrase  = 1 if the query's words appear together, in order, in the title
         exact   = 1 if the title equals the query (ignoring case, accents and punctuation)
       T = 0 for everyone when there is no text.
    R  rating confidence = (c − c0) / (1 − c0), where c is the lower bound of the rating
       interval (ratings 1–5 scaled to 0–1, shrunk towards 0.5 with 3 pseudo-reviews, minus one
       standard error) and c0 its value with no reviews: 0 without reviews (neutral), up to 1
       for many excellent reviews, negative for poor ones with evidence.
    L  seller level: new 0, level1 ⅓, level2 ⅔, top 1.
    F  freshness = 1 / (1 + age_days / 30) of published_at (1 today, ½ after a month).
    N  new-seller boost = 0.05 · max(0, 1 − completed_orders / 5): at most +0.05, gone after 5
       completed orders. It can reorder offers whose scores are within 0.05 of each other, never
       lift a weak text match (a description-only word: T ≈ 0.14) over a strong one (the word in
       the title: T ≥ 0.70, a gap of ≥ 0.36 after weighting).

Why not bm25 / ts_rank in the blend: FTS5's bm25() first counts every row containing each term
(a full doclist pass: ~9 ms for a word found in most offers at 1M, whatever the cap), and the
two engines' scores are not comparable. The field test above runs on the capped candidates
only, costs microseconds per row, and ranks identically on SQLite and PostgreSQL. Title matches
weigh most, then tags and shop name, then the description.

Reputation (hook for the trust app, which has not landed)
---------------------------------------------------------
Columns ``rating`` (Bayesian average, NULL without reviews), ``rating_count`` (0),
``rating_conf`` (derived), ``seller_level`` ("new"/"level1"/"level2"/"top") with ``level_rank``
(0–3) and ``completed_orders`` (0) exist with those defaults; the filters ``min_rating`` and
``seller_level`` (at least that level) and the blend already use them. Trust only has to feed
values: call ``offer_index_set_reputation`` when an offer's rating changes and
``shop_index_set_reputation`` when a seller's level or completed orders change, and make
``_reputation_for`` read trust's selectors, so an offer that leaves and re-enters the index
(paused, then resumed) gets its values back. ``offer_index_sync`` keeps the values of a row
that stays in the index.
"""

# Every statement here is assembled from constants, model metadata and placeholders: user
# input only ever travels as a query parameter (and is reduced to letters and digits before it
# reaches FTS5 or websearch_to_tsquery). Hence the blanket S608 exemption.
# ruff: noqa: S608

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from micromarket.catalog.models import Category, Offer, Tag
from micromarket.catalog.search_models import RATING_CONF_NEUTRAL, OfferSearch
from micromarket.core.errors import ValidationFailed

__all__ = [
    "SearchQuery",
    "SearchResult",
    "index_rebuild",
    "offer_index_set_reputation",
    "offer_index_sync",
    "rating_confidence",
    "search",
    "shop_index_set_reputation",
    "shop_index_sync",
    "suggest",
]

# --- tuning -----------------------------------------------------------------------------------

RAW_CAP = 1500  # newest text matches examined per query
TITLE_CAP = 300  # newest title-only matches added to them
BROWSE_SCAN = 3000  # index rows examined when there is no text
BROWSE_CAP = 1000  # newest of them that pass the filters, ranked
MAX_DEPTH = 2400  # most results a browse ranks when asked for deep pages (100 pages of 24)
MAX_PER_PAGE = 100
MAX_TERMS = 8  # query words beyond this are ignored
BODY_MAX = 3000  # characters of the description indexed
BLOCK_SHIFT = 16  # PostgreSQL scans GIN matches in blocks of 2**16 offer ids
DEFAULT_RADIUS_KM = 50.0
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180

SORTS = ("best", "price_asc", "price_desc", "rating", "newest")
LEVELS = {"new": 0, "level1": 1, "level2": 2, "top": 3}
NEWCOMER_ORDERS = 5
# Price facet buckets in major units of the currency; labels are "lo-hi" in minor units, hi
# exclusive (filter with price_min=lo, price_max=hi-1); the last one is "lo-".
PRICE_EDGES = (10, 25, 50, 100, 250, 500, 1000)

W_TEXT, W_RATING, W_LEVEL, W_FRESH, W_NEW = 0.65, 0.12, 0.08, 0.10, 0.05
FIELD_TITLE, FIELD_META, FIELD_BODY = 1.0, 0.6, 0.25
T_FIELDS, T_PHRASE, T_EXACT = 0.55, 0.15, 0.30
FRESH_DAYS = 30

TABLE = OfferSearch._meta.db_table
FTS_TABLE = f"{TABLE}_fts"

# Snowball's English stop words (PostgreSQL's 'english' configuration drops the same ones).
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can did do does doing don down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other
    our ours ourselves out over own s same she should so some such t than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with you your yours
    yourself yourselves""".split()  # noqa: SIM905
)

_WORD = re.compile(r"[^\W_]+")
_QUERY_ITEM = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')


# --- public types -----------------------------------------------------------------------------


@dataclass
class SearchQuery:
    """What the buyer asked for. Prices are minor units of ``currency``.

    ``price_min`` / ``price_max`` apply only together with ``currency``; a currency on its own
    also filters: offers in other currencies are then excluded. ``category`` is a slug; a
    top-level slug matches all its subcategories. ``near`` is (latitude, longitude); without
    ``radius_km`` the radius is 50 km. ``available_from`` / ``available_to`` (days, inclusive,
    UTC) keep only rentals with no blocked day in the range and experiences with a session that
    is not cancelled starting in it; other kinds do not take dates and are left out.
    ``seller_level`` means that level or higher.
    """

    text: str = ""
    kind: str | None = None
    category: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    currency: str | None = None
    max_delivery_days: int | None = None
    min_rating: float | None = None
    seller_level: str | None = None
    near: tuple[float, float] | None = None
    radius_km: float | None = None
    available_from: date | None = None
    available_to: date | None = None
    language: str | None = None
    sort: str = "best"
    page: int = 1
    per_page: int = 24


@dataclass
class SearchResult:
    """One page of offer ids, in order; the caller loads the offers.

    ``facets`` maps "kind", "category" (top-level slug), "language", "currency" and, when a
    currency is chosen, "price" (buckets "lo-hi" in minor units, hi exclusive; "lo-" for the
    last) to (value, count) pairs, most frequent first. Each facet is counted for the current
    query without its own filter. When ``total_is_estimate`` is true, ``total`` and the facet
    counts are lower bounds over the capped candidate set (show "1,000+").
    """

    offer_ids: list[int] = field(default_factory=list)
    total: int = 0
    total_is_estimate: bool = False
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    page: int = 1
    pages: int = 0


# --- text handling ----------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Casefold and strip accents (café → cafe), as FTS5's remove_diacritics does."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _key(text: str) -> str:
    """' word word ' — the normalised form the relevance tests compare against."""
    return " " + " ".join(_WORD.findall(_fold(text))) + " "


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@dataclass
class _Item:
    tokens: list[str]  # casefolded words, accents kept (what the engines tokenise)
    negated: bool = False


@dataclass
class _Parsed:
    groups: list[list[_Item]]  # AND of OR-groups
    negated: list[_Item]
    all_words: list[str]  # positive words in order, stop words included (phrase / exact)

    @property
    def has_text(self) -> bool:
        return bool(self.groups)


def _parse(text: str) -> _Parsed:
    groups: list[list[_Item]] = []
    negated: list[_Item] = []
    all_words: list[str] = []
    pending_or = False
    terms = 0
    for match in _QUERY_ITEM.finditer(text[:1000]):
        minus, phrase = match.group(1) or match.group(3), match.group(2)
        raw = phrase if phrase is not None else match.group(4)
        if phrase is None and raw.lower() == "or":
            pending_or = bool(groups)
            continue
        tokens = _words(raw)  # "e-mail" becomes the phrase "e mail"
        if not minus:
            all_words.extend(tokens)
        if all(t in STOP_WORDS for t in tokens):
            continue  # nothing to search for (PostgreSQL would drop them too)
        if minus:
            negated.append(_Item(tokens, negated=True))
            continue
        if terms >= MAX_TERMS:
            continue
        terms += 1
        item = _Item(tokens)
        if pending_or and groups:
            groups[-1].append(item)
        else:
            groups.append([item])
        pending_or = False
    return _Parsed(groups=groups, negated=negated[:MAX_TERMS], all_words=all_words)


def _fts_item(item: _Item) -> str:
    return '"' + " ".join(item.tokens) + '"'  # tokens are letters and digits only


def _fts_expression(parsed: _Parsed, *, column: str | None = None) -> str:
    positive = " AND ".join(
        "(" + " OR ".join(_fts_item(i) for i in group) + ")" for group in parsed.groups
    )
    if column:
        positive = f"{{{column}}} : ({positive})"
    if parsed.negated:
        return f"({positive}) NOT ({' OR '.join(_fts_item(i) for i in parsed.negated)})"
    return positive


def _websearch_text(parsed: _Parsed) -> str:
    def item(i: _Item) -> str:
        text = " ".join(i.tokens)
        return f'"{text}"' if len(i.tokens) > 1 else text

    parts = [" or ".join(item(i) for i in group) for group in parsed.groups]
    parts += ["-" + item(i) for i in parsed.negated]
    return " ".join(parts)


def _needles(parsed: _Parsed) -> list[str]:
    seen: list[str] = []
    for group in parsed.groups:
        for item in group:
            for token in item.tokens:
                if token in STOP_WORDS:
                    continue
                needle = " " + _stem(_fold(token))
                if needle not in seen:
                    seen.append(needle)
    return seen[:MAX_TERMS]


def text_score(query: str, *, title: str, meta: str = "", body: str = "") -> float | None:
    """The text relevance T of one small document, in Python, for lists that are not in the
    offer index (a project's open tasks): the same query syntax, folding, stemming and weights
    as the best-match blend above. None when the document does not match (a required word or
    phrase is missing, or an excluded one is present); 0.0 when the query has no searchable
    word, so every document matches."""
    parsed = _parse(query)
    keys = {"title": _stemmed(title), "meta": _stemmed(meta), "body": _stemmed(body)}
    everything = keys["title"] + keys["meta"] + keys["body"]

    def present(item: _Item) -> bool:
        phrase = " " + " ".join(_stem(_fold(t)) for t in item.tokens) + " "
        return phrase in everything

    if any(present(item) for item in parsed.negated):
        return None
    if not parsed.has_text:
        return 0.0
    if not all(any(present(item) for item in group) for group in parsed.groups):
        return None
    fields = []
    for needle in _needles(parsed):
        word = needle + " "
        if word in keys["title"]:
            fields.append(FIELD_TITLE)
        elif word in keys["meta"]:
            fields.append(FIELD_META)
        else:
            fields.append(FIELD_BODY)
    words = " ".join(_fold(w) for w in parsed.all_words)
    title_key = _key(title)
    score = T_FIELDS * (sum(fields) / len(fields) if fields else 0.0)
    score += T_PHRASE if (" " + words + " ") in title_key else 0.0
    score += T_EXACT if title_key == " " + words + " " else 0.0
    return score


def _stemmed(text: str) -> str:
    """' word word ' with every word folded and stemmed: what ``text_score`` compares."""
    return " " + " ".join(_stem(w) for w in _WORD.findall(_fold(text))) + " "


# --- SQL helpers ------------------------------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _instr(haystack: str, needle: str) -> str:
    return f"strpos({haystack}, {needle})" if _pg() else f"instr({haystack}, {needle})"


def _greatest(a: str, b: str) -> str:
    return f"greatest({a}, {b})" if _pg() else f"max({a}, {b})"


def _least(a: str, b: str) -> str:
    return f"least({a}, {b})" if _pg() else f"min({a}, {b})"


_COLUMNS = (
    "offer_id",
    "kind",
    "category_id",
    "category_top_id",
    "currency",
    "price_from",
    "delivery_days",
    "languages",
    "latitude",
    "longitude",
    "published_epoch",
    "title_key",
    "meta_key",
    "rating",
    "rating_conf",
    "rating_count",
    "level_rank",
    "completed_orders",
)
_COLS_I = ", ".join(f"i.{c}" for c in _COLUMNS)


class _Sql:
    """Collects SQL fragments and their named parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self._n = 0

    def p(self, value: Any, name: str | None = None) -> str:
        if name is None:
            self._n += 1
            name = f"p{self._n}"
        self.params[name] = value
        return f"%({name})s"


def _conj(parts: list[str]) -> str:
    return " AND ".join(f"({p})" for p in parts) if parts else "1=1"


@dataclass
class _Filters:
    common: list[str]  # filters that are not facets: always applied
    facet: dict[str, list[str]]  # facet name -> its own filter(s)
    near: str | None = None  # the distance filter (also in common), to drive a browse scan

    def facet_all(self) -> list[str]:
        return [c for conds in self.facet.values() for c in conds]

    def facet_except(self, *names: str) -> list[str]:
        return [c for name, conds in self.facet.items() if name not in names for c in conds]


def _bbox(lat: float, lon: float, radius: float, sql: _Sql) -> str:
    dlat = radius / KM_PER_DEGREE
    parts = [f"i.latitude BETWEEN {sql.p(lat - dlat)} AND {sql.p(lat + dlat)}"]
    cos_lat = math.cos(math.radians(lat))
    if abs(lat) + dlat < 89.0 and cos_lat > 1e-6:
        dlon = radius / (KM_PER_DEGREE * cos_lat)
        lo, hi = lon - dlon, lon + dlon
        if dlon >= 180:
            pass
        elif lo < -180:
            parts.append(f"(i.longitude >= {sql.p(lo + 360)} OR i.longitude <= {sql.p(hi)})")
        elif hi > 180:
            parts.append(f"(i.longitude >= {sql.p(lo)} OR i.longitude <= {sql.p(hi - 360)})")
        else:
            parts.append(f"i.longitude BETWEEN {sql.p(lo)} AND {sql.p(hi)}")
    plat, plon = sql.p(lat, "near_lat"), sql.p(lon, "near_lon")
    half = (
        f"power(sin(radians(i.latitude - {plat}) / 2), 2) + cos(radians({plat}))"
        f" * cos(radians(i.latitude)) * power(sin(radians(i.longitude - {plon}) / 2), 2)"
    )
    distance = f"2 * {EARTH_RADIUS_KM} * asin({_least('1.0', f'sqrt({half})')})"
    parts.append(f"{distance} <= {sql.p(radius)}")
    return " AND ".join(parts)


def _filters(q: SearchQuery, sql: _Sql) -> _Filters:
    common: list[str] = []
    facet: dict[str, list[str]] = {"kind": [], "category": [], "language": [], "currency": []}
    facet["price"] = []
    if q.kind:
        if q.kind not in Offer.Kind.values:
            raise ValidationFailed("Unknown kind of offer.", field="kind")
        facet["kind"].append(f"i.kind = {sql.p(q.kind)}")
    if q.category:
        slug = sql.p(q.category, "category")
        cat = f"(SELECT c.id FROM {Category._meta.db_table} c WHERE c.slug = {slug})"
        facet["category"].append(f"i.category_id = {cat} OR i.category_top_id = {cat}")
    if q.language:
        needle = json.dumps(q.language.strip().lower())
        facet["language"].append(f"{_instr('i.languages', sql.p(needle))} > 0")
    if q.currency:
        facet["currency"].append(f"i.currency = {sql.p(q.currency.upper(), 'currency')}")
        if q.price_min is not None:
            facet["price"].append(f"i.price_from >= {sql.p(int(q.price_min))}")
        if q.price_max is not None:
            facet["price"].append(f"i.price_from <= {sql.p(int(q.price_max))}")
    if q.max_delivery_days is not None:
        common.append(f"i.delivery_days <= {sql.p(int(q.max_delivery_days))}")
    if q.min_rating is not None:
        common.append(f"i.rating >= {sql.p(float(q.min_rating))}")
    if q.seller_level:
        if q.seller_level not in LEVELS:
            raise ValidationFailed("Unknown seller level.", field="seller_level")
        common.append(f"i.level_rank >= {sql.p(LEVELS[q.seller_level])}")
    if q.near is not None:
        lat, lon = float(q.near[0]), float(q.near[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationFailed("Coordinates are out of range.", field="near")
        radius = float(q.radius_km) if q.radius_km else DEFAULT_RADIUS_KM
        if radius <= 0:
            raise ValidationFailed("The radius must be above zero.", field="radius_km")
        near = _bbox(lat, lon, radius, sql)
        common.append(near)
    if q.available_from or q.available_to:
        start = q.available_from or q.available_to
        end = q.available_to or q.available_from
        if end < start:
            raise ValidationFailed("The end date is before the start date.", field="available_to")
        ops = connection.ops
        from_dt = datetime(start.year, start.month, start.day, tzinfo=UTC)
        to_dt = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
        blocks = Offer.blocks.rel.related_model._meta.db_table
        sessions = Offer.sessions.rel.related_model._meta.db_table
        rental = (
            f"NOT EXISTS (SELECT 1 FROM {blocks} b WHERE b.offer_id = i.offer_id"
            f" AND b.{ops.quote_name('start')} <= {sql.p(ops.adapt_datefield_value(end))}"
            f" AND b.{ops.quote_name('end')} > {sql.p(ops.adapt_datefield_value(start))})"
        )
        experience = (
            f"EXISTS (SELECT 1 FROM {sessions} s WHERE s.offer_id = i.offer_id"
            f" AND s.cancelled_at IS NULL"
            f" AND s.starts_at >= {sql.p(ops.adapt_datetimefield_value(from_dt))}"
            f" AND s.starts_at < {sql.p(ops.adapt_datetimefield_value(to_dt))})"
        )
        common.append(
            f"(i.kind = 'rental' AND {rental}) OR (i.kind = 'experience' AND {experience})"
        )
    return _Filters(common=common, facet=facet, near=near if q.near is not None else None)


def _n(value: float) -> str:
    """A float literal; typed on PostgreSQL, where a bare 0.5 is numeric (slow arithmetic)."""
    return f"{float(value)!r}::float8" if _pg() else repr(float(value))


def _score(parsed: _Parsed | None, sql: _Sql) -> str:
    """The best-match blend (see the module docstring) as an SQL expression over ``i``."""
    neutral = RATING_CONF_NEUTRAL
    rating = f"{_n(W_RATING / (1 - neutral))} * (i.rating_conf - {_n(neutral)})"
    level = f"{_n(W_LEVEL / 3)} * i.level_rank"
    age = _greatest(_n(0), f"{sql.p(int(time.time()), 'now')} - i.published_epoch")
    fresh = f"{_n(W_FRESH)} / ({_n(1)} + {age} / {_n(FRESH_DAYS * 86400)})"
    newcomer = _greatest(_n(0), f"{_n(W_NEW)} - {_n(W_NEW / NEWCOMER_ORDERS)} * i.completed_orders")
    parts = [rating, level, fresh, newcomer]
    if parsed is not None and parsed.has_text:
        needles = _needles(parsed)
        fields = []
        for needle in needles:
            n = sql.p(needle)
            fields.append(
                f"CASE WHEN {_instr('i.title_key', n)} > 0 THEN {_n(FIELD_TITLE)}"
                f" WHEN {_instr('i.meta_key', n)} > 0 THEN {_n(FIELD_META)}"
                f" ELSE {_n(FIELD_BODY)} END"
            )
        words = [_fold(w) for w in parsed.all_words]
        phrase = sql.p(" " + " ".join(words))
        exact = sql.p(" " + " ".join(words) + " ")
        weight = W_TEXT * T_FIELDS / max(1, len(fields))
        text = [f"{_n(weight)} * ({' + '.join(fields)})"] if fields else []
        text += [
            f"CASE WHEN {_instr('i.title_key', phrase)} > 0 THEN {_n(W_TEXT * T_PHRASE)}"
            f" ELSE {_n(0)} END",
            f"CASE WHEN i.title_key = {exact} THEN {_n(W_TEXT * T_EXACT)} ELSE {_n(0)} END",
        ]
        parts = text + parts
    return " + ".join(f"({p})" for p in parts)


_ORDER = {
    "best": "score DESC, offer_id DESC",
    "price_asc": "CASE WHEN price_from IS NULL THEN 1 ELSE 0 END, price_from ASC, offer_id DESC",
    "price_desc": "CASE WHEN price_from IS NULL THEN 1 ELSE 0 END, price_from DESC, offer_id DESC",
    "rating": "rating_conf DESC, rating_count DESC, offer_id DESC",
    "newest": "published_epoch DESC, offer_id DESC",
}


def _text_sources(parsed: _Parsed, f: _Filters, sql: _Sql) -> tuple[str, str]:
    """CTEs ``raw_m`` (capped text matches) and ``base`` (candidates passing common filters)."""
    raw_cap, title_cap = sql.p(RAW_CAP, "raw_cap"), sql.p(TITLE_CAP, "title_cap")
    common = _conj(f.common)
    if not _pg():
        fts, fts_title = (
            sql.p(_fts_expression(parsed)),
            sql.p(_fts_expression(parsed, column="title")),
        )
        ctes = f"""
raw_m AS MATERIALIZED (
  SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {fts}
  ORDER BY rowid DESC LIMIT {raw_cap}),
raw AS (
  SELECT id FROM raw_m
  UNION
  SELECT id FROM (SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH {fts_title}
                  ORDER BY rowid DESC LIMIT {title_cap})),
base AS MATERIALIZED (
  SELECT {_COLS_I} FROM raw CROSS JOIN {TABLE} i ON i.offer_id = raw.id WHERE {common})"""
        return ctes, "raw_m"
    # The GIN scans look for all the words (phrases flattened, exclusions left out), which the
    # index answers without reading rows; the exact web-search query (phrases, -exclusions) is
    # then checked on the capped rows only. A phrase check inside the scan would recheck every
    # row holding the words, however many, before the cap could stop it.
    words = sql.p(_tsquery_all_words(parsed))
    exact = _websearch_text(parsed)
    needs_check = parsed.negated or any(len(i.tokens) > 1 for g in parsed.groups for i in g)
    ok = "(i.doc @@ (SELECT exact FROM q))" if needs_check else "TRUE"
    last = f"(SELECT coalesce(max(offer_id), 0) FROM {TABLE}) >> {BLOCK_SHIFT}"
    blocks = f"generate_series({last}, 0::bigint, -1::bigint) AS b(n)"
    ctes = f"""
q AS (SELECT to_tsquery('english', {words}) AS words,
             websearch_to_tsquery('english', {sql.p(exact)}) AS exact),
raw_m AS MATERIALIZED (
  SELECT x.* FROM {blocks} CROSS JOIN LATERAL (
    SELECT {_COLS_I}, {ok} AS ok FROM {TABLE} i
    WHERE (i.offer_id >> {BLOCK_SHIFT}) = b.n AND i.doc @@ (SELECT words FROM q)
    LIMIT {raw_cap}) x
  LIMIT {raw_cap}),
raw_t AS MATERIALIZED (
  SELECT x.* FROM {blocks} CROSS JOIN LATERAL (
    SELECT {_COLS_I}, {ok} AS ok FROM {TABLE} i
    WHERE (i.offer_id >> {BLOCK_SHIFT}) = b.n AND i.title_doc @@ (SELECT words FROM q)
    LIMIT {title_cap}) x
  LIMIT {title_cap}),
base AS MATERIALIZED (
  SELECT * FROM (
    SELECT * FROM raw_m
    UNION ALL
    SELECT * FROM raw_t WHERE offer_id NOT IN (SELECT offer_id FROM raw_m)) i
  WHERE i.ok AND {common})"""
    return ctes, "raw_m"


def _tsquery_all_words(parsed: _Parsed) -> str:
    """to_tsquery text: every group's alternatives, each with all its words (phrases
    flattened). Tokens are letters and digits only, so no tsquery syntax can slip in."""
    groups = [
        "(" + " | ".join("(" + " & ".join(item.tokens) + ")" for item in group) + ")"
        for group in parsed.groups
    ]
    return " & ".join(groups)


def _facet_selects(q: SearchQuery, f: _Filters, sql: _Sql) -> list[str]:
    cat_table = Category._meta.db_table
    selects = [
        f"SELECT 'kind', i.kind, count(*), 0 FROM base i"
        f" WHERE {_conj(f.facet_except('kind'))} GROUP BY i.kind",
        f"SELECT 'category', (SELECT c.slug FROM {cat_table} c WHERE c.id = g.top), g.n, 0"
        f" FROM (SELECT i.category_top_id AS top, count(*) AS n FROM base i"
        f" WHERE {_conj(f.facet_except('category'))} GROUP BY i.category_top_id) g",
        f"SELECT 'currency', i.currency, count(*), 0 FROM base i"
        f" WHERE {_conj(f.facet_except('currency', 'price'))} GROUP BY i.currency",
    ]
    where = _conj(f.facet_except("language"))
    if _pg():  # '["en","fr"]' -> en, fr without parsing JSON
        codes = "unnest(string_to_array(translate(i.languages, '[]\"', ''), ','))"
        selects.append(
            f"SELECT 'language', g.value, count(*), 0 FROM (SELECT {codes} AS value"
            f" FROM base i WHERE {where}) g WHERE g.value <> '' GROUP BY g.value"
        )
    else:
        selects.append(
            f"SELECT 'language', j.value, count(*), 0 FROM base i, json_each(i.languages) j"
            f" WHERE {where} GROUP BY j.value"
        )
    if q.currency:
        minor = 10 ** _currency_digits(q.currency)
        edges = [e * minor for e in PRICE_EDGES]
        cases, lo = [], 0
        for edge in edges:
            cases.append(f"WHEN i.price_from < {sql.p(edge)} THEN {sql.p(f'{lo}-{edge}')}")
            lo = edge
        label = f"CASE {' '.join(cases)} ELSE {sql.p(f'{lo}-')} END"
        selects.append(
            f"SELECT 'price', g.label, count(*), 0 FROM (SELECT {label} AS label FROM base i"
            f" WHERE i.price_from IS NOT NULL AND {_conj(f.facet_except('price'))}) g"
            f" GROUP BY g.label"
        )
    return selects


def _currency_digits(code: str) -> int:
    try:
        from babel.numbers import get_currency_precision

        return get_currency_precision(code.upper())
    except Exception:  # an unknown code: assume cents
        return 2


def _browse_scan(q: SearchQuery, f: _Filters, sql: _Sql, *, facets: bool) -> tuple[str, bool]:
    """A bounded scan for browsing without text: at most BROWSE_SCAN index rows, newest first,
    driven by the most selective indexed filter (distance, then category, then kind, else the
    whole index). Returns the SELECT and whether a facet filter drove it."""
    scan = sql.p(BROWSE_SCAN, "browse_scan")
    if f.near:
        # The (latitude, longitude) index range; newest first among the rows it yields.
        return f"SELECT {_COLS_I} FROM {TABLE} i WHERE {f.near} LIMIT {scan}", False
    if facets and q.category:
        cat, slug = Category._meta.db_table, sql.p(q.category, "category")
        # A top-level slug drives the category_top_id index, a subcategory the category_id
        # one; the branch that does not apply is switched off before it scans anything.
        branches = []
        for column, null, alias in [
            ("category_top_id", "NULL", "top"),
            ("category_id", "NOT NULL", "sub"),
        ]:
            category = f"SELECT c.id FROM {cat} c WHERE c.slug = {slug} AND c.parent_id IS {null}"
            branches.append(
                f"SELECT * FROM (SELECT {_COLS_I} FROM {TABLE} i WHERE i.{column} = ({category})"
                f" AND EXISTS ({category}) ORDER BY i.offer_id DESC LIMIT {scan}) {alias}"
            )
        return " UNION ALL ".join(branches), True
    if facets and q.kind:
        where = _conj(f.facet["kind"])
        return (
            f"SELECT {_COLS_I} FROM {TABLE} i WHERE {where} ORDER BY i.offer_id DESC LIMIT {scan}",
            True,
        )
    return f"SELECT {_COLS_I} FROM {TABLE} i ORDER BY i.offer_id DESC LIMIT {scan}", False


def _build(q: SearchQuery, parsed: _Parsed, sql: _Sql, *, offset: int, end: int) -> str:
    f = _filters(q, sql)
    score = _score(parsed, sql)
    if parsed.has_text:
        ctes, capped_from = _text_sources(parsed, f, sql)
        capped = f"CASE WHEN (SELECT count(*) FROM {capped_from}) >= %(raw_cap)s THEN 1 ELSE 0 END"
        source = f"base i WHERE {_conj(f.facet_all())}"
    else:
        depth = sql.p(min(MAX_DEPTH, max(BROWSE_CAP, end)), "depth")
        scan, by_facet = _browse_scan(q, f, sql, facets=True)
        all_filters = _conj(f.common + f.facet_all())
        ctes = f"""
scan_r AS MATERIALIZED ({scan}),
cand0 AS MATERIALIZED (
  SELECT * FROM scan_r i WHERE {all_filters} ORDER BY i.offer_id DESC LIMIT {depth})"""
        capped = (
            f"(SELECT count(*) FROM scan_r) >= %(browse_scan)s"
            f" OR (SELECT count(*) FROM cand0) >= {depth}"
        )
        if by_facet:
            scan_b, _ = _browse_scan(q, f, sql, facets=False)
            ctes += f""",
scan_b AS MATERIALIZED ({scan_b}),
base AS MATERIALIZED (SELECT * FROM scan_b i WHERE {_conj(f.common)})"""
            capped += " OR (SELECT count(*) FROM scan_b) >= %(browse_scan)s"
        else:
            ctes += f",\nbase AS MATERIALIZED (SELECT * FROM scan_r i WHERE {_conj(f.common)})"
        capped = f"CASE WHEN {capped} THEN 1 ELSE 0 END"
        source = "cand0 i"
    cand = f"""
cand AS MATERIALIZED (
  SELECT i.offer_id, i.price_from, i.rating_conf, i.rating_count, i.published_epoch,
         {score} AS score
  FROM {source})"""
    order = _ORDER[q.sort]
    selects = [
        f"SELECT 'r', NULL, r.offer_id, r.pos FROM ("
        f"SELECT offer_id, row_number() OVER (ORDER BY {order}) AS pos FROM cand) r"
        f" WHERE r.pos > {sql.p(offset, 'offset')} AND r.pos <= {sql.p(end, 'end')}",
        f"SELECT 'total', NULL, count(*), {capped} FROM cand",
        *_facet_selects(q, f, sql),
    ]
    body = "\nUNION ALL\n".join(selects)
    return f"WITH {ctes.strip()},\n{cand.strip()}\n{body}"


def _fetch(statement: str, params: dict[str, Any]) -> list[tuple]:
    if not _pg():
        # No transaction: with BEGIN IMMEDIATE a read would take SQLite's write lock.
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()
    # JIT compilation costs ~50 ms and is chosen from plan cost estimates, which are high for
    # these capped scans; it never pays off for a statement of a few ms. SET LOCAL lasts until
    # the end of the transaction (the caller's, or this one).
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(statement, params)
        return cursor.fetchall()


# --- search -----------------------------------------------------------------------------------


def search(query: SearchQuery) -> SearchResult:
    """One page of results with facets, in one SQL statement of bounded cost."""
    if query.sort not in SORTS:
        raise ValidationFailed("Unknown sort order.", field="sort")
    per_page = max(1, min(int(query.per_page or 24), MAX_PER_PAGE))
    page = max(1, int(query.page or 1))
    offset = (page - 1) * per_page
    result = SearchResult(page=page)
    parsed = _parse(query.text or "")
    sql = _Sql()
    statement = _build(query, parsed, sql, offset=offset, end=offset + per_page)
    rows = _fetch(statement, sql.params)
    hits: list[tuple[int, int]] = []
    facets: dict[str, list[tuple[str, int]]] = {}
    for part, key, number, extra in rows:
        if part == "r":
            hits.append((int(extra), int(number)))
        elif part == "total":
            result.total = int(number)
            result.total_is_estimate = bool(extra)
        elif key is not None:
            facets.setdefault(part, []).append((str(key), int(number)))
    hits.sort()
    result.offer_ids = [offer_id for _, offer_id in hits]
    names = ["kind", "category", "language", "currency"] + (["price"] if query.currency else [])
    for name in names:
        values = facets.get(name, [])
        if name == "price":
            values.sort(key=lambda kv: int(kv[0].split("-")[0]))
        else:
            values.sort(key=lambda kv: (-kv[1], kv[0]))
        result.facets[name] = values
    result.pages = math.ceil(result.total / per_page) if result.total else 0
    return result


# --- suggestions ------------------------------------------------------------------------------


def suggest(prefix: str, limit: int = 8) -> list[str]:
    """Tag names and titles of active offers that start with what the buyer is typing.

    Matching ignores case, accents and punctuation ("vint" → "vintage", "Vintage denim
    jacket"). Shortest tags first, then titles in alphabetical order of their normalised form;
    at most ``limit`` distinct strings. One indexed range scan per source, so it costs the same
    at any catalog size (a prefix in a full-text query would expand to every word starting
    with it, ~0.3 s for "de" at 1M offers on PostgreSQL).
    """
    tokens = _words(prefix or "")[:MAX_TERMS]
    limit = max(1, min(int(limit), 50))
    if not tokens or (len(tokens[-1]) < 2 and len(tokens) == 1):
        return []
    sql = _Sql()
    like = sql.p(" ".join(tokens) + "%")
    through = Offer.tags.through._meta.db_table
    # The shortest matching tag names that at least one active offer uses.
    used = (
        f"(SELECT 1 FROM {through} ot JOIN {TABLE} i ON i.offer_id = ot.offer_id"
        f" WHERE ot.tag_id = t.id LIMIT 1) IS NOT NULL"
    )
    tags = (
        f"SELECT 1 AS src, t.name AS s FROM (SELECT id, name FROM {Tag._meta.db_table}"
        f" WHERE lower(name) LIKE {like} ORDER BY length(name), name LIMIT {sql.p(limit * 3)}) t"
        f" WHERE {used} LIMIT {sql.p(limit)}"
    )
    start = " " + " ".join(_fold(t) for t in tokens)
    key = 'i.title_key COLLATE "C"' if _pg() else "i.title_key"  # byte order on both
    titles = (
        f"SELECT 2, i.title FROM {TABLE} i WHERE {key} >= {sql.p(start)}"
        f" AND {key} < {sql.p(start + chr(0x10FFFF))} ORDER BY {key} LIMIT {sql.p(limit * 4)}"
    )
    statement = f"SELECT * FROM ({tags}) a UNION ALL SELECT * FROM ({titles}) b"
    rows = _fetch(statement, sql.params)
    rows.sort(key=lambda r: r[0])  # stable: tags first, each in the engine's order
    out: list[str] = []
    seen: set[str] = set()
    for _, text in rows:
        folded = _fold(text)
        if folded not in seen:
            seen.add(folded)
            out.append(text)
        if len(out) >= limit:
            break
    return out


# --- keeping the index in step ----------------------------------------------------------------


def rating_confidence(rating: float | None, count: int) -> float:
    """Lower bound of the rating interval in [0, 1]: ratings 1–5 scaled to 0–1, shrunk towards
    0.5 with 3 pseudo-reviews, minus one standard error. No reviews: RATING_CONF_NEUTRAL."""
    n = max(0, int(count or 0))
    p = 0.5 if rating is None or n == 0 else min(1.0, max(0.0, (float(rating) - 1) / 4))
    shrunk = (p * n + 0.5 * 3) / (n + 3)
    return max(0.0, shrunk - math.sqrt(shrunk * (1 - shrunk) / (n + 3)))


def _reputation_for(offer_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Reputation of offers entering the index, from trust: the offer's rating and count, the
    seller's level and completed orders (imported here: trust sits above catalog, 0009)."""
    from micromarket.trust.selectors import levels as trust_levels

    return trust_levels.search_reputation(offer_ids) if offer_ids else {}


def _source_sql(where: str) -> str:
    offer = Offer._meta.db_table
    shop = Offer.shop.field.related_model._meta.db_table
    through = Offer.tags.through._meta.db_table
    tag = Tag._meta.db_table
    agg = "string_agg(t.name, ', ')" if _pg() else "group_concat(t.name, ', ')"
    return f"""
SELECT o.id, o.status, o.kind, o.title, o.description, o.category_id, c.parent_id, o.currency,
       o.price_from, o.delivery_days, o.languages, o.latitude, o.longitude, o.published_at,
       o.created_at, o.shop_id, s.name, s.is_active,
       (SELECT {agg} FROM {through} ot JOIN {tag} t ON t.id = ot.tag_id WHERE ot.offer_id = o.id)
FROM {offer} o
JOIN {Category._meta.db_table} c ON c.id = o.category_id
JOIN {shop} s ON s.id = o.shop_id
WHERE {where}"""


def _epoch(value: Any) -> int:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return int(time.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _languages(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = []
    codes = sorted({str(v).strip().lower() for v in (value or []) if str(v).strip()})
    return json.dumps(codes, separators=(",", ":"))[:200]


@dataclass
class _Entry:
    offer_id: int
    values: dict[str, Any]
    meta: str
    body: str


def _entry(row: tuple) -> _Entry | None:
    (oid, status, kind, title, description, cat, parent, currency, price, days, langs, lat, lon,
     published, created, shop_id, shop_name, shop_active, tags) = row  # fmt: skip
    if status != Offer.Status.ACTIVE or not shop_active:
        return None
    meta = f"{tags or ''} {shop_name or ''}".strip()
    values = {
        "offer_id": oid,
        "shop_id": shop_id,
        "kind": kind,
        "category_id": cat,
        "category_top_id": parent or cat,
        "currency": currency,
        "price_from": price,
        "delivery_days": days,
        "languages": _languages(langs),
        "latitude": lat,
        "longitude": lon,
        "published_epoch": _epoch(published or created),
        "title": title,
        "title_key": _key(title)[:300],
        "meta_key": _key(meta),
    }
    return _Entry(oid, values, meta, (description or "")[:BODY_MAX])


_CONTENT = (
    "shop_id",
    "kind",
    "category_id",
    "category_top_id",
    "currency",
    "price_from",
    "delivery_days",
    "languages",
    "latitude",
    "longitude",
    "published_epoch",
    "title",
    "title_key",
    "meta_key",
)
_REPUTATION = ("rating", "rating_count", "rating_conf", "seller_level", "level_rank")


def _reputation_values(offer_id: int, reputation: dict[int, dict[str, Any]]) -> dict[str, Any]:
    rep = reputation.get(offer_id, {})
    rating, count = rep.get("rating"), int(rep.get("rating_count", 0))
    level = rep.get("seller_level", "new")
    return {
        "rating": rating,
        "rating_count": count,
        "rating_conf": rating_confidence(rating, count),
        "seller_level": level,
        "level_rank": LEVELS.get(level, 0),
        "completed_orders": int(rep.get("completed_orders", 0)),
    }


_PG_DOC = (
    "setweight(to_tsvector('english', {title}), 'A')"
    " || setweight(to_tsvector('english', {meta}), 'B')"
    " || setweight(to_tsvector('english', {body}), 'D')"
)
_PG_TITLE_DOC = "to_tsvector('english', {title})"


def _upsert(cursor, entries: list[_Entry]) -> None:
    if not entries:
        return
    reputation = _reputation_for([e.offer_id for e in entries])
    columns = ["offer_id", *_CONTENT, *_REPUTATION, "completed_orders"]
    rows = [
        {**e.values, **_reputation_values(e.offer_id, reputation), "meta": e.meta, "body": e.body}
        for e in entries
    ]
    placeholders = [f"%({c})s" for c in columns]
    updates = ", ".join(f"{c} = excluded.{c}" for c in _CONTENT)
    if _pg():
        columns += ["doc", "title_doc"]
        placeholders += [
            _PG_DOC.format(title="%(title)s", meta="%(meta)s", body="%(body)s"),
            _PG_TITLE_DOC.format(title="%(title)s"),
        ]
        updates += ", doc = excluded.doc, title_doc = excluded.title_doc"
    statement = (
        f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({', '.join(placeholders)})"
        f" ON CONFLICT (offer_id) DO UPDATE SET {updates}"
    )
    cursor.executemany(statement, rows)
    if not _pg():
        cursor.executemany(
            f"DELETE FROM {FTS_TABLE} WHERE rowid = %(offer_id)s",
            [{"offer_id": e.offer_id} for e in entries],
        )
        cursor.executemany(
            f"INSERT INTO {FTS_TABLE} (rowid, title, meta, body)"
            f" VALUES (%(offer_id)s, %(title)s, %(meta)s, %(body)s)",
            [
                {"offer_id": e.offer_id, "title": e.values["title"], "meta": e.meta, "body": e.body}
                for e in entries
            ],
        )


def offer_index_sync(*, offer_id: int) -> None:
    """Bring the offer's index entry in line with the offer: in the index when active (and its
    shop is active), out of it otherwise. Two to four statements; call it inside the write's
    transaction."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_source_sql("o.id = %s"), [offer_id])
        row = cursor.fetchone()
        entry = _entry(row) if row else None
        if entry is None:
            cursor.execute(f"DELETE FROM {TABLE} WHERE offer_id = %s", [offer_id])
            if not _pg():
                cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [offer_id])
        else:
            _upsert(cursor, [entry])


def shop_index_sync(*, shop_id: int) -> None:
    """Re-index every offer of the shop (after a rename or (de)activation) in a few statements."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_source_sql("o.shop_id = %s AND o.status = 'active'"), [shop_id])
        entries = [e for e in (_entry(row) for row in cursor.fetchall()) if e is not None]
        keep = [e.offer_id for e in entries] or [0]
        marks = ", ".join(["%s"] * len(keep))
        cursor.execute(
            f"DELETE FROM {TABLE} WHERE shop_id = %s AND offer_id NOT IN ({marks})",
            [shop_id, *keep],
        )
        _upsert(cursor, entries)


def offer_index_set_reputation(*, offer_id: int, rating: float | None, rating_count: int) -> None:
    """For trust: the offer's Bayesian-average rating (1–5, None without reviews) and count."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET rating = %s, rating_count = %s, rating_conf = %s"
            f" WHERE offer_id = %s",
            [rating, int(rating_count), rating_confidence(rating, rating_count), offer_id],
        )


def shop_index_set_reputation(*, shop_id: int, seller_level: str, completed_orders: int) -> None:
    """For trust: the seller's level (new/level1/level2/top) and completed orders, on every
    indexed offer of the shop."""
    if seller_level not in LEVELS:
        raise ValidationFailed("Unknown seller level.", field="seller_level")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET seller_level = %s, level_rank = %s, completed_orders = %s"
            f" WHERE shop_id = %s",
            [seller_level, LEVELS[seller_level], int(completed_orders), shop_id],
        )


def index_rebuild(*, batch: int = 5000, progress=None) -> int:
    """Empty the index and rebuild it from the offers; returns the number of entries.

    For restores, imports and the benchmark; it holds a write lock on the index for its
    duration. Reputation columns come from ``_reputation_for``. The table's secondary indexes
    (GIN included) are dropped during the load and recreated from their own definitions after
    it, which is much faster than maintaining them row by row; on PostgreSQL rows are COPYed
    into a temporary table and the tsvectors computed in one INSERT … SELECT.
    ``progress(done)`` is called after every batch.
    """
    done = 0
    pg = _pg()
    with transaction.atomic(), connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor)
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        if pg:
            cursor.execute(f"TRUNCATE {TABLE}")  # fresh storage: no dead rows left behind
            cursor.execute(
                f"CREATE TEMP TABLE catalog_search_load ON COMMIT DROP AS"
                f" SELECT {', '.join(_LOAD_COLUMNS[:-2])}, ''::text AS meta, ''::text AS body"
                f" FROM {TABLE} WITH NO DATA"
            )
        else:
            cursor.execute(f"DELETE FROM {TABLE}")
            cursor.execute(f"DELETE FROM {FTS_TABLE}")
            cursor.execute("PRAGMA cache_size")
            cache_size = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MB while loading
        last = 0
        while True:
            # Walk the primary key; inactive offers are skipped in Python (with the status in
            # the WHERE clause SQLite picks the status index and sorts every remaining row).
            cursor.execute(_source_sql("o.id > %s") + " ORDER BY o.id LIMIT %s", [last, batch])
            rows = cursor.fetchall()
            if not rows:
                break
            last = rows[-1][0]
            entries = [e for e in (_entry(row) for row in rows) if e is not None]
            if pg:
                _copy_load(cursor, entries)
            else:
                _insert_sqlite(cursor, entries)
            done += len(entries)
            if progress:
                progress(done)
        if pg:
            columns = ", ".join(_LOAD_COLUMNS[:-2])
            cursor.execute(
                f"INSERT INTO {TABLE} ({columns}, doc, title_doc) SELECT {columns},"
                f" {_PG_DOC.format(title='title', meta='meta', body='body')},"
                f" {_PG_TITLE_DOC.format(title='title')} FROM catalog_search_load"
            )
            # Check the deferred foreign keys now: PostgreSQL will not build an index on a
            # table with pending trigger events. Then defer them again, as Django expects.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        if not pg:
            cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('optimize')")
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")
        cursor.execute(f"ANALYZE {TABLE}")
    return done


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of every index of the table but its primary key."""
    if _pg():
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary ORDER BY c.relname",
            [TABLE],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
            " AND sql IS NOT NULL ORDER BY name",
            [TABLE],
        )
    return [(name, definition) for name, definition in cursor.fetchall()]


def _insert_sqlite(cursor, entries: list[_Entry]) -> None:
    """Plain inserts into an emptied index (no upsert, no deletes)."""
    reputation = _reputation_for([e.offer_id for e in entries])
    columns = ["offer_id", *_CONTENT, *_REPUTATION, "completed_orders"]
    marks = ", ".join("?" for _ in columns)
    raw = cursor.cursor  # sqlite3's own cursor: no per-row query formatting
    rows = []
    for e in entries:
        row = {**e.values, **_reputation_values(e.offer_id, reputation)}
        rows.append([row[c] for c in columns])
    raw.executemany(f"INSERT INTO {TABLE} ({', '.join(columns)}) VALUES ({marks})", rows)
    raw.executemany(
        f"INSERT INTO {FTS_TABLE} (rowid, title, meta, body) VALUES (?, ?, ?, ?)",
        [(e.offer_id, e.values["title"], e.meta, e.body) for e in entries],
    )


_LOAD_COLUMNS = ("offer_id", *_CONTENT, *_REPUTATION, "completed_orders", "meta", "body")


def _copy_load(cursor, entries: list[_Entry]) -> None:
    reputation = _reputation_for([e.offer_id for e in entries])
    with cursor.copy(f"COPY catalog_search_load ({', '.join(_LOAD_COLUMNS)}) FROM STDIN") as copy:
        for e in entries:
            row = {**e.values, **_reputation_values(e.offer_id, reputation)}
            row.update(meta=e.meta, body=e.body)
            copy.write_row([row[c] for c in _LOAD_COLUMNS])
