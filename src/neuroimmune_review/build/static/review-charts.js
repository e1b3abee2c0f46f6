// Draws every chart on the page from its embedded Vega-Lite spec.  This file is
// bundled with vega, vega-lite and vega-embed at build time (vl_convert), so a page
// never requests anything from another host.  `window.reviewChartsRendered` resolves
// once all charts on the page are drawn (used by the browser tests and the benchmark).
async function renderReviewCharts() {
  const specs = document.querySelectorAll("script.review-chart__spec");
  const drawn = [];
  for (const block of specs) {
    const target = document.getElementById(block.dataset.target);
    if (!target || target.dataset.rendered) continue;
    target.dataset.rendered = "pending";
    const spec = JSON.parse(block.textContent);
    drawn.push(
      vegaEmbed(target, spec, { actions: false, renderer: "svg" }).then((result) => {
        target.dataset.rendered = "yes";
        return result;
      })
    );
  }
  return Promise.all(drawn);
}
window.reviewChartsRendered = new Promise((resolve, reject) => {
  const start = () => renderReviewCharts().then(resolve, reject);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
});
