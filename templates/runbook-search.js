/*
 * runbook's search worker: answers Material's search box from two indexes.
 *
 * - Records: Pagefind's chunked static index (site/search_index.py builds it) in two shards,
 *   the newest records and the archive. A query loads only the chunks of its words and the
 *   results it shows, from the recent shard first; the archive is searched only when the
 *   recent records give fewer results than are listed, so a word on every record is ranked
 *   over the recent records alone, whatever the size of the runbook.
 * - Hand-written pages: Material's own worker (imported when the index Material sends holds
 *   a page, unchanged) and its Lunr index, which no longer holds any generated page. A runbook
 *   with no such page never loads it (39.5 KB less for every freshly opened page's search).
 *
 * The worker speaks Material's protocol (SETUP, READY, QUERY, RESULT): the best record is
 * posted as soon as its details load (the others' load took a third of the time to results on
 * a freshly opened page), the records found when all are loaded, and again with the
 * hand-written pages Material's worker found.
 *
 * Queries are read as text, not syntax: a leading "-" is part of a flag, not "must not contain".
 * A joined word (a path, a hyphenated name, a flag such as --dry-run=server) is encoded into
 * letters and digits exactly as render/search_documents.py encodes the records' search terms,
 * so it is found whole, by its tails and by its heads. `service:NAME`, `owner:NAME`,
 * `status:NAME`, `tag:NAME`, `year:YYYY` and, in an aggregating runbook, `source:NAME` narrow
 * the results (facets; a value in quotes may
 * hold spaces, and quotes of its own: only a quote before a space or the end closes it; any
 * part of a value matches it, case-insensitively, a no-break space as a space). Queries are
 * made composed (NFC), as the records' search documents are.
 *
 * Facet values are indexed with "%", '"', "\\" and control characters written %XX
 * (render/search_documents.py, filter_value): Pagefind never matches a filter value that JSON
 * writes with an escape. They are matched decoded, and handed to Pagefind as indexed.
 *
 * Material's count of results is the length of the list ("11 matching documents" for ten
 * records and the line counting the rest): the first result carries the real counts in a
 * hidden mark, which runbook-pages.js (on every page) puts in that line instead.
 *
 * Everything shown is escaped here, record text included, before <mark> is added.
 */

const MATERIAL_WORKER = "__MATERIAL_WORKER__"
const BUNDLE = "../../../pagefind/"
const SHOWN = 10 /* records whose details are fetched and listed (what Material shows at once) */
const EXCERPT = 220 /* characters of record text around the first match */
const TERMS_MARKER = "zzrunbooktermszz"
const FACETS = ["service", "owner", "status", "tag", "year", "source"]
const SETUP = 0, READY = 1, QUERY = 2, RESULT = 3 /* Material's SearchMessageType */

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

/* Every shard's bundle carries the same WebAssembly, and Pagefind instantiates it once per
   worker: fetch it once, not once per shard. */
const network = self.fetch.bind(self)
const fetchedOnce = new Map()
self.fetch = (input, init) => {
  const name = /\/(wasm\.[^/?]+\.pagefind)$/.exec(input instanceof Request ? input.url : input)
  if (!name)
    return network(input, init)
  if (!fetchedOnce.has(name[1]))
    fetchedOnce.set(name[1], network(input, init))
  return fetchedOnce.get(name[1]).then(response => response.clone())
}

/* One Pagefind instance per shard, newest first, each opened when a query first needs it
   (the recent shard's page list loads while the reader is still reading). */
let shards = null
function loadShards() {
  shards ||= (async () => {
    const root = new URL(BUNDLE, here)
    const listing = await network(new URL(`shards.json?ts=${Date.now()}`, root))
    if (!listing.ok)
      throw new Error(`${listing.status} ${listing.url}`)
    const names = (await listing.json()).shards
    const module = await import(new URL(`${names[0]}/pagefind.js`, root).href)
    const open = name =>
      module.createInstance({ basePath: new URL(`${name}/`, root).pathname, baseUrl: "/" })
    /* The first instance instantiates the WebAssembly the others share: let it finish (an
       empty search waits for it and fetches nothing) before another starts. */
    const recent = open(names[0])
    await recent.search("")
    const opened = [recent]
    return names.map((name, at) => () => (opened[at] ||= open(name)))
  })().catch(error => { /* no bundle (file://, or a site built without it): pages only */
    console.warn("runbook search: records cannot be searched here:", error)
    return []
  })
  return shards
}

/* The answer to the latest query, posted as soon as the records are found and again when
   Material's worker has answered with hand-written pages (each post is the whole list, and
   Material renders every RESULT anew). An answer to an older query is never posted. */
const waiting = [] /* answers whose hand-written pages Material's worker has yet to send */
let latest = null
let pagesIndexed = null /* whether Material's worker answers for hand-written pages */
addEventListener("message", event => {
  if (event.data && event.data.type === SETUP && pagesIndexed === null) {
    event.stopImmediatePropagation()
    setUpPages(event.data)
    return
  }
  if (!event.data || event.data.type !== QUERY)
    return
  const query = String(event.data.data)
  const { words, facets } = parseQuery(query)
  /* Material's index reads "-" and "+" as operators and knows no facets: give it words */
  event.data.data = words.map(word => word.replace(/^[-+]+/, "")).join(" ")
  const answer = {
    facets: Object.keys(facets).length > 0, records: null, pages: null, data: {},
    found: 0, complete: true /* how many records match; whether every shard was searched */
  }
  latest = answer
  if (pagesIndexed)
    waiting.push(answer)
  else
    answer.pages = []
  searchRecords(query, answer)
    .catch(error => {
      console.error("runbook search:", error)
      answer.records = []
      answer.found = 0
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
  if (items.length) {
    const [first, ...sections] = items[0]
    const count = `<span class="runbook-count" hidden data-changes="${answer.found}"`
      + ` data-complete="${answer.complete}" data-pages="${(answer.pages || []).length}"></span>`
    items[0] = [{ ...first, title: first.title + count }, ...sections]
  }
  post.call(self, { type: RESULT, data: { ...answer.data, items } })
}

/* Material sends its index (search_index.json) in SETUP: with no page in it, answer READY
   here; else load Material's worker and hand it the same SETUP (a listener added while an
   event is dispatched does not receive that event). */
function setUpPages(message) {
  const docs = message.data && message.data.docs
  pagesIndexed = !Array.isArray(docs) || docs.length > 0
  if (!pagesIndexed) {
    post.call(self, { type: READY })
    return
  }
  importScripts(new URL(MATERIAL_WORKER, here).href)
  dispatchEvent(new MessageEvent("message", { data: message }))
}

loadShards()

/* ------------------------------------------------------------------------------------ */

/* The query's words (as typed), its Pagefind terms and its facets. */
function parseQuery(query) {
  const facets = {}
  const words = []
  const facet = new RegExp(`(?:^|\\s)(${FACETS.join("|")}):(?:"(.*?)"(?=\\s|$)|(\\S+))`, "gi")
  const rest = query.normalize("NFC").replace(facet, (_, name, quoted, bare) => {
    const value = facetText(quoted ?? bare).trim()
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

/* Search the shards newest first until they give the records listed: ranked by score
   within a shard (by date when only facets are given), newer shards first. */
async function searchRecords(query, answer) {
  const { words, terms, facets } = parseQuery(query)
  const names = Object.keys(facets)
  const term = terms.length ? terms.join(" ") : null
  const shardsToSearch = term !== null || names.length ? await loadShards() : []
  const found = []
  let searched = 0
  for (const shard of shardsToSearch) {
    if (answer !== latest)
      return /* a newer query came in: it will be answered instead */
    const engine = shard()
    const filters = names.length ? await facetFilters(engine, facets) : {}
    if (filters) { /* else a facet value none of this shard's records has */
      const options = term === null ? { filters, sort: { date: "desc" } } : { filters }
      const results = (await engine.search(term, options))?.results ?? []
      if (term === null || !results.length || holdsTerms(await results[0].data(), words, terms))
        found.push(...results)
      /* else Pagefind found no word starting with some term and retried it shortened:
         config/file-02373.conf would list every config/file-0... (none holds the query) */
    }
    searched += 1
    if (found.length >= SHOWN)
      break
  }
  answer.found = found.length
  answer.complete = searched === shardsToSearch.length
  const top = found.slice(0, SHOWN)
  const items = await Promise.all(top.map(async (result, rank) => {
    const item = [recordItem(await result.data(), words, result.score)]
    if (rank === 0 && top.length > 1) { /* the best match shows while the others load */
      answer.records = [item]
      publish(answer)
    }
    return item
  }))
  if (found.length > SHOWN || (!answer.complete && found.length === SHOWN))
    items.push([moreItem(found.length, words, answer.complete)])
  answer.records = items
  publish(answer)
}

/* Whether a record holds every query term at the start of a word (a word of its search
   document, where joined words are encoded as the terms are). Pagefind stems English words,
   so a plain word may differ in its last letters ("deploying" finds "deployed"); a term with
   digits or an encoded joined word must start a word exactly. */
function holdsTerms(fragment, words, terms) {
  const held = new Set((fragment.content ?? "").toLowerCase().split(/[^\p{L}\p{N}]+/u))
  return terms.every((term, at) => {
    const exact = term !== words[at] || !/^\p{L}+$/u.test(term)
    for (const word of held) {
      if (word.startsWith(term))
        return true
      if (!exact && sharedStart(word, term) >= Math.max(3, term.length - 4))
        return true
    }
    return false
  })
}

function sharedStart(a, b) {
  let at = 0
  while (at < a.length && at < b.length && a[at] === b[at])
    at += 1
  return at
}

/* Facet values are matched by any part, case-insensitively: service:billing finds
   "billing-api" and "billing-db". Null when a facet matches no value of the shard. */
async function facetFilters(engine, facets) {
  const known = await engine.filters()
  const filters = {}
  for (const [name, wanted] of Object.entries(facets)) {
    const values = Object.keys(known[name] || {})
      .filter(value => wanted.every(part => facetText(indexedValue(value)).includes(part)))
    if (!values.length)
      return null
    filters[name] = { any: values }
  }
  return filters
}

/* A facet value as matched: composed, lower case, any run of spaces one space. */
function facetText(value) {
  return value.normalize("NFKC").replace(/\s+/gu, " ").toLowerCase()
}

/* A filter value as the record says it (see the header: %XX stands for one character). */
function indexedValue(value) {
  return value.replace(/%([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)))
}

function recordItem(data, words, score) {
  const meta = data.meta || {}
  /* content is the text itself; Pagefind's raw_content has "<" and ">" as entities, which
     escapeHTML would show as "&gt;" */
  const text = (data.content ?? "").split(TERMS_MARKER)[0]
  const facts = [meta.source, meta.date, meta.service, meta.owner, meta.status].filter(Boolean)
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

/* `complete`: every shard was searched; else the count is of the newer records alone. */
function moreItem(count, words, complete) {
  const more = count > SHOWN ? `${count - SHOWN} more changes match` : ""
  return {
    location: "./",
    title: complete ? more : more ? `${more}, and older ones may` : "Older changes may match too",
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
