"""The shared examples, evaluated as batches and compared field by field with expected.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voucher.policy.engine import evaluate
from voucher.policy.format import load_application_file
from voucher.policy.round import get_round

from .builders import EXAMPLES, ROOT

# A folder with an expected.json is one batch; examples/registry holds registry CSVs instead.
FOLDERS = sorted(p.parent for p in EXAMPLES.glob("*/expected.json"))


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("application*.json"))


def _comparable(entry: dict) -> dict:
    """What expected.json holds: fail/review findings without messages, amounts, subsidy."""
    return {
        "file": Path(entry["file"]).name,
        "outcome": entry["outcome"],
        "findings": [
            {k: f[k] for k in ("rule", "status", "clause", "contract")}
            for f in entry["findings"]
            if f["status"] in ("fail", "review")
        ],
        "contracts": entry["contracts"],
        "subsidy": entry["subsidy"],
    }


def test_there_are_examples_to_check():
    assert len(FOLDERS) >= 6


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_the_engine_gives_what_each_example_expects(folder):
    files = _files(folder)
    evaluations = evaluate([load_application_file(f) for f in files], get_round("bj-2026"))
    expected = json.loads((folder / "expected.json").read_text())["applications"]
    assert len(evaluations) == len(expected)
    for path, ev, want in zip(files, evaluations, expected, strict=True):
        got = _comparable({"file": path.name, **ev.to_json()})
        assert got["file"] == want["file"]
        assert got["outcome"] == want["outcome"], path
        assert got["findings"] == want["findings"], path
        assert got["contracts"] == want["contracts"], path
        assert got["subsidy"] == want["subsidy"], path


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_voucher_evaluate_json_on_each_folder_matches_expected(folder):
    """The command itself, as a user runs it on the files of one folder (one batch)."""
    files = [str(f) for f in _files(folder)]
    result = subprocess.run(
        [sys.executable, "-m", "voucher", "evaluate", "--json", *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    expected = json.loads((folder / "expected.json").read_text())["applications"]
    assert [_comparable(e) for e in printed["applications"]] == expected
    for entry in printed["applications"]:
        for f in entry["findings"]:
            assert set(f) >= {"rule", "status", "clause", "contract", "message"}
            assert f["message"]


def test_the_batch_judges_one_direction_across_files_but_not_across_folders():
    one = EXAMPLES / "batch-two-directions" / "application-2.json"
    alone = evaluate([load_application_file(one)], get_round("bj-2026"))[0]
    assert alone.outcome == "eligible"
