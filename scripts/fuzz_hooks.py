"""schemathesis hooks for scripts/fuzz.sh.

- Strategies for the string formats openapi.yaml names beyond JSON Schema's own
  (`phone`, `currency`), so that generated valid data is valid to the server too.
- The check `no_state_change_on_4xx`: a request answered 4xx must leave the stored state as
  it found it. The state is a digest of the write side's tables in the dev server's
  SQLite database (`EVREG_FUZZ_DATABASE`), read before each call and after a 4xx.
"""

import hashlib
import os
import sqlite3

import schemathesis
from hypothesis import strategies as st

# Valid numbers of several numbering plans, in the notations people type.
schemathesis.openapi.format(
    "phone",
    st.sampled_from(
        [
            "+44 20 7946 0958",
            "+442079460958",
            "+1 (415) 555-2671",
            "+49 30 901820",
            "+33 1 42 68 53 00",
            "+81 3-3224-5000",
        ]
    ),
)
schemathesis.openapi.format(
    "currency", st.sampled_from(["EUR", "USD", "GBP", "JPY", "CHF", "KWD"])
)

# What only requests write. Left out, each for a reason: `login_failures` (a failed login
# is a 401 that is counted, by design), `refresh_tokens`/`refresh_families` (a replayed
# refresh token is a 401 that revokes its family, RFC 9700 §4.14.2), and what the
# background workers write after a request: `outbox`, `tickets`, `read_*`, `idempotency`.
TABLES = ("events", "registrations", "users", "password_resets")

_before = {}


def _digest() -> str:
    database = sqlite3.connect(f"file:{os.environ['EVREG_FUZZ_DATABASE']}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        for table in TABLES:
            for row in sorted(repr(row) for row in database.execute(f"SELECT * FROM {table}")):
                digest.update(row.encode())
        return digest.hexdigest()
    finally:
        database.close()


@schemathesis.hook
def before_call(context, case, kwargs):
    _before["digest"] = _digest()


@schemathesis.check
def no_state_change_on_4xx(ctx, response, case):
    """A 4xx answer changed nothing the request could have written."""
    if 400 <= response.status_code < 500 and _digest() != _before.get("digest"):
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code} "
            "but changed stored state"
        )
