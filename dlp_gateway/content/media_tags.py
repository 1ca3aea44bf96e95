"""Audio and video files: the text of their tags (ID3, MP4 atoms, Vorbis comments, APE).

The sound or picture itself holds no text to inspect, but players and file managers show
the title, artist, album, comment and lyrics, so a banner can travel there. They are read
with `mutagen` as one `… › metadata` segment (each value on its own line); cover art is
read like any embedded picture (`… › cover art`). The file is still recorded by its true
type (`file.unread_type`) so the policy can act on audio/video as before.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from dlp_gateway.content.walk import join

if TYPE_CHECKING:
    from dlp_gateway.content.walk import Reader

MAX_TAG_CHARS = 64 * 1024  # per file: tags are short; lyrics longer than this are cut (noted)
MAX_PICTURES = 4  # cover pictures read per file


def read_media(reader: Reader, data: bytes, location: str, depth: int, **_: object) -> None:
    """Read the tags, then everything walk.py does for a binary without a text reader."""
    from dlp_gateway.content import filetype
    from dlp_gateway.content.archives import read_appended_zip

    true_type = filetype.true_type(data[:1024 * 1024])
    values, pictures = _tags(data)
    text = "\n".join(dict.fromkeys(v.strip() for v in values if v.strip()))
    if len(text) > MAX_TAG_CHARS:
        reader.note(location, f"tags longer than {MAX_TAG_CHARS} characters; the rest not read")
        text = text[:MAX_TAG_CHARS]
    reader.segment(text, join(location, "metadata"), location, "metadata")
    for n, picture in enumerate(pictures[:MAX_PICTURES], start=1):
        where = reader.unique_location(join(location, "cover art" if n == 1 else f"cover art {n}"))
        reader.read_file(picture, where, filename=None, declared_type=None, depth=depth + 1)
    reader.fact("file.unread_type", true_type, location, location)
    if text or pictures:
        reader.note(location, f"{true_type}: tags read; the sound or picture itself holds no text to inspect")
    else:
        reader.note(location, f"{true_type}: no text reader for this type; kept by its type for the policy")
    read_appended_zip(reader, data, location, depth)


def _tags(data: bytes) -> tuple[list[str], list[bytes]]:
    """Text values and embedded pictures of every tag mutagen finds; nothing on failure
    (a damaged or unknown container has no readable tags, which is not a hold)."""
    try:
        import mutagen

        media: Any = mutagen.File(io.BytesIO(data))
    except Exception:
        return [], []
    if media is None or not getattr(media, "tags", None):
        return [], []
    values: list[str] = []
    pictures: list[bytes] = []
    tags = media.tags
    items = tags.values() if hasattr(tags, "values") and not isinstance(tags, list) else [v for _, v in tags]
    for item in items:
        picture = getattr(item, "data", None)
        if isinstance(picture, bytes) and getattr(item, "FrameID", "") in ("APIC", "PIC"):
            pictures.append(picture)
            continue
        if isinstance(item, list) and any(isinstance(v, bytes) for v in item):  # MP4 cover art
            pictures.extend(bytes(v) for v in item if isinstance(v, bytes))
            continue
        values.extend(_texts(item))
    for picture in getattr(media, "pictures", []) or []:  # FLAC picture blocks
        pictures.append(picture.data)
    return values, pictures


def _texts(item: Any) -> list[str]:
    if isinstance(item, str):
        return [item]
    if isinstance(item, (list, tuple)):
        return [t for v in item for t in _texts(v)]
    if hasattr(item, "text"):  # ID3 text frames (TIT2, COMM, TXXX, USLT...)
        text = item.text
        return [str(t) for t in (text if isinstance(text, list) else [text])]
    if isinstance(item, bytes):  # MP4 cover art (MP4Cover is bytes) and freeform atoms: no text
        return []
    if isinstance(item, (int, float)):  # track numbers, tempo: no text
        return []
    return [str(item)] if str(item) else []
