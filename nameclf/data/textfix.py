"""Names that were mis-decoded (UTF-8 read as Latin-1: `vranÄ\\x8diÄ\\x87`) or hold control
characters: found for the load report, and repaired with ftfy when the user asks."""

import unicodedata

MAX_EXAMPLES = 3


def has_control(text: str) -> bool:
    """Whether `text` holds a C0 or C1 control character (tab and newline included)."""
    return not text.isprintable() and any(unicodedata.category(c) == "Cc" for c in text)


def looks_misdecoded(text: str) -> bool:
    """Whether `text` looks like mojibake, by ftfy's own test (ASCII never does)."""
    if text.isascii():
        return False
    from ftfy.badness import is_bad

    return is_bad(text)


def repair(text: str) -> str:
    """ftfy's repair, then any control characters left removed."""
    import ftfy

    fixed = ftfy.fix_text(text) if not text.isascii() or has_control(text) else text
    return "".join(c for c in fixed if unicodedata.category(c) != "Cc") if has_control(fixed) \
        else fixed
