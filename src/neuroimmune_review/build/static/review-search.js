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
