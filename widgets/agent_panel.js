// AgentPanel front end: agents with their health, a request form (agent and capability), the requests
// in progress (state, the agent's last progress report, a bar), and the agents' suggestions and insights
// with their source, kind, confidence and Accept/Reject. The kernel does the work; this only shows it.

export default {
  render({ model, el }) {
    const agentList = h("div", { "data-testid": "agents" });
    const agentSelect = h("select", { class: "alchemist-select", "data-testid": "agent-select" });
    const text = h("input", { type: "text", placeholder: "note for the agent (optional)", "data-testid": "agent-text" });
    const ask = h("button", { class: "alchemist-button", "data-testid": "agent-ask" }, "Ask");
    const refresh = h("button", { class: "alchemist-button", "data-testid": "agent-refresh", title: "discover the agents and read their health again" }, "Refresh");
    const requests = h("div", { "data-testid": "agent-requests" });
    const insights = h("div", { "data-testid": "insights" });
    const status = h("div", { class: "alchemist-muted", "data-testid": "agent-status" });
    const title = h("span", { class: "alchemist-title" });
    const form = h("div", { class: "alchemist-toolbar" }, agentSelect, text, ask);
    el.append(h("div", { class: "alchemist alchemist-agentpanel", "data-testid": "agentpanel" },
      h("div", { class: "alchemist-toolbar" }, title, " ", refresh), agentList, form, requests, insights, status));
    ask.addEventListener("click", () => {
      const [agent, capability] = agentSelect.value.split("\u0000");
      model.send({ type: "request", agent, capability, text: text.value });
    });
    refresh.addEventListener("click", () => model.send({ type: "refresh" }));

    function bar(fraction, colour, testid) {
      const width = Math.round(120 * Math.max(0, Math.min(1, fraction)));
      return h("span", { class: "alchemist-swatch", "data-testid": testid, "data-value": String(fraction),
        style: { width: `${width}px`, background: colour, verticalAlign: "middle" } });
    }

    function healthLine(row) {
      if (!row) return "";
      const parts = [row.answering ? "answering" : "not answering"];
      if (row.latency_ms != null) parts.push(`ping ${row.latency_ms.toFixed(1)} ms`);
      if (row.last_heartbeat) parts.push(`last heartbeat ${row.last_heartbeat.replace("T", " ").slice(0, 19)} UTC`);
      parts.push(`${row.requests} served, ${row.errors} errors`);
      if (row.failures) parts.push(`${row.failures} failed in a row here`);
      parts.push(row.breaker === "open" ? `circuit open (trial in ${Math.ceil(row.retry_in)} s)` : `circuit ${row.breaker}`);
      return h("div", { class: "alchemist-muted", "data-testid": "agent-health", "data-breaker": row.breaker,
        "data-answering": String(row.answering) }, parts.join(" · "));
    }

    function update() {
      setText(title, model.get("title"));
      setText(status, model.get("status"));
      const chosen = agentSelect.value;
      clear(agentList); clear(agentSelect); clear(requests); clear(insights);
      const agents = model.get("agents") || [];
      const health = {};
      for (const row of model.get("health") || []) if (!(row.name in health) || row.answering) health[row.name] = row;
      for (const a of agents) {
        agentList.append(h("div", { class: "alchemist-card", "data-testid": "agent", "data-agent": a.name },
          h("b", {}, a.name), ` ${a.version} · `, h("span", { class: "alchemist-muted" }, a.capabilities.join(", ")),
          a.description ? ` — ${a.description}` : "", healthLine(health[a.name])));
        for (const c of a.capabilities.length ? a.capabilities : [""]) {
          agentSelect.append(h("option", { value: `${a.name}\u0000${c}` }, c ? `${a.name} · ${c}` : a.name));
        }
      }
      for (const row of Object.values(health)) {  // agents this panel saw fail that no longer answer
        if (!agents.some((a) => a.name === row.name)) {
          agentList.append(h("div", { class: "alchemist-card", "data-testid": "agent", "data-agent": row.name },
            h("b", {}, row.name), healthLine(row)));
        }
      }
      if (chosen) agentSelect.value = chosen;
      form.style.display = agents.length ? "" : "none";
      if (!agents.length) agentList.append(h("div", { class: "alchemist-muted", "data-testid": "no-agents" }, "no agent is listening on this CIM"));

      for (const r of model.get("requests") || []) {
        const line = [r.agent, r.capability, r.state].filter(Boolean).join(" · ");
        const detail = r.state === "failed" ? (r.error || "") : (r.message || "");
        const card = h("div", { class: "alchemist-card", "data-testid": "agent-request", "data-state": r.state, "data-id": r.id },
          h("span", { "data-testid": "request-state" }, line), " ",
          r.fraction != null && r.state !== "failed" ? bar(r.fraction, "#4e79a7", "request-progress") : "",
          h("div", { class: "alchemist-muted", "data-testid": "request-message" }, detail));
        requests.append(card);
      }

      for (const i of model.get("insights") || []) {
        const source = [i.agent, i.capability, i.time].filter(Boolean).join(" · ");
        const card = h("div", { class: "alchemist-card", "data-testid": "insight", "data-agent": i.agent,
          "data-capability": i.capability || "", "data-kind": i.kind || "", "data-status": i.status, "data-id": i.id },
          h("div", { class: "alchemist-muted" }, source, i.kind && i.kind !== "insight" ? ` · ${i.kind}` : "",
            i.confidence != null ? h("span", { "data-testid": "insight-confidence" }, ` · ${Math.round(100 * i.confidence)}% confidence`) : ""),
          h("div", { "data-testid": "insight-text" }, i.text));
        if (i.confidence != null) card.append(bar(i.confidence, "#59a14f", "confidence-bar"));
        if (i.status === "new") {
          if (i.event_type) {
            const n = i.n_events || 1;
            card.append(h("span", { class: "alchemist-muted", "data-testid": "insight-proposes" },
              ` proposes ${n > 1 ? `${n} ` : ""}${i.event_type}${n > 1 ? " events" : ""} `));
          }
          card.append(" ", h("button", { class: "alchemist-button", "data-testid": "insight-accept", onclick: () => model.send({ type: "accept", id: i.id }) }, "Accept"),
            " ", h("button", { class: "alchemist-button", "data-testid": "insight-reject", onclick: () => model.send({ type: "reject", id: i.id }) }, "Reject"));
        } else {
          card.append(h("span", { class: "alchemist-muted", "data-testid": "insight-decision" },
            ` ${i.status}${i.sequence == null ? "" : i.status === "rejected" ? ` (recorded at insights sequence ${i.sequence})` : ` (stream sequence ${i.sequence})`}`));
        }
        insights.append(card);
      }
    }
    const names = ["agents", "health", "requests", "insights", "status", "title"];
    for (const n of names) model.on(`change:${n}`, update);
    update();
    return () => { for (const n of names) model.off(`change:${n}`, update); };
  },
};
