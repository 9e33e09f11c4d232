"""What librdkafka's debug log says, for the Python drivers of the conformance tests.

librdkafka (through confluent-kafka-python) hands its debug lines to a Python logger; a driver
that wants to know which requests it sent, at which version or to which broker, attaches a
`Matches` handler and reads the numbers its pattern caught.
"""
import json
import logging
import re
import sys


class Matches(logging.Handler):
    """Collects the integer that `pattern`'s first group catches in each log line: the distinct
    ones in `found`, every one in log order in `seen`."""

    def __init__(self, pattern):
        super().__init__()
        self.pattern = re.compile(pattern)
        self.found = set()
        self.seen = []

    def emit(self, record):
        m = self.pattern.search(record.getMessage())
        if m:
            self.found.add(int(m.group(1)))
            self.seen.append(int(m.group(1)))


def debug_logger(*handlers):
    """The logger to pass to a librdkafka client (with "debug" set), feeding `handlers`."""
    logger = logging.getLogger("librdkafka")
    logger.setLevel(logging.DEBUG)
    for handler in handlers:
        logger.addHandler(handler)
    return logger


def run_driver(main):
    """Runs `main`; an exception becomes the last line of JSON the harness reads, and exit code 1."""
    try:
        main()
    except Exception as e:
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
