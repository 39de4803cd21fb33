"""Notifications: what happened (a `Notice`), to whom (the targets of
promoter.yaml's `notifications:`), and not twice (`Suppressor`). Pure: the
sending is adapters/notify.py's, through Apprise."""
