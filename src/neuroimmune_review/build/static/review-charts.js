// Draws every chart on the page from its embedded Vega spec.  The specs were compiled from
// Vega-Lite when the site was built (render.Figure, through vl-convert), so readers download
// only the Vega runtime (static/vendor/, loaded just before this file) and a page never
// requests anything from another host.  `window.reviewChartsRendered` resolves once all
// charts on the page are drawn (used by the browser tests and the benchmark); each chart's
// vega.View is kept on its container as `reviewView`, for the explorer's controls.
//
// A chart that must stay wider than its column (a matrix with one column per mediator)
// scrolls sideways inside its figure; `review-chart--wide` then shows a visible cue.
function markWide(figure) {
  if (!figure) return;
  const wide = figure.scrollWidth > figure.clientWidth + 1;
  figure.classList.toggle("review-chart--wide", wide);
}

// A chart whose data is a file of the site (the explorer's) loads it once through here; the
// explorer's table reads the same parsed file, so the page requests it once.
const reviewDataFiles = new Map();
window.reviewLoadJson = (url) => {
  const href = new URL(url, document.baseURI).href;
  if (!reviewDataFiles.has(href)) {
    reviewDataFiles.set(
      href,
      fetch(href).then((response) => {
        if (!response.ok) throw new Error(`${href}: HTTP ${response.status}`);
        return response.json();
      })
    );
  }
  return reviewDataFiles.get(href);
};

async function inlineDataFiles(spec) {
  const files = (spec.data || []).filter((d) => d.url);
  await Promise.all(
    files.map(async (d) => {
      const json = await window.reviewLoadJson(d.url);
      d.values = d.format && d.format.property ? json[d.format.property] : json;
      delete d.url;
      delete d.format;
    })
  );
}

// Tooltips: vega-embed's vega-tooltip plugin is not shipped, so this small handler shows a
// mark's tooltip in one shared box (same id as vega-tooltip's).  Text only: values are put in
// with textContent, so curator text can never become markup.
function tooltipBox() {
  let box = document.getElementById("vg-tooltip-element");
  if (!box) {
    box = document.createElement("div");
    box.id = "vg-tooltip-element";
    box.className = "review-tooltip";
    box.setAttribute("role", "tooltip");
    box.hidden = true;
    document.body.append(box);
  }
  return box;
}

function showTooltip(handler, event, item, value) {
  const box = tooltipBox();
  if (value === null || value === undefined || value === "") {
    box.hidden = true;
    return;
  }
  const rows = typeof value === "object" ? Object.entries(value) : [[null, value]];
  box.replaceChildren(
    ...rows.map(([key, text]) => {
      const line = document.createElement("div");
      if (key !== null) {
        const name = document.createElement("strong");
        name.textContent = `${key}: `;
        line.append(name);
      }
      line.append(String(text));
      return line;
    })
  );
  box.hidden = false;
  const x = Math.min(event.clientX + 12, window.innerWidth - box.offsetWidth - 8);
  const y = event.clientY + 12 + box.offsetHeight > window.innerHeight
    ? event.clientY - box.offsetHeight - 12 : event.clientY + 12;
  box.style.left = `${Math.max(8, x) + window.scrollX}px`;
  box.style.top = `${Math.max(8, y) + window.scrollY}px`;
}

async function drawChart(block) {
  const target = document.getElementById(block.dataset.target);
  if (!target || target.dataset.rendered) return null;
  target.dataset.rendered = "pending";
  const spec = JSON.parse(block.textContent);
  await inlineDataFiles(spec);
  const view = new vega.View(vega.parse(spec), {
    renderer: block.dataset.renderer || "svg", // "canvas" for charts of thousands of marks
    container: target,
    hover: true,
  });
  view.tooltip(showTooltip);
  target.reviewView = view;
  await view.runAsync();
  target.dataset.rendered = "yes";
  const figure = target.closest("figure.review-chart");
  view.addResizeListener(() => markWide(figure));
  return view;
}

// The scroll cues are set once all charts are drawn: reading a figure's width lays out the
// page, and doing so after each chart laid out a long page once per chart.
async function renderReviewCharts() {
  const blocks = document.querySelectorAll("script.review-chart__spec");
  const views = await Promise.all([...blocks].map(drawChart));
  const figures = [...document.querySelectorAll("figure.review-chart")];
  const wide = figures.map((f) => f.scrollWidth > f.clientWidth + 1); // all reads, then writes
  figures.forEach((f, i) => f.classList.toggle("review-chart--wide", wide[i]));
  return views;
}

window.addEventListener("resize", () => {
  document.querySelectorAll("figure.review-chart").forEach(markWide);
});

window.reviewChartsRendered = new Promise((resolve, reject) => {
  const start = () => renderReviewCharts().then(resolve, reject);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
});
