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
  if (typeof document$ !== "undefined")
    document$.subscribe(load) /* Material's instant navigation */
  else
    load()
})()
