"""Recruiting on top of the core: position records, listing them, and research-fit matching.

Platform-neutral: it uses bot.core and returns neutral `Answer`s; adapters only render them.
"""
