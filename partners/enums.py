"""Value sets of the partners area."""

from enum import StrEnum


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivering = "delivering"
    delivered = "delivered"
    failed = "failed"


class WebhookEvent(StrEnum):
    status_changed = "ticket.status_changed"
    commented = "ticket.commented"
    assigned = "ticket.assigned"


class IdempotencyState(StrEnum):
    in_flight = "in_flight"
    done = "done"
