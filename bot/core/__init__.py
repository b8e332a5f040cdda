"""The platform-neutral core: no discord, no slack_bolt here."""
