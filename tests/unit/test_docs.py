"""The generated docs: current with their sources, and complete."""

from s2ibuilders import render

from conftest import CFG
from harness import ROOT


def test_generated_docs_and_manifests_are_current():
    from s2ibuilders import docs

    stale = [str(path.relative_to(ROOT)) for path in docs.update(CFG, check=True)]
    assert stale == [], "stale generated files: run `make docs`"


def test_each_image_readme_documents_every_variable_and_shows_every_sample():
    from s2ibuilders import docs

    for family in CFG.families.values():
        readme = docs.image_readme(family)
        for var in render.env_vars(docs.default_cell(family)):
            for name in var["name"].split(", "):
                assert f"`{name}`" in readme, (family.name, name)
        samples = ROOT / "tests" / "samples" / family.name
        for sample in samples.iterdir():
            if (sample / ".s2i" / "environment").is_file():  # a sample, not parts of one (lock files)
                assert f"### {sample.name} (" in readme, (family.name, sample.name)
