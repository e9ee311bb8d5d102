"""Helpers for channel plugins that only declare themselves (the core's generic contact form logs
their contacts). A plugin module calls ``declare_channel`` and exposes the returned hook functions."""
from __future__ import annotations

from .hookspecs import hookimpl


def declare_channel(key: str, label_ar: str, label_en: str, icon: str, order: int = 100, manual: bool = True,
                    in_person: bool = False, route: int | None = None):
    """Return a ``channel_info`` hook implementation for a channel with these labels. ``in_person``: contacts
    on it are people received at the office (the officer's dashboard lists today's as walk-ins). ``route``: the
    channel's place in the notices' routing order (lower first; None: not routed)."""
    info = {"key": key, "label_ar": label_ar, "label_en": label_en, "icon": icon, "order": order, "manual": manual,
            "in_person": in_person}
    if route is not None:
        info["route"] = route

    @hookimpl(specname="channel_info")
    def channel_info():
        return dict(info)

    return channel_info
