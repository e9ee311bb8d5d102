"""Fonts from PyPI packages, served by the app, and the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

import fontpkg
from flask import Blueprint, abort, redirect, request, send_file, url_for

from . import LANGUAGES

bp = Blueprint("assets", __name__)

FONTS = {
    "plex-arabic-400": ("ibm-plex-sans-arabic", 400),
    "plex-arabic-600": ("ibm-plex-sans-arabic", 600),
    "plex-arabic-700": ("ibm-plex-sans-arabic", 700),
    "amiri-400": ("amiri", 400),
    "amiri-700": ("amiri", 700),
}


def font_path(key: str):
    family, weight = FONTS[key]
    return fontpkg.path(family, weight)


@bp.get("/fonts/<key>.ttf")
def font(key):
    if key not in FONTS:
        abort(404)
    response = send_file(font_path(key), mimetype="font/ttf", max_age=31536000)
    return response


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "ar")
    if lang not in LANGUAGES:
        lang = "ar"
    target = request.form.get("next") or request.referrer or ""
    parts = urlsplit(target)
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else url_for("dashboard.index")
    if parts.query:
        path += "?" + parts.query
    response = redirect(path)
    response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
