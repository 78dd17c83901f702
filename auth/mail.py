"""Sign-in mail: SMTP when SMTP_URL is set; in development without it, the log and the outbox table.

Mail bodies hold one-time codes, so they are never logged in production.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from auth.tables import OutboxMail
from core.settings import Settings

logger = logging.getLogger("helpdesk.mail")
SMTP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    body: str


def send_smtp(url: str, sender: str, mail: Mail) -> None:
    """Blocking send. `smtp://` plain, `smtp+starttls://` upgraded, `smtps://` TLS from the start."""
    parts = urlsplit(url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    client_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    default_port = 465 if parts.scheme == "smtps" else 25
    with client_class(
        parts.hostname or "localhost", parts.port or default_port, timeout=SMTP_TIMEOUT_SECONDS
    ) as smtp:
        if parts.scheme == "smtp+starttls":
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def deliver(self, mail: Mail) -> None:
        """Never raises: it runs after the response, and a failure must not leak the code."""
        auth = self.settings.auth
        try:
            if auth.smtp_url:
                await asyncio.to_thread(send_smtp, auth.smtp_url, auth.mail_from, mail)
            elif not self.settings.is_production:
                logger.info(
                    "Mail to %s (not sent: SMTP_URL is unset)\n%s\n\n%s", mail.to, mail.subject, mail.body
                )
                await OutboxMail.insert(OutboxMail(recipient=mail.to, subject=mail.subject, body=mail.body))
            else:
                logger.error("SMTP_URL is not set: a sign-in mail could not be sent")
        except Exception as error:
            logger.error("Sign-in mail could not be sent: %s", type(error).__name__)
