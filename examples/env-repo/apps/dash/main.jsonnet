// The dashboard, written in Jsonnet. Its image lives in the environment's
// params.json (what `promoter bump` edits); the environment's name comes in
// as an external variable.
local dash = import 'dash.libsonnet';  // apps/dash/lib (a -J library path)
local params = import 'params.json';  // apps/dash/<env>/, the other -J path
local env = std.extVar('env');

[
  dash.deployment('dash', params.image, replicas=if std.startsWith(env, 'prod') then 2 else 1),
  dash.service('dash'),
]
