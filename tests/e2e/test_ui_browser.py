"""The Dagster UI as a person sees it: dagster-webserver over a finished story (a world that drifted,
a request for payments data delivered as a share, the fraud model retrained on it), driven by
headless Chromium (Debian's `chromium`, never a downloaded browser). Screenshots go to docs/img/,
which the README shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hurricane_assets.client import HurricaneClient
from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop, LoopSettings
from hurricane_assets.dagster_layer.workspace import REPO_ROOT, hurricane_instance
from tests.e2e.webserver import running_webserver

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = REPO_ROOT / "docs" / "img"
SHARE = "/assets/risk/payments__transactions"
MONITOR = "/assets/risk/fraud_model_monitor"


@pytest.fixture
def story(hurricane_home: Path) -> str:
    """The demo's story on a small organisation: drift, the need negotiated, shares delivered, the
    model retrained on them and judged; the monitor failed, then passed. Returns the payments
    share's contract id."""
    EmbeddedLoop(hurricane_instance(), LoopSettings(rows=20_000, seed=7, drift_days=30)).run()  # the demo size: the story holds there
    client = HurricaneClient(domain="risk")
    history = client.model_history("risk", "fraud_model")
    assert history["raised_need"].any() and not history["raised_need"].iloc[-1], history
    active = client.contracts(consumer="risk", status="active")
    return active[active["producer"] == "payments"]["contract_id"].iloc[0]


@pytest.fixture
def ui(story, hurricane_home: Path):
    with running_webserver(hurricane_home / "dagster", startup_s=300) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def page(ui):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Debian chromium at {CHROMIUM}: .ci/run installs it (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.set_default_timeout(120_000)  # locations load lazily on a busy 2-core machine
        tab.goto(ui + "/")
        # a first visit opens "Join the Dagster community"; a person clicks Skip
        tab.get_by_role("button", name="Skip").click()
        yield tab
        browser.close()


def test_lineage_share_page_and_monitor_checks_as_a_person_sees_them(page, ui, story):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. lineage around the share: producer → share → model, across three code locations' groups
    page.goto(ui + SHARE + "?view=lineage")
    nodes = {name: page.get_by_text(name, exact=True).first for name in ("transactions", "payments__transactions", "fraud_model")}
    for name, node in nodes.items():
        node.wait_for()
    for group in ("payments", "shares", "risk_models"):
        assert page.get_by_text(group, exact=True).first.is_visible(), group
    left = {name: node.bounding_box()["x"] for name, node in nodes.items()}
    # the graph is laid out left to right along its edges: upstream strictly left of downstream
    assert left["transactions"] < left["payments__transactions"] < left["fraud_model"], left
    page.screenshot(path=str(SCREENSHOTS / "ui-lineage.png"))

    # 2. the share's page: the contract summary, the masking per column, the ledger entry
    page.goto(ui + SHARE)
    # the page fills in section by section (description, metadata, checks), each from its own query:
    # wait for every piece a person reads rather than snapshotting the body once the first arrives
    body = page.locator("body")
    for shown in ("shared with risk for fraud_detection", story, "hurricane/masking", "tokenize",
                  "hurricane/ledger_entry", "hurricane/purpose"):
        expect(body).to_contain_text(shown, timeout=120_000)
    page.screenshot(path=str(SCREENSHOTS / "ui-share.png"), full_page=True)

    # 3. the monitor's performance check: failed after the drift, passed after the retrain
    page.goto(ui + MONITOR + "?view=checks")
    page.get_by_text("performance_within_bounds").first.click()
    page.get_by_text("Execution history").first.click()
    for shown in ("Evaluation result", "Failed", "Passed", "ROC AUC"):
        expect(page.locator("body")).to_contain_text(shown, timeout=120_000)
    history = page.inner_text("body")
    rows = history[history.index("Evaluation result"):]
    assert rows.index("Passed") < rows.index("Failed"), "newest first: the latest evaluation passed"
    assert "ROC AUC" in rows
    page.screenshot(path=str(SCREENSHOTS / "ui-monitor-checks.png"))
