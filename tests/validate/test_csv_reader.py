"""Reading a CSV of the package (validate/reader.py): encoding, header, malformed records, physical lines.

EV0001 of the fixture spans lines 2-3, so EV0002 starts on line 4: these tests also pin physical
line numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fixture_review import (
    EVIDENCE,
    EVIDENCE_HEADER,
    REPO,
    edit,
    errors,
    find,
    make_root,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroimmune_review.validate import (
    MAX_PROBLEMS_PER_RULE,
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_root(tmp_path)


def test_non_utf8_bytes_are_reported_with_their_line(root):
    path = root / EVIDENCE
    path.write_bytes(path.read_bytes().replace(b"rat cortex", b"rat c\xf6rtex"))
    problem = find(errors(root), EVIDENCE, 6, "encoding", "0xf6", "not valid UTF-8")
    assert "expected UTF-8" in problem.message


def test_header_must_match_exactly(root):
    edit(
        root,
        EVIDENCE,
        "id,claim_type,intervention,comparator,mediator,",
        "id,claim_type,intervention,comparator,mediatr,",
    )
    problems = errors(root)
    find(problems, EVIDENCE, 1, "header", "missing column 'mediator'")
    find(problems, EVIDENCE, 1, "header", "unexpected column 'mediatr'", "did you mean 'mediator'")


def test_header_order_matters(root):
    edit(root, EVIDENCE, "species,sample", "sample,species")
    find(errors(root), EVIDENCE, 1, "header", "wrong order")


def test_wrong_field_count(root):
    edit(root, EVIDENCE, "rat,rat cortex,10 mg/kg,", "rat,rat cortex,10 mg/kg,extra,")
    find(errors(root), EVIDENCE, 6, "row", "16 fields", "expected 15")


def test_unterminated_quote(root):
    with (root / EVIDENCE).open("a", encoding="utf-8") as handle:
        handle.write(
            'EV0009,intervention_effect,fluoxetine,before treatment,IL-6,decrease,reduced,clinical,human,"serum, never closed,,x,12,book/antidepressants/ssri,\n'
        )
    find(errors(root), EVIDENCE, 11, "row", "unterminated quoted field")


def test_open_quote_in_the_header_is_reported_not_raised(root):
    # The fast readers parse the header line on its own; an open quote there once escaped as
    # csv.Error (a traceback) instead of a problem with its line.
    edit(root, EVIDENCE, "id,claim_type,", '"id,claim_type,')
    find(errors(root), EVIDENCE, 1, "row", "after a closing")


def test_text_after_closing_quote(root):
    edit(root, EVIDENCE, "human,plasma,", 'human,"plasma"x,')
    find(errors(root), EVIDENCE, 5, "row", "after a closing")


def test_blank_line(root):
    edit(root, EVIDENCE, "\nEV0004,", "\n\nEV0004,")
    find(errors(root), EVIDENCE, 6, "row", "blank line")


def test_nul_byte(root):
    edit(root, EVIDENCE, "rat cortex", "rat\x00cortex")
    find(errors(root), EVIDENCE, 6, "encoding", "NUL byte")


def test_empty_file(root):
    (root / EVIDENCE).write_bytes(b"")
    find(errors(root), EVIDENCE, 1, "header", "file is empty", EVIDENCE_HEADER)


def test_missing_file(root):
    (root / "data" / "mediators.csv").unlink()
    problems = errors(root)
    find(problems, "data/mediators.csv", 0, "file", "file not found")
    # The evidence is still checked on its own.
    assert not [p for p in problems if p.path == EVIDENCE]


def test_two_megabyte_field_is_reported_shortened(root):
    edit(
        root,
        EVIDENCE,
        "increased,clinical,human,plasma",
        "increased,clinical,human,plasma" + "é" * 2_000_000,
    )
    edit(
        root,
        EVIDENCE,
        "EV0003,intervention_effect,imipramine",
        "EV0003,intervention_effect,imipramine" + "x" * 2_000_000,
    )
    problem = find(errors(root), EVIDENCE, 5, "intervention", "2000010 characters")
    assert len(problem.message) < 400


def test_many_problems_are_capped(root):
    rows = "".join(
        f"EV{1000 + i},intervention_effect,fluoxetine,before treatment,IL-6,sideways,reduced,clinical,human,sample {i},,smith2010fluoxetine,12,book/antidepressants/ssri,\n"
        for i in range(MAX_PROBLEMS_PER_RULE + 10)
    )
    with (root / EVIDENCE).open("a", encoding="utf-8") as handle:
        handle.write(rows)
    direction = [p for p in errors(root) if p.field == "direction"]
    assert len(direction) == MAX_PROBLEMS_PER_RULE + 1
    assert "and 10 more" in direction[-1].message


def test_fast_reader_gives_the_careful_readers_table(tmp_path):
    # The regular-file path (pandas' C reader) must read exactly what the record-by-record
    # path reads, quoted commas and doubled quotes included; irregular files take the latter.
    from neuroimmune_review.validate import reader as v

    text = (REPO / "data/evidence.csv").read_text(encoding="utf-8")
    text += 'EV9999,a,"b, with comma","say ""hi""",x,x,x,x,x,x,x,x,x,x,x\n'
    header, fast = v._regular_frame(text)
    records, starts, problems = v._parse_records(text, "evidence.csv")
    assert not problems and header == records[0]
    careful = pd.DataFrame(records[1:], index=pd.Index(starts[1:], name="line"), dtype=object)
    pd.testing.assert_frame_equal(fast, careful, check_column_type=False, check_index_type=False)
    for irregular in (
        text + "\n",
        text + "EV1,short\n",
        text + 'EV2,"open\nquote",x\n',
        text.replace("\n", "\r", 1),
        text + "EV3,\x00,x,x,x,x,x,x,x,x,x,x,x,x,x\n",
    ):
        assert v._regular_frame(irregular) is None


# The plain-file path (reader._plain_frame) reads the bytes without decoding the whole file.
# It must accept exactly the files the text path calls regular (BOM-less, valid UTF-8, two or
# more columns) and read the same header and frame; any other file goes on to the text path.
_CSV_BYTES = st.lists(
    st.sampled_from(
        [b"a", b"b c", b",", b",", b'"', b'""', b'"x, y"', b"\n", b"\n", b"\r\n", b"\r"]
        + [b"", b" ", "é".encode(), b"\xff", b"\xe2\x82", b"\x00", b"\xef\xbb\xbf"]
    ),
    max_size=40,
).map(b"".join)


def _text_reader_frame(data: bytes):
    from neuroimmune_review.bib import decode_utf8
    from neuroimmune_review.validate import reader as v

    decoded = decode_utf8(data)
    if decoded.error or decoded.text.startswith("\ufeff"):
        return None
    regular = v._regular_frame(decoded.text, data)
    return regular if regular is not None and len(regular[0]) >= 2 else None


@settings(max_examples=400, deadline=None)
@given(
    header=st.sampled_from([b"c0,c1\n", b"c0,c1,c2\r\n", b'"c0",c1\n', b"c0\n"]), body=_CSV_BYTES
)
def test_plain_reader_reads_what_the_text_reader_reads(header, body):
    from neuroimmune_review.validate import reader as v

    data = header + body
    plain, text = v._plain_frame(data), _text_reader_frame(data)
    assert (plain is None) == (text is None), data
    if plain is not None:
        assert plain[0] == text[0]
        pd.testing.assert_frame_equal(plain[1], text[1])


@pytest.mark.parametrize(
    "body",
    [
        b"1,2\n3\n4,5\n",  # a short row: the C reader would pad it with ''
        b"1\n2,3\n",  # a short first row
        b"1,2\n3,4,5\n",  # a long row
        b"1,2\n\n3,4\n",  # a blank line
        b"1,2\n3,4\n\n",  # a blank last line
        b'1,"2\n3",4\n',  # a quoted line break
        b'1,a"b\n',  # a quote inside an unquoted field
        b'1,"a"b\n',  # text after a closing quote
        b'1,"ab\n',  # a quote never closed
        b"1,2\r3,4\n",  # a lone CR
        b"1,\xff\n",  # not UTF-8
    ],
)
def test_irregular_files_leave_the_plain_path(body):
    from neuroimmune_review.validate import reader as v

    assert v._plain_frame(b"c0,c1\n" + body) is None
    assert v._plain_frame(b"c0,c1\n1,2\n" + body) is None


def test_plain_path_is_taken_for_a_regular_file():
    from neuroimmune_review.validate import reader as v

    data = b'c0,c1,c2\r\n"a, ""b""",,c\r\n"",x,"y"\r\n'
    header, frame = v._plain_frame(data)
    assert header == ["c0", "c1", "c2"]
    assert frame.to_numpy().tolist() == [['a, "b"', "", "c"], ["", "x", "y"]]
    assert frame.index.tolist() == [2, 3] and frame.index.name == "line"


def test_short_row_of_a_regular_file_is_reported_with_its_field_count(root):
    # The note on one line makes the file regular (the plain path's case); EV0004, quote-free
    # and three fields short, would be padded silently by pandas' C reader.
    edit(root, EVIDENCE, "8 weeks;\nthe note", "8 weeks; the note")
    edit(
        root,
        EVIDENCE,
        "rat cortex,10 mg/kg,lee2001imipramine,20,book/antidepressants/tca,\n",
        "rat cortex,10 mg/kg,lee2001imipramine\n",
    )
    problems = errors(root)
    find(problems, EVIDENCE, 5, "row", "record has 12 fields", "expected 15")
    assert [p.line for p in problems if p.path == EVIDENCE] == [5]


def test_a_table_validation_read_is_what_the_pages_read(tmp_path):
    # The build validates data/ and then reads the same files for its pages: the validator's
    # frame is handed over instead of a second parse, and must be pandas' reading exactly.
    from neuroimmune_review import data
    from neuroimmune_review.validate.reader import read_csv_table

    path = tmp_path / "t.csv"
    path.write_text('id,text,empty\nA1,"a, ""quoted"" one",\nA2,plain,\n', encoding="utf-8")
    expected = data._read_csv(path)
    read_csv_table(path, tmp_path, ["id", "text", "empty"])
    stat = path.stat()
    offered = data._take_parsed(str(path), stat.st_mtime_ns, stat.st_size)
    assert offered is not None
    pd.testing.assert_frame_equal(offered, expected)
    assert list(offered.dtypes) == list(expected.dtypes)
    assert data._take_parsed(str(path), stat.st_mtime_ns, stat.st_size) is None  # taken once


def test_a_table_changed_since_validation_is_read_again(tmp_path):
    import os

    from neuroimmune_review import data
    from neuroimmune_review.validate.reader import read_csv_table

    path = tmp_path / "t.csv"
    path.write_text("id,text\nA1,old\n", encoding="utf-8")
    read_csv_table(path, tmp_path, ["id", "text"])
    path.write_text("id,text\nA1,new\n", encoding="utf-8")  # same size
    later = path.stat().st_mtime_ns + 10_000_000
    os.utime(path, ns=(later, later))
    stat = path.stat()
    assert data._take_parsed(str(path), stat.st_mtime_ns, stat.st_size) is None
    assert data._cached_csv(str(path), stat.st_mtime_ns, stat.st_size)["text"].tolist() == ["new"]


def test_every_table_of_the_review_is_handed_over_as_pandas_reads_it():
    from neuroimmune_review import data
    from neuroimmune_review.validate.reader import read_csv_table

    tables = sorted((REPO / "data").glob("*.csv"))
    handed: list[str] = []
    for path in tables:
        expected = data._read_csv(path)
        read_csv_table(path, REPO, list(expected.columns))
        stat = path.stat()
        offered = data._take_parsed(str(path), stat.st_mtime_ns, stat.st_size)
        if offered is None:
            # Only a file read on the plain path is handed over (others are read again).
            assert path.name != "evidence.csv"
            continue
        handed.append(path.name)
        pd.testing.assert_frame_equal(offered, expected)
    assert "evidence.csv" in handed and "interventions.csv" in handed
