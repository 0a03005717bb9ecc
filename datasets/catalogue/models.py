"""The catalogue: studies, consent groups (datasets) and their files."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime


class FileKind(StrEnum):
    GENOTYPE = "genotype"
    EXPRESSION = "expression"
    CLINICAL = "clinical"
    SUMMARY = "summary"
    ALIGNMENT = "alignment"


class Tier(StrEnum):
    OPEN = "open"
    CONTROLLED = "controlled"


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accession: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")

    datasets: Mapped[list[Dataset]] = relationship(
        back_populates="study", order_by="Dataset.id", lazy="selectin"
    )


class Dataset(Base):
    """A consent group: the unit a committee governs and a grant opens."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    accession: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # DUO term ids (e.g. "DUO:0000042") describing the data-use limitations.
    duo_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # For DS (disease-specific research): the disease terms, e.g. "MONDO:0005148".
    duo_disease_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    use_limitation_text: Mapped[str] = mapped_column(Text, default="")
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"), index=True)
    # Kept by triggers on data_files (revision 0021), whatever writes them; never set here.
    # Read it with queries.live_file_counts: a loaded dataset's copy is not refreshed when
    # files are registered or retired in the same session.
    live_file_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    study: Mapped[Study] = relationship(back_populates="datasets", lazy="joined")
    files: Mapped[list[DataFile]] = relationship(
        back_populates="dataset", order_by="DataFile.id", lazy="selectin"
    )

    @property
    def live_files(self) -> list[DataFile]:
        return [data_file for data_file in self.files if data_file.retired_at is None]

    @property
    def retired_files(self) -> list[DataFile]:
        return [data_file for data_file in self.files if data_file.retired_at is not None]


class DataFile(Base):
    __tablename__ = "data_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    storage_key: Mapped[str] = mapped_column(String(1024), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    md5: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # An indexed VCF or BAM: its format ("VCF", "BAM") and its coordinate index, a stored
    # object of its own (datasets/genomics), checked to belong to it when both were
    # registered. htsget slices only files that have one.
    data_format: Mapped[str | None] = mapped_column(String(8), default=None)
    index_key: Mapped[str | None] = mapped_column(String(1024), unique=True, default=None)
    index_format: Mapped[str | None] = mapped_column(String(8), default=None)
    index_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    index_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    index_md5: Mapped[str | None] = mapped_column(String(32), default=None)
    # Retired by an admin: kept for the catalogue's history and the audit trail, but no URL,
    # DRS access or htsget ticket is issued for it any more (410); its object stays stored.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    dataset: Mapped[Dataset] = relationship(back_populates="files")
