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

async function drawChart(block) {
  const target = document.getElementById(block.dataset.target);
  if (!target || target.dataset.rendered) return null;
  target.dataset.rendered = "pending";
  const spec = JSON.parse(block.textContent);
  await inlineDataFiles(spec);
  const view = new vega.View(vega.parse(spec), {
    renderer: "svg",
    container: target,
    hover: true,
  });
  target.reviewView = view;
  await view.runAsync();
  target.dataset.rendered = "yes";
  const figure = target.closest("figure.review-chart");
  markWide(figure);
  view.addResizeListener(() => markWide(figure));
  return view;
}

function renderReviewCharts() {
  const blocks = document.querySelectorAll("script.review-chart__spec");
  return Promise.all([...blocks].map(drawChart));
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
