"""What the unit tests of rendering share: the live matrix and each cell's rendered context."""

import pytest

from s2ibuilders import config, render

from harness import ROOT

CFG = config.load(ROOT / "versions.yaml")
CELLS = CFG.matrix(all_versions=True)


@pytest.fixture(scope="module", params=CELLS, ids=[c.slug for c in CELLS])
def rendered(request, tmp_path_factory):
    cell = request.param
    return cell, render.render(cell, tmp_path_factory.mktemp(cell.slug) / "context")
