"""Is a file named as a log really text? Decided from its first 8 KB (decompressed for gzip).

A binary file (an image, an executable, an archive) read as a log is thousands of "lines" without
a time; the operator is better served by a refusal that says what the file is. Real logs are not
always clean, and must still be read: a stray NUL, a run of NULs at the start (copytruncate under a
writer that did not open the file with O_APPEND leaves a hole), invalid UTF-8, Latin-1 or GBK text,
ANSI colours, FIX messages separated by SOH (\\x01).

Binary means: a known file signature; or, with NULs ignored, more than 5% control bytes other
than whitespace, ESC and SOH (random or compressed data has about 10%); or NULs scattered through
the text, not one hole. UTF-16 text is refused too, with how to convert it: every timestamp in it
is split by NULs.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

HEAD = 8192
_CONTROL = bytes([*range(0x02, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_NUL_RUN = re.compile(rb"\x00+")

# (signature, what it is, hint)
_SIGNATURES: list[tuple[bytes, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", "PNG image", ""),
    (b"\xff\xd8\xff", "JPEG image", ""),
    (b"GIF87a", "GIF image", ""),
    (b"GIF89a", "GIF image", ""),
    (b"%PDF-", "PDF document", ""),
    (b"\x7fELF", "ELF executable", ""),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable", ""),
    (b"\xce\xfa\xed\xfe", "Mach-O executable", ""),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O executable", ""),
    (b"\x00asm", "WebAssembly module", ""),
    (b"SQLite format 3\x00", "SQLite database", ""),
    (b"PK\x03\x04", "zip archive", "unzip it and name the log files inside"),
    (b"PK\x05\x06", "zip archive", "unzip it and name the log files inside"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first: zstd -d FILE"),
    (b"\xfd7zXZ\x00", "xz-compressed", "decompress it first: xz -dk FILE"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive", "extract it and name the log files inside"),
    (b"LPKSHHRH", "systemd journal file", "export it as text: journalctl --file FILE -o short-iso > FILE.log"),
]
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")
_UTF16_HINT = "convert it first: iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8.log"


def head_of(path: Path) -> bytes:
    """The first 8 KB of a file, decompressed if it is gzip (b"" when unreadable: the reader
    reports that itself)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(HEAD)
            if raw[:2] != b"\x1f\x8b":
                return raw
            raw += f.read(64 << 10)
    except OSError:
        return b""
    try:
        return zlib.decompressobj(47).decompress(raw, HEAD)
    except zlib.error:
        return raw[:HEAD]


def refusal(head: bytes) -> tuple[str, str] | None:
    """(reason, hint) when `head` is not a text log, else None."""
    for sig, what, hint in _SIGNATURES:
        if head.startswith(sig):
            return _binary(what), hint
    if _BZIP2.match(head):
        return _binary("bzip2-compressed"), "decompress it first: bzip2 -dk FILE"
    if head[257:262] == b"ustar":
        return _binary("tar archive"), "extract it and name the log files inside"
    if _utf16(head):
        return "UTF-16 text, which this reader cannot scan", _UTF16_HINT
    text = head.replace(b"\x00", b"")
    if len(text) < 64:
        return None  # empty, tiny, or a hole of NULs before the log starts: read it
    controls = len(text) - len(text.translate(None, _CONTROL))
    if controls > 0.05 * len(text):
        return _binary(), ""
    nul = len(head) - len(text)
    if nul > 0.01 * len(head) and len(_NUL_RUN.findall(head)) > 16:
        return _binary(), ""
    return None


def _binary(what: str = "") -> str:
    return "binary file, not a log" + (f" ({what})" if what else "")


def _utf16(head: bytes) -> bool:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    # ASCII text in UTF-16: a NUL in every other byte.
    pairs = head[: len(head) & ~1]
    if len(pairs) < 64:
        return False
    half = len(pairs) // 2
    odd, even = pairs[1::2].count(0), pairs[0::2].count(0)
    return (odd > 0.9 * half and even < 0.1 * half) or (even > 0.9 * half and odd < 0.1 * half)


__all__ = ["head_of", "refusal"]
