// GameView front end: payoff table (equilibrium cells highlighted), Pareto plot (SVG), Shapley bars.

export default {
  render({ model, el }) {
    const root = h("div", { class: "alchemist alchemist-gameview", "data-testid": "gameview" });
    el.append(root);
    function update() {
      clear(root);
      root.append(h("div", { class: "alchemist-toolbar" }, h("span", { class: "alchemist-title" }, model.get("title"))));
      const hl = new Set(model.get("highlight").map(([i, j]) => `${i},${j}`));
      const [si, sj] = model.get("selected_cell").length ? model.get("selected_cell") : [-1, -1];
      const table = h("table", { "data-testid": "payoff-table" }, h("tr", {}, h("th", {}),
        model.get("col_names").map((c) => h("th", { "data-testid": "col-name" }, c))));
      model.get("payoffs").forEach((row, i) => {
        table.append(h("tr", {}, h("th", { "data-testid": "row-name" }, model.get("row_names")[i]), row.map(([a, b], j) => h("td", {
          class: [hl.has(`${i},${j}`) ? "alchemist-eq" : "", i === si && j === sj ? "alchemist-selected" : ""].join(" ").trim(),
          "data-testid": "payoff-cell", "data-i": i, "data-j": j, "data-equilibrium": hl.has(`${i},${j}`),
          onclick: () => model.send({ type: "cell", i, j }),
        }, `${fmt(a, 3)}, ${fmt(b, 3)}`))));
      });
      const plot = pareto(model.get("profiles"), new Set(model.get("front")));
      const shap = h("div", {}, model.get("shapley").length ? h("div", { class: "alchemist-title" }, "Shapley values") : null);
      const top = Math.max(1e-12, ...model.get("shapley").map((s) => Math.abs(s.value)));
      for (const s of model.get("shapley")) {
        shap.append(h("div", { class: "alchemist-feed-row" }, h("span", { class: "alchemist-swatch",
          style: { width: `${Math.max(2, 160 * Math.abs(s.value) / top)}px`, background: "#59a14f" } }), ` ${s.player} ${fmt(s.value, 4)}`));
      }
      // the equilibria: each player's mixed strategy over the named strategies, and the payoffs
      const rowNames = model.get("row_names"), colNames = model.get("col_names");
      const mixed = (p, names) => p.map((v, k) => (v > 1e-9 ? `${names[k]} ${fmt(v, 3)}` : null)).filter((v) => v).join(" + ");
      const eqList = h("ol", { class: "alchemist-eq-list", "data-testid": "equilibria" },
        model.get("equilibria").map((e) => h("li", { "data-testid": "equilibrium", "data-x": e.x.join(","), "data-y": e.y.join(",") },
          h("span", { class: "alchemist-key" }, "row: "), mixed(e.x, rowNames),
          h("span", { class: "alchemist-key" }, " · column: "), mixed(e.y, colNames),
          h("span", { class: "alchemist-key" }, " → "), `(${fmt(e.u1, 3)}, ${fmt(e.u2, 3)})`)));
      root.append(h("div", { style: { display: "flex", gap: "16px", flexWrap: "wrap" } }, table, plot, shap), eqList,
        h("div", { class: "alchemist-muted", "data-testid": "game-summary" }, `${model.get("equilibria").length} equilibria · ${model.get("front").length} Pareto-optimal profiles`));
    }
    function pareto(points, front) {
      const W = 220, H = 160, P = 18;
      const s = svg("svg", { width: W, height: H, class: "alchemist-pareto" });
      if (!points.length) return s;
      const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
      const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      const X = (v) => P + (W - 2 * P) * (v - x0) / ((x1 - x0) || 1), Y = (v) => H - P - (H - 2 * P) * (v - y0) / ((y1 - y0) || 1);
      s.append(svg("rect", { x: 0, y: 0, width: W, height: H, fill: "#1d1d26" }));
      points.forEach((p, i) => s.append(svg("circle", { cx: X(p[0]), cy: Y(p[1]), r: front.has(i) ? 5 : 3,
        fill: front.has(i) ? "#f28e2b" : "#4e79a7", "data-pareto": front.has(i) })));
      for (const e of model.get("equilibria")) {  // equilibrium payoffs: rings
        s.append(svg("circle", { cx: X(e.u1), cy: Y(e.u2), r: 8, fill: "none", stroke: "#fde68a", "stroke-width": 1.5,
          "data-equilibrium": true }));
      }
      const label = svg("text", { x: P, y: 12, fill: "#9aa", "font-size": 10 });
      label.textContent = "Pareto ● · equilibria ○ · u1 → u2 ↑";
      s.append(label);
      return s;
    }
    const names = ["payoffs", "highlight", "profiles", "front", "shapley", "title", "equilibria", "selected_cell"];
    for (const n of names) model.on(`change:${n}`, update);
    update();
    return () => { for (const n of names) model.off(`change:${n}`, update); };
  },
};
