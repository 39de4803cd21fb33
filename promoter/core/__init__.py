"""The pure core: image references and versions, promoter.yaml's model,
the format-preserving editors, plans and PR records, policy rules, the
applier's rules, rendered objects and what the bot parses and says.

Nothing here imports click, GitPython, PyGithub, python-gitlab, requests,
docker or the kubernetes client (tests/test_layout.py checks it): adapters
gather facts and carry out effects, workflows call the core with them.
docs/architecture.md has the map.
"""
