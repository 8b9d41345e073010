"""Trust's services, one module per area: reviews, levels, verification, disputes, moderation,
portable. Other apps import the area module they need, e.g.
``from micromarket.trust.services import reviews as trust_reviews`` (decision 0009)."""
