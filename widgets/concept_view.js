// ConceptSpaceView front end: the kernel's picture of the regions; a click asks the kernel to
// categorize that point.

export default {
  render({ model, el }) {
    const img = h("img", { class: "alchemist-cs-image", draggable: "false", "data-testid": "concept-image" });
    const result = h("span", { class: "alchemist-status", "data-testid": "concept-result" });
    const legend = h("div", { class: "alchemist-legend" });
    const title = h("span", { class: "alchemist-title" });
    const marker = h("div", { class: "alchemist-cs-marker", "data-testid": "concept-marker", style: { display: "none" } });
    el.append(h("div", { class: "alchemist alchemist-conceptview", "data-testid": "conceptview" },
      h("div", { class: "alchemist-toolbar" }, title, result), h("div", { class: "alchemist-cs-stage" }, img, marker), legend));
    let url = null;
    img.addEventListener("click", (ev) => {
      const r = img.getBoundingClientRect();
      const sx = model.get("width") / r.width, sy = model.get("height") / r.height;
      model.send({ type: "click", x: (ev.clientX - r.left) * sx, y: (ev.clientY - r.top) * sy });
    });
    function update() {
      if (url) URL.revokeObjectURL(url);
      url = imageUrl(model.get("image"), "png");
      if (url) img.src = url;
      setText(title, model.get("title"));
      clear(legend);
      model.get("names").forEach((name, i) => legend.append(h("span", { class: "alchemist-legend-item" },
        h("span", { class: "alchemist-swatch", style: { background: safeColor(model.get("colors")[i]) } }), name)));
      const c = model.get("clicked") || {};
      setText(result, c.name == null ? "click to categorize" : `(${fmt(c.x, 2)}, ${fmt(c.y, 2)}) → ${c.name}`);
      if (c.name != null) Object.assign(result.dataset, { concept: String(c.concept), x: String(c.x), y: String(c.y) });
      // the clicked point, in the colour of its concept (pixel → displayed size)
      if (c.px != null && img.width) {
        const kx = img.width / model.get("width"), ky = img.height / model.get("height");
        Object.assign(marker.style, { display: "block", left: `${c.px * kx}px`, top: `${c.py * ky}px`,
          borderColor: safeColor(model.get("colors")[c.concept]) });
      } else marker.style.display = "none";
    }
    const names = ["image", "names", "colors", "clicked", "title"];
    for (const n of names) model.on(`change:${n}`, update);
    update();
    return () => { for (const n of names) model.off(`change:${n}`, update); if (url) URL.revokeObjectURL(url); };
  },
};
