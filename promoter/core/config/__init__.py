"""promoter.yaml: where it is read, how it is checked, what it becomes.

- `loader`: find and read the file (through `cache` when warm) -> `Config`.
- `parser` and `service_entries`: the node graph -> the model, every problem
  reported at once as `file:line`; `reader` is the typed node access they
  (and `promoter.core.policy.settings_reader`) share.
- `model`: the frozen dataclasses commands use.
- `fields` and `templates`: what a valid value and a valid path/branch
  template look like.
- `cache`: validated configs of large files, keyed by their bytes.
"""
