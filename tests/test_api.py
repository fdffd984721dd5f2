"""The public API: __all__ is complete and every name in it exists."""

from __future__ import annotations

import types

import symml


def test_all_names_exist():
    missing = [n for n in symml.__all__ if not hasattr(symml, n)]
    assert not missing, missing


def test_all_is_complete():
    public = {
        n
        for n, v in vars(symml).items()
        if not n.startswith("_") and not isinstance(v, types.ModuleType) and n != "annotations"
    }
    assert public - set(symml.__all__) == set(), "public names missing from __all__"


def test_no_duplicates_in_all():
    assert len(symml.__all__) == len(set(symml.__all__))


def test_every_error_is_a_symml_error():
    for name in symml.__all__:
        obj = getattr(symml, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, symml.SymmlError), name
