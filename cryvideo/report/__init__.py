"""Reports: self-contained HTML pages of a prediction."""

from .html import render_html, write_html_report

__all__ = ["render_html", "write_html_report"]
