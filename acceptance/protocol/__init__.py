"""The Airbyte protocol as data: messages, catalogs, states, records, cursors, formats, JSON-schema helpers and the
native record validator."""
