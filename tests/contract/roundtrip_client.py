"""A round trip through the Python client that openapi-python-client generates from the served
OpenAPI document, type-checked with mypy --strict before it runs (tests/contract/run.py).

An admin registers a body and a secretariat token for it; the secretariat records a decision
and amends it; an anonymous reader lists and reads it, reads the log head, an inclusion proof,
a log page and the first entry bundle. Every answer is read through the generated models, and
checked.
"""

from __future__ import annotations

import datetime
import os
import uuid

from dl_client import AuthenticatedClient, Client
from dl_client.api.bodies import create_body
from dl_client.api.decisions import create_decision, get_decision, get_decision_receipt, list_decisions
from dl_client.api.lineage import amend_decision
from dl_client.api.log import get_inclusion_proof, get_log_head, list_log_entries
from dl_client.api.tlog_tiles import get_tile
from dl_client.api.tokens import create_token
from dl_client.models import (
    AmendmentRequest,
    AmendmentRequestChanges,
    Attendance,
    Body,
    BodyKind,
    CreatedToken,
    Decision,
    DecisionMaker,
    DecisionMakerKind,
    DecisionPage,
    DecisionRecord,
    DecisionType,
    InclusionProofDto,
    LogEntryPage,
    LogHead,
    NewBody,
    NewToken,
    NoneConsidered,
    NoneDeclared,
    Participant,
    ParticipantRole,
    Problem,
    Receipt,
    Role,
)
from dl_client.models.classification import Classification
from dl_client.types import File


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"round trip: {what}")


def main() -> None:
    base = os.environ["DECISION_LOG_URL"]
    admin = AuthenticatedClient(base_url=base, token=os.environ["ADMIN_TOKEN"])
    anonymous = Client(base_url=base)
    suffix = uuid.uuid4().hex[:8]

    body = create_body.sync(client=admin, body=NewBody(slug=f"py-{suffix}", name="Python Panel", kind=BodyKind.PANEL))
    check(isinstance(body, Body) and body.slug == f"py-{suffix}", f"the body was not created: {body!r}")
    assert isinstance(body, Body)
    check(body.created_at.tzinfo is not None, "created_at is not a zoned date-time")

    token = create_token.sync(
        client=admin,
        body=NewToken(name=f"py-clerk-{suffix}", role=Role.SECRETARIAT, bodies=[body.slug]),
    )
    assert isinstance(token, CreatedToken), token
    secret = token.secret
    assert isinstance(secret, str), "no secret in the created token"
    clerk = AuthenticatedClient(base_url=base, token=secret)

    record = DecisionRecord(
        title="Adopt the Python panel's terms of reference",
        body=body.slug,
        decision="The panel adopts the terms of reference in the appendix.",
        decided_on=datetime.date(2026, 11, 20),
        decision_maker=DecisionMaker(kind=DecisionMakerKind.BODY, name="Python Panel"),
        decision_type=DecisionType.NON_KEY,
        reasons="The panel was created without terms of reference.",
        alternatives=NoneConsidered.NONE_CONSIDERED,
        conflicts=NoneDeclared.NONE_DECLARED,
        participants=[
            Participant(name="Cllr Ada Lovelace", role=ParticipantRole.CHAIR, attendance=Attendance.PRESENT),
            Participant(name="Cllr Alan Turing", role=ParticipantRole.DECISION_MAKER, attendance=Attendance.PRESENT),
        ],
        classification=Classification.PUBLIC,
        tags=["governance"],
    )
    recorded = create_decision.sync_detailed(client=clerk, body=record, idempotency_key=f"py-{suffix}")
    check(recorded.status_code == 201, f"recording answered {recorded.status_code}: {recorded.content!r}")
    decision = recorded.parsed
    assert isinstance(decision, Decision), decision
    check(recorded.headers.get("Location") == f"/api/v1/decisions/{decision.id}", "no Location")
    check(decision.receipt.recorded_at.tzinfo is not None, "recorded_at is not a zoned date-time")

    amended = amend_decision.sync(
        decision.id,
        client=clerk,
        body=AmendmentRequest(
            changes=AmendmentRequestChanges(title="Adopt the Python panel's terms of reference (2026)"),
            reason="The year was missing from the title",
        ),
    )
    check(not isinstance(amended, Problem) and amended is not None, f"the amendment was refused: {amended!r}")

    read = get_decision.sync(decision.id, client=anonymous)
    assert isinstance(read, Decision), read
    check(
        isinstance(read.record, DecisionRecord) and read.record.title.endswith("(2026)"),
        "the amended title is not served",
    )

    page = list_decisions.sync(client=anonymous, body=body.slug, limit=10)
    assert isinstance(page, DecisionPage), page
    check([d.id for d in page.items] == [decision.id], "the list does not hold exactly the decision")

    receipt = get_decision_receipt.sync(decision.id, client=anonymous)
    check(receipt is not None and not isinstance(receipt, Problem), f"no receipt: {receipt!r}")

    head = get_log_head.sync(client=anonymous)
    assert isinstance(head, LogHead), head
    check(head.tree_size > decision.receipt.leaf_index, "the head is behind the decision")

    proof = get_inclusion_proof.sync(client=anonymous, leaf_index=decision.receipt.leaf_index, tree_size=head.tree_size)
    assert isinstance(proof, InclusionProofDto), proof
    check(proof.tree_size == head.tree_size, "the proof is for another tree")

    entries = list_log_entries.sync(client=anonymous, from_=0, limit=1)
    assert isinstance(entries, LogEntryPage), entries
    check(len(entries.entries) == 1 and entries.entries[0].leaf_index == 0, "the first page is not leaf 0")

    bundle = get_tile.sync("entries/000.p/1", client=anonymous)
    assert isinstance(bundle, File), bundle
    data = bundle.payload.read()
    check(len(data) > 2 and int.from_bytes(data[:2], "big") == len(data) - 2, "the bundle is not one entry")

    check(isinstance(decision.receipt, Receipt), "the receipt is not typed")
    print("python client: round trip ok")


if __name__ == "__main__":
    main()
