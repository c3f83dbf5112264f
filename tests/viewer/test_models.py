"""Issue 14 in real headless Chromium against a real `heyan serve`: a trainer starts an
adaptation job from the 模型 page on the frames labelled there, watches its progress, reads
base vs new per class, presses 启用此模型 (the server's model in force changes) and 回退
(it changes back). The fine-tune is real (Ultralytics, one epoch, one-minute budget)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from viewer_helpers import PASSWORD, Server, login, shot, upload_flight, wait_processed

pytestmark = [pytest.mark.slow, pytest.mark.browser]
pytest.importorskip("ultralytics", reason="adaptation needs the train extra: pip install 'heyan[train]'")


@pytest.fixture(scope="module", autouse=True)
def one_epoch() -> Iterator[None]:
    """The module's server trains one epoch per job (autouse: set before the server starts)."""
    old = os.environ.get("HEYAN_SERVE_TRAINING_EPOCHS")
    os.environ["HEYAN_SERVE_TRAINING_EPOCHS"] = "1"
    yield
    if old is None:
        os.environ.pop("HEYAN_SERVE_TRAINING_EPOCHS", None)
    else:
        os.environ["HEYAN_SERVE_TRAINING_EPOCHS"] = old


@pytest.fixture(scope="module")
def labelled(server: Server) -> int:
    """The simulated flight processed, and four of its photos labelled 已完整标注 by a trainer."""
    upload_flight(server, "适配测试")
    with server.client() as c:
        c.post("/api/users", json={"username": "trainer", "password": PASSWORD, "role": "trainer"}).raise_for_status()
    fid = wait_processed(server)["id"]
    with server.client() as c:
        shas = [p["sha256"] for p in c.get(f"/api/flights/{fid}/photos").json()][:4]
    with server.client("trainer") as c:
        for sha in shas:
            frame = c.get(f"/api/labels/frames/{sha}").json()
            c.post(f"/api/labels/frames/{sha}", json={"boxes": frame["detections"], "complete": True}).raise_for_status()
    return len(shas)


def test_trainer_trains_compares_promotes_and_rolls_back(page, server: Server, labelled: int) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, server, "trainer")
    page.click("#nav a[data-page=models]")
    page.wait_for_selector("#models-in-force")
    base = page.get_attribute("#models-in-force", "data-sha")
    assert base and page.locator("#btn-rollback").count() == 0
    assert f"{labelled} 张已完整标注" in page.inner_text("#job-scope")
    page.fill("#job-minutes", "1")
    page.click("#btn-start-job")
    page.wait_for_selector(".job[data-state=queued], .job[data-state=running]")
    page.wait_for_selector(".job[data-state=done], .job[data-state=failed]", timeout=900_000)
    job = page.locator(".job").first
    assert job.get_attribute("data-state") == "done", job.inner_text()
    rows = job.locator("tbody tr")
    assert rows.count() >= 2 and job.locator("tr[data-class=all]").count() == 1
    assert "原模型 AP50" in job.inner_text() and "新模型 AP50" in job.inner_text()
    new = job.locator("button[data-activate]").get_attribute("data-activate")

    job.locator("button[data-activate]").click()
    page.wait_for_selector(f"#models-in-force[data-sha='{new}']")
    with server.client("trainer") as c:
        force = c.get("/api/models").json()["in_force"]
        assert force["sha256"] == new and force["site_model"]
    shot(page, "models")
    page.click("#btn-rollback")
    page.wait_for_selector(f"#models-in-force[data-sha='{base}']")
    assert "回退" in page.inner_text("#models-history")
    assert not page.errors


