"""Where promoter touches the world, each behind a small interface:
`git` and `snapshots` (repositories and refs), `worktree` (files of a
checkout), `forges/` (GitHub, GitLab, none), `registry/` (the OCI
distribution API), `kube` and `kubeconfig` (the Kubernetes API), `render/`
(kustomize, plain YAML), `http/` (webhooks and the agent's endpoints),
`metrics`. Heavy libraries are imported here, and only by the adapter that
uses them.
"""
