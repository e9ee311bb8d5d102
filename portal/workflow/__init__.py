"""The support-request workflow (the policy's seven steps), part of the core.

- ``models``     request types, declarations, research, committee, enrolment, deliveries, library, outreach
- ``machine``    the state machine: ``transition()`` is the only writer of ``Case.status``
- ``intake``     steps 1-2 and 4: open a request, the documents checklist, the declaration, submit
- ``notify``     messages to beneficiaries through ``send_message``, recorded on the timeline
- ``notices``    a notice on every status change (editable texts), and every message's delivery: once per key,
                 contact consent, quiet hours, the daily cap, routing by the channels' ``route`` rank
- ``hooks``      the workflow's own hook implementations (registered like ``portal.default_hooks``)
"""
