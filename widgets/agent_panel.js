// AgentPanel front end: agents, a request form (agent and capability), insights with their source,
// confidence (when the agent gives one) and accept/reject.

export default {
  render({ model, el }) {
    const agentList = h("div", {});
    const agentSelect = h("select", { class: "alchemist-select", "data-testid": "agent-select" });
    const text = h("input", { type: "text", placeholder: "note for the agent (optional)", "data-testid": "agent-text" });
    const ask = h("button", { class: "alchemist-button", "data-testid": "agent-ask" }, "Ask");
    const insights = h("div", { "data-testid": "insights" });
    const status = h("div", { class: "alchemist-muted", "data-testid": "agent-status" });
    const title = h("span", { class: "alchemist-title" });
    const form = h("div", { class: "alchemist-toolbar" }, agentSelect, text, ask);
    el.append(h("div", { class: "alchemist alchemist-agentpanel", "data-testid": "agentpanel" },
      h("div", { class: "alchemist-toolbar" }, title), agentList, form, insights, status));
    ask.addEventListener("click", () => {
      const [agent, capability] = agentSelect.value.split("\u0000");
      model.send({ type: "request", agent, capability, text: text.value });
    });
    function update() {
      setText(title, model.get("title"));
      setText(status, model.get("status"));
      const chosen = agentSelect.value;
      clear(agentList); clear(agentSelect);
      const agents = model.get("agents") || [];
      for (const a of agents) {
        agentList.append(h("div", { class: "alchemist-card", "data-testid": "agent" }, h("b", {}, a.name), ` ${a.version} · `,
          h("span", { class: "alchemist-muted" }, a.capabilities.join(", ")), a.description ? ` — ${a.description}` : ""));
        for (const c of a.capabilities.length ? a.capabilities : [""]) {
          agentSelect.append(h("option", { value: `${a.name}\u0000${c}` }, c ? `${a.name} · ${c}` : a.name));
        }
      }
      if (chosen) agentSelect.value = chosen;
      form.style.display = agents.length ? "" : "none";
      if (!agents.length) agentList.append(h("div", { class: "alchemist-muted" }, "no agent is listening on this CIM"));
      clear(insights);
      for (const i of model.get("insights") || []) {
        const source = [i.agent, i.capability, i.time].filter(Boolean).join(" · ");
        const card = h("div", { class: "alchemist-card", "data-testid": "insight", "data-agent": i.agent,
          "data-capability": i.capability || "" },
          h("div", { class: "alchemist-muted" }, source, i.confidence != null ? ` · ${Math.round(100 * i.confidence)}%` : ""),
          h("div", { "data-testid": "insight-text" }, i.text));
        if (i.confidence != null) {
          card.append(h("span", { class: "alchemist-swatch", style: { width: `${Math.round(120 * i.confidence)}px`, background: "#59a14f" } }));
        }
        if (i.status === "new") {
          if (i.event_type) card.append(h("span", { class: "alchemist-muted" }, ` proposes ${i.event_type} `));
          card.append(" ", h("button", { class: "alchemist-button", onclick: () => model.send({ type: "accept", id: i.id }) }, "Accept"),
            " ", h("button", { class: "alchemist-button", onclick: () => model.send({ type: "reject", id: i.id }) }, "Reject"));
        } else card.append(h("span", { class: "alchemist-muted" }, ` ${i.status}${i.sequence != null ? ` (stream sequence ${i.sequence})` : ""}`));
        insights.append(card);
      }
    }
    const names = ["agents", "insights", "status", "title"];
    for (const n of names) model.on(`change:${n}`, update);
    update();
    return () => { for (const n of names) model.off(`change:${n}`, update); };
  },
};
