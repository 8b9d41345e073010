"""The seeded two-level category taxonomy (applied by migration 0002; edit with a new migration)."""

TAXONOMY: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "Creative services",
        "creative-services",
        [
            ("Logo & brand design", "logo-brand-design"),
            ("Illustration", "illustration"),
            ("Web & app development", "web-app-development"),
            ("Writing & translation", "writing-translation"),
            ("Video & animation", "video-animation"),
            ("Music & audio", "music-audio"),
        ],
    ),
    (
        "Digital products",
        "digital-products",
        [
            ("Templates", "templates"),
            ("Printables", "printables"),
            ("Online courses", "online-courses"),
            ("Stock photos & graphics", "stock-photos-graphics"),
            ("Software & plugins", "software-plugins"),
        ],
    ),
    (
        "Handmade",
        "handmade",
        [
            ("Ceramics & pottery", "ceramics-pottery"),
            ("Jewellery", "jewellery"),
            ("Textiles & knitting", "textiles-knitting"),
            ("Woodwork", "woodwork"),
            ("Art & prints", "art-prints"),
        ],
    ),
    (
        "Home & local services",
        "home-local-services",
        [
            ("Handyman & assembly", "handyman-assembly"),
            ("Cleaning", "cleaning"),
            ("Moving & delivery", "moving-delivery"),
            ("Gardening", "gardening"),
            ("Pet care", "pet-care"),
        ],
    ),
    (
        "Reselling",
        "reselling",
        [
            ("Vintage clothing", "vintage-clothing"),
            ("Books & media", "books-media"),
            ("Electronics", "electronics"),
            ("Collectibles", "collectibles"),
        ],
    ),
    (
        "Content creation",
        "content-creation",
        [
            ("Social media content", "social-media-content"),
            ("Photography", "photography"),
            ("Voice-over", "voice-over"),
            ("UGC videos", "ugc-videos"),
        ],
    ),
    (
        "Tours & experiences",
        "tours-experiences",
        [
            ("Walking tours", "walking-tours"),
            ("Food & drink", "food-drink"),
            ("Outdoor & adventure", "outdoor-adventure"),
            ("Arts & culture", "arts-culture"),
        ],
    ),
    (
        "Rentals",
        "rentals",
        [
            ("Rooms & stays", "rooms-stays"),
            ("Desks & workspaces", "desks-workspaces"),
            ("Equipment & tools", "equipment-tools"),
            ("Cars & bikes", "cars-bikes"),
        ],
    ),
    (
        "Lessons",
        "lessons",
        [
            ("Languages", "languages"),
            ("Music lessons", "music-lessons"),
            ("Tutoring", "tutoring"),
            ("Fitness & wellbeing", "fitness-wellbeing"),
            ("Crafts & cooking classes", "crafts-cooking-classes"),
        ],
    ),
]
