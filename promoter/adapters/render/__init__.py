"""Rendering an environment to Kubernetes objects with real engines only:
`kustomize` (kubectl kustomize / kustomize), plain YAML; `renderer.render`
chooses."""
