"""Pure pieces of the open results: variant ids, gene ids, cursors and chart geometry."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from datasets.results.charts import SHADES, heatmap
from datasets.results.ids import Locus, is_ensembl_gene_id, stable_gene_id, variant_locus
from datasets.results.queries import IsoformValue
from datasets.results.schemas import CursorField, encode_cursor


@pytest.mark.parametrize("text, locus", [
    ("chr1_13550_G_A_b38", Locus("chr1", 13550, "chr1_13550_G_A_b38")),
    ("1_13550_G_A_b37", Locus("chr1", 13550, "1_13550_G_A_b37")),
    ("chrX_100_GTA_G_b38", Locus("chrX", 100, "chrX_100_GTA_G_b38")),
    ("chr17:7687538", Locus("chr17", 7687538, None)),
    ("17:7687538", Locus("chr17", 7687538, None)),
    ("x:5", Locus("chrX", 5, None)),
    ("MT:5", Locus("chrM", 5, None)),
])
def test_variants_are_read_by_id_or_position(text: str, locus: Locus) -> None:
    assert variant_locus(text) == locus


@pytest.mark.parametrize("text", ["rs12345", "chr1_13550_G_A", "chr1:0", "chr1:-5",
                                  "chr1:12345678901", "chrUn_1_A_C_b38", "chr1 :5", ""])
def test_anything_else_is_not_a_variant(text: str) -> None:
    with pytest.raises(ValueError, match=r"neither|out of range"):
        variant_locus(text)


def test_ensembl_ids_are_recognised_with_or_without_version() -> None:
    assert is_ensembl_gene_id("ENSG00000141510") and is_ensembl_gene_id("ensg00000141510.16")
    assert is_ensembl_gene_id("ENSG00000002586.19_PAR_Y")
    assert not is_ensembl_gene_id("TP53") and not is_ensembl_gene_id("ENSG0001")
    assert stable_gene_id("ENSG00000002586.19_PAR_Y") == "ENSG00000002586"


@pytest.mark.parametrize("after", [(1e-300, 1), (0.0, 2**62), (0.049999999999999996, 7)])
def test_a_cursor_round_trips_exactly(after: tuple[float, int]) -> None:
    assert CursorField().deserialize(encode_cursor(after)) == after


# ["a", 1], [1, 0], [true, 1], [1.0]
@pytest.mark.parametrize("raw", ["", "x" * 201, "!!!", "WyJhIiwgMV0", "WzEsIDBd", "W3RydWUsIDFd",
                                 "WzEuMF0"])
def test_a_cursor_we_did_not_issue_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        CursorField().deserialize(raw)


def test_heatmap_shades_span_the_scale_and_every_cell_is_placed() -> None:
    values = [IsoformValue(t, tissue, tpm) for t, tissue, tpm in [
        ("ENST1", "Liver", 0.0), ("ENST1", "Lung", 1000.0), ("ENST2", "Liver", 10.0),
        ("ENST2", "Lung", 31.0)]]
    drawn = heatmap(values)
    shades = {(cell.transcript_id, cell.tissue): cell.shade for cell in drawn.cells}
    assert shades[("ENST1", "Liver")] == 0 and shades[("ENST1", "Lung")] == SHADES - 1
    assert 0 < shades[("ENST2", "Liver")] < shades[("ENST2", "Lung")] < SHADES - 1
    assert len({(cell.x, cell.y) for cell in drawn.cells}) == 4
