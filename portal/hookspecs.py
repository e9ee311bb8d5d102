"""The plugin contract. Every hook is called with keyword arguments only; an implementation may
accept any subset of them, so hooks grow by adding arguments, never by changing them."""
from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("portal")
hookimpl = HookimplMarker("portal")


@hookspec
def channel_info():
    """Describe the communication channel this plugin provides.

    :return: ``{"key": str, "label_ar": str, "label_en": str, "icon": str}`` or None when the plugin
        is not a channel. ``route`` (optional int) puts the channel in the notices' routing order
        (``portal.workflow.notices.route``: lower first, after the beneficiary's preferred channel); the
        channel's ``send_message`` is then asked with ``channel`` set to its key. ``key`` is what ``TimelineEntry.channel`` stores; ``icon`` is a short text
        symbol shown in badges; ``order`` (optional int) sorts the channel list; ``manual`` (optional
        bool, default True) says whether the core's generic contact form (on the beneficiary's page)
        offers the channel: a plugin with its own form or its own source of entries declares False.
        ``POST /api/v1/timeline`` accepts every enabled channel; ``validate_entry_data`` guards it.
    """


@hookspec
def register_blueprints(app):
    """Mount the plugin's screens and webhooks.

    :param app: the Flask application being built.
    :return: a Blueprint, a list of Blueprints, or None.
    """


@hookspec
def register_migrations():
    """Numbered migration folders of the plugin, applied after the core's by ``portal migrate``.

    :return: a list of ``(namespace, directory)`` pairs; each namespace keeps its own history table
        ``schema_migration_<namespace>``.
    """


@hookspec(firstresult=True)
def render_timeline_entry(entry, request):
    """Draw the channel's own part of one timeline entry. Implementations return None for entries of other
    channels. The core draws the frame (channel, direction, author, time) and the footer (request, follow-up,
    attachments) around it for every entry, so a renderer never repeats them.

    :param entry: the ``TimelineEntry`` (its ``actor`` and ``case`` already loaded).
    :param request: the current Flask request.
    :return: ``markupsafe.Markup`` with the channel's part of the entry, or None.
    """


@hookspec
def validate_entry_data(channel, data):
    """Check the ``data`` of a timeline entry that comes from outside the portal (``POST /api/v1/timeline``)
    before it is written. Every implementation is asked; each answers for the data its own renderer
    reads, so an entry it would draw can never break the page (the core also limits ``data`` to a JSON
    object of at most 16,000 characters).

    :param channel: the channel key of the new entry (a known channel).
    :param data: the ``data`` object as received (a dict, strings already free of control characters).
    :return: a list of messages (in the request's language) saying what is wrong; an empty list or None
        when the data is acceptable or not this plugin's concern.
    """


@hookspec
def menu_links(user, request):
    """Navigation entries for the signed-in user.

    :param user: the current ``User``.
    :param request: the current Flask request.
    :return: a list of ``{"href": str, "label": str, "active": bool}``.
    """


@hookspec
def timeline_entry_created(entry):
    """Called inside the transaction that wrote a new timeline entry.

    :param entry: the new ``TimelineEntry``.
    """


@hookspec
def timeline_entries_created(entries):
    """Called once, inside the transaction of a bulk write (``portal.timeline.create_entries``: a call
    record import, demo data), with every entry it wrote. ``timeline_entry_created`` is not called for
    them one by one.

    :param entries: a list of the new ``TimelineEntry`` objects (ids set; ``actor`` and ``case`` not loaded).
    """


@hookspec
def timeline_entry_updated(entry, changes):
    """Called inside the transaction that changed a timeline entry (``portal.timeline.update_entry``,
    or once per entry for ``update_entries``, e.g. when calls are linked to a file or an erasure
    blanks the text).

    :param entry: the ``TimelineEntry`` after the change.
    :param changes: a dict ``{field name: new value}`` of what was changed.
    """


@hookspec
def case_status_changed(case, old, new, actor):
    """Called inside the transaction of every case transition (letters, notifications, surveys).

    :param case: the ``Case`` after the change.
    :param old: the previous status.
    :param new: the new status.
    :param actor: the ``User`` who made the change, or None for the system.
    """


@hookspec(firstresult=True)
def send_message(beneficiary, text, purpose, channel, context):
    """Deliver a message to a beneficiary. The first plugin able to send returns a delivery id.

    :param beneficiary: the ``Beneficiary``.
    :param text: the message text (Arabic, already rendered).
    :param purpose: a machine key such as ``"case_reference"``, ``"missing_documents"``,
        ``"decision"`` or ``"one_time_code"`` (template senders choose their template by it).
    :param channel: the channel asked to send (the notices' routing asks each routed channel in turn:
        answer only when it is yours), or None to let plugins decide.
    :param context: a dict of extra values (reference, dates, ...).
    :return: ``{"channel": str, "id": str}`` when a transport accepted the message, or None when this
        plugin cannot send. A plugin that hands the message to a background job adds
        ``"state": "queued"``: the message is then recorded as waiting, never as sent, and the plugin
        shows its delivery state on the timeline entry as it changes.
    """


@hookspec
def notice_context(case, purpose):
    """Extra placeholders for the notice a request's status change sends (``portal.workflow.notices``),
    e.g. a rating link on the "served" notice (purpose ``"service"``).

    :param case: the ``Case`` the notice is about (after the change), or None when the admin's notice
        editor asks which placeholders exist (answer with the names; the values may be empty).
    :param purpose: the notice's purpose (``"case_reference"``, ``"missing_documents"``, ``"decision"``,
        ``"service"``...).
    :return: a dict ``{placeholder name: value}`` (names of lower-case letters and ``_``; a value ending
        in ``_link`` or ``_date`` is isolated for right-to-left text), or None. A line of the text whose
        placeholder has no value is left out of the message.
    """


@hookspec
def dashboard_widgets(user, request):
    """Extra panels on the dashboard.

    :param user: the current ``User``.
    :param request: the current Flask request.
    :return: a list of ``markupsafe.Markup`` fragments (each a ``<section>``).
    """


@hookspec
def page_notices(user, request):
    """Notices for the signed-in user on every staff page: an incoming call, a "new message" badge, a
    banner about planned maintenance.

    The core's layout (``templates/base.html``) draws them in one region at the start of ``<main>``, shown
    as a stack in the inline-end bottom corner, on every full page it renders for a signed-in user. It is
    not called for the sign-in page, the public website (which has its own layout) or htmx fragments.
    Boosted navigation renders the whole page again, so a fragment that polls starts afresh on each page.

    :param user: the current ``User``.
    :param request: the current Flask request (``request.endpoint`` tells which page is being drawn, so a
        plugin can leave out a notice that page already shows).
    :return: a list of ``markupsafe.Markup`` fragments (plain strings are escaped), or None. A fragment
        that changes in place carries its own ``id`` and ``aria-live``; the class ``notice-card`` gives it
        the core's card look.
    """


@hookspec
def beneficiary_actions(beneficiary, user):
    """Actions and panels a plugin adds to a beneficiary's file page (``/beneficiaries/<id>``).

    :param beneficiary: the ``Beneficiary`` shown.
    :param user: the signed-in ``User`` (answer only with what this user may do).
    :return: a list of dicts, or None. Each dict is one of:

        - an action: ``{"label": str, "href": str}``, drawn as a button in the page's action bar, with
          optional ``"order"`` (int, default 100), ``"disabled"`` (a reason, str: the button is drawn
          disabled with the reason beside it) and ``"boost"`` (False for a download);
        - a panel: ``{"panel": Markup}``, a whole ``<section class="panel">`` drawn in the file's side
          column (a form, a list), with optional ``"order"``.
    """


@hookspec
def case_actions(case, user):
    """Actions and panels a plugin adds to a request's page (``/cases/<id>``).

    :param case: the ``Case`` shown (``case.beneficiary`` is loaded).
    :param user: the signed-in ``User``.
    :return: the same shape as ``beneficiary_actions``: action dicts drawn in the request's action bar
        and ``{"panel": Markup}`` sections drawn after the request's own panels.
    """


@hookspec
def register_commands(cli):
    """Add click commands to the ``portal`` command line.

    :param cli: the ``portal`` click group; add commands or sub-groups to it.
    """


@hookspec
def openapi_paths():
    """OpenAPI 3.1 path items for the plugin's routes under ``/api/v1`` (merged into ``openapi.json``).

    :return: a dict ``{"/path/{param}": {"get": {...}, "post": {...}}}`` with paths relative to
        ``/api/v1``, or None.
    """


@hookspec(firstresult=True)
def case_document(case, kind, actor):
    """A PDF document about a request, for download: the first plugin that can make it answers.

    :param case: the ``Case``.
    :param kind: which document: ``"acknowledgement"`` (receipt of the request with the expected reply
        date; made on demand when the request has none yet), or a letter purpose such as
        ``"missing_documents"``, ``"decision_approved"``, ``"decision_rejected"`` (only an already issued
        document is returned for those).
    :param actor: the signed-in ``User`` asking, or None for the public site (the applicant).
    :return: ``{"filename": str, "pdf": bytes, "number": str}`` — ``number`` is the registry number
        printed on the document — or None when this plugin cannot make it (the caller then offers its own
        printable page).
    """


@hookspec
def beneficiary_data(beneficiary):
    """Everything this plugin holds about one beneficiary, for the data-protection export (PDPL): the
    core puts it in the export ZIP as ``plugins/<name>.json`` and the files under ``files/<name>/``.

    Called by ``portal.privacy.export_zip`` inside a request of a user given the ``privacy.export`` right.

    :param beneficiary: the ``Beneficiary``.
    :return: ``{"name": str, "data": <JSON-able value>, "files": [{"name": str, "content": bytes}, ...]}``
        — ``name`` a short machine key (the plugin's, e.g. ``"letters"``), ``data`` dicts/lists/strings/
        numbers (dates and decimals become strings), ``files`` the documents themselves (``name`` a file
        name, without folders) — or None when the plugin holds nothing about this person.
    """


@hookspec
def anonymise_beneficiary(beneficiary, retain_until, actor):
    """Erase (anonymise) what this plugin holds about one beneficiary: remove identifying data (names,
    ID numbers, phone numbers, addresses, free text) and keep what the law requires (registry numbers,
    dates, decisions, amounts). Called by ``portal.privacy.erase`` inside the erasure's one transaction:
    raising aborts the whole erasure and nothing is written.

    :param beneficiary: the ``Beneficiary`` (still holding its identifying fields when the hook runs).
    :param retain_until: a ``datetime.date``: files the law requires to keep (a decision's evidence) stay
        until then; None when nothing has to be retained.
    :param actor: the ``User`` doing the erasure.
    :return: ``{"name": str, "anonymised": int, "kept": [str, ...], "delete_files": [sha256, ...]}`` or
        None: ``anonymised`` how many rows were changed, ``kept`` short notes of what was retained (e.g.
        letter numbers), ``delete_files`` the content addresses (``portal.uploads``) no row of the plugin
        refers to any more; the core deletes them after the transaction commits, unless a core row still
        refers to them.
    """


@hookspec
def plugin_settings():
    """The plugin's ``PORTAL_<NAME>`` settings. The core collects them when the app starts: it fills each
    default into ``app.config``, checks each value given (environment, ``instance/config.py``, test config)
    against its type and refuses to start with a message naming the setting when one is wrong, and shows
    them on the admin's plugins page (secrets only as "set" / "not set").

    :return: a list of dicts (``portal.settings.setting(...)`` builds one): ``name`` (without ``PORTAL_``,
        upper case, namespaced by the plugin: ``PHONE_CTI_TOKEN``), ``default`` (None: optional, not set),
        ``description`` (an English lazy gettext, ``_l``, translated in the plugin's catalog), ``type``
        (``"str"``, ``"int"``, ``"float"``, ``"bool"``, ``"choice"``, ``"list"`` or ``"json"``), and optional
        ``secret`` (bool), ``choices`` (for ``choice`` and ``list``), ``unit`` (e.g. ``"seconds"``) and
        ``min``; or None.
    """


@hookspec(firstresult=True)
def inbound_message(message):
    """A person wrote to the association on a channel (a WhatsApp message, an SMS): the first plugin that
    takes care of it answers True. Called by the channel plugin after it stored the message on the timeline,
    outside its transaction; a delivery repeated by the transport is not offered again.

    :param message: a ``portal.messaging.InboundMessage`` (channel key, sender's E.164 number, text,
        interactive ``reply_id``, the matching ``beneficiary_ids``, the timeline ``entry``, ``provider_id``).
    :return: True when this plugin handled the message (the channel then skips its default handling, e.g.
        the unmatched-sender inbox); ``portal.messaging.PRIVATE`` when it handled it and the words belong to a
        confidential record (a survey's score or comment: the channel then keeps no trace of the words, see
        ``portal.messaging.keep_private``); or None to let the next plugin (and then the channel) handle it.
    """


@hookspec
def service_finished(beneficiary, kind, channel, case, staff, source):
    """A service to a beneficiary has finished: an answered inquiry or complaint, a finished call or interview,
    a resolved conversation (requests that are served, closed or rejected are reported by
    ``case_status_changed``). The core offers a satisfaction survey about it (at most one a beneficiary per
    ``PORTAL_SATISFACTION_INTERVAL_DAYS``, never to one who opted out, sent only with contact consent). Call it
    inside the transaction that finished the service.

    :param beneficiary: the ``Beneficiary`` served (or None: nothing is done).
    :param kind: what finished: ``"inquiry"``, ``"complaint"``, ``"call"``, ``"meeting"`` (an interview) or
        ``"conversation"``.
    :param channel: the channel key the service was given on.
    :param case: the ``Case`` it was about, or None.
    :param staff: the ``User`` who gave the service, or None.
    :param source: a stable key of what finished, unique across plugins (e.g. ``"phone:call:17"``): a second
        call with the same key makes no second survey.
    """


@hookspec
def document_extras(beneficiary, case, purpose):
    """Extra values a printed document about a beneficiary or a request may show, such as the satisfaction
    survey's address printed as a QR code on the service receipt and the decision letter.

    :param beneficiary: the ``Beneficiary`` the document is for, or None.
    :param case: the ``Case`` it is about, or None.
    :param purpose: the document's purpose (a letter purpose such as ``"service_delivery"``).
    :return: a dict (``{"survey_url": str}`` from the core's surveys) or None.
    """


@hookspec
def complaint_updated(complaint, change):
    """An entry of the complaints register (``portal.complaints``) changed: it was linked to a file or a
    request, assigned, answered or closed. A plugin that opened the entry (``complaint.source`` is its own)
    mirrors the change in its records (the website's inquiry tracking shows the answer given in the register).
    Called inside the change's transaction: raising aborts the change.

    :param complaint: the ``Complaint`` as it is after the change.
    :param change: ``"linked"``, ``"assigned"``, ``"answered"`` or ``"closed"``.
    :return: None.
    """


@hookspec(firstresult=True)
def self_service_booking(beneficiary, channel):
    """A beneficiary asked, on a self-service channel (WhatsApp, SMS), to visit the office: an appointments
    plugin books a slot or offers its free slots.

    :param beneficiary: the ``Beneficiary`` (the one file the sender's number matches).
    :param channel: the key of the channel the request came on.
    :return: ``{"text": str}`` — the answer to send back (in the current locale; references and dates
        isolated), e.g. the appointment booked — or None when no plugin books visits: the self-service menu
        then records a call-back request for an officer.
    """


@hookspec(firstresult=True)
def self_service_link(beneficiary, purpose, issue):
    """A one-time web address for a beneficiary who asked for it on a self-service channel.

    :param beneficiary: the ``Beneficiary`` (the one file the sender's number matches).
    :param purpose: ``"apply"`` (start a support request: the website's apply form, pre-filled with the file)
        or ``"rating"`` (rate the last service received).
    :param issue: False to ask only whether a link could be given (nothing is written: the menu decides which
        choices to offer); True to issue one.
    :return: ``{"url": str, "expires_at": datetime | None}`` (``url`` is ``""`` when ``issue`` is False), or
        None when this plugin gives no link for this purpose and beneficiary.
    """


@hookspec
def report_sections(start, end, branch, user):
    """Sections a feature adds to the managers' reports (``/reports/``) and to the monthly report PDF.

    :param start: the first Saudi day of the period (``datetime.date``), included.
    :param end: the last Saudi day of the period, included.
    :param branch: a ``Branch`` id the figures must be limited to (a delegate's report), or None for all
        branches.
    :param user: the ``User`` reading the report (None when the worker makes the monthly PDF).
    :return: a list of ``portal.reports.Section`` (each with ``Figure`` headline numbers and ``Table`` rows and
        an optional chart from ``portal.reports.chart_for``), or None. Every figure comes from aggregate
        queries; each table can be downloaded as CSV and XLSX by its ``key`` (unique across the report).
    """


@hookspec
def volunteer_signed_up(data):
    """Someone offered to volunteer on a public form (the website's sign-up), which was just stored: a
    volunteering plugin adds them to its registry (pending vetting). Called inside the form's transaction.

    :param data: a dict ``{"id": int, "name": str, "mobile": str (E.164), "email": str, "city": str,
        "skills": str (free text), "availability": str ("weekdays", "weekends", "evenings", "ramadan" or
        "any"), "notes": str}`` — ``id`` is the sign-up's own id (the same sign-up is never added twice).
    :return: None.
    """


@hookspec(firstresult=True)
def volunteer_document(volunteer, hours, actor):
    """A numbered volunteering certificate as a PDF: the first plugin that can make it answers (the letters
    plugin issues an outgoing letter with its registry number).

    :param volunteer: a dict ``{"id": int, "name": str, "national_id": str, "mobile": str}``.
    :param hours: a dict ``{"total": str (approved hours, e.g. "12.5"), "first_day": date, "last_day": date,
        "tasks": [str], "key": str}`` — ``key`` names the certificate: asked again with the same key, the
        plugin gives back the document it made the first time (same number), never a second one.
    :param actor: the signed-in ``User`` asking, or None.
    :return: ``{"filename": str, "pdf": bytes, "number": str}``, or None when this plugin cannot make it (the
        caller then numbers the certificate itself and offers its own printable page).
    """


@hookspec
def demo_data(seed):
    """``portal demo`` has just built the core's demonstration data (a user of every role, files, requests,
    timeline entries): add the plugin's own, so that its screens are not empty on a demo installation (slots
    and appointments, volunteers and their hours, a delegate's route...). Called once per run, in the command's
    database connection; a plugin whose data is already there adds nothing.

    :param seed: the run's random seed (the same seed gives the same data).
    :return: a dict ``{what: count}`` that the command prints under the plugin's name, or None.
    """
