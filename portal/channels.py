"""Helpers for channel plugins: a plugin module calls ``declare_channel`` (and ``entry_template`` when its
entries have a part of their own to draw) and exposes the returned hook functions."""
from __future__ import annotations

import importlib
from pathlib import Path

from .hookspecs import hookimpl
from .templating import render_fragment


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


def entry_template(channel: str, template: str, when=None):
    """Return a ``render_timeline_entry`` hook implementation that draws the entries of ``channel`` with
    ``template`` (given ``entry`` and ``data``, the entry's data or ``{}``); ``when(entry)``, if given, picks the
    entries it draws (the others get the core's plain summary). The core draws the frame and the footer."""

    @hookimpl(specname="render_timeline_entry")
    def render_timeline_entry(entry, request):
        if entry.channel != channel or (when is not None and not when(entry)):
            return None
        return render_fragment(template, entry=entry, data=entry.data or {})

    return render_timeline_entry


def migrations_beside(module_file: str, namespace: str):
    """Return a ``register_migrations`` hook implementation for the ``migrations/`` folder beside the plugin's
    module (``migrations_beside(__file__, "visits")``), its history kept under ``namespace``."""
    folder = Path(module_file).parent / "migrations"

    @hookimpl(specname="register_migrations")
    def register_migrations():
        return [(namespace, folder)]

    return register_migrations


def blueprint_of(module: str, name: str = "bp"):
    """Return a ``register_blueprints`` hook implementation giving the blueprint ``name`` of ``module``
    (``blueprint_of(__name__ + ".views")``), imported when the app is built, not when the plugin is loaded."""

    @hookimpl(specname="register_blueprints")
    def register_blueprints(app):
        return getattr(importlib.import_module(module), name)

    return register_blueprints
