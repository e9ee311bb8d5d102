"""A plugin's small form on the beneficiary's file (a panel from ``beneficiary_actions``) and its post's two
endings, so a channel writes none of it again: the panel drawn for the roles it serves, a refusal that shows the
file again (422) with the panel keeping what was typed and the messages beside the fields, a success that says
so and goes back to the file's timeline.

    @hookimpl
    def beneficiary_actions(beneficiary, user):
        return beneficiary_panel("visits/_form.html", beneficiary, user, roles=ROLES)

    # in the view, after its checks
    if errors:
        return refuse_panel(ben, "visits/_form.html", errors)
    ...
    return panel_done(ben, _("The visit was recorded."))

The panel's template gets ``beneficiary``, ``form`` (the values typed, empty on a fresh page) and ``errors``
(field name -> message); only the refused panel gets the typed values, the file's other panels are drawn fresh.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from markupsafe import Markup


def beneficiary_panel(template: str, beneficiary, user, *, roles=None, order: int = 100, **context):
    """A ``beneficiary_actions`` answer: ``template`` drawn as a panel of the file, or None for a user without
    one of ``roles`` (None: every user the file is shown to). The view must check the roles again."""
    if roles is not None and not user.has_role(*roles):
        return None
    refused = g.get("refused_panel")
    typed, errors = (refused[1], refused[2]) if refused and refused[0] == template else ({}, {})
    html = render_template(template, beneficiary=beneficiary, form=typed, errors=errors, **context)
    return [{"panel": Markup(html), "order": order}]  # nosec B704 # the output of an autoescaped template


def refuse_panel(beneficiary, template: str, errors: dict):
    """A refused post of the panel ``template``: the beneficiary's file again with status 422, that panel
    keeping what was typed (``request.form``) and showing ``errors``."""
    from .beneficiaries import profile_context
    from .templating import render

    g.refused_panel = (template, request.form.to_dict(), {k: str(v) for k, v in errors.items()})
    return render("beneficiaries/profile.html", **profile_context(beneficiary)), 422


def panel_done(beneficiary, message: str):
    """After the panel's change is written: ``message`` shown, back to the file's timeline (post/redirect/get)."""
    flash(message, "success")
    return redirect(url_for("beneficiaries.profile", ben_id=beneficiary.id) + "#timeline")
