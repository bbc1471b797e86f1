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

  /* A select named by its label, its first choice saying what "all" is (`all services`). */
  function choice(label, all, values) {
    const select = element("select", {}, [element("option", { value: "", textContent: all })])
    for (const value of values)
      select.append(element("option", { value, textContent: value }))
    select.setAttribute("aria-label", label)
    return select
  }

  function localDay(time) {
    const day = new Date(time - new Date(time).getTimezoneOffset() * 60000)
    return day.toISOString().slice(0, 10)
  }

  /* Days and times as the page writes them: `Fri 20 Nov 2026`, `14:05`, in the reader's
     zone, whose offset is said once above the list (`UTC+01:00`). */
  const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
    "Dec"]
  const two = number => String(number).padStart(2, "0")

  function dayText(isoDay) {
    const day = new Date(`${isoDay}T12:00:00Z`)
    return `${WEEKDAYS[day.getUTCDay()]} ${day.getUTCDate()} ${MONTHS[day.getUTCMonth()]} `
      + day.getUTCFullYear()
  }

  function offsetText(time) {
    const minutes = -new Date(time).getTimezoneOffset()
    if (minutes === 0)
      return "UTC"
    const sign = minutes < 0 ? "-" : "+"
    return `UTC${sign}${two(Math.floor(Math.abs(minutes) / 60))}:${two(Math.abs(minutes) % 60)}`
  }

  function clockText(time) {
    const moment = new Date(time)
    return `${two(moment.getHours())}:${two(moment.getMinutes())}`
  }

  function momentText(time) {
    return `${dayText(localDay(time))} ${clockText(time)}`
  }

  function rollbackState(tested) {
    return element("span", {
      className: `rb-rollback rb-rollback-${tested ? "tested" : "untested"}`,
      textContent: tested ? "rollback tested" : "rollback NOT tested"
    })
  }

  /* The rollout window, incidents and fixes either way, as _delivery_facts.html.j2 writes
     them on the page. */
  function deliveryFacts(row, base) {
    const linked = (words, [text, href]) => element("span", {}, [
      `${words} `, element("a", { href: new URL(href, base).href, textContent: text })])
    const facts = [
      ...row.rollout ? [element("span", { textContent: row.rollout })] : [],
      ...row.incidents.map(([id, url]) => linked("incident", [id, url])),
      ...row.fixes.map(pair => linked("fixes", pair)),
      ...row.fixed_by.map(pair => linked("fixed by", pair))
    ]
    return facts.length
      ? [element("span", { className: "rb-change-facts rb-delivery-facts" }, facts)] : []
  }

  function changeItem(row, base) {
    const facts = [row.service, row.environment, row.owner, row.status, ""].join(" · ")
    const item = element("li", { className: "rb-change" }, [
      element("span", { className: "rb-time" }), " ",
      element("a", { href: new URL(row.url, base).href, textContent: row.title }), " ",
      element("span", { className: "rb-change-facts" }, [facts, rollbackState(row.tested)]),
      ...deliveryFacts(row, base)
    ])
    item.dataset.service = JSON.stringify(row.service)
    item.dataset.environment = JSON.stringify(row.environment)
    item.dataset.day = row.date
    item.dataset.time = row.time === null ? "" : String(row.time)
    return item
  }

  /* A change's service or environment: JSON in its data attribute, as the choices are, so
     that both are the same string (a no-break space stays one). */
  function filtered(item, name) {
    return JSON.parse(item.dataset[name])
  }

  /* The changes by day in the reader's zone, newest first (those without a time last in
     their record's day), each time in that zone; a time at another offset than `zone` (a
     window across a daylight saving change) says its own. */
  function dayList(items, zone) {
    const byDay = new Map()
    const moment = item => item.dataset.time === "" ? -Infinity : Number(item.dataset.time)
    const dayOf = item => item.dataset.time === "" ? item.dataset.day : localDay(moment(item))
    const sorted = items.map((item, position) => [item, position]).sort(([a, i], [b, j]) =>
      dayOf(b).localeCompare(dayOf(a)) || (moment(b) - moment(a)) || (i - j))
    for (const [item] of sorted) {
      const time = item.querySelector(".rb-time")
      if (item.dataset.time === "") {
        time.textContent = "time not recorded"
      } else {
        const offset = offsetText(moment(item))
        time.textContent = clockText(moment(item)) + (offset === zone ? "" : ` (${offset})`)
      }
      byDay.set(dayOf(item), [...byDay.get(dayOf(item)) || [], item])
    }
    return [...byDay].map(([day, dayItems]) => element("div", { className: "rb-day" }, [
      element("h2", { className: "rb-day-title", id: `day-${day}`, textContent: dayText(day) }),
      element("ul", { className: "rb-day-changes" }, dayItems)
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

  /* The view in the page's address, so that a link pasted in an incident channel opens it:
     ?window=24h&at=2026-11-20T13:05Z&service=...&environment=... (`at` in UTC; any ISO
     time with an offset is read, one without is in the reader's zone). */
  const WINDOWS = { "24h": "24", "7d": "168" }
  const AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/

  function readAt(text) {
    if (!text || !AT.test(text))
      return null
    const time = new Date(text.replace(/([+-]\d\d)(\d\d)$/, "$1:$2")).getTime()
    return Number.isNaN(time) ? null : time
  }

  function inputValue(time) {
    return `${localDay(time)}T${clockText(time)}`
  }

  function viewSearch(view) {
    const parts = Object.entries(view).filter(([, value]) => value)
      .map(([name, value]) => `${name}=${encodeURIComponent(value).replace(/%3A/gi, ":")}`)
    return parts.length ? `?${parts.join("&")}` : ""
  }

  function startTimeline() {
    const claimed = claim("rb-timeline")
    if (!claimed)
      return
    const { root, base } = claimed
    const days = root.querySelector(".rb-timeline-days")
    const status = root.querySelector(".rb-timeline-status")
    const summary = root.querySelector(".rb-timeline-summary")
    const zoneNote = root.querySelector(".rb-timeline-zone")
    const service = choice("Service", "all services", JSON.parse(root.dataset.services || "[]"))
    const environment =
      choice("Environment", "all environments", JSON.parse(root.dataset.environments || "[]"))
    const span = element("select", {}, SPANS.map(([value, text]) =>
      element("option", { value, textContent: text })))
    span.setAttribute("aria-label", "What changed in the")
    const when = element("input", { type: "datetime-local", required: true })
    when.value = inputValue(Date.now())
    const latestButton = element("button", { type: "button", className: "md-button",
      textContent: "Latest changes" })
    const show = element("button", { type: "button", className: "md-button md-button--primary",
      textContent: "Show" })
    const copy = element("button", { type: "button", className: "md-button rb-copy-link",
      textContent: "Copy link", title: "Copy a link to this view (window, time and filters)" })
    const copied = element("span", { className: "rb-copied" })
    copied.setAttribute("role", "status")
    const form = element("div", { className: "rb-timeline-controls", role: "search" }, [
      element("div", {}, [service, " ", environment]),
      element("div", {}, [span, element("label", {}, ["before ", when])]),
      element("div", {}, [show, " ", latestButton, " ", copy, " ", copied])
    ])
    root.insertBefore(form, summary)

    let zone = offsetText(Date.now())
    const sayZone = time => {
      zone = offsetText(time)
      const name = Intl.DateTimeFormat().resolvedOptions().timeZone
      const named = name && name !== "UTC" && name !== "Etc/UTC" ? ` (${name})` : ""
      zoneNote.textContent = `Times in ${zone}${named}, your time zone.`
    }
    const latest = [...days.querySelectorAll(".rb-change")]
    /* the zone's offset as on the newest change listed (or now), so that a time at another
       offset (across a daylight saving change) is the exception */
    const newestTime = items => {
      const timed = items.find(item => item.dataset.time !== "")
      return timed ? Number(timed.dataset.time) : Date.now()
    }
    sayZone(newestTime(latest))
    days.replaceChildren(...dayList(latest, zone))

    let described = ""
    let shownWindow = null /* { to, span } of the listed window; null: the latest changes */
    const writeView = () => {
      const view = {
        window: shownWindow && Object.keys(WINDOWS).find(k => WINDOWS[k] === shownWindow.span),
        at: shownWindow && new Date(shownWindow.to).toISOString().slice(0, 16) + "Z",
        service: service.value,
        environment: environment.value
      }
      const address = location.pathname + viewSearch(view) + location.hash
      if (address !== location.pathname + location.search + location.hash)
        history.replaceState(history.state, "", address)
    }
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
      writeView()
    }
    service.addEventListener("change", narrow)
    environment.addEventListener("change", narrow)
    const showLatest = () => {
      sayZone(newestTime(latest))
      days.replaceChildren(...dayList(latest, zone))
      described = " among the latest"
      shownWindow = null
      narrow()
    }
    latestButton.addEventListener("click", showLatest)
    const query = async () => {
      const to = new Date(when.value).getTime()
      if (Number.isNaN(to))
        return
      status.textContent = "Loading…"
      try {
        const rows = await changesBefore(to, Number(span.value), root, base)
        sayZone(to)
        days.replaceChildren(...dayList(rows.map(row => changeItem(row, base)), zone))
        described = ` in the ${span.selectedOptions[0].textContent} before ${momentText(to)}`
        shownWindow = { to, span: span.value }
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
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(location.href)
        copied.textContent = "Link copied."
      } catch {
        copied.textContent = "Copy the link from the address bar."
      }
    })

    /* The view the address asks for, if any. */
    const asked = new URLSearchParams(location.search)
    for (const [name, select] of [["service", service], ["environment", environment]])
      if ([...select.options].some(option => option.value === asked.get(name)))
        select.value = asked.get(name)
    const at = readAt(asked.get("at"))
    if (WINDOWS[asked.get("window")] || at !== null) {
      span.value = WINDOWS[asked.get("window")] || span.value
      when.value = inputValue(at ?? Date.now())
      query()
    } else {
      described = " among the latest"
      narrow()
    }
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
