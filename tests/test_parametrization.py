"""Parametrization: values, standardized data, bounds, choices, containers, constraints."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optimkit as ok
from optimkit import errors


def _nevergrad_doc_example() -> ok.p.Instrumentation:
    return ok.p.Instrumentation(
        ok.p.Choice(["Helium", "Nitrogen", "Oxygen"]),
        ok.p.TransitionChoice(["Solid", "Liquid", "Gas"]),
        "blublu",
        amount=ok.p.Tuple(ok.p.Scalar().set_integer_casting(), ok.p.Scalar()),
    )


def test_nevergrad_doc_example() -> None:
    inst = _nevergrad_doc_example()
    assert inst.dimension == 6
    child = inst.spawn_child().set_standardized_data([-80, 80, -80, 0, 3, 5.0])
    assert child.args == ("Nitrogen", "Liquid", "blublu")
    assert child.kwargs == {"amount": (3, 5.0)}
    assert child.value == (("Nitrogen", "Liquid", "blublu"), {"amount": (3, 5.0)})
    assert isinstance(child.kwargs["amount"][0], int)
    # the original is untouched, and the child knows its parent
    assert inst.args[2] == "blublu" and inst.kwargs["amount"] == (0, 0.0)
    assert child.parents_uids == [inst.uid]
    assert child.generation == 1


def test_array_defaults_and_value_roundtrip() -> None:
    a = ok.p.Array(shape=(2, 3))
    assert a.dimension == 6
    assert a.value.shape == (2, 3)
    a.value = np.arange(6.0).reshape(2, 3)
    data = a.get_standardized_data(reference=ok.p.Array(shape=(2, 3)))
    np.testing.assert_allclose(data, np.arange(6.0))
    b = ok.p.Array(shape=(2, 3)).spawn_child().set_standardized_data(data)
    np.testing.assert_allclose(b.value, a.value)


def test_bounded_array_defaults_like_nevergrad() -> None:
    a = ok.p.Array(shape=(3,), lower=-3.0, upper=3.0)
    np.testing.assert_allclose(a.value, 0.0)
    assert a.sigma == pytest.approx(1.0)
    s = ok.p.Scalar(lower=0, upper=12)
    assert s.value == 6.0 and s.sigma == pytest.approx(2.0)


@pytest.mark.parametrize("method", ok.parametrization.BOUND_METHODS)
def test_bounds_methods_keep_values_inside(method: str) -> None:
    a = ok.p.Array(shape=(5,)).set_bounds(-1.0, 2.0, method=method)
    child = a.spawn_child().set_standardized_data(np.array([-100.0, -1.5, 0.3, 1.9, 100.0]))
    v = child.value
    assert np.all(v >= -1.0) and np.all(v <= 2.0)
    if method == "clipping":
        np.testing.assert_allclose(v, [-1.0, -1.0, 0.3, 1.9, 2.0])
    if method == "bouncing":
        np.testing.assert_allclose(v[1:4], [-0.5, 0.3, 1.9])


@given(
    data=st.lists(st.floats(-50, 50), min_size=4, max_size=4),
    method=st.sampled_from(ok.parametrization.BOUND_METHODS),
)
@settings(max_examples=60, deadline=None)
def test_property_bounds_always_respected(data: list[float], method: str) -> None:
    a = ok.p.Array(shape=(4,), lower=[-1, 0, 1, 2], upper=[1, 1, 5, 2.5]).set_bounds(
        [-1, 0, 1, 2], [1, 1, 5, 2.5], method=method
    )
    v = a.spawn_child().set_standardized_data(data).value
    assert np.all(v >= np.array([-1, 0, 1, 2]) - 1e-9)
    assert np.all(v <= np.array([1, 1, 5, 2.5]) + 1e-9)


@given(
    value=st.lists(st.floats(-0.999, 0.999), min_size=3, max_size=3),
    method=st.sampled_from(ok.parametrization.BOUND_METHODS),
)
@settings(max_examples=60, deadline=None)
def test_property_value_standardized_value_roundtrip(value: list[float], method: str) -> None:
    ref = ok.p.Array(shape=(3,)).set_bounds(-1.0, 1.0, method=method).set_mutation(sigma=0.3)
    child = ref.spawn_child(new_value=np.array(value))
    data = child.get_standardized_data(reference=ref)
    back = ref.spawn_child().set_standardized_data(data, reference=ref)
    np.testing.assert_allclose(back.value, value, atol=1e-7)


@given(x=st.floats(1e-3, 1e3))
@settings(max_examples=40, deadline=None)
def test_property_log_roundtrip(x: float) -> None:
    ref = ok.p.Log(lower=1e-3, upper=1e3)
    child = ref.spawn_child(new_value=x)
    back = ref.spawn_child().set_standardized_data(child.get_standardized_data(reference=ref), reference=ref)
    assert back.value == pytest.approx(x, rel=1e-9)


def test_log_is_multiplicative() -> None:
    ref = ok.p.Log(init=1.0, exponent=10.0)
    assert ref.spawn_child().set_standardized_data([1.0]).value == pytest.approx(10.0)
    assert ref.spawn_child().set_standardized_data([-2.0]).value == pytest.approx(0.01)
    bounded = ok.p.Log(lower=1e-4, upper=1.0)
    assert bounded.value == pytest.approx(1e-2)


def test_integer_casting() -> None:
    a = ok.p.Array(shape=(3,)).set_integer_casting()
    child = a.spawn_child().set_standardized_data([0.4, 1.6, -2.5])
    assert child.value.dtype.kind == "i"
    assert child.value.tolist() == [0, 2, -2]
    assert ok.p.Scalar(init=2.7).set_integer_casting().value == 3


def test_choice_softmax_and_repetitions() -> None:
    c = ok.p.Choice(["a", "b", "c"], repetitions=2)
    assert c.dimension == 6
    child = c.spawn_child().set_standardized_data([50, 0, 0, 0, 0, 50])
    assert child.value == ("a", "c")
    c.random_state.seed(0)
    draws = [c.spawn_child().set_standardized_data(np.zeros(6)).value for _ in range(300)]
    counts = {v: sum(1 for d in draws for x in d if x == v) for v in "abc"}
    assert all(150 < n < 250 for n in counts.values())  # uniform when logits are equal
    child.value = ("b", "b")
    again = c.spawn_child().set_standardized_data(child.get_standardized_data(reference=c), reference=c)
    assert again.value == ("b", "b")


def test_transition_choice_neighbours() -> None:
    t = ok.p.TransitionChoice(list(range(5)))
    assert t.value == 2 and t.dimension == 1
    assert t.spawn_child().set_standardized_data([0.5]).value == 3
    assert t.spawn_child().set_standardized_data([-100]).value == 0
    assert t.spawn_child().set_standardized_data([100]).value == 4
    t.value = 4
    assert t.value == 4


def test_containers_values_and_dimension() -> None:
    d = ok.p.Dict(b=ok.p.Scalar(), a=ok.p.Array(shape=(2,)), c="const")
    assert d.dimension == 3
    child = d.spawn_child().set_standardized_data([1.0, 2.0, 3.0])
    assert child.value["a"].tolist() == [1.0, 2.0] and child.value["b"] == 3.0 and child.value["c"] == "const"
    t = ok.p.Tuple(ok.p.Scalar(), ok.p.Choice([1, 2]))
    t.value = (4.0, 2)
    assert t.value == (4.0, 2)
    with pytest.raises(ValueError):
        t.value = (1.0,)


def test_sample_is_uniform_in_bounded_boxes_and_seeded() -> None:
    a = ok.p.Array(shape=(1000,), lower=0.0, upper=1.0)
    a.random_state = np.random.RandomState(3)
    s1 = a.sample().value
    a.random_state = np.random.RandomState(3)
    s2 = a.sample().value
    np.testing.assert_array_equal(s1, s2)
    assert 0.45 < s1.mean() < 0.55 and s1.min() >= 0 and s1.max() <= 1
    a.random_state = np.random.default_rng(5)  # a Generator works too
    assert a.sample().value.shape == (1000,)


def test_cheap_constraints() -> None:
    a = ok.p.Array(shape=(2,)).register_cheap_constraint(lambda x: x[0] >= 0)
    a.register_cheap_constraint(lambda x: 1.0 - x[1])  # float >= 0 when satisfied
    assert a.spawn_child(new_value=[1.0, 0.5]).satisfies_constraints()
    assert not a.spawn_child(new_value=[-1.0, 0.5]).satisfies_constraints()
    assert not a.spawn_child(new_value=[1.0, 2.0]).satisfies_constraints()
    inst = ok.p.Instrumentation(ok.p.Scalar().register_cheap_constraint(lambda v: v > 0))
    assert not inst.spawn_child().satisfies_constraints()


def test_lineage_copy_and_pickle() -> None:
    a = ok.p.Array(shape=(2,)).set_name("x")
    child = a.spawn_child(new_value=[1.0, 2.0])
    assert child.uid != a.uid and child.name == "x"
    cp = child.copy()
    assert cp.uid != child.uid and cp.parents_uids == child.parents_uids
    np.testing.assert_array_equal(cp.value, child.value)
    back = pickle.loads(pickle.dumps(child))
    np.testing.assert_array_equal(back.value, [1.0, 2.0])


def test_unit_box_maps_bounds_and_standardized_space() -> None:
    inst = ok.p.Instrumentation(
        ok.p.Array(shape=(2,), lower=[0.0, -4.0], upper=[1.0, 4.0]),
        ok.p.Array(shape=(1,)),
        x=ok.p.Log(lower=1e-2, upper=1e2),
        y=ok.p.Scalar(lower=-1, upper=1).set_bounds(-1, 1, method="tanh"),
    )
    box = ok.parametrization.UnitBox(inst, bound=5.0)
    unit = np.array([[0.0, 1.0, 0.5, 0.5, 0.75], [1.0, 0.0, 0.0, 1.0, 0.25]])
    data = box.to_data(unit)
    child = inst.spawn_child().set_standardized_data(data[0], reference=inst)
    assert child.args[0].tolist() == pytest.approx([0.0, 4.0])
    assert child.args[1].tolist() == pytest.approx([0.0])
    assert child.kwargs["x"] == pytest.approx(1.0)
    assert child.kwargs["y"] == pytest.approx(0.5)
    child2 = inst.spawn_child().set_standardized_data(data[1], reference=inst)
    assert child2.args[1].tolist() == pytest.approx([-5.0])
    assert child2.kwargs["x"] == pytest.approx(100.0)
    np.testing.assert_allclose(box.from_data(data), unit, atol=1e-9)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ok.p.Array(shape=(2,), lower=1.0, upper=0.0),
        lambda: ok.p.Array(shape=(2,), lower=[0, 1], upper=[1, 1]),
        lambda: ok.p.Array(),
        lambda: ok.p.Array(shape=(2,), init=[0, 0]),
        lambda: ok.p.Array(shape=(2,)).set_bounds(0, 1, method="wrap"),
        lambda: ok.p.Array(shape=(2,)).set_mutation(sigma=-1.0),
        lambda: ok.p.Log(init=-1.0),
        lambda: ok.p.Choice([]),
        lambda: ok.p.Scalar(lower=0, upper=1).set_bounds(0, 1, method="arctan").set_bounds(2, 3),
    ],
)
def test_bad_parametrization_input(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.OptimkitValueError):
        make()


def test_wrong_shape_and_out_of_bounds_values() -> None:
    a = ok.p.Array(shape=(3,), lower=0, upper=1)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        a.value = np.zeros(4)
    with pytest.raises(ValueError, match="outside its bounds"):
        a.value = np.array([0.5, 0.5, 2.0])
    with pytest.raises(errors.OptimkitValueError, match="length 3"):
        a.spawn_child().set_standardized_data(np.zeros(2))
    with pytest.raises(ValueError, match="not one of the choices"):
        ok.p.Choice(["a"]).value = "b"
