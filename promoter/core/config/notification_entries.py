"""`notifications:` in promoter.yaml: a list of targets, each an Apprise URL
(`${NAME}` from the environment), the events it wants and the environments
it hears about. Environment names are checked once the environments are
known (`check_notification_environments`)."""

from __future__ import annotations

from promoter.core.config.fields import suggest
from promoter.core.config.model import NotificationTarget
from promoter.core.config.reader import Entries, NodeReader
from promoter.core.notify.events import EVENTS
from promoter.core.notify.suppress import DEFAULT_WINDOW
from promoter.core.notify.urls import url_problem
from promoter.core.policy.durations import duration_problem, parse_duration
from promoter.core.yamlnodes import Node, SequenceNode, line_of

NOTIFICATION_KEYS = ("url", "events", "environments", "window")


def _event_problem(text: str) -> str | None:
    if text in EVENTS:
        return None
    return f"unknown event {text!r}{suggest(text, EVENTS)} (events: {', '.join(EVENTS)})"


class NotificationEntries(NodeReader):
    def __init__(self, file: str) -> None:
        super().__init__(file)
        self._environment_nodes: list[tuple[NotificationTarget, Node]] = []

    def notifications(self, top: Entries) -> tuple[NotificationTarget, ...]:
        if "notifications" not in top:
            return ()
        key_node, node = top["notifications"]
        if not isinstance(node, SequenceNode):
            self.problem(key_node, "notifications must be a list of targets (- url: …)")
            return ()
        targets = []
        for index, item in enumerate(node.value):
            label = f"notifications[{index}]"
            entries = self.mapping(item, label, NOTIFICATION_KEYS, at=item)
            if entries is None:
                continue
            if "url" not in entries:
                self.problem(item, f"{label}: missing required key 'url' (an Apprise URL)")
                continue
            url = self.checked(entries, "url", label, url_problem)
            events = self.string_list(entries, "events", label, _event_problem)
            environments = self.string_list(entries, "environments", label, lambda _: None)
            window = self.checked(entries, "window", label, duration_problem)
            seconds = parse_duration(window) if window else None
            if url is None:
                continue
            target = NotificationTarget(
                url=url,
                events=events or (),
                environments=environments or (),
                window=seconds or int(DEFAULT_WINDOW),
                line=line_of(item),
            )
            targets.append(target)
            if "environments" in entries:
                self._environment_nodes.append((target, entries["environments"][1]))
        return tuple(targets)

    def check_notification_environments(self, declared: list[str]) -> None:
        """Every environment a target names is one the file declares."""
        for target, node in self._environment_nodes:
            items = node.value if isinstance(node, SequenceNode) else []
            for name in target.environments:
                if name not in declared:
                    at = next((i for i in items if getattr(i, "value", None) == name), node)
                    self.problem(
                        at,
                        f"notifications: unknown environment {name!r}{suggest(name, declared)} "
                        f"(known: {', '.join(declared)})",
                    )
