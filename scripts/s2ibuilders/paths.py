"""Where things are in the repository."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = ROOT / "versions.yaml"
IMAGES_DIR = ROOT / "images"
WRAPPERS_DIR = ROOT / "wrappers"
CONTRACT_FILE = WRAPPERS_DIR / "proto" / "contract.yaml"  # ports, service types, settings: one home
BUILD_DIR = ROOT / "build"
TOOLS_DIR = ROOT / ".tools"
REPORTS_DIR = ROOT / "reports"
