// GraphView's collaboration mode (opt-in: the `collaboration` trait holds the gateway's WebSocket URL).
// The browser talks to the gateway directly: its pointer goes out as a cursor in graph coordinates
// (at most one per 50 ms, the last one always sent), the view's `selected` as the shared selection;
// the other sessions' cursors are drawn as coloured arrows with their names, and their selections
// are handed to the kernel, which answers with the positions to ring (`collab_marks`).
// User strings only ever become text nodes.

function collaboration({ model, stage, toScreen, toData }) {
  const W = () => model.get("width"), H = () => model.get("height");
  const cursors = h("div", { "data-testid": "collab-cursors",
    style: { position: "absolute", left: "0", top: "0", width: "100%", height: "100%", pointerEvents: "none", overflow: "hidden" } });
  const marks = h("canvas", { class: "alchemist-gv-overlay", "data-testid": "collab-marks" });
  const badge = h("div", { "data-testid": "collab-status",
    style: { position: "absolute", right: "6px", bottom: "4px", font: "11px system-ui, sans-serif", color: "#ddd",
      background: "rgba(0,0,0,0.55)", padding: "1px 6px", borderRadius: "3px", pointerEvents: "none", display: "none" } });
  stage.append(marks, cursors, badge);
  const peers = new Map();
  let ws = null, url = null, me = null, retryTimer = null, cursorTimer = null, lastCursor = 0, waiting = null, stopped = false;

  function status(text, state) {
    badge.style.display = text ? "" : "none";
    setText(badge, text);
    badge.dataset.state = state || "";
  }

  function connect() {
    const cfg = model.get("collaboration") || {};
    if (cfg.url === url && ws) return;
    disconnect();
    url = cfg.url || null;
    if (!url || stopped) { status("", ""); return; }
    status("connecting…", "connecting");
    const socket = ws = new WebSocket(url);
    socket.onmessage = (ev) => { if (socket === ws) { try { onFrame(JSON.parse(ev.data)); } catch (e) { /* not JSON */ } } };
    socket.onopen = () => { if (socket === ws) shareSelection(); };
    socket.onclose = (ev) => {
      if (socket !== ws) return;
      ws = null; me = null; peers.clear(); draw(); tellKernel();
      const refused = ev.code === 4401 || ev.code === 4403 || ev.code === 4400;
      status(refused ? `collaboration refused: ${ev.reason || ev.code}` : "collaboration offline, reconnecting…", "closed");
      if (!refused && !stopped && url) retryTimer = setTimeout(() => { url = null; connect(); }, 2000);
    };
  }

  function disconnect() {
    clearTimeout(retryTimer); clearTimeout(cursorTimer);
    if (ws) { const s = ws; ws = null; try { s.close(1000, "bye"); } catch (e) { /* already closed */ } }
    peers.clear(); me = null;
    draw();
  }

  function onFrame(f) {
    if (f.type === "welcome") {
      me = f.session; peers.clear();
      for (const p of f.peers || []) peers.set(p.session, p);
      stage.dataset.collabSession = me;
    } else if (f.type === "join") {
      peers.set(f.session, { ...(peers.get(f.session) || {}), session: f.session, user: f.user });
    } else if (f.type === "leave") {
      peers.delete(f.session);
    } else if (f.type === "cursor_moved") {
      peers.set(f.session, { ...(peers.get(f.session) || {}), session: f.session, user: f.user, x: f.x, y: f.y });
    } else if (f.type === "selection_changed") {
      peers.set(f.session, { ...(peers.get(f.session) || {}), session: f.session, user: f.user, node_ids: f.node_ids });
    } else if (f.type === "error") {
      badge.title = String(f.message || "");
      return;
    } else return;
    status(`collaborating · ${peers.size} other${peers.size === 1 ? "" : "s"}`, "open");
    draw();
    if (f.type !== "cursor_moved") tellKernel();
  }

  function tellKernel() {
    model.send({ type: "collab_peers", peers: [...peers.values()].map((p) => ({ session: p.session, user: p.user, node_ids: p.node_ids || [] })) });
  }

  function shareSelection() {
    const cfg = model.get("collaboration") || {};
    if (!ws || ws.readyState !== 1 || cfg.share_selection === false) return;
    ws.send(JSON.stringify({ type: "selection_changed", node_ids: (model.get("selected") || []).slice(0, 5000) }));
  }

  // the local pointer (pixels of the stage) as a cursor in graph coordinates, throttled
  function pointer(p) {
    if (!ws || ws.readyState !== 1) return;
    const [x, y] = toData(p[0], p[1]);
    waiting = { type: "cursor_moved", x, y };
    const now = performance.now();
    if (now - lastCursor >= 50) flushCursor();
    else if (!cursorTimer) cursorTimer = setTimeout(flushCursor, 50 - (now - lastCursor));
  }

  function flushCursor() {
    cursorTimer = null;
    if (!waiting || !ws || ws.readyState !== 1) return;
    lastCursor = performance.now();
    ws.send(JSON.stringify(waiting));
    waiting = null;
  }

  function draw() {
    clear(cursors);
    let shown = 0;
    for (const p of peers.values()) {
      if (p.x == null || p.y == null || !p.user) continue;
      const [px, py] = toScreen(p.x, p.y);
      if (!(px >= 0 && py >= 0 && px <= W() && py <= H())) continue;
      const color = safeColor(p.user.color);
      const arrow = svg("svg", { width: 14, height: 18, viewBox: "0 0 14 18" });
      arrow.append(svg("path", { d: "M1 1 L1 15 L5 11 L8 17 L10 16 L7 10 L13 10 Z", fill: color, stroke: "#fff", "stroke-width": 1 }));
      cursors.append(h("div", { class: "alchemist-collab-cursor", "data-testid": "collab-cursor", "data-user": p.user.name,
        "data-x": px.toFixed(1), "data-y": py.toFixed(1),
        style: { position: "absolute", left: `${px}px`, top: `${py}px`, pointerEvents: "none" } },
        arrow, h("span", { style: { background: color, color: "#fff", font: "11px system-ui, sans-serif", padding: "1px 4px",
          borderRadius: "3px", marginLeft: "2px", whiteSpace: "nowrap" } }, p.user.name)));
      shown += 1;
    }
    cursors.dataset.count = String(shown);
    marks.width = W(); marks.height = H();
    const c = marks.getContext("2d");
    c.clearRect(0, 0, marks.width, marks.height);
    let rings = 0;
    const ids = [];
    for (const m of model.get("collab_marks") || []) {
      if (!peers.has(m.session)) continue;
      c.strokeStyle = safeColor(m.color); c.lineWidth = 2.5;
      for (const [x, y] of m.points || []) {
        const [px, py] = toScreen(x, y);
        if (px < -10 || py < -10 || px > W() + 10 || py > H() + 10) continue;
        c.beginPath(); c.arc(px, py, 8, 0, 2 * Math.PI); c.stroke();
        rings += 1;
      }
      ids.push(...(m.ids || []));
    }
    marks.dataset.count = String(rings);
    marks.dataset.ids = ids.join(",");
  }

  const handlers = [["change:collaboration", connect], ["change:selected", shareSelection], ["change:collab_marks", draw]];
  for (const [name, fn] of handlers) model.on(name, fn);
  connect();

  return {
    pointer,
    redraw: draw,
    stop() { stopped = true; for (const [name, fn] of handlers) model.off(name, fn); disconnect(); },
  };
}
