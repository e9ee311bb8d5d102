"""A stand-in plugin for the ``inbound_message`` hook, for the channels' tests: it records every message it is
offered and answers what ``answer(message)`` says (True: handled; None: let the channel handle it)."""
from portal import hookimpl


class InboundListener:
    def __init__(self, answer=lambda message: True):
        self.seen = []
        self.answer = answer

    @hookimpl
    def inbound_message(self, message):
        self.seen.append(message)
        return self.answer(message)
