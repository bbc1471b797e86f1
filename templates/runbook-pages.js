/* On every page, but loads the scripts of runbook's on-call pages (runbook-pages-main.js: the
   timeline's filters and windows, the files index's finder) only on the pages that have them,
   so other pages fetch a few hundred bytes, not the whole script. */
(() => {
  const main = new URL("runbook-pages-main.js", document.currentScript.src).href
  let loading = false
  const load = () => {
    if (loading || !document.querySelector("#rb-timeline, #rb-file-finder"))
      return
    loading = true
    document.head.append(Object.assign(document.createElement("script"), { src: main }))
  }

  /* Material's line above the search results counts the entries listed ("11 matching
     documents" for ten changes and the entry counting the others): say instead how many
     changes and pages match, as runbook's search worker counted them in a hidden mark on
     the first result (templates/runbook-search.js). */
  const plural = (count, noun) => `${count} ${count === 1 ? noun : noun + "s"}`
  const countResults = () => {
    const result = document.querySelector(".md-search-result")
    if (!result || result.dataset.runbookCount)
      return
    result.dataset.runbookCount = "yes"
    const meta = result.querySelector(".md-search-result__meta")
    new MutationObserver(() => {
      const mark = result.querySelector(".md-search-result__list .runbook-count")
      if (!mark || !meta)
        return /* no result: Material's own words ("No matching documents") */
      const changes = Number(mark.dataset.changes), pages = Number(mark.dataset.pages)
      const parts = []
      if (changes || !pages)
        parts.push((mark.dataset.complete === "true" ? "" : "at least ") + plural(changes, "change"))
      if (pages)
        parts.push(plural(pages, "page"))
      const text = parts.join(" and ")
      if (meta.textContent !== text)
        meta.textContent = text
    }).observe(result, { childList: true, subtree: true, characterData: true })
  }

  const start = () => {
    load()
    countResults()
  }
  if (typeof document$ !== "undefined")
    document$.subscribe(start) /* Material's instant navigation */
  else
    start()
})()
