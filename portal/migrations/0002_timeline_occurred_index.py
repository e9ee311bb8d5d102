"""Index the timeline by time (with the channel, so "today per channel" reads only the index)."""


def up(migrator, db):
    migrator.migrate(migrator.add_index("timeline_entry", ("occurred_at", "channel"), False))
