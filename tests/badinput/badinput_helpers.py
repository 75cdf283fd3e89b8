"""What every bad-input case checks, and the suite's tally (printed at the end of the run)."""

import hashlib
import os

STATS = {"cases": 0, "clear": 0, "valid": 0, "tracebacks": 0, "hangs": 0, "accepted": 0, "connections": 0}


class Answer(dict):
    """A module's JSON answer, with what it wrote around it."""

    raw = ""
    connections = ()
    warnings_text = ""


def fingerprint(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        return (hashlib.sha256(f.read()).hexdigest(), st.st_mtime_ns, st.st_size)


def assert_clear_failure(answer, *words):
    """The task failed with one clear line naming `words`, no traceback, no connection made."""
    STATS["cases"] += 1
    msg = answer.get("msg", "")
    if "Traceback" in answer.raw or "exception" in answer or "Traceback" in msg:
        STATS["tracebacks"] += 1
    if not answer.get("failed"):
        STATS["accepted"] += 1
    if answer.connections:
        STATS["connections"] += 1
    assert answer.get("failed") is True, "accepted: %r" % (dict(answer),)
    assert "Traceback" not in answer.raw and "exception" not in answer, answer.raw
    assert not answer.connections, "connected before refusing: %r (%s)" % (answer.connections, msg)
    for word in words:
        assert word in msg, "%r not in %r" % (word, msg)
    STATS["clear"] += 1
    return msg


def count_error(err, *words):
    """The same bookkeeping for an in-process error (a DiskFormatError, a SourceError)."""
    STATS["cases"] += 1
    text = str(err)
    for word in words:
        assert word in text, "%r not in %r" % (word, text)
    assert "\n" not in text and "Traceback" not in text
    STATS["clear"] += 1
    return text


def count_valid():
    """A generated input that still describes a valid image (its map checked by the caller): tried, rightly accepted."""
    STATS["cases"] += 1
    STATS["valid"] += 1
