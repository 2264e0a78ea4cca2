"""Help desk exports: Zendesk tickets before the migration (`zendesk/`, monthly CSV) and
Gorgias tickets after it (`gorgias/`, monthly JSON lines)."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from orchestration.demo import calendar as cal
from orchestration.demo.calendar import DAY
from orchestration.demo.catalog import Catalog
from orchestration.demo.names import AGENTS, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, STORE_DOMAIN
from orchestration.demo.support import ALL_TAGS, SUBJECTS, TAG_SETS, Tickets
from orchestration.demo.writers.format import Landing, _gather

ZENDESK_HEADER = [
    "Id",
    "Requester",
    "Requester email",
    "Assignee",
    "Group",
    "Organization",
    "Subject",
    "Tags",
    "Status",
    "Priority",
    "Via",
    "Ticket type",
    "Created at",
    "Updated at",
    "Assigned at",
    "Solved at",
    "Satisfaction Score",
    "Reopens",
    "Replies",
    "First reply time in minutes",
    "First reply time in minutes within business hours",
    "Full resolution time in minutes",
    "Full resolution time in minutes within business hours",
]


def _ticket_frame(
    t: Tickets,
    people: pl.DataFrame,
    product_titles: list[str],
    idx: np.ndarray,
) -> pl.DataFrame:
    """Requester, subject and tags of tickets `idx`, shared by both help desks."""
    cust = t.customer[idx]
    known = cust >= 0
    P = people.select(pl.all().gather(pl.Series(np.where(known, cust, 0))))
    prospect_first = _gather(FIRST_NAMES, (t.prospect[idx] * 7 + 3) % len(FIRST_NAMES))
    prospect_last = _gather(LAST_NAMES, (t.prospect[idx] * 11 + 5) % len(LAST_NAMES))
    prospect_email = (
        prospect_first.str.to_lowercase()
        + "."
        + prospect_last.str.to_lowercase()
        + (900_000 + t.prospect[idx]).astype(str)
        + "@"
        + _gather(EMAIL_DOMAINS, t.prospect[idx] % 3)
    )
    known_s = pl.Series(known)
    email = pl.select(pl.when(known_s).then(P["email"]).otherwise(prospect_email)).to_series()
    name = pl.select(
        pl.when(known_s).then(P["name"]).otherwise(prospect_first + " " + prospect_last)
    ).to_series()
    variant = pl.Series(t.email_variant[idx])
    email = pl.select(
        pl.when(variant == 1)
        .then(email.str.to_titlecase())
        .when(variant == 2)
        .then(email.str.to_uppercase())
        .when(variant == 3)
        .then(email + " ")
        .when(variant == 4)
        .then(" " + email)
        .otherwise(email)
    ).to_series()
    cat = t.category[idx]
    kind = t.subject_kind[idx]
    prefix = np.empty(idx.size, dtype=object)
    suffix = np.empty(idx.size, dtype=object)
    whole = np.empty(idx.size, dtype=object)
    for c in range(5):
        opts = SUBJECTS[c]
        m = cat == c
        if isinstance(opts[0], tuple):
            prefix[m] = np.array([o[0] for o in opts], dtype=object)[kind[m]]
            suffix[m] = np.array([o[1] for o in opts], dtype=object)[kind[m]]
            whole[m] = None
        else:
            whole[m] = np.array(opts, dtype=object)[kind[m]]
            prefix[m] = None
            suffix[m] = None
    middle = np.where(
        cat <= 1, np.char.add("#", np.maximum(t.order_number[idx], 0).astype(str)), ""
    )
    middle = np.where(
        cat == 2, np.array(product_titles, dtype=object)[t.product[idx]], middle
    ).astype(object)
    no_order = (cat <= 1) & (t.order_number[idx] < 0)
    middle[no_order] = "my order"
    subject = np.where(
        whole == None,
        np.char.add(np.char.add(prefix.astype(str), middle.astype(str)), suffix.astype(str)),
        whole.astype(str),
    )
    tags = [" ".join(TAG_SETS[c][k]) for c, k in zip(cat.tolist(), t.tag_set[idx].tolist())]
    return pl.DataFrame(
        {
            "email": email,
            "name": name,
            "subject": pl.Series(subject.astype(str)),
            "tags": pl.Series(tags, dtype=pl.String),
        }
    )


def write_tickets(
    landing: Landing,
    t: Tickets,
    *,
    people: pl.DataFrame,
    catalog: Catalog,
    migration_day: int,
    export_at: int,
    rng: np.random.Generator,
) -> None:
    local_day = cal.utc_to_local(t.created) // DAY
    first_reply = t.created + t.first_reply_min * 60
    solved = t.created + t.resolution_min * 60
    is_open = solved >= export_at
    # --- Zendesk (before the migration)
    z = np.flatnonzero(local_day < migration_day)
    if z.size:
        base = _ticket_frame(t, people, catalog.title, z)
        agent_names = [a[0] for a in AGENTS]
        group = np.where(
            t.category[z] == 1,
            "Returns & Exchanges",
            np.where(t.category[z] == 3, "Escalations", "Support"),
        )
        status = np.where(
            is_open[z],
            np.where(t.replies[z] > 1, "pending", "open"),
            np.where(solved[z] < export_at - 4 * DAY, "closed", "solved"),
        )
        bh = rng.uniform(0.35, 0.9, z.size)
        csat = np.array(["Unoffered", "Offered", "Good", "Bad"], dtype=object)[t.csat[z, 0]]
        created_l = cal.utc_to_local(t.created[z])
        solved_l = cal.utc_to_local(solved[z])
        assigned_l = created_l + rng.integers(30, 1200, z.size)
        updated_l = np.where(
            is_open[z],
            cal.utc_to_local(first_reply[z]),
            solved_l + rng.integers(0, 4 * DAY, z.size),
        )
        frame = pl.DataFrame(
            {
                "Id": pl.Series(10001 + z).cast(pl.String),
                "Requester": base["name"],
                "Requester email": base["email"],
                "Assignee": _gather(agent_names, t.agent[z]),
                "Group": pl.Series(group.astype(str)),
                "Organization": pl.Series([""] * z.size, dtype=pl.String),
                "Subject": base["subject"],
                "Tags": base["tags"],
                "Status": pl.Series(status.astype(str)),
                "Priority": _gather(["low", "normal", "high", "urgent"], t.priority[z]),
                "Via": _gather(["Mail", "Web form", "Chat", "Phone call (incoming)"], t.channel[z]),
                "Ticket type": _gather(
                    ["incident", "incident", "question", "problem", ""], t.category[z]
                ),
                "Created at": cal.fmt_local(pl.Series(created_l)),
                "Updated at": cal.fmt_local(pl.Series(updated_l)),
                "Assigned at": cal.fmt_local(pl.Series(assigned_l)),
                "Solved at": pl.select(
                    pl.when(pl.Series(~is_open[z])).then(cal.fmt_local(pl.Series(solved_l)))
                ).to_series(),
                "Satisfaction Score": pl.Series(
                    np.where(is_open[z], "Unoffered", csat).astype(str)
                ),
                "Reopens": pl.Series(t.reopens[z]).cast(pl.String),
                "Replies": pl.Series(t.replies[z]).cast(pl.String),
                "First reply time in minutes": pl.Series(t.first_reply_min[z]).cast(pl.String),
                "First reply time in minutes within business hours": pl.Series(
                    np.round(t.first_reply_min[z] * bh).astype(np.int64)
                ).cast(pl.String),
                "Full resolution time in minutes": pl.select(
                    pl.when(pl.Series(~is_open[z])).then(
                        pl.Series(t.resolution_min[z]).cast(pl.String)
                    )
                ).to_series(),
                "Full resolution time in minutes within business hours": pl.select(
                    pl.when(pl.Series(~is_open[z])).then(
                        pl.Series(np.round(t.resolution_min[z] * bh).astype(np.int64)).cast(
                            pl.String
                        )
                    )
                ).to_series(),
            }
        )
        months = local_day[z].astype("datetime64[D]").astype("datetime64[M]")
        for m in np.unique(months):
            landing.write_csv(
                f"zendesk/zendesk_tickets_{m}.csv",
                frame.filter(pl.Series(months == m)),
                ZENDESK_HEADER,
            )
    # --- Gorgias (after the migration)
    g = np.flatnonzero(local_day >= migration_day)
    if g.size:
        base = _ticket_frame(t, people, catalog.title, g)
        tag_id = {name: 101 + i for i, name in enumerate(ALL_TAGS)}
        channel = np.array(["email", "contact_form", "chat", "facebook"], dtype=object)[
            t.channel[g]
        ]
        opened = t.created[g] + np.minimum(
            t.first_reply_min[g] * 60, rng.integers(60, 3600, g.size)
        )
        last_msg = np.where(is_open[g], first_reply[g], solved[g] - rng.integers(0, 600, g.size))
        iso = pl.DataFrame(
            {
                "c": cal.fmt_iso_utc(pl.Series(t.created[g])),
                "o": cal.fmt_iso_utc(pl.Series(opened)),
                "x": cal.fmt_iso_utc(pl.Series(solved[g])),
                "m": cal.fmt_iso_utc(pl.Series(last_msg)),
            }
        )
        c_s, o_s, x_s, m_s = (iso[k].to_list() for k in ("c", "o", "x", "m"))
        emails, names, subjects = (
            base["email"].to_list(),
            base["name"].to_list(),
            base["subject"].to_list(),
        )
        cust_id = np.where(
            t.customer[g] >= 0, 40_000 + t.customer[g], 9_000_000 + t.prospect[g]
        ).tolist()
        open_l = is_open[g].tolist()
        cat_l, tagset_l = t.category[g].tolist(), t.tag_set[g].tolist()
        agent_l = t.agent[g].tolist()
        score_l = t.csat[g, 1].tolist()
        msgs = (t.replies[g] + 1 + t.reopens[g]).tolist()
        chan_l = channel.tolist()
        months = local_day[g].astype("datetime64[D]").astype("datetime64[M]").astype(str).tolist()
        by_month: dict[str, list[str]] = {}
        for k in range(g.size):
            ticket = {
                "id": 250_001 + k,
                "subject": subjects[k],
                "status": "open" if open_l[k] else "closed",
                "channel": chan_l[k],
                "via": chan_l[k],
                "created_datetime": c_s[k],
                "opened_datetime": o_s[k],
                "closed_datetime": None if open_l[k] else x_s[k],
                "last_message_datetime": m_s[k],
                "tags": [{"id": tag_id[n], "name": n} for n in TAG_SETS[cat_l[k]][tagset_l[k]]],
                "customer": {"id": cust_id[k], "email": emails[k], "name": names[k]},
                "assignee_user": {
                    "id": 5 + agent_l[k],
                    "email": f"{AGENTS[agent_l[k]][1]}@{STORE_DOMAIN}",
                    "name": AGENTS[agent_l[k]][0].split(" ")[0],
                },
                "satisfaction_survey": None
                if (score_l[k] == 0 or open_l[k])
                else {"score": score_l[k]},
                "messages_count": msgs[k],
            }
            by_month.setdefault(months[k], []).append(json.dumps(ticket))
        for month in sorted(by_month):
            landing.write_text(
                f"gorgias/gorgias_tickets_{month}.jsonl", "\n".join(by_month[month]) + "\n"
            )
