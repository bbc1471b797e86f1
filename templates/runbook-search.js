/*
 * runbook's search worker: answers Material's search box from two indexes.
 *
 * - Records: Pagefind's chunked static index (site/search.py builds it). A query loads only
 *   the chunks of its words and the results it shows, so the first results of a freshly
 *   opened page do not wait for the whole runbook's index.
 * - Hand-written pages: Material's own worker (imported below, unchanged) and its Lunr index,
 *   which no longer holds any generated page.
 *
 * The worker speaks Material's protocol (SETUP, READY, QUERY, RESULT): the records Pagefind
 * finds are posted as soon as they are found, and again with the hand-written pages Material's
 * worker found.
 *
 * Queries are read as text, not syntax: a leading "-" is part of a flag, not "must not contain".
 * A joined word (a path, a hyphenated name, a flag such as --dry-run=server) is encoded into
 * letters and digits exactly as render/search_documents.py encodes the records' search terms,
 * so it is found whole, by its tails and by its heads. `service:NAME`, `owner:NAME`,
 * `status:NAME`, `tag:NAME` and `year:YYYY` narrow the results (facets; a value in quotes may
 * hold spaces, and any part of a value matches it, case-insensitively).
 *
 * Everything shown is escaped here, record text included, before <mark> is added.
 */

const MATERIAL_WORKER = "__MATERIAL_WORKER__"
const PAGEFIND = "../../../pagefind/pagefind.js"
const SHOWN = 10 /* records whose details are fetched and listed (what Material shows at once) */
const EXCERPT = 220 /* characters of record text around the first match */
const TERMS_MARKER = "zzrunbooktermszz"
const FACETS = ["service", "owner", "status", "tag", "year"]
const QUERY = 2, RESULT = 3 /* Material's SearchMessageType */

const SPELLED = {
  "-": "zh", "/": "zs", ".": "zd", "_": "zu", "=": "ze", ":": "zc", "@": "za",
  "~": "zt", "+": "zp", ",": "zm", "z": "zz"
}
const ALNUM = /^[\p{L}\p{N}]$/u
const LEADING = /^["'`([{<*]+/
const TRAILING = /["'`)\]}>*,;:!?.]+$/

/* Material runs its worker in an iframe where Web Workers are missing: locate this script
   the way Material locates its own there. */
const here = typeof parent !== "undefined" && "IFrameWorker" in parent
  ? document.querySelector("script[src]").src
  : location.href

let pagefind = null
function loadPagefind() {
  pagefind ||= import(new URL(PAGEFIND, here).href).then(async module => {
    await module.options({ baseUrl: "/" })
    await module.init() /* its WebAssembly and page list, while the reader is still reading */
    return module
  }).catch(error => { /* no bundle (file://, or a site built without it): pages only */
    console.warn("runbook search: records cannot be searched here:", error)
    return null
  })
  return pagefind
}

/* The answer to the latest query, posted as soon as the records are found and again when
   Material's worker has answered with hand-written pages (each post is the whole list, and
   Material renders every RESULT anew). An answer to an older query is never posted. */
const waiting = [] /* answers whose hand-written pages Material's worker has yet to send */
let latest = null
addEventListener("message", event => {
  if (!event.data || event.data.type !== QUERY)
    return
  const query = String(event.data.data)
  const { words, facets } = parseQuery(query)
  /* Material's index reads "-" and "+" as operators and knows no facets: give it words */
  event.data.data = words.map(word => word.replace(/^[-+]+/, "")).join(" ")
  const answer = { facets: Object.keys(facets).length > 0, records: null, pages: null, data: {} }
  latest = answer
  waiting.push(answer)
  searchRecords(query)
    .catch(error => {
      console.error("runbook search:", error)
      return []
    })
    .then(records => {
      answer.records = records
      publish(answer)
    })
})

const post = self.postMessage
self.postMessage = (message, ...rest) => {
  if (!message || message.type !== RESULT || !waiting.length)
    return post.call(self, message, ...rest)
  const answer = waiting.shift()
  answer.pages = answer.facets ? [] : message.data.items /* facets narrow records only */
  answer.data = message.data
  publish(answer)
}

function publish(answer) {
  if (answer !== latest || answer.records === null)
    return /* records first: pages alone would be replaced a moment later */
  const items = [...answer.records, ...answer.pages || []]
  post.call(self, { type: RESULT, data: { ...answer.data, items } })
}

importScripts(new URL(MATERIAL_WORKER, here).href)
loadPagefind()

/* ------------------------------------------------------------------------------------ */

/* The query's words (as typed), its Pagefind terms and its facets. */
function parseQuery(query) {
  const facets = {}
  const words = []
  const facet = new RegExp(`(?:^|\\s)(${FACETS.join("|")}):(?:"([^"]*)"|(\\S+))`, "gi")
  const rest = query.replace(facet, (_, name, quoted, bare) => {
    const value = (quoted ?? bare).trim().toLowerCase()
    if (value)
      (facets[name.toLowerCase()] ||= []).push(value)
    return " "
  })
  for (const raw of rest.split(/\s+/)) {
    const word = raw.replace(LEADING, "").replace(TRAILING, "").toLowerCase()
    if ([...word].some(char => ALNUM.test(char)))
      words.push(word)
  }
  const terms = words.map(word => [...word].some(char => !ALNUM.test(char)) ? encode(word) : word)
  return { words, terms, facets }
}

function encode(word) {
  return [...word].map(char => ALNUM.test(char) && char !== "z" ? char : SPELLED[char] || "zx")
    .join("")
}

async function searchRecords(query) {
  const { words, terms, facets } = parseQuery(query)
  const names = Object.keys(facets)
  if (!terms.length && !names.length)
    return []
  const engine = await loadPagefind()
  if (!engine)
    return []
  const options = {}
  if (names.length) {
    options.filters = await facetFilters(engine, facets)
    if (!options.filters)
      return [] /* a facet value no record has */
    if (!terms.length)
      options.sort = { date: "desc" }
  }
  const search = await engine.search(terms.length ? terms.join(" ") : null, options)
  if (!search || !search.results)
    return []
  const shown = await Promise.all(search.results.slice(0, SHOWN).map(result => result.data()))
  const items = shown.map((data, rank) => [recordItem(data, words, search.results[rank].score)])
  if (search.results.length > SHOWN)
    items.push([moreItem(search.results.length, words)])
  return items
}

/* Facet values are matched by any part, case-insensitively: service:billing finds
   "billing-api" and "billing-db". Null when a facet matches no value at all. */
async function facetFilters(engine, facets) {
  const known = await engine.filters()
  const filters = {}
  for (const [name, wanted] of Object.entries(facets)) {
    const values = Object.keys(known[name] || {})
      .filter(value => wanted.every(part => value.toLowerCase().includes(part)))
    if (!values.length)
      return null
    filters[name] = { any: values }
  }
  return filters
}

function recordItem(data, words, score) {
  const meta = data.meta || {}
  const text = (data.raw_content ?? data.content ?? "").split(TERMS_MARKER)[0]
  const facts = [meta.date, meta.service, meta.owner, meta.status].filter(Boolean)
  return {
    location: data.url.replace(/^\//, ""),
    title: highlight(meta.title || data.url, words),
    text: `<p class="runbook-result-facts">${facts.map(fact => highlight(fact, words)).join(" · ")}</p>`
      + `<p>${highlight(excerpt(text, words), words)}</p>`,
    tags: meta.tags ? meta.tags.split(", ").map(escapeHTML) : undefined,
    score: score || 1,
    terms: Object.fromEntries(words.map(word => [word, true]))
  }
}

function moreItem(count, words) {
  return {
    location: "./",
    title: `${count - SHOWN} more changes match`,
    text: "<p>Add a word, or narrow with <code>service:</code>, <code>owner:</code>, "
      + "<code>status:</code>, <code>tag:</code> or <code>year:</code>.</p>",
    score: 0,
    terms: Object.fromEntries(words.map(word => [word, true]))
  }
}

/* The text around the first place the longest query word (or part of one) appears. */
function excerpt(text, words) {
  const place = needles(words).map(needle => text.search(wordPattern([needle], ""))).find(at => at >= 0)
  const start = Math.max(0, (place ?? 0) - 40)
  const cut = text.slice(start, start + EXCERPT)
  return (start > 0 ? "…" : "") + cut + (start + EXCERPT < text.length ? "…" : "")
}

function needles(words) {
  const parts = words.flatMap(word => [word, ...word.split(/[^\p{L}\p{N}]+/u)])
  return [...new Set(parts.filter(part => part.length > 1))].sort((a, b) => b.length - a.length)
}

/* A needle where a word of its kind starts: a flag after a space ("-t" is not the "-t" of
   "platform-team"), a word after anything but a letter or digit. */
function wordPattern(found, flags) {
  const starts = found.map(needle => (ALNUM.test([...needle][0]) ? "(?<![\\p{L}\\p{N}])" : "(?<!\\S)")
    + escapeRegExp(needle))
  return new RegExp(starts.join("|"), `iu${flags}`)
}

/* Escape the whole text, then mark each query word (longest first, never inside a mark). */
function highlight(text, words) {
  const found = needles(words)
  if (!found.length)
    return escapeHTML(text)
  let html = ""
  let last = 0
  for (const match of text.matchAll(wordPattern(found, "g"))) {
    html += escapeHTML(text.slice(last, match.index)) + `<mark>${escapeHTML(match[0])}</mark>`
    last = match.index + match[0].length
  }
  return html + escapeHTML(text.slice(last))
}

function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
}
