"""A dataset's DUO terms, with DS disease terms, from the catalogue to the API, page and match."""

from __future__ import annotations

from sqlalchemy import select

from access.duo.codes import code_for_shorthand
from access.duo.match import DatasetTerms, ResearchPurpose, Verdict, match_request
from access.identity.actor import Actor
from access.models import Committee
from datasets.catalogue.models import Dataset, Study
from datasets.catalogue.registration import ensure_dataset
from tests.conftest import DemoInstance

T2D = "MONDO:0005148"


def test_disease_terms_reach_the_api_the_page_and_the_match(demo: DemoInstance) -> None:
    factory = demo.app.extensions["custodian.session_factory"]
    with demo.app.app_context(), factory.begin() as session:
        dataset = ensure_dataset(
            session, Actor(user=None), session.scalars(select(Study)).one(),
            accession="ds.t2d", name="Type 2 diabetes (DS-T2D) consent group",
            duo_codes=[code_for_shorthand("DS"), code_for_shorthand("NPU")],
            duo_disease_ids=[T2D], use_limitation_text="",
            committee_id=session.scalars(select(Committee)).one().id, now=demo.clock.now())
        dataset_id = dataset.id
    client = demo.app.test_client()
    body = client.get(f"/api/v1/datasets/{dataset_id}").get_json()
    assert body["duo_disease_ids"] == [T2D]
    assert [term["shorthand"] for term in body["data_use"]] == ["DS", "NPU"]
    assert f"<code>{T2D}</code>" in client.get(f"/datasets/{dataset_id}").get_data(as_text=True)

    with factory() as session:
        datasets = list(session.scalars(select(Dataset).order_by(Dataset.id)))
        found = match_request([DatasetTerms.of(d) for d in datasets],
                              ResearchPurpose(disease_ids=frozenset({T2D}),
                                              for_profit_organisation=True))
    verdicts = {m.name: m.verdict for m in found}
    assert verdicts["General Research Use (GRU) consent group"] is Verdict.APPROVE
    assert verdicts["Type 2 diabetes (DS-T2D) consent group"] is Verdict.DENY  # NPU
    # The open-results dataset has no DUO permission: a person must look.
    assert verdicts["Open-access results: eQTLs and median expression"] is Verdict.ABSTAIN
