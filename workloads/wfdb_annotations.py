"""MIT-BIH annotations on disk: the MIT annotation format (WFDB annot(5)), read and written.

``NNN.atr`` (``../shared/reference/datasets.md`` §1.3): 16-bit little-endian words, top 6 bits
code A, low 10 bits I. A in 1..49 is an annotation ``I`` samples after the previous one; A = 59
(SKIP) is followed by a signed 32-bit interval, high word first; 60/61/62 (NUM/SUB/CHN) set the
num, subtype and channel fields of the annotation just read; 63 (AUX) carries I bytes of text
padded to an even length; a zero word ends the file. ``chan`` and ``num`` persist from one
annotation to the next. The record files (header, format 212) are :mod:`.wfdb_format`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikebench.core.errors import InvalidSpikesError
from spikebench.core.fileio import atomic_write_bytes

from .readall import file_error, read_file_bytes

# ---- annotations ---------------------------------------------------------------------------------

#: WFDB annotation codes -> mnemonic symbols (ecgcodes.h); codes 42-49 are user-definable.
ANNOTATION_SYMBOLS: dict[int, str] = {
    1: "N", 2: "L", 3: "R", 4: "a", 5: "V", 6: "F", 7: "J", 8: "A", 9: "S", 10: "E", 11: "j", 12: "/",
    13: "Q", 14: "~", 16: "|", 18: "s", 19: "T", 20: "*", 21: "D", 22: '"', 23: "=", 24: "p", 25: "B", 26: "^",
    27: "t", 28: "+", 29: "u", 30: "?", 31: "!", 32: "[", 33: "]", 34: "e", 35: "n", 36: "@", 37: "x", 38: "f",
    39: "(", 40: ")", 41: "r",
}
#: Beat annotation symbols (WFDB isqrs) and the AAMI-style "normal" beats; every other beat is an anomaly.
BEAT_SYMBOLS = frozenset("NLRaVFJASEj/Qenf") | {"B", "r"}
NORMAL_BEAT_SYMBOLS = frozenset("NLRej")

ACMAX, SKIP, NUM, SUB, CHN, AUX = 49, 59, 60, 61, 62, 63


@dataclass(frozen=True, kw_only=True, eq=False)
class Annotations:
    """MIT annotations, one entry per annotation, in file order.

    ``sample`` (int64, sample index), ``code`` (uint8, WFDB anntyp), ``subtype``, ``chan`` and
    ``num`` (int16, the raw 10-bit fields as stored) and ``aux`` (raw bytes, e.g. ``b"(N\\x00"``;
    empty when absent).
    """

    sample: np.ndarray
    code: np.ndarray
    subtype: np.ndarray
    chan: np.ndarray
    num: np.ndarray
    aux: tuple[bytes, ...]

    def __len__(self) -> int:
        return len(self.sample)

    @property
    def symbols(self) -> list[str]:
        return [ANNOTATION_SYMBOLS.get(int(c), "") for c in self.code]

    def aux_text(self, i: int) -> str:
        """The aux string of annotation ``i`` without its NUL terminator (latin-1)."""
        return self.aux[i].split(b"\x00", 1)[0].decode("latin-1")

    def beats(self) -> tuple[np.ndarray, np.ndarray]:
        """``(sample, is_anomaly)`` of the beat annotations (anomaly = not N, L, R, e, j)."""
        sym = self.symbols
        keep = np.array([s in BEAT_SYMBOLS for s in sym], dtype=bool)
        anomalous = np.array([s not in NORMAL_BEAT_SYMBOLS for s in sym], dtype=bool)
        return self.sample[keep], anomalous[keep]


def decode_annotations(data: bytes, *, source: object = "<atr>") -> Annotations:
    """Decode MIT-format annotation bytes (see the module docstring)."""
    size = len(data)
    if size % 2:
        raise file_error(source, f"length {size} bytes is odd; MIT annotations are 16-bit words")
    words = np.frombuffer(data, dtype="<u2").tolist()
    n = len(words)
    samples: list[int] = []
    codes: list[int] = []
    subs: list[int] = []
    chans: list[int] = []
    nums: list[int] = []
    auxs: list[bytes] = []
    t = 0
    chan = num = 0
    i = 0
    ended = False
    while i < n:
        w = words[i]
        a, val = w >> 10, w & 0x3FF
        i += 1
        if w == 0:
            ended = True
            break
        if 1 <= a <= ACMAX:
            t += val
            if t < 0:
                raise file_error(source, f"annotation {len(samples)} lies at negative sample {t}")
            samples.append(t)
            codes.append(a)
            subs.append(0)
            chans.append(chan)
            nums.append(num)
            auxs.append(b"")
        elif a == SKIP:
            if i + 2 > n:
                raise file_error(source, f"SKIP at word {i - 1} is cut off before its 32-bit interval")
            skip = (words[i] << 16) | words[i + 1]
            if skip >= 1 << 31:
                skip -= 1 << 32
            t += skip
            i += 2
        elif a in (NUM, SUB, CHN, AUX):
            if not samples:
                raise file_error(source, f"{_NAMES[a]} word at word {i - 1} comes before any annotation")
            if a == NUM:
                num = val
                nums[-1] = val
            elif a == SUB:
                subs[-1] = val
            elif a == CHN:
                chan = val
                chans[-1] = val
            else:
                n_words = (val + 1) // 2
                if i + n_words > n:
                    raise file_error(source, f"AUX of {val} bytes at word {i - 1} runs past the end of the file")
                auxs[-1] = data[2 * i: 2 * i + val]
                i += n_words
        else:
            raise file_error(source, f"word {i - 1} has undefined annotation code {a} (defined: 1-49, 59-63; "
                                     "0 only in the terminating zero word)")
    if not ended:
        raise file_error(source, "no terminating zero word; the annotation file is truncated")
    if i < n:
        raise file_error(source, f"{2 * (n - i)} bytes follow the terminating zero word")
    return Annotations(sample=np.array(samples, dtype=np.int64), code=np.array(codes, dtype=np.uint8),
                       subtype=np.array(subs, dtype=np.int16), chan=np.array(chans, dtype=np.int16),
                       num=np.array(nums, dtype=np.int16), aux=tuple(auxs))


_NAMES = {NUM: "NUM", SUB: "SUB", CHN: "CHN", AUX: "AUX"}


def encode_annotations(ann: Annotations) -> bytes:
    """MIT-format bytes of ``ann``, as WFDB's putann writes them; inverse of :func:`decode_annotations`.

    Per annotation: [SKIP + 32-bit interval when the gap is negative or > 1023], the code word,
    then SUB (if non-zero), CHN and NUM (if changed from the previous annotation) and AUX (if any).
    """
    n = len(ann.sample)
    for name in ("code", "subtype", "chan", "num"):
        if len(getattr(ann, name)) != n:
            raise InvalidSpikesError(f"annotation field {name} has {len(getattr(ann, name))} entries, sample has {n}")
    if len(ann.aux) != n:
        raise InvalidSpikesError(f"annotation aux has {len(ann.aux)} entries, sample has {n}")
    words: list[int] = []
    prev_t = prev_chan = prev_num = 0
    for k in range(n):
        t, a = int(ann.sample[k]), int(ann.code[k])
        sub, chan, num, aux = int(ann.subtype[k]), int(ann.chan[k]), int(ann.num[k]), bytes(ann.aux[k])
        if not 1 <= a <= ACMAX:
            raise InvalidSpikesError(f"annotation {k}: code {a} cannot be written (annotation codes are 1-{ACMAX})")
        if t < 0:
            raise InvalidSpikesError(f"annotation {k}: sample {t} is negative")
        for fname, v in (("subtype", sub), ("chan", chan), ("num", num)):
            if not 0 <= v <= 0x3FF:
                raise InvalidSpikesError(f"annotation {k}: {fname} {v} must be a 10-bit field value 0-1023")
        if len(aux) > 0x3FF:
            raise InvalidSpikesError(f"annotation {k}: aux of {len(aux)} bytes exceeds 1023")
        delta = t - prev_t
        if delta < 0 or delta > 0x3FF:
            d32 = delta & 0xFFFFFFFF
            if not -(1 << 31) <= delta < (1 << 31):
                raise InvalidSpikesError(f"annotation {k}: gap {delta} does not fit a 32-bit SKIP")
            words += [SKIP << 10, d32 >> 16, d32 & 0xFFFF, a << 10]
        else:
            words.append((a << 10) | delta)
        if sub:
            words.append((SUB << 10) | sub)
        if chan != prev_chan:
            words.append((CHN << 10) | chan)
        if num != prev_num:
            words.append((NUM << 10) | num)
        if aux:
            words.append((AUX << 10) | len(aux))
            padded = aux + b"\x00" * (len(aux) % 2)
            words += np.frombuffer(padded, dtype="<u2").tolist()
        prev_t, prev_chan, prev_num = t, chan, num
    words.append(0)
    return np.array(words, dtype="<u2").tobytes()


def read_annotations(path: str | Path) -> Annotations:
    """Read an MIT-format annotation file (e.g. ``100.atr``)."""
    p = Path(path)
    return decode_annotations(read_file_bytes(p), source=p)


def write_annotations(path: str | Path, ann: Annotations) -> None:
    """Write MIT-format annotations (atomically; the folder must exist)."""
    atomic_write_bytes(path, encode_annotations(ann))

__all__ = [
    "ANNOTATION_SYMBOLS", "BEAT_SYMBOLS", "NORMAL_BEAT_SYMBOLS", "Annotations", "decode_annotations",
    "encode_annotations", "read_annotations", "write_annotations",
]
