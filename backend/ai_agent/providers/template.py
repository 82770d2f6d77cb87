"""The ``template`` provider: no AI and no network, the offline default.

It lays the creative's copy (headline from the ad details, else the advertiser) and the user's
prompt (as the new ad text) out in three standard ad sizes with HTML templates, rendered by the
worker's browser. The API labels its variants as templates, not AI (``is_ai`` False).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.template.loader import render_to_string

from ..models import Stage
from .base import GenerationHooks, GenerationRequest, GenerationResult, Render

# (label, width, height, layout): IAB medium rectangle, leaderboard, and the square social size.
TEMPLATE_SIZES = (
    ("1080x1080", 1080, 1080, "square"),
    ("300x250", 300, 250, "rectangle"),
    ("728x90", 728, 90, "leaderboard"),
)
# Background pairs picked by advertiser, so one advertiser's variants look alike.
PALETTES = (
    ("#1a73e8", "#0b3d91"),
    ("#d93025", "#7f1d1d"),
    ("#188038", "#0d4f22"),
    ("#9334e6", "#4a148c"),
    ("#e8710a", "#8a3b00"),
    ("#12b5cb", "#07545e"),
)


class TemplateProvider:
    name = "template"
    needs_screenshot = False

    def __init__(self, screenshots: Any = None) -> None:
        self._screenshots = screenshots

    def generate(self, request: GenerationRequest, hooks: GenerationHooks) -> GenerationResult:
        """Render the three sizes; the first (1080x1080) is the variant's main image.

        Raises:
            ai_agent.screenshots.ScreenshotError: the browser failed (transient for the task).
        """
        from ..screenshots import get_screenshot_service

        screenshots = self._screenshots or get_screenshot_service()
        snapshot = request.snapshot
        details = snapshot.get("details") or {}
        headline = (
            details.get("headline") or details.get("title") or snapshot.get("advertiser_name") or "Your ad"
        )
        key = snapshot.get("advertiser_id") or snapshot.get("ad_creative_id") or ""
        colour_a, colour_b = PALETTES[int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(PALETTES)]  # noqa: S324 - colour pick
        context = {
            "headline": headline,
            "text": request.prompt,
            "cta": details.get("call_to_action") or "Learn more",
            "link": details.get("visible_link") or snapshot.get("target_domain") or "",
            "colour_a": colour_a,
            "colour_b": colour_b,
        }
        hooks.progress(20, Stage.GENERATING)
        pages = [
            (
                render_to_string(
                    "ai_agent/template_ad.html",
                    {
                        **context,
                        "width": w,
                        "height": h,
                        "layout": layout,
                        "badge_px": 9 if h < 200 else 11 if w < 500 else 22,
                    },
                ),
                w,
                h,
            )
            for _, w, h, layout in TEMPLATE_SIZES
        ]
        shots = screenshots.render_html_many([(str(html), w, h) for html, w, h in pages])
        renders = [
            Render(label=label, png=shot.png, width=shot.width, height=shot.height)
            for (label, _, _, _), shot in zip(TEMPLATE_SIZES, shots, strict=True)
        ]
        return GenerationResult(
            headline=headline, text=request.prompt, renders=renders, meta={"template": "template_ad.html"}
        )
