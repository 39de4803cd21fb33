"""`promote:` of a service or of `defaults`: the files and fields that
travel with the version (promoter.core.carry)."""

from __future__ import annotations

from promoter.core.carry import CarrySpec, FieldSpec, field_problem, relative_problem
from promoter.core.config.reader import Entries, NodeReader, entry_label
from promoter.core.yamlnodes import SequenceNode

_PROMOTE_KEYS = ("files", "fields")
_FIELD_KEYS = ("file", "paths")


class CarryEntries(NodeReader):
    def carry_spec(self, entries: Entries, label: str) -> CarrySpec | None:
        if "promote" not in entries:
            return None
        key_node, node = entries["promote"]
        where = f"{label}: promote"
        inner = self.mapping(node, where, _PROMOTE_KEYS, at=key_node)
        if inner is None:
            return None
        files = self.string_list(inner, "files", where, relative_problem) or ()
        fields: list[FieldSpec] = []
        if "fields" in inner:
            fields_key, items = inner["fields"]
            if not isinstance(items, SequenceNode):
                self.problem(fields_key, f"{where}: fields must be a list of {{file, paths}}")
            else:
                for index, item in enumerate(items.value):
                    item_label = entry_label(item, f"{where}: fields", index)
                    spec = self.mapping(item, item_label, _FIELD_KEYS, at=item)
                    if spec is None:
                        continue
                    file = self.checked(spec, "file", item_label, relative_problem)
                    paths = self.string_list(spec, "paths", item_label, field_problem)
                    if "file" not in spec or "paths" not in spec:
                        self.problem(item, f"{item_label} needs `file` and `paths`")
                    elif file is not None and paths:
                        fields.append(FieldSpec(file, paths))
        if not files and not fields:
            self.problem(key_node, f"{where} needs `files` or `fields`")
            return None
        return CarrySpec(tuple(files), tuple(fields))
