"""The Chinese user docs: every relative link and image in README.zh-CN.md and docs/zh/
points at a file of the repository (and an anchor at a heading of it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.zh-CN.md", *sorted((ROOT / "docs" / "zh").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    # GitHub's anchors: lower case, punctuation dropped (CJK kept), spaces to hyphens.
    s = re.sub(r"[^\w\- \u4e00-\u9fff]", "", heading.strip().lower())
    return s.replace(" ", "-")


def _links(doc: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", doc.read_text(encoding="utf-8"), flags=re.S)  # not in code blocks
    return [m.group(1) for m in LINK.finditer(text)]


def _targets() -> list[tuple[Path, str]]:
    return [(doc, link) for doc in DOCS for link in _links(doc) if not re.match(r"^[a-z]+:", link)]


def test_the_chinese_docs_exist_and_are_linked_from_the_readme():
    names = {p.name for p in DOCS}
    assert {"README.zh-CN.md", "README.md", "operator.md", "reviewer.md", "chief.md", "admin.md", "exports.md"} <= names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "README.zh-CN.md" in readme and "docs/zh/" in readme
    for doc in DOCS:  # Chinese first: most of the prose is Chinese
        text = doc.read_text(encoding="utf-8")
        assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 300, doc


@pytest.mark.parametrize(("doc", "link"), _targets(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_relative_links_and_images_exist(doc: Path, link: str):
    path, _, anchor = link.partition("#")
    target = (doc.parent / path).resolve() if path else doc
    rel = target.relative_to(ROOT).as_posix() if target.is_relative_to(ROOT) else str(target)
    assert target.exists(), f"{doc.relative_to(ROOT)}: {link} -> {rel} does not exist"
    if anchor and target.suffix == ".md":
        headings = {_slug(h) for h in re.findall(r"^#+\s+(.+)$", target.read_text(encoding="utf-8"), flags=re.M)}
        assert anchor in headings, f"{doc.relative_to(ROOT)}: {link}: no heading #{anchor} in {rel}"
