"""HTTP served by promoter: the webhook receiver (`promoter serve`) and the
agent's /metrics, /healthz, /status endpoints."""
