"""Agent-based model of how Peer Worker roles take hold, or get diluted, in mental health teams."""

__version__ = "0.1.0"
