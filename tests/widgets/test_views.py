"""ConceptSpaceView, GameView and AgentPanel: state, messages and static fallbacks."""

import numpy as np
import pytest

import alchemist
from alchemist.errors import WidgetError
from alchemist.widgets import AgentPanel, ConceptSpaceView, GameView


def test_concept_view_regions_and_click_categorize_by_the_nearest_prototype(decode):
    rng = np.random.default_rng(0)
    prototypes = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0]], float)
    points = prototypes[rng.integers(0, 3, 200)] + rng.normal(0, 1, (200, 3))
    view = ConceptSpaceView(points, prototypes, ["a", "b", "c<script>"], width=200, height=150)
    # labels = nearest prototype in the full space (the projection keeps these clusters apart)
    full = np.argmin(((points[:, None] - prototypes[None]) ** 2).sum(-1), axis=1)
    assert (view.labels == full).mean() > 0.97
    img = decode(view.image)
    assert img.shape == (150, 200, 3)
    for k in range(3):  # clicking a prototype's pixel gives that concept
        px = view.view.to_pixels(view.prototype_xy[[k]])[0]
        view._on_custom_msg(view, {"type": "click", "x": px[0], "y": px[1]}, [])
        assert view.clicked["concept"] == k and view.clicked["name"] == view.names[k]
        assert (view.clicked["px"], view.clicked["py"]) == (px[0], px[1])
    html = view._repr_mimebundle_()[0]["text/html"]
    assert "<script>" not in html and "c&lt;script&gt;" in html
    with pytest.raises(WidgetError, match="2 names for 3"):
        ConceptSpaceView(points, prototypes, ["a", "b"])


def test_game_view_highlights_equilibrium_supports_and_the_pareto_front():
    import nashpy
    A = np.array([[3, 0], [5, 1]])  # prisoner's dilemma
    B = A.T
    eqs = list(nashpy.Game(A, B).support_enumeration())
    view = GameView(A, B, equilibria=eqs, row_names=["C", "D"], col_names=["C", "D"], shapley=[0.5, 0.5])
    assert view.highlight == [[1, 1]]
    assert view.equilibria[0]["u1"] == 1 and view.equilibria[0]["u2"] == 1
    # Pareto front of (3,3) (0,5) (5,0) (1,1): every profile but (1,1)
    assert sorted(view.front) == [0, 1, 2]
    view._on_custom_msg(view, {"type": "cell", "i": 0, "j": 1}, [])
    assert view.selected_cell == [0, 1]
    html = view._repr_mimebundle_()[0]["text/html"]
    assert "background:#fde68a" in html
    assert "<li>row: D 1 · column: D 1 → (1, 1)</li>" in html  # the one equilibrium, (D, D), listed


def test_game_view_lists_mixed_equilibria_with_escaped_names():
    import nashpy
    A = np.array([[1, -1], [-1, 1]])  # matching pennies: the one equilibrium is (1/2, 1/2) each
    eqs = list(nashpy.Game(A, -A).support_enumeration())
    view = GameView(A, -A, equilibria=eqs, row_names=["<b>H</b>", "T"], col_names=["H", "T"])
    assert view.highlight == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert view.equilibria == [{"x": [0.5, 0.5], "y": [0.5, 0.5], "u1": 0.0, "u2": 0.0}]
    html = view._repr_mimebundle_()[0]["text/html"]
    assert "<li>row: &lt;b&gt;H&lt;/b&gt; 0.5 + T 0.5 · column: H 0.5 + T 0.5 → (0, 0)</li>" in html


def test_coalitions_colour_a_graph_view():
    g = alchemist.Graph.from_edges([("a", "b"), ("c", "d")])
    pos = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float32)
    view = GameView.coalition_view(g, pos, [["a", "b"], ["c"]], width=50, height=50, threaded=False)
    assert view.color_by == "coalition"
    assert sorted(item["label"] for item in view.legend) == ["coalition 0", "coalition 1", "none"]


def test_agent_panel_accept_and_reject_without_a_connection():
    panel = AgentPanel(agents=[{"name": "analyst", "version": "1.0", "capabilities": ["communities"]}],
                       request=lambda agent, cap, text: [{"text": f"{agent} read {text}", "confidence": 0.8}])
    panel._on_custom_msg(panel, {"type": "request", "agent": "analyst", "text": "<img src=x onerror=alert(1)>"}, [])
    panel.wait()  # the request is answered in a thread
    assert panel.insights[0]["capability"] == "communities"  # the agent's first capability
    assert panel.insights[0]["text"] == "analyst read <img src=x onerror=alert(1)>"
    panel._on_custom_msg(panel, {"type": "reject", "id": panel.insights[0]["id"]}, [])
    assert panel.insights[0]["status"] == "rejected"
    with pytest.raises(WidgetError, match="confidence=1.5"):
        panel.add_insight("x", 1.5)
    assert "&lt;img" in panel._repr_mimebundle_()[0]["text/html"]


@pytest.mark.integration
def test_accepting_an_insight_publishes_its_event(tmp_path):
    with alchemist.connect(data_dir=str(tmp_path)) as con:
        con.publish(alchemist.new_event("graph_created", "kg", {"name": "kg"}))
        panel = AgentPanel(con, "kg")
        insight = panel.add_insight("x and y are one community", 0.9, agent="analyst",
                                    event={"event_type": "node_added", "payload": {"node_id": "x"}})
        panel._on_custom_msg(panel, {"type": "accept", "id": insight}, [])
        last = con.last_event("kg")
        assert last.event_type == "node_added" and last.payload["node_id"] == "x"
        assert panel.insights[0]["status"] == "accepted" and panel.insights[0]["sequence"] == 2
