"""Recruitment assistant bot: grounded answers about the lab, for Discord, Slack and the console."""

__version__ = "0.1.0"
