"""The rules of the pull-based applier behind `promoter agent`.

The modules here are pure (plain data in, plain data out, no kubernetes
client, no I/O) so every rule is unit-testable:

- `keys`      inventory keys and the kinds the rules single out
- `order`     which objects go first (CRDs, Namespaces, kinds, waves)
- `prepare`   namespace defaults, the owner label, desired hashes
- `inventory` what we applied, and how it is stored in a ConfigMap
- `prune`     what may be deleted, and the empty-render guard
- `health`    kstatus-style readiness of live objects
- `drift`     drift paths, desired hashes, and the cheap no-change round
- `result`    what one round did; `errors` what stops one

`promoter.adapters.kube` does the talking; `promoter.workflows.apply_round`
(one round) and `promoter.workflows.agent` (the poll loop) sit on top.
"""
