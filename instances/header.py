"""The header every exactprune instance file carries: format name and version."""

FORMAT = "exactprune.instance"
VERSION = 1
