"""cinegen: Sora-style text-to-video (see DESIGN.md in the docs)."""

__version__ = "0.1.0"
