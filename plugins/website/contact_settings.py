"""Admin screen: the contact details shown in the footer of every public page (``site_contact``)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth import roles_required
from portal.templating import render

from . import site_contact
from .views import bp


@bp.route("/website/contact-details", methods=["GET", "POST"])
@roles_required("admin")
def contact_settings():
    form, errors = dict(site_contact.current()), {}
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in site_contact.FIELDS}
        values, errors = site_contact.validate(form)
        if not errors:
            site_contact.save(values, current_user._get_current_object())
            flash(_("The contact details were saved."), "success")
            return redirect(url_for("website.contact_settings"))
    return render("website/contact_settings.html", form=form, errors=errors), (422 if errors else 200)


# The public layout's footer reads the details (one query a request, cached on ``g``).
bp.add_app_template_global(site_contact.current, "site_contact")
bp.add_app_template_filter(site_contact.tel_href, "tel_href")
