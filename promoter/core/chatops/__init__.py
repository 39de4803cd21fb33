"""What the PR bot reads and says, as pure functions (the bot itself is
`promoter.workflows.bot`; the webhook receiver `promoter.adapters.http`).

    events.py    payload dict → Event | Ignored; the bot's comment markers
    commands.py  comment body → Command
    replies.py   what the bot says (refusals, usage, results), masked
"""
