"""The pull-based applier behind `promoter agent`.

The modules here are pure (plain data in, plain data out, no kubernetes
client, no I/O) so every rule is unit-testable:

- `order`     which objects go first (CRDs, Namespaces, kinds, waves)
- `inventory` what we applied, and how it is stored in a ConfigMap
- `prune`     what may be deleted, and the empty-render guard
- `health`    kstatus-style readiness of live objects
- `drift`     drift paths, desired hashes, and the cheap no-change round

The kube client wrapper and the loop sit on top and do the talking.
"""
