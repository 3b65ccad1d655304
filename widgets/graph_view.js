// GraphView front end: shows the frames the kernel renders and turns the pointer into requests.
// At most one view request is in flight; a newer one replaces the waiting one (coalescing), and the
// picture already shown is moved with a CSS transform until the new frame arrives.

export default {
  render({ model, el }) {
    const W = () => model.get("width");
    const H = () => model.get("height");
    let view = { x: model.get("x_range").slice(), y: model.get("y_range").slice() };
    let shown = { x: view.x.slice(), y: view.y.slice() };
    let url = null;
    let inflight = false, pending = null, inflightTimer = null, settleTimer = null, seq = 0, sentAt = 0;
    // The full frame is asked for at once when a drag is released (the gesture has ended), and SETTLE_MS
    // after the last wheel step (a wheel gesture has no end event): short enough that it is on screen
    // within 300 ms of the view coming to rest, long enough that the steps of one wheel gesture (16-100 ms
    // apart) do not each ask for one. A drag never asks before its release, however slowly it moves, and a
    // draft sent while a full frame is in flight makes the kernel drop that frame between edge batches.
    const SETTLE_MS = 120;
    let restAt = null;  // event time of the last pointer event that moved the view (settleMs on the stage)
    const mountedAt = performance.now();  // firstPictureMs / firstFullMs on the stage: since the view was shown

    let img = h("img", { class: "alchemist-gv-image", draggable: "false", alt: "graph", "data-testid": "graph-image" });
    const overlay = h("canvas", { class: "alchemist-gv-overlay" });
    const labelLayer = h("canvas", { class: "alchemist-gv-overlay", "data-testid": "graph-labels" });
    const tooltip = h("div", { class: "alchemist-tooltip", "data-testid": "tooltip", style: { display: "none" } });
    const stage = h("div", { class: "alchemist-gv-stage", "data-testid": "graph-stage" }, img, labelLayer, overlay, tooltip);
    const title = h("span", { class: "alchemist-title" });
    const status = h("span", { class: "alchemist-status", "data-testid": "status" });
    const live = h("span", { class: "alchemist-badge", "data-testid": "live-counter", title: "graph version: events applied" });
    const colorSelect = h("select", { class: "alchemist-select", title: "colour nodes by", "data-testid": "color-by" });
    const sizeSelect = h("select", { class: "alchemist-select", title: "size nodes by", "data-testid": "size-by" });
    const search = h("input", { type: "search", class: "alchemist-search", placeholder: "find node…", "data-testid": "search",
      title: "a node id or label; Enter centres the view on it" });
    const resetButton = h("button", { class: "alchemist-button", "data-testid": "reset", onclick: () => send({ type: "reset" }) }, "Reset");
    const saveButton = h("button", { class: "alchemist-button", "data-testid": "save-png", title: "download the picture as PNG",
      onclick: () => savePng() }, "Save PNG");
    const legend = h("div", { class: "alchemist-legend", "data-testid": "legend" });
    const colorbar = h("div", { class: "alchemist-colorbar", "data-testid": "colorbar", style: { display: "none" } });
    const root = h("div", { class: "alchemist alchemist-graphview", "data-testid": "graphview" },
      h("div", { class: "alchemist-toolbar" }, title, search, resetButton, h("label", {}, "colour ", colorSelect),
        h("label", {}, "size ", sizeSelect), saveButton, live, status),
      stage, legend, colorbar);
    el.append(root);

    function send(msg) { model.send(msg); }

    function sizeStage() {
      stage.style.width = `${W()}px`;
      stage.style.height = `${H()}px`;
      overlay.width = W();
      overlay.height = H();
      labelLayer.width = W();
      labelLayer.height = H();
      drawLabels();
    }

    // data position -> pixel of the stage for the current view
    const toScreen = (x, y) => [(x - view.x[0]) * W() / (view.x[1] - view.x[0]), (view.y[1] - y) * H() / (view.y[1] - view.y[0])];
    const toData = (px, py) => [view.x[0] + px * (view.x[1] - view.x[0]) / W(), view.y[1] - py * (view.y[1] - view.y[0]) / H()];
    const collab = collaboration({ model, stage, toScreen, toData });  // opt-in: idle until `collaboration` has a URL

    // the labels of the largest nodes, placed from their data positions so that they follow a drag
    function drawLabels() {
      const c = labelLayer.getContext("2d");
      c.clearRect(0, 0, labelLayer.width, labelLayer.height);
      c.font = "12px system-ui, sans-serif";
      c.textBaseline = "middle";
      c.lineWidth = 3;
      c.strokeStyle = "rgba(0, 0, 0, 0.8)";
      c.fillStyle = "#ffffff";
      const placed = [];
      for (const item of model.get("labels") || []) {
        const [px, py] = toScreen(item.x, item.y);
        if (px < 0 || py < 0 || px > W() || py > H()) continue;
        const text = String(item.text);
        const w = c.measureText(text).width, x = Math.min(px + 6, W() - w - 2), y = py;
        if (placed.some(([a, b, aw]) => x < a + aw && a < x + w && Math.abs(b - y) < 13)) continue;  // no overlaps
        placed.push([x, y, w]);
        c.strokeText(text, x, y);
        c.fillText(text, x, y);
      }
      labelLayer.dataset.count = String(placed.length);
    }

    // the picture as shown (frame, then labels) into a PNG download
    function savePng() {
      const canvas = document.createElement("canvas");
      canvas.width = W(); canvas.height = H();
      const c = canvas.getContext("2d");
      c.fillStyle = getComputedStyle(stage).backgroundColor || "#000";
      c.fillRect(0, 0, W(), H());
      const sx = (shown.x[1] - shown.x[0]) / (view.x[1] - view.x[0]), sy = (shown.y[1] - shown.y[0]) / (view.y[1] - view.y[0]);
      const tx = (shown.x[0] - view.x[0]) * W() / (view.x[1] - view.x[0]), ty = (view.y[1] - shown.y[1]) * H() / (view.y[1] - view.y[0]);
      if (img.complete && img.naturalWidth) c.drawImage(img, tx, ty, W() * sx, H() * sy);
      c.drawImage(labelLayer, 0, 0);
      canvas.toBlob((blob) => {
        const a = h("a", { href: URL.createObjectURL(blob), download: `${(model.get("title") || "graph").replace(/[^\w.-]+/g, "_")}.png` });
        document.body.append(a);
        a.click();
        setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      }, "image/png");
    }

    // CSS transform mapping the frame shown (ranges `shown`) onto the current view
    function applyTransform() {
      const sx = (shown.x[1] - shown.x[0]) / (view.x[1] - view.x[0]);
      const sy = (shown.y[1] - shown.y[0]) / (view.y[1] - view.y[0]);
      const tx = (shown.x[0] - view.x[0]) * W() / (view.x[1] - view.x[0]);
      const ty = (view.y[1] - shown.y[1]) * H() / (view.y[1] - view.y[0]);
      img.style.transform = `translate(${tx}px, ${ty}px) scale(${sx}, ${sy})`;
      stage.dataset.xRange = view.x.join(",");
      stage.dataset.yRange = view.y.join(",");
      drawLabels();
      collab.redraw();
    }

    function request(draft) {
      pending = { type: "view", x_range: view.x.slice(), y_range: view.y.slice(), draft };
      pump();
    }

    // one request in flight, except that a draft (the view moves again) does not wait for a full
    // frame: the kernel abandons that frame for it
    let inflightFull = false;
    function pump() {
      if (!pending || (inflight && !(inflightFull && pending.draft))) return;
      inflight = true;
      inflightFull = !pending.draft;
      pending.seq = ++seq;
      sentAt = performance.now();
      stage.dataset.requestDraft = String(!!pending.draft);
      stage.dataset.requestSeq = String(seq);
      send(pending);
      pending = null;
      clearTimeout(inflightTimer);
      inflightTimer = setTimeout(() => { inflight = false; pump(); }, 5000);  // a lost reply never blocks
    }

    function settleSoon() {
      clearTimeout(settleTimer);
      settleTimer = setTimeout(() => request(false), SETTLE_MS);
    }

    // A frame (image + ranges + frame info, one message) is decoded off screen and swapped in with
    // its transform, so the picture never jumps; the next request goes out as soon as the frame
    // arrives (the kernel renders while the browser decodes). roundTripMs: request sent → frame shown.
    let lastImage = null, newest = 0;
    function onFrame() {
      const image = model.get("image");
      if (image === lastImage) return;  // change:image and change:frame of the same message
      lastImage = image;
      const frame = model.get("frame") || {};
      const ranges = { x: model.get("x_range").slice(), y: model.get("y_range").slice() };
      const measured = inflight && frame.seq === seq ? sentAt : null;
      const token = ++newest;
      if (!(frame.seq > 0 && frame.seq < seq)) {  // not the late reply to a request a draft overtook
        inflight = false;
        clearTimeout(inflightTimer);
        pump();
      }
      const next = imageUrl(image, model.get("image_format"));
      const show = (loaded) => {
        if (token !== newest) { if (next) URL.revokeObjectURL(next); return; }  // a newer frame won
        if (loaded) {
          img.replaceWith(loaded);
          img = loaded;
          if (url) URL.revokeObjectURL(url);
          url = next;
        }
        shown = ranges;
        if ((!dragging && !pending && frame.seq === seq) || frame.seq === undefined || frame.seq < 0) {
          view = { x: shown.x.slice(), y: shown.y.slice() };
        }
        applyTransform();
        stage.dataset.frameSeq = String(frame.seq);
        stage.dataset.draft = String(!!frame.draft);
        stage.dataset.renderMs = String(frame.render_ms);
        stage.dataset.lod = String(frame.lod || "");
        const since = (performance.now() - mountedAt).toFixed(1);
        if (loaded && !stage.dataset.firstPictureMs) stage.dataset.firstPictureMs = since;
        if (loaded && !frame.draft && !stage.dataset.firstFullMs) stage.dataset.firstFullMs = since;
        if (measured !== null) {
          stage.dataset.roundTripMs = (performance.now() - measured).toFixed(1);
          stage.dataset.roundTripSeq = String(frame.seq);
        }
        if (loaded && !frame.draft && frame.seq === seq && restAt !== null && !dragging) {
          // settleMs: the view's last move (a wheel step or the drag's release) → its full frame shown
          stage.dataset.settleMs = (performance.now() - restAt).toFixed(1);
          stage.dataset.settleSeq = String(frame.seq);
          restAt = null;
        }
      };
      if (!next) { show(null); return; }
      const loaded = img.cloneNode(false);
      loaded.src = next;
      loaded.decode().then(() => show(loaded), () => show(loaded));
    }

    function onMeta() {
      setText(title, model.get("title"));
      setText(status, model.get("status"));
      setText(live, `${model.get("live") ? "live · " : ""}version ${fmt(model.get("version"))}`);
      live.dataset.version = String(model.get("version"));
      live.classList.toggle("alchemist-live", !!model.get("live"));
    }

    function onColumns() {
      clear(colorSelect);
      colorSelect.append(h("option", { value: "" }, "(none)"));
      for (const name of model.get("columns")) colorSelect.append(h("option", { value: name }, name));
      colorSelect.value = model.get("color_by") || "";
      clear(sizeSelect);
      sizeSelect.append(h("option", { value: "" }, "(same)"));
      for (const name of model.get("size_columns")) sizeSelect.append(h("option", { value: name }, name));
      sizeSelect.value = model.get("size_by") || "";
    }

    function onLegend() {
      clear(legend);
      for (const item of model.get("legend")) {
        legend.append(h("span", { class: "alchemist-legend-item" },
          h("span", { class: "alchemist-swatch", style: { background: safeColor(item.color) } }), item.label));
      }
    }

    // a numeric colour: the ramp as a gradient bar with its ticks and the column's name
    function onColorbar() {
      const bar = model.get("colorbar") || {};
      clear(colorbar);
      if (!bar.stops || !bar.stops.length) { colorbar.style.display = "none"; return; }
      colorbar.style.display = "";
      const stops = bar.stops.map(safeColor).join(", ");
      const ramp = h("div", { class: "alchemist-colorbar-ramp", "data-testid": "colorbar-ramp", style: { background: `linear-gradient(to right, ${stops})` } });
      const ticks = h("div", { class: "alchemist-colorbar-ticks" });
      for (const tick of bar.ticks || []) {
        ticks.append(h("span", { class: "alchemist-colorbar-tick", "data-testid": "colorbar-tick", style: { left: `${100 * Number(tick.position)}%` } }, tick.label));
      }
      colorbar.append(h("div", { class: "alchemist-colorbar-title" }, `${bar.column || ""}${bar.scale === "log" ? " (log scale)" : ""}`),
        h("div", { class: "alchemist-colorbar-body" }, ramp, ticks));
    }

    function onSearchResult() {
      const result = model.get("search_result") || {};
      search.classList.toggle("alchemist-search-miss", !!result.query && !result.id);
      search.dataset.found = result.id == null ? "" : String(result.id);
      search.title = result.query && !result.id ? `no node matches "${result.query}"` : "a node id or label; Enter centres the view on it";
    }

    function onHover() {
      const info = model.get("hovered") || {};
      if (!info.id) { tooltip.style.display = "none"; return; }
      clear(tooltip);
      tooltip.append(h("div", { class: "alchemist-tooltip-title", "data-testid": "tooltip-label" }, info.label));
      for (const [key, value] of Object.entries(info.properties || {})) {
        tooltip.append(h("div", {}, h("span", { class: "alchemist-key" }, key), " ", value));
      }
      tooltip.style.left = `${Math.min(info.x + 12, W() - 160)}px`;
      tooltip.style.top = `${Math.min(info.y + 12, H() - 40)}px`;
      tooltip.style.display = "block";
    }

    // ---- pointer
    let dragging = null, lasso = null, lastHover = 0;
    const ctx = overlay.getContext("2d");
    const local = (ev) => { const r = stage.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; };

    function onDown(ev) {
      if (ev.button !== 0) return;
      stage.setPointerCapture?.(ev.pointerId);
      const p = local(ev);
      if (ev.shiftKey) { lasso = [p]; return; }
      dragging = { p, x: view.x.slice(), y: view.y.slice(), moved: false };
      tooltip.style.display = "none";
    }

    function onMove(ev) {
      const p = local(ev);
      collab.pointer(p);
      if (dragging) {
        const dx = p[0] - dragging.p[0], dy = p[1] - dragging.p[1];
        if (Math.abs(dx) + Math.abs(dy) > 3) dragging.moved = true;
        const kx = (dragging.x[1] - dragging.x[0]) / W(), ky = (dragging.y[1] - dragging.y[0]) / H();
        view = { x: [dragging.x[0] - dx * kx, dragging.x[1] - dx * kx], y: [dragging.y[0] + dy * ky, dragging.y[1] + dy * ky] };
        applyTransform();
        if (dragging.moved) { restAt = ev.timeStamp; request(true); }
      } else if (lasso) {
        lasso.push(p);
        ctx.clearRect(0, 0, overlay.width, overlay.height);
        ctx.strokeStyle = "#ff4f7a"; ctx.lineWidth = 1.5; ctx.beginPath();
        lasso.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.stroke();
      } else if (ev.timeStamp - lastHover > 60) {
        lastHover = ev.timeStamp;
        send({ type: "hover", x: p[0], y: p[1], x_range: view.x, y_range: view.y });
      }
    }

    function onUp(ev) {
      const p = local(ev);
      if (dragging) {
        if (!dragging.moved) send({ type: "click", x: p[0], y: p[1], shift: ev.shiftKey, x_range: view.x, y_range: view.y });
        else { restAt = ev.timeStamp; clearTimeout(settleTimer); request(false); }  // released: at rest now
        dragging = null;
      } else if (lasso) {
        if (lasso.length > 2) send({ type: "lasso", points: lasso, shift: ev.shiftKey, x_range: view.x, y_range: view.y });
        lasso = null;
        ctx.clearRect(0, 0, overlay.width, overlay.height);
      }
    }

    function onWheel(ev) {
      ev.preventDefault();
      const [px, py] = local(ev);
      const f = Math.exp(Math.max(-300, Math.min(300, ev.deltaY)) * 0.002);
      const cx = view.x[0] + px / W() * (view.x[1] - view.x[0]);
      const cy = view.y[1] - py / H() * (view.y[1] - view.y[0]);
      view = { x: [cx - (cx - view.x[0]) * f, cx + (view.x[1] - cx) * f], y: [cy - (cy - view.y[0]) * f, cy + (view.y[1] - cy) * f] };
      applyTransform();
      restAt = ev.timeStamp;
      request(true);
      settleSoon();
    }

    function onLeave() { tooltip.style.display = "none"; }

    stage.addEventListener("pointerdown", onDown);
    stage.addEventListener("pointermove", onMove);
    stage.addEventListener("pointerup", onUp);
    stage.addEventListener("pointerleave", onLeave);
    stage.addEventListener("wheel", onWheel, { passive: false });
    stage.addEventListener("dblclick", () => send({ type: "reset" }));
    colorSelect.addEventListener("change", () => { model.set("color_by", colorSelect.value); model.save_changes(); });
    sizeSelect.addEventListener("change", () => { model.set("size_by", sizeSelect.value); model.save_changes(); });
    search.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && search.value.trim()) send({ type: "search", query: search.value.trim() });
    });

    const handlers = [
      ["change:frame", onFrame], ["change:image", onFrame], ["change:hovered", onHover], ["change:legend", onLegend],
      ["change:columns", onColumns], ["change:color_by", onColumns], ["change:status", onMeta], ["change:version", onMeta],
      ["change:live", onMeta], ["change:title", onMeta], ["change:width", sizeStage], ["change:height", sizeStage],
      ["change:colorbar", onColorbar], ["change:labels", drawLabels], ["change:size_columns", onColumns],
      ["change:size_by", onColumns], ["change:search_result", onSearchResult],
    ];
    for (const [name, fn] of handlers) model.on(name, fn);
    sizeStage(); onMeta(); onColumns(); onLegend(); onColorbar(); onFrame();

    return () => {
      for (const [name, fn] of handlers) model.off(name, fn);
      clearTimeout(settleTimer); clearTimeout(inflightTimer);
      collab.stop();
      if (url) URL.revokeObjectURL(url);
    };
  },
};
