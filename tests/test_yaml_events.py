"""The loader reads libyaml's events as compact tuples (check/yaml_events.py): it must build
what PyYAML builds, and leave PyYAML's own event objects to everyone else in the process."""

from __future__ import annotations

import threading

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.check.loader import LoadedFile, parse_yaml_bytes

# Values both YAML versions read alike, which the loader therefore keeps as PyYAML reads them.
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.text(max_size=30))
trees = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
records = st.dictionaries(st.text(min_size=1, max_size=12), trees, min_size=1, max_size=6)


def _load(text: str) -> LoadedFile:
    return parse_yaml_bytes(text.encode("utf-8"), LoadedFile("r.yaml", "r.yaml"))


def _pyyaml_events(text: str) -> list[type]:
    return [event.__class__ for event in yaml.parse(text, Loader=yaml.CSafeLoader)]


@settings(max_examples=300, deadline=None)
@given(records, st.booleans())
def test_the_loader_builds_what_pyyaml_builds(record: dict, flow: bool) -> None:
    text = yaml.safe_dump(record, default_flow_style=flow, allow_unicode=True)
    loaded = _load(text)
    if loaded.diagnostics:  # control characters and the like: refused, never misread
        assert loaded.data is None
        return
    assert loaded.data == yaml.load(text, Loader=yaml.CSafeLoader)
    assert set(loaded.key_positions) == set(record)


def test_pyyaml_events_are_untouched_after_the_loader_ran_and_after_it_refused() -> None:
    text = "a: 1\nb: [x, y]\n"
    expected = _pyyaml_events(text)
    assert expected[0] is yaml.events.StreamStartEvent and len(expected) == 13
    for loaded_text in (text, "a: &x 1\nb: *x\n", "a: [1\n", "- not a mapping\n", ""):
        _load(loaded_text)
        assert _pyyaml_events(text) == expected


def test_threads_loading_records_at_once_each_build_their_own() -> None:
    texts = [
        "".join(f"key{i}: [{i}, 'text {i} {n}', {{inner: {i}}}]\n" for i in range(40))
        for n in range(4)
    ]
    failures: list[str] = []

    def load_many(text: str) -> None:
        expected = yaml.safe_load(text)
        for _ in range(50):
            if _load(text).data != expected:
                failures.append(text)

    threads = [threading.Thread(target=load_many, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert _pyyaml_events("a: 1\n")[0] is yaml.events.StreamStartEvent
