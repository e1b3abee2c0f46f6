// The evidence explorer's controls (pages/synthesis/explorer.py writes the markup).
// - The menus above the chart set the chart's filter signals.
// - Clicking a mark chooses its cell (double click or "Show every cell" clears it).
// - The findings in view are listed as an HTML table below the chart, every source linked to
//   its entry on the References page, and can be downloaded as CSV.
// - The view (menus and chosen cell) is kept in the page address (#family=cytokine&...), so a
//   view can be shared, and is restored when the page is opened with such an address.
// `window.reviewExplorerReady` resolves once the explorer has applied the view of the URL.
const CELL_KEYS = ["intervention", "mediator"];
const ALL_CLASSES = "All antidepressant classes";
const COLUMNS = [
  // [heading, value of a stratum, priority on narrow screens]
  ["Intervention", (s) => s.intervention, 1],
  ["Mediator", (s) => s.mediator, 1],
  ["Evidence", (s) => s.evidence, 2],
  ["Species", (s) => s.species, 2],
  ["Sources by direction", (s) => s.summary, 1],
  ["Sources", null, 1],
  ["Class or group", (s) => s.group, 3],
  ["Claim type", (s) => s.claim, 3],
];

function matches(stratum, filters, antidepressantGroups) {
  const f = filters;
  return (
    (f.claim === "All" || stratum.claim === f.claim) &&
    (f.evidence === "All" || stratum.evidence === f.evidence) &&
    (f.species === "All" || stratum.species === f.species) &&
    (f.class === "All" ||
      stratum.group === f.class ||
      (f.class === ALL_CLASSES && antidepressantGroups.has(stratum.group))) &&
    (f.family === "All" || stratum.family === f.family)
  );
}

function csvField(value) {
  const text = String(value ?? "");
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function startExplorer(section) {
  const form = section.querySelector(".review-explorer__filters");
  const selects = [...form.querySelectorAll("select")];
  const canvas = section.querySelector(".review-chart__canvas");
  const status = section.querySelector(".review-explorer__status");
  const share = section.querySelector(".review-explorer__share");
  const tableBox = section.querySelector(".review-explorer__table");
  const clear = section.querySelector(".review-explorer__clear");
  const csvButton = section.querySelector(".review-explorer__csv");
  const references = section.dataset.references;

  await window.reviewChartsRendered;
  const view = canvas.reviewView;
  // In the chart's order: class or group, intervention, T-helper axis, mediator.
  const strata = [...(await window.reviewLoadJson(section.dataset.src)).strata].sort(
    (a, b) =>
      a.gorder - b.gorder ||
      a.intervention.localeCompare(b.intervention) ||
      a.morder - b.morder ||
      a.mediator.localeCompare(b.mediator) ||
      a.evidence.localeCompare(b.evidence) ||
      a.species.localeCompare(b.species)
  );
  const antidepressantGroups = new Set(JSON.parse(section.dataset.classes));
  let cell = { intervention: "", mediator: "" };

  function filters() {
    return Object.fromEntries(selects.map((s) => [s.name, s.value]));
  }

  function inView() {
    const f = filters();
    return strata.filter(
      (s) =>
        matches(s, f, antidepressantGroups) &&
        (!cell.intervention ||
          (s.intervention === cell.intervention && s.mediator === cell.mediator))
    );
  }

  function writeUrl() {
    const params = new URLSearchParams();
    selects.forEach((s) => {
      if (s.value !== s.dataset.default) params.set(s.name, s.value);
    });
    if (cell.intervention) CELL_KEYS.forEach((k) => params.set(k, cell[k]));
    const hash = params.toString();
    history.replaceState(null, "", hash ? `#${hash}` : location.pathname + location.search);
    share.textContent = hash ? "The page address now holds this view: copy it to share." : "";
  }

  function renderTable(rows) {
    const table = document.createElement("table");
    table.className = "table";
    const caption = table.createCaption();
    caption.textContent = `Findings in this view, one line per claim type, intervention, mediator, evidence type and species (${rows.length} lines)`;
    const head = table.createTHead().insertRow();
    COLUMNS.forEach(([heading, , priority]) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.dataset.priority = String(priority);
      th.textContent = heading;
      head.append(th);
    });
    const body = table.createTBody();
    rows.forEach((s) => {
      const tr = body.insertRow();
      COLUMNS.forEach(([heading, value, priority]) => {
        const td = tr.insertCell();
        td.dataset.label = heading;
        td.dataset.priority = String(priority);
        if (value) {
          td.textContent = value(s);
          return;
        }
        s.src.forEach((label, i) => {
          if (i) td.append("; ");
          const a = document.createElement("a");
          a.href = `${references}#ref-${s.src_keys[i]}`;
          a.textContent = label;
          td.append(a);
        });
      });
    });
    const box = document.createElement("div");
    box.className = "review-table";
    box.dataset.noun = "lines";
    const scroll = document.createElement("div");
    scroll.className = "review-table__scroll";
    scroll.setAttribute("role", "region");
    scroll.tabIndex = 0;
    scroll.setAttribute("aria-label", "Findings in this view");
    scroll.append(table);
    box.append(scroll);
    tableBox.replaceChildren(box);
    if (window.reviewTables) window.reviewTables.enhance(box);
  }

  async function update({ url = true } = {}) {
    selects.forEach((s) => view.signal(s.dataset.signal, s.value));
    view.signal("cell_intervention", cell.intervention);
    view.signal("cell_mediator", cell.mediator);
    // Re-run the layout, so the drawing shrinks to what the filters leave (no blank space).
    view.resize();
    await view.runAsync();
    const figure = canvas.closest("figure");
    figure.classList.toggle("review-chart--wide", figure.scrollWidth > figure.clientWidth + 1);
    const rows = inView();
    // Distinct sources in view (a source behind several lines counts once).
    const sources = new Set(rows.flatMap((s) => s.src_keys.map((k, i) => `${k}|${s.src[i]}`))).size;
    const where = cell.intervention
      ? `the chosen cell (${cell.intervention} and ${cell.mediator})`
      : "the current filters";
    status.textContent =
      `${sources} source${sources === 1 ? "" : "s"} in ${rows.length} line${rows.length === 1 ? "" : "s"} ` +
      `match ${where}. Click a mark to list only its findings.`;
    clear.hidden = !cell.intervention;
    renderTable(rows);
    if (url) writeUrl();
  }

  function readUrl() {
    const params = new URLSearchParams(location.hash.slice(1));
    selects.forEach((s) => {
      const wanted = params.get(s.name);
      const known = [...s.options].some((o) => o.value === wanted);
      s.value = wanted !== null && known ? wanted : s.dataset.default;
    });
    const i = params.get("intervention") || "";
    const m = params.get("mediator") || "";
    const exists = strata.some((s) => s.intervention === i && s.mediator === m);
    cell = exists ? { intervention: i, mediator: m } : { intervention: "", mediator: "" };
  }

  selects.forEach((s) => s.addEventListener("change", () => update()));
  form.addEventListener("reset", () => {
    setTimeout(() => {
      cell = { intervention: "", mediator: "" };
      update();
    });
  });
  clear.addEventListener("click", () => {
    cell = { intervention: "", mediator: "" };
    update();
  });
  view.addEventListener("click", (event, item) => {
    const datum = item && item.datum;
    if (!datum || datum.intervention === undefined || datum.mediator === undefined) return;
    const same = cell.intervention === datum.intervention && cell.mediator === datum.mediator;
    cell = same
      ? { intervention: "", mediator: "" }
      : { intervention: datum.intervention, mediator: datum.mediator };
    update();
  });
  view.addEventListener("dblclick", () => {
    cell = { intervention: "", mediator: "" };
    update();
  });
  window.addEventListener("hashchange", () => {
    readUrl();
    update({ url: false });
  });
  csvButton.addEventListener("click", () => {
    const header = [
      "claim_type", "intervention", "class_or_group", "mediator", "t_helper_axis", "evidence_type",
      "species", "increase", "decrease", "no_change", "mixed", "changed_unspecified", "sources",
      "rows", "source_labels", "source_keys",
    ];
    const lines = inView().map((s) =>
      [
        s.claim, s.intervention, s.group, s.mediator, s.axis, s.evidence, s.species,
        s.n_inc, s.n_dec, s.n_nc, s.n_mix, s.n_unsp, s.n, s.n_rows, s.src.join("; "),
        s.src_keys.join("; "),
      ].map(csvField).join(",")
    );
    const blob = new Blob([[header.join(","), ...lines].join("\r\n") + "\r\n"], {
      type: "text/csv;charset=utf-8",
    });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "explorer-findings.csv";
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });

  readUrl();
  await update({ url: false });
}

window.reviewExplorerReady = Promise.all(
  [...document.querySelectorAll("section.review-explorer")].map(startExplorer)
);
