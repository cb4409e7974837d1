"""Wraps a connector command and logs which protocol command each call ran: `COUNT_CALLS_LOG=FILE count_calls.py CMD…`.

The log is named by an environment variable, not an argument: files named in the command are part of the
connector's cache identity, and a growing log would make every call look like a new connector."""

import os
import sys

command = sys.argv[1:]
protocol_command = next((arg for arg in command[1:] if arg in {"spec", "check", "discover", "read"}), "?")
with open(os.environ["COUNT_CALLS_LOG"], "a") as handle:
    handle.write(protocol_command + "\n")
os.execvp(command[0], command)
