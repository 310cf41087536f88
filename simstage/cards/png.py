"""Read the text chunks of a PNG with the standard library only (struct + zlib).

Character cards travel as PNG images with the card's JSON, base64-encoded, in a
text chunk. Only text chunks are read; image data is skipped unread (no pixel
decoding, so no image library and no image decoder's attack surface). Every
size is bounded: the file, each chunk, each decompressed text.
"""

from __future__ import annotations

import struct
import zlib

from simstage.cards.errors import CardError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_CHUNK_BYTES = 8_000_000
"""Largest chunk read; a card's text chunk is a few kilobytes, images rarely need more per chunk."""
MAX_TEXT_BYTES = 4_000_000
"""Most bytes one text chunk may decompress to (a guard against decompression bombs)."""
MAX_CHUNKS = 100_000


def _inflate(data: bytes, name: str, keyword: str) -> bytes:
    """Decompress zlib data, refusing output past MAX_TEXT_BYTES."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES + 1)
    except zlib.error as exc:
        raise CardError(
            f"{name}: the {keyword!r} text chunk is not valid compressed data ({exc})"
        ) from None
    if len(out) > MAX_TEXT_BYTES or inflater.unconsumed_tail:
        raise CardError(
            f"{name}: the {keyword!r} text chunk decompresses to more than {MAX_TEXT_BYTES} bytes"
        )
    return out


def _text_chunk(kind: bytes, body: bytes, name: str) -> tuple[str, bytes] | None:
    """(keyword, text bytes) of a tEXt, zTXt or iTXt chunk; None when malformed beyond use."""
    keyword, sep, rest = body.partition(b"\x00")
    if not sep or not 1 <= len(keyword) <= 79:
        return None
    key = keyword.decode("latin-1")
    if kind == b"tEXt":
        return key, rest
    if kind == b"zTXt":
        if not rest or rest[0] != 0:  # compression method 0 (zlib) is the only one defined
            return None
        return key, _inflate(rest[1:], name, key)
    # iTXt: compression flag, method, language tag \0, translated keyword \0, text
    if len(rest) < 2:
        return None
    flag, method = rest[0], rest[1]
    parts = rest[2:].split(b"\x00", 2)
    if len(parts) != 3:
        return None
    text = parts[2]
    if flag == 1:
        if method != 0:
            return None
        text = _inflate(text, name, key)
    return key, text


def png_text_chunks(
    data: bytes, name: str = "<png>", keywords: tuple[str, ...] = ()
) -> dict[str, bytes]:
    """The text chunks of a PNG, by keyword (the first of each keyword wins).

    Args:
        data: the whole file.
        name: the file's name, for messages.
        keywords: only decode chunks with these keywords (all when empty); others are skipped
            without decompressing them.

    Raises:
        CardError: not a PNG, a chunk longer than the file or than MAX_CHUNK_BYTES,
            or a text chunk that does not decompress (or decompresses too far).
    """
    if not data.startswith(PNG_SIGNATURE):
        raise CardError(f"{name}: not a PNG file (bad signature)")
    found: dict[str, bytes] = {}
    offset = len(PNG_SIGNATURE)
    count = 0
    while offset < len(data):
        if offset + 8 > len(data):
            raise CardError(f"{name}: PNG is truncated inside a chunk header at byte {offset}")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        count += 1
        if count > MAX_CHUNKS:
            raise CardError(f"{name}: PNG has more than {MAX_CHUNKS} chunks")
        if length > MAX_CHUNK_BYTES:
            raise CardError(
                f"{name}: PNG chunk {kind!r} at byte {offset} is larger than {MAX_CHUNK_BYTES} bytes"
            )
        end = offset + 8 + length
        if end + 4 > len(data):
            raise CardError(f"{name}: PNG is truncated inside chunk {kind!r} at byte {offset}")
        body = data[offset + 8 : end]
        if kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword = body.partition(b"\x00")[0].decode("latin-1")
            if (not keywords or keyword in keywords) and keyword not in found:
                parsed = _text_chunk(kind, body, name)
                if parsed is not None:
                    found[parsed[0]] = parsed[1]
        offset = end + 4  # skip the CRC: a bad CRC does not make the text unsafe to read
        if kind == b"IEND":
            break
    return found
