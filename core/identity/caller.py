"""What the endpoints know about who is calling: a role and an e-mail, however it was proven."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
EMAIL_MAX_LENGTH = 254
_EMAIL_RE = re.compile(EMAIL_PATTERN)


class Role(StrEnum):
    customer = "customer"
    admin = "admin"


@dataclass(frozen=True, slots=True)
class Caller:
    role: Role
    email: str


def is_email(value: str) -> bool:
    return len(value) <= EMAIL_MAX_LENGTH and _EMAIL_RE.match(value) is not None
