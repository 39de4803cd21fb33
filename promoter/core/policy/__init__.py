"""Policy gates: rules that guard promotions into an environment.

- `settings`: the rules and their typed options, as promoter.yaml's
  `policies:` block configures them (`settings_reader` reads it), with
  `cron` (freeze windows) and `durations` (`30m`);
- `facts`: everything the rules may look at, gathered by adapters beforehand;
- `rules`: one pure function per rule, `(facts, options) -> [Result]` (the
  history rules are in `upstream`, approvals and freeze in `review`);
- `engine`: runs an environment's rules and decides the verdict (`result`
  holds the Result type);
- `report`: the Markdown table for the sticky comment, the status line, text.

Nothing here does I/O: adapters gather the facts, so every rule is testable
with plain data. `settings_reader` reads the block from promoter.yaml with
the config package's NodeReader.
"""
