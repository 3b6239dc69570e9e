"""Engines answer a phase: `offline` (deterministic), `claude` (Anthropic tool loop), `scripted` (replay)."""
