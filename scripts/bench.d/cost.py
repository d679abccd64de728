#!/usr/bin/env python3
"""Cost of Roster in AWS, from counted requests and list prices (issue 16, item 4).

Prints the tables of docs/BENCHMARKS.md ("Cost"): per 1,000 invitations sent and accepted,
per million API requests of a member-facing mix, per 10,000 monthly active members; Roster
beside the Node.js peer of scripts/bench. Standard library only:

    python3 scripts/bench.d/cost.py

DynamoDB units per operation come from the request counts of tests/tests/e2e/budgets.rs
(docs/BENCHMARKS.md) and the items each request touches (docs/storage.md); what is assumed
(durations in Lambda, item sizes, the activity of a member) is named where it is used.
"""

# us-east-1 list prices, read 2026-12-01 from AWS's pricing pages (page names as cited).
PRICES = {
    # "Amazon DynamoDB pricing for on-demand capacity" (Standard table class)
    "wru": 0.625 / 1e6,
    "rru": 0.125 / 1e6,
    "storage_gb_month": 0.25,
    # "AWS Lambda pricing" (Arm, first 7.5 billion GB-s a month; requests)
    "lambda_gb_s": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    # "Amazon SES pricing" (outbound email)
    "ses_message": 0.10 / 1000,
    # "Amazon EventBridge pricing" (custom events, per 64 KB chunk)
    "eventbridge_event": 1.00 / 1e6,
    # "Amazon API Gateway pricing" (HTTP APIs, first 300 million a month)
    "apigw_request": 1.00 / 1e6,
}

# Lambda memory per function (template.yaml, MemorySize).
MEMORY_MB = {
    "auth": 256, "orgs": 128, "invite": 256, "accept": 256, "members": 128,
    "change-role": 128, "remove": 128, "users": 256, "audit": 128, "cleanup": 256,
    "events": 128,
}

# Assumed in Lambda (arm64), warm: one DynamoDB round trip 8 ms, SES SendEmail 25 ms (10 at a
# time), argon2id (19 MiB, t=2) ~200 ms at 256 MB's share of a vCPU, 2 ms of our own work.
RT_MS, SES_MS, ARGON_MS, OWN_MS = 8, 25, 200, 2
# Cold starts: 1 invocation in 100; init in Lambda ~3x the bench's (a fraction of a vCPU):
# Rust 3.5 ms -> ~11 ms, Node 146 ms -> ~440 ms (scripts/bench, docs/BENCHMARKS.md). Lambda
# bills the init phase of every runtime since August 2025.
COLD_SHARE, RUST_INIT_MS, NODE_INIT_MS = 0.01, 11, 440
# The Node peer (estimated, scripts/bench measures it answering a constant, no AWS call): the
# same table design, so the same DynamoDB, SES, EventBridge and API Gateway requests; its
# functions at 256 MB at least (59 MiB resident idle with the SDK v3 clients loaded, against
# Rust's 9), and ~10 ms more per invocation for the JavaScript and SDK v3's request path at
# that share of a vCPU.
NODE_MIN_MB, NODE_EXTRA_MS = 256, 10


def op(function, rru, wru, rts, ses=0, events=0, extra_ms=0):
    """One API operation: its function, read and write request units, sequential round
    trips, SES messages, audit events (EventBridge), and time beyond its round trips."""
    return dict(function=function, rru=rru, wru=wru, ms=rts * RT_MS + OWN_MS + extra_ms,
                ses=ses, events=events)


# Units per operation (items < 1 KB; consistent GetItem/BatchGetItem 1 RRU an item, found or
# not; a GSI Query 0.5 RRU per 4 KB; transactional writes 2 WRU an item, checks included;
# every GSI entry written, updated or removed 1 WRU).
OPS = {
    # GetItem user
    "who am I": op("auth", 1, 0, 1),
    # GetItem session + user; TransactWrite: session update, user check
    "refresh session": op("auth", 2, 4, 2),
    # GetItem attempts, Query gsi2 (0.5); PutItem session; argon2 verify
    "sign in": op("auth", 1.5, 1, 2, extra_ms=ARGON_MS),
    "sign out": op("auth", 0, 1, 1),
    "read organization": op("orgs", 2, 0, 1),
    # caller, org; Query gsi1 51 users (~23 KB: 3 RRU)
    "list members (page of 50)": op("members", 5, 0, 1),
    "read member": op("members", 3, 0, 1),
    # caller, org; Query 51 invitations (~31 KB: 4 RRU)
    "list invitations (page)": op("invite", 6, 0, 1),
    "audit log (page)": op("audit", 5, 0, 1),
    # caller, org, 4 batch-read items; 7 items x 2 + INVEXP entry; 1 mail; 1 audit event
    "invite 1 email": op("invite", 6, 15, 2, ses=1, events=1, extra_ms=SES_MS),
    # 204 reads; 708 WRU (docs: 7 per invitation + 8 per request); 100 mails, 10 at a time
    "invite 100 emails": op("invite", 204, 708, 3, ses=100, events=100, extra_ms=10 * SES_MS),
    # invitation, org, address throttle; Query gsi2 (0.5)
    "preview invitation": op("accept", 3.5, 0, 2),
    # 8 items x 2 (invitation, claim, org count, user, email claim, 2 audit, session) + 3 GSI
    "accept (new account)": op("accept", 3, 19, 2, events=2, extra_ms=ARGON_MS),
    # caller, org, target; check, target, audit x 2 + members-index update
    "change role": op("change-role", 3, 7, 2, events=1),
    # caller, org, target; check, detach, org count, audit x 2 + members-index removal
    "remove member": op("remove", 3, 9, 2, events=1),
}


def lambda_cost(o, node=False):
    mb = MEMORY_MB[o["function"]]
    ms = o["ms"] + COLD_SHARE * (NODE_INIT_MS if node else RUST_INIT_MS)
    if node:
        mb, ms = max(mb, NODE_MIN_MB), ms + NODE_EXTRA_MS
    return mb / 1024 * ms / 1000 * PRICES["lambda_gb_s"] + PRICES["lambda_request"]


def events_cost(events, node=False):
    """The events function publishes audit entries: assume one invocation per 2 entries
    (batches of up to 100 within 1 s), 30 ms each at 128 MB, and one custom event each."""
    invocation = dict(function="events", ms=30)
    return events * PRICES["eventbridge_event"] + events / 2 * lambda_cost(invocation, node)


def cost(counts, node=False):
    """Dollars for `counts` ({operation: how many}), by service."""
    out = dict(dynamodb=0.0, lambda_=0.0, ses=0.0, eventbridge=0.0, apigw=0.0)
    for name, n in counts.items():
        o = OPS[name]
        out["dynamodb"] += n * (o["rru"] * PRICES["rru"] + o["wru"] * PRICES["wru"])
        out["lambda_"] += n * lambda_cost(o, node)
        out["ses"] += n * o["ses"] * PRICES["ses_message"]
        evs = n * o["events"]
        out["eventbridge"] += evs * PRICES["eventbridge_event"]
        out["lambda_"] += events_cost(evs, node) - evs * PRICES["eventbridge_event"]
        out["apigw"] += n * PRICES["apigw_request"]
    return out


# A monthly active member's month (assumed): 2 sign-ins and 1 sign-out, 80 refreshes (15-minute
# access tokens, ~20 hours of use), 40 GET /me, 20 reads of the org, 5 member pages, 3 member
# reads, 0.5 invitation pages, 0.2 audit pages. Membership changes per 10,000 members a
# month: 500 invitations sent (one by one), 400 accepted by new accounts, 100 role changes,
# 100 removals.
PER_MEMBER = {
    "sign in": 2, "sign out": 1, "refresh session": 80, "who am I": 40,
    "read organization": 20, "list members (page of 50)": 5, "read member": 3,
    "list invitations (page)": 0.5, "audit log (page)": 0.2,
}
PER_10K_CHANGES = {
    "invite 1 email": 500, "preview invitation": 400, "accept (new account)": 400,
    "change role": 100, "remove member": 100,
}


def month_counts(members):
    counts = {k: v * members for k, v in PER_MEMBER.items()}
    for k, v in PER_10K_CHANGES.items():
        counts[k] = counts.get(k, 0) + v * members / 10_000
    return counts


def storage_gb(members):
    """Stored bytes for `members` (each item + 100 B of DynamoDB overhead, GSI copies with
    all attributes): users 600 B in the table, gsi1 and gsi2; email claims 200 B; 2 live
    sessions of 300 B; a year of audit entries (500 B: every change, sign-ins are not
    audited) and invitations (700 B, kept 30 days after they end)."""
    month = month_counts(members)
    audit_per_month = sum(month[k] * OPS[k]["events"] for k in month)
    bytes_ = members * (3 * 600 + 200 + 2 * 300)
    bytes_ += 12 * audit_per_month * 500
    bytes_ += month["invite 1 email"] * 2 * 700
    return bytes_ / 1e9


def dollars(v):
    return f"${v:,.4f}" if v < 1 else f"${v:,.2f}"


def table(title, rows_by_side):
    print(f"\n**{title}**\n")
    print("| | DynamoDB | Lambda | SES | EventBridge | API Gateway | storage | **total** |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for side, c in rows_by_side:
        total = sum(c.values())
        print(f"| {side} | {dollars(c['dynamodb'])} | {dollars(c['lambda_'])} | "
              f"{dollars(c['ses'])} | {dollars(c['eventbridge'])} | {dollars(c['apigw'])} | "
              f"{dollars(c.get('storage', 0))} | **{dollars(total)}** |")


def main():
    # 1,000 invitations sent (10 requests of 100) and accepted by new accounts, each accept
    # after its preview (the page the link opens is served by accept too: one more request).
    invites = {"invite 100 emails": 10, "preview invitation": 1000, "accept (new account)": 1000}
    page_views = 1000 * (PRICES["apigw_request"] + PRICES["lambda_request"]
                         + 128 / 1024 * 0.005 * PRICES["lambda_gb_s"])
    sides = []
    for side, node in (("Roster (Rust)", False), ("Node.js peer (estimated)", True)):
        c = cost(invites, node)
        c["apigw"] += page_views
        sides.append((side, c))
    table("Per 1,000 invitations sent and accepted", sides)

    counts = month_counts(10_000)
    total = sum(counts.values())
    mix = {k: v / total * 1e6 for k, v in counts.items()}
    print("\nThe mix (a member-facing month, below, scaled to a million requests):",
          ", ".join(f"{k} {v / total:.2%}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    table("Per million API requests of that mix",
          [(s, cost(mix, n)) for s, n in (("Roster (Rust)", False), ("Node.js peer (estimated)", True))])

    gb = storage_gb(10_000)
    sides = []
    for side, node in (("Roster (Rust)", False), ("Node.js peer (estimated)", True)):
        c = cost(counts, node)
        c["storage"] = gb * PRICES["storage_gb_month"]
        # The cleanup schedule: every 15 minutes, 17 Queries (~9 RRU), ~100 ms at 256 MB.
        runs = 30 * 24 * 4
        c["dynamodb"] += runs * 9 * PRICES["rru"]
        c["lambda_"] += runs * lambda_cost(dict(function="cleanup", ms=100), node)
        sides.append((side, c))
    print(f"\n{total:,.0f} API requests a month; {gb:.2f} GB stored.")
    table("Per 10,000 monthly active members, a month", sides)


if __name__ == "__main__":
    main()
