// Timeline front end: a slider over versions or time, between the first and the last event's dates,
// with playback. Playback steps the value in
// the browser; the kernel renders only the newest value it has not drawn yet.
// Compare: the button pins the state shown as the earlier one (a second slider moves it); the kernel
// colours the view by what changed from it to the slider's state.

export default {
  render({ model, el }) {
    const slider = h("input", { type: "range", "data-testid": "timeline-slider" });
    const play = h("button", { class: "alchemist-button", "data-testid": "timeline-play" });
    const label = h("div", { class: "alchemist-status", "data-testid": "timeline-label" });
    const start = h("span", { class: "alchemist-muted", "data-testid": "timeline-start" });
    const end = h("span", { class: "alchemist-muted", "data-testid": "timeline-end" });
    const compare = h("button", { class: "alchemist-button", "data-testid": "timeline-compare",
      title: "compare the state shown with an earlier one (the second slider)" });
    const pinned = h("input", { type: "range", "data-testid": "timeline-compare-slider", title: "the earlier state" });
    const compared = h("div", { class: "alchemist-status", "data-testid": "timeline-compare-label" });
    const compareRow = h("div", { class: "alchemist-toolbar" }, h("span", { class: "alchemist-muted" }, "compared with"), pinned);
    el.append(h("div", { class: "alchemist alchemist-timeline", "data-testid": "timeline" },
      h("div", { class: "alchemist-toolbar" }, play, start, slider, end, compare), compareRow, label, compared));
    let timer = null;

    function sync() {
      slider.min = model.get("min"); slider.max = model.get("max"); slider.step = model.get("step");
      slider.value = model.get("value");
      setText(label, model.get("label"));
      setText(start, model.get("start_label"));
      setText(end, model.get("end_label"));
      setText(play, model.get("playing") ? "Pause" : "Play");
      const comparing = !!model.get("comparing");
      pinned.min = model.get("min"); pinned.max = model.get("max"); pinned.step = model.get("step");
      pinned.value = model.get("compare_value");
      compareRow.style.display = comparing ? "" : "none";
      compared.style.display = comparing ? "" : "none";
      setText(compared, model.get("compare_label"));
      setText(compare, comparing ? "Stop comparing" : "Compare");
      clearInterval(timer);
      if (model.get("playing")) timer = setInterval(tick, Math.max(30, model.get("interval_ms")));
    }
    function tick() {
      const next = Math.min(model.get("max"), model.get("value") + model.get("step"));
      model.set("value", next);
      if (next >= model.get("max")) model.set("playing", false);
      model.save_changes();
    }
    slider.addEventListener("input", () => { model.set("value", Number(slider.value)); model.save_changes(); });
    pinned.addEventListener("input", () => { model.set("compare_value", Number(pinned.value)); model.save_changes(); });
    compare.addEventListener("click", () => {
      if (!model.get("comparing")) model.set("compare_value", model.get("value"));  // pin the state shown
      model.set("comparing", !model.get("comparing")); model.save_changes();
    });
    play.addEventListener("click", () => {
      if (!model.get("playing") && model.get("value") >= model.get("max")) model.set("value", model.get("min"));
      model.set("playing", !model.get("playing")); model.save_changes();
    });
    const names = ["min", "max", "step", "value", "label", "start_label", "end_label", "playing", "interval_ms",
      "comparing", "compare_value", "compare_label"];
    for (const n of names) model.on(`change:${n}`, sync);
    sync();
    return () => { clearInterval(timer); for (const n of names) model.off(`change:${n}`, sync); };
  },
};
