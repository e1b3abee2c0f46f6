// Progressive enhancement of the review's tables (render.Table): sort by any column, filter
// the rows by text, and on narrow screens keep the priority columns and show the rest of a
// row as details on request.  Without this script every table is still complete, plain HTML.
//
// Hand-written rather than a library: the offline table libraries we weighed either replace
// the table's markup with their own (simple-datatables, Grid.js: 40-60 kB, and their markup
// loses our caption, scoped headers and links) or only sort (tablesort, sortable: 1-3 kB), so
// the filter and the row details would be written here anyway.  This file is about 2 kB gzipped.
(function () {
  "use strict";
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  function cellText(row, index) {
    const cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }

  function enhance(box, number) {
    const table = box.querySelector("table");
    const body = table && table.tBodies[0];
    if (!body || box.dataset.enhanced) return;
    box.dataset.enhanced = "yes";
    box.classList.add("review-table--enhanced");
    const headers = [...table.tHead.rows[0].cells];
    const rows = [...body.rows];
    const noun = box.dataset.noun || "rows";
    const hidden = headers.some((th) => th.dataset.priority !== "1");

    // The filter and its live status line, above the table.
    const tools = document.createElement("div");
    tools.className = "review-table__tools";
    const id = `review-table-filter-${number}`;
    tools.innerHTML =
      `<label for="${id}">Filter ${noun}</label>` +
      `<input type="search" id="${id}" autocomplete="off" placeholder="e.g. IL-6 or fluoxetine">` +
      `<span class="review-table__status" role="status" aria-live="polite"></span>` +
      `<p class="review-scroll-cue">Wider than the screen: scroll sideways to see every column.</p>`;
    box.prepend(tools);
    // Tables drawn by render.Table scroll in an inner box; the summary-of-findings table is its own box.
    const scroller = box.querySelector(".review-table__scroll") || box;
    // The table's own width counts too: a long table's box not laid out yet (see below)
    // reports no overflow, and reading the table's width lays it out.
    const markWide = () => {
      const width = Math.max(scroller.scrollWidth, table.offsetWidth);
      box.classList.toggle("review-table--wide", width > scroller.clientWidth + 1);
    };
    let near = false; // within a screen of the view (set below)
    // Only a box near the view is measured on resize (phones resize as their toolbar hides):
    // measuring the others would lay out every long table; they are measured on approach.
    window.addEventListener("resize", () => near && markWide());
    const input = tools.querySelector("input");
    const status = tools.querySelector(".review-table__status");
    const haystack = rows.map((row) => row.textContent.toLowerCase());

    function showStatus(shown) {
      status.textContent =
        shown === rows.length ? `${rows.length} ${noun}` : `${shown} of ${rows.length} ${noun} shown`;
    }

    function collapseAll() {
      body.querySelectorAll("tr.review-table__details").forEach((tr) => tr.remove());
      body.querySelectorAll("button.review-table__expand").forEach((b) => {
        b.setAttribute("aria-expanded", "false");
      });
    }

    input.addEventListener("input", () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      collapseAll();
      let shown = 0;
      rows.forEach((row, i) => {
        const match = words.every((w) => haystack[i].includes(w));
        row.hidden = !match;
        shown += match;
      });
      showStatus(shown);
    });
    showStatus(rows.length);
    // A long table is laid out only when it nears the screen (content-visibility in
    // review.css): until then its width is unknown, and reading it would lay the table out.
    // So the cue is set when the box is a screen away from view (IntersectionObserver reports
    // at once for a box already near), before the reader sees it, rather than straight away.
    new IntersectionObserver(
      (entries) => {
        near = entries[entries.length - 1].isIntersecting;
        if (near) markWide();
      },
      { rootMargin: "100% 0px" }
    ).observe(scroller);

    // Sorting: a button in each column header; aria-sort tells screen readers the order.
    headers.forEach((th, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "review-table__sort";
      button.append(...th.childNodes);
      th.append(button);
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        collapseAll();
        const order = rows
          .map((row, i) => [cellText(row, index), i])
          .sort((a, b) => collator.compare(a[0], b[0]) * (ascending ? 1 : -1) || a[1] - b[1]);
        order.forEach(([, i]) => body.append(rows[i]));
      });
    });

    // Row details: the values of the columns the current width hides.
    if (!hidden) return;
    box.classList.add("review-table--prioritised");
    rows.forEach((row) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "review-table__expand";
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-label", "Show all details of this row");
      button.textContent = "+";
      const first = [...row.cells].find((td) => td.dataset.priority === "1") || row.cells[0];
      first.prepend(button);
      button.addEventListener("click", () => {
        const open = row.nextElementSibling;
        if (open && open.classList.contains("review-table__details")) {
          open.remove();
          button.setAttribute("aria-expanded", "false");
          return;
        }
        const details = document.createElement("tr");
        details.className = "review-table__details";
        const cell = document.createElement("td");
        cell.colSpan = headers.length;
        const list = document.createElement("dl");
        [...row.cells].forEach((td) => {
          if (getComputedStyle(td).display !== "none") return;
          const term = document.createElement("dt");
          term.textContent = td.dataset.label || "";
          const value = document.createElement("dd");
          value.append(...[...td.childNodes].map((n) => n.cloneNode(true)));
          list.append(term, value);
        });
        if (!list.children.length) {
          const none = document.createElement("p");
          none.textContent = "Every column of this row is shown above.";
          cell.append(none);
        } else {
          cell.append(list);
        }
        details.append(cell);
        row.after(details);
        button.setAttribute("aria-expanded", "true");
      });
    });
  }

  // The explorer builds its findings table after loading its data, and enhances it here.
  window.reviewTables = { enhance: (box) => enhance(box, ++counter) };
  let counter = 0;

  function start() {
    document.querySelectorAll("div.review-table").forEach((box) => enhance(box, ++counter));
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
