// AgentPanel front end: agents, a request form, insights with confidence and accept/reject.

export default {
  render({ model, el }) {
    const agentList = h("div", {});
    const agentSelect = h("select", { class: "alchemist-select", "data-testid": "agent-select" });
    const text = h("input", { type: "text", placeholder: "ask the agent…", "data-testid": "agent-text" });
    const ask = h("button", { class: "alchemist-button", "data-testid": "agent-ask" }, "Ask");
    const insights = h("div", { "data-testid": "insights" });
    const status = h("div", { class: "alchemist-muted", "data-testid": "agent-status" });
    const title = h("span", { class: "alchemist-title" });
    el.append(h("div", { class: "alchemist alchemist-agentpanel", "data-testid": "agentpanel" },
      h("div", { class: "alchemist-toolbar" }, title), agentList,
      h("div", { class: "alchemist-toolbar" }, agentSelect, text, ask), insights, status));
    ask.addEventListener("click", () => model.send({ type: "request", agent: agentSelect.value, text: text.value }));
    function update() {
      setText(title, model.get("title"));
      setText(status, model.get("status"));
      clear(agentList); clear(agentSelect);
      for (const a of model.get("agents")) {
        agentList.append(h("div", { class: "alchemist-card" }, h("b", {}, a.name), ` ${a.version} · `,
          h("span", { class: "alchemist-muted" }, a.capabilities.join(", ")), a.description ? ` — ${a.description}` : ""));
        agentSelect.append(h("option", { value: a.name }, a.name));
      }
      clear(insights);
      for (const i of model.get("insights")) {
        const card = h("div", { class: "alchemist-card", "data-testid": "insight" },
          h("div", {}, h("span", { class: "alchemist-muted" }, `${i.agent} · ${Math.round(100 * i.confidence)}% · `), i.text),
          h("span", { class: "alchemist-swatch", style: { width: `${Math.round(120 * i.confidence)}px`, background: "#59a14f" } }));
        if (i.status === "new") {
          card.append(" ", h("button", { class: "alchemist-button", onclick: () => model.send({ type: "accept", id: i.id }) }, "Accept"),
            " ", h("button", { class: "alchemist-button", onclick: () => model.send({ type: "reject", id: i.id }) }, "Reject"));
        } else card.append(h("span", { class: "alchemist-muted" }, ` ${i.status}${i.sequence != null ? ` #${i.sequence}` : ""}`));
        insights.append(card);
      }
    }
    const names = ["agents", "insights", "status", "title"];
    for (const n of names) model.on(`change:${n}`, update);
    update();
    return () => { for (const n of names) model.off(`change:${n}`, update); };
  },
};
