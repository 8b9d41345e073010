"""The search index table: one row per ACTIVE offer, denormalised for bounded search.

Written only by ``micromarket.catalog.search`` (``offer_index_sync`` and friends) with raw SQL;
nothing else should write it. It is derived data: ``search.index_rebuild()`` recreates it from
the offers.

Besides the columns declared here, migration 0003 adds engine-specific parts:

- SQLite: the FTS5 table ``catalog_offersearch_fts(title, meta, body)`` whose rowid is the
  offer id, and a trigger that deletes its row when the index row goes (e.g. an offer deleted
  through the ORM cascades here).
- PostgreSQL: ``doc`` (title weight A, tags + shop name weight B, description weight D) and
  ``title_doc`` tsvector columns with GIN indexes over ``(offer_id >> 16, doc)`` and
  ``(offer_id >> 16, title_doc)`` (extension btree_gin), so a text query can be answered block
  by block of 65,536 offer ids, newest block first, without fetching every match.
- Both (migration 0004): ``catalog_os_title_prefix``, a byte-order index on ``title_key`` for
  suggestions.

A later migration that alters this table on SQLite rebuilds it, which drops the trigger:
recreate it there (without it, FTS rows of deleted offers linger; searches join this table, so
they are never shown).
"""

from __future__ import annotations

from django.db import models

# Rating confidence of an offer without reviews (see search.rating_confidence).
RATING_CONF_NEUTRAL = 0.2113248654051871


class OfferRowidField(models.OneToOneField):
    """A one-to-one primary key to Offer that is SQLite's rowid (declared ``integer``).

    SQLite makes a column the rowid only when its type is exactly INTEGER; Django declares
    foreign keys to a BigAutoField as ``bigint``, which would cost every join a second b-tree
    search. PostgreSQL keeps ``bigint``.
    """

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class OfferSearch(models.Model):
    offer = OfferRowidField(
        "catalog.Offer",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_column="offer_id",
    )
    shop_id = models.BigIntegerField()
    kind = models.CharField(max_length=12)
    category_id = models.BigIntegerField()
    category_top_id = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    price_from = models.BigIntegerField(null=True)
    delivery_days = models.IntegerField(null=True)
    # JSON list of language codes, e.g. ["en","fr"]; filtered with a substring test on '"en"'.
    languages = models.CharField(max_length=200, default="[]")
    latitude = models.FloatField(null=True)
    longitude = models.FloatField(null=True)
    # published_at (or created_at) in Unix seconds: freshness is plain arithmetic in SQL.
    published_epoch = models.BigIntegerField()
    title = models.CharField(max_length=120)
    # Normalised " word word " strings (casefolded, accents and punctuation removed) used by the
    # text-relevance part of the blend: title_key from the title, meta_key from tags + shop name.
    title_key = models.CharField(max_length=300)
    meta_key = models.TextField(default="")
    # Reputation, fed by the trust app (see search.offer_index_set_reputation and
    # search.shop_index_set_reputation). Until it lands: no reviews, level "new", 0 orders.
    rating = models.FloatField(null=True)
    rating_count = models.IntegerField(default=0)
    rating_conf = models.FloatField(default=RATING_CONF_NEUTRAL)
    seller_level = models.CharField(max_length=8, default="new")
    level_rank = models.SmallIntegerField(default=0)
    completed_orders = models.IntegerField(default=0)

    class Meta:
        db_table = "catalog_offersearch"
        indexes = [
            models.Index(fields=["shop_id"], name="catalog_os_shop"),
            models.Index(fields=["kind", "offer"], name="catalog_os_kind"),
            models.Index(fields=["category_id", "offer"], name="catalog_os_category"),
            models.Index(fields=["category_top_id", "offer"], name="catalog_os_category_top"),
            models.Index(fields=["latitude", "longitude"], name="catalog_os_location"),
            models.Index(fields=["rating"], name="catalog_os_rating"),
            models.Index(fields=["level_rank", "offer"], name="catalog_os_level"),
        ]

    def __str__(self) -> str:
        return f"search entry of offer {self.offer_id}"
