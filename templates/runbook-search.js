/*
 * runbook's search worker: Material's own worker, tuned for runbooks of thousands of records.
 *
 * Material's worker (imported below, unchanged) builds a Lunr index in the reader's browser
 * and answers queries from it. On a large runbook two things made a query slow, and this file
 * changes exactly those, through Lunr's public prototypes:
 *
 * 1. Paths and names were split at "/", "." and "-" into words that nearly every record
 *    contains, so typing deploy/k8s/service-000.yaml or service-000 searched for "deploy",
 *    "yaml" and "service" across the whole runbook. The site's separator now keeps those
 *    joiners inside words, and each joined word is indexed whole, by its tails and by its
 *    parts: the full path or name finds its records alone, any end or part still finds it.
 *    Lunr's query lexer splits at hyphens whatever the index does, so it is told the index's
 *    separator.
 * 2. Material highlights and posts back every result, which for a word on every record cost
 *    more than the search. Only the first HIGHLIGHTED results are highlighted; later ones
 *    keep their rank and the exact count, and show the start of their page as the excerpt.
 *
 * The build writes this file next to Material's worker (so that Material's relative paths to
 * its language files still hold) and fills in Material's worker file name below.
 */

const MATERIAL_WORKER = "__MATERIAL_WORKER__"
const HIGHLIGHTED = 50
const EXCERPT = 300 /* characters of page text kept for results after the highlighted ones */
const RESULT = 3 /* Material's SearchMessageType.RESULT */

/* Material runs its worker in an iframe where Web Workers are missing: locate this script
   the way Material locates its own there. */
const here = typeof parent !== "undefined" && "IFrameWorker" in parent
  ? document.querySelector("script[src]").src
  : location.href

Promise.resolve(importScripts(new URL(MATERIAL_WORKER, here).href)).then(() => {
  tuneIndexing(lunr)
  tuneResults(lunr)
})

/* Index joined words also by their parts and tails (once per index, when the separator is
   known): with the site's separator, the joiners below stay inside words. */
function tuneIndexing(lunr) {
  const add = lunr.Builder.prototype.add
  lunr.Builder.prototype.add = function (doc, attributes) {
    if (!this.runbookTuned) {
      this.runbookTuned = true
      const joiners = ["-", "/", "."].filter(joiner => !lunr.tokenizer.separator.test(joiner))
      if (joiners.includes("-"))
        lunr.QueryLexer.termSeparator = lunr.tokenizer.separator
      if (joiners.length) {
        const run = `[${joiners.map(joiner => `\\${joiner}`).join("")}]+`
        const addWords = partsAndTails(new RegExp(run), new RegExp(`^${run}|${run}$`, "g"))
        const tokenize = this.tokenizer
        this.tokenizer = (input, metadata) => addWords(tokenize(input, metadata))
      }
    }
    return add.call(this, doc, attributes)
  }

  /*
   * deploy/nginx/upload.conf is indexed as itself, its tails (nginx/upload.conf, upload.conf,
   * conf: typing any end of a path, or its start, finds it) and its parts (deploy, nginx,
   * upload: the exact terms of a quoted query). Joiners at either end are punctuation, not
   * part of the word ("peak." is "peak"). Added words share the whole word's position, so
   * finding "gateway" highlights "api-gateway".
   */
  function partsAndTails(joiner, edges) {
    const joiners = new RegExp(joiner.source, "g")
    return tokens => {
      const count = tokens.length
      for (let i = 0; i < count; i++) {
        const token = tokens[i]
        if (!joiner.test(token.str))
          continue
        const whole = token.str.replace(edges, "")
        const words = new Set([whole, ...whole.split(joiner)])
        for (const match of whole.matchAll(joiners))
          words.add(whole.slice(match.index + match[0].length))
        words.delete(token.str)
        words.delete("")
        for (const word of words)
          tokens.push(new lunr.Token(word, token.metadata))
      }
      return tokens
    }
  }
}

/* Leave results past the first HIGHLIGHTED without match positions (so Material skips their
   highlighting) and cut their page text to an excerpt before it is posted. */
function tuneResults(lunr) {
  const search = lunr.Index.prototype.search
  lunr.Index.prototype.search = function (query) {
    const results = search.call(this, query)
    results.forEach((result, rank) => {
      if (rank < HIGHLIGHTED)
        return markEachPlaceOnce(result.matchData.metadata)
      const metadata = {}
      for (const term of Object.keys(result.matchData.metadata))
        metadata[term] = {}
      result.matchData = { metadata }
    })
    return results
  }

  const post = self.postMessage
  self.postMessage = (message, ...rest) => {
    if (message && message.type === RESULT)
      message.data.items.slice(HIGHLIGHTED).forEach(group => group.forEach(shorten))
    return post.call(self, message, ...rest)
  }
}

/* A word and its parts or tails share one position, and a query can match several of them
   ("nginx" matches "nginx" and "nginx/upload.conf"): Material would wrap that place in <mark>
   once per match, the second time inside the first. Keep each position for one term. */
function markEachPlaceOnce(metadata) {
  const marked = {}
  for (const term of Object.keys(metadata))
    for (const [field, data] of Object.entries(metadata[term])) {
      if (!Array.isArray(data.position))
        continue
      const seen = marked[field] ||= new Set()
      const fresh = data.position.filter(position => !seen.has(position))
      fresh.forEach(position => seen.add(position))
      metadata[term][field] = { ...data, position: fresh }
    }
}

/* Cut right after a tag's ">", never inside a tag or entity; the browser closes the rest. */
function shorten(item) {
  if (typeof item.text !== "string" || item.text.length <= EXCERPT)
    return
  const end = item.text.indexOf(">", EXCERPT)
  if (end !== -1)
    item.text = item.text.slice(0, end + 1)
}
