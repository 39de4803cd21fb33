"""The PR bot: forge events in (a GitHub Actions event file or a webhook
delivery), commands parsed from comments, a permission check, and the
promotion engine's answers out (reactions, replies, statuses, PRs).

    events.py    payload dict → Event | Ignored (pure)
    commands.py  comment body → Command (pure)
    replies.py   what the bot says
    handle.py    Event + Forge → BotResult (permission first)
    runner.py    an Event wired to a real forge and workspace
    server.py    the webhook receiver behind `promoter serve`
"""
