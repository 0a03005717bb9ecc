from playwright.sync_api import Page
from tests.conftest import DemoInstance
from tests.e2e.test_browser_walkthrough import *  # noqa

def test_probe(page: Page, live: DemoInstance) -> None:
    base = live.base_url
    controlled = dataset_of_tier(base, "controlled")
    # file + submit through API, approve through the page
    from tests.conftest import sign_in as s, csrf_header as c
    r = s(base, "researcher"); h = c(r, base)
    rid = r.post(f"{base}/api/v1/requests", headers=h, json={"title": TITLE, "research_use_statement": STATEMENT, "dataset_ids": [controlled["id"]]}).json()["id"]
    r.post(f"{base}/api/v1/requests/{rid}/submit", headers=h)
    page.goto(f"/requests/{rid}")
    browser_sign_in(page, "dac-chair")
    f = page.locator("form.decision").first
    f.get_by_label("Reason for approval").fill(REASON)
    f.get_by_label("Approval period (days)").fill("30")
    print("FORM HTML", f.evaluate("e => e.outerHTML"))
    with page.expect_request(lambda q: q.method == "POST") as rq:
        f.get_by_role("button", name="Approve").click()
    print("POST BODY", rq.value.post_data)
    page.wait_for_load_state()
    print("FLASH", page.locator(".flash").all_inner_texts())
    print("STATE", page.locator("#request-state").inner_text())
