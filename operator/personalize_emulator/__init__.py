"""A small Amazon Personalize stand-in that speaks AWS's own wire protocol.

boto3 reaches it through the standard endpoint variables
(AWS_ENDPOINT_URL_PERSONALIZE, AWS_ENDPOINT_URL_PERSONALIZE_EVENTS), so the
operator under test runs the exact code path it runs against AWS.
"""

from personalize_emulator.admin_client import EmulatorAdmin
from personalize_emulator.config import EmulatorConfig

__all__ = ["EmulatorAdmin", "EmulatorConfig"]
