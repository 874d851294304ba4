"""The AWS twin: moto plus the behaviours of real AWS that moto lacks."""

from moto.core import DEFAULT_ACCOUNT_ID

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
PARTITION = "aws"
