"""MIT-BIH WFDB reader and writer: header, format 212, MIT annotations, folders.

Real-byte tests read the shared record 100 in place from ``../shared/fixtures`` (never copied into
the repository) and skip, naming the missing path, when it is absent. Everything else runs on
seeded synthetic data written by our own writers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from wl_helpers import mitdb, one_line_naming

from spikebench.core.errors import FileFormatError, InvalidSpikesError
from spikebench.workloads import wfdb_annotations as wa
from spikebench.workloads import wfdb_format as wf
from spikebench.workloads.readall import BadFilesError


def test_wfdb_fixture_header():
    h = wf.read_header(mitdb() / "100.hea")
    assert (h.record_name, h.n_signals, h.fs_hz, h.n_samples) == ("100", 2, 360.0, 650_000)
    assert [s.description for s in h.signals] == ["MLII", "V5"]
    for s in h.signals:
        assert (s.file_name, s.fmt, s.gain, s.resolution, s.adc_zero) == ("100.dat", "212", 200.0, 11, 1024)
    assert [s.init_value for s in h.signals] == [995, 1011]
    assert [s.checksum for s in h.signals] == [-22131, 20052]
    assert "69 M 1085 1629 x1" in h.comments
    assert wf.parse_header(wf.format_header(h)) == h


def test_wfdb_fixture_record_and_checksums():
    folder = mitdb()
    rec = wf.read_record(folder / "100")
    assert rec.signals.shape == (650_000, 2) and rec.signals.dtype == np.int16
    assert rec.signals[0].tolist() == [995, 1011]
    assert [wf.checksum16(rec.signals[:, j]) for j in range(2)] == [-22131, 20052]
    assert rec.signals.min() >= -1024 and rec.signals.max() < 2048  # 11-bit data around ADC zero 1024
    mv = rec.physical()
    assert mv.shape == rec.signals.shape and np.isclose(mv[0, 0], (995 - 1024) / 200)
    # re-encoding reproduces the .dat byte for byte
    assert wf.encode_212(rec.signals.reshape(-1)) == (folder / "100.dat").read_bytes()
    assert wf.read_record(folder / "100.hea").signals.shape == (650_000, 2)


def test_wfdb_fixture_annotations_structure():
    folder = mitdb()
    raw = (folder / "100.atr").read_bytes()
    ann = wf.read_annotations(folder / "100.atr")
    assert len(ann) > 2000
    assert np.all(np.diff(ann.sample) >= 0)
    assert ann.sample.min() >= 0 and ann.sample.max() <= 649_999
    assert set(int(c) for c in ann.code) <= set(wf.ANNOTATION_SYMBOLS)
    assert raw[-2:] == b"\x00\x00"  # terminating zero word; the decoder refuses anything after it
    assert "N" in ann.symbols and ann.aux_text(0).startswith("(")
    assert wf.encode_annotations(ann) == raw
    beats, anomalous = ann.beats()
    assert len(beats) == len(ann) - ann.symbols.count("+")
    assert 0 < anomalous.sum() < len(beats)


def test_wfdb_fixture_folder_reader():
    folder = mitdb()
    recs = wf.read_folder(folder)
    assert list(recs) == ["100"]
    rec, ann = recs["100"]
    assert rec.signals.shape == (650_000, 2) and len(ann) > 0


def synthetic_record(seed: int, n: int, nsig: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-2048, 2048, size=(n, nsig)).astype(np.int16)


@pytest.mark.parametrize("n,nsig", [(1000, 2), (999, 1), (7, 3), (0, 2)])
def test_wfdb_record_roundtrip(tmp_path, n, nsig):
    sig = synthetic_record(n + nsig, n, nsig)
    hdr = wf.make_header("rec1", sig, fs_hz=360.0, comments=("synthetic",))
    wf.write_record(tmp_path, hdr, sig)
    rec = wf.read_record(tmp_path / "rec1")
    assert np.array_equal(rec.signals, sig)
    assert rec.header == hdr
    assert (tmp_path / "rec1.dat").stat().st_size == wf.bytes_212(n * nsig)


def test_wfdb_212_by_hand():
    # s0 = 0x123 (291), s1 = -1 (0xFFF) -> bytes 23 F1 FF
    assert wf.encode_212(np.array([291, -1])) == bytes([0x23, 0xF1, 0xFF])
    assert wf.decode_212(bytes([0x23, 0xF1, 0xFF])).tolist() == [291, -1]
    assert wf.decode_212(bytes([0x00, 0x08, 0x00, 0xFF, 0x07, 0x00]), 3).tolist() == [-2048, 0, 2047]
    assert wf.decode_212(bytes([0xFF, 0x07]), 1).tolist() == [2047]  # odd count, 2-byte tail
    with pytest.raises(InvalidSpikesError):
        wf.encode_212(np.array([2048]))


def _good_record(folder: Path, name: str = "rec") -> np.ndarray:
    sig = synthetic_record(11, 500, 2)
    wf.write_record(folder, wf.make_header(name, sig, fs_hz=360.0), sig)
    return sig


def test_wfdb_wrong_checksum(tmp_path):
    _good_record(tmp_path)
    hea = tmp_path / "rec.hea"
    lines = hea.read_text().splitlines()
    parts = lines[2].split()
    parts[6] = str(int(parts[6]) + 1)
    lines[2] = " ".join(parts)
    hea.write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError) as err:
        wf.read_record(tmp_path / "rec")
    one_line_naming(err.value, str(tmp_path / "rec.dat"), "checksum of signal 1", "rec.hea")
    assert wf.read_record(tmp_path / "rec", verify_checksums=False).signals.shape == (500, 2)


def test_wfdb_corrupt_dat_fails_checksum(tmp_path):
    _good_record(tmp_path)
    dat = tmp_path / "rec.dat"
    raw = bytearray(dat.read_bytes())
    raw[100] ^= 0x01
    dat.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match="checksum"):
        wf.read_record(tmp_path / "rec")


@pytest.mark.parametrize("line,needle", [
    ("rec.dat 16 200 11 1024 0 0 0 MLII", "unsupported signal format 16"),
    ("rec.dat 212x2 200 11 1024 0 0 0 MLII", "samples per frame"),
    ("../rec.dat 212 200 11 1024 0 0 0 MLII", "plain file name"),
    ("rec.dat 212 abc 11 1024 0 0 0 MLII", "gain"),
    ("rec.dat 212 200 eleven 1024 0 0 0 MLII", "resolution"),
])
def test_wfdb_bad_signal_lines(tmp_path, line, needle):
    hea = tmp_path / "rec.hea"
    hea.write_text(f"rec 1 360 10\n{line}\n")
    with pytest.raises(FileFormatError) as err:
        wf.read_record(tmp_path / "rec")
    one_line_naming(err.value, str(hea), needle)


def test_wfdb_header_structure_errors(tmp_path):
    hea = tmp_path / "r.hea"
    for text, needle in [("# only a comment\n\n", "no record line"),
                         ("r 2 360 10\nr.dat 212 200 11 1024 0 0 0 a\n", "announces 2 signals but 1"),
                         ("r/3 2 360 10\n", "multi-segment"),
                         ("r two 360\n", "not an integer")]:
        hea.write_text(text)
        with pytest.raises(FileFormatError) as err:
            wf.read_header(hea)
        one_line_naming(err.value, str(hea), needle)


def test_wfdb_header_tolerates_comments_blank_lines_and_crlf():
    text = "# lead\r\n\r\nr 2 360 10\r\n# between\r\nr.dat 212 200(1000)/uV 12 1024 5 -3 0 lead one\r\n\r\nr.dat 212\r\n"
    h = wf.parse_header(text)
    assert h.signals[0].baseline == 1000 and h.signals[0].units == "uV" and h.signals[0].description == "lead one"
    assert h.signals[1].checksum is None and h.signals[1].gain == 200.0
    assert h.comments == ("lead", "between")


def test_wfdb_missing_dat_and_truncated_dat(tmp_path):
    _good_record(tmp_path)
    dat = tmp_path / "rec.dat"
    raw = dat.read_bytes()
    dat.write_bytes(raw[:-3])
    with pytest.raises(FileFormatError) as err:
        wf.read_record(tmp_path / "rec")
    one_line_naming(err.value, str(dat), "truncated")
    dat.unlink()
    with pytest.raises(FileFormatError) as err:
        wf.read_record(tmp_path / "rec")
    one_line_naming(err.value, str(dat), "not found")
    with pytest.raises(FileFormatError, match="not found"):
        wf.read_record(tmp_path / "other")


def test_wfdb_folder_reports_every_bad_record(tmp_path):
    _good_record(tmp_path, "a")
    _good_record(tmp_path, "b")
    _good_record(tmp_path, "c")
    (tmp_path / "b.dat").unlink()
    hea = tmp_path / "c.hea"
    hea.write_text(hea.read_text().replace(" 212 ", " 16 ", 1))
    with pytest.raises(BadFilesError) as err:
        wf.read_folder(tmp_path, annotator=None)
    assert [n for n, _ in err.value.failures] == [str(tmp_path / "b"), str(tmp_path / "c")]
    one_line_naming(err.value, "2 of 3", "b.dat", "not found", "unsupported signal format 16")


def synthetic_annotations() -> wf.Annotations:
    sample = np.array([18, 77, 370, 2000, 2000, 100_000, 100_050, 5_000_000])
    code = np.array([28, 1, 1, 5, 14, 8, 1, 1], dtype=np.uint8)
    return wf.Annotations(sample=sample, code=code,
                          subtype=np.array([0, 0, 0, 0, 3, 0, 0, 1], dtype=np.int16),
                          chan=np.array([0, 0, 1, 1, 1, 0, 0, 0], dtype=np.int16),
                          num=np.array([0, 0, 0, 5, 5, 1023, 0, 0], dtype=np.int16),
                          aux=(b"(N\x00", b"", b"", b"", b"noise", b"", b"(AFIB", b""))


def test_wfdb_annotations_roundtrip_with_skip_num_sub_chn_aux(tmp_path):
    ann = synthetic_annotations()
    path = tmp_path / "r.atr"
    wf.write_annotations(path, ann)
    raw = path.read_bytes()
    words = np.frombuffer(raw, "<u2")
    codes = set((words >> 10).tolist())
    assert {wa.SKIP, wa.NUM, wa.SUB, wa.CHN, wa.AUX} <= codes
    back = wf.read_annotations(path)
    for f in ("sample", "code", "subtype", "chan", "num"):
        assert np.array_equal(getattr(back, f), getattr(ann, f)), f
    assert back.aux == ann.aux
    assert back.aux_text(6) == "(AFIB"
    assert wf.encode_annotations(back) == raw


def test_wfdb_annotations_by_hand():
    # N at 5; SKIP +70000; V at 70005 + 3 with NUM 7; end
    words = [(1 << 10) | 5, 59 << 10, 1, 70000 - 65536, (5 << 10) | 3, (60 << 10) | 7, 0]
    ann = wf.decode_annotations(np.array(words, "<u2").tobytes())
    assert ann.sample.tolist() == [5, 70008] and ann.symbols == ["N", "V"] and ann.num.tolist() == [0, 7]


@pytest.mark.parametrize("words,needle", [
    ([1 << 10 | 5], "no terminating zero word"),
    ([1 << 10 | 5, 0, 7], "follow the terminating zero word"),
    ([55 << 10, 0], "undefined annotation code 55"),
    ([60 << 10 | 3, 0], "before any annotation"),
    ([1 << 10, 63 << 10 | 9, 0x4141], "runs past the end"),
    ([59 << 10, 0xFFFF, 0xFFFF, 1 << 10, 0], "negative sample"),
    ([1 << 10, 59 << 10, 5], "cut off"),
])
def test_wfdb_bad_annotations(tmp_path, words, needle):
    path = tmp_path / "x.atr"
    path.write_bytes(np.array(words, "<u2").tobytes())
    with pytest.raises(FileFormatError) as err:
        wf.read_annotations(path)
    one_line_naming(err.value, str(path), needle)
    path.write_bytes(b"\x00\x00\x00")
    with pytest.raises(FileFormatError, match="odd"):
        wf.read_annotations(path)


def test_wfdb_header_without_sample_count_reads_whole_file(tmp_path):
    sig = synthetic_record(12, 40, 2)
    _, dats = wf.record_bytes(wf.make_header("z", sig, fs_hz=250.0), sig)
    (tmp_path / "z.dat").write_bytes(dats["z.dat"])
    (tmp_path / "z.hea").write_text("z 2\nz.dat 212\nz.dat 212\n")
    rec = wf.read_record(tmp_path / "z")
    assert rec.fs_hz == 250.0 and rec.header.n_samples == 40 and np.array_equal(rec.signals, sig)
