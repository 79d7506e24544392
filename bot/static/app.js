/* Asistente BPGE — the question page.
 *
 * Plain JavaScript, no dependencies. Every piece of data from the server is written with
 * textContent / createElement, never innerHTML, so no passage text can inject markup.
 */
"use strict";

(function () {
  // Every Spanish text comes from prompts/web.toml ([script]), written into the page by the server.
  const TEXTS = JSON.parse(document.getElementById("texts").textContent || "{}");
  /** The text `key` with its {placeholders} filled from `values`. */
  function t(key, values) {
    const template = Object.prototype.hasOwnProperty.call(TEXTS, key) ? String(TEXTS[key]) : key;
    return template.replace(/\{(\w+)\}/g, (all, name) => (values && name in values ? String(values[name]) : all));
  }
  const countSources = (n) => (n === 1 ? t("source_one") : t("source_many", { n: n }));

  const $ = (id) => document.getElementById(id);
  const form = $("ask-form");
  const question = $("question");
  const askButton = $("ask-button");
  const region = $("region");
  const section = $("section");
  const result = $("result");
  const statusBox = $("status");
  const errorBox = $("error");
  const answerBox = $("answer");
  const sourcesBlock = $("sources-block");
  const sourcesList = $("sources");
  const panel = $("passage");

  let streamAvailable = true; // becomes false once /api/ask/stream answers 404/405
  let current = null; // AbortController of the request in flight
  let sources = new Map(); // n -> source of the answer on screen
  let lastOpener = null; // the button that opened the passage panel

  // ------------------------------------------------------------ helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Labels, places and links come from the server (indexer.models.Source), never recomputed here.
  function sourceMeta(s) {
    return [s.where, s.section_label,
      [s.document_title || s.document, s.place].filter(Boolean).join(", ")].filter(Boolean).join(" · ");
  }

  function excerpt(text, max) {
    const flat = String(text || "").replace(/\s+/g, " ").trim();
    if (flat.length <= max) return flat;
    const cut = flat.slice(0, max);
    const space = cut.lastIndexOf(" ");
    return (space > max * 0.6 ? cut.slice(0, space) : cut) + "…";
  }

  function errorDetail(body, status) {
    const detail = body && body.detail;
    if (typeof detail === "string" && detail.trim()) return detail;
    if (Array.isArray(detail)) {
      const msgs = detail.map((d) => (d && d.msg ? String(d.msg) : "")).filter(Boolean);
      if (msgs.length) return msgs.join(" ");
    }
    if (status === 503) return t("unavailable");
    return t("failed_code", { message: t("failed"), status: status });
  }

  class HttpError extends Error {}

  async function readError(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      /* not JSON */
    }
    return new HttpError(errorDetail(body, response.status));
  }

  // ------------------------------------------------------------ states

  function setLoading(loading, message) {
    askButton.disabled = loading;
    askButton.textContent = loading ? t("searching") : t("ask");
    answerBox.setAttribute("aria-busy", loading ? "true" : "false");
    if (loading) statusBox.textContent = message || t("loading");
    statusBox.classList.toggle("loading", loading);
    if (loading) result.dataset.state = "loading";
  }

  function reset() {
    result.hidden = false;
    errorBox.hidden = true;
    errorBox.textContent = "";
    answerBox.replaceChildren();
    answerBox.className = "answer";
    sourcesBlock.hidden = true;
    sourcesList.replaceChildren();
    sources = new Map();
    $("actions").hidden = true;
    $("suggestions").hidden = true;
    closePassage(false);
  }

  function showError(message) {
    result.hidden = false;
    setLoading(false);
    answerBox.replaceChildren();
    answerBox.className = "answer";
    errorBox.textContent = message;
    errorBox.hidden = false;
    result.dataset.state = "error";
  }

  // ------------------------------------------------------------ answer

  /** Buttons [n] that open the cited passages (`map`: n -> source of that answer). */
  function citeGroup(numbers, map, turn) {
    const group = el("span", { className: "cites" });
    for (const n of numbers) {
      const s = map.get(n);
      if (!s) continue;
      group.append(
        el("button", {
          type: "button",
          className: "cite",
          "data-n": n,
          "aria-controls": "passage",
          "aria-expanded": "false",
          "aria-label": t("cite_label", { n: n, practice: s.practice }),
          title: s.practice + " — " + s.section_label,
          text: String(n),
          onclick: (event) => openPassage(n, event.currentTarget, turn),
        })
      );
    }
    return group;
  }

  /** One paragraph's text with every [n] (or [n, m]) turned into citation buttons. */
  function paragraphWithCitations(text, turn) {
    const map = turn || sources;
    const p = el("p");
    const pattern = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      const numbers = match[1].split(/\s*[,;]\s*/).map(Number);
      if (!numbers.every((n) => map.has(n))) continue; // not a citation of ours: leave as text
      p.append(document.createTextNode(text.slice(last, match.index)));
      p.append(citeGroup(numbers, map, turn));
      last = match.index + match[0].length;
    }
    p.append(document.createTextNode(text.slice(last)));
    return p;
  }

  /** A paragraph of the answer; its "- " lines become a list (a practice's problem, strategies, results). */
  function answerBlock(text, turn) {
    const lines = text.split("\n");
    const items = lines.filter((line) => /^\s*-\s+/.test(line));
    if (!items.length || items.length < lines.length - 1) return paragraphWithCitations(text, turn);
    const block = document.createDocumentFragment();
    let list = null;
    for (const line of lines) {
      if (!/^\s*-\s+/.test(line)) {
        list = null;
        const lead = paragraphWithCitations(line, turn);
        lead.className = "answer-lead";
        block.append(lead);
        continue;
      }
      if (!list) {
        list = el("ul", { className: "answer-list" });
        block.append(list);
      }
      const item = paragraphWithCitations(line.replace(/^\s*-\s+/, ""), turn);
      list.append(el("li", null, ...item.childNodes));
    }
    return block;
  }

  function renderAnswer(data) {
    sources = new Map((data.sources || []).map((s) => [s.n, s]));
    answerBox.replaceChildren();
    answerBox.className = "answer" + (data.abstained ? " abstained" : "");
    const about = data.followup_practice;
    if (about) {
      // a follow-up: which practice of the conversation it is about, as Telegram says it
      const link = el("a", { href: about.href, text: about.label });
      answerBox.append(el("p", { className: "followup-about" }, t("followup_about"), " ", link));
    }
    if (data.abstained) {
      answerBox.append(el("p", { className: "note-title", text: t("abstained") }));
    }
    const paragraphs = String(data.answer || "")
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter(Boolean);
    const turn = sources;
    const comparison = !data.abstained && data.comparison && (data.comparison.rows || []).length ? data.comparison : null;
    if (comparison) {
      // the table says what the paragraphs would; the introduction stays above it
      if (data.intro) answerBox.append(paragraphWithCitations(String(data.intro), turn));
      answerBox.append(comparisonTable(comparison, turn));
      if (data.outro) answerBox.append(paragraphWithCitations(String(data.outro), turn));
    } else {
      for (const paragraph of paragraphs) answerBox.append(answerBlock(paragraph, turn));
    }
    if (!data.abstained) {
      answerBox.append(
        el("p", { className: "mode", text: data.mode === "generated" ? t("generated") : t("extractive") })
      );
    }
    renderSources(data.sources || []);
    renderActions(data);
    renderSuggestions(data);
    result.dataset.state = "done";
  }

  /** Practices side by side: one column per practice, one row per section (stacked cards on phones). */
  function comparisonTable(comparison, turn) {
    const practices = comparison.practices || [];
    const captionId = "compare-caption";
    const head = el("tr", null, el("th", { scope: "col", text: t("compare_section") }));
    for (const p of practices) head.append(el("th", { scope: "col", text: p.label }));
    const body = el("tbody");
    for (const row of comparison.rows || []) {
      const tr = el("tr", null, el("th", { scope: "row", text: row.section }));
      (row.cells || []).forEach((cell, i) => {
        // on a phone each card names its practice by where it is ("DRE Pasco"): the full titles are the column heads
        const label = practices[i] ? String(practices[i].label).split(" — ").pop() : "";
        const p = el("p", null, String(cell.text || ""));
        const numbers = (cell.sources || []).filter((n) => turn.has(n));
        if (numbers.length) p.append(" ", citeGroup(numbers, turn, turn));
        tr.append(el("td", { "data-label": label }, p));
      });
      body.append(tr);
    }
    const table = el(
      "table",
      { className: "compare" },
      el("caption", { id: captionId, text: t("compare_caption") }),
      el("thead", null, head),
      body
    );
    return el("div", { className: "compare-scroll", role: "region", "aria-labelledby": captionId, tabindex: "0" }, table);
  }

  function renderSources(list) {
    sourcesList.replaceChildren();
    sourcesBlock.hidden = list.length === 0;
    $("sources-title").textContent = t("sources_heading", { count: countSources(list.length) });
    for (const s of list) {
      const meta = sourceMeta(s);
      sourcesList.append(
        el(
          "li",
          { id: "fuente-" + s.n, value: s.n, className: "source" },
          el("p", { className: "source-title" }, el("span", { className: "source-n", text: "[" + s.n + "]" }), " ", s.practice),
          el("p", { className: "source-meta", text: meta }),
          el("p", { className: "source-excerpt", text: excerpt(s.text, 240) }),
          el(
            "p",
            { className: "source-actions" },
            el("button", {
              type: "button",
              className: "link-button",
              "aria-controls": "passage",
              text: t("see_passage"),
              onclick: (event) => openPassage(s.n, event.currentTarget),
            }),
            el(
              "a",
              { className: "ficha", href: s.href },
              t("see_sheet"),
              el("span", { className: "visually-hidden", text: t("of_practice", { practice: s.practice }) })
            )
          )
        )
      );
    }
  }

  function renderStreaming(text) {
    let p = answerBox.querySelector("p.streaming");
    if (!p) {
      answerBox.replaceChildren();
      p = el("p", { className: "streaming" });
      answerBox.append(p);
    }
    p.textContent = text;
  }

  // ------------------------------------------------------------ passage panel

  function openPassage(n, opener, turn) {
    const s = (turn || sources).get(n);
    if (!s) return;
    lastOpener = opener || null;
    for (const b of document.querySelectorAll(".cite[aria-expanded='true']")) b.setAttribute("aria-expanded", "false");
    for (const b of document.querySelectorAll(".cite[data-n='" + n + "']")) b.setAttribute("aria-expanded", "true");
    $("passage-title").textContent = t("passage_title", { n: n });
    $("passage-practice").textContent = s.practice;
    $("passage-where").textContent = s.where || "—";
    $("passage-section").textContent = s.section_label;
    $("passage-document").textContent = [s.document_title || s.document, s.place].filter(Boolean).join(", ");
    const quote = $("passage-text");
    quote.replaceChildren();
    for (const block of String(s.text || "").split(/\n\s*\n/)) {
      if (block.trim()) quote.append(el("p", { text: block.trim() }));
    }
    $("passage-link").href = s.href;
    panel.hidden = false;
    document.body.classList.add("passage-open");
    panel.focus({ preventScroll: window.matchMedia("(min-width: 60rem)").matches });
  }

  function closePassage(restoreFocus) {
    if (panel.hidden) return;
    panel.hidden = true;
    document.body.classList.remove("passage-open");
    for (const b of document.querySelectorAll(".cite[aria-expanded='true']")) b.setAttribute("aria-expanded", "false");
    if (restoreFocus && lastOpener && document.contains(lastOpener)) lastOpener.focus();
    lastOpener = null;
  }

  $("passage-close").addEventListener("click", () => closePassage(true));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) closePassage(true);
  });

  // ------------------------------------------------------------ requests

  function requestBody(text) {
    const body = { question: text };
    if (conversationId) body.conversation_id = conversationId;
    const filters = {};
    if (region.value) filters.region = region.value;
    if (section.value) filters.section = section.value;
    if (Object.keys(filters).length) body.filters = filters;
    return JSON.stringify(body);
  }

  async function postJson(url, body, signal) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body,
      signal,
    });
  }

  /** Reads a text/event-stream body; calls onEvent(name, data) for each event. */
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const flush = (block) => {
      let name = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) onEvent(name, data.join("\n"));
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        flush(block);
      }
    }
    buffer += decoder.decode();
    if (buffer.trim()) flush(buffer);
  }

  async function askStream(body, signal) {
    const response = await postJson("/api/ask/stream", body, signal);
    if (response.status === 404 || response.status === 405) {
      streamAvailable = false;
      return null; // no streaming endpoint: the caller falls back
    }
    if (!response.ok) throw await readError(response);
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("text/event-stream")) return response.json();
    let final = null;
    let written = "";
    await readEvents(response, (name, data) => {
      let payload;
      try {
        payload = JSON.parse(data);
      } catch (_) {
        return;
      }
      if (name === "delta" && payload && typeof payload.text === "string") {
        written += payload.text;
        statusBox.textContent = t("writing");
        renderStreaming(written);
      } else if (name === "answer") {
        final = payload;
      } else if (name === "error") {
        throw new HttpError(errorDetail(payload, 500));
      }
    });
    if (!final) throw new HttpError(t("interrupted"));
    return final;
  }

  async function askPlain(body, signal) {
    const response = await postJson("/api/ask", body, signal);
    if (!response.ok) throw await readError(response);
    return response.json();
  }

  async function ask(text) {
    text = (text || "").trim();
    if (!text) {
      reset();
      showError(t("empty"));
      question.focus();
      return;
    }
    if (current) current.abort();
    const controller = new AbortController();
    current = controller;
    keepTurn();
    reset();
    $("current-question").textContent = text;
    $("current-question").hidden = !conversationId;
    setLoading(true);
    rememberInUrl(text);
    if (result.getBoundingClientRect().top > window.innerHeight * 0.75) {
      const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      result.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
    }
    const body = requestBody(text);
    try {
      let data = streamAvailable ? await askStream(body, controller.signal) : null;
      if (data === null) data = await askPlain(body, controller.signal);
      if (current !== controller) return;
      setLoading(false);
      last = { question: text, data: data, answerId: data.answer_id || newId() };
      if (data.conversation_id) {
        conversationId = data.conversation_id;
        $("thread-head").hidden = false;
        $("current-question").hidden = $("thread").children.length === 0;
      }
      renderAnswer(data);
      statusBox.textContent = data.abstained ? t("abstained") + "." : t("ready", { count: countSources((data.sources || []).length) });
    } catch (err) {
      if (controller.signal.aborted || current !== controller) return;
      showError(err instanceof HttpError ? err.message : t("network"));
    } finally {
      if (current === controller) {
        current = null;
        setLoading(false);
      }
    }
  }

  // ------------------------------------------------------------ acting on an answer

  let last = null; // {question, data, answerId} of the answer on screen
  let conversationId = null; // set when the server keeps a conversation

  function newId() {
    return "web-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
  }

  function asText(entry) {
    const lines = [entry.question, "", String(entry.data.answer || "").trim()];
    const list = entry.data.sources || [];
    if (list.length) {
      lines.push("", t("sources_title"));
      for (const s of list) lines.push("[" + s.n + "] " + s.label + " · " + sourceMeta(s).split(" · ").slice(1).join(" · ") + " — " + location.origin + s.href);
    }
    return lines.join("\n");
  }

  function shareUrl(entry) {
    return location.origin + "/?" + new URLSearchParams({ q: entry.question }).toString();
  }

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (_) {
      return false;
    }
  }

  function renderActions(data) {
    const box = $("actions");
    box.hidden = false;
    for (const b of box.querySelectorAll(".vote")) {
      b.setAttribute("aria-pressed", "false");
    }
    const link = $("share-answer");
    link.dataset.url = shareUrl({ question: last ? last.question : question.value });
  }

  async function vote(button) {
    if (!last) return;
    const body = {
      answer_id: last.answerId,
      question: last.question,
      answer: String(last.data.answer || "").slice(0, 8000),
      vote: button.dataset.vote,
      channel: "web",
    };
    try {
      const response = await fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw await readError(response);
      for (const b of document.querySelectorAll("#actions .vote")) b.setAttribute("aria-pressed", b === button ? "true" : "false");
      statusBox.textContent = t("thanks");
    } catch (err) {
      statusBox.textContent = err instanceof HttpError ? err.message : t("vote_failed");
    }
  }

  for (const b of document.querySelectorAll("#actions .vote")) b.addEventListener("click", () => vote(b));
  $("copy-answer").addEventListener("click", async () => {
    if (!last) return;
    statusBox.textContent = (await copy(asText(last))) ? t("copied") : t("copy_failed");
  });
  $("share-answer").addEventListener("click", async () => {
    if (!last) return;
    const url = shareUrl(last);
    if (navigator.share && window.matchMedia("(pointer: coarse)").matches) {
      try {
        await navigator.share({ title: last.question, url: url });
        return;
      } catch (_) {
        /* cancelled: fall back to copying */
      }
    }
    statusBox.textContent = (await copy(url)) ? t("shared", { url: url }) : url;
  });

  /** 2–3 follow-ups built from what the cited practice actually has. */
  async function renderSuggestions(data) {
    const box = $("suggestions");
    const list = $("suggestion-list");
    list.replaceChildren();
    box.hidden = true;
    const cited = [];
    for (const s of data.sources || []) if (!cited.some((c) => c.practice_id === s.practice_id)) cited.push(s);
    if (data.abstained || !cited.length) return;
    const main = cited[0];
    let record = null;
    try {
      const response = await fetch("/api/practices/" + encodeURIComponent(main.practice_id), { headers: { Accept: "application/json" } });
      if (response.ok) record = await response.json();
    } catch (_) {
      return;
    }
    if (!record || record.kind !== "practice") return;
    const name = record.region || (record.offices || [])[0] || record.title;
    const has = (type) => (record.sections || []).some((s) => s.type === type);
    const ideas = [];
    if (has("results") && data.intent !== "results") ideas.push(t("suggest_results", { name: name }));
    if ((record.experts || []).length && data.intent !== "experts") ideas.push(t("suggest_experts", { name: name }));
    if (has("contacts") && data.intent !== "contact") ideas.push(t("suggest_contact", { name: name }));
    const other = cited.find((c) => c.practice_id !== main.practice_id);
    if (other && other.region && other.region !== name) ideas.push(t("suggest_compare", { name: name, other: other.region }));
    for (const idea of ideas.slice(0, 3)) {
      list.append(el("button", { type: "button", className: "chip", text: idea, onclick: () => { question.value = idea; ask(idea); } }));
    }
    box.hidden = list.children.length === 0;
  }

  /** With a conversation, the answer on screen joins the thread before the next one. */
  function keepTurn() {
    if (!conversationId || !last) return;
    const item = el("li", { className: "turn" }, el("p", { className: "turn-question", text: last.question }));
    const turn = new Map((last.data.sources || []).map((s) => [s.n, s]));
    const body = el("div", { className: "answer" });
    for (const p of String(last.data.answer || "").split(/\n\s*\n/).map((x) => x.trim()).filter(Boolean)) body.append(answerBlock(p, turn));
    item.append(body);
    $("thread").append(item);
    $("thread").hidden = false;
  }

  $("new-conversation").addEventListener("click", () => {
    conversationId = null;
    last = null;
    $("thread").replaceChildren();
    $("thread").hidden = true;
    $("thread-head").hidden = true;
    $("current-question").hidden = true;
    result.hidden = true;
    question.value = "";
    history.replaceState(null, "", "/");
    question.focus();
  });

  // ------------------------------------------------------------ URL, regions, events

  function rememberInUrl(text) {
    const params = new URLSearchParams();
    params.set("q", text);
    if (region.value) params.set("region", region.value);
    if (section.value) params.set("seccion", section.value);
    history.replaceState(null, "", "?" + params.toString());
  }

  async function loadRegions(selected) {
    try {
      const response = await fetch("/api/regions", { headers: { Accept: "application/json" } });
      if (!response.ok) throw await readError(response);
      const data = await response.json();
      for (const item of data.regions || []) {
        const count = (item.practices || []).length;
        region.append(
          el("option", {
            value: item.region,
            text: item.region,
            title: count === 1 ? t("practice_one") : t("practice_many", { n: count }),
          })
        );
      }
      if (selected) region.value = selected;
      region.dataset.loaded = "true";
    } catch (err) {
      if (err instanceof HttpError) {
        result.hidden = false;
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(question.value);
  });

  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  for (const chip of document.querySelectorAll(".chip[data-question]")) {
    chip.addEventListener("click", () => {
      question.value = chip.dataset.question;
      form.requestSubmit();
    });
  }

  const params = new URLSearchParams(location.search);
  if (params.get("seccion")) section.value = params.get("seccion");
  loadRegions(params.get("region")).then(() => {
    const q = params.get("q");
    if (q) {
      question.value = q;
      ask(q);
    }
  });
})();
