"""`voucher evaluate FILE… [--json] [--pretty] [--round ID]` without Django.

The command reads files and prints, and needs no database: `voucher` (voucher/__main__.py)
dispatches it here before Django's settings are imported, so a run pays no Django start-up.
The management command (voucher/core/management/commands/evaluate.py, for `manage.py` and
`call_command`) runs the same `run`. Behaviour and exit codes are those of the command:
results on stdout, every bad document's `file: path: what` on stderr and exit status 2.

`--json` prints compact JSON (orjson) when stdout is not a terminal, two-space indented when it
is or with `--pretty`; the values are the same, money as strings with exactly two decimals
(Evaluation.to_json).
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, NoReturn

from voucher.policy.canonical import read_application
from voucher.policy.engine import evaluate_each
from voucher.policy.format_base import FormatError, read_application_file
from voucher.policy.report import batch_payload, dump_entry, dumps_batch, text_report
from voucher.policy.results import Evaluation
from voucher.policy.round import PolicyRound, RoundError, get_round, get_rounds

if TYPE_CHECKING:  # for hints only: the models (pydantic) are imported by the first document
    # the canonical reader does not take (canonical.read_application)
    from voucher.policy.format import Application

HELP = (
    "按 RULES.md 审查算力券申报文件（多个文件为一批，同一企业多方向申报跨文件判断）。"
    " Evaluate compute-voucher applications; several files are one batch."
)
EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="compute-voucher/application@1 JSON"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the JSON of APPLICATION_FORMAT.md"
    )
    parser.add_argument(
        "--pretty",
        action="store_true",
        help="indent the JSON (the default when stdout is a terminal; compact otherwise)",
    )
    parser.add_argument(
        "--round",
        metavar="ID",
        help="evaluate under this round instead of the one each file names (what-if)",
    )


def run(
    names: Sequence[str],
    *,
    as_json: bool,
    round_id: str | None,
    pretty: bool,
    out: IO[bytes],
    err: IO[str],
    keep: list[object] | None = None,
) -> int:
    """Evaluate `names` as one batch and print; 0, or 2 with the problems on `err`.

    With `keep`, the batch's documents are appended to it: a caller about to end the process
    (voucher/__main__.py) saves freeing them object by object."""
    problems: list[str] = []
    try:
        get_rounds()
        forced = get_round(round_id) if round_id else None
    except RoundError as exc:
        return _fail([f"--round: {exc}"], err)
    # A batch makes many objects and no cycles: the cyclic collector would only rescan them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        documents: list[Application] = []
        for name in names:
            try:
                doc = read_application_file(name, read_application)
            except FormatError as exc:
                problems += [f"{name}: {path}: {what}" for path, what in exc.problems]
                continue
            if forced is None:
                try:
                    get_round(doc.round)
                except RoundError as exc:
                    problems.append(f"{name}: round: {exc}")
                    continue
            documents.append(doc)
        if problems:
            return _fail(problems, err)
        if keep is not None:
            keep.append(documents)
        results = _evaluate(documents, names, forced)
        if as_json and not pretty:
            # compact: each application's entry printed as it is evaluated, then let go
            _write_compact(out, names, results)
        elif as_json:
            payload = batch_payload(list(zip(names, results, strict=True)))
            out.write(dumps_batch(payload, pretty=True))
            out.write(b"\n")
        else:
            for name, doc, ev in zip(names, documents, results, strict=True):
                report = text_report(name, doc.applicant.name, doc.applicant.uscc, ev)
                out.write(f"{report}\n\n".encode())
        return 0
    finally:
        if collecting:
            gc.enable()


# Bytes of compact output written at once. One buffer for the whole output: joining each 64
# entries into a bytes object of half a megabyte (and a copy with its comma), then freeing them,
# had the C allocator give that memory back to the system and fault it in again at every chunk:
# some 30,000 page faults (a fifth of a second of system time) for 10,000 files.
_OUTPUT_BUFFER = 1 << 20


def _write_compact(out: IO[bytes], names: Sequence[str], results: Iterator[Evaluation]) -> None:
    """`{"applications":[…]}` as dumps_batch writes it compact, one entry at a time: a batch's
    output need not all be in memory at once (75 MB of JSON for 10,000 files)."""
    buffer = memoryview(bytearray(_OUTPUT_BUFFER))
    used = 0

    def put(data: bytes) -> None:
        nonlocal used
        end = used + len(data)
        if end > _OUTPUT_BUFFER:
            out.write(buffer[:used])
            used, end = 0, len(data)
            if end > _OUTPUT_BUFFER:  # larger than the buffer: written as it is
                out.write(data)
                return
        buffer[used:end] = data
        used = end

    put(b'{"applications":[')
    comma = b""  # before every entry but the first
    for name, ev in zip(names, results, strict=True):
        put(comma)
        put(dump_entry(name, ev))
        comma = b","
    put(b"]}\n")
    out.write(buffer[:used])


def _evaluate(
    documents: list[Application], names: Sequence[str], forced: PolicyRound | None
) -> Iterator[Evaluation]:
    """The evaluations in file order, one at a time: one batch per round (ONE_DIRECTION never
    crosses rounds, and is judged over each round's whole batch before the first result)."""
    round_of = [forced.id if forced else doc.round for doc in documents]
    by_round: dict[str, list[int]] = {}
    for i, round_id in enumerate(round_of):
        by_round.setdefault(round_id, []).append(i)
    each = {
        round_id: evaluate_each(
            [documents[i] for i in indexes],
            get_round(round_id),
            references=[names[i] for i in indexes],
        )
        for round_id, indexes in by_round.items()
    }
    # each round's evaluations come in its files' order, so file order takes them in turn
    return (next(each[round_id]) for round_id in round_of)


def _fail(problems: list[str], err: IO[str]) -> int:
    for line in problems:
        err.write(line + "\n")
    return EXIT_BAD_INPUT


class _NotOurs(Exception):
    """Arguments this parser does not take (Django's own options, --help, a mistake): the
    Django command handles them, with its usage and messages."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _NotOurs(message)

    def print_help(self, file: Any = None) -> None:
        raise _NotOurs("help")


def main(
    argv: Sequence[str], prog: str = "voucher evaluate", keep: list[object] | None = None
) -> int | None:
    """Run `evaluate` with `argv` (after the word evaluate); None when Django's command
    should run it instead (an option only it knows, --help, a usage error). `keep`: see run."""
    parser = _Parser(prog=prog, description=HELP, add_help=True)
    add_arguments(parser)
    try:
        options = parser.parse_args(list(argv))
    except _NotOurs:
        return None
    sys.stdout.flush()
    return run(
        options.files,
        as_json=options.json,
        round_id=options.round,
        pretty=options.pretty or sys.stdout.isatty(),
        out=sys.stdout.buffer,
        err=sys.stderr,
        keep=keep,
    )
