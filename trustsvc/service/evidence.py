"""The evidence of every validation the service made: what was validated (digests, never content), the report it
returned, and what the report rests on (trust snapshot, policy versions), retrievable by the platform that asked.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from ..db.tables import ValidationRecordRow

__all__ = ["EvidenceStore", "Evidence", "new_evidence_id"]


def new_evidence_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Evidence:
    id: str
    kind: str
    platform: str
    created_at: datetime
    document_sha256: str
    report_sha256: str
    trust_snapshot_id: int | None
    trust_source: str | None
    policies: list[dict[str, str]]
    report_json: bytes
    report_xml: bytes | None


class EvidenceStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, evidence: Evidence) -> None:
        if hashlib.sha256(evidence.report_json).hexdigest() != evidence.report_sha256:
            raise ValueError("the report digest does not match the report")
        row = ValidationRecordRow(
            id=evidence.id,
            kind=evidence.kind,
            platform=evidence.platform,
            created_at=evidence.created_at,
            document_sha256=evidence.document_sha256,
            report_sha256=evidence.report_sha256,
            trust_snapshot_id=evidence.trust_snapshot_id,
            trust_source=evidence.trust_source,
            policies=json.dumps(evidence.policies, separators=(",", ":")),
            report_json=evidence.report_json,
            report_xml=evidence.report_xml,
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()

    def get(self, evidence_id: str) -> Evidence | None:
        with Session(self.engine) as session:
            row = session.get(ValidationRecordRow, evidence_id)
            if row is None:
                return None
            return Evidence(
                row.id,
                row.kind,
                row.platform,
                row.created_at,
                row.document_sha256,
                row.report_sha256,
                row.trust_snapshot_id,
                row.trust_source,
                json.loads(row.policies),
                row.report_json,
                row.report_xml,
            )
