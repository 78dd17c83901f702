"""Rows every installation starts with."""

from tickets.tables import Category

DEFAULT_CATEGORIES = ("billing", "technical", "general")


async def seed_categories() -> None:
    """Idempotent, also when several processes start at once: the unique name decides."""
    await Category.insert(*(Category(name=name) for name in DEFAULT_CATEGORIES)).on_conflict(
        target=Category.name, action="DO NOTHING"
    )
