/*
 * Scripts of runbook's on-call pages (runbook-pages.js loads this on the pages that need it);
 * record text is only ever set as text (textContent), never parsed as HTML.
 *
 * - The timeline (templates/timeline.md.j2): narrow the listed changes by service and
 *   environment, and answer "what changed in the 24 hours / 7 days before this time", reading
 *   only the months that window covers (timeline/YYYY-MM.json, render/timeline.py).
 * - The files index (templates/folders.md.j2): find any touched file by typing part of its
 *   path, from files/paths.json, fetched on the first keystroke.
 */
(() => {
  const HOUR = 3600000
  const SPANS = [["24", "24 hours"], ["168", "7 days"]]

  function element(tag, properties = {}, children = []) {
    const node = Object.assign(document.createElement(tag), properties)
    node.append(...children)
    return node
  }

  function choice(label, values) {
    const select = element("select", {}, [element("option", { value: "", textContent: "all" })])
    for (const value of values)
      select.append(element("option", { value, textContent: value }))
    return [element("label", {}, [`${label} `, select]), select]
  }

  function localDay(time) {
    const day = new Date(time - new Date(time).getTimezoneOffset() * 60000)
    return day.toISOString().slice(0, 10)
  }

  function changeItem(row, base) {
    const facts = [row.service, row.environment, row.owner, row.status,
      row.tested ? "rollback tested" : "rollback NOT tested"].join(" · ")
    const item = element("li", { className: "rb-change" }, [
      element("span", { className: "rb-time", textContent: row.time === null
        ? "time not recorded" : row.shown.slice(11) }), " ",
      element("a", { href: new URL(row.url, base).href, textContent: row.title }), " ",
      element("span", { className: "rb-change-facts", textContent: facts })
    ])
    item.dataset.service = JSON.stringify(row.service)
    item.dataset.environment = JSON.stringify(row.environment)
    return item
  }

  /* A change's service or environment: JSON in its data attribute, as the choices are, so
     that both are the same string (a no-break space stays one). */
  function filtered(item, name) {
    return JSON.parse(item.dataset[name])
  }

  function dayList(rows, base) {
    const byDay = new Map()
    for (const row of rows)
      byDay.set(row.date, [...byDay.get(row.date) || [], row])
    return [...byDay].map(([day, dayRows]) => element("div", { className: "rb-day" }, [
      element("h2", { className: "rb-day-title", textContent: new Date(`${day}T12:00:00Z`)
        .toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long",
          day: "numeric", timeZone: "UTC" }) }),
      element("ul", { className: "rb-day-changes" }, dayRows.map(row => changeItem(row, base)))
    ]))
  }

  /* The months (YYYY-MM) a window touches, a day wider on each side for offsets. */
  function monthsOf(from, to, known) {
    const months = []
    const cursor = new Date(from - 24 * HOUR)
    cursor.setUTCDate(1)
    while (cursor.getTime() <= to + 24 * HOUR) {
      const month = cursor.toISOString().slice(0, 7)
      if (known.has(month))
        months.push(month)
      cursor.setUTCMonth(cursor.getUTCMonth() + 1)
    }
    return months
  }

  async function changesBefore(to, hours, root, base) {
    const from = to - hours * HOUR
    const known = new Set(root.dataset.months.split(" ").filter(Boolean))
    const files = await Promise.all(monthsOf(from, to, known).map(async month => {
      const response = await fetch(new URL(`timeline/${month}.json`, base))
      return response.ok ? response.json() : []
    }))
    const first = localDay(from), last = localDay(to)
    return files.flat()
      .filter(row => row.time === null
        ? row.date >= first && row.date <= last
        : row.time >= from && row.time <= to)
      .sort((a, b) => (b.date.localeCompare(a.date)) || ((b.time ?? 0) - (a.time ?? 0)))
  }

  /* The page's element of that id and the site root it names, once per page (Material's
     instant navigation calls the starters again); null when the page has none. */
  function claim(id) {
    const root = document.getElementById(id)
    if (!root || root.dataset.ready)
      return null
    root.dataset.ready = "yes"
    return { root, base: new URL(root.dataset.root || "./", location.href) }
  }

  function startTimeline() {
    const claimed = claim("rb-timeline")
    if (!claimed)
      return
    const { root, base } = claimed
    const days = root.querySelector(".rb-timeline-days")
    const status = root.querySelector(".rb-timeline-status")
    const latest = [...days.children]
    const [serviceLabel, service] = choice("Service", JSON.parse(root.dataset.services || "[]"))
    const [environmentLabel, environment] =
      choice("Environment", JSON.parse(root.dataset.environments || "[]"))
    const span = element("select", {}, SPANS.map(([value, text]) =>
      element("option", { value, textContent: text })))
    const when = element("input", { type: "datetime-local", required: true })
    const now = new Date()
    when.value = localDay(now.getTime()) + "T" + now.toTimeString().slice(0, 5)
    const latestButton = element("button", { type: "button", className: "md-button",
      textContent: "Latest changes" })
    const show = element("button", { type: "button", className: "md-button md-button--primary",
      textContent: "Show" })
    const form = element("div", { className: "rb-timeline-controls", role: "search" }, [
      element("div", {}, [serviceLabel, " ", environmentLabel]),
      element("div", {}, [element("label", {}, ["What changed in the ", span]),
        element("label", {}, [" before ", when]), " ",
        show, " ", latestButton])
    ])
    root.insertBefore(form, status)

    let described = ""
    const narrow = () => {
      let shown = 0
      for (const day of days.querySelectorAll(".rb-day")) {
        let visible = 0
        for (const item of day.querySelectorAll(".rb-change")) {
          const match = (!service.value || filtered(item, "service") === service.value)
            && (!environment.value || filtered(item, "environment") === environment.value)
          item.hidden = !match
          visible += match
        }
        day.hidden = visible === 0
        shown += visible
      }
      status.textContent = `${shown} ${shown === 1 ? "change" : "changes"}${described}`
    }
    service.addEventListener("change", narrow)
    environment.addEventListener("change", narrow)
    latestButton.addEventListener("click", () => {
      days.replaceChildren(...latest)
      described = " among the latest"
      narrow()
    })
    const query = async () => {
      const to = new Date(when.value).getTime()
      if (Number.isNaN(to))
        return
      status.textContent = "Loading…"
      try {
        const rows = await changesBefore(to, Number(span.value), root, base)
        days.replaceChildren(...dayList(rows, base))
        described = ` in the ${span.selectedOptions[0].textContent} before `
          + new Date(to).toLocaleString()
      } catch (error) {
        described = ""
        status.textContent = `The timeline could not be loaded: ${error}`
        return
      }
      narrow()
    }
    show.addEventListener("click", query)
    when.addEventListener("keydown", event => {
      if (event.key === "Enter")
        query()
    })
    described = " among the latest"
    narrow()
  }

  const SHOWN_FILES = 50

  function startFileFinder() {
    const claimed = claim("rb-file-finder")
    if (!claimed)
      return
    const { root, base } = claimed
    const box = element("input", { type: "search", placeholder: "part of a path, e.g. nginx/upload",
      autocomplete: "off" })
    box.setAttribute("aria-label", "Find a file by any part of its path")
    const status = element("p", { className: "rb-timeline-status" })
    status.setAttribute("role", "status")
    const list = element("ul", { className: "rb-file-matches" })
    root.append(element("label", { className: "rb-file-label" }, ["Find a file ", box]), status, list)
    let paths = null
    box.addEventListener("input", async () => {
      /* each path with its composed (NFC) lower-case form, which is what typing is made into:
         a path written decomposed is found by the same letters typed on any keyboard */
      paths ||= fetch(new URL("files/paths.json", base)).then(r => r.ok ? r.json() : [])
        .then(rows => rows.map(row => [...row, row[0].normalize("NFC").toLowerCase()]))
      const typed = () => box.value.normalize("NFC").trim().toLowerCase()
      const wanted = typed()
      const all = await paths
      if (typed() !== wanted)
        return /* a newer keystroke answers */
      if (!wanted) {
        list.replaceChildren()
        status.textContent = ""
        return
      }
      const found = all.filter(row => row[3].includes(wanted))
      list.replaceChildren(...found.slice(0, SHOWN_FILES).map(([path, url, count]) =>
        element("li", {}, [element("a", { href: new URL(url, base).href }, [
          element("code", { textContent: path })]), ` (${count} ${count === 1 ? "change" : "changes"})`])))
      status.textContent = found.length > SHOWN_FILES
        ? `${found.length} files match; the first ${SHOWN_FILES} are listed`
        : `${found.length} ${found.length === 1 ? "file matches" : "files match"}`
    })
  }

  const startAll = () => {
    startTimeline()
    startFileFinder()
  }
  if (typeof document$ !== "undefined")
    document$.subscribe(startAll) /* Material's instant navigation */
  else
    startAll()
})()
