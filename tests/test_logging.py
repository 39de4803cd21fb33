from __future__ import annotations

import io
import json
import logging

from promoter.cli.output import configure_logging, setup_logging
from promoter.core import masking


def test_json_log_lines_are_masked(monkeypatch) -> None:
    root = logging.getLogger("promoter")
    monkeypatch.setattr(root, "handlers", [])
    setup_logging()
    stream = io.StringIO()
    (handler,) = root.handlers
    monkeypatch.setattr(handler, "stream", stream)
    configure_logging("json", logging.INFO)
    masking.register("tok-logged-value-1")
    logging.getLogger("promoter.applier").info("applied with %s", "tok-logged-value-1")
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "info" and entry["logger"] == "promoter.applier"
    assert entry["message"] == "applied with ***"
    logging.getLogger("promoter.applier").debug("not shown at INFO")
    assert len(stream.getvalue().splitlines()) == 1


def test_text_log_lines_start_with_an_iso_timestamp(monkeypatch) -> None:
    import re

    root = logging.getLogger("promoter")
    monkeypatch.setattr(root, "handlers", [])
    setup_logging()
    stream = io.StringIO()
    (handler,) = root.handlers
    monkeypatch.setattr(handler, "stream", stream)
    configure_logging("text", logging.INFO)
    logging.getLogger("promoter.applier").info("dev: applied 3 of 3 objects")
    (line,) = stream.getvalue().splitlines()
    assert re.match(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} INFO promoter.applier: dev: applied", line
    ), line
