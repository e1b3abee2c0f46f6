// Search result snippets from the page's text, not its navigation.  Sphinx takes the text of
// [role="main"], which in this theme starts with the page's table of contents, so snippets
// were lists of headings; here they come from the article alone.  Loaded after searchtools.js,
// whose `Search` object is shared through the global scope.
if (typeof Search !== "undefined") {
  const original = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const doc = new DOMParser().parseFromString(htmlString, "text/html");
    const article = doc.querySelector("article.bd-article") || doc.querySelector('[role="main"]');
    if (!article) return original(htmlString, anchor);
    for (const junk of [".headerlink", "script", "style", "nav", ".review-scroll-cue", ".toggle-details"]) {
      article.querySelectorAll(junk).forEach((el) => el.remove());
    }
    const section = anchor ? article.querySelector(anchor) : null;
    return ((section || article).textContent || "").replace(/\s+/g, " ").trim();
  };
}

// Rank pages that discuss the searched mediator above pages that name it once (see
// build/search.py): a bonus of 4 × log2(1 + mentions) per query word, on Sphinx's own score.
if (typeof Scorer !== "undefined" && typeof REVIEW_TERM_COUNTS !== "undefined") {
  const query = new URLSearchParams(window.location.search).get("q") || "";
  const words = splitQuery(query).map((word) => word.toLowerCase());
  Scorer.score = (result) => {
    let bonus = 0;
    for (const word of words) {
      const mentions = (REVIEW_TERM_COUNTS[word] || {})[result[0]] || 0;
      bonus += mentions ? 4 * Math.log2(1 + mentions) : 0;
    }
    return result[4] + bonus;
  };
}
