"""Tables in and out: CSV as spreadsheets export it, numbers as Italians write them, escaping.

Reading: :func:`read_csv_cells` decodes and splits a CSV the way a spreadsheet would open
it (delimiter and encoding detected, rows numbered as the spreadsheet shows them);
:func:`parse_number` and :func:`number_style` read its numbers, decimal commas and
thousands points included. Writing: :func:`spreadsheet_safe` (CSV cells that a spreadsheet
would run as formulas), :func:`json_for_html` (data inlined in a ``<script>`` element),
:func:`terminal_safe` (text printed on a terminal). :func:`option_number` checks the
numeric options of the command line.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

DELIMITERS = (",", ";", "\t")
"""Delimiters told apart by :func:`read_csv_cells` (``|`` and others are not)."""

_SNIFF_RECORDS = 50  # records read to choose the delimiter

# ---------------------------------------------------------------- reading a CSV


@dataclass(frozen=True)
class CsvCells:
    """A CSV file as text cells, as a spreadsheet opens it.

    ``rows`` maps the row number a spreadsheet shows (the header is row 1; blank lines
    count as rows but are left out) to exactly ``len(header)`` cells: missing cells are
    ``""``, surplus cells dropped; ``header_row`` is 1 unless blank lines come before the
    header. ``ragged`` maps the rows that had more non-empty cells
    than the header has columns to how many cells they had; the caller reports them.
    """

    path: Path
    header: list[str]
    rows: dict[int, list[str]]
    delimiter: str
    encoding: str
    ragged: dict[int, int]
    header_row: int = 1

    def ragged_message(self, row: int) -> str:
        """What is wrong with a ragged row, and how to fix it (no location)."""
        name = {"\t": "tab", ",": "','", ";": "';'"}[self.delimiter]
        return (
            f"has {self.ragged[row]} values but the header has {len(self.header)} columns; "
            f"put values that contain {name} in double quotes, or remove the extra cells"
        )


def decode_text(data: bytes, path: Path) -> tuple[str, str]:
    """``(text, encoding)`` of a text file's bytes.

    A byte-order mark decides (UTF-8, UTF-16); else UTF-8 if the bytes are valid UTF-8,
    else Windows-1252 (the "CSV" of Excel on Windows; accented letters, ``€``, curly
    quotes), else Latin-1 (any byte, for the five that Windows-1252 leaves undefined).
    Files that are not text (a workbook renamed ``.csv``, NUL bytes) raise InputError.
    """
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(
            f"{path}: is an Excel workbook, not CSV; in Excel use File > Save As > "
            "CSV UTF-8 (or CSV)"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    candidates = [encoding] if encoding != "utf-8" else ["utf-8", "cp1252", "latin-1"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            if len(candidates) == 1:
                raise InputError(
                    f"{path}: is not valid {encoding.upper()} text (byte {exc.start}); "
                    "save it again as CSV UTF-8"
                ) from None
            continue
        break
    if "\x00" in text:
        raise InputError(
            f"{path}: holds NUL characters, so it is not a text file; export the table as CSV"
        )
    return text, encoding


def _sniff_delimiter(text: str) -> str:
    """The delimiter of ``text`` among :data:`DELIMITERS`.

    Each candidate splits the first records (quotes respected); the winner gives the most
    data rows with as many cells as the header, then the most header cells. A header of
    one column means ``,``.
    """
    lines = text.splitlines()[: _SNIFF_RECORDS + 1]
    sample = "\n".join(line for line in lines if line.strip())
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        try:
            records = list(csv.reader(io.StringIO(sample), delimiter=delimiter))
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        score = (sum(len(r) == width for r in records[1:]), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv_cells(path: str | Path, *, what: str = "table") -> CsvCells:
    """Read a CSV file into text cells, detecting its encoding and delimiter.

    Rules (those of a spreadsheet's own CSV export, so a file saved by Excel or LibreOffice
    in any language opens unchanged):

    - encoding: UTF-8 with or without byte-order mark, UTF-16 with one (Excel's "Unicode
      text"), else Windows-1252, else Latin-1 (see :func:`decode_text`);
    - delimiter: ``,``, ``;`` or tab, whichever splits the header and the first rows into
      the same number of cells (see :func:`_sniff_delimiter`); a first line ``sep=;``
      (written by Excel) names it and is not a row;
    - double quotes around cells as in RFC 4180 (a quoted cell may hold the delimiter,
      ``""`` and line breaks); any line ending (``\\n``, ``\\r\\n``, ``\\r``);
    - rows are numbered as the spreadsheet shows them: the header is the first non-blank
      line (row 1 unless blank lines come first) and a blank line is a row too; the
      header's names are stripped of spaces, an empty name becomes ``column N`` and a
      repeated one ``name.1``.

    Raises
    ------
    InputError
        If the file is missing, empty, not text, or has a header but no data rows.
    """
    path = Path(path)
    if not path.is_file():
        what_is = "a folder" if path.is_dir() else "not found"
        raise InputError(f"{path}: {what_is}; give the path of the {what} file")
    data = path.read_bytes()
    text, encoding = decode_text(data, path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty; export the {what} again")
    delimiter = None
    first, _, rest = text.partition("\n")
    if m := re.fullmatch(r'"?sep=(.)"?\r?', first.strip("\ufeff")):
        delimiter, text = m[1], rest
    if delimiter is None:
        delimiter = _sniff_delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:  # e.g. a cell larger than the csv module's limit
        raise InputError(f"{path}: cannot be read as CSV ({exc}); export it again") from None
    start = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if start is None:
        raise InputError(f"{path}: the file is empty; export the {what} again")
    header = _header(records[start])
    rows: dict[int, list[str]] = {}
    ragged: dict[int, int] = {}
    width = len(header)
    for row, record in enumerate(records[start + 1 :], start=start + 2):
        if not any(cell.strip() for cell in record):
            continue  # a blank row: counted, not a record
        if len(record) > width and any(c.strip() for c in record[width:]):
            ragged[row] = len(record)
        rows[row] = (record + [""] * width)[:width]
    if not rows:
        raise InputError(f"{path}: the file has a header but no data rows")
    return CsvCells(path, header, rows, delimiter, encoding, ragged, start + 1)


def _header(cells: list[str]) -> list[str]:
    names: list[str] = []
    for i, cell in enumerate(cells):
        name = cell.strip() or f"column {i + 1}"
        base, n = name, 0
        while name in names:
            n += 1
            name = f"{base}.{n}"
        names.append(name)
    return names


# ---------------------------------------------------------------- numbers

_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-"})
_GROUP_SPACES = "[ \u00a0\u202f\u2009']"  # thousands written with (narrow) spaces or '
_PLAIN = re.compile(r"[+-]?\d+")
_POINT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)")
_COMMA = re.compile(r"[+-]?(?:\d+,\d*|,\d+)")
_SCIENTIFIC = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)[eE][+-]?\d+")
_ONE_GROUP_POINT = re.compile(r"[+-]?\d{1,3}\.\d{3}")  # 3.975: 3975 or 3.975?
_ONE_GROUP_COMMA = re.compile(r"[+-]?\d{1,3},\d{3}")  # 3,975: 3975 or 3.975?
_IT_GROUPED = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?")  # 1.234.567 / 1.234,5
_EN_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,234,567 / 1,234.5
_SPACE_GROUPED = re.compile(rf"[+-]?\d{{1,3}}(?:{_GROUP_SPACES}\d{{3}})+(?:[.,]\d+)?")
_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity|infinito)", re.IGNORECASE)


def _normalise(text: str) -> str:
    return text.strip().translate(_MINUS)


def _float(text: str) -> float:
    return float(text.replace(",", "."))


class AmbiguousNumberError(ValueError):
    """A number that reads two ways (``3.975``: 3975 or 3.975) with nothing to tell which."""


def parse_number(
    text: str, *, count: bool = False, decimal_comma: bool | None = None, hint: str = ""
) -> float:
    """Read a number as a spreadsheet in any locale writes it; raise ValueError if unsure.

    Both ``41.8933`` and ``41,8933`` are 41.8933. With ``count=False`` (coordinates and
    other measures) a number has one decimal mark, ``.`` or ``,``, and no thousands
    separators. With ``count=True`` (seats, residents) thousands separators are read too:

    - unambiguous groups are always read: ``1.234.567``, ``1.234,5``, ``1,234,567``,
      ``1,234.5``, ``1 234 567`` (spaces, no-break spaces or ``'``);
    - one group of three digits, ``3.975`` or ``3,975``, is ambiguous: it is read by
      ``decimal_comma`` (True: the file writes decimals with a comma, so ``3.975`` is 3975
      and ``3,975`` is 3.975; False: the other way round; None, no evidence: ValueError,
      saying how to write it);
    - other decimals (``12,5``, ``12.50``, ``1234.5``) are decimals.

    Scientific notation (``1,5E+03``) is read; ``nan``, ``inf`` and numbers too large for a
    float are refused. ``hint`` is appended to the "not a number" message (what to write).

    Examples
    --------
    >>> parse_number("41,8933"), parse_number("1.234.567", count=True)
    (41.8933, 1234567.0)
    >>> parse_number("3.975", count=True, decimal_comma=True)
    3975.0
    >>> parse_number("3.975", count=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fifteenmin._tables.AmbiguousNumberError: '3.975' could be 3975 or 3.975 ...
    """
    s = _normalise(text)
    value: float
    if _PLAIN.fullmatch(s):
        value = float(s)
    elif count and _ONE_GROUP_POINT.fullmatch(s):
        if decimal_comma is None:
            raise AmbiguousNumberError(_ambiguous(text, s, "."))
        value = float(s.replace(".", "")) if decimal_comma else float(s)
    elif count and _ONE_GROUP_COMMA.fullmatch(s):
        if decimal_comma is None:
            raise AmbiguousNumberError(_ambiguous(text, s, ","))
        value = _float(s) if decimal_comma else float(s.replace(",", ""))
    elif count and _IT_GROUPED.fullmatch(s):
        value = _float(s.replace(".", ""))
    elif count and _EN_GROUPED.fullmatch(s):
        value = float(s.replace(",", ""))
    elif count and _SPACE_GROUPED.fullmatch(s):
        value = _float(re.sub(_GROUP_SPACES, "", s))
    elif _POINT.fullmatch(s) or _COMMA.fullmatch(s) or _SCIENTIFIC.fullmatch(s):
        value = _float(s)
    elif _NOT_FINITE.fullmatch(s):
        raise ValueError(f"{text!r} is not a finite number; write a number or leave it empty")
    else:
        raise ValueError(f"{text!r} is not a number{hint}")
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is too large a number; check the value")
    return value


def _ambiguous(text: str, s: str, mark: str) -> str:
    whole = int(s.replace(mark, ""))
    fraction = s.replace(",", ".")
    name = "point" if mark == "." else "comma"
    return (
        f"{text!r} could be {whole} or {fraction} (the file shows no other decimals to tell "
        f"whether it writes them with a comma or a point); write {whole} without the {name}"
    )


def number_style(
    decimal_cells: Iterable[object], count_cells: Iterable[object] = ()
) -> bool | None:
    """Whether a file writes decimals with a comma (True), a point (False), or cannot tell.

    The evidence is the file's numbers: in ``decimal_cells`` (coordinates: no thousands
    separators, so any ``,`` or ``.`` is the decimal mark) and ``count_cells`` (only values
    that cannot be thousands: ``12,5``, ``1234.5``, ``1.234.567``, ``1.234,5``...). Evidence
    both ways, or none, gives None. Cells that are not text are ignored.

    Examples
    --------
    >>> number_style(["41,8933", "12,4964"], ["1.200"])
    True
    >>> number_style(["41.8933"]), number_style([], ["1.200", "35"])
    (False, None)
    """
    comma = point = False
    for cell in decimal_cells:
        if isinstance(cell, str):
            s = _normalise(cell)
            comma = comma or bool(_COMMA.fullmatch(s))
            point = point or bool(_POINT.fullmatch(s))
    for cell in count_cells:
        if not isinstance(cell, str):
            continue
        s = _normalise(cell)
        if _ONE_GROUP_POINT.fullmatch(s) or _ONE_GROUP_COMMA.fullmatch(s):
            continue
        comma = comma or bool(_COMMA.fullmatch(s) or _IT_GROUPED.fullmatch(s))
        point = point or bool(_POINT.fullmatch(s) or _EN_GROUPED.fullmatch(s))
    return None if comma == point else comma


def to_numbers(
    values: Sequence[object],
    *,
    count: bool = False,
    decimal_comma: bool | None = None,
    locate: Callable[[int], str],
    hint: str = "",
) -> np.ndarray:
    """Floats from a column of cells: text read by :func:`parse_number`, numbers kept.

    Missing cells (None, NaN, blank text) are NaN; ``locate(i)`` names the place of the
    ``i``-th value in the InputError raised for the first value that cannot be read.
    """
    out = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        if isinstance(value, str):
            if not value.strip():
                continue
            try:
                out[i] = parse_number(value, count=count, decimal_comma=decimal_comma, hint=hint)
            except ValueError as exc:
                raise InputError(f"{locate(i)}: {exc}") from None
            continue
        try:
            if value is None or pd.isna(value):  # type: ignore[call-overload]
                continue
            out[i] = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InputError(f"{locate(i)}: {value!r} is not a number{hint}") from None
        if np.isinf(out[i]):
            raise InputError(f"{locate(i)}: {value!r} is not a finite number{hint}")
    return out


# ---------------------------------------------------------------- writing

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def _safe_cell(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not (_NUMBER_TEXT.fullmatch(value))
    ):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cannot run as a spreadsheet formula (CSV injection).

    Text cells and column names starting with ``=``, ``+``, ``-``, ``@``, tab or a line
    break get a leading ``'``, which spreadsheets show as text (OWASP's advice); text that
    is a plain number (``-12``, ``+3,5``) and cells that are numbers stay as they are.

    Examples
    --------
    >>> frame = pd.DataFrame({"name": ["=HYPERLINK(\\"x\\")", "Via Roma", "-3"], "n": [1, -2, 3]})
    >>> spreadsheet_safe(frame).to_dict("list")
    {'name': ['\\'=HYPERLINK("x")', 'Via Roma', '-3'], 'n': [1, -2, 3]}
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            out[column] = series.cat.rename_categories(
                [_safe_cell(c) for c in series.cat.categories]
            )
        elif series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            out[column] = series.map(_safe_cell, na_action="ignore")
    out.columns = [_safe_cell(c) for c in out.columns]
    return out


_HTML_JSON = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_for_html(text: str) -> str:
    """JSON text made safe inside an HTML ``<script>`` element.

    ``<``, ``>``, ``&`` and the line separators U+2028/U+2029 become ``\\u003c``-style
    escapes, which JSON (and JavaScript) read back as the same characters, so no value can
    close the element or open a comment (``</script>``, ``<!--``) and swallow the page.

    Examples
    --------
    >>> json_for_html('{"id": "<!--<script>"}')
    '{"id": "\\\\u003c!--\\\\u003cscript\\\\u003e"}'
    """
    return text.translate(_HTML_JSON)


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def terminal_safe(text: object) -> str:
    """``text`` on one line with no control characters, for printing on a terminal.

    Line breaks and tabs become spaces; other control characters (escape sequences that
    recolour, move the cursor or retitle the window, C1 controls, DEL) and bidirectional
    overrides are removed.

    Examples
    --------
    >>> terminal_safe("Trastevere\\x1b[2J\\x1b]0;owned\\x07\\nnext")
    'Trastevere[2J]0;owned next'
    """
    out = []
    for ch in str(text):
        if ch in "\n\r\t\u2028\u2029\x0b\x0c\x85":
            out.append(" ")
        elif ch in _BIDI or unicodedata.category(ch) == "Cc":
            continue
        else:
            out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------- command-line numbers


def option_number(
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    integer: bool = False,
    unit: str = "",
) -> Callable[[str], float]:
    """An argparse ``type=`` that accepts a finite number in ``[low, high]`` (or ``(low, high]``).

    ``nan``, ``inf`` and out-of-range values are refused with one line saying what is
    allowed (argparse prints it and exits with status 2).

    Examples
    --------
    >>> minutes = option_number(low=0, high=1440, low_open=True)
    >>> minutes("15")
    15.0
    >>> minutes("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'nan' is not a finite number; give a number in (0, 1440]
    """
    left = "(" if low_open else "["
    allowed = f"{left}{low:g}, {high:g}]" + (f" {unit}" if unit else "")
    kind = "a whole number" if integer else "a number"

    def convert(text: str) -> float:
        try:
            value = float(int(text)) if integer else float(text)
        except (ValueError, OverflowError):  # OverflowError: a whole number of 400 digits
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {kind}; give {kind} in {allowed}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a finite number; give {kind} in {allowed}"
            )
        if value < low or value > high or (low_open and value == low):
            raise argparse.ArgumentTypeError(f"{text} is outside {allowed}; give {kind} in it")
        return int(value) if integer else value  # type: ignore[return-value]

    convert.__name__ = "integer" if integer else "number"  # argparse names the type so
    return convert


def _cell_place(
    table: pd.DataFrame, column: str, where: str, labels: Sequence[str] | None = None
) -> Callable[[int], str]:
    """``i -> "albo.csv row 7, column lat"`` for the ``i``-th cell of a column
    (``"albo.csv row 7 (space 'S07'), column lat"`` with ``labels``)."""
    if labels is None:
        return lambda i: f"{where} row {table.index[i]}, column {column}"
    return lambda i: f"{where} row {table.index[i]} ({labels[i]}), column {column}"


def table_numbers(
    table: pd.DataFrame,
    *,
    decimal: Sequence[str] = (),
    counts: Sequence[str] = (),
    where: str,
    labels: Sequence[str] | None = None,
    hints: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """The numbers of some columns of a :func:`~fifteenmin._io.read_table` table.

    ``decimal`` columns (coordinates) and ``counts`` (seats, residents) are read by
    :func:`parse_number`; whether the file writes decimals with a comma is decided once,
    from the cells of all these columns (:func:`number_style`). Empty cells are NaN.
    ``labels``: what each row is (``"space 'S07'"``), named in messages after the row.
    ``hints``: per column, what to write there (``"a whole number of desks such as 24"``),
    said after a cell that is not a number; by default a number such as 41.8933 for a
    decimal column and a whole number for a count.

    Raises
    ------
    InputError
        For the first cell that is not a number or is ambiguous:
        ``"albo.csv row 7, column postazioni: '3.975' could be 3975 or 3.975 ..."``.
    """
    style = number_style(
        [c for col in decimal for c in table[col]], [c for col in counts for c in table[col]]
    )
    out: dict[str, np.ndarray] = {}
    said = hints or {}
    for column, count, hint in [
        *((c, False, "; write " + said.get(c, "a number such as 41.8933")) for c in decimal),
        *(
            (c, True, "; write " + said.get(c, "a whole number such as 1200") + ", or leave "
             "the cell empty")
            for c in counts
        ),
    ]:  # fmt: skip
        out[column] = to_numbers(
            table[column].tolist(),
            count=count,
            decimal_comma=style,
            locate=_cell_place(table, column, where, labels),
            hint=hint,
        )
    return out
