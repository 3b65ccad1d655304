// EventFeed front end: counters, counts by type, the last events; pause/resume.

export default {
  render({ model, el }) {
    const stat = (label, testid) => {
      const value = h("b", { "data-testid": testid });
      return [h("div", { class: "alchemist-stat" }, value, label), value];
    };
    const [totalBox, total] = stat("events", "feed-total");
    const [rateBox, rate] = stat("events/s", "feed-rate");
    const [lagBox, lag] = stat("consumer lag", "feed-lag");
    const [dlqBox, dlq] = stat("dead letters", "feed-dead-letters");
    const [rejBox, rej] = stat("rejected", "feed-rejected");
    const pause = h("button", { class: "alchemist-button", "data-testid": "feed-pause" });
    const types = h("div", { class: "alchemist-feed-types" });
    const list = h("div", { class: "alchemist-feed-list", "data-testid": "feed-list" });
    const listTitle = h("div", { class: "alchemist-muted" }, "latest events (event time, UTC)");
    const title = h("span", { class: "alchemist-title" });
    el.append(h("div", { class: "alchemist alchemist-eventfeed", "data-testid": "eventfeed" },
      h("div", { class: "alchemist-toolbar" }, title, pause),
      h("div", { class: "alchemist-stats" }, totalBox, rateBox, lagBox, dlqBox, rejBox), types, listTitle, list));

    pause.addEventListener("click", () => { model.set("paused", !model.get("paused")); model.save_changes(); });

    function update() {
      setText(title, model.get("title"));
      setText(total, fmt(model.get("total")));
      total.dataset.value = String(model.get("total"));
      setText(rate, fmt(model.get("rate")));
      setText(lag, fmt(model.get("lag")));
      setText(dlq, fmt(model.get("dead_letters")));
      setText(rej, fmt(model.get("rejected")));
      setText(pause, model.get("paused") ? "Resume" : "Pause");
      const counts = Object.entries(model.get("counts") || {}).sort((a, b) => b[1] - a[1]);
      const top = counts.length ? counts[0][1] : 1;
      clear(types);
      for (const [type, n] of counts) {
        types.append(h("div", { class: "alchemist-feed-row" },
          h("span", { class: "alchemist-swatch", style: { width: `${Math.max(2, 120 * n / top)}px`, background: "#3f88d0" } }),
          ` ${type} ${fmt(n)}`));
      }
      clear(list);
      // one row per event, labelled by its own time (a batch message's sequence is in the tooltip)
      for (const e of model.get("last_events") || []) {
        const where = e.seq != null ? `stream sequence ${e.seq}, event ${(e.index ?? 0) + 1} of its message` : "";
        list.append(h("div", { class: "alchemist-feed-row", "data-testid": "feed-row", title: [where, e.id].filter(Boolean).join(" · ") },
          h("time", { class: "alchemist-muted", datetime: e.time, "data-testid": "feed-date" }, e.date || e.time || ""),
          " ", h("span", { class: "alchemist-feed-type" }, e.type), " ", h("span", {}, e.summary)));
      }
    }
    const names = ["total", "rate", "lag", "counts", "last_events", "dead_letters", "rejected", "paused", "title"];
    for (const n of names) model.on(`change:${n}`, update);
    update();
    return () => { for (const n of names) model.off(`change:${n}`, update); };
  },
};
