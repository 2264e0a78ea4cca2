"""The demo store's catalog: suppliers, products and variants (SKUs), and promotions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from orchestration.demo import calendar as cal
from orchestration.demo.names import ADJECTIVES, CATEGORIES, SUPPLIERS

# Variants per product, by category (min, max).
_VARIANTS_PER_PRODUCT = {
    "apparel": (4, 5),
    "coffee": (2, 3),
    "skincare": (2, 2),
    "candles": (3, 5),
    "accessories": (2, 4),
    "wellness": (2, 2),
}
# Price multiple of a variant over its product's base price.
_VARIANT_PRICE = {"100ML": 1.8, "3PK": 2.4, "ESP": 1.0}
# Monthly demand shape per category (Jan..Dec), on top of the store-wide season.
_CATEGORY_MONTH = {
    "apparel": [0.9, 0.9, 1.0, 1.05, 1.05, 1.0, 0.95, 1.0, 1.05, 1.1, 1.1, 1.05],
    "coffee": [1.1, 1.05, 1.0, 0.95, 0.95, 0.9, 0.9, 0.95, 1.0, 1.05, 1.1, 1.1],
    "skincare": [1.05, 1.0, 1.0, 1.0, 1.05, 1.0, 0.95, 0.95, 1.0, 1.0, 1.0, 1.05],
    "candles": [0.8, 0.8, 0.8, 0.8, 0.75, 0.65, 0.65, 0.75, 1.0, 1.3, 1.5, 1.6],
    "accessories": [0.85, 0.85, 0.95, 1.05, 1.15, 1.2, 1.2, 1.1, 1.0, 0.9, 1.0, 1.05],
    "wellness": [1.35, 1.15, 1.05, 1.0, 0.95, 0.9, 0.9, 0.9, 1.0, 0.95, 0.9, 0.95],
}


POPULARITY_SIGMA = 1.45  # top 20% of SKUs make ~75-80% of revenue


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Supplier:
    name: str
    lead_time_days: int  # quoted (historical) mean
    lead_time_std_days: float
    order_cycle_days: int
    review_weekday: int  # Monday = 0
    cover_days: int  # how many days of demand an order tops up to, beyond lead time
    moq_units: int
    case_pack: int
    on_time_bias: float  # actual mean lead time / quoted


@dataclass
class Promotion:
    name: str
    code: str
    start: int  # day number
    end: int  # inclusive
    sku_idx: np.ndarray
    collection: str
    expected_uplift: float
    discount_pct: int
    boost: float  # multiplier applied to the SKUs' popularity while it runs


@dataclass
class Catalog:
    # per SKU
    sku: list[str]
    product: np.ndarray  # product index
    variant_code: list[str]
    variant_value: list[str]
    category: np.ndarray  # index into CATEGORIES
    price: np.ndarray  # cents
    compare_at: np.ndarray  # cents, 0 = none
    cost: np.ndarray  # cents
    grams: np.ndarray
    weight: np.ndarray  # base popularity, 0 for SKUs that do not sell
    active: np.ndarray  # bool
    supplier: np.ndarray  # supplier index
    case_pack: np.ndarray
    moq: np.ndarray
    return_rate: np.ndarray
    barcode: list[str]
    # per product
    title: list[str]
    handle: list[str]
    product_category: np.ndarray
    product_status: list[str]
    suppliers: list[Supplier]
    category_month: np.ndarray = field(default=None)  # (12, n_categories)

    @property
    def n_skus(self) -> int:
        return len(self.sku)

    def abc_class(self) -> np.ndarray:
        """A/B/C by expected revenue share (80% / 15% / 5%); '' for SKUs that do not sell."""
        revenue = self.weight * self.price
        order = np.argsort(-revenue, kind="stable")
        share = np.cumsum(revenue[order]) / revenue.sum()
        cls = np.empty(self.n_skus, dtype=object)
        cls[order] = np.where(
            share - revenue[order] / revenue.sum() < 0.80,
            "A",
            np.where(share - revenue[order] / revenue.sum() < 0.95, "B", "C"),
        )
        cls[~self.active] = ""
        return cls


def _price_cents(dollars: float, ending: int) -> int:
    return int(max(9, min(120, round(dollars)))) * 100 - (0 if ending == 0 else 100 - ending)


def build_catalog(rng: np.random.Generator, scale: float) -> Catalog:
    n_active = max(10, round(500 * scale))
    n_suppliers = max(3, round(10 * scale**0.5))
    cat_keys = [c["key"] for c in CATEGORIES]
    cat_weight = np.array([c["weight"] for c in CATEGORIES])
    cat_weight = cat_weight / cat_weight.sum()

    # Suppliers: the named ones first, numbered ones beyond the list (only at large scale).
    suppliers: list[Supplier] = []
    serves: list[list[str]] = []
    for i in range(n_suppliers):
        if i < len(SUPPLIERS):
            name, cats, (lo, hi) = SUPPLIERS[i]
        else:
            base = SUPPLIERS[i % len(SUPPLIERS)]
            name, cats, (lo, hi) = f"{base[0]} {i // len(SUPPLIERS) + 1}", base[1], base[2]
        lead = int(rng.integers(lo, hi + 1))
        packs = sorted({p for c in CATEGORIES if c["key"] in cats for p in c["packs"]})
        suppliers.append(
            Supplier(
                name=name,
                lead_time_days=lead,
                lead_time_std_days=round(lead * float(rng.uniform(0.10, 0.30)), 1),
                order_cycle_days=int(rng.choice([7, 7, 7, 14])),
                review_weekday=int(rng.integers(0, 5)),
                cover_days=int(rng.integers(28, 57)),
                moq_units=int(rng.choice([12, 24, 36, 48, 60])),
                case_pack=int(packs[len(packs) // 2]),
                on_time_bias=float(rng.uniform(0.97, 1.10)),
            )
        )
        serves.append(cats)

    variants_cap = max(1, min(5, n_active // n_suppliers))
    sku, product, vcode, vvalue, category, price, compare, grams, weight = ([] for _ in range(9))
    title, handle, product_category, product_supplier = [], [], [], []
    used_titles: set[str] = set()
    while len(sku) < n_active:
        p = len(title)
        c = int(rng.choice(len(CATEGORIES), p=cat_weight))
        spec = CATEGORIES[c]
        base_title = f"{ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]} {spec['nouns'][int(rng.integers(len(spec['nouns'])))]}"
        t, k = base_title, 2
        while t in used_titles:
            t, k = f"{base_title} No. {k}", k + 1
        used_titles.add(t)
        lo, hi = _VARIANTS_PER_PRODUCT[spec["key"]]
        n_var = min(
            int(rng.integers(lo, hi + 1)), len(spec["variants"]), variants_cap, n_active - len(sku)
        )
        chosen = (
            spec["variants"][:n_var]
            if spec["key"] == "skincare"
            else [
                spec["variants"][i]
                for i in sorted(rng.choice(len(spec["variants"]), n_var, replace=False))
            ]
        )
        shares = np.array([v[2] for v in chosen])
        shares = shares / shares.sum()
        base_price = float(np.exp(rng.uniform(*np.log(spec["price"]))))
        # Cheaper products sell more units; revenue concentration comes from the lognormal.
        popularity = float(rng.lognormal(0.0, POPULARITY_SIGMA)) * (base_price / 30.0) ** -0.9
        ending = int(rng.choice([0, 0, 50, 95, 99]))
        has_compare = rng.random() < 0.2
        compare_mult = float(rng.uniform(1.15, 1.4))
        g_lo, g_hi = spec["grams"]
        base_grams = int(rng.integers(g_lo, g_hi + 1))
        for (code, value, _), share in zip(chosen, shares):
            cents = _price_cents(base_price * _VARIANT_PRICE.get(code, 1.0), ending)
            sku.append(f"SKU-{p + 1:04d}-{code}")
            product.append(p)
            vcode.append(code)
            vvalue.append(value)
            category.append(c)
            price.append(cents)
            compare.append(round(cents * compare_mult / 100) * 100 if has_compare else 0)
            grams.append(int(base_grams * (3 if code in ("100ML", "3PK") else 1)))
            weight.append(popularity * share)
        title.append(t)
        handle.append(slug(t))
        product_category.append(c)

    # Products the store has but does not sell: drafts and archived ones.
    n_live_products = len(title)
    for j in range(max(1, round(0.02 * n_live_products))):
        p = len(title)
        c = int(rng.choice(len(CATEGORIES), p=cat_weight))
        spec = CATEGORIES[c]
        t = f"{ADJECTIVES[(p * 7) % len(ADJECTIVES)]} {spec['nouns'][p % len(spec['nouns'])]} Limited Edition {j + 1}"
        code, value, _ = spec["variants"][0]
        cents = _price_cents(float(rng.uniform(*spec["price"])), 0)
        sku.append(f"SKU-{p + 1:04d}-{code}")
        product.append(p)
        vcode.append(code)
        vvalue.append(value)
        category.append(c)
        price.append(cents)
        compare.append(0)
        grams.append(int(spec["grams"][0]))
        weight.append(0.0)
        title.append(t)
        handle.append(slug(t))
        product_category.append(c)

    n_products = len(title)
    product_status = ["active"] * n_live_products + [
        "draft" if j % 2 == 0 else "archived" for j in range(n_products - n_live_products)
    ]

    # Each product has one supplier; every supplier gets at least one product.
    product_supplier = np.zeros(n_products, dtype=np.int64)
    for p in range(n_products):
        if p < n_suppliers and p < n_live_products:
            product_supplier[p] = p
            continue
        key = cat_keys[product_category[p]]
        eligible = [i for i in range(n_suppliers) if key in serves[i]] or list(range(n_suppliers))
        product_supplier[p] = eligible[int(rng.integers(len(eligible)))]

    product = np.array(product)
    category = np.array(category)
    price = np.array(price, dtype=np.int64)
    n = len(sku)
    active = np.array(weight) > 0
    supplier = product_supplier[product]
    cost = np.round(price * rng.uniform(0.25, 0.45, n)).astype(np.int64)
    case_pack = np.array([int(rng.choice(CATEGORIES[c]["packs"])) for c in category])
    moq_mult = rng.choice([1, 1, 2, 2, 3, 4], n)
    moq = np.maximum(
        case_pack * moq_mult,
        np.ceil(np.array([suppliers[s].moq_units for s in supplier]) * 0.5 / case_pack) * case_pack,
    ).astype(np.int64)
    base_returns = np.array([CATEGORIES[c]["returns"] for c in category])
    return_rate = np.clip(base_returns * rng.lognormal(0.0, 0.3, n), 0.003, 0.13)
    n_high = max(1, round(0.03 * active.sum()))
    high = rng.choice(np.flatnonzero(active), n_high, replace=False)
    return_rate[high] = rng.uniform(0.12, 0.20, n_high)
    barcode = [
        f"{int(x):013d}" if rng.random() < 0.85 else ""
        for x in rng.integers(10**11, 10**12, n) * 10 + 6
    ]
    category_month = np.array([_CATEGORY_MONTH[k] for k in cat_keys]).T
    return Catalog(
        sku=sku,
        product=product,
        variant_code=vcode,
        variant_value=vvalue,
        category=category,
        price=price,
        compare_at=np.array(compare, dtype=np.int64),
        cost=cost,
        grams=np.array(grams),
        weight=np.array(weight),
        active=active,
        supplier=supplier,
        case_pack=case_pack,
        moq=moq,
        return_rate=return_rate,
        barcode=barcode,
        title=title,
        handle=handle,
        product_category=np.array(product_category),
        product_status=product_status,
        suppliers=suppliers,
        category_month=category_month,
    )


def pick_late_supplier(catalog: Catalog) -> int:
    """The supplier whose lead time will drift: moderate quoted lead time, real volume."""
    best, best_score = 0, -1.0
    for i, s in enumerate(catalog.suppliers):
        mask = (catalog.supplier == i) & catalog.active
        if mask.sum() < 2:
            continue
        volume = float(catalog.weight[mask].sum())
        closeness = 1.0 / (1.0 + abs(s.lead_time_days - 20) / 5)
        score = volume * closeness
        if score > best_score:
            best, best_score = i, score
    return best


_PROMO_KINDS = [  # (name, code) of promotions on hand-picked SKUs
    ("{season} Flash Sale", "FLASH{pct}"),
    ("Staff Picks {season}", "PICKS{pct}"),
    ("New Arrivals {season}", "NEW{pct}"),
    ("Bestsellers Weekend", "BEST{pct}"),
]
_SEASONS = {
    12: "Winter",
    1: "Winter",
    2: "Winter",
    3: "Spring",
    4: "Spring",
    5: "Spring",
    6: "Summer",
    7: "Summer",
    8: "Summer",
    9: "Fall",
    10: "Fall",
    11: "Fall",
}


def build_promotions(
    rng: np.random.Generator, catalog: Catalog, *, start: int, end: int, late_supplier: int
) -> list[Promotion]:
    """A few promotions per quarter inside [start, end], BFCM each year, and one upcoming
    promotion within 30 days after `end` that includes SKUs of the late supplier."""
    active = np.flatnonzero(catalog.active)
    w = catalog.weight[active]
    promos: list[Promotion] = []
    blocked: list[tuple[int, int]] = []
    years = range(cal.to_date(start).year, cal.to_date(end + 30).year + 1)
    for y in years:
        b0, b1 = cal.bfcm_days(y)
        blocked.append((b0 - 3, b1 + 3))
        if b1 < start or b0 > end + 30:
            continue
        n_top = max(3, min(60, round(0.3 * len(active))))
        top = active[np.argsort(-w, kind="stable")[:n_top]]
        promos.append(
            Promotion(
                name=f"BFCM {y}",
                code="BFCM25",
                start=b0,
                end=b1,
                sku_idx=np.sort(top),
                collection="bfcm",
                expected_uplift=2.0,
                discount_pct=25,
                boost=1.6,
            )
        )

    # Regular promotions: two or three per calendar quarter, 4-10 days each.
    q_start = cal.to_date(start).replace(day=1)
    q_start = q_start.replace(month=(q_start.month - 1) // 3 * 3 + 1)
    d = q_start
    while cal.day_number(d) <= end:
        q0 = cal.day_number(d)
        nd = d.replace(year=d.year + (d.month == 10), month=(d.month + 2) % 12 + 1)
        q1 = cal.day_number(nd) - 1
        for _ in range(int(rng.integers(2, 4))):
            length = int(rng.integers(4, 11))
            lo, hi = max(q0, start), min(q1, end) - length + 1
            if hi <= lo:
                continue
            s0 = int(rng.integers(lo, hi + 1))
            s1 = s0 + length - 1
            if any(not (s1 < b0 or s0 > b1) for b0, b1 in blocked):
                continue
            blocked.append((s0 - 2, s1 + 2))
            promos.append(_regular_promo(rng, catalog, s0, s1))
        d = nd

    # Upcoming: BFCM when it starts within 30 days after `end`, else a flash sale.
    upcoming = [p for p in promos if end < p.start <= end + 30]
    late_skus = np.flatnonzero((catalog.supplier == late_supplier) & catalog.active)
    late_skus = late_skus[np.argsort(-catalog.weight[late_skus], kind="stable")][:3]
    if not upcoming:
        p = _regular_promo(rng, catalog, end + 8, end + 12)
        promos.append(p)
        upcoming = [p]
    up = upcoming[0]
    up.sku_idx = np.union1d(up.sku_idx, late_skus)
    # Promotions that ended before the window are not the store's concern here.
    promos = [p for p in promos if p.end >= start]
    promos.sort(key=lambda p: (p.start, p.name))
    seen: dict[str, int] = {}
    for p in promos:  # promotion names are the natural key of promotions.csv
        seen[p.name] = seen.get(p.name, 0) + 1
        if seen[p.name] > 1:
            p.name = f"{p.name} ({seen[p.name]})"
    return promos


def _regular_promo(rng: np.random.Generator, catalog: Catalog, s0: int, s1: int) -> Promotion:
    active = np.flatnonzero(catalog.active)
    cats = sorted(set(catalog.category[active].tolist()))
    c = cats[int(rng.integers(len(cats)))]
    pct = int(rng.choice([15, 20, 25]))
    season, year = _SEASONS[cal.to_date(s0).month], cal.to_date(s0).year
    in_cat = active[catalog.category[active] == c]
    if rng.random() < 0.35 and 2 <= len(in_cat) <= 25:
        # A collection promotion: every SKU of one category.
        cat_title = CATEGORIES[c]["type"].split(" ")[0]
        skus, collection = in_cat, CATEGORIES[c]["key"]
        name = f"{season} {cat_title} Week {year}"
        code = f"{re.sub(r'[^A-Z]', '', cat_title.upper())}{pct}"
    else:
        k = min(len(active), int(rng.integers(3, 9)))
        p = np.sqrt(catalog.weight[active])
        skus, collection = rng.choice(active, k, replace=False, p=p / p.sum()), ""
        name_t, code_t = _PROMO_KINDS[int(rng.integers(len(_PROMO_KINDS)))]
        name = f"{name_t.format(season=season)} {year}"
        code = code_t.format(pct=pct)
    uplift = round(float(rng.uniform(1.5, 3.0)), 1)
    # The boost on popularity is larger than the uplift: favourite-driven lines dilute it.
    return Promotion(
        name=name,
        code=code,
        start=s0,
        end=s1,
        sku_idx=np.sort(skus),
        collection=collection,
        expected_uplift=uplift,
        discount_pct=pct,
        boost=1 + 3.2 * (uplift - 1),
    )
