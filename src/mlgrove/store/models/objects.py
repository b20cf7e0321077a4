"""The index of content-addressed objects: every address the database names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from mlgrove.store.models.base import Base, UTCDateTime, utcnow


class ObjectRow(Base):
    __tablename__ = "objects"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # What first stored it (e.g. "dataset-chunk", "artifact"), for fsck reports.
    kind: Mapped[str] = mapped_column(String(40), default="blob")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
