"""The incoming-call notice looks up the calls ringing now: one index range on (state, started_at),
whatever the size of the call log (calls whose hangup never came stay "ringing" for ever)."""


def up(migrator, db):
    migrator.migrate(migrator.add_index('phone_call', ('state', 'started_at'), False))


def down(migrator, db):
    migrator.migrate(migrator.drop_index('phone_call', 'phone_call_state_started_at'))
