"""Orders as the store sees them: money, discount codes, channels, and what happens after
checkout (fulfilment, cancellation, returns and refunds), all as event timestamps so an
export at any date can show the state of that date."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY, HOUR
from orchestration.demo.catalog import Catalog, Promotion
from orchestration.demo.customers import CHANNELS, Customers, Purchases
from orchestration.demo.marketing import CAMPAIGNS, EMAIL_CAMPAIGNS, campaigns_of
from orchestration.demo.names import CITIES

NEVER = np.iinfo(np.int64).max // 4

SOURCES = ["web", "pos", "shopify_draft_order"]
PAYMENT_METHODS = [
    "Shopify Payments",
    "PayPal Express Checkout",
    "Afterpay",
    "Cash",
    "manual",
    "Bogus",
]
CREATOR_CODES = ["MAYA15", "JORDAN15", "LIFEWITHLEO15"]
SHIPPING_METHODS = ["", "Standard Shipping", "Free Shipping", "Express Shipping"]
TAX_UNIT = 100_000  # tax rates are integers in thousandths of a percent (8.875% -> 8875)
VAT_RATE = 20_000  # the international market's VAT, included in its prices
GIFT_CARD_VALUES = np.array([2500, 5000, 10000])
TIP_PRESETS = np.array([200, 300, 500, 1000])
LINE_PRODUCT, LINE_TIP, LINE_GIFT_CARD = 0, 1, 2


def round_div(num: np.ndarray, den: np.ndarray | int) -> np.ndarray:
    """num / den rounded half up, in integers (num >= 0): cents stay exact."""
    num = np.asarray(num, dtype=np.int64)
    return (2 * num + den) // (2 * den)


def vat_inside(gross: np.ndarray, rate: np.ndarray | int) -> np.ndarray:
    """The tax contained in a tax-inclusive amount of cents at `rate` (TAX_UNIT units)."""
    return round_div(np.asarray(gross, dtype=np.int64) * rate, TAX_UNIT + rate)


@dataclass
class Orders:
    """Placed orders (all time, test orders included) sorted by creation, and their lines."""

    number: np.ndarray
    customer: np.ndarray  # -1 for test orders
    created: np.ndarray  # UTC seconds
    local_day: np.ndarray  # day number in the store timezone
    channel: np.ndarray  # index into CHANNELS
    campaign: np.ndarray  # index into CAMPAIGNS (paid) or EMAIL_CAMPAIGNS (email), -1 none
    utm_source: np.ndarray  # 0 = platform default, 1 = alternative (instagram for meta)
    source: np.ndarray  # index into SOURCES
    code: np.ndarray  # discount code string or ""
    gross: np.ndarray  # cents, sum of product line prices x quantities (as exported)
    discount: np.ndarray
    subtotal: np.ndarray  # gross - discount + tips + gift cards (as exported)
    shipping: np.ndarray  # as exported (incl. VAT on tax-inclusive orders)
    shipping_method: np.ndarray
    taxes: np.ndarray  # all tax; on tax-inclusive orders the VAT inside products and shipping
    total: np.ndarray
    taxes_included: np.ndarray  # bool: prices, Subtotal and Shipping include the tax
    tax_rate: np.ndarray  # TAX_UNIT units (20000 = 20%)
    tips: np.ndarray  # cents of the Tip line, 0 if none
    gift_cards: np.ndarray  # cents of gift cards bought, 0 if none
    # The answer key's Shopify finance-report amounts, ex tax (cents)
    gross_ex: np.ndarray
    discount_ex: np.ndarray
    shipping_ex: np.ndarray
    return_goods: np.ndarray  # product part of the return refund (value of goods returned)
    return_shipping: np.ndarray  # shipping part of the return refund (ex tax)
    return_taxes: np.ndarray  # tax part of the return refund
    city: np.ndarray
    payment: np.ndarray
    cancelled: np.ndarray  # UTC seconds or NEVER
    cancel_voids: np.ndarray  # bool: voided (authorisation released) vs refunded
    fulfilled_first: np.ndarray  # NEVER if never
    fulfilled_full: np.ndarray
    refunded: np.ndarray  # UTC seconds of the return refund or NEVER
    refund_amount: np.ndarray  # = return_goods + return_shipping + return_taxes
    all_returned: np.ndarray  # the return refunds the whole Total ("refunded")
    is_test: np.ndarray
    risk: np.ndarray  # 0 low, 1 medium, 2 high
    note: np.ndarray  # -1 none
    is_first: np.ndarray
    # lines
    line_order: np.ndarray
    line_sku: np.ndarray
    line_qty: np.ndarray
    line_price: np.ndarray
    line_discount: np.ndarray
    line_fulfilled: np.ndarray
    line_returned: np.ndarray
    line_returned_qty: np.ndarray
    line_kind: np.ndarray  # LINE_PRODUCT, LINE_TIP or LINE_GIFT_CARD (line_sku -1)

    @property
    def n(self) -> int:
        return self.number.size


def assign_channels(
    rng: np.random.Generator, customers: Customers, purchases: Purchases
) -> tuple[np.ndarray, np.ndarray]:
    """Channel (index into CHANNELS) and source (index into SOURCES) of every would-be order.

    First orders come through the customer's acquisition channel; repeat orders mostly
    through email, direct and organic visits, some through paid retargeting.
    """
    n = purchases.customer.size
    u = rng.random(n)
    source = np.where(u < 0.02, 1, np.where(u < 0.035, 2, 0))
    r = rng.random(n)
    acq = customers.channel[purchases.customer]
    paid_pick = rng.choice(3, n, p=[0.5, 0.38, 0.12])
    repeat_channel = np.select(
        [r < 0.30, r < 0.52, r < 0.64, r < 0.86], [3, 5, 4, np.where(acq < 3, acq, 5)], paid_pick
    )
    channel = np.where(purchases.is_first, acq, repeat_channel)
    return np.where(source > 0, 5, channel), source


def build_orders(
    rng: np.random.Generator,
    *,
    catalog: Catalog,
    promos: list[Promotion],
    customers: Customers,
    purchases: Purchases,
    placed: np.ndarray,
    channel_all: np.ndarray,
    source_all: np.ndarray,
    line_order: np.ndarray,
    line_sku: np.ndarray,
    line_qty: np.ndarray,
    line_promo: np.ndarray,
    first_day_number: int,
    window_start: int,
    window_end: int,
    return_spike: tuple[int, int, int],
    carrier_delay: tuple[int, int],
    extra: np.random.Generator | None = None,
    taxes_included: np.ndarray | None = None,
    tip_share: float = 0.03,
    gift_card_share: float = 0.01,
) -> Orders:
    """Turn placed purchases into orders. Day arguments are day numbers; line arrays hold
    the kept lines of placed orders, line_order indexing purchases.

    `taxes_included` (per customer) marks the customers of the international market whose
    orders are exported tax-inclusive (prices, Subtotal and Shipping include 20% VAT, Total
    = Subtotal + Shipping). `extra` draws tips, gift cards and return details, so adding
    them leaves every other draw of the store as it was."""
    extra = extra if extra is not None else np.random.default_rng(0)
    # Re-index placed purchases.
    p_idx = np.flatnonzero(placed)
    remap = -np.ones(placed.size, dtype=np.int64)
    remap[p_idx] = np.arange(p_idx.size)
    lo = remap[line_order]
    n = p_idx.size
    cust = purchases.customer[p_idx]
    day = first_day_number + purchases.day[p_idx]
    created = cal.local_to_utc(day.astype(np.int64) * DAY + purchases.second[p_idx])
    is_first = purchases.is_first[p_idx]

    channel, source = channel_all[p_idx], source_all[p_idx]

    # Money.
    price = catalog.price[line_sku]
    gross_line = price * line_qty
    gross = np.bincount(lo, weights=gross_line, minlength=n).astype(np.int64)
    order_promo = np.full(n, np.iinfo(np.int64).max)
    has_promo_line = line_promo >= 0
    np.minimum.at(order_promo, lo[has_promo_line], line_promo[has_promo_line])
    order_promo = np.where(order_promo == np.iinfo(np.int64).max, -1, order_promo)
    uses_promo = (order_promo >= 0) & (rng.random(n) < 0.85) & (source == 0)
    promo_pct = np.array([p.discount_pct for p in promos] + [0])
    promo_codes = np.array([p.code for p in promos] + [""], dtype=object)
    line_disc = np.where(
        uses_promo[lo] & (line_promo == order_promo[lo]),
        np.round(gross_line * promo_pct[line_promo] / 100),
        0,
    ).astype(np.int64)
    prop = customers.discount_propensity[cust]
    r = rng.random(n)
    welcome = ~uses_promo & is_first & (r < prop) & (source == 0)
    email_code = ~uses_promo & ~is_first & (channel == 3) & (r < 0.5 * prop + 0.1)
    creator = ~uses_promo & ~welcome & (channel == 2) & (r < 0.35)
    save = ~uses_promo & ~welcome & ~email_code & ~creator & (r < 0.05 * prop)
    code = np.full(n, "", dtype=object)
    code[uses_promo] = promo_codes[order_promo[uses_promo]]
    code[welcome] = "WELCOME10"
    code[email_code] = np.where(rng.random(email_code.sum()) < 0.6, "THANKYOU15", "VIP15")
    code[creator] = np.array(CREATOR_CODES, dtype=object)[rng.integers(0, 3, creator.sum())]
    code[save] = "SAVE10"
    order_pct = np.select([welcome, email_code, creator, save], [10, 15, 15, 10], 0)
    line_disc_sum = np.bincount(lo, weights=line_disc, minlength=n).astype(np.int64)
    discount = line_disc_sum + np.round((gross - line_disc_sum) * order_pct / 100).astype(np.int64)
    subtotal = gross - discount
    express = rng.random(n) < 0.06
    shipping = np.where(source == 1, 0, np.where(express, 1295, np.where(subtotal >= 5000, 0, 595)))
    shipping_method = np.where(
        source == 1, 0, np.where(express, 3, np.where(subtotal >= 5000, 2, 1))
    )
    city = customers.city[cust]
    incl = np.zeros(n, dtype=bool) if taxes_included is None else np.asarray(taxes_included)[cust]
    us_rate = np.round(np.array([c[4] for c in CITIES]) * 1000).astype(np.int64)[city]
    tax_rate = np.where(incl, VAT_RATE, us_rate)
    product_net = subtotal  # products after discounts (incl. VAT where prices include it)
    ship_vat = np.where(incl, vat_inside(shipping, VAT_RATE), 0)
    product_tax = np.where(
        incl, vat_inside(product_net, VAT_RATE), round_div(product_net * us_rate, TAX_UNIT)
    )
    taxes = product_tax + ship_vat
    # Tips (web checkout only) and gift cards: lines of their own, in Subtotal and Total,
    # never taxed, discounted or shipped, and not stock.
    tip_u, tip_kind = extra.random(n), extra.random(n)
    tip_preset = TIP_PRESETS[extra.integers(0, TIP_PRESETS.size, n)]
    tip_pct = np.clip(round_div(product_net * 10, 100), 200, 1000)
    tips = np.where(
        (source == 0) & (tip_u < tip_share), np.where(tip_kind < 0.5, tip_preset, tip_pct), 0
    ).astype(np.int64)
    gift_u = extra.random(n)
    gift_value = GIFT_CARD_VALUES[extra.choice(GIFT_CARD_VALUES.size, n, p=[0.3, 0.5, 0.2])]
    gift_cards = np.where((source != 2) & (gift_u < gift_card_share), gift_value, 0)
    subtotal = product_net + tips + gift_cards
    total = subtotal + shipping + np.where(incl, 0, taxes)
    gross_ex = np.where(incl, gross - vat_inside(gross, VAT_RATE), gross)
    net_ex = np.where(incl, product_net - product_tax, product_net)
    discount_ex = gross_ex - net_ex
    shipping_ex = shipping - ship_vat
    pay_u = rng.random(n)
    payment = np.where(
        source == 1, 3, np.where(source == 2, 4, np.select([pay_u < 0.76, pay_u < 0.94], [0, 1], 2))
    )

    # After checkout: cancellation, fulfilment, returns.
    cancel = (rng.random(n) < 0.01) & (source != 1)
    cancelled = np.where(cancel, created + rng.integers(HOUR // 3, 30 * HOUR, n), NEVER)
    cancel_voids = rng.random(n) < 0.6
    local_created = cal.utc_to_local(created)
    created_hour = (local_created % DAY) // HOUR
    delay = rng.choice(5, n, p=[0.2, 0.5, 0.2, 0.07, 0.03])
    delay = np.where((delay == 0) & (created_hour >= 14), 1, delay)
    bf_start, bf_end = zip(
        *[
            cal.bfcm_days(y)
            for y in range(cal.to_date(int(day.min())).year, cal.to_date(int(day.max())).year + 1)
        ]
    )
    in_bfcm = np.zeros(n, dtype=bool)
    for b0, b1 in zip(bf_start, bf_end):
        in_bfcm |= (day >= b0) & (day <= b1)
    delay = delay + in_bfcm
    c0, c1 = carrier_delay
    delay = delay + np.where((day >= c0 - 2) & (day <= c1), 3, 0)
    f_day = day + delay
    wd = cal.weekday(f_day)
    f_day = f_day + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    f_local = f_day.astype(np.int64) * DAY + 9 * HOUR + rng.integers(0, 9 * HOUR, n)
    fulfilled = cal.local_to_utc(f_local)
    fulfilled = np.where(fulfilled <= created, created + rng.integers(HOUR, 3 * HOUR, n), fulfilled)
    fulfilled = np.where(source == 1, created + 60, fulfilled)
    fulfilled = np.where(cancel, NEVER, fulfilled)
    n_lines = np.bincount(lo, minlength=n)
    line_pos = np.arange(lo.size) - (np.cumsum(n_lines) - n_lines)[lo]
    split = (n_lines > 1) & (rng.random(n) < 0.04) & ~cancel & (source != 1)
    second = fulfilled + rng.integers(2 * DAY, 7 * DAY, n)
    line_fulfilled = np.where(split[lo] & (line_pos > 0), second[lo], fulfilled[lo])
    fulfilled_full = np.where(split, second, fulfilled)

    rate = catalog.return_rate[line_sku]
    s_sku, s0, s1 = return_spike
    spike_line = (line_sku == s_sku) & (day[lo] >= s0) & (day[lo] <= s1)
    rate = np.where(spike_line, 0.45, rate)
    returned = (rng.random(lo.size) < rate) & ~cancel[lo]
    # Some 3+ line orders send back two lines; some multi-unit lines only one unit.
    two_lines = (
        (n_lines >= 3)
        & (np.bincount(lo, weights=returned, minlength=n) > 0)
        & (extra.random(n) < 0.3)
    )
    returned = returned | (two_lines[lo] & (line_pos < 2))
    one_unit = returned & (line_qty > 1) & (extra.random(lo.size) < 0.5)
    returned_qty = np.where(returned, np.where(one_unit, 1, line_qty), 0).astype(np.int64)
    has_return = np.bincount(lo, weights=returned, minlength=n) > 0
    has_spike = np.bincount(lo, weights=returned & spike_line, minlength=n) > 0
    wait_days = np.where(has_spike, rng.uniform(4, 14, n), rng.uniform(5, 30, n))
    r_local = (
        ((cal.utc_to_local(fulfilled_full) // DAY) + wait_days.astype(np.int64)) * DAY
        + 10 * HOUR
        + rng.integers(0, 7 * HOUR, n)
    )
    refunded = np.where(has_return, cal.local_to_utc(r_local), NEVER)
    # A returned line refunds its value after its share of the order discount (for the
    # units sent back) plus its tax; tax-inclusive lines refund their inclusive value. The
    # tax of a refund is rounded once on the refunded value, so a reader that knows the
    # rate (Tax 1 Name) can split a refund into goods and tax exactly. Sending everything
    # back refunds the whole Total (shipping too), unless the order also had a tip or a
    # gift card: those are kept, and so is the shipping.
    line_net = gross_line - line_disc
    order_level = discount - line_disc_sum
    base = (gross - line_disc_sum)[lo]
    share = np.where(base > 0, line_net / np.maximum(base, 1), 0)
    line_value = line_net - share * order_level[lo]
    returned_value = np.floor(line_value * returned_qty / line_qty + 0.5).astype(np.int64)
    value = np.bincount(lo, weights=returned_value, minlength=n).astype(np.int64)
    every_unit = np.bincount(lo, weights=returned_qty == line_qty, minlength=n) == n_lines
    goods_all = has_return & every_unit
    value = np.where(goods_all, product_net, np.minimum(value, product_net))
    all_returned = goods_all & (tips == 0) & (gift_cards == 0)
    vat_back = vat_inside(value, VAT_RATE)
    return_taxes = np.where(incl, vat_back, round_div(value * us_rate, TAX_UNIT))
    return_goods = np.where(incl, value - vat_back, value)
    return_shipping = np.zeros(n, dtype=np.int64)
    return_goods = np.where(all_returned, net_ex, return_goods)
    return_taxes = np.where(all_returned, taxes, return_taxes)
    return_shipping = np.where(all_returned, shipping_ex, return_shipping)
    no_return = ~has_return
    return_goods[no_return] = 0
    return_taxes[no_return] = 0
    return_shipping[no_return] = 0
    refund_amount = np.where(
        all_returned, total, np.where(incl, value, value + return_taxes)
    ).astype(np.int64)
    refund_amount[no_return] = 0

    risk = np.select([rng.random(n) < 0.01, rng.random(n) < 0.04], [2, 1], 0)
    note = np.where(rng.random(n) < 0.02, rng.integers(0, 5, n), -1)

    # UTM campaign of the visit that converted.
    day_n = day
    campaign = campaigns_of(rng, channel, day_n, order_promo, uses_promo, is_first)
    utm_alt = (rng.random(n) < 0.2).astype(np.int64)

    orders = {
        "customer": cust,
        "created": created,
        "local_day": day,
        "channel": channel,
        "campaign": campaign,
        "utm_source": utm_alt,
        "source": source,
        "code": code,
        "gross": gross,
        "discount": discount,
        "subtotal": subtotal,
        "shipping": shipping,
        "shipping_method": shipping_method,
        "taxes": taxes,
        "total": total,
        "taxes_included": incl,
        "tax_rate": tax_rate,
        "tips": tips,
        "gift_cards": gift_cards,
        "gross_ex": gross_ex,
        "discount_ex": discount_ex,
        "shipping_ex": shipping_ex,
        "return_goods": return_goods,
        "return_shipping": return_shipping,
        "return_taxes": return_taxes,
        "city": city,
        "payment": payment,
        "cancelled": cancelled,
        "cancel_voids": cancel_voids,
        "fulfilled_first": fulfilled,
        "fulfilled_full": fulfilled_full,
        "refunded": refunded,
        "refund_amount": refund_amount,
        "all_returned": all_returned,
        "is_test": np.zeros(n, dtype=bool),
        "risk": risk,
        "note": note,
        "is_first": is_first,
    }
    lines = {
        "line_order": lo,
        "line_sku": line_sku,
        "line_qty": line_qty,
        "line_price": price,
        "line_discount": line_disc,
        "line_fulfilled": line_fulfilled,
        "line_returned": returned,
        "line_returned_qty": returned_qty,
        "line_kind": np.zeros(lo.size, dtype=np.int64),
    }
    # Tip and gift card lines follow the order's product lines.
    extra_o = np.concatenate([np.flatnonzero(tips), np.flatnonzero(gift_cards)])
    k = extra_o.size
    n_tip = int((tips > 0).sum())
    digital = np.where(cancel[extra_o], NEVER, created[extra_o] + 60)
    added = {
        "line_order": extra_o,
        "line_sku": np.full(k, -1, dtype=np.int64),
        "line_qty": np.ones(k, dtype=np.int64),
        "line_price": np.concatenate([tips[tips > 0], gift_cards[gift_cards > 0]]),
        "line_discount": np.zeros(k, dtype=np.int64),
        "line_fulfilled": digital,
        "line_returned": np.zeros(k, dtype=bool),
        "line_returned_qty": np.zeros(k, dtype=np.int64),
        "line_kind": np.where(np.arange(k) < n_tip, LINE_TIP, LINE_GIFT_CARD),
    }
    lines = {key: np.concatenate([np.asarray(v), added[key]]) for key, v in lines.items()}

    # A handful of test orders placed by the merchant (Bogus gateway, tagged "test").
    n_test = 3 + (window_end - window_start + 1) // 120
    t_day = np.sort(rng.integers(window_start, window_end + 1, n_test))
    t_created = cal.local_to_utc(t_day * DAY + 10 * HOUR + rng.integers(0, 6 * HOUR, n_test))
    t_sku = rng.choice(np.flatnonzero(catalog.active), n_test)
    free = np.arange(n_test) % 2 == 0
    t_price = np.where(free, catalog.price[t_sku], 100)
    t_discount = np.where(free, t_price, 0)
    t_void = np.arange(n_test) % 3 == 1
    test = {
        "customer": np.full(n_test, -1),
        "created": t_created,
        "local_day": t_day,
        "channel": np.full(n_test, 5),
        "campaign": np.full(n_test, -1),
        "utm_source": np.zeros(n_test, dtype=np.int64),
        "source": np.zeros(n_test, dtype=np.int64),
        "code": np.where(free, "TEST100", "").astype(object),
        "gross": t_price,
        "discount": t_discount,
        "subtotal": t_price - t_discount,
        "shipping": np.zeros(n_test, dtype=np.int64),
        "shipping_method": np.ones(n_test, dtype=np.int64),
        "taxes": np.zeros(n_test, dtype=np.int64),
        "total": t_price - t_discount,
        "taxes_included": np.zeros(n_test, dtype=bool),
        "tax_rate": np.zeros(n_test, dtype=np.int64),
        "tips": np.zeros(n_test, dtype=np.int64),
        "gift_cards": np.zeros(n_test, dtype=np.int64),
        "gross_ex": t_price,
        "discount_ex": t_discount,
        "shipping_ex": np.zeros(n_test, dtype=np.int64),
        "return_goods": np.zeros(n_test, dtype=np.int64),
        "return_shipping": np.zeros(n_test, dtype=np.int64),
        "return_taxes": np.zeros(n_test, dtype=np.int64),
        "city": rng.integers(0, len(CITIES), n_test),
        "payment": np.full(n_test, 5),
        "cancelled": np.where(t_void, t_created + 2 * HOUR, NEVER),
        "cancel_voids": np.ones(n_test, dtype=bool),
        "fulfilled_first": np.full(n_test, NEVER),
        "fulfilled_full": np.full(n_test, NEVER),
        "refunded": np.full(n_test, NEVER),
        "refund_amount": np.zeros(n_test, dtype=np.int64),
        "all_returned": np.zeros(n_test, dtype=bool),
        "is_test": np.ones(n_test, dtype=bool),
        "risk": np.zeros(n_test, dtype=np.int64),
        "note": np.full(n_test, -1),
        "is_first": np.zeros(n_test, dtype=bool),
    }
    t_lines = {
        "line_order": n + np.arange(n_test),
        "line_sku": t_sku,
        "line_qty": np.ones(n_test, dtype=np.int64),
        "line_price": t_price,
        "line_discount": np.zeros(n_test, dtype=np.int64),
        "line_fulfilled": np.full(n_test, NEVER),
        "line_returned": np.zeros(n_test, dtype=bool),
        "line_returned_qty": np.zeros(n_test, dtype=np.int64),
        "line_kind": np.zeros(n_test, dtype=np.int64),
    }
    all_o = {k: np.concatenate([np.asarray(v), np.asarray(test[k])]) for k, v in orders.items()}
    all_l = {k: np.concatenate([np.asarray(v), np.asarray(t_lines[k])]) for k, v in lines.items()}

    # Order names #1001, #1002, ... in creation order.
    order = np.lexsort((all_o["customer"], all_o["created"]))
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    all_o = {k: v[order] for k, v in all_o.items()}
    all_l["line_order"] = rank[all_l["line_order"]]
    lorder = np.lexsort((np.arange(all_l["line_order"].size), all_l["line_order"]))
    all_l = {k: v[lorder] for k, v in all_l.items()}
    return Orders(number=1001 + np.arange(order.size), **all_o, **all_l)


__all__ = [
    "CAMPAIGNS",
    "CHANNELS",
    "EMAIL_CAMPAIGNS",
    "LINE_GIFT_CARD",
    "LINE_PRODUCT",
    "LINE_TIP",
    "NEVER",
    "Orders",
    "build_orders",
]
